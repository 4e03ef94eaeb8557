"""The bureau's first look: log in and see the whole Changning network."""

import pytest


@pytest.mark.browser
def test_bureau_sees_the_network_overview(page, login_as, url, screenshot):
    login_as(page, "bureau")

    # Bureau staff land on the supervision dashboard; the network is one click away.
    assert page.url == url("/supervision/")
    assert page.locator("[data-testid=rule-table]").is_visible()
    page.goto(url("/network/"))
    assert page.locator("[data-testid=street-count]").inner_text().strip() == "10"
    assert page.locator("[data-testid=committee-point-count]").inner_text().strip() == "189"
    screenshot(page, "overview")
