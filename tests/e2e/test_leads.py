"""政策找人 in the browser (issue 8's "done when"): an advisor sees the new leads of their
committee on the desk, visits one and turns it into a recipient; the bureau's figures of
the source move accordingly."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest

ADVISOR = "advisor_310105001001"
BUREAU = "bureau"
FIGURES = "/cases/leads/figures/?period={year}"


def enrolled_total(page, url):
    """The leads enrolled of those found this year and last (the demo's lists are at most a
    few weeks old), as the bureau's figures page shows them."""
    this_year = datetime.datetime.now(ZoneInfo("Asia/Shanghai")).year
    total = 0
    for year in (this_year - 1, this_year):
        page.goto(url(FIGURES.format(year=year)))
        cell = page.locator("tr[data-row=source-total] td[data-figure=enrolled]")
        total += int(cell.inner_text().strip())
    return total


def new_tab(browser):
    """A tab with cookies of its own, so that two users can be logged in side by side."""
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1366, "height": 900}
    )
    context.set_default_timeout(15_000)
    return context, context.new_page()


@pytest.mark.browser
def test_an_advisor_visits_a_new_lead_and_enrols_it(
    browser, demo_server, login_as, url, screenshot
):

    bureau_context, bureau = new_tab(browser)
    advisor_context, advisor = new_tab(browser)
    try:
        journey(bureau, advisor, login_as, url, screenshot)
    finally:
        bureau_context.close()
        advisor_context.close()


def journey(bureau, advisor, login_as, url, screenshot):
    from playwright.sync_api import expect

    login_as(bureau, BUREAU)
    before = enrolled_total(bureau, url)

    login_as(advisor, ADVISOR)
    assert advisor.url == url("/visits/desk/")
    panel = advisor.locator("[data-testid=desk-leads]")
    expect(panel).to_be_visible()
    pending = panel.locator("tr[data-testid=desk-lead]:has(.desk-state--pending)")
    assert pending.count() >= 1, "the demo advisor has no new lead on the desk"
    screenshot(advisor, "leads-desk")
    link = pending.first.locator("a").first
    name = link.inner_text().strip()
    link.click()

    expect(advisor.get_by_role("heading", level=1)).to_have_text(name)
    expect(advisor.locator("[data-testid=lead-path]")).to_contain_text("待核实")
    visit = advisor.locator("form[action$='/visit/']")
    visit.locator("textarea[name$=findings]").fill("浏览器测试:独居,行动不便,收入低")
    visit.get_by_role("button", name="保存走访").click()
    expect(advisor.locator("[data-testid=lead-visit]")).to_have_count(1)
    screenshot(advisor, "leads-visited")

    enrol = advisor.locator("form[action$='/enrol/']")
    enrol.locator("input[name$=categories]").first.check()
    enrol.get_by_role("button", name="纳入并建档").click()
    expect(advisor).to_have_url(re.compile(r"/cases/\d+/$"))
    expect(advisor.get_by_role("heading", level=1)).to_contain_text(name)
    screenshot(advisor, "leads-enrolled-file")

    assert enrolled_total(bureau, url) == before + 1
    screenshot(bureau, "leads-figures")
