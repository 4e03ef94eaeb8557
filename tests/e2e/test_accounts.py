"""A street manager gives a new advisor a login; the advisor changes the temporary password."""

import pytest

NEW_PASSWORD = "Advisor-Chosen-2026"


@pytest.mark.browser
def test_a_new_advisor_login_from_creation_to_first_page(
    page, browser, demo_server, login_as, url, screenshot
):
    login_as(page, "street_310105001")
    page.get_by_role("link", name="账号管理").click()
    assert page.locator("[data-testid=account-count]").inner_text().strip() == "共 21 个账号"
    screenshot(page, "account-list")
    page.get_by_role("link", name="新建账号").click()
    page.fill("input[name=username]", "advisor_e2e_new")
    page.fill("input[name=full_name]", "新来的顾问")
    page.get_by_label("长宁区华阳路街道社区救助顾问服务站", exact=True).check()
    screenshot(page, "account-create")
    with page.expect_navigation():
        page.get_by_role("button", name="创建账号").click()
    password = page.locator("[data-testid=temporary-password]").inner_text().strip()
    assert len(password) >= 10
    screenshot(page, "account-temporary-password")
    page.get_by_role("link", name="我已告知,查看账号").click()
    assert page.locator("[data-testid=account-username]").inner_text() == "advisor_e2e_new"
    screenshot(page, "account-detail")

    context = browser.new_context(base_url=demo_server, locale="zh-CN")
    try:
        advisor = context.new_page()
        login_as(advisor, "advisor_e2e_new", password)
        assert advisor.url == url("/accounts/password_change/")
        advisor.goto(url("/network/my/"))
        assert advisor.url == url("/accounts/password_change/")
        screenshot(advisor, "account-forced-password-change")

        advisor.fill("input[name=old_password]", password)
        advisor.fill("input[name=new_password1]", NEW_PASSWORD)
        advisor.fill("input[name=new_password2]", NEW_PASSWORD)
        with advisor.expect_navigation():
            advisor.locator("form.form [type=submit]").click()
        assert advisor.url == url("/accounts/password_change/done/")

        advisor.goto(url("/network/my/"))
        assert advisor.url == url("/network/my/")
        assert "华阳路街道社区救助顾问服务站" in advisor.content()
    finally:
        context.close()
