"""Long lists in and out: the register's import writes new people in bulk (`register_many`)
with the same records, rules and audit as one person at a time, all or nothing; exports
read in chunks with a fixed number of queries per chunk; the preview lists the first rows
and counts the rest; the workbook reader gives what openpyxl gives."""

import datetime
import io

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases import charges, services
from cases.models import (
    AdvisorCharge,
    AssistanceCategory,
    CurrentPeriod,
    KeyGroup,
    Recipient,
    RecipientCategory,
    RecipientKeyGroup,
)
from cases.recipient_io import RECIPIENT_EXPORT, NewRecipient, register_many
from cases.tests.factories import id_number, make_recipient
from cases.tests.test_checklist_io import confirm, errors_of, export_file, sheet_rows, upload
from changning_aid import exports, imports
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db

DAY = datetime.date


@pytest.fixture
def world():
    """Two streets of 长宁区; street A has an advisor and 王秀英, street B 赵美兰."""
    w = make_two_streets()
    w["point_a"] = committee_point(w["committees_a"][0])
    w["adv_a"] = make_advisor(w["street_a"], [w["point_a"]], name="甲顾问")
    w["adv_b"] = make_advisor(w["street_b"], [committee_point(w["committees_b"][0])])
    w["wang"] = make_recipient(w["committees_a"][0], name="王秀英", advisor=w["adv_a"])
    w["zhao"] = make_recipient(w["committees_b"][0], name="赵美兰")
    return w


def template_file(rows):
    """An .xlsx of the register's template holding `rows` (dicts by header)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(RECIPIENT_EXPORT.headers)
    for row in rows:
        sheet.append([row.get(header, "") for header in RECIPIENT_EXPORT.headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def new_rows(world, count, *, start=0):
    """`count` new people of street A's committees, the first with everything filled in."""
    rows = []
    for index in range(count):
        male = index % 2 == 1
        rows.append(
            {
                "姓名": f"新居民{start + index}",
                "性别": "男" if male else "女",
                "身份证号": id_number(
                    DAY(1941, 1, 1) + datetime.timedelta(days=start + index), male=male
                ),
                "联系电话": f"1390000{start + index:04d}",
                "居住地址": f"华阳路{start + index}号",
                "居委代码": world["committees_a"][index % 2].code,
                "家庭人口": 2,
                "救助类别": "低保、临时救助" if index == 0 else "",
                "重点人群": "大病" if index == 0 else "",
                "困难程度": "高",
                "责任顾问编号": world["adv_a"].advisor_number if index % 3 == 0 else "",
                "现有救助对象期间": "2025-01-01~2025-03-31；2026-01-01~" if index % 2 == 0 else "",
            }
        )
    return rows


# The bulk import through the pages ------------------------------------------------------------


def test_a_long_file_registers_everyone_as_one_at_a_time_would(client, world):
    client.force_login(world["manager_a"])
    rows = new_rows(world, 30)
    preview = upload(client, "recipients", template_file(rows))
    assert errors_of(preview) == []
    assert len(preview.context["plan"].creations) == 30
    confirm(client, preview)

    people = {person.name: person for person in Recipient.objects.filter(name__startswith="新居民")}
    assert len(people) == 30
    first = people["新居民0"]
    assert first.id_number.reveal() == rows[0]["身份证号"]
    assert (first.id_tail, first.birth_date) == (rows[0]["身份证号"][-4:], DAY(1941, 1, 1))
    assert first.name_initials  # derived as `save()` derives it
    assert (first.gender, first.hardship_level, first.household_size) == ("female", "high", 2)
    assert (first.phone, first.address, first.committee) == (
        "13900000000",
        "华阳路0号",
        world["committees_a"][0],
    )
    assert first.street == world["street_a"] and first.advisor == world["adv_a"]
    assert sorted(c.name for c in first.categories.all()) == ["临时救助", "低保"]
    assert [g.name for g in first.key_groups.all()] == ["大病"]
    assert [(p.starts_on, p.ends_on) for p in first.periods.order_by("starts_on")] == [
        (DAY(2025, 1, 1), DAY(2025, 3, 31)),
        (DAY(2026, 1, 1), None),
    ]
    # 档案号: the street's numbers, following on from 王秀英's, one each, in file order.
    numbers = [people[f"新居民{index}"].file_number for index in range(30)]
    prefix = world["wang"].file_number[:-6]
    following = int(world["wang"].file_number[-6:]) + 1
    assert numbers == [f"{prefix}{following + index:06d}" for index in range(30)]
    # Each advisor's charge opens today, as the register's own write opens it.
    assert not charges.out_of_step().exists()
    charge = AdvisorCharge.objects.get(recipient=first)
    assert (charge.advisor, charge.starts_on, charge.ends_on) == (
        world["adv_a"],
        timezone.localdate(),
        None,
    )
    assert not AdvisorCharge.objects.filter(recipient=people["新居民1"]).exists()


