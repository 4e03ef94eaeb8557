"""Checklists 2-4 (needs, resources, services) out to Excel and back in, through the browser's
requests: export headers, round trip, row-numbered errors, scoping, creation, all or nothing,
the empty template, and fixed query counts."""

import datetime
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from audit.choices import AccessAction
from audit.models import AccessRecord
from cases.choices import NeedStatus, ResourceType, ServiceItem, ServiceTask
from cases.models import Need, Resource, ServiceRecord
from cases.tests.factories import id_number, make_need, make_recipient, make_resource
from changning_aid.models import PendingUpload
from stations.tests.factories import committee_point, make_two_streets, street_station

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_WEEK = TODAY - datetime.timedelta(days=7)

NEED_HEADERS = [
    "需求编号",
    "档案号",
    "姓名",
    "街镇",
    "居委",
    "需求类别",
    "需求描述",
    "发现方式",
    "发现日期",
    "紧急程度",
    "状态",
    "办结日期",
    "办结情况",
    "顾问编号",
    "责任顾问",
    "对接资源编号",
]
RESOURCE_HEADERS = [
    "资源编号",
    "资源名称",
    "资源类型",
    "提供方",
    "联系方式",
    "提供内容",
    "服务对象",
    "覆盖范围",
    "街镇",
    "居委代码",
    "居委",
    "可服务容量",
    "有效期起",
    "有效期止",
    "政策依据(文件号)",
]
SERVICE_HEADERS = [
    "服务编号",
    "服务日期",
    "站点代码",
    "服务站点",
    "街镇",
    "顾问编号",
    "服务顾问",
    "档案号",
    "服务对象",
    "参加人数",
    "服务事项",
    "服务任务",
    "服务内容",
    "服务结果",
    "需求编号",
    "资源编号",
    "服务流程环节",
]


@pytest.fixture
def world():
    """Two streets; street A has people 王秀英 (A1) and 李建国 (A2), street B 赵美兰.

    Each person has a need and a service; each street a resource, and there is a district one.
    """
    w = make_two_streets()
    w["point_a1"] = committee_point(w["committees_a"][0])
    w["point_a2"] = committee_point(w["committees_a"][1])
    w["point_b"] = committee_point(w["committees_b"][0])
    w["station_a"] = street_station(w["street_a"])
    w["adv_a"] = make_advisor(w["street_a"], [w["point_a1"], w["station_a"]], name="甲顾问")
    w["adv_a2"] = make_advisor(w["street_a"], [w["point_a2"]], name="乙顾问")
    w["adv_b"] = make_advisor(w["street_b"], [w["point_b"]], name="丙顾问")
    w["wang"] = make_recipient(
        w["committees_a"][0], name="王秀英", advisor=w["adv_a"], phone="13812345678"
    )
    w["li"] = make_recipient(w["committees_a"][1], name="李建国", advisor=w["adv_a2"])
    w["zhao"] = make_recipient(w["committees_b"][0], name="赵美兰", advisor=w["adv_b"])
    w["need_wang"] = make_need(w["wang"], description="=王秀英需要助餐", found_on=LAST_WEEK)
    w["need_li"] = make_need(w["li"], description="李建国需要护理", found_on=LAST_WEEK)
    w["need_zhao"] = make_need(w["zhao"], description="赵美兰需要医疗救助", found_on=LAST_WEEK)
    w["res_a"] = make_resource(street=w["street_a"], name="华阳爱心助餐", contact="62345678")
    w["res_b"] = make_resource(street=w["street_b"], name="江苏路慈善超市")
    w["res_district"] = make_resource(
        district=w["district"],
        name="长宁区临时救助",
        resource_type=ResourceType.POLICY,
        legal_basis="长民〔2023〕3号",
    )
    for person, advisor, station in (
        (w["wang"], w["adv_a"], w["point_a1"]),
        (w["li"], w["adv_a2"], w["point_a2"]),
        (w["zhao"], w["adv_b"], w["point_b"]),
    ):
        w[f"service_{person.name}"] = ServiceRecord.objects.create(
            date=LAST_WEEK,
            advisor=advisor,
            station=station,
            recipient=person,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content=f"走访{person.name}",
        )
    return w


# Helpers: what a user does with the files ---------------------------------------------------


def export_file(client, checklist, file_format="xlsx", **query):
    response = client.get(
        reverse(f"cases:{checklist}_export"),
        {"purpose": "清单核对", "format": file_format, **query},
    )
    assert response.status_code == 200, response.content.decode()[:500]
    return response.content


