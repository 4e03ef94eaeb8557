"""Issue 10, journey 3: an advisor sees who is due this month, logs three visits with the
keyboard alone, raises a need on one of those visited, finds a person by the pinyin
initials of their name, and opens a new 政策找人 lead and records its visit.

The advisor is 江苏路街道's demo login (its first committee, 岐山居委): the demo leaves that
login at least three people to visit this month and new leads on the desk, and no other
journey works there (the desk and leads journeys of issue 6 and 8 use 华阳路街道's).
"""

import re

import pytest

from changning_aid.pinyin import initials_text
from tests.e2e.checks import assert_fits, assert_fits_office_screens, palette, style_of

ADVISOR = "advisor_310105002002"
NEED = "浏览器测试:冬季取暖费用困难"
LEAD_FINDINGS = "浏览器测试:独居,子女在外地,低收入"


def focused(page):
    """The name (or id) of the element that has the focus."""
    return page.evaluate("document.activeElement.name || document.activeElement.id")


def figure(page, testid):
    return int(page.locator(f"[data-testid={testid}]").inner_text().strip())


def log_visit_by_keyboard(page, pk, name, findings):
    """Type the name, move the highlight onto the person, Enter; type findings, Enter."""
    from playwright.sync_api import expect

    page.keyboard.type(name)
    results = page.locator(f'[data-desk-results][data-query="{name}"]')
    expect(results.locator(f"#desk-option-{pk}")).to_be_visible()
    ids = results.locator("[role=option]").evaluate_all("items => items.map(i => i.id)")
    for _step in range(ids.index(f"desk-option-{pk}")):
        page.keyboard.press("ArrowDown")
    expect(results.locator(f"#desk-option-{pk}")).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    expect(page.locator("[data-desk-picked-name]")).to_have_text(name)
    assert focused(page) == "findings"
    page.keyboard.type(findings)
    page.keyboard.press("Enter")
    expect(page.locator("[data-testid=desk-live]")).to_contain_text(
        re.compile(rf"已记录:{re.escape(name)} \d+月\d+日 \S+")
    )


@pytest.mark.browser
def test_an_advisor_visits_raises_a_need_finds_a_person_and_visits_a_lead(
    page, login_as, url, screenshot
):
    from playwright.sync_api import expect

    # 1. Who is due: the desk, the most urgent first, the not yet visited in amber.
    login_as(page, ADVISOR)
    assert page.url == url("/visits/desk/")
    green, amber, blue = (palette(page, name) for name in ("green", "amber", "blue"))
    expect(page.get_by_role("heading", name="走访工作台")).to_be_visible()
    assert focused(page) == "q"
    due, visited = figure(page, "summary-due"), figure(page, "summary-visited")
    assert due - visited >= 3, "the demo advisor has fewer than three people left to visit"
    assert figure(page, "summary-remaining") == due - visited
    states = page.locator("tr[data-testid=desk-row]").evaluate_all(
        "rows => rows.map(row => row.classList.contains('desk-row--visited'))"
    )
    assert states == sorted(states), "a visited person comes before one not yet visited"
    pending = page.locator("tr[data-testid=desk-row].desk-row--pending")
    first_state = pending.first.locator("[data-testid=month-state]")
    expect(first_state).to_have_text("未走访")
    assert style_of(first_state, "color") == amber
    people = [
        (
            row.get_attribute("data-recipient"),
            row.locator("[data-testid=desk-name]").inner_text().strip(),
            row.get_attribute("data-file"),
        )
        for row in (pending.nth(index) for index in range(4))
    ]
    assert_fits_office_screens(page, "the desk")
    screenshot(page, "journey3-01-desk")

    # 2. Three visits in a row, the hands never leaving the keyboard.
    for number, (pk, name, _file) in enumerate(people[:3], start=1):
        log_visit_by_keyboard(page, pk, name, f"浏览器测试:第{number}次走访,情况稳定")
        row = page.locator(f"tr[data-testid=desk-row][data-recipient='{pk}']")
        state = row.locator("[data-testid=month-state]")
        expect(state).to_have_text("已走访")
        assert style_of(state, "color") == green
        expect(page.locator("[data-testid=summary-visited]")).to_have_text(str(visited + number))
        expect(page.locator("[data-testid=summary-remaining]")).to_have_text(
            str(due - visited - number)
        )
        assert focused(page) == "q"
        assert page.locator("#desk-q").input_value() == ""
    screenshot(page, "journey3-02-three-visits")

    # 3. A need raised for the first of them, from their file; the desk counts it.
    pk, name, _file = people[0]
    row = page.locator(f"tr[data-testid=desk-row][data-recipient='{pk}']")
    needs_before = int(row.locator("td.num").inner_text().strip())
    row.locator("[data-testid=desk-name]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    page.get_by_role("link", name="登记需求").first.click()
    page.select_option("select[name=category]", label="生活")
    page.fill("textarea[name=description]", NEED)
    page.select_option("select[name=source]", label="走访")
    assert_fits(page, "the need form")
    page.locator("form.form [type=submit]").click()
    expect(page.locator("[data-testid=need-status]")).to_have_text("待评估")
    expect(page.get_by_text(NEED)).to_be_visible()
    screenshot(page, "journey3-03-need")
    page.get_by_role("link", name="走访工作台", exact=True).click()
    assert page.url == url("/visits/desk/")
    row = page.locator(f"tr[data-testid=desk-row][data-recipient='{pk}']")
    expect(row.locator("td.num")).to_have_text(str(needs_before + 1))

    # 4. A person found by the initials of their name (the fourth still to visit).
    _pk, name, file_number = people[3]
    initials = initials_text(name).split("|")[0]
    assert re.fullmatch(r"[a-z]+", initials), initials
    page.get_by_role("link", name="困难人员", exact=True).click()
    page.fill("input[name=q]", initials)
    page.get_by_role("button", name="查询").click()
    found = page.locator(".table-recipients tbody tr", has_text=name)
    expect(found.first).to_be_visible()
    assert_fits_office_screens(page, "the people found")
    screenshot(page, "journey3-04-found-by-initials")
    found.first.get_by_role("link", name=name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)
    expect(page.locator("[data-testid=file-number]")).to_have_text(file_number)
    page.get_by_role("link", name="走访工作台", exact=True).click()

    # 5. A new lead from another department's list: opened and visited.
    leads = page.locator("[data-testid=desk-leads]")
    new = leads.locator("tr[data-testid=desk-lead]:has(.desk-state--pending)")
    assert new.count() >= 1, "the demo advisor has no new lead on the desk"
    pending_leads = new.count()
    link = new.first.locator("th a")
    lead_name = link.inner_text().strip()
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(lead_name)
    status = page.locator("[data-testid=lead-status]").first
    expect(status).to_have_text("待核实")
    assert style_of(status, "color") == amber
    visit = page.locator("form[action$='/visit/']")
    visit.locator("textarea[name$=findings]").fill(LEAD_FINDINGS)
    assert_fits_office_screens(page, "the lead")
    visit.get_by_role("button", name="保存走访").click()
    expect(page.locator("[data-testid=lead-visit]")).to_have_count(1)
    expect(page.locator("[data-testid=lead-visit]")).to_contain_text(LEAD_FINDINGS)
    status = page.locator("[data-testid=lead-status]").first
    expect(status).to_have_text("已走访")
    assert style_of(status, "color") == blue
    screenshot(page, "journey3-05-lead-visited")

    page.goto(url("/visits/desk/"))
    expect(new).to_have_count(pending_leads - 1)
    assert figure(page, "summary-visited") == visited + 3
    screenshot(page, "journey3-06-desk-after")
