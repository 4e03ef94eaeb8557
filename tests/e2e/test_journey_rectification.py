"""Issue 10, journeys 1 and 2 (first part), in one test because the second answers what the
first issued: bureau staff read the dashboard, open the worst street and an offending
committee point, record an inspection with a finding and issue a rectification with a
deadline; the street's manager sees the new order on top of their dashboard and answers it
with a file attached.

The street is whichever the dashboard shows worst on the day (the demo's figures follow the
date), so the journey reads it off the page as a user would. Only this journey inspects or
issues orders, so the order it issues is the street's only one.
"""

import datetime
import re

import pytest

from tests.e2e.checks import assert_fits, assert_fits_office_screens, palette, style_of, today

BUREAU = "bureau"
# The committee-point rules a street's offending point can fail: staffing, then coverage.
POINT_RULES = ("C6", "C2")
DEADLINE_DAYS = 14
PROBLEM = "浏览器测试:居委服务点无在岗社区救助顾问,群众来访无人接待"
REQUIREMENT = "浏览器测试:配备至少1名顾问并办理备案,报送配备情况"
ANSWER = "浏览器测试:已配备顾问1名,已提交备案材料"


def worst_street(page):
    """The street of the dashboard's rule table with the most red figures, among those with
    an offending committee point; (code, name, failing point rule)."""
    rows = page.locator("[data-testid=rule-table] tbody tr[data-street]").evaluate_all(
        """rows => rows.map(row => ({
          code: row.dataset.street,
          name: row.querySelector("th a").textContent.trim(),
          failed: Array.from(row.querySelectorAll("[data-verdict=fail]"),
                             cell => cell.dataset.testid.replace("cell-", "")),
        }))"""
    )
    assert len(rows) == 10, rows
    candidates = [row for row in rows if set(row["failed"]) & set(POINT_RULES)]
    assert candidates, "no street has an offending committee point (C2 or C6) today"
    worst = max(candidates, key=lambda row: len(row["failed"]))
    rule = next(rule for rule in POINT_RULES if rule in worst["failed"])
    return worst["code"], worst["name"], rule


