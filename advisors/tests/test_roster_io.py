"""The roster (checklist 1) out to Excel and back in: export, template, preview, confirm."""

import csv
import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisors import services
from advisors.choices import FilingStatus, Skill, SocialWorkLevel
from advisors.models import Advisor, AdvisorStation
from advisors.roster_io import ROSTER_EXPORT
from advisors.tests.factories import make_advisor
from audit.choices import AccessAction
from audit.models import AccessRecord
from changning_aid.models import PendingUpload
from stations.tests.factories import committee_point, make_two_streets, street_station

pytestmark = pytest.mark.django_db

EXPECTED_HEADERS = [
    "顾问编号",
    "街镇",
    "姓名",
    "性别",
    "手机号码",
    "主要服务站点",
    "主要服务站点代码",
    "其他服务站点代码",
    "人员类别",
    "社会工作职业资格",
    "资格证书编号",
    "技能",
    "统一服装发放日期",
    "胸牌发放日期",
    str(Advisor._meta.get_field("star_year").verbose_name),
    str(Advisor._meta.get_field("backbone_year").verbose_name),
    "上岗日期",
    "离岗日期",
    "离岗原因",
    "备案状态",
    "备案编号",
    "备案日期",
]


@pytest.fixture
def world():
    world = make_two_streets()
    world["point_a1"] = committee_point(world["committees_a"][0])
    world["point_a2"] = committee_point(world["committees_a"][1])
    world["station_a"] = street_station(world["street_a"])
    world["point_b"] = committee_point(world["committees_b"][0])
    world["zhang"] = make_advisor(
        world["street_a"],
        [world["point_a1"], world["station_a"]],
        name="张晓明",
        mobile="13812345678",
        social_work_level=SocialWorkLevel.ASSISTANT,
        certificate_number="ZS-2023-001",
        skills=[Skill.NEEDS, Skill.RESOURCES],
        uniform_issued_on=datetime.date(2023, 2, 1),
        badge_issued_on=datetime.date(2023, 2, 1),
        star_year=2024,
        backbone_year=2025,
    )
    world["shan"] = make_advisor(
        world["street_a"],
        [world["point_a2"]],
        name="单丽",
        left_on=datetime.date(2024, 6, 30),
        leave_reason="-调往街道",  # a cell a spreadsheet would take for a formula
    )
    world["pending"] = make_advisor(
        world["street_a"], [world["point_a2"]], name="曾晓红", filing_status=FilingStatus.PENDING
    )
    world["other"] = make_advisor(
        world["street_b"], [world["point_b"]], name="曹家堰顾问", mobile="13900002222"
    )
    return world


# Helpers: what a user does with the files ---------------------------------------------------


def export_response(client, file_format="xlsx", **filters):
    return client.get(
        reverse("advisors:export"), {"purpose": "人员清单核对", "format": file_format, **filters}
    )


