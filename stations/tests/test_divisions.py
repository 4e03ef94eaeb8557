"""The division import (`stations.divisions` and `manage.py import_divisions`)."""

import csv
import json
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Max
from django.test.utils import CaptureQueriesContext

from stations import divisions
from stations.choices import CommitteeKind, StationKind, StationStatus, StreetKind
from stations.models import Committee, District, Station, Street
from stations.tests.factories import make_committee, make_district, make_street

DATA = Path(settings.BASE_DIR) / "stations" / "data"
SHANGHAI = DATA / "shanghai_divisions.csv"
CHANGNING = DATA / "changning_divisions.csv"

HEADER = list(divisions.COLUMNS)

# A small district: two streets, three committees (lines 2 to 4 of the file).
SMALL = [
    ["310105", "长宁区", "310105001", "华阳路街道", "310105001001", "华一居委会"],
    ["310105", "长宁区", "310105001", "华阳路街道", "310105001002", "华二居委会"],
    ["310105", "长宁区", "310105102", "新泾镇", "310105102001", "刘家宅小区第一居委会"],
]


def write_csv(folder, rows, *, header=HEADER, name="divisions.csv", encoding="utf-8"):
    path = Path(folder) / name
    with path.open("w", encoding=encoding, newline="") as file:
        writer = csv.writer(file)
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path, *args):
    """Run the command; return its output."""
    out = StringIO()
    call_command("import_divisions", str(path), *args, stdout=out)
    return out.getvalue()


def run_failing(path):
    """Run the command on a bad file; return the error it reports."""
    with pytest.raises(CommandError) as excinfo:
        run(path)
    return str(excinfo.value)


def network_counts():
    return (
        District.objects.count(),
        Street.objects.count(),
        Committee.objects.count(),
        Station.objects.count(),
    )


def station_name(**lookup):
    return Station.objects.get(**lookup).name


def not_inserts(statements):
    return [sql for sql in statements if not sql.lstrip().upper().startswith("INSERT")]


def writes_in(queries):
    """The statements among `queries` that write."""
    verbs = ("INSERT", "UPDATE", "DELETE")
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(verbs)]


@pytest.mark.django_db
def test_shanghai_file_builds_the_city_network_and_a_second_run_changes_nothing():
    output = run(SHANGHAI)

    assert network_counts() == (16, 234, 6509, 16 + 234 + 6509)
    stations = dict(Station.objects.values_list("kind").annotate(n=Count("pk")))
    assert stations == {
        StationKind.GUIDANCE: 16,
        StationKind.STREET: 234,
        StationKind.COMMITTEE: 6509,
    }
    assert set(Station.objects.values_list("status", flat=True)) == {StationStatus.PLANNING}
    street_kinds = dict(Street.objects.values_list("kind").annotate(n=Count("pk")))
    assert street_kinds == {
        StreetKind.SUBDISTRICT: 107,
        StreetKind.TOWN: 106,
        StreetKind.TOWNSHIP: 2,
        StreetKind.OTHER: 19,
    }
    committee_kinds = dict(Committee.objects.values_list("kind").annotate(n=Count("pk")))
    assert committee_kinds == {
        CommitteeKind.RESIDENTS: 4941,
        CommitteeKind.VILLAGE: 1555,
        CommitteeKind.OTHER: 13,
    }
    # Every district, street and committee has exactly its station.
    assert not Street.objects.exclude(stations__kind=StationKind.STREET).exists()
    assert not Committee.objects.exclude(stations__kind=StationKind.COMMITTEE).exists()

    # N1 names, for each kind of unit.
    assert station_name(kind="street", street__code="310105102") == "长宁区新泾镇社区救助顾问服务站"
    assert (
        station_name(kind="street", street__code="310105001")
        == "长宁区华阳路街道社区救助顾问服务站"
    )
    assert station_name(kind="street", street__name="新村乡") == "崇明区新村乡社区救助顾问服务站"
    assert station_name(kind="street", street__code="310115402") == (
        "浦东新区东海农场社区救助顾问服务站"
    )
    assert Street.objects.get(code="310115402").kind == StreetKind.OTHER
    assert station_name(committee__code="310105001001") == "华阳路街道华一居委社区救助顾问服务点"
    assert station_name(committee__code="310151201201") == "新村乡新中村村委社区救助顾问服务点"
    assert station_name(committee__code="310115503498") == (
        "张江高科技园区虚拟社区社区救助顾问服务点"
    )
    assert Committee.objects.get(code="310115503498").kind == CommitteeKind.OTHER
    assert station_name(kind="guidance", district__code="310105") == "长宁区社区救助顾问区指导站"
    # Names written in bulk are the ones Station.save() would compute.
    for station in Station.objects.select_related("district", "street", "committee")[::397]:
        assert station.name == station.compute_standard_name()

    assert "居村委:新增 6509 个" in output
    assert "街镇:新增 234 个" in output
    assert "服务站点:新增 6759 个" in output

    before = network_counts()
    last_update = Station.objects.aggregate(last=Max("updated_at"))["last"]
    with CaptureQueriesContext(connection) as queries:
        output = run(SHANGHAI)
    assert "没有变化" in output
    assert writes_in(queries.captured_queries) == []
    assert network_counts() == before
    assert Station.objects.aggregate(last=Max("updated_at"))["last"] == last_update


