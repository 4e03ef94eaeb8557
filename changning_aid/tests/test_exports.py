"""The one export path: scoped rows, a stated purpose, masked values, no live formulas."""

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from audit.models import AccessRecord
from changning_aid.exports import (
    FORMULA_TRIGGERS,
    Column,
    ExportSpec,
    read_export,
    row_changes,
    row_key,
)
from changning_aid.tests.test_scope_leaks import (
    build_world,
    fill_parameters,
    foreign_objects,
    foreign_words,
    is_public,
    iter_patterns,
    url_from_route,
)
from stations.models import Station, Street
from stations.tests.factories import make_committee, make_user
from tests.sensitive_app.exports import PERSON_EXPORT
from tests.sensitive_app.factories import make_id_number, make_person
from tests.sensitive_app.models import Person

STATION_EXPORT_URL = reverse("stations:station_export")
PERSON_EXPORT_URL = reverse("sensitive_app:person_export")


def csv_table(response):
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())  # Excel reads the Chinese right
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


def xlsx_cells(response):
    """Every cell of the workbook, as written (formulas would show as formulas)."""
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [[cell for cell in row] for row in workbook.worksheets[0].iter_rows()]


def xlsx_table(response):
    return [
        ["" if cell.value is None else str(cell.value) for cell in row]
        for row in xlsx_cells(response)
    ]


def export(client, url=STATION_EXPORT_URL, *, file_format="csv", purpose="站点资料核对", **params):
    return client.get(url, {"format": file_format, "purpose": purpose, **params})


def test_the_export_page_asks_the_purpose_and_counts_the_rows_in_scope(client, two_streets):
    client.force_login(two_streets.manager_a)

    page = client.get(STATION_EXPORT_URL)

    assert page.status_code == 200
    assert "导出用途" in page.text
    assert "将导出您权限范围内的 3 条记录" in page.text  # the street station and two points
    assert not AccessRecord.objects.exists()


def test_an_export_without_a_purpose_is_not_made(client, two_streets):
    client.force_login(two_streets.manager_a)

    page = export(client, purpose="  \t ")

    assert page.status_code == 200
    assert "Content-Disposition" not in page
    assert "请填写导出用途" in page.text or "必填" in page.text
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_street_manager_exports_the_stations_of_their_street(client, two_streets, file_format):
    client.force_login(two_streets.manager_a)
    Station.objects.filter(street=two_streets.street_a).update(phone="021-62345678")

    response = export(client, file_format=file_format, purpose="2026年第三季度 站点核对")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    table = csv_table(response) if file_format == "csv" else xlsx_table(response)
    banner, header, *rows = table
    assert banner[0].startswith("导出人:manager_a(manager_a) 导出时间:")
    assert "(北京时间) 用途:2026年第三季度 站点核对" in banner[0]
    assert header[:3] == ["站点代码", "标准名称", "站点类型"]
    assert "联系电话" in header
    codes = sorted(row[0] for row in rows)
    assert codes == ["310105001", "310105001001", "310105001002"]
    body = "\n".join(",".join(row) for row in table)
    assert "江苏路" not in body and "曹家堰" not in body
    phone_column = header.index("联系电话")
    assert {row[phone_column] for row in rows} == {"021-62345678"}  # station phones are public

    record = AccessRecord.objects.get()
    assert record.action == "export"
    assert record.user == two_streets.manager_a
    assert "2026年第三季度 站点核对" in record.detail


def test_a_filter_naming_another_street_exports_nothing_of_it(client, two_streets):
    client.force_login(two_streets.manager_a)

    response = export(client, street=two_streets.street_b.code)

    banner, header, *rows = csv_table(response)
    assert rows == []
    assert "江苏路" not in response.content.decode("utf-8-sig")


@pytest.mark.parametrize("code", ["\x00", "31010500\x001"])
def test_a_street_filter_with_nul_is_refused_before_export(client, two_streets, code):
    client.force_login(two_streets.bureau)

    response = export(client, street=code)

    assert response.status_code == 400
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize("code", ["' OR 1=1 --", "9" * 40, "310105"])
def test_a_malformed_street_filter_exports_nothing(client, two_streets, code):
    client.force_login(two_streets.bureau)

    response = export(client, street=code)

    _banner, _header, *rows = csv_table(response)
    assert rows == []


