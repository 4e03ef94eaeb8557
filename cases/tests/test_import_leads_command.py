"""`manage.py import_leads`: a department's list processed from the command line, as the
bureau's pages process it, with the report printed in Chinese."""

import datetime
import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.choices import Role
from audit.choices import AccessAction
from audit.models import AccessRecord
from cases.choices import LeadRowOutcome
from cases.lead_models import Lead, LeadSource, LeadUpload
from cases.tests.factories import id_number, make_recipient
from cases.tests.lead_factories import csv_bytes, make_source, xlsx_bytes
from changning_aid.sensitive.idnumbers import find_full_id_numbers
from stations.tests.factories import make_district, make_two_streets, make_user

pytestmark = pytest.mark.django_db

SOURCE = "区残联·残疾人证"
DAY = datetime.date(2026, 1, 5)


@pytest.fixture
def w():
    return make_two_streets()


def broken(number):
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def run(*args, **options):
    out = io.StringIO()
    call_command("import_leads", *args, stdout=out, **options)
    return out.getvalue()


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def test_a_list_in_the_default_template(w, tmp_path):
    good = id_number()
    bad = broken(id_number())
    rows = [
        ["王新", good, "310105001001", "华阳路1号", "二级肢体残疾"],
        ["坏号", bad, "310105001001", "", ""],
        ["无址", id_number(), "", "天山路999号", "一级"],
        ["外区", id_number(), "310104001001", "", ""],
    ]
    path = write(tmp_path, "残联名单.csv", csv_bytes(rows))
    output = run(path, source=SOURCE, date=DAY.isoformat())

    upload = LeadUpload.objects.get()
    assert upload.state == LeadUpload.State.PROCESSED and upload.content is None
    assert upload.uploaded_by is None and upload.received_on == DAY
    assert upload.file_name == "残联名单.csv"
    assert (upload.rows_total, upload.rows_new, upload.rows_invalid, upload.rows_unplaceable) == (
        4,
        1,
        1,
        2,
    )
    # The source is created and remembers the default template's mapping.
    source = LeadSource.objects.get()
    assert source.name == SOURCE and source.district == w["district"]
    assert source.mapping["id_number"] == "身份证号" and source.fact_columns == ["情况说明"]
    assert Lead.objects.count() == 3
    # The report as the page shows it: the counts, then the invalid and unplaceable rows.
    assert f"名单 {upload.number} 已处理:来源 {SOURCE},名单日期 2026-01-05" in output
    assert "行数:4" in output
    assert "新线索:1" in output and "无效:1" in output and "无法定位待分派:2" in output
    assert "已在册并记入档案:0" in output and "重复:0" in output
    assert "无效的行(1):" in output
    assert "第 3 行 " in output and "身份证号的校验位(最后一位)不正确" in output
    assert "第 4 行 XS310105" in output and "地址与在册人员地址均不一致" in output
    assert "第 5 行 XS310105" in output and "居委代码 310104001001 不是本区的居委" in output
    assert not find_full_id_numbers(output) and bad not in output
    # The run is in the audit trail, as the page's import is.
    record = AccessRecord.objects.get(action=AccessAction.IMPORT)
    assert record.user is None and record.object_id == str(upload.pk)
    assert record.district == w["district"] and "命令行导入" in record.detail

    # The same list again adds nothing.
    again = run(path, source=SOURCE, date=DAY.isoformat())
    assert "重复:3" in again and "新线索:0" in again
    assert Lead.objects.count() == 3 and LeadSource.objects.count() == 1


def test_a_list_read_through_the_sources_remembered_mapping(w, tmp_path):
    person = make_recipient(w["committees_a"][0])
    make_source(
        w["district"],
        SOURCE,
        mapping={"name": "姓名", "id_number": "证件号码", "committee_code": "所属居委编码"},
        fact_columns=["残疾等级"],
    )
    headers = ["证件号码", "姓名", "所属居委编码", "残疾等级"]
    rows = [
        [person.plain_id_number(), person.name, "", "二级"],
        [id_number(), "张二", "310105002001", "三级"],
    ]
    path = write(tmp_path, "名单.xlsx", xlsx_bytes(rows, headers))
    output = run(path, source=SOURCE)
    upload = LeadUpload.objects.get()
    assert upload.received_on == timezone.localdate()
    assert "已在册并记入档案:1" in output and "新线索:1" in output
    assert [row[1] for row in upload.report] == [LeadRowOutcome.MATCHED, LeadRowOutcome.NEW_LEAD]
    assert person.source_facts.get().facts == {"残疾等级": "二级"}
    assert Lead.objects.get().committee == w["committees_b"][0]
    assert "无效的行" not in output and "待区民政局分派的行" not in output


def test_a_gb18030_csv_is_read(w, tmp_path):
    rows = [["王新", id_number(), "310105001001", "华阳路1号", "二级肢体残疾"]]
    path = write(tmp_path, "名单.csv", csv_bytes(rows, encoding="gb18030"))
    assert "新线索:1" in run(path, source=SOURCE)
    assert Lead.objects.get().name == "王新"


def test_the_district_is_found_or_named(w, tmp_path):
    path = write(tmp_path, "名单.csv", csv_bytes([["王新", id_number(), "", "", ""]]))
    with pytest.raises(CommandError, match="没有代码为 999999 的区"):
        run(path, source=SOURCE, district="999999")
    xuhui = make_district(code="310104", name="徐汇区")
    make_user("bureau_xh", Role.BUREAU, district=xuhui)
    with pytest.raises(CommandError, match="系统中有多个区,请用 --district 指定区代码"):
        run(path, source=SOURCE)
    assert not LeadUpload.objects.exists() and not LeadSource.objects.exists()
    run(path, source=SOURCE, district="310104")
    assert LeadSource.objects.get().district == xuhui
    assert LeadUpload.objects.get().district == xuhui


def test_bad_files_and_missing_columns_stop_the_command_and_store_nothing(w, tmp_path):
    cases = [
        ("名单.txt", b"a,b\n1,2\n", "只能导入 .xlsx 或 .csv 文件"),
        ("名单.xlsx", b"not a workbook", "不是有效的 Excel (.xlsx) 工作簿"),
        ("名单.csv", b"\n", "名单是空的:找不到表头。"),
        ("名单.csv", csv_bytes([]), "名单中没有数据行。"),
        (
            "名单.csv",
            csv_bytes([["王新", "2"]], ["姓名", "证件号"]),
            "请指定“身份证号”对应的列。",
        ),
    ]
    for name, content, message in cases:
        path = write(tmp_path, name, content)
        with pytest.raises(CommandError, match=re.escape(message)):
            run(path, source=SOURCE)
    with pytest.raises(CommandError, match="无法读取文件"):
        run(str(tmp_path / "没有这个文件.csv"), source=SOURCE)
    with pytest.raises(CommandError, match="名单日期不能晚于今天"):
        run(path, source=SOURCE, date="2999-01-01")
    with pytest.raises(CommandError, match="名单日期“2026/1/5”无效"):
        run(path, source=SOURCE, date="2026/1/5")
    assert not LeadUpload.objects.exists() and not LeadSource.objects.exists()

    # A source whose remembered columns the list no longer has.
    make_source(
        w["district"], SOURCE, mapping={"name": "姓名", "id_number": "证件号码"}, fact_columns=[]
    )
    path = write(tmp_path, "名单.csv", csv_bytes([["王新", id_number(), "", "", ""]]))
    with pytest.raises(CommandError, match="名单中找不到列“证件号码”"):
        run(path, source=SOURCE)
    assert not LeadUpload.objects.exists() and not Lead.objects.exists()
