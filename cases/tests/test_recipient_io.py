"""The register of people in hardship out to Excel and back in, through the browser's requests:
export headers and masking, round trip, creation with categories and periods, replacing the
periods, row-numbered errors (overlap, bad ID number, duplicate, another street), nothing
written on an error, and fixed query counts."""

import datetime
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisors.tests.factories import make_advisor
from cases.models import AssistanceCategory, CurrentPeriod, KeyGroup, Recipient
from cases.tests.factories import id_number, make_recipient
from cases.tests.test_checklist_io import (
    confirm,
    edit_xlsx,
    errors_of,
    export_file,
    row_of,
    sheet_rows,
    upload,
)
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db

HEADERS = [
    "档案号",
    "姓名",
    "性别",
    "身份证号",
    "联系电话",
    "居住地址",
    "居委代码",
    "家庭人口",
    "救助类别",
    "重点人群",
    "困难程度",
    "责任顾问编号",
    "现有救助对象期间",
    "状态",
    "退出日期",
    "退出原因",
]
FULL_ID = re.compile(r"[1-9][0-9]{5}(19|20)[0-9]{2}[0-9]{4}[0-9]{3}[0-9X]")


@pytest.fixture
def world():
    """Two streets; street A has 王秀英 (a current recipient, 低保, 独居老人) and 李建国,
    street B has 赵美兰."""
    w = make_two_streets()
    w["point_a"] = committee_point(w["committees_a"][0])
    w["adv_a"] = make_advisor(w["street_a"], [w["point_a"]], name="甲顾问")
    w["wang_id"] = id_number(datetime.date(1950, 3, 1))
    w["wang"] = make_recipient(
        w["committees_a"][0],
        name="王秀英",
        advisor=w["adv_a"],
        phone="13812345678",
        address="华阳路1号",
        id_number=w["wang_id"],
        current_from=datetime.date(2025, 1, 1),
    )
    w["wang"].categories.add(AssistanceCategory.objects.get(name="低保"))
    w["wang"].key_groups.add(KeyGroup.objects.get(name="独居老人"))
    w["li"] = make_recipient(w["committees_a"][1], name="李建国", male=True)
    w["zhao_id"] = id_number(datetime.date(1955, 6, 6))
    w["zhao"] = make_recipient(w["committees_b"][0], name="赵美兰", id_number=w["zhao_id"])
    return w


def export(client):
    return export_file(client, "recipients")


def new_person(world, **values):
    row = {
        "姓名": "孙丽华",
        "性别": "女",
        "身份证号": id_number(datetime.date(1962, 8, 8)),
        "联系电话": "13900001111",
        "居住地址": "华阳路9号",
        "居委代码": world["committees_a"][0].code,
        "家庭人口": 2,
        "救助类别": "临时救助、低保",
        "重点人群": "大病",
        "困难程度": "高",
        "现有救助对象期间": "2025-01-01~2025-06-30；2026-03-01~",
    }
    row.update(values)
    return row


def test_the_export_has_the_headers_masked_numbers_and_one_street(client, world):
    client.force_login(world["manager_a"])
    content = export(client)
    rows = sheet_rows(content)
    assert rows[1] == HEADERS
    wang = row_of(rows, world["wang"].file_number)
    assert wang["身份证号"] == world["wang_id"][:6] + "********" + world["wang_id"][-4:]
    assert wang["联系电话"] == "138****5678"
    assert wang["救助类别"] == "低保"
    assert wang["重点人群"] == "独居老人"
    assert wang["现有救助对象期间"] == "2025-01-01~"
    assert wang["责任顾问编号"] == world["adv_a"].advisor_number
    assert wang["状态"] == "在册"
    numbers = {row[0] for row in rows[2:]}
    assert numbers == {world["wang"].file_number, world["li"].file_number}
    text = " ".join(" ".join(row) for row in rows)
    assert not FULL_ID.search(text)
    assert world["zhao"].file_number not in text

    client.force_login(world["manager_b"])
    rows = sheet_rows(export(client))
    assert {row[0] for row in rows[2:]} == {world["zhao"].file_number}

    client.force_login(world["bureau"])
    rows = sheet_rows(export(client))
    assert len(rows[2:]) == 3


