"""Visits in and out of Excel, through the browser's requests: the export (headers, masked ID
numbers, scope, period), the empty template, a month of paper records imported with a
preview, row-numbered Chinese errors, all or nothing, and fixed query counts."""

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
from cases.tests.factories import make_recipient
from changning_aid.sensitive.idnumbers import find_full_id_numbers
from stations.tests.factories import committee_point, make_two_streets
from visits.choices import VisitMethod, VisitResult
from visits.models import Visit
from visits.tests.factories import make_visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LAST_MONTH = (TODAY.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
EXPORT_URL = reverse("visits:export")
IMPORT_URL = reverse("visits:import")
TEMPLATE_URL = reverse("visits:import_template")

HEADERS = [
    "走访编号",
    "档案号",
    "姓名",
    "身份证号",
    "居委",
    "走访日期",
    "走访时间",
    "走访方式",
    "走访结果",
    "走访情况",
    "生活状况",
    "健康状况",
    "居住安全",
    "心理状态",
    "需要跟进",
    "跟进期限",
    "跟进事项",
    "顾问编号",
    "顾问",
    "录入时间",
]


@pytest.fixture
def world():
    """Two streets: 王秀英 and 李建国 with 甲顾问 in street A, 赵美兰 with 乙顾问 in street B;
    one visit each, last month."""
    w = make_two_streets()
    w["point_a"] = committee_point(w["committees_a"][0])
    w["point_b"] = committee_point(w["committees_b"][0])
    w["gw_a"] = make_advisor(w["street_a"], [w["point_a"]], name="甲顾问")
    w["gw_b"] = make_advisor(w["street_b"], [w["point_b"]], name="乙顾问")
    since = datetime.date(2025, 1, 1)
    w["wang"] = make_recipient(
        w["committees_a"][0], name="王秀英", advisor=w["gw_a"], current_from=since
    )
    w["li"] = make_recipient(
        w["committees_a"][1], name="李建国", advisor=w["gw_a"], current_from=since
    )
    w["zhao"] = make_recipient(
        w["committees_b"][0], name="赵美兰", advisor=w["gw_b"], current_from=since
    )
    w["visit_wang"] = make_visit(
        w["wang"],
        w["gw_a"],
        LAST_MONTH,
        findings="=SUM(A1) 身体尚可",
        visited_at=datetime.time(9, 5),
    )
    w["visit_zhao"] = make_visit(w["zhao"], w["gw_b"], LAST_MONTH, findings="赵的走访")
    return w


def export_file(client, file_format="xlsx", **query):
    response = client.get(EXPORT_URL, {"purpose": "走访核对", "format": file_format, **query})
    assert response.status_code == 200, response.content.decode()[:500]
    assert "attachment" in response["Content-Disposition"]
    return response.content


def sheet_rows(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [
        ["" if value is None else str(value) for value in row]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
    ]


def filled(content, rows, *, header_row=None):
    """The workbook with `rows` ({header: value}) appended under the headers."""
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    header_row = header_row or (1 if sheet.cell(row=1, column=2).value else 2)
    columns = {cell.value: cell.column for cell in sheet[header_row]}
    for values in rows:
        row = sheet.max_row + 1
        for header, value in values.items():
            sheet.cell(row=row, column=columns[header], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, content, name="走访记录.xlsx"):
    response = client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content)})
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


def paper_row(person, advisor, day, **values):
    row = {
        "档案号": person.file_number,
        "姓名": person.name,
        "走访日期": day.isoformat(),
        "走访方式": "上门走访",
        "走访结果": "走访完成",
        "走访情况": "纸质记录",
        "顾问编号": advisor.advisor_number,
    }
    row.update(values)
    return row


