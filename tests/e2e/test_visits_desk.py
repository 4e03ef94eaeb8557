"""A new advisor lands on the desk, sees who is due, and logs three visits in a row with the
keyboard alone (the issue's "done when"), in the browser against the demo."""

import re

import pytest

ADVISOR = "advisor_310105001001"


def focused(page):
    """The name (or id) of the element that has the focus."""
    return page.evaluate("document.activeElement.name || document.activeElement.id")


def count(page, testid):
    return int(page.locator(f"[data-testid={testid}]").inner_text().strip())


@pytest.mark.browser
def test_an_advisor_logs_three_visits_in_a_row_with_the_keyboard_alone(
    page, login_as, url, screenshot
):
    from playwright.sync_api import expect

    login_as(page, ADVISOR)
    # The advisor's home is the desk, the search box ready for typing.
    assert page.url == url("/visits/desk/")
    expect(page.get_by_role("heading", name="走访工作台")).to_be_visible()
    assert focused(page) == "q"
    due = count(page, "summary-due")
    visited = count(page, "summary-visited")
    assert due > visited, "the demo advisor has nobody left to visit this month"
    pending = page.locator("tr[data-testid=desk-row].desk-row--pending")
    assert pending.count() >= 3
    # The most urgent first: every person not yet visited comes before the visited.
    states = page.locator("tr[data-testid=desk-row]").evaluate_all(
        "rows => rows.map(row => row.classList.contains('desk-row--visited'))"
    )
    assert states == sorted(states)
    people = [
        (row.get_attribute("data-recipient"), row.locator("[data-testid=desk-name]").inner_text())
        for row in (pending.nth(index) for index in range(3))
    ]
    screenshot(page, "visits-desk-before")

    for number, (pk, name) in enumerate(people, start=1):
        page.keyboard.type(name)
        results = page.locator(f'[data-desk-results][data-query="{name}"]')
        expect(results.locator(f"#desk-option-{pk}")).to_be_visible()
        # The person may share a name with someone else: move the highlight onto them.
        ids = results.locator("[role=option]").evaluate_all("items => items.map(i => i.id)")
        for _step in range(ids.index(f"desk-option-{pk}")):
            page.keyboard.press("ArrowDown")
        expect(results.locator(f"#desk-option-{pk}")).to_have_attribute("aria-selected", "true")
        if number == 1:
            screenshot(page, "visits-desk-search")
        page.keyboard.press("Enter")

        expect(page.locator("[data-desk-picked-name]")).to_have_text(name)
        assert focused(page) == "findings"
        page.keyboard.type(f"浏览器测试:第{number}次走访,精神状况良好")
        page.keyboard.press("Enter")

        expect(page.locator("[data-testid=desk-live]")).to_contain_text(
            re.compile(rf"已记录:{re.escape(name)} \d+月\d+日 \S+")
        )
        row = page.locator(f"tr[data-testid=desk-row][data-recipient='{pk}']")
        expect(row.locator("[data-testid=month-state]")).to_have_text("已走访")
        expect(page.locator("[data-testid=summary-visited]")).to_have_text(str(visited + number))
        expect(page.locator("[data-testid=summary-remaining]")).to_have_text(
            str(due - visited - number)
        )
        # Ready for the next one: the search box, empty, has the focus; nobody is picked.
        assert focused(page) == "q"
        assert page.locator("#desk-q").input_value() == ""
        expect(page.locator("[data-desk-picked-name]")).to_be_hidden()
        screenshot(page, f"visits-desk-after-{number}")

    # Escape drops a half-made pick and goes back to the search box.
    page.keyboard.type(people[0][1])
    expect(page.locator(f'[data-desk-results][data-query="{people[0][1]}"]')).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("[data-desk-picked-name]")).to_have_text(people[0][1])
    page.keyboard.press("Escape")
    expect(page.locator("[data-desk-picked-name]")).to_be_hidden()
    assert focused(page) == "q"

    # A reload shows the same: the three are visited, the figures kept.
    page.reload()
    for pk, _name in people:
        row = page.locator(f"tr[data-testid=desk-row][data-recipient='{pk}']")
        expect(row.locator("[data-testid=month-state]")).to_have_text("已走访")
    assert count(page, "summary-visited") == visited + 3
    screenshot(page, "visits-desk-done")
