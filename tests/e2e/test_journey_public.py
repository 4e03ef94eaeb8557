"""Issue 10, journey 4: a member of the public, on a 375 px phone, opens the directory of
stations (政务公开), narrows it to their street, opens a station and rates it, without
logging in.

The station is the second committee point of 天山路街道 in the directory: no other journey
rates stations, and the rating limits (five an hour from one address) leave room for it.
"""

import pytest

from tests.e2e.checks import assert_fits, palette, style_of

STREET = "天山路街道"
PHONE = {"width": 375, "height": 812, "mobile": True}
COMMENT = "浏览器测试:顾问耐心细致,帮我申请了临时救助"


@pytest.mark.browser
def test_the_public_rates_a_station_from_the_directory_on_a_phone(new_tab, url, screenshot):
    from playwright.sync_api import expect

    phone = new_tab(**PHONE)
    phone.goto(url("/public/"))
    expect(phone.get_by_role("heading", level=1)).to_have_text("社区救助顾问服务站点")
    total = phone.locator("[data-testid=public-station-count]").inner_text().strip()
    assert total.startswith("共 ") and total.endswith(" 个正在服务的站点"), total
    assert_fits(phone, "the directory on a phone")
    screenshot(phone, "journey4-01-directory-phone")

    # The stations of one street: each a block as wide as the screen allows, not a column
    # a few characters wide.
    phone.select_option("#filter-street", label=STREET)
    phone.get_by_role("button", name="查询").click()
    count = phone.locator("[data-testid=public-station-count]")
    expect(count).not_to_have_text(total)
    stations = phone.locator("tr[data-testid=public-station]")
    shown = int(count.inner_text().strip().removeprefix("共 ").split(" ")[0])
    assert shown == stations.count() >= 2
    expect(phone.locator(".directory-street").first).to_have_text(STREET)
    station = stations.nth(1)
    address = station.locator("td[data-label=地址]")
    assert address.bounding_box()["width"] >= 250, address.bounding_box()
    expect(address).to_be_visible()
    assert_fits(phone, "the street's stations on a phone")
    screenshot(phone, "journey4-02-street-stations")

    # The station: where it is and when it is open, and the rating form.
    link = station.locator("th a")
    name = link.inner_text().strip()
    assert name.startswith(STREET) and name.endswith("社区救助顾问服务点"), name
    link.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(name)
    expect(phone.locator(".evaluate-station__facts")).to_contain_text("地址")
    assert_fits(phone, "the station's rating page on a phone")

    satisfied = phone.locator(".evaluate-choice--satisfied")
    face = satisfied.locator(".evaluate-choice__face")
    unchosen = style_of(face, "background-color")
    satisfied.click()
    expect(satisfied.locator("input")).to_be_checked()
    assert style_of(face, "background-color") == palette(phone, "green-bg") != unchosen
    assert style_of(face, "color") == palette(phone, "green")
    phone.fill("textarea[name=comment]", COMMENT)
    screenshot(phone, "journey4-03-rating")
    phone.get_by_role("button", name="提交评议").click()

    expect(phone.get_by_role("heading", level=1)).to_have_text("感谢您的评议!")
    expect(phone.locator(".evaluate-thanks")).to_contain_text(f"您对{name}的评价已经收到")
    assert_fits(phone, "the thank-you page on a phone")
    screenshot(phone, "journey4-04-thanks")