# The export -----------------------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_a_street_manager_exports_the_streets_visits_with_masked_id_numbers(
    client, world, file_format
):
    client.force_login(world["manager_a"])

    content = export_file(client, file_format)

    if file_format == "csv":
        import csv

        text = content.decode("utf-8-sig")
        banner, header, *rows = list(csv.reader(io.StringIO(text)))
    else:
        text = "\n".join(",".join(row) for row in sheet_rows(content))
        banner, header, *rows = sheet_rows(content)
    assert banner[0].startswith("导出人:manager_a")
    assert header == HEADERS
    assert len(rows) == 1
    row = dict(zip(header, rows[0], strict=True))
    visit, wang = world["visit_wang"], world["wang"]
    assert row["走访编号"] == visit.visit_number
    assert row["档案号"] == wang.file_number and row["姓名"] == "王秀英"
    assert row["身份证号"].endswith(wang.id_tail) and "*" in row["身份证号"]
    assert row["走访日期"] == LAST_MONTH.isoformat() and row["走访时间"] == "09:05"
    assert (row["走访方式"], row["走访结果"], row["需要跟进"]) == ("上门走访", "走访完成", "否")
    assert row["走访情况"] == "'=SUM(A1) 身体尚可"  # no live formula
    assert row["顾问编号"] == world["gw_a"].advisor_number
    assert find_full_id_numbers(text) == []
    assert "赵美兰" not in text and "江苏路" not in text
    record = AccessRecord.objects.get()
    assert record.action == AccessAction.EXPORT and record.street == world["street_a"]


def test_the_export_takes_any_period_and_leaves_withdrawn_visits_out(client, world):
    wang = world["wang"]
    old = make_visit(wang, world["gw_a"], datetime.date(2025, 6, 3))
    gone = make_visit(wang, world["gw_a"], datetime.date(2025, 6, 4))
    Visit.objects.filter(pk=gone.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=world["manager_a"], withdraw_reason="错了"
    )
    client.force_login(world["bureau"])

    june = sheet_rows(export_file(client, date_from="2025-06-01", date_to="2025-06-30"))[2:]
    assert [row[0] for row in june] == [old.visit_number]
    every = sheet_rows(export_file(client, withdrawn="on"))[2:]
    assert sorted(row[0] for row in every) == sorted(
        [old.visit_number, world["visit_wang"].visit_number, world["visit_zhao"].visit_number]
    )
    street_b = sheet_rows(export_file(client, street=world["street_b"].code))[2:]
    assert [row[0] for row in street_b] == [world["visit_zhao"].visit_number]


def test_advisors_do_not_export_or_import_visits(client, world):
    from stations.tests.factories import make_user

    advisor = make_user("advisor_x", "advisor", stations=[world["point_a"]])
    client.force_login(advisor)

    assert client.get(EXPORT_URL, {"purpose": "看看", "format": "xlsx"}).status_code == 404
    assert client.get(IMPORT_URL).status_code == 403
    assert client.get(TEMPLATE_URL).status_code == 403
    assert client.get(reverse("visits:import_preview", args=[1])).status_code == 404
    assert not AccessRecord.objects.exists()


def test_the_export_runs_the_same_queries_for_5_and_60_visits(client, world):
    client.force_login(world["manager_a"])

    def add(start, count):
        for index in range(start, start + count):
            person = make_recipient(world["committees_a"][index % 2], advisor=world["gw_a"])
            make_visit(person, world["gw_a"], TODAY - datetime.timedelta(days=index % 25))

    add(0, 4)
    export_file(client)
    with CaptureQueriesContext(connection) as small:
        export_file(client)
    add(4, 55)
    with CaptureQueriesContext(connection) as large:
        rows = sheet_rows(export_file(client))[2:]
    assert len(rows) == 60
    assert len(small) == len(large), [q["sql"] for q in large]


# The import -----------------------------------------------------------------------------------


