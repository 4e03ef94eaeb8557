"""An advisor finds a person three ways, opens the file, adds a need, links a resource and
records a service, in the browser against the demo."""

import re

import pytest

from changning_aid.pinyin import initials_text

ADVISOR = "advisor_310105001001"


@pytest.mark.browser
def test_an_advisor_works_a_persons_file_from_search_to_service(page, login_as, url, screenshot):
    login_as(page, ADVISOR)
    page.get_by_role("link", name="困难人员", exact=True).click()
    assert page.url == url("/cases/")
    first = page.locator(".table-recipients tbody tr").first
    name = first.locator("th a").inner_text().strip()
    file_number = first.locator("td.code").first.inner_text().strip()
    screenshot(page, "cases-advisor-list")

    # By name, by pinyin initials (any reading), by the last 4 characters of the ID number.
    initials = initials_text(name).split("|")[0]
    for query in (name, initials):
        page.fill("input[name=q]", query)
        with page.expect_navigation():
            page.get_by_role("button", name="查询").click()
        assert page.get_by_role("link", name=name, exact=True).count() >= 1, query
    page.get_by_role("link", name=name, exact=True).first.click()
    assert page.locator("[data-testid=file-number]").inner_text().strip() == file_number
    masked = page.locator("dt:has-text('身份证号') + dd .sensitive").first.inner_text().strip()
    assert re.fullmatch(r"\d{6}\*{8}[\dX]{4}", masked), masked
    page.go_back()
    page.fill("input[name=q]", masked[-4:])
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    assert page.get_by_role("link", name=name, exact=True).count() >= 1
    page.get_by_role("link", name=name, exact=True).first.click()
    screenshot(page, "cases-person-file")

    # A need, raised on the file.
    page.get_by_role("link", name="登记需求").first.click()
    page.select_option("select[name=category]", label="医疗")
    page.fill("textarea[name=description]", "浏览器测试:需要门诊费用帮助")
    page.select_option("select[name=source]", label="走访")
    with page.expect_navigation():
        page.locator("form.form [type=submit]").click()
    # The need's page, 待评估 until something is done.
    assert "浏览器测试:需要门诊费用帮助" in page.content()
    assert page.locator("[data-testid=need-status]").inner_text().strip() == "待评估"
    screenshot(page, "cases-need-added")

    # Linked to a resource: the need becomes 已对接.
    page.locator("select[name=link-resource]").select_option(index=1)
    with page.expect_navigation():
        page.get_by_role("button", name="对接资源").click()
    assert page.locator("[data-testid=need-status]").inner_text().strip() == "已对接"
    screenshot(page, "cases-need-linked")

    # A service for that need, recorded by the advisor.
    page.get_by_role("link", name="登记服务").first.click()
    page.select_option("select[name=item]", label="资源整合对接")
    page.select_option("select[name=task]", label="资源链接")
    page.fill("textarea[name=content]", "浏览器测试:协助申请门诊救助")
    with page.expect_navigation():
        page.locator("form.form [type=submit]").click()
    assert "浏览器测试:协助申请门诊救助" in page.content()
    screenshot(page, "cases-service-recorded")

    page.goto(url("/cases/"))
    page.fill("input[name=q]", file_number)
    with page.expect_navigation():
        page.get_by_role("button", name="查询").click()
    page.get_by_role("link", name=name, exact=True).first.click()
    body = page.content()
    assert "浏览器测试:需要门诊费用帮助" in body and "浏览器测试:协助申请门诊救助" in body