def test_advisors_neither_export_nor_import_and_the_list_links_for_keepers(client, world):
    client.force_login(world["advisor_a"])
    response = client.get(reverse("cases:recipients_export"), {"purpose": "核对", "format": "xlsx"})
    assert response.status_code == 404
    assert client.get(reverse("cases:recipients_import")).status_code == 403
    assert "recipients-import" not in client.get(reverse("cases:recipients")).content.decode()
    client.force_login(world["manager_a"])
    page = client.get(reverse("cases:recipients")).content.decode()
    for testid in ("recipients-export", "recipients-import", "recipients-template"):
        assert testid in page


@pytest.mark.parametrize("file_format", ["xlsx", "csv"])
def test_round_trip_changes_nothing(client, world, file_format):
    client.force_login(world["manager_a"])
    before = Recipient.objects.get(pk=world["wang"].pk).updated_at
    content = export_file(client, "recipients", file_format)
    preview = upload(client, "recipients", content, name=f"名单.{file_format}")
    plan = preview.context["plan"]
    assert (plan.rows, plan.errors, plan.has_changes, plan.unchanged) == (2, [], False, 2)
    confirm(client, preview)
    assert Recipient.objects.get(pk=world["wang"].pk).updated_at == before


def test_a_new_person_is_registered_with_categories_and_periods(client, world):
    client.force_login(world["manager_a"])
    row = new_person(world, 责任顾问编号=world["adv_a"].advisor_number)
    content = edit_xlsx(export(client), {}, append=[row])
    preview = upload(client, "recipients", content)
    assert errors_of(preview) == []
    page = preview.content.decode()
    assert "孙丽华" in page
    assert row["身份证号"] not in page  # the preview shows it masked
    response = confirm(client, preview)
    assert "新增 1 人" in response.content.decode()
    person = Recipient.objects.get(name="孙丽华")
    assert person.plain_id_number() == row["身份证号"]
    assert person.street == world["street_a"]
    assert person.advisor == world["adv_a"]
    assert person.household_size == 2
    assert sorted(c.name for c in person.categories.all()) == ["临时救助", "低保"]
    assert [g.name for g in person.key_groups.all()] == ["大病"]
    periods = [(p.starts_on, p.ends_on) for p in person.periods.order_by("starts_on")]
    assert periods == [
        (datetime.date(2025, 1, 1), datetime.date(2025, 6, 30)),
        (datetime.date(2026, 3, 1), None),
    ]
    # And the file exported now comes back without change.
    preview = upload(client, "recipients", export(client))
    assert (preview.context["plan"].errors, preview.context["plan"].has_changes) == ([], False)


def test_a_changed_periods_cell_replaces_the_periods(client, world):
    client.force_login(world["manager_a"])
    wang = world["wang"]
    content = edit_xlsx(
        export(client),
        {(wang.file_number, "现有救助对象期间"): "2024-01-01~2024-12-31；2025-03-01~"},
    )
    preview = upload(client, "recipients", content)
    assert errors_of(preview) == []
    plan = preview.context["plan"]
    assert list(plan.updates[0].changes) == ["现有救助对象期间"]
    confirm(client, preview)
    periods = [(p.starts_on, p.ends_on) for p in CurrentPeriod.objects.filter(recipient=wang)]
    assert periods == [
        (datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)),
        (datetime.date(2025, 3, 1), None),
    ]


def test_overlapping_periods_are_refused_with_the_row_number(client, world):
    client.force_login(world["manager_a"])
    wang = world["wang"]
    content = edit_xlsx(
        export(client),
        {(wang.file_number, "现有救助对象期间"): "2024-01-01~2025-02-01；2025-01-01~"},
    )
    preview = upload(client, "recipients", content)
    errors = errors_of(preview)
    line = sheet_rows(content).index(
        next(r for r in sheet_rows(content) if r[0] == wang.file_number)
    )
    assert len(errors) == 1
    assert errors[0][0] == line + 1
    assert "重叠" in errors[0][1]
    assert not preview.context["can_confirm"]
    assert CurrentPeriod.objects.filter(recipient=wang).count() == 1


