"""Issue 10's layout checks: every page of the office menus fits a 1366×768 and a 1920×1080
screen without a horizontal scroll bar (the menu's labels each on one line), and the
dashboard, the recipient × month matrix and a bulletin print on A4 with no column cut off.

"Cut off" is judged on the page laid out for paper: print media at the printable width of
the sheet (A4 less 15 mm a side; the matrix prints landscape), where no element may end
beyond the right edge nor hide a part of itself behind a scroll bar. The PDFs Chromium
prints (`page.pdf()`) are kept in test-results/ beside the screenshots, and must be A4.
"""

import datetime
import re
from pathlib import Path

import pytest

from tests.e2e.checks import (
    A4_LANDSCAPE_WIDTH,
    A4_PORTRAIT_WIDTH,
    OFFICE_SCREENS,
    overflow,
    single_line,
    today,
)

RESULTS_DIR = Path(__file__).resolve().parents[2] / "test-results"

# Each office role's menu, and pages of theirs the menu does not lead to directly.
OFFICE_PAGES = {
    "bureau": [
        "/supervision/compliance/",
        "/network/streets/310105008/",
        "/visits/matrix/?street=310105008",
        "/visits/misses/",
        "/advisors/filing/",
        "/advisors/trainings/",
        "/cases/leads/figures/",
    ],
    "street_310105008": ["/visits/matrix/", "/visits/due/", "/advisors/import/"],
    "advisor_310105008001": ["/visits/new/"],
}
# Not the application's own pages: Django's admin site and the public directory (which
# journey 4 checks on a phone).
NOT_OFFICE = ("/admin/", "/public/")
# A4 in PDF points (1/72 inch), either way round.
A4_POINTS = (595.3, 841.9)


def a4_pages(pdf):
    """The orientation of each page of a PDF Chromium printed, checking that it is A4."""
    boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
    assert boxes, "no page in the PDF"
    orientations = []
    for width, height in ((float(w), float(h)) for w, h in boxes):
        assert sorted((width, height)) == pytest.approx(A4_POINTS, abs=2), (width, height)
        orientations.append("landscape" if width > height else "portrait")
    return orientations


@pytest.mark.browser
@pytest.mark.parametrize("username", list(OFFICE_PAGES))
def test_office_pages_fit_the_office_screens(page, login_as, username):
    login_as(page, username)
    menu = page.locator(".site-nav__link")
    paths = [
        path
        for path in menu.evaluate_all("links => links.map(link => link.getAttribute('href'))")
        if path not in NOT_OFFICE
    ]
    assert len(paths) >= 5, paths
    problems = {}
    for path in paths + OFFICE_PAGES[username]:
        response = page.goto(path)
        assert response.status == 200, f"{path}: {response.status}"
        for screen in OFFICE_SCREENS:
            page.set_viewport_size(screen)
            found = overflow(page)
            if not single_line(menu):
                found.append("a menu label breaks onto a second line")
            if found:
                problems[f"{path} at {screen['width']}×{screen['height']}"] = found
    assert not problems, problems


def print_checked(page, screenshot, name, width, orientation):
    """The page laid out for paper fits `width` (a screenshot of it is kept); the PDF Chromium
    prints is A4 in `orientation`, kept in test-results/."""
    original = page.viewport_size
    page.emulate_media(media="print")
    try:
        page.set_viewport_size({"width": width, "height": 1100})
        found = overflow(page)
        assert not found, f"{name} does not fit A4 ({width}px): {found}"
        screenshot(page, f"{name}-paper")
        page.set_viewport_size(original)
        pdf = page.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    finally:
        page.emulate_media(media="screen")
        page.set_viewport_size(original)
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.pdf").write_bytes(pdf)
    assert set(a4_pages(pdf)) == {orientation}, name


@pytest.mark.browser
def test_the_dashboard_the_matrix_and_a_bulletin_print_on_a4(page, login_as, url, screenshot):
    from playwright.sync_api import expect

    login_as(page, "bureau")

    # The dashboard: all fifteen columns of the rule table on a portrait page.
    page.goto(url("/supervision/"))
    headers = page.locator("[data-testid=rule-table] thead th")
    expect(headers).to_have_count(15)
    expect(headers.last).to_have_text("L1")
    print_checked(page, screenshot, "print-dashboard", A4_PORTRAIT_WIDTH, "portrait")

    # The matrix of a street: twelve months of every person due, on landscape pages.
    page.goto(url("/visits/matrix/?street=310105008"))
    matrix = page.locator(".table-matrix")
    expect(matrix).to_be_visible()
    assert matrix.locator("thead th").count() >= 14
    print_checked(page, screenshot, "print-matrix", A4_LANDSCAPE_WIDTH, "landscape")

    # A bulletin of last month, generated for the purpose.
    last_month = today().replace(day=1) - datetime.timedelta(days=1)
    page.goto(url("/supervision/bulletins/new/"))
    page.fill("input[name=period]", f"{last_month:%Y-%m}")
    page.get_by_role("button", name="生成草稿").click()
    expect(page.locator(".bulletin__title")).to_contain_text(
        f"{last_month.year}年{last_month.month}月"
    )
    table = page.locator(".bulletin__table")
    expect(table.locator("tbody tr")).to_have_count(11)
    expect(table.locator("thead th").last).to_contain_text("C12")
    screenshot(page, "print-bulletin-screen")
    print_checked(page, screenshot, "print-bulletin", A4_PORTRAIT_WIDTH, "portrait")