@pytest.mark.django_db
def test_file_with_a_byte_order_mark_and_crlf_lines_imports(tmp_path):
    # The shipped Changning file has CRLF line ends; add a BOM as Excel writes it.
    path = tmp_path / "changning.csv"
    path.write_bytes(b"\xef\xbb\xbf" + CHANGNING.read_bytes())

    run(path)

    assert network_counts() == (1, 10, 189, 1 + 10 + 189)


@pytest.mark.django_db
def test_any_district_of_china_imports(tmp_path):
    path = write_csv(
        tmp_path,
        [
            ["110101", "东城区", "110101001", "东华门街道", "110101001001", "多福巷社区居委会"],
            ["653024", "阿合奇县", "653024203", "哈拉布拉克乡", "653024203200", "米尔凯奇村委会"],
        ],
    )

    run(path)

    assert (
        station_name(committee__code="110101001001") == "东华门街道多福巷社区居委社区救助顾问服务点"
    )
    assert station_name(kind="street", street__code="653024203") == (
        "阿合奇县哈拉布拉克乡社区救助顾问服务站"
    )
    assert Street.objects.get(code="653024203").kind == StreetKind.TOWNSHIP


@pytest.mark.django_db
def test_dry_run_reports_without_writing(tmp_path):
    output = run(write_csv(tmp_path, SMALL), "--dry-run")

    assert "居村委:新增 3 个" in output
    assert "未写入" in output
    assert network_counts() == (0, 0, 0, 0)


# All or nothing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_one_bad_row_changes_nothing_and_names_its_line(tmp_path):
    run(write_csv(tmp_path, SMALL))
    before = network_counts()
    renamed = [row[:] for row in SMALL]
    renamed[0][5] = "华一新村居委会"  # a rename that must not happen either
    renamed.append(["310105", "长宁区", "310105001", "华阳路街道", "310105001", "华四居委会"])

    error = run_failing(write_csv(tmp_path, renamed, name="bad.csv"))

    assert "第 5 行:居村委代码 310105001 应为12位数字" in error
    assert "第 2 行" not in error
    assert network_counts() == before
    assert Committee.objects.get(code="310105001001").name == "华一居委会"