def sheet_rows(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [
        ["" if value is None else str(value) for value in row]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
    ]


def edit_xlsx(content, edits, *, append=()):
    """The workbook with `edits` ({(key or row number, header): value}) made, rows appended."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header_row = 1 if sheet.cell(row=1, column=2).value else 2
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
    for values in append:
        row = sheet.max_row + 1
        for header, value in values.items():
            sheet.cell(row=row, column=columns[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, checklist, content, name="清单.xlsx"):
    """Upload a file; the preview page it leads to."""
    response = client.post(
        reverse(f"cases:{checklist}_import"), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    return preview


def confirm(client, preview):
    return client.post(
        preview.request["PATH_INFO"], {"digest": preview.context["plan"].digest()}, follow=True
    )


def errors_of(preview):
    return [(error.line, error.message) for error in preview.context["plan"].errors]


def row_of(rows, key):
    header = rows[1]
    values = next(row for row in rows if row[0] == key)
    return dict(zip(header, values, strict=False))


# Who exports and imports ------------------------------------------------------------------


@pytest.mark.parametrize("checklist", ["needs", "resources", "services"])
def test_advisors_neither_export_nor_import(client, world, checklist):
    client.force_login(world["advisor_a"])
    response = client.get(
        reverse(f"cases:{checklist}_export"), {"purpose": "核对", "format": "xlsx"}
    )
    assert response.status_code == 404
    for name in ("import", "template"):
        response = client.get(reverse(f"cases:{checklist}_{name}"))
        assert response.status_code == 403
        assert "只有街镇管理员和区民政局可以导入" in response.content.decode()


def test_the_list_pages_link_to_export_and_import_for_keepers_only(client, world):
    client.force_login(world["manager_a"])
    page = client.get(reverse("cases:needs")).content.decode()
    assert reverse("cases:needs_export") in page and reverse("cases:needs_import") in page
    page = client.get(
        reverse("cases:street_checklists", args=[world["street_a"].code])
    ).content.decode()
    for checklist in ("needs", "resources", "services"):
        assert reverse(f"cases:{checklist}_import") in page
    assert reverse("advisors:import") in page
    client.force_login(world["advisor_a"])
    page = client.get(reverse("cases:needs")).content.decode()
    assert reverse("cases:needs_export") not in page


# Needs (checklist 2) ---------------------------------------------------------------------


def test_the_needs_export_has_chinese_headers_and_the_street_only(client, world):
    client.force_login(world["manager_a"])
    rows = sheet_rows(export_file(client, "needs"))
    assert rows[0][0].startswith("导出人:")
    assert rows[1] == NEED_HEADERS
    keys = {row[0] for row in rows[2:]}
    assert keys == {world["need_wang"].need_number, world["need_li"].need_number}
    wang = row_of(rows, world["need_wang"].need_number)
    assert wang["档案号"] == world["wang"].file_number
    assert wang["需求描述"] == "'=王秀英需要助餐"  # neutralised, never a formula
    assert wang["顾问编号"] == world["adv_a"].advisor_number
    assert wang["状态"] == "待评估"
    assert AccessRecord.objects.filter(action=AccessAction.EXPORT).count() == 1


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_needs_round_trip_without_change(client, world, file_format):
    client.force_login(world["manager_a"])
    content = export_file(client, "needs", file_format)
    before = list(Need.objects.order_by("pk").values())
    preview = upload(client, "needs", content, name=f"需求.{file_format}")
    plan = preview.context["plan"]
    assert (plan.rows, plan.unchanged, plan.errors) == (2, 2, [])
    assert not plan.has_changes
    assert "没有变化" in preview.content.decode()
    assert list(Need.objects.order_by("pk").values()) == before


def test_a_bad_row_stops_the_good_change_and_is_named_by_its_row(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "needs")
    rows = sheet_rows(content)
    li_line = next(
        i for i, row in enumerate(rows, start=1) if row[0] == world["need_li"].need_number
    )
    edited = edit_xlsx(
        content,
        {
            (world["need_wang"].need_number, "紧急程度"): "紧急",
            (world["need_li"].need_number, "需求类别"): "吃饭",
            (world["need_li"].need_number, "状态"): "已对接",  # not from 待评估
        },
    )
    preview = upload(client, "needs", edited)
    errors = errors_of(preview)
    assert {line for line, _message in errors} == {li_line}
    assert any("需求类别“吃饭”不是可选的值" in message for _line, message in errors)
    page = preview.content.decode()
    assert f"第 {li_line} 行" in page
    assert not preview.context["can_confirm"]
    # Confirming anyway writes nothing.
    confirm(client, preview)
    world["need_wang"].refresh_from_db()
    assert world["need_wang"].urgency == "normal"


def test_a_status_change_follows_the_transitions_and_closing_needs_a_date(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "needs")
    wang, li = world["need_wang"].need_number, world["need_li"].need_number
    preview = upload(
        client,
        "needs",
        edit_xlsx(content, {(wang, "状态"): "已对接", (li, "状态"): "无法解决"}),
    )
    messages = [message for _line, message in errors_of(preview)]
    assert "需求不能从“待评估”变为“已对接”。" in messages
    assert any("办结时请填写办结日期" in message for message in messages)
    assert any("无法解决时请说明原因" in message for message in messages)
    preview = upload(
        client,
        "needs",
        edit_xlsx(
            content,
            {
                (li, "状态"): "无法解决",
                (li, "办结日期"): TODAY.isoformat(),
                (li, "办结情况"): "本人放弃",
                (wang, "状态"): "待对接",
            },
        ),
    )
    assert errors_of(preview) == []
    assert len(preview.context["plan"].updates) == 2
    response = confirm(client, preview)
    assert "已导入" in response.content.decode()
    li_need = Need.objects.get(need_number=li)
    assert (li_need.status, li_need.closed_on, li_need.outcome) == (
        NeedStatus.UNRESOLVABLE,
        TODAY,
        "本人放弃",
    )
    assert Need.objects.get(need_number=wang).status == NeedStatus.TO_LINK
    assert AccessRecord.objects.filter(action=AccessAction.IMPORT).count() == 1


def test_another_streets_person_or_need_is_refused_like_an_unknown_one(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "needs")
    edited = edit_xlsx(
        content,
        {},
        append=[
            {
                "档案号": world["zhao"].file_number,
                "需求类别": "医疗",
                "需求描述": "新需求",
                "发现方式": "走访",
                "发现日期": TODAY.isoformat(),
            },
            {
                "档案号": "DA310105999999999",
                "需求类别": "医疗",
                "需求描述": "新需求",
                "发现方式": "走访",
                "发现日期": TODAY.isoformat(),
            },
            {"需求编号": world["need_zhao"].need_number, "档案号": world["zhao"].file_number},
        ],
    )
    preview = upload(client, "needs", edited)
    messages = [message for _line, message in errors_of(preview)]
    assert f"档案号“{world['zhao'].file_number}”不存在,或不在您的管理范围内。" in messages
    assert "档案号“DA310105999999999”不存在,或不在您的管理范围内。" in messages
    assert f"需求编号“{world['need_zhao'].need_number}”不存在,或不在您的管理范围内。" in messages
    assert "赵美兰" not in preview.content.decode()


def test_bureau_staff_import_needs_for_any_street(client, world):
    client.force_login(world["bureau"])
    content = export_file(client, "needs")
    assert len(sheet_rows(content)) == 2 + 3
    edited = edit_xlsx(content, {(world["need_zhao"].need_number, "紧急程度"): "较急"})
    preview = upload(client, "needs", edited)
    assert errors_of(preview) == []
    confirm(client, preview)
    world["need_zhao"].refresh_from_db()
    assert world["need_zhao"].urgency == "soon"


def test_a_need_is_created_by_import(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "needs")
    edited = edit_xlsx(
        content,
        {},
        append=[
            {
                "档案号": world["li"].file_number,
                "需求类别": "住房",
                "需求描述": "房屋漏水需维修",
                "发现方式": "来站申请",
                "发现日期": LAST_WEEK.strftime("%Y/%m/%d"),
                "状态": "待对接",
            }
        ],
    )
    preview = upload(client, "needs", edited)
    plan = preview.context["plan"]
    assert errors_of(preview) == [] and len(plan.creations) == 1
    assert plan.creations[0].line == 5
    confirm(client, preview)
    need = Need.objects.get(description="房屋漏水需维修")
    assert (need.recipient, need.status, need.found_on, need.advisor) == (
        world["li"],
        NeedStatus.TO_LINK,
        LAST_WEEK,
        world["adv_a2"],
    )
    assert need.need_number.startswith("XQ310105001")


def test_a_need_that_changed_after_the_preview_is_not_imported(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "needs")
    wang, li = world["need_wang"].need_number, world["need_li"].need_number
    preview = upload(
        client,
        "needs",
        edit_xlsx(content, {(wang, "紧急程度"): "紧急", (li, "状态"): "待对接"}),
    )
    assert errors_of(preview) == []
    # Between preview and confirmation someone closes 李建国's need: the row became invalid.
    Need.objects.filter(pk=world["need_li"].pk).update(
        status=NeedStatus.RESOLVED, closed_on=TODAY, outcome="已解决"
    )
    response = confirm(client, preview)
    assert "没有导入任何数据" in response.content.decode()
    world["need_wang"].refresh_from_db()
    assert world["need_wang"].urgency == "normal"
    assert PendingUpload.objects.count() == 1
    assert not AccessRecord.objects.filter(action=AccessAction.IMPORT).exists()


def test_a_file_that_is_not_the_template_is_refused_as_a_whole(client, world):
    client.force_login(world["manager_a"])
    preview = upload(client, "needs", export_file(client, "resources"))
    assert any("文件不是需求清单模板" in message for _line, message in errors_of(preview))


# Resources (checklist 3) -----------------------------------------------------------------


def test_the_resources_export_has_the_streets_and_the_district_resources(client, world):
    client.force_login(world["manager_a"])
    rows = sheet_rows(export_file(client, "resources"))
    assert rows[1] == RESOURCE_HEADERS
    names = {row_of(rows, key)["资源名称"] for key in (row[0] for row in rows[2:])}
    assert names == {"华阳爱心助餐", "长宁区临时救助"}
    assert row_of(rows, world["res_a"].resource_number)["覆盖范围"] == "街镇"


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_resources_round_trip_without_change(client, world, file_format):
    client.force_login(world["manager_a"])
    preview = upload(
        client, "resources", export_file(client, "resources", file_format), f"资源.{file_format}"
    )
    plan = preview.context["plan"]
    assert (plan.rows, plan.unchanged, plan.errors, plan.has_changes) == (2, 2, [], False)


def test_resources_are_changed_and_created_and_the_district_ones_are_the_bureaus(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "resources")
    res_a, district = world["res_a"].resource_number, world["res_district"].resource_number
    edited = edit_xlsx(
        content,
        {(res_a, "可服务容量"): 30, (district, "提供方"): "街道"},
        append=[
            {
                "资源名称": "华一居委助浴",
                "资源类型": "志愿服务",
                "覆盖范围": "居委",
                "居委代码": world["committees_a"][0].code,
            },
            {
                "资源名称": "江苏路的资源",
                "资源类型": "慈善",
                "覆盖范围": "居委",
                "居委代码": world["committees_b"][0].code,
            },
        ],
    )
    preview = upload(client, "resources", edited)
    messages = [message for _line, message in errors_of(preview)]
    assert "全区资源由区民政局维护,不能通过导入修改。" in messages
    assert f"居委代码“{world['committees_b'][0].code}”不存在,或不在您的管理范围内。" in messages
    assert Resource.objects.count() == 3
    # Without the bad rows the change and the creation go in.
    edited = edit_xlsx(
        content,
        {(res_a, "可服务容量"): 30},
        append=[
            {
                "资源名称": "华一居委助浴",
                "资源类型": "志愿服务",
                "覆盖范围": "居委",
                "居委代码": world["committees_a"][0].code,
            }
        ],
    )
    preview = upload(client, "resources", edited)
    assert errors_of(preview) == []
    confirm(client, preview)
    world["res_a"].refresh_from_db()
    assert world["res_a"].capacity == 30
    created = Resource.objects.get(name="华一居委助浴")
    assert (created.street, created.committee) == (world["street_a"], world["committees_a"][0])


def test_a_policy_without_its_legal_basis_is_refused_with_its_row(client, world):
    client.force_login(world["bureau"])
    content = export_file(client, "resources")
    edited = edit_xlsx(
        content, {}, append=[{"资源名称": "新政策", "资源类型": "政策", "覆盖范围": "全区"}]
    )
    preview = upload(client, "resources", edited)
    assert errors_of(preview) == [(6, "政策类资源请填写政策依据(文件号)。")]


# Services (checklist 4) ------------------------------------------------------------------


def test_the_services_export_and_round_trip(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "services")
    rows = sheet_rows(content)
    assert rows[1] == SERVICE_HEADERS
    wang = row_of(rows, world["service_王秀英"].record_number)
    assert wang["站点代码"] == world["committees_a"][0].code
    assert wang["顾问编号"] == world["adv_a"].advisor_number
    assert wang["档案号"] == world["wang"].file_number
    assert "赵美兰" not in "".join("".join(row) for row in rows)
    preview = upload(client, "services", content)
    plan = preview.context["plan"]
    assert (plan.unchanged, plan.errors, plan.has_changes) == (2, [], False)


def test_services_are_added_and_recorded_ones_stay(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "services")
    new_row = {
        "服务日期": TODAY.isoformat(),
        "站点代码": world["committees_a"][0].code,
        "顾问编号": world["adv_a"].advisor_number,
        "档案号": world["wang"].file_number,
        "服务事项": "资源整合对接",
        "服务任务": "资源链接",
        "服务内容": "对接助餐",
        "需求编号": world["need_wang"].need_number,
        "资源编号": world["res_a"].resource_number,
        "服务流程环节": "对接",
    }
    bad_row = {**new_row, "站点代码": world["committees_b"][0].code, "服务内容": "越界"}
    edited = edit_xlsx(
        content,
        {(world["service_李建国"].record_number, "服务内容"): "改过的内容"},
        append=[new_row, bad_row],
    )
    preview = upload(client, "services", edited)
    errors = errors_of(preview)
    li_line = 3 if sheet_rows(content)[2][0] == world["service_李建国"].record_number else 4
    assert (
        li_line,
        "已登记的服务记录不能通过导入修改(服务内容);新的服务请另起一行,服务编号留空。",
    ) in errors
    assert (
        6,
        f"站点代码“{world['committees_b'][0].code}”不存在,或不在您的管理范围内。",
    ) in errors
    assert ServiceRecord.objects.count() == 3
    preview = upload(client, "services", edit_xlsx(content, {}, append=[new_row]))
    assert errors_of(preview) == []
    confirm(client, preview)
    record = ServiceRecord.objects.get(content="对接助餐")
    assert (record.need, record.resource, record.station) == (
        world["need_wang"],
        world["res_a"],
        world["point_a1"],
    )
    assert record.recorded_by == world["manager_a"]


def test_a_service_task_must_fit_the_station(client, world):
    client.force_login(world["manager_a"])
    content = export_file(client, "services")
    row = {
        "服务日期": TODAY.isoformat(),
        "站点代码": world["street_a"].code,
        "顾问编号": world["adv_a"].advisor_number,
        "参加人数": 12,
        "服务事项": "政策宣传引导",
        "服务任务": "上门走访",
        "服务内容": "政策宣讲",
    }
    preview = upload(client, "services", edit_xlsx(content, {}, append=[row]))
    assert errors_of(preview) == [(5, "“上门走访”不是街镇服务站的服务任务。")]


# The empty template ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "checklist,headers",
    [("needs", NEED_HEADERS), ("resources", RESOURCE_HEADERS), ("services", SERVICE_HEADERS)],
)
def test_the_empty_template_has_the_headers_and_comes_back_empty(client, world, checklist, headers):
    client.force_login(world["manager_a"])
    response = client.get(reverse(f"cases:{checklist}_template"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [cell.value for cell in workbook.worksheets[0][1]] == headers
    assert workbook.worksheets[1].title == "填写说明"
    preview = upload(client, checklist, response.content)
    plan = preview.context["plan"]
    assert (plan.rows, plan.errors, plan.has_changes) == (0, [], False)


# Fixed query counts ------------------------------------------------------------------------


def grow(world, count):
    """`count` more people of street A, each with a need and a service."""
    for index in range(count):
        person = make_recipient(
            world["committees_a"][0],
            name=f"居民{index}",
            id_number=id_number(datetime.date(1940, 1, 1) + datetime.timedelta(days=count + index)),
        )
        need = make_need(person, found_on=LAST_WEEK)
        ServiceRecord.objects.create(
            date=LAST_WEEK,
            advisor=world["adv_a"],
            station=world["point_a1"],
            recipient=person,
            need=need,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content="走访",
        )
        make_resource(street=world["street_a"], name=f"资源{index}")


def count_queries(client, checklist):
    connection.queries_log.clear()  # a full log (9000 queries) would count nothing
    with CaptureQueriesContext(connection) as export_queries:
        content = export_file(client, checklist)
    response = client.post(
        reverse(f"cases:{checklist}_import"), {"file": SimpleUploadedFile("x.xlsx", content)}
    )
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as preview_queries:
        preview = client.get(response["Location"])
    assert preview.context["plan"].errors == []
    return len(export_queries), len(preview_queries), preview.context["plan"].rows


@pytest.mark.parametrize("checklist", ["needs", "resources", "services"])
def test_export_and_preview_run_a_fixed_number_of_queries(client, world, checklist):
    client.force_login(world["manager_a"])
    grow(world, 8)
    small = count_queries(client, checklist)
    grow(world, 490)
    large = count_queries(client, checklist)
    assert large[2] > small[2] + 400
    assert small[:2] == large[:2]