def test_bureau_staff_export_one_street_and_the_record_names_it(client, two_streets):
    client.force_login(two_streets.bureau)

    response = export(client, street=two_streets.street_b.code)

    _banner, _header, *rows = csv_table(response)
    assert sorted(row[0] for row in rows) == ["310105002", "310105002001"]
    assert AccessRecord.objects.get().street == two_streets.street_b


def test_the_audit_administrator_has_no_station_export(client, db):
    client.force_login(make_user("auditor_e", "audit_admin"))

    assert client.get(STATION_EXPORT_URL).status_code == 404
    assert export(client).status_code == 404
    assert not AccessRecord.objects.exists()


def test_an_export_runs_a_fixed_number_of_queries(client, two_streets, django_assert_num_queries):
    client.force_login(two_streets.bureau)
    # A session, a user, a transaction with the rows and the access record, the session saved.

    with django_assert_num_queries(11):
        small = export(client)
    for number in range(3, 40):
        make_committee(two_streets.street_a, f"加{number}居委会", f"310105001{number:03d}")
    with django_assert_num_queries(11):
        large = export(client)

    assert len(csv_table(large)) == len(csv_table(small)) + 37


# Sensitive columns ------------------------------------------------------------------------


@pytest.fixture
def persons(two_streets):
    two_streets.number_a = make_id_number()
    two_streets.person_a = make_person(
        two_streets.street_a, name="张三", id_number=two_streets.number_a, phone="13812345678"
    )
    two_streets.person_b = make_person(two_streets.street_b, name="李四")
    return two_streets


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_id_numbers_and_phones_are_masked_in_exports(client, persons, file_format):
    client.force_login(persons.bureau)

    response = export(client, PERSON_EXPORT_URL, file_format=file_format)

    table = csv_table(response) if file_format == "csv" else xlsx_table(response)
    header = table[1]
    row = next(row for row in table[2:] if row[header.index("姓名")] == "张三")
    assert (
        row[header.index("身份证号")] == persons.number_a[:6] + "********" + persons.number_a[-4:]
    )
    assert row[header.index("联系电话")] == "138****5678"
    assert persons.number_a not in "".join("".join(row) for row in table)


def test_a_full_id_export_is_a_separate_action_of_bureau_staff(client, persons):
    client.force_login(persons.bureau)
    page = client.get(PERSON_EXPORT_URL)
    assert "导出完整身份证号" in page.text

    response = export(client, PERSON_EXPORT_URL, full="1")

    table = csv_table(response)
    assert "含完整身份证号" in table[0][0]
    header = table[1]
    assert persons.number_a in [row[header.index("身份证号")] for row in table[2:]]
    assert table[2][header.index("联系电话")].count("*") == 4  # phones stay masked
    record = AccessRecord.objects.get()
    assert record.action == "export_full_id"


@pytest.mark.parametrize("who", ["manager_a", "advisor_a", "sysadmin"])
def test_nobody_else_gets_a_full_id_export(client, persons, who):
    client.force_login(getattr(persons, who))

    assert "导出完整身份证号" not in client.get(PERSON_EXPORT_URL).text
    response = export(client, PERSON_EXPORT_URL, full="1")

    assert response.status_code == 404
    assert persons.number_a not in response.content.decode()
    assert not AccessRecord.objects.exists()


def test_the_station_export_has_no_full_id_action(client, two_streets):
    client.force_login(two_streets.bureau)

    assert export(client, full="1").status_code == 404