@pytest.mark.django_db
def test_a_file_with_a_bad_row_creates_nothing(tmp_path):
    rows = SMALL + [["310105", "长宁区", "31010500X", "华阳路街道", "310105001004", "华四居委会"]]

    error = run_failing(write_csv(tmp_path, rows))

    assert "第 5 行:街镇代码 31010500X 应为9位数字" in error
    assert network_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_every_bad_row_is_listed(tmp_path):
    rows = [
        SMALL[0],
        ["31010", "长宁区", "310105001", "华阳路街道", "310105001002", "华二居委会"],
        SMALL[2],
        ["310105", "长宁区", "310105001", "", "310105001003", "华三居委会"],
        ["310105", "长宁区", "310105001", "华阳路街道", "310105001004", ""],
        ["310105", "长宁区", "310105001", "华阳路街道", "3101050010O5", "华五居委会"],
    ]

    error = run_failing(write_csv(tmp_path, rows))

    assert "第 3 行:区代码 31010 应为6位数字" in error
    assert "第 5 行:缺少街镇名称" in error
    assert "第 6 行:缺少居村委名称" in error
    assert "第 7 行:居村委代码 3101050010O5 应为12位数字" in error
    assert "第 2 行" not in error
    assert "第 4 行" not in error
    assert "4 处错误" in error
    assert network_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        pytest.param(
            SMALL + [["310105", "长宁区", "310105001", "华阳路街道", "310105001002", "华贰居委会"]],
            ["第 5 行:居村委代码 310105001002 在第 3 行名为“华二居委会”,此处为“华贰居委会”"],
            id="committee code with another name",
        ),
        pytest.param(
            SMALL + [["310105", "长宁区", "310105001", "华阳街道", "310105001003", "华三居委会"]],
            ["第 5 行:街镇代码 310105001 在第 2 行名为“华阳路街道”,此处为“华阳街道”"],
            id="street code with another name",
        ),
        pytest.param(
            SMALL + [["310105", "长宁", "310105001", "华阳路街道", "310105001003", "华三居委会"]],
            ["第 5 行:区代码 310105 在第 2 行名为“长宁区”,此处为“长宁”"],
            id="district code with another name",
        ),
        pytest.param(
            SMALL
            + [["310105", "长宁区", "310105001", "华阳路街道", "310105002001", "曹家堰居委会"]],
            ["第 5 行:居村委代码 310105002001 应以街镇代码 310105001 开头"],
            id="committee not under its street",
        ),
        pytest.param(
            SMALL + [["310105", "长宁区", "310104001", "华阳路街道", "310104001001", "华一居委会"]],
            ["第 5 行:街镇代码 310104001 应以区代码 310105 开头"],
            id="street not under its district",
        ),
        pytest.param(
            SMALL + [["", "长宁区", "310105001", "华阳路街道", "310105001004", "华四居委会"]],
            ["第 5 行:缺少区代码"],
            id="missing code",
        ),
        pytest.param(
            SMALL + [["310105", "长宁区", "310105001", "华阳路街道", "310105001004"]],
            ["第 5 行:缺少居村委名称"],
            id="short row",
        ),
        pytest.param(
            SMALL + [["310105", "长宁区", "310105001", "华阳路街道", "310105001004", "华四", "x"]],
            ["第 5 行:列数多于表头的 6 列"],
            id="extra column",
        ),
        pytest.param(
            SMALL + [["310105", "长宁区", "310105001", "华阳路街道", "310105001004", "华" * 81]],
            ["第 5 行:居村委名称“" + "华" * 81 + "”过长(最多 80 个字)"],
            id="name too long",
        ),
    ],
)
def test_bad_rows_are_refused(tmp_path, rows, expected):
    error = run_failing(write_csv(tmp_path, rows))

    for message in expected:
        assert message in error
    assert network_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    [
        ["district_code", "district_name", "street_code", "street_name", "committee_code"],
        ["区代码", "区名称", "街镇代码", "街镇名称", "居委代码", "居委名称"],
        None,
    ],
    ids=["missing column", "other names", "no header"],
)
def test_a_wrong_header_is_refused(tmp_path, header):
    error = run_failing(write_csv(tmp_path, SMALL, header=header))

    assert "第 1 行:表头应为 district_code,district_name,street_code,street_name" in error
    assert network_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_columns_may_come_in_another_order(tmp_path):
    order = [5, 4, 3, 2, 1, 0]
    path = write_csv(
        tmp_path, [[row[i] for i in order] for row in SMALL], header=[HEADER[i] for i in order]
    )

    run(path)

    assert network_counts() == (1, 2, 3, 6)


@pytest.mark.django_db
def test_empty_file_and_header_only_are_refused(tmp_path):
    assert "第 1 行:缺少表头" in run_failing(write_csv(tmp_path, [], header=None))
    assert "没有区划数据" in run_failing(write_csv(tmp_path, [], name="header_only.csv"))


@pytest.mark.django_db
def test_a_gbk_file_is_refused_with_its_line(tmp_path):
    path = write_csv(tmp_path, SMALL, encoding="gbk")

    error = run_failing(path)

    assert "第 2 行:文件不是 UTF-8 编码" in error
    assert network_counts() == (0, 0, 0, 0)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        run(tmp_path / "nowhere.csv")


# Renames and units the file no longer lists ---------------------------------------------