def test_a_bad_check_digit_is_refused_with_its_row_and_nothing_is_written(client, world):
    client.force_login(world["manager_a"])
    good = new_person(world, 姓名="周一", 身份证号=id_number(datetime.date(1970, 1, 1)))
    number = id_number(datetime.date(1971, 2, 2))
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    bad = new_person(world, 姓名="吴二", 身份证号=wrong)
    content = edit_xlsx(
        export(client),
        {(world["li"].file_number, "居住地址"): "新地址"},
        append=[good, bad],
    )
    preview = upload(client, "recipients", content)
    assert errors_of(preview) == [(6, "身份证号的校验位(最后一位)不正确,请核对后重新输入。")]
    assert "身份证号的校验位" in preview.content.decode()
    # Confirming anyway writes nothing.
    confirm(client, preview)
    assert not Recipient.objects.filter(name__in=["周一", "吴二"]).exists()
    assert Recipient.objects.get(pk=world["li"].pk).address == ""


def test_a_duplicate_id_number_is_refused_and_points_at_the_existing_person(client, world):
    client.force_login(world["manager_a"])
    in_scope = new_person(world, 姓名="王秀英二", 身份证号=world["wang_id"])
    elsewhere = new_person(world, 姓名="赵二", 身份证号=world["zhao_id"])
    twice = new_person(world, 姓名="孙二")
    content = edit_xlsx(export(client), {}, append=[in_scope, elsewhere, twice, dict(twice)])
    errors = errors_of(upload(client, "recipients", content))
    assert errors[0][0] == 5 and world["wang"].file_number in errors[0][1]
    assert errors[1][0] == 6 and "其他街镇" in errors[1][1]
    assert world["zhao"].file_number not in errors[1][1]
    assert errors[2][0] == 8 and "第 7 行" in errors[2][1]
    assert len(errors) == 3
    assert Recipient.objects.count() == 3


def test_a_changed_full_id_number_goes_through_the_duplicate_check(client, world):
    client.force_login(world["manager_a"])
    li = world["li"]
    content = edit_xlsx(export(client), {(li.file_number, "身份证号"): world["zhao_id"]})
    errors = errors_of(upload(client, "recipients", content))
    assert len(errors) == 1 and "其他街镇" in errors[0][1]
    new_number = id_number(datetime.date(1958, 1, 1), male=True)
    content = edit_xlsx(export(client), {(li.file_number, "身份证号"): new_number})
    preview = upload(client, "recipients", content)
    assert errors_of(preview) == []
    assert new_number not in preview.content.decode()
    confirm(client, preview)
    assert Recipient.objects.get(pk=li.pk).plain_id_number() == new_number


def test_another_streets_committee_and_person_are_refused(client, world):
    client.force_login(world["manager_a"])
    code_b = world["committees_b"][0].code
    content = edit_xlsx(
        export(client),
        {(world["li"].file_number, "居委代码"): code_b},
        append=[
            new_person(world, 居委代码=code_b),
            {**new_person(world), "档案号": world["zhao"].file_number},
        ],
    )
    errors = errors_of(upload(client, "recipients", content))
    assert [line for line, _message in errors] == [4, 5, 6]
    assert all("不存在,或不在您的管理范围内" in message for _line, message in errors)
    assert f"居委代码“{code_b}”" in errors[0][1]
    assert Recipient.objects.get(pk=world["li"].pk).committee == world["committees_a"][1]


def test_bureau_staff_import_into_any_street_of_their_district(client, world):
    client.force_login(world["bureau"])
    row = new_person(world, 居委代码=world["committees_b"][0].code, 现有救助对象期间="")
    preview = upload(client, "recipients", edit_xlsx(export(client), {}, append=[row]))
    assert errors_of(preview) == []
    confirm(client, preview)
    assert Recipient.objects.get(name="孙丽华").street == world["street_b"]


def test_a_person_leaves_the_register_by_import(client, world):
    client.force_login(world["manager_a"])
    wang = world["wang"]
    content = edit_xlsx(
        export(client),
        {
            (wang.file_number, "状态"): "已退出",
            (wang.file_number, "退出日期"): "2026-01-31",
            (wang.file_number, "退出原因"): "迁出本区",
        },
    )
    preview = upload(client, "recipients", content)
    assert errors_of(preview) == []
    confirm(client, preview)
    wang.refresh_from_db()
    assert (wang.status, wang.exited_on) == ("exited", datetime.date(2026, 1, 31))
    assert CurrentPeriod.objects.get(recipient=wang).ends_on == datetime.date(2026, 1, 31)
    # Coming back is not done by import.
    content = edit_xlsx(export(client), {(wang.file_number, "状态"): "在册"})
    errors = errors_of(upload(client, "recipients", content))
    assert len(errors) == 1 and "重新在册" in errors[0][1]