def test_the_month_summaries_follow_a_bulk_import(client, world):
    from visits import summaries

    nothing = {"person_months": [], "committee_months": []}
    client.force_login(world["manager_a"])
    preview = upload(client, "recipients", template_file(new_rows(world, 16)))
    confirm(client, preview)
    people = Recipient.objects.filter(name__startswith="新居民")
    assert people.count() == 16 and CurrentPeriod.objects.filter(recipient__in=people).exists()
    assert summaries.differences() == nothing


def test_one_bad_row_in_a_long_file_imports_nobody(client, world):
    client.force_login(world["manager_a"])
    rows = new_rows(world, 40)
    rows[-1]["身份证号"] = rows[-1]["身份证号"][:17] + (
        "0" if rows[-1]["身份证号"][17] != "0" else "1"
    )
    preview = upload(client, "recipients", template_file(rows))
    errors = errors_of(preview)
    assert len(errors) == 1 and errors[0][0] == 41  # the header is row 1
    assert "身份证号" in errors[0][1] and not preview.context["can_confirm"]
    client.post(preview.request["PATH_INFO"], {"digest": preview.context["plan"].digest()})
    assert not Recipient.objects.filter(name__startswith="新居民").exists()


def test_a_number_registered_after_the_preview_refuses_the_whole_file(client, world):
    client.force_login(world["manager_a"])
    rows = new_rows(world, 12)
    preview = upload(client, "recipients", template_file(rows))
    assert errors_of(preview) == []
    # Someone registers the last person of the file in the meantime.
    make_recipient(world["committees_b"][0], name="先登记", id_number=rows[-1]["身份证号"])
    page = confirm(client, preview)
    assert "没有导入任何数据" in page.content.decode()
    assert not Recipient.objects.filter(name__startswith="新居民").exists()


@pytest.mark.postgres
def test_every_row_the_bulk_import_writes_has_its_audit_event(client, world):
    from audit.tracking import INSERT, tracking_for

    client.force_login(world["bureau"])
    preview = upload(client, "recipients", template_file(new_rows(world, 9)))
    confirm(client, preview)
    people = list(Recipient.objects.filter(name__startswith="新居民"))
    assert len(people) == 9
    for model, rows in (
        (Recipient, people),
        (CurrentPeriod, CurrentPeriod.objects.filter(recipient__in=people)),
        (RecipientCategory, RecipientCategory.objects.filter(recipient__in=people)),
        (RecipientKeyGroup, RecipientKeyGroup.objects.filter(recipient__in=people)),
        (AdvisorCharge, AdvisorCharge.objects.filter(recipient__in=people)),
    ):
        ids = {row.pk for row in rows}
        assert ids, model
        events = tracking_for(model).event_model.objects.filter(pgh_obj_id__in=ids)
        assert set(events.filter(pgh_label=INSERT).values_list("pgh_obj_id", flat=True)) == ids
        # Put down to the bureau's login, as a page write is.
        users = {str((event.pgh_context or {}).get("user")) for event in events}
        assert users == {str(world["bureau"].pk)}, model


# The bulk service's own checks ---------------------------------------------------------------


def person(world, committee=None, **changes):
    values = {
        "committee": committee or world["committees_a"][0],
        "name": "单人",
        "gender": "female",
        "id_number": id_number(DAY(1952, 2, 2)),
        "fields": {"advisor": world["adv_a"]},
        "periods": [(DAY(2025, 1, 1), None)],
    }
    values.update(changes)
    return NewRecipient(**values)


def refused(error, world, *people, actor=None):
    with pytest.raises(error), transaction.atomic():
        register_many(actor=actor or world["manager_a"], people=list(people))
    assert not Recipient.objects.filter(name="单人").exists()


def test_register_many_keeps_the_rules_of_the_register(world):
    low = AssistanceCategory.objects.get(name="低保")
    refused(Http404, world, person(world, world["committees_b"][0]))  # another street
    refused(PermissionDenied, world, person(world), actor=world["advisor_a"])  # periods
    refused(PermissionDenied, world, person(world), actor=world["sysadmin"])
    refused(
        services.DuplicateRecipient,
        world,
        person(world, id_number=world["zhao"].id_number.reveal()),
    )
    twice = id_number(DAY(1953, 3, 3))
    refused(
        services.DuplicateRecipient,
        world,
        person(world, id_number=twice),
        person(world, id_number=twice),
    )
    valid = id_number(DAY(1954, 4, 4))
    wrong = valid[:17] + ("0" if valid[17] != "0" else "1")
    refused(ValidationError, world, person(world, id_number=wrong))
    refused(ValidationError, world, person(world, fields={"advisor": world["adv_b"]}))
    refused(ValidationError, world, person(world, gender="male"))  # the number says female
    refused(
        ValidationError,
        world,
        person(world, periods=[(DAY(2025, 1, 1), None), (DAY(2025, 6, 1), DAY(2025, 7, 1))]),
    )
    low.is_active = False
    low.save()
    refused(ValidationError, world, person(world, categories=[low]))
    # An advisor registers people of the committees of their stations, without periods.
    (made,) = register_many(
        actor=world["advisor_a"], people=[person(world, name="顾问登记", periods=[], fields={})]
    )
    assert made.pk and made.street == world["street_a"]
    refused(
        Http404,
        world,
        person(world, world["committees_a"][1], periods=[], fields={}),
        actor=world["advisor_a"],
    )