@pytest.mark.django_db
def test_a_renamed_committee_renames_its_point_and_keeps_its_status(tmp_path):
    run(write_csv(tmp_path, SMALL))
    point = Station.objects.get(committee__code="310105001001")
    point.status = StationStatus.RUNNING
    point.save()
    untouched = Station.objects.get(committee__code="310105001002")
    rows = [row[:] for row in SMALL]
    rows[0][5] = "华一新村村委会"

    output = run(write_csv(tmp_path, rows, name="renamed.csv"))

    committee = Committee.objects.get(code="310105001001")
    assert committee.name == "华一新村村委会"
    assert committee.kind == CommitteeKind.VILLAGE
    point.refresh_from_db()
    assert point.name == "华阳路街道华一新村村委社区救助顾问服务点"
    assert point.status == StationStatus.RUNNING
    assert point.committee_id == committee.pk
    assert Station.objects.get(pk=untouched.pk).updated_at == untouched.updated_at
    assert "居村委:新增 0 个,更名或变更 1 个" in output
    assert "标准名称更新 1 个" in output
    assert "居村委 310105001001:“华一居委会”更名为“华一新村村委会”" in output
    assert network_counts() == (1, 2, 3, 6)


@pytest.mark.django_db
def test_a_renamed_street_renames_every_station_named_after_it(tmp_path):
    run(write_csv(tmp_path, SMALL))
    street = Street.objects.get(code="310105001")
    Station.objects.create(
        kind=StationKind.PROFESSIONAL,
        district=street.district,
        street=street,
        organisation_name="阳光社工",
        status=StationStatus.SUSPENDED,
    )
    rows = [row[:] for row in SMALL]
    rows[0][3] = rows[1][3] = "华阳镇"

    output = run(write_csv(tmp_path, rows, name="renamed.csv"))

    street.refresh_from_db()
    assert (street.name, street.kind) == ("华阳镇", StreetKind.TOWN)
    names = set(Station.objects.filter(street=street).values_list("name", "status"))
    assert names == {
        ("长宁区华阳镇社区救助顾问服务站", StationStatus.PLANNING),
        ("华阳镇华一居委社区救助顾问服务点", StationStatus.PLANNING),
        ("华阳镇华二居委社区救助顾问服务点", StationStatus.PLANNING),
        ("华阳镇阳光社工社区救助顾问专业服务点", StationStatus.SUSPENDED),
    }
    assert "标准名称更新 4 个" in output
    assert "类型由街道改为镇" in output
    # And the same file again is no change.
    assert "没有变化" in run(write_csv(tmp_path, rows, name="renamed.csv"))


@pytest.mark.django_db
def test_a_renamed_district_renames_its_guidance_and_street_stations(tmp_path):
    run(write_csv(tmp_path, SMALL))
    rows = [["310105", "长宁新区", *row[2:]] for row in SMALL]

    run(write_csv(tmp_path, rows, name="renamed.csv"))

    assert District.objects.get(code="310105").name == "长宁新区"
    assert station_name(kind="guidance") == "长宁新区社区救助顾问区指导站"
    assert (
        station_name(kind="street", street__code="310105102") == "长宁新区新泾镇社区救助顾问服务站"
    )
    # Committee points are named after their street only.
    assert station_name(committee__code="310105102001") == (
        "新泾镇刘家宅小区第一居委社区救助顾问服务点"
    )


@pytest.mark.django_db
def test_units_the_file_no_longer_lists_are_reported_not_deleted(tmp_path):
    run(write_csv(tmp_path, SMALL))
    other_district = [["310104", "徐汇区", "310104003", "天平路街道", "310104003001", "东风居委会"]]
    run(write_csv(tmp_path, other_district, name="xuhui.csv"))

    output = run(write_csv(tmp_path, SMALL[:2], name="shorter.csv"))

    assert "街镇:新增 0 个,更名或变更 0 个,文件中已不再列出 1 个" in output
    assert "居村委:新增 0 个,更名或变更 0 个,文件中已不再列出 1 个" in output
    assert "街镇 310105102 新泾镇" in output
    assert "居村委 310105102001 刘家宅小区第一居委会" in output
    # Units of districts the file does not cover are not "no longer listed".
    assert "天平路街道" not in output
    assert Street.objects.filter(code="310105102").exists()
    assert Station.objects.filter(committee__code="310105102001").exists()
    assert network_counts() == (2, 3, 4, 9)


@pytest.mark.django_db
def test_a_missing_station_is_created_again_and_nothing_else(tmp_path):
    run(write_csv(tmp_path, SMALL))
    Station.objects.filter(committee__code="310105001002").delete()

    output = run(write_csv(tmp_path, SMALL))

    assert "服务站点:新增 1 个" in output
    assert station_name(committee__code="310105001002") == "华阳路街道华二居委社区救助顾问服务点"
    assert network_counts() == (1, 2, 3, 6)