def test_round_trip_export_then_the_empty_template_filled_with_three_visits(client, world):
    wang, li, gw = world["wang"], world["li"], world["gw_a"]
    client.force_login(world["manager_a"])
    export_file(client)  # what the street keeps
    template = client.get(TEMPLATE_URL)
    assert template.status_code == 200
    assert sheet_rows(template.content)[0] == HEADERS
    notes = openpyxl.load_workbook(io.BytesIO(template.content)).worksheets[1]
    noted = "\n".join(str(cell.value) for row in notes.iter_rows() for cell in row if cell.value)
    assert gw.advisor_number in noted and "乙顾问" not in noted

    day = LAST_MONTH + datetime.timedelta(days=2)
    content = filled(
        template.content,
        [
            paper_row(
                wang,
                gw,
                day,
                走访时间="14:30",
                生活状况="需关注",
                需要跟进="是",
                跟进期限=(day + datetime.timedelta(days=10)).isoformat(),
                跟进事项="送米面",
            ),
            paper_row(li, gw, day, 走访方式="电话", 走访结果="无人在家", 走访情况=""),
            paper_row(li, gw, day + datetime.timedelta(days=1), 姓名=""),
        ],
    )
    preview = upload(client, content)

    plan = preview.context["plan"]
    assert errors_of(preview) == []
    assert [row.line for row in plan.creations] == [2, 3, 4]
    assert "新增 3 条" in preview.content.decode()
    response = confirm(client, preview)

    assert "走访记录已导入:新增 3 条" in response.content.decode()
    created = Visit.objects.exclude(
        pk__in=[world["visit_wang"].pk, world["visit_zhao"].pk]
    ).order_by("pk")
    assert [(v.recipient, v.visited_on, v.method, v.result) for v in created] == [
        (wang, day, VisitMethod.HOME, VisitResult.COMPLETED),
        (li, day, VisitMethod.PHONE, VisitResult.NOBODY_HOME),
        (li, day + datetime.timedelta(days=1), VisitMethod.HOME, VisitResult.COMPLETED),
    ]
    first = created[0]
    assert first.visited_at == datetime.time(14, 30) and first.living == "attention"
    assert (first.follow_up_required, first.follow_up_note) == (True, "送米面")
    assert all(v.recorded_by == world["manager_a"] for v in created)
    assert all(v.visit_number.startswith(f"ZF{world['street_a'].code}") for v in created)
    assert len({v.visit_number for v in created}) == 3
    record = AccessRecord.objects.get(action=AccessAction.IMPORT)
    assert "新增 3 条" in record.detail and record.street == world["street_a"]


def test_a_file_with_one_bad_row_writes_nothing_and_names_the_row(client, world):
    wang, zhao, gw = world["wang"], world["zhao"], world["gw_a"]
    client.force_login(world["manager_a"])
    template = client.get(TEMPLATE_URL).content
    content = filled(
        template,
        [
            paper_row(wang, gw, LAST_MONTH + datetime.timedelta(days=1)),
            paper_row(zhao, world["gw_b"], LAST_MONTH),  # another street's person
            paper_row(wang, gw, LAST_MONTH + datetime.timedelta(days=3)),
        ],
    )

    preview = upload(client, content)

    errors = errors_of(preview)
    assert [line for line, _message in errors] == [3, 3]
    assert f"档案号“{zhao.file_number}”不存在,或不在您的管理范围内" in errors[0][1]
    page = preview.content.decode()
    assert "第 3 行" in page and "赵美兰" not in page and "乙顾问" not in page
    assert not preview.context["can_confirm"]
    before = Visit.objects.count()
    confirm(client, preview)
    assert Visit.objects.count() == before


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"走访日期": (TODAY + datetime.timedelta(days=1)).isoformat()}, "走访日期不能晚于今天"),
        ({"走访日期": "2026-02-30"}, "不是有效的日期"),
        ({"走访方式": "飞鸽传书"}, "走访方式“飞鸽传书”不是可选的值"),
        ({"走访结果": "拒访", "心理状态": "有风险"}, "未成功的走访(无人在家、拒访)不填写心理状态"),
        ({"需要跟进": "是"}, "需要跟进时请填写跟进期限"),
        ({"需要跟进": "也许"}, "需要跟进请填写“是”或“否”"),
        ({"走访时间": "25:99"}, "不是有效的时间"),
        ({"姓名": "张三"}, "姓名“张三”与档案号"),
        ({"顾问编号": ""}, "请填写顾问编号"),
        ({"走访日期": "2022-05-01"}, "不是在岗顾问"),  # before the advisor started
    ],
)
def test_each_bad_cell_is_refused_with_a_chinese_reason(client, world, values, message):
    client.force_login(world["manager_a"])
    template = client.get(TEMPLATE_URL).content
    row = paper_row(world["wang"], world["gw_a"], LAST_MONTH + datetime.timedelta(days=1))
    row.update(values)

    preview = upload(client, filled(template, [row]))

    errors = errors_of(preview)
    assert errors and all(line == 2 for line, _m in errors)
    assert any(message in text for _line, text in errors), errors