def sheet_rows(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [
        ["" if value is None else str(value) for value in row]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
    ]


def edit_xlsx(content, edits):
    """The workbook with `edits` ({(advisor number or row number, header): value}) made."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header_row = next(
        row[0].row for row in sheet.iter_rows() if any(c.value == "顾问编号" for c in row)
    )
    columns = {cell.value: cell.column for cell in sheet[header_row]}
    for (where, header), value in edits.items():
        if isinstance(where, int):
            row = where
        else:
            row = next(
                cells[0].row
                for cells in sheet.iter_rows(min_row=header_row + 1)
                if cells[0].value == where
            )
        sheet.cell(row=row, column=columns[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content, name="人员清单.xlsx"):
    """Upload a file; the preview page it leads to."""
    response = client.post(reverse("advisors:import"), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[:2000]
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    return preview


def confirm(client, preview):
    return client.post(
        preview.request["PATH_INFO"], {"digest": preview.context["plan"].digest()}, follow=True
    )


def snapshot():
    """Everything the import could write, to check that nothing was."""
    advisors = list(Advisor.objects.order_by("pk").values())
    links = list(AdvisorStation.objects.order_by("pk").values())
    return advisors, links


def plain(response):
    return response.content.decode()


# Export -------------------------------------------------------------------------------------


def test_a_street_manager_exports_their_street_with_the_phone_masked(client, world):
    client.force_login(world["manager_a"])
    response = export_response(client)
    assert response.status_code == 200
    rows = sheet_rows(response.content)
    assert rows[0][0].startswith("导出人:")
    assert "人员清单核对" in rows[0][0]
    assert rows[1] == EXPECTED_HEADERS
    by_name = {row[2]: dict(zip(EXPECTED_HEADERS, row, strict=True)) for row in rows[2:]}
    assert set(by_name) == {"张晓明", "单丽", "曾晓红"}
    zhang = by_name["张晓明"]
    assert zhang["顾问编号"] == world["zhang"].advisor_number
    assert zhang["手机号码"] == "138****5678"
    assert "13812345678" not in str(rows)
    assert zhang["街镇"] == "华阳路街道"
    assert zhang["主要服务站点"] == world["point_a1"].name
    assert zhang["主要服务站点代码"] == "310105001001"
    assert zhang["其他服务站点代码"] == "310105001"
    assert zhang["技能"] == "需求分析、资源调配"
    assert zhang["社会工作职业资格"] == "助理社会工作师"
    assert zhang["统一服装发放日期"] == "2023-02-01"
    assert zhang["备案状态"] == "已备案"
    assert by_name["单丽"]["离岗原因"] == "'-调往街道"  # neutralised, not a formula
    assert "曹家堰" not in str(rows)
    record = AccessRecord.objects.get(action=AccessAction.EXPORT)
    assert record.street == world["street_a"]
    assert "社区救助顾问人员清单" in record.detail


def test_bureau_staff_export_every_street_of_their_district(client, world):
    client.force_login(world["bureau"])
    rows = sheet_rows(export_response(client).content)
    assert {row[1] for row in rows[2:]} == {"华阳路街道", "江苏路街道"}
    assert len(rows) == 2 + 4


def test_the_export_keeps_the_roster_filters(client, world):
    client.force_login(world["bureau"])
    rows = sheet_rows(export_response(client, q="zxm").content)
    assert [row[2] for row in rows[2:]] == ["张晓明"]
    roster = client.get(reverse("advisors:roster"), {"q": "zxm"})
    assert f'href="{reverse("advisors:export")}?q=zxm"' in plain(roster)
    form = client.get(reverse("advisors:export"), {"q": "zxm"})
    assert 'name="q" value="zxm"' in plain(form)
    assert "1 条记录" in plain(form)


@pytest.mark.parametrize("who", ["advisor_a", "sysadmin"])
def test_roles_that_do_not_keep_the_roster_cannot_export_or_import(client, world, who):
    client.force_login(world[who])
    assert export_response(client).status_code == 404
    assert client.get(reverse("advisors:export")).status_code == 404
    for name in ("import", "import_template"):
        response = client.get(reverse(f"advisors:{name}"))
        assert response.status_code == 403
        assert "只有街镇管理员和区民政局可以导入人员清单" in plain(response)
    response = client.post(
        reverse("advisors:import"), {"file": SimpleUploadedFile("a.csv", b"x\n")}
    )
    assert response.status_code == 403
    assert not PendingUpload.objects.exists()


def test_the_roster_links_its_export_and_import(client, world):
    client.force_login(world["manager_a"])
    body = plain(client.get(reverse("advisors:roster")))
    assert reverse("advisors:export") in body
    assert reverse("advisors:import") in body


# The template -------------------------------------------------------------------------------


def test_the_empty_template_has_the_headers_and_the_users_station_codes(client, world):
    client.force_login(world["manager_a"])
    response = client.get(reverse("advisors:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(workbook.worksheets[0].iter_rows(values_only=True))
    assert [list(row) for row in rows] == [EXPECTED_HEADERS]
    notes = "\n".join(
        str(value) for row in workbook.worksheets[1].iter_rows(values_only=True) for value in row
    )
    assert "310105001001" in notes and world["point_a1"].name in notes
    assert "310105002001" not in notes and "江苏路" not in notes


def test_a_new_advisor_is_created_from_the_template_filled_by_hand(client, world):
    client.force_login(world["manager_a"])
    template = client.get(reverse("advisors:import_template")).content
    values = {
        "姓名": "欧阳乐",
        "性别": "男",
        "手机号码": "13811112222",
        "主要服务站点代码": "310105001002",
        "其他服务站点代码": "310105001",
        "人员类别": "居委干部",
        "技能": "心理疏导、问题评估",
        "上岗日期": datetime.datetime(2025, 3, 1),  # typed as a date cell in Excel
    }
    content = edit_xlsx(template, {(2, header): value for header, value in values.items()})
    preview = upload(client, content)
    body = plain(preview)
    assert "新增 1 名顾问" in body
    assert "欧阳乐" in body
    assert 'data-testid="import-errors"' not in body
    assert Advisor.objects.filter(name="欧阳乐").count() == 0  # nothing written yet
    assert preview.context["plan"].creations[0].line == 2  # the headers are row 1

    response = confirm(client, preview)
    assert "人员清单已导入:新增 1 人,修改 0 人" in plain(response)
    advisor = Advisor.objects.get(name="欧阳乐")
    assert advisor.street == world["street_a"]
    assert advisor.filing_status == FilingStatus.PENDING
    assert advisor.advisor_number.startswith("GW310105001")
    assert advisor.mobile == "13811112222"
    assert advisor.started_on == datetime.date(2025, 3, 1)
    assert advisor.skills == [Skill.COUNSELLING, Skill.ASSESSMENT]
    assert advisor.primary_station == world["point_a2"]
    assert set(advisor.stations.all()) == {world["point_a2"], world["station_a"]}
    assert "oyl" in advisor.name_initials.split("|")
    record = AccessRecord.objects.get(action=AccessAction.IMPORT)
    assert record.user == world["manager_a"] and record.street == world["street_a"]
    assert "新增 1 人" in record.detail
    assert not PendingUpload.objects.exists()  # the file is deleted once imported


def test_bureau_staff_create_an_advisor_in_the_street_the_row_names(client, world):
    client.force_login(world["bureau"])
    header = ",".join(EXPECTED_HEADERS)
    row = {name: "" for name in EXPECTED_HEADERS}
    row.update(
        {
            "街镇": "江苏路街道",
            "姓名": "新顾问",
            "性别": "女",
            "主要服务站点代码": "310105002001",
            "人员类别": "其他",
            "上岗日期": "2025/4/1",
        }
    )
    content = (header + "\n" + ",".join(row[name] for name in EXPECTED_HEADERS) + "\n").encode()
    preview = upload(client, content, "roster.csv")
    assert "新增 1 名顾问" in plain(preview)
    confirm(client, preview)
    advisor = Advisor.objects.get(name="新顾问")
    assert advisor.street == world["street_b"]
    assert advisor.primary_station == world["point_b"]


# Round trip ---------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_an_export_imported_unchanged_changes_nothing(client, world, file_format):
    client.force_login(world["manager_a"])
    content = export_response(client, file_format).content
    before = snapshot()
    preview = upload(client, content, f"人员清单.{file_format}")
    plan = preview.context["plan"]
    assert plan.errors == [] and plan.creations == [] and plan.updates == []
    assert plan.unchanged == 3
    assert "没有变化" in plain(preview)
    assert "确认导入" not in plain(preview)
    response = confirm(client, preview)  # confirming anyway writes nothing
    assert "没有变化" in plain(response)
    assert snapshot() == before
    assert not AccessRecord.objects.filter(action=AccessAction.IMPORT).exists()


def test_a_change_is_previewed_column_by_column_then_written(client, world):
    client.force_login(world["manager_a"])
    zhang = world["zhang"]
    content = edit_xlsx(
        export_response(client).content,
        {
            (zhang.advisor_number, "姓名"): "张小明",
            (zhang.advisor_number, "手机号码"): "13987654321",
            (zhang.advisor_number, "主要服务站点代码"): "310105001002",
            (zhang.advisor_number, "主要服务站点"): "",
            (zhang.advisor_number, "技能"): "资源调配、需求分析、心理疏导",
        },
    )
    preview = upload(client, content)
    body = plain(preview)
    assert "修改 1 名顾问" in body
    changes = preview.context["plan"].updates[0].changes
    assert changes["姓名"] == ("张晓明", "张小明")
    assert changes["手机号码"] == ("138****5678", "13987654321")
    assert changes["主要服务站点代码"] == ("310105001001", "310105001002")
    assert changes["技能"] == ("需求分析、资源调配", "资源调配、需求分析、心理疏导")
    assert preview.context["plan"].updates[0].line == 3
    zhang.refresh_from_db()
    assert zhang.name == "张晓明"  # not before the confirmation

    confirm(client, preview)
    zhang.refresh_from_db()
    assert zhang.name == "张小明"
    assert zhang.name_initials == "zxm"
    assert zhang.mobile == "13987654321"
    assert zhang.primary_station == world["point_a2"]
    assert set(zhang.stations.all()) == {world["point_a2"], world["station_a"]}
    assert zhang.skills == [Skill.RESOURCES, Skill.NEEDS, Skill.COUNSELLING]
    assert zhang.filing_status == FilingStatus.FILED


def test_leaving_through_the_import_uses_the_leave_rules(client, world):
    client.force_login(world["manager_a"])
    zhang, shan = world["zhang"], world["shan"]
    exported = export_response(client).content
    content = edit_xlsx(
        exported,
        {
            (zhang.advisor_number, "离岗日期"): "2025-12-31",
            (zhang.advisor_number, "离岗原因"): "退休",
        },
    )
    confirm(client, upload(client, content))
    zhang.refresh_from_db()
    assert zhang.left_on == datetime.date(2025, 12, 31) and zhang.leave_reason == "退休"

    content = edit_xlsx(exported, {(shan.advisor_number, "离岗日期"): "2024-07-31"})
    preview = upload(client, content)
    assert "该顾问已于2024-06-30离岗,离岗信息不能通过导入修改" in plain(preview)
    content = edit_xlsx(exported, {(world["pending"].advisor_number, "离岗原因"): "调走"})
    assert "填写离岗原因时请同时填写离岗日期" in plain(upload(client, content))


# Errors -------------------------------------------------------------------------------------


def test_one_bad_row_stops_the_whole_file_and_is_named_by_its_row(client, world):
    client.force_login(world["manager_a"])
    zhang, pending = world["zhang"], world["pending"]
    exported = export_response(client).content
    rows = sheet_rows(exported)
    pending_row = next(i for i, row in enumerate(rows, start=1) if row[0] == pending.advisor_number)
    content = edit_xlsx(
        exported,
        {
            (zhang.advisor_number, "姓名"): "张小明",  # a good change
            (pending.advisor_number, "上岗日期"): "2024-13-45",  # a bad date
        },
    )
    before = snapshot()
    preview = upload(client, content)
    body = plain(preview)
    assert "文件有 1 处错误,不能导入" in body
    assert f"第 {pending_row} 行" in body
    assert "上岗日期“2024-13-45”不是有效的日期" in body
    assert "确认导入" not in body
    response = client.post(preview.request["PATH_INFO"], {"digest": "0" * 64}, follow=True)
    assert "没有导入任何数据" in plain(response)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("header", "value", "message"),
    [
        ("手机号码", "1381234", "手机号码“1381234”不是有效的11位手机号码"),
        ("手机号码", "139****5678", "是遮盖后的号码,与现有号码不符"),
        ("性别", "未知", "性别“未知”不是可选的值,可填:男、女"),
        ("人员类别", "志愿者", "人员类别“志愿者”不是可选的值"),
        ("社会工作职业资格", "社工", "社会工作职业资格“社工”不是可选的值"),
        ("技能", "资源调配、唱歌", "技能“唱歌”不是可选的值"),
        ("统一服装发放日期", "明天", "统一服装发放日期“明天”不是有效的日期"),
        ("姓名", "", "请填写姓名"),
        ("备案状态", "已注销", "备案信息须通过备案流程办理"),
        ("备案编号", "CN-XX-1", "备案信息须通过备案流程办理"),
        ("街镇", "江苏路街道", "顾问所属街镇不能通过导入修改"),
        ("主要服务站点代码", "310105001999", "站点代码“310105001999”不存在"),
        ("主要服务站点", "别的站点", "不一致"),
        ("资格证书编号", "", None),  # 助理社会工作师 without its certificate number is fine
        ("备案编号", "", None),  # the filing and the street are for reference: empty is no change
        ("街镇", "", None),
    ],
)
def test_bad_cells_are_refused_with_a_chinese_reason(client, world, header, value, message):
    client.force_login(world["manager_a"])
    number = world["zhang"].advisor_number
    content = edit_xlsx(export_response(client).content, {(number, header): value})
    before = snapshot()
    preview = upload(client, content)
    if message is None:
        assert preview.context["plan"].errors == []
        return
    assert message in plain(preview)
    assert preview.context["plan"].errors[0].line == 3
    assert snapshot() == before


def test_a_street_managers_import_naming_another_streets_station_is_refused(client, world):
    client.force_login(world["manager_a"])
    number = world["zhang"].advisor_number
    exported = export_response(client).content
    for header in ("主要服务站点代码", "其他服务站点代码"):
        content = edit_xlsx(exported, {(number, header): "310105002001"})
        preview = upload(client, content)
        assert "站点代码“310105002001”的站点不属于本街镇" in plain(preview)
        assert "曹家堰" not in plain(preview)
    assert set(Advisor.objects.get(pk=world["zhang"].pk).stations.all()) == {
        world["point_a1"],
        world["station_a"],
    }


def test_bureau_staff_cannot_move_an_advisor_to_a_station_of_another_street(client, world):
    client.force_login(world["bureau"])
    number = world["zhang"].advisor_number
    content = edit_xlsx(
        export_response(client).content, {(number, "主要服务站点代码"): "310105002001"}
    )
    assert "不属于顾问所在的华阳路街道" in plain(upload(client, content))


def test_unknown_numbers_and_numbers_of_another_street_get_the_same_answer(client, world):
    client.force_login(world["manager_a"])
    exported = export_response(client).content
    other = world["other"].advisor_number
    content = edit_xlsx(exported, {(3, "顾问编号"): other, (4, "顾问编号"): "GW0000"})
    body = plain(upload(client, content))
    assert f"顾问编号“{other}”不存在,或不在您的管理范围内" in body
    assert "顾问编号“GW0000”不存在,或不在您的管理范围内" in body
    assert "曹家堰" not in body


def test_a_number_twice_in_the_file_is_an_error(client, world):
    client.force_login(world["manager_a"])
    exported = export_response(client).content
    content = edit_xlsx(exported, {(4, "顾问编号"): sheet_rows(exported)[2][0]})
    body = plain(upload(client, content))
    assert "在文件中重复出现(第 3 行已有)" in body
    assert "第 4 行" in body


def test_a_file_that_is_not_the_template_is_refused(client, world):
    client.force_login(world["manager_a"])
    body = plain(upload(client, "顾问编号,姓名\n,张三\n".encode(), "roster.csv"))
    assert "文件不是人员清单模板:缺少列" in body
    body = plain(upload(client, "姓名,电话\n张三,1\n".encode(), "roster.csv"))
    assert "找不到表头“顾问编号”" in body
    assert not Advisor.objects.filter(name="张三").exists()


def test_a_csv_without_the_banner_is_numbered_from_its_header(client, world):
    client.force_login(world["manager_a"])
    exported = export_response(client, "csv").content.decode("utf-8-sig")
    lines = exported.splitlines()[1:]  # the banner line removed
    table = list(csv.reader(lines))
    table[2][EXPECTED_HEADERS.index("性别")] = "不详"
    buffer = io.StringIO()
    csv.writer(buffer).writerows(table)
    preview = upload(client, buffer.getvalue().encode("utf-8"), "roster.csv")
    assert preview.context["plan"].errors[0].line == 3
    assert "性别“不详”不是可选的值" in plain(preview)


# Confirmation -------------------------------------------------------------------------------


def test_a_change_made_after_the_preview_stops_the_confirmation(client, world):
    client.force_login(world["manager_a"])
    zhang = world["zhang"]
    content = edit_xlsx(export_response(client).content, {(zhang.advisor_number, "姓名"): "张小明"})
    preview = upload(client, content)
    # Someone else changes the advisor between the preview and the confirmation.
    services.update_advisor(actor=world["bureau"], advisor=zhang, certificate_number="ZS-NEW")
    response = confirm(client, preview)
    assert "预览之后顾问数据已有变化,没有导入任何数据" in plain(response)
    zhang.refresh_from_db()
    assert zhang.name == "张晓明"
    # The new preview shows the other change too, and can be confirmed.
    fresh = client.get(preview.request["PATH_INFO"])
    assert fresh.context["plan"].updates[0].changes["资格证书编号"] == ("ZS-NEW", "ZS-2023-001")
    confirm(client, fresh)
    zhang.refresh_from_db()
    assert zhang.name == "张小明" and zhang.certificate_number == "ZS-2023-001"


def test_the_confirmation_is_all_or_nothing(client, world, monkeypatch):
    client.force_login(world["manager_a"])
    zhang, pending = world["zhang"], world["pending"]
    content = edit_xlsx(
        export_response(client).content,
        {
            (zhang.advisor_number, "姓名"): "张小明",
            (pending.advisor_number, "离岗日期"): "2025-12-31",
            (pending.advisor_number, "离岗原因"): "调动",
        },
    )
    preview = upload(client, content)
    assert len(preview.context["plan"].updates) == 2
    before = snapshot()

    def refuse(**kwargs):
        raise ValidationError("离岗办理失败")

    # The leave is written last: the name change before it must be taken back too.
    monkeypatch.setattr(services, "advisor_leave", refuse)
    response = confirm(client, preview)
    assert "导入未完成,没有写入任何数据:离岗办理失败" in plain(response)
    assert snapshot() == before
    assert not AccessRecord.objects.filter(action=AccessAction.IMPORT).exists()
    assert PendingUpload.objects.count() == 1  # kept, to confirm again


def test_a_kept_file_is_its_uploaders_alone(client, world):
    client.force_login(world["manager_a"])
    preview = upload(client, export_response(client).content)
    url = preview.request["PATH_INFO"]
    for who in ("manager_b", "bureau", "advisor_a"):
        client.force_login(world[who])
        assert client.get(url).status_code == 404
        assert client.post(url, {"digest": "0" * 64}).status_code == 404


# Query counts -------------------------------------------------------------------------------


def _more_advisors(world, count):
    for _number in range(count):
        make_advisor(
            world["street_a"],
            [world["point_a1"], world["station_a"]],
            mobile="13800001111",
            skills=[Skill.NEEDS],
        )


def test_the_export_runs_a_fixed_number_of_queries(client, world):
    client.force_login(world["manager_a"])
    _more_advisors(world, 7)
    export_response(client)  # warm up
    with CaptureQueriesContext(connection) as small:
        assert len(sheet_rows(export_response(client).content)) == 2 + 10
    _more_advisors(world, 190)
    with CaptureQueriesContext(connection) as large:
        assert len(sheet_rows(export_response(client).content)) == 2 + 200
    assert len(small) == len(large), [query["sql"] for query in large]


def test_the_preview_runs_a_fixed_number_of_queries(client, world):
    client.force_login(world["manager_a"])

    def preview_queries():
        exported = export_response(client).content
        numbers = [row[0] for row in sheet_rows(exported)[2:]]
        content = edit_xlsx(exported, {(number, "手机号码"): "13700000000" for number in numbers})
        response = client.post(
            reverse("advisors:import"), {"file": SimpleUploadedFile("r.xlsx", content)}
        )
        with CaptureQueriesContext(connection) as queries:
            preview = client.get(response["Location"])
        assert len(preview.context["plan"].updates) == len(numbers)
        return queries

    _more_advisors(world, 7)
    preview_queries()  # warm up
    small = preview_queries()
    _more_advisors(world, 190)
    large = preview_queries()
    assert len(small) == len(large), [query["sql"] for query in large]


def test_the_export_spec_is_keyed_by_the_advisor_number():
    assert ROSTER_EXPORT.headers == EXPECTED_HEADERS
    assert ROSTER_EXPORT.key.source == "advisor_number"