@pytest.mark.django_db
def test_a_unit_filed_under_the_wrong_parent_moves_where_its_code_says(tmp_path):
    # Left over from hand-made data: 310105102 was filed under 徐汇区.
    xuhui = make_district("310104", "徐汇区")
    street = make_street(xuhui, "新泾镇", "310105102", status=StationStatus.RUNNING)
    make_committee(street, "刘家宅小区第一居委会", "310105102001")

    output = run(write_csv(tmp_path, SMALL))

    street.refresh_from_db()
    assert street.district.code == "310105"
    assert "上级代码由 310104 改为 310105" in output
    station = Station.objects.get(kind="street", street=street)
    assert (station.district.code, station.name, station.status) == (
        "310105",
        "长宁区新泾镇社区救助顾问服务站",
        StationStatus.RUNNING,
    )
    assert Station.objects.get(committee__code="310105102001").district.code == "310105"
    assert "没有变化" in run(write_csv(tmp_path, SMALL))


# Formats and scale ----------------------------------------------------------------------


@pytest.mark.django_db
def test_an_xlsx_file_with_the_same_header_imports(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in SMALL:
        # Excel users often leave codes as numbers.
        sheet.append([int(row[0]), row[1], int(row[2]), row[3], int(row[4]), row[5]])
    path = tmp_path / "divisions.xlsx"
    workbook.save(path)

    run(path)

    assert network_counts() == (1, 2, 3, 6)
    assert station_name(committee__code="310105001001") == "华阳路街道华一居委社区救助顾问服务点"


@pytest.mark.django_db
def test_an_xlsx_file_reports_bad_rows_by_their_sheet_row(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append(SMALL[0])
    sheet.append([])
    sheet.append(["310105", "长宁区", "310105001", "华阳路街道", "31010500100", "华四居委会"])
    path = tmp_path / "divisions.xlsx"
    workbook.save(path)

    error = run_failing(path)

    assert "第 4 行:居村委代码 31010500100 应为12位数字" in error
    assert network_counts() == (0, 0, 0, 0)


@pytest.mark.django_db
def test_a_broken_xlsx_file_is_refused(tmp_path):
    path = tmp_path / "divisions.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")

    assert "无法读取 Excel 文件" in run_failing(path)


@pytest.mark.django_db
def test_queries_do_not_grow_with_the_file(tmp_path):
    small = write_csv(tmp_path, SMALL[:1], name="small.csv")
    rows = [
        [
            "310105",
            "长宁区",
            f"310105{street:03d}",
            f"第{street}街道",
            f"310105{street:03d}{n:03d}",
            f"第{n}居委会",
        ]
        for street in range(1, 6)
        for n in range(1, 11)
    ]
    large = write_csv(tmp_path, rows, name="large.csv")

    with CaptureQueriesContext(connection) as small_queries:
        run(small)
    Station.objects.all().delete()
    Committee.objects.all().delete()
    Street.objects.all().delete()
    District.objects.all().delete()
    with CaptureQueriesContext(connection) as large_queries:
        run(large)

    assert network_counts() == (1, 5, 50, 56)
    # The same reads whatever the size; rows are inserted in batches, not one by one.
    small_sql = [q["sql"] for q in small_queries.captured_queries]
    large_sql = [q["sql"] for q in large_queries.captured_queries]
    assert len(not_inserts(large_sql)) == len(not_inserts(small_sql))
    assert len(large_sql) - len(not_inserts(large_sql)) < 10  # for 112 new rows


# The service, as the browser uses it ---------------------------------------------------


@pytest.mark.django_db
def test_parse_plan_apply_from_bytes(tmp_path):
    content = write_csv(tmp_path, SMALL).read_bytes()

    parsed = divisions.parse(content, "upload.csv")
    assert parsed.errors == []
    assert [row.line for row in parsed.rows] == [2, 3, 4]
    plan = divisions.plan(parsed.rows)
    summary = plan.summary()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["counts"]["committee"] == {"created": 3, "updated": 0, "missing": 0}
    assert summary["counts"]["stations"]["created_by_kind"] == {
        "guidance": 1,
        "street": 2,
        "committee": 3,
    }
    assert network_counts() == (0, 0, 0, 0)

    assert divisions.apply(plan) == summary
    assert network_counts() == (1, 2, 3, 6)
    assert divisions.plan(parsed.rows).has_changes is False


@pytest.mark.django_db
def test_preview_of_a_bad_file_carries_its_errors():
    summary = divisions.preview_file(b"district_code,district_name\n", "bad.csv")

    assert summary["errors"][0]["line"] == 1
    assert summary["has_changes"] is False