def test_an_advisor_of_another_street_is_refused(client, world):
    client.force_login(world["bureau"])
    template = client.get(TEMPLATE_URL).content

    preview = upload(
        client, filled(template, [paper_row(world["wang"], world["gw_b"], LAST_MONTH)])
    )

    assert errors_of(preview) == [(2, "走访顾问必须是该对象所在街镇的顾问。")]


def test_an_exported_file_comes_back_with_new_rows_unchanged_rows_and_no_edits(client, world):
    wang, gw = world["wang"], world["gw_a"]
    client.force_login(world["manager_a"])
    exported = export_file(client)
    new_day = LAST_MONTH + datetime.timedelta(days=5)

    same = upload(client, filled(exported, [paper_row(wang, gw, new_day)]))
    assert errors_of(same) == []
    assert same.context["plan"].unchanged == 1
    assert [row.line for row in same.context["plan"].creations] == [4]

    workbook = openpyxl.load_workbook(io.BytesIO(exported))
    workbook.worksheets[0].cell(row=3, column=HEADERS.index("走访情况") + 1, value="改了")
    buffer = io.BytesIO()
    workbook.save(buffer)
    edited = upload(client, buffer.getvalue())
    assert len(errors_of(edited)) == 1
    line, message = errors_of(edited)[0]
    assert line == 3 and "已登记的走访记录不能通过导入修改(走访情况)" in message


def test_a_visit_already_stored_or_repeated_in_the_file_is_refused(client, world):
    wang, gw = world["wang"], world["gw_a"]
    client.force_login(world["manager_a"])
    template = client.get(TEMPLATE_URL).content
    day = LAST_MONTH + datetime.timedelta(days=8)

    preview = upload(
        client,
        filled(
            template,
            [
                paper_row(wang, gw, LAST_MONTH),  # the stored visit again
                paper_row(wang, gw, day),
                paper_row(wang, gw, day, 走访情况="又录了一次"),
            ],
        ),
    )

    errors = errors_of(preview)
    assert [line for line, _m in errors] == [2, 4]
    assert world["visit_wang"].visit_number in errors[0][1]
    assert "与第 3 行重复" in errors[1][1]


def test_an_imported_success_completes_an_open_follow_up(client, world):
    wang, gw = world["wang"], world["gw_a"]
    asked = make_visit(
        wang, gw, LAST_MONTH, follow_up_required=True, follow_up_by=LAST_MONTH, method="phone"
    )
    client.force_login(world["manager_a"])
    template = client.get(TEMPLATE_URL).content
    day = LAST_MONTH + datetime.timedelta(days=4)

    confirm(
        client,
        upload(
            client,
            filled(
                template,
                [
                    paper_row(wang, gw, day + datetime.timedelta(days=2)),
                    paper_row(wang, gw, day),
                ],
            ),
        ),
    )

    asked.refresh_from_db()
    assert asked.followed_up_by is not None
    assert asked.followed_up_by.visited_on == day  # the first success after it


def test_planning_a_file_runs_the_same_queries_for_3_and_40_rows(client, world):
    from changning_aid import imports
    from visits.visit_io import VISITS

    people = [
        make_recipient(world["committees_a"][i % 2], advisor=world["gw_a"]) for i in range(40)
    ]
    client.force_login(world["manager_a"])
    template = client.get(TEMPLATE_URL).content

    def plan(count):
        content = filled(
            template, [paper_row(person, world["gw_a"], LAST_MONTH) for person in people[:count]]
        )
        with CaptureQueriesContext(connection) as queries:
            result = imports.plan_import(
                VISITS, user=world["manager_a"], content=content, file_format="xlsx"
            )
        assert result.errors == [] and len(result.creations) == count
        return len(queries)

    assert plan(3) == plan(40)