@pytest.mark.browser
def test_bureau_inspects_the_worst_point_and_the_street_answers_the_order(
    page, new_tab, login_as, url, screenshot
):
    from playwright.sync_api import expect

    # 1. The dashboard: every street against every rule, red where the street fails.
    login_as(page, BUREAU)
    assert page.url == url("/supervision/")
    red, green, amber, blue = (palette(page, name) for name in ("red", "green", "amber", "blue"))
    expect(page.get_by_role("heading", level=1)).to_have_text("长宁区 工作看板")
    table = page.locator("[data-testid=rule-table]")
    expect(table.locator("tbody tr[data-street]")).to_have_count(10)
    expect(table.locator("tfoot tr[data-street=district] th")).to_have_text("全区")
    assert style_of(table.locator("[data-verdict=fail] .rule-cell__value"), "color") == red
    assert style_of(table.locator("[data-verdict=pass] .rule-cell__value"), "color") == green
    assert_fits_office_screens(page, "the dashboard")
    screenshot(page, "journey1-01-dashboard")

    code, street_name, rule = worst_street(page)
    table.locator(f"tr[data-street='{code}'] th a").click()

    # 2. The worst street: the committee-point rule it fails, in red, with its offenders.
    expect(page.get_by_role("heading", level=1)).to_have_text(street_name)
    card = page.locator(f"[data-testid=rule-{rule}]")
    expect(card).to_have_class(re.compile(r"\bverdict-fail\b"))
    expect(card.locator(".rule-card__verdict")).to_have_text("未达标")
    assert style_of(card.locator(".rule-card__figure"), "color") == red
    assert_fits_office_screens(page, "the street page")
    screenshot(page, "journey1-02-worst-street")
    card.locator("a.rule-card__link").click()
    offenders = page.locator(f"[data-testid=offenders-{rule}]")
    expect(offenders).to_be_visible()
    point = offenders.locator("tbody tr a[href*='/network/stations/']").first
    point_name = point.inner_text().strip()
    assert point_name.endswith("社区救助顾问服务点"), point_name
    screenshot(page, "journey1-03-offenders")
    point.click()

    # 3. The offending committee point.
    expect(page.get_by_role("heading", level=1)).to_contain_text(point_name)
    if rule == "C6":
        expect(page.locator("[data-testid=active-advisor-count]")).to_have_text("0")
        expect(page.locator("[data-testid=staffing-short]")).to_have_text("顾问不足,还差 1 名")
    assert_fits(page, "the committee point")
    photo = page.screenshot()
    screenshot(page, "journey1-04-point")

    # 4. An unannounced inspection of that point, the form opened from its page.
    page.get_by_role("link", name="登记督导检查").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记督导检查")
    expect(page.locator("select[name=street] option:checked")).to_have_text(street_name)
    expect(page.locator("select[name=station] option:checked")).to_contain_text(point_name)
    expect(page.locator("input[name=inspected_on]")).to_have_value(today().isoformat())
    page.fill("input[name=inspectors]", "张伟、李娜")
    page.get_by_label("场所", exact=True).fill("8")
    page.get_by_label("标识", exact=True).fill("10")
    page.get_by_label("人员配备", exact=True).fill("2")
    page.fill("input[name=remark_staffing]", "无在岗顾问")
    page.fill("textarea[name=summary]", "浏览器测试:不定期检查居委服务点")
    assert_fits_office_screens(page, "the inspection form")
    screenshot(page, "journey1-05-inspection-form")
    page.get_by_role("button", name="保存").click()
    expect(page.locator(".alert-success")).to_contain_text("督导检查已登记")
    expect(page.locator("[data-testid=total-score]")).to_have_text("合计 20 / 30 分")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{street_name} · {point_name}")

    # 5. The finding, with the photo taken at the point.
    page.select_option("select[name=item]", label="人员配备")
    page.select_option("select[name=severity]", label="较重")
    page.fill("textarea[name=description]", PROBLEM)
    page.set_input_files(
        "input[name=files]",
        files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": photo}],
    )
    page.get_by_role("button", name="登记问题").click()
    expect(page.locator(".alert-success")).to_have_text("问题已登记。")
    finding = page.locator("tr", has_text=PROBLEM)
    expect(finding.get_by_role("link", name="现场照片.png")).to_be_visible()
    expect(finding.locator(".severity")).to_have_text("较重")
    assert style_of(finding.locator(".severity"), "color") == amber
    assert_fits_office_screens(page, "the inspection")
    screenshot(page, "journey1-06-inspection-finding")

    # 6. The finding becomes a rectification order with a deadline.
    finding.get_by_role("link", name="转为整改通知").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("下达整改通知")
    expect(page.locator("textarea[name=problem]")).to_have_value(PROBLEM)
    deadline = today() + datetime.timedelta(days=DEADLINE_DAYS)
    page.fill("input[name=deadline]", deadline.isoformat())
    page.fill("textarea[name=requirement]", REQUIREMENT)
    assert_fits(page, "the order form")
    screenshot(page, "journey1-07-order-form")
    page.get_by_role("button", name="下达").click()
    expect(page.locator(".alert-success")).to_contain_text("已下达")
    number = page.locator(".page-header__kicker .code").inner_text().strip()
    status = page.locator("[data-testid=order-status]")
    expect(status).to_have_text("待整改")
    assert style_of(status, "color") == amber
    expect(page.locator(".page-header__meta")).to_contain_text(
        re.compile(
            rf"整改期限:{deadline.year}年{deadline.month}月{deadline.day}日\s*"
            rf"\(还剩 {DEADLINE_DAYS} 天\)"
        )
    )
    expect(page.locator("[data-testid=timeline]")).to_contain_text("下达整改通知")
    assert_fits_office_screens(page, "the order")
    screenshot(page, "journey1-08-order-issued")
    order_url = page.url

    page.goto(url("/supervision/"))
    open_orders = page.locator("[data-testid=open-orders]")
    expect(open_orders.get_by_role("link", name=number)).to_be_visible()
    expect(open_orders.locator("tr", has_text=number)).to_contain_text(street_name)

    # Journey 2, first part: the street's manager, on their own dashboard.
    street = new_tab()
    login_as(street, f"street_{code}")
    assert street.url == url("/supervision/")
    expect(street.get_by_role("heading", level=1)).to_have_text(f"{street_name} 工作看板")
    expect(street.locator("[data-testid=unread-count]")).to_be_visible()
    top = street.locator("[data-testid=fix-first] li").first
    expect(top).to_have_attribute("data-testid", "fix-order")
    expect(top).to_contain_text(number)
    expect(top).to_contain_text(f"整改期限 {deadline.isoformat()}")
    expect(top).to_contain_text("待整改")
    assert_fits_office_screens(street, "the street's dashboard")
    screenshot(street, "journey2-01-street-dashboard")

    top.get_by_role("link").click()
    expect(street.locator("[data-testid=order-status]")).to_have_text("待整改")
    expect(street.get_by_text(PROBLEM)).to_be_visible()
    street.fill("textarea[name=comment]", ANSWER)
    street.set_input_files(
        "input[name=files]",
        files=[{"name": "整改佐证.pdf", "mimeType": "application/pdf", "buffer": street.pdf()}],
    )
    screenshot(street, "journey2-02-answer-form")
    street.get_by_role("button", name="提交整改情况").click()
    status = street.locator("[data-testid=order-status]")
    expect(status).to_have_text("已提交")
    assert style_of(status, "color") == blue
    answered = street.locator("[data-testid=timeline] li", has_text="提交整改情况")
    expect(answered).to_contain_text(ANSWER)
    expect(answered.get_by_role("link", name="整改佐证.pdf")).to_be_visible()
    expect(street.get_by_role("button", name="提交整改情况")).to_have_count(0)
    expect(street.locator(".order-actions")).to_contain_text("整改情况已提交,等待区民政局验收。")
    assert_fits(street, "the answered order")
    screenshot(street, "journey2-03-answered")

    # The bureau now has the answer to verify.
    page.goto(order_url)
    expect(page.locator("[data-testid=order-status]")).to_have_text("已提交")
    expect(page.get_by_role("button", name="验收办结")).to_be_visible()
    expect(page.get_by_role("link", name="整改佐证.pdf")).to_be_visible()