def test_register_many_runs_a_fixed_number_of_queries(world):
    def count(size, start):
        people = [
            person(
                world,
                world["committees_a"][index % 2],
                name=f"批量{start + index}",
                id_number=id_number(DAY(1930, 1, 1) + datetime.timedelta(days=start + index)),
                categories=[AssistanceCategory.objects.get(name="低保")],
            )
            for index in range(size)
        ]
        with CaptureQueriesContext(connection) as queries:
            register_many(actor=world["manager_a"], people=people)
        return len(queries)

    assert count(3, 0) == count(40, 100)


# Exports in chunks ----------------------------------------------------------------------------


def grow(world, count, start):
    low = AssistanceCategory.objects.get(name="低保")
    for index in range(count):
        made = make_recipient(
            world["committees_a"][index % 2],
            name=f"居民{start + index}",
            advisor=world["adv_a"],
            id_number=id_number(DAY(1935, 1, 1) + datetime.timedelta(days=start + index)),
            current_from=DAY(2025, 1, 1),
        )
        made.categories.add(low)
        made.key_groups.add(KeyGroup.objects.get(name="大病"))


def export_queries(client):
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as queries:
        content = export_file(client, "recipients")
    return len(queries), content


def test_the_export_runs_the_same_queries_for_10_and_40_rows(client, world):
    client.force_login(world["manager_a"])
    grow(world, 9, 0)
    small, content = export_queries(client)
    assert len(sheet_rows(content)) == 2 + 10
    grow(world, 30, 100)
    large, content = export_queries(client)
    assert len(sheet_rows(content)) == 2 + 40
    assert small == large


def test_the_export_reads_in_chunks_a_fixed_number_of_queries_each(client, world, monkeypatch):
    client.force_login(world["manager_a"])
    grow(world, 39, 0)
    whole, content = export_queries(client)
    monkeypatch.setattr(exports, "EXPORT_CHUNK", 10)
    chunked, chunked_content = export_queries(client)
    # The same file (but for the time in the banner), four chunks of ten people.
    assert sheet_rows(chunked_content)[1:] == sheet_rows(content)[1:]
    assert len(sheet_rows(content)) == 2 + 40
    assert chunked == whole + 3 * len(RECIPIENT_EXPORT.prefetch)


# The preview of a long file -------------------------------------------------------------------


def test_the_preview_lists_the_first_rows_and_counts_the_rest(client, world, monkeypatch):
    monkeypatch.setattr(imports, "PREVIEW_ROWS", 5)
    client.force_login(world["manager_a"])
    preview = upload(client, "recipients", template_file(new_rows(world, 12)))
    page = preview.content.decode()
    assert len(preview.context["plan"].creations) == 12
    assert "新居民4" in page and "新居民5" not in page
    assert "另有 7 人未逐一列出" in page
    confirm(client, preview)
    assert Recipient.objects.filter(name__startswith="新居民").count() == 12


# Reading workbooks -----------------------------------------------------------------------------


def test_the_workbook_reader_reads_what_openpyxl_reads():
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["导出人:某人"])
    sheet.append(["编号", "姓名", "日期", "数目", "是否"])
    sheet.append(["A1", "=LEN(A2)", DAY(2024, 3, 1), 2.0, True])  # a formula never computed
    sheet["A5"] = "#N/A"  # row 4 left empty
    sheet["C5"] = datetime.datetime(2024, 3, 1, 8, 30)
    sheet["D5"] = 12.5
    sheet["E5"] = 42
    sheet["B6"] = CellRichText(["前", TextBlock(InlineFont(b=True), "粗"), "后"])
    sheet["A8"] = "  空格  "
    buffer = io.BytesIO()
    workbook.save(buffer)
    written = exports.write_xlsx(
        type("Spec", (), {"name": "名单", "headers": ["编号", "说明"]})(),
        ["导出人:某人"],
        [["=1+1", 3], ["#N/A", 2.5], ["a\tb", ""]],
    )
    for content in (buffer.getvalue(), written):
        fast = exports._read_sheet(content)
        slow = exports._read_xlsx_openpyxl(content)

        def trimmed(rows):
            rows = [list(row) for row in rows]
            for row in rows:
                while row and row[-1] == "":
                    row.pop()
            while rows and not rows[-1]:
                rows.pop()
            return rows

        assert trimmed(fast) == trimmed(slow)
    assert trimmed(exports._read_sheet(buffer.getvalue()))[2:6] == [
        ["A1", "", "2024-03-01 00:00:00", "2", "True"],
        [],
        ["#N/A", "", "2024-03-01 08:30:00", "12.5", "42"],
        ["", "前粗后"],
    ]