HOSTILE = [
    "=1+1",
    "+SUM(A1:A2)",
    "-2+3",
    "@cmd",
    "\t=evil",
    "\r=evil",
    "\x01=hidden",
    '=HYPERLINK("x")',
]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_no_cell_is_a_live_formula(client, two_streets, file_format):
    for index, text in enumerate(HOSTILE):
        make_person(two_streets.street_a, name=f"甲{index}", note=text, file_number=f"=F{index}")
    client.force_login(two_streets.bureau)

    response = export(
        client, PERSON_EXPORT_URL, file_format=file_format, purpose="=cmd|' /C calc'!A0"
    )

    if file_format == "xlsx":
        cells = [cell for row in xlsx_cells(response) for cell in row]
        assert all(cell.data_type != "f" for cell in cells)
        texts = [str(cell.value) for cell in cells if cell.value is not None]
    else:
        texts = [cell for row in csv_table(response) for cell in row]
    assert not [text for text in texts if text.startswith(FORMULA_TRIGGERS)]
    assert "'=1+1" in texts and "'-2+3" in texts and "'\t=evil" in texts and "'=hidden" in texts
    assert "'=F0" in texts  # the key column too


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_an_export_comes_back_unchanged_and_edits_are_seen(client, persons, file_format):
    make_person(persons.street_a, name="=危险", note="-1")
    client.force_login(persons.bureau)
    content = export(client, PERSON_EXPORT_URL, file_format=file_format).content

    rows = read_export(content, file_format)

    stored = {person.file_number: person for person in Person.objects.visible_to(persons.bureau)}
    assert sorted(row_key(row, PERSON_EXPORT) for row in rows) == sorted(stored)
    assert all(
        row_changes(stored[row_key(row, PERSON_EXPORT)], row, PERSON_EXPORT) == {} for row in rows
    )

    row = next(row for row in rows if row["姓名"] == "张三")
    person = stored[row["档案号"]]
    row["联系电话"] = "13900001111"
    row["身份证号"] = "310105********0000"
    changes = row_changes(person, row, PERSON_EXPORT)
    assert changes == {
        "联系电话": ("138****5678", "13900001111"),
        "身份证号": (
            persons.number_a[:6] + "********" + persons.number_a[-4:],
            "310105********0000",
        ),
    }


def test_the_key_of_an_export_cannot_be_sensitive():
    with pytest.raises(ImproperlyConfigured):
        ExportSpec(model=Person, name="x", key=Column("身份证号", "id_number"), columns=[])


# Every export of the project, asked for another street ------------------------------------


def export_patterns():
    return [
        (route, name, callback)
        for route, name, callback in iter_patterns()
        if getattr(callback, "export_view", False) and not is_public(name, callback)
    ]


def test_the_exports_are_found_by_enumeration():
    names = {name for _route, name, _callback in export_patterns()}
    assert {"stations:station_export", "sensitive_app:person_export"} <= names


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["bureau", "manager_a", "advisor_a", "manager_b", "sysadmin"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_no_export_holds_anything_of_another_area(client, who, file_format):
    world = build_world()
    for street in Street.objects.all():
        make_person(street, name=f"{street.name}居民")
    user = world[who]
    client.force_login(user)
    hidden_persons = Person.objects.exclude(pk__in=Person.objects.visible_to(user).values("pk"))
    words = foreign_words(user) | set(hidden_persons.values_list("name", flat=True))
    foreign = foreign_objects(user)
    other_street = Street.objects.exclude(
        pk__in=Street.objects.visible_to(user).values("pk")
    ).first()
    queries = [{}]
    if other_street is not None:
        queries.append({"street": other_street.code, "district": other_street.district.code})
    exported = 0
    for route, name, _callback in export_patterns():
        values = fill_parameters(route, name, foreign)
        if values is not None and None in values.values():
            continue
        url = url_from_route(route, values)
        for query in queries:
            response = export(client, url, file_format=file_format, **query)
            if values is not None:
                assert response.status_code == 404, (who, name)
                continue
            assert response.status_code in (200, 404), (who, name, response.status_code)
            if response.status_code == 404:
                continue
            table = csv_table(response) if file_format == "csv" else xlsx_table(response)
            body = "\n".join("\t".join(row) for row in table)
            leaked = sorted(word for word in words if word in body)
            assert leaked == [], f"{who} exported {leaked} from {name} with {query}"
            exported += 1
    assert exported >= 2
