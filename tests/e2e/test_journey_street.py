"""Issue 10, journey 2 (second part): a street manager registers a new advisor and submits
them for filing, then imports an advisor roster .xlsx with one bad row, reads the row
numbered error, fixes the file and imports it. (The manager answering a rectification is
in test_journey_rectification.py, after the bureau issues it.)

新华路街道 is this journey's: no other journey adds advisors there.
"""

import io

import pytest

from tests.e2e.checks import assert_fits, assert_fits_office_screens, today

MANAGER = "street_310105004"
STREET = "新华路街道"
NEW_ADVISOR = "浏览器新顾问"
IMPORTED = ("浏览器导入甲", "浏览器导入乙")
BAD_MOBILE = "1380013"


def advisor_count(page):
    text = page.locator("[data-testid=advisor-count]").inner_text().strip()
    assert text.startswith("共 ") and text.endswith(" 名顾问"), text
    return int(text.removeprefix("共 ").removesuffix(" 名顾问"))


def roster_file(template, rows):
    """The downloaded template with `rows` ({header: value}) under its headers, as .xlsx."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(template))
    sheet = workbook.worksheets[0]
    headers = [cell.value for cell in sheet[1]]
    for row in rows:
        missing = set(row) - set(headers)
        assert not missing, f"the template has no column {missing}"
        sheet.append([row.get(header, "") for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def point_codes(template):
    """The codes and names of the committee points the template's notes list."""
    from openpyxl import load_workbook

    notes = load_workbook(io.BytesIO(template)).worksheets[1]
    return [
        (code, name)
        for code, name, *_rest in notes.iter_rows(values_only=True)
        if code and name and str(name).endswith("社区救助顾问服务点")
    ]


def upload(page, content):
    page.set_input_files(
        "input[name=file]",
        files=[
            {
                "name": "顾问名单.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": content,
            }
        ],
    )
    page.get_by_role("button", name="上传并预览").click()


@pytest.mark.browser
def test_a_street_manager_registers_an_advisor_and_imports_a_roster(
    page, login_as, url, screenshot
):
    from playwright.sync_api import expect

    login_as(page, MANAGER)
    page.get_by_role("link", name="社区救助顾问", exact=True).click()
    assert page.url == url("/advisors/")
    before = advisor_count(page)
    assert_fits_office_screens(page, "the roster")
    screenshot(page, "journey2-04-roster")

    # A new advisor, registered by hand and submitted for filing.
    page.get_by_role("link", name="登记顾问").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记顾问")
    page.fill("input[name=name]", NEW_ADVISOR)
    page.get_by_label("女", exact=True).check()
    page.fill("input[name=mobile]", "13900139000")
    page.select_option("select[name=background]", label="专职社区工作者")
    page.fill("input[name=started_on]", today().isoformat())
    point = page.locator("label[for^=id_stations_]", has_text="社区救助顾问服务点").first
    point_name = point.inner_text().strip()
    point.locator("input").check()
    page.select_option("select[name=primary]", label=point_name)
    page.get_by_label("需求分析").check()
    assert_fits_office_screens(page, "the advisor form")
    screenshot(page, "journey2-05-advisor-form")
    page.get_by_role("button", name="保存").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text(NEW_ADVISOR)
    expect(page.locator(".page-header__meta")).to_have_text(f"{STREET} · 待备案 · 在岗")
    expect(page.get_by_text(point_name).first).to_be_visible()
    page.get_by_role("button", name="提交备案").click()
    expect(page.locator(".alert-success")).to_have_text("已提交区民政局备案。")
    expect(page.get_by_text("待备案(已提交,待区民政局审核)")).to_be_visible()
    expect(page.get_by_role("button", name="提交备案")).to_have_count(0)
    expect(page.locator("tr", has_text="提交备案").first).to_be_visible()
    assert_fits(page, "the advisor")
    screenshot(page, "journey2-06-advisor-submitted")

    page.goto(url("/advisors/"))
    assert advisor_count(page) == before + 1
    row = page.locator("tr", has_text=NEW_ADVISOR)
    expect(row).to_contain_text("待备案")
    expect(row).to_contain_text("(已提交)")
    expect(row).to_contain_text("139****9000")

    # The roster in from Excel: the blank template, filled in with one bad row.
    page.get_by_role("link", name="导入清单").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("导入人员清单")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载空白模板").click()
    with open(download.value.path(), "rb") as file:
        template = file.read()
    (first_code, first_name), (second_code, _second_name) = point_codes(template)[:2]
    good = {
        "姓名": IMPORTED[0],
        "性别": "男",
        "手机号码": "13800138000",
        "主要服务站点代码": first_code,
        "人员类别": "居委干部",
        "技能": "资源调配、心理疏导",
        "上岗日期": today().isoformat(),
    }
    bad = {**good, "姓名": IMPORTED[1], "性别": "女", "手机号码": BAD_MOBILE}
    bad["主要服务站点代码"] = second_code
    upload(page, roster_file(template, [good, bad]))

    # The preview: the error on the row Excel numbers 3, nothing to confirm.
    summary = page.locator("[data-testid=import-summary]")
    expect(summary).to_contain_text("文件共 2 行:新增 1 人,修改 0 人,无变化 0 人,错误 1 处")
    errors = page.locator("[data-testid=import-errors]")
    expect(errors.locator("h2")).to_have_text("文件有 1 处错误,不能导入")
    error = errors.locator("tbody tr")
    expect(error).to_have_count(1)
    expect(error.locator("td").first).to_have_text("第 3 行")
    expect(error).to_contain_text(IMPORTED[1])
    expect(error).to_contain_text(f"手机号码“{BAD_MOBILE}”")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    assert_fits_office_screens(page, "the import preview with an error")
    screenshot(page, "journey2-07-import-error")

    # Fixed and uploaded again: two new advisors, confirmed.
    page.get_by_role("link", name="重新上传").click()
    upload(page, roster_file(template, [good, {**bad, "手机号码": "13800138001"}]))
    expect(summary).to_contain_text("文件共 2 行:新增 2 人,修改 0 人,无变化 0 人,错误 0 处")
    expect(page.locator("[data-testid=import-errors]")).to_have_count(0)
    creations = page.locator("[data-testid=import-creations]")
    expect(creations.locator("h2")).to_have_text("新增 2 名顾问")
    expect(creations.locator("tbody tr").nth(0).locator("td").first).to_have_text("2")
    expect(creations.locator("tbody tr").nth(1).locator("td").first).to_have_text("3")
    screenshot(page, "journey2-08-import-preview")
    page.get_by_role("button", name="确认导入").click()

    expect(page.locator(".alert-success")).to_be_visible()
    page.goto(url("/advisors/"))
    assert advisor_count(page) == before + 3
    for name in IMPORTED:
        expect(page.locator("tr", has_text=name)).to_contain_text("待备案")
    expect(page.locator("tr", has_text=IMPORTED[0])).to_contain_text(first_name)
    screenshot(page, "journey2-09-roster-imported")