# Fixed query counts ------------------------------------------------------------------------


def grow(world, count, start):
    low = AssistanceCategory.objects.get(name="低保")
    for index in range(count):
        person = make_recipient(
            world["committees_a"][index % 2],
            name=f"居民{start + index}",
            phone="13700000000",
            advisor=world["adv_a"],
            id_number=id_number(datetime.date(1930, 1, 1) + datetime.timedelta(days=start + index)),
            current_from=datetime.date(2025, 1, 1),
        )
        person.categories.add(low)


def count_queries(client):
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as export_queries:
        content = export(client)
    response = client.post(
        reverse("cases:recipients_import"), {"file": SimpleUploadedFile("x.xlsx", content)}
    )
    connection.queries_log.clear()
    with CaptureQueriesContext(connection) as preview_queries:
        preview = client.get(response["Location"])
    assert preview.context["plan"].errors == []
    return len(export_queries), len(preview_queries), preview.context["plan"].rows


def test_export_and_preview_run_a_fixed_number_of_queries(client, world):
    client.force_login(world["manager_a"])
    grow(world, 8, 0)
    small = count_queries(client)
    grow(world, 290, 100)
    large = count_queries(client)
    assert (small[2], large[2]) == (10, 300)
    assert small[:2] == large[:2]


# The service behind a changed periods cell ---------------------------------------------------


def test_replace_periods_keeps_the_rules_of_the_periods(world):
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import Http404

    from cases import services

    wang, day = world["wang"], datetime.date
    with pytest.raises(PermissionDenied):
        services.replace_periods(actor=world["advisor_a"], recipient=wang, periods=[])
    with pytest.raises(Http404):
        services.replace_periods(actor=world["manager_b"], recipient=wang, periods=[])
    with pytest.raises(ValidationError):
        services.replace_periods(
            actor=world["manager_a"],
            recipient=wang,
            periods=[(day(2025, 1, 1), None), (day(2026, 1, 1), day(2026, 2, 1))],
        )
    kept = CurrentPeriod.objects.get(recipient=wang)
    periods = services.replace_periods(
        actor=world["manager_a"],
        recipient=wang,
        periods=[(day(2025, 1, 1), None), (day(2020, 1, 1), day(2020, 12, 31))],
    )
    assert [(p.starts_on, p.ends_on) for p in periods] == [
        (day(2020, 1, 1), day(2020, 12, 31)),
        (day(2025, 1, 1), None),
    ]
    assert CurrentPeriod.objects.filter(pk=kept.pk).exists()  # unchanged periods stay
    services.exit_register(
        actor=world["manager_a"], recipient=wang, exited_on=day(2026, 1, 31), reason="迁出"
    )
    with pytest.raises(ValidationError):
        services.replace_periods(actor=world["manager_a"], recipient=wang, periods=[])


def test_an_anonymised_person_comes_back_unchanged_and_cannot_be_changed(client, world):
    from cases import services

    old = make_recipient(
        world["committees_a"][0],
        name="钱旧",
        status="exited",
        exited_on=datetime.date(2015, 1, 1),
        exit_reason="去世",
    )
    assert services.anonymise_expired() == 1
    client.force_login(world["manager_a"])
    content = export(client)
    plan = upload(client, "recipients", content).context["plan"]
    assert (plan.rows, plan.errors, plan.has_changes) == (3, [], False)
    content = edit_xlsx(content, {(old.file_number, "居住地址"): "某路1号"})
    errors = errors_of(upload(client, "recipients", content))
    assert len(errors) == 1 and "匿名" in errors[0][1]


def test_the_empty_template_has_the_headers_and_comes_back_empty(client, world):
    import io

    import openpyxl

    client.force_login(world["manager_a"])
    response = client.get(reverse("cases:recipients_template"))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert [cell.value for cell in workbook.worksheets[0][1]] == HEADERS
    notes = [row[0] for row in workbook.worksheets[1].iter_rows(values_only=True)]
    assert world["committees_a"][0].code in notes and "低保" in notes
    assert world["committees_b"][0].code not in notes
    plan = upload(client, "recipients", response.content).context["plan"]
    assert (plan.rows, plan.errors, plan.has_changes) == (0, [], False)
