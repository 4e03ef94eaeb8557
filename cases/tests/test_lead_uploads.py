"""The bureau's pages for other departments' lists (政策找人 线索名单), through the browser's
requests: receiving a list, mapping its columns once per source, the report and its
download, the sources, who may use the pages, and the fixed number of queries."""

import datetime
import io
import re
from collections import Counter

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from advisors.tests.factories import make_advisor
from audit.choices import AccessAction
from audit.models import AccessRecord
from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload
from cases.tests.factories import id_number, make_recipient
from cases.tests.lead_factories import (
    DEFAULT_HEADERS,
    csv_bytes,
    make_source,
    upload_list,
    xlsx_bytes,
)
from cases.views.lead_uploads import masked_cell
from changning_aid.sensitive.idnumbers import find_full_id_numbers
from changning_aid.sensitive.masking import mask_id_number
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    make_two_streets,
    make_user,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = TODAY - datetime.timedelta(days=3)
CODE_A1, CODE_A2, CODE_B1 = "310105001001", "310105001002", "310105002001"
OTHER_HEADERS = ["证件号码", "姓名", "所属居委编码", "残疾等级"]
MASKED = re.compile(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]")


@pytest.fixture
def w():
    world = make_two_streets()
    world["advisor_a1"] = make_advisor(
        world["street_a"], [committee_point(world["committees_a"][0])], user=world["advisor_a"]
    )
    return world


@pytest.fixture
def xuhui():
    """A second district (徐汇区) with a street, a committee and its bureau staff."""
    district = make_district(code="310104", name="徐汇区")
    street = make_street(district, "徐家汇街道", "310104001")
    make_committee(street, "汇站居委会", "310104001001")
    bureau = make_user("bureau_xh", Role.BUREAU, district=district)
    return {"district": district, "street": street, "bureau": bureau}


def broken(number):
    """The number with a wrong check character."""
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def text(response):
    return response.content.decode()


def post_list(client, content, name="名单.csv", *, source=None, new_source="", day=DAY):
    data = {
        "source": source.pk if source else "",
        "new_source": new_source,
        "received_on": day.isoformat(),
        "file": SimpleUploadedFile(name, content),
    }
    return client.post(reverse("cases:lead_upload"), data)


def mapping_of(response):
    """The mapping form as the page fills it in: what one click on 确认并处理 sends."""
    form = response.context["form"]
    data = {name: value for name, value in form.initial.items() if name != "fact_columns"}
    data["fact_columns"] = form.initial.get("fact_columns", [])
    data["process"] = "1"
    return data


def upload_through_pages(client, content, name="名单.csv", **kwargs):
    """Upload a list and process it with the mapping the page offers; the report page."""
    response = post_list(client, content, name, **kwargs)
    assert response.status_code == 302, text(response)
    mapping_url = response["Location"]
    page = client.get(mapping_url)
    assert page.status_code == 200
    done = client.post(mapping_url, mapping_of(page))
    assert done.status_code == 302, text(done)
    return client.get(done["Location"])


def is_checked(body, header):
    """Whether the page offers `header` as a fact column already ticked."""
    return bool(re.search(rf'value="{header}" id="id_fact_columns_\d+" checked>', body))


def figure(response, outcome):
    match = re.search(rf'data-testid="count-{outcome}">(\d+)<', text(response))
    assert match, outcome
    return int(match.group(1))


def default_rows(w):
    return [
        ["王新", id_number(), CODE_A1, "华阳路1号", "二级肢体残疾"],
        ["李单", id_number(), CODE_B1, "", "三级视力残疾"],
        ["坏号", broken(id_number()), CODE_A1, "", ""],
        ["无址", id_number(), "", "天山路999号", "一级"],
    ]


# Receiving and processing -------------------------------------------------------------------


def test_a_csv_list_uploaded_mapped_and_reported_by_the_bureau(client, w):
    client.force_login(w["bureau"])
    page = client.get(reverse("cases:lead_upload"))
    assert page.status_code == 200
    assert "上传名单" in text(page) and reverse("cases:lead_template") in text(page)
    rows = default_rows(w)
    response = post_list(client, csv_bytes(rows), new_source="区残联·残疾人证")
    upload = LeadUpload.objects.get()
    assert response["Location"] == reverse("cases:lead_upload_mapping", args=[upload.pk])
    assert upload.state == LeadUpload.State.MAPPING and upload.uploaded_by == w["bureau"]
    assert upload.source.name == "区残联·残疾人证" and upload.received_on == DAY

    page = client.get(response["Location"])
    body = text(page)
    assert "这是该来源的第一份名单" in body
    for header in DEFAULT_HEADERS[:4]:
        assert f'<option value="{header}" selected>' in body
    assert is_checked(body, "情况说明") and not is_checked(body, "地址")
    # The sample shows the first rows with masked numbers, never the full ones.
    assert "王新" in body and "坏号" in body and "无址" not in body
    assert len(MASKED.findall(body)) >= 2
    assert not find_full_id_numbers(body)
    assert not Lead.objects.exists()

    done = client.post(response["Location"], mapping_of(page))
    assert done["Location"] == reverse("cases:lead_upload_detail", args=[upload.pk])
    report = client.get(done["Location"])
    assert figure(report, "new_lead") == 2
    assert figure(report, "invalid") == 1
    assert figure(report, "unplaceable") == 1
    assert figure(report, "matched") == 0
    body = text(report)
    assert "名单共 4 行" in body and "校验位" in body and "地址与在册人员地址均不一致" in body
    assert f"{reverse('cases:leads')}?placed=no" in body
    assert not find_full_id_numbers(body)
    assert Lead.objects.count() == 3
    upload.refresh_from_db()
    assert upload.state == LeadUpload.State.PROCESSED and upload.content is None
    # Each new lead's number links to its page.
    for lead in Lead.objects.all():
        assert f'href="{reverse("cases:lead_detail", args=[lead.pk])}">{lead.lead_number}' in body
    imports = AccessRecord.objects.filter(action=AccessAction.IMPORT)
    assert imports.count() == 1
    assert imports.get().object_id == str(upload.pk) and "新线索 2" in imports.get().detail
    # Processed: the mapping page leads to the report, and nothing is processed twice.
    again = client.post(response["Location"], mapping_of(page))
    assert again["Location"] == reverse("cases:lead_upload_detail", args=[upload.pk])
    assert Lead.objects.count() == 3
    assert AccessRecord.objects.filter(action=AccessAction.IMPORT).count() == 1
    # The history lists it with its counts.
    history = text(client.get(reverse("cases:lead_uploads")))
    assert upload.number in history and "区残联·残疾人证" in history and "已处理" in history


def test_an_xlsx_list_from_a_chosen_source(client, w):
    client.force_login(w["bureau"])
    source = make_source(w["district"], "区医保局·高额医疗费用")
    person = make_recipient(w["committees_a"][0], advisor=w["advisor_a1"])
    rows = [
        [person.name, person.plain_id_number(), "", "", "自付8万元"],
        ["新人", id_number(), CODE_A2, "", "自付5万元"],
    ]
    response = post_list(client, xlsx_bytes(rows), "名单.xlsx", source=source)
    page = client.get(response["Location"])
    sample = text(page)
    assert mask_id_number(person.plain_id_number()) in sample and "自付5万元" in sample
    assert not find_full_id_numbers(sample)
    report = client.get(client.post(response["Location"], mapping_of(page))["Location"])
    assert figure(report, "matched") == 1
    assert figure(report, "new_lead") == 1
    body = text(report)
    # A registered person's file number links to the file.
    recipient_url = reverse("cases:recipient_detail", args=[person.pk])
    assert f'href="{recipient_url}">{person.file_number}' in body
    assert person.source_facts.get().facts == {"情况说明": "自付8万元"}
    assert Lead.objects.get().committee == w["committees_a"][1]


def test_a_gb18030_csv_is_read(client, w):
    client.force_login(w["bureau"])
    rows = [["王新", id_number(), CODE_A1, "华阳路1号", "二级肢体残疾"]]
    report = upload_through_pages(
        client, csv_bytes(rows, encoding="gb18030"), new_source="区残联·残疾人证"
    )
    assert figure(report, "new_lead") == 1
    assert Lead.objects.get().name == "王新"


def test_a_new_source_is_mapped_once_and_a_repeat_upload_is_one_click(client, w):
    client.force_login(w["bureau"])
    numbers = [id_number(), id_number(), id_number()]
    rows = [
        [numbers[0], "张一", CODE_A1, "二级"],
        [numbers[1], "张二", CODE_B1, "三级"],
        [numbers[2], "张三", "", "四级"],
    ]
    content = csv_bytes(rows, OTHER_HEADERS)
    response = post_list(client, content, new_source="区残联·残疾人证")
    mapping_url = response["Location"]
    page = client.get(mapping_url)
    body = text(page)
    assert "这是该来源的第一份名单" in body
    for header in OTHER_HEADERS:
        assert f'<option value="{header}">{header}</option>' in body
    assert '<option value="证件号码" selected>' not in body
    # The page's own suggestion lacks the ID number: refused in Chinese, nothing changes.
    refused = client.post(mapping_url, mapping_of(page))
    assert refused.status_code == 200
    assert "请指定“身份证号”对应的列。" in text(refused)
    assert not Lead.objects.exists()
    mapping = {
        "column_name": "姓名",
        "column_id_number": "证件号码",
        "column_committee_code": "所属居委编码",
        "fact_columns": ["残疾等级"],
        "process": "1",
    }
    done = client.post(mapping_url, mapping)
    report = client.get(done["Location"])
    assert figure(report, "new_lead") == 2 and figure(report, "unplaceable") == 1
    source = LeadSource.objects.get()
    assert source.mapping == {
        "name": "姓名",
        "id_number": "证件号码",
        "committee_code": "所属居委编码",
    }
    assert source.fact_columns == ["残疾等级"]
    assert LeadFact.objects.filter(facts={"残疾等级": "二级"}).count() == 1

    # The next list of the source: the remembered mapping is offered, one click processes.
    leads_before = Lead.objects.count()
    response = post_list(client, content, "名单二.csv", source=source)
    page = client.get(response["Location"])
    body = text(page)
    assert "沿用上次的列对应" in body and "身份证号 ← 证件号码" in body
    assert '<option value="证件号码" selected>' in body
    assert is_checked(body, "残疾等级") and not is_checked(body, "所属居委编码")
    done = client.post(response["Location"], mapping_of(page))
    report = client.get(done["Location"])
    assert figure(report, "duplicate") == 3 and figure(report, "new_lead") == 0
    assert "该来源已提供过相同情况" in text(report)
    assert Lead.objects.count() == leads_before
    # The sources page shows the remembered mapping.
    sources = text(client.get(reverse("cases:lead_sources")))
    assert "身份证号 ← 证件号码" in sources and "情况列:残疾等级" in sources


def test_a_remembered_column_the_list_lacks_is_named_and_not_offered(client, w):
    client.force_login(w["bureau"])
    source = make_source(
        w["district"],
        mapping={"name": "姓名", "id_number": "身份证号", "phone": "手机"},
        fact_columns=["残疾等级"],
    )
    response = post_list(client, csv_bytes(default_rows(w)), source=source)
    page = client.get(response["Location"])
    body = text(page)
    assert "沿用上次的列对应" in body
    assert "本名单中找不到上次的列 手机、残疾等级,请重新设定。" in body
    assert page.context["form"].initial == {
        "column_name": "姓名",
        "column_id_number": "身份证号",
        "fact_columns": [],
    }
    done = client.post(response["Location"], {**mapping_of(page), "fact_columns": ["情况说明"]})
    # Without the committee code and the address mapped, no row can be placed.
    report = client.get(done["Location"])
    assert figure(report, "unplaceable") == 3 and figure(report, "new_lead") == 0
    assert "未提供居委代码和地址" in text(report)
    source.refresh_from_db()
    assert source.mapping == {"name": "姓名", "id_number": "身份证号"}
    assert source.fact_columns == ["情况说明"]


def test_a_list_given_up_is_deleted_unprocessed(client, w):
    client.force_login(w["bureau"])
    response = post_list(client, csv_bytes(default_rows(w)), new_source="区残联·残疾人证")
    upload = LeadUpload.objects.get()
    gone = client.post(response["Location"], {"discard": "1"})
    assert gone["Location"] == reverse("cases:lead_uploads")
    upload.refresh_from_db()
    assert upload.state == LeadUpload.State.DISCARDED and upload.content is None
    assert not Lead.objects.exists()
    assert "已放弃" in text(client.get(reverse("cases:lead_uploads")))
    detail = client.get(reverse("cases:lead_upload_detail", args=[upload.pk]))
    assert "该名单已放弃" in text(detail)
    # Given up, it cannot be mapped any more.
    assert client.get(response["Location"])["Location"] == reverse(
        "cases:lead_upload_detail", args=[upload.pk]
    )


def test_the_sample_masks_id_and_mobile_numbers_wherever_they_are():
    number = id_number()
    masked = mask_id_number(number)
    assert masked_cell(number) == masked
    assert masked_cell(f"{number[:6]} {number[6:14]} {number[14:]}") == masked
    assert masked_cell(f"户主{number},电话13812345678") == f"户主{masked},电话138****5678"
    assert masked_cell(broken(number)) == mask_id_number(broken(number))
    assert masked_cell(CODE_A1) == CODE_A1  # a committee code is no ID number


# Bad files ------------------------------------------------------------------------------------


def test_bad_files_are_refused_in_chinese_and_nothing_is_stored(client, w):
    client.force_login(w["bureau"])
    cases = [
        ("名单.txt", b"a,b\n1,2\n", "只能导入 .csv 或 .xlsx 文件。"),
        ("名单.csv", b"", "所提交的是空文件。"),
        ("名单.xlsx", b"not a workbook at all", "文件内容不是有效的 Excel (.xlsx) 工作簿"),
        ("名单.csv", csv_bytes([]), "名单中没有数据行。"),
        ("名单.csv", b"\n\n", "名单是空的:找不到表头。"),
    ]
    for name, content, message in cases:
        response = post_list(client, content, name, new_source="新来源")
        assert response.status_code == 200, name
        assert message in text(response), (name, text(response))
    future = post_list(
        client,
        csv_bytes(default_rows(w)),
        new_source="新来源",
        day=TODAY + datetime.timedelta(days=1),
    )
    assert "名单日期不能晚于今天。" in text(future)
    neither = post_list(client, csv_bytes(default_rows(w)))
    assert "请选择来源,或填写新来源名称。" in text(neither)
    assert not LeadUpload.objects.exists()
    assert not LeadSource.objects.exists()


def test_a_list_missing_the_remembered_column_is_refused(client, w):
    client.force_login(w["bureau"])
    source = make_source(
        w["district"],
        mapping={"name": "姓名", "id_number": "证件号码"},
        fact_columns=["残疾等级"],
    )
    response = post_list(client, csv_bytes(default_rows(w)), source=source)
    assert response.status_code == 200
    assert "名单中找不到列“证件号码”" in text(response)
    assert not LeadUpload.objects.exists()


def test_a_mapping_naming_a_missing_column_changes_nothing(client, w):
    client.force_login(w["bureau"])
    response = post_list(client, csv_bytes(default_rows(w)), new_source="区残联·残疾人证")
    mapping = {
        "column_name": "姓名",
        "column_id_number": "身份证号",
        "column_address": "姓名",
        "fact_columns": ["不存在的列"],
        "process": "1",
    }
    refused = client.post(response["Location"], mapping)
    assert refused.status_code == 200
    assert "不存在的列 不在可用的选项中" in text(refused)
    mapping["fact_columns"] = ["情况说明"]
    refused = client.post(response["Location"], mapping)
    assert "同一列不能对应多个字段。" in text(refused)
    mapping["column_address"] = ""
    mapping["fact_columns"] = ["身份证号"]
    refused = client.post(response["Location"], mapping)
    assert "列 身份证号 已对应到字段,不能再作为情况列。" in text(refused)
    assert not Lead.objects.exists()
    assert LeadUpload.objects.get().state == LeadUpload.State.MAPPING
    assert not LeadSource.objects.get().has_mapping


# Who may use the pages ------------------------------------------------------------------------


def test_street_managers_and_advisors_get_403_and_no_list_or_source(client, w):
    source = make_source(w["district"])
    upload = upload_list(w["bureau"], source, default_rows(w))
    pages = [
        reverse("cases:lead_uploads"),
        reverse("cases:lead_upload"),
        reverse("cases:lead_template"),
        reverse("cases:lead_sources"),
        reverse("cases:lead_source_create"),
    ]
    # Lists and sources are the bureau's: to anyone else they do not exist (404, as every
    # row outside a user's scope), whatever their street.
    rows = [
        reverse("cases:lead_source_edit", args=[source.pk]),
        reverse("cases:lead_upload_mapping", args=[upload.pk]),
        reverse("cases:lead_upload_detail", args=[upload.pk]),
        reverse("cases:lead_upload_report", args=[upload.pk]),
    ]
    for user in (w["manager_a"], w["advisor_a"], w["manager_b"], w["advisor_b"]):
        client.force_login(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 403, (user.username, url)
            assert "只有区民政局可以接收和处理其他部门的线索名单。" in text(response)
        for url in rows:
            assert client.get(url).status_code == 404, (user.username, url)
            assert client.post(url, {"discard": "1"}).status_code == 404, (user.username, url)
        refused = post_list(client, csv_bytes(default_rows(w)), source=source)
        assert refused.status_code == 403
        created = client.post(reverse("cases:lead_source_create"), {"name": "街镇来源"})
        assert created.status_code == 403
    assert LeadUpload.objects.count() == 1 and LeadSource.objects.count() == 1
    assert LeadUpload.objects.get().state == LeadUpload.State.PROCESSED


def test_another_districts_lists_and_sources_are_404(client, w, xuhui):
    source = make_source(w["district"], "区医保局·高额医疗费用")
    processed = upload_list(w["bureau"], source, default_rows(w))
    client.force_login(w["bureau"])
    waiting = LeadUpload.objects.get(
        pk=post_list(client, csv_bytes(default_rows(w)), source=source)["Location"].split("/")[-3]
    )
    client.force_login(xuhui["bureau"])
    for upload in (processed, waiting):
        for name in ("lead_upload_mapping", "lead_upload_detail", "lead_upload_report"):
            assert client.get(reverse(f"cases:{name}", args=[upload.pk])).status_code == 404
    assert client.get(reverse("cases:lead_source_edit", args=[source.pk])).status_code == 404
    assert (
        client.post(
            reverse("cases:lead_upload_mapping", args=[waiting.pk]), {"discard": "1"}
        ).status_code
        == 404
    )
    history = text(client.get(reverse("cases:lead_uploads")))
    assert processed.number not in history and "共 0 份名单" in history
    sources = text(client.get(reverse("cases:lead_sources")))
    assert source.name not in sources
    form = text(client.get(reverse("cases:lead_upload")))
    assert source.name not in form
    # Choosing the other district's source by its id is refused like any unknown choice.
    refused = post_list(client, csv_bytes(default_rows(w)), source=source)
    assert refused.status_code == 200
    waiting.refresh_from_db()
    assert waiting.state == LeadUpload.State.MAPPING
    assert LeadUpload.objects.count() == 2


# The report -----------------------------------------------------------------------------------


def test_the_report_download_holds_reasons_and_no_full_id_number(client, w):
    person = make_recipient(w["committees_b"][0])
    source = make_source(w["district"])
    rows = [*default_rows(w), [person.name, person.plain_id_number(), "", "", "新情况"]]
    upload = upload_list(w["bureau"], source, rows)
    client.force_login(w["bureau"])
    response = client.get(reverse("cases:lead_upload_report", args=[upload.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    values = [
        ["" if value is None else str(value) for value in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    flat = "\n".join("\t".join(row) for row in values)
    assert not find_full_id_numbers(flat)
    assert "王新" not in flat and person.name not in flat  # no names either
    assert "区残联·残疾人证" in flat and upload.number in flat
    assert values[[row[0] for row in values].index("新线索")][:2] == ["新线索", "2"]
    header_at = [row[:4] for row in values].index(["行号", "处理结果", "编号", "原因"])
    body = values[header_at + 1 :]
    assert len(body) == 5
    assert body[2][0] == "4" and body[2][1] == "无效" and "校验位" in body[2][3]
    assert body[3][1] == "无法定位居委,待区民政局分派"
    assert body[4][1] == "已在册,情况记入档案" and body[4][2] == person.file_number
    assert MASKED.fullmatch(body[2][2])
    record = AccessRecord.objects.get(action=AccessAction.EXPORT)
    assert record.object_id == str(upload.pk) and record.user == w["bureau"]


def test_the_report_filters_by_outcome_and_pages(client, w):
    source = make_source(w["district"])
    rows = [["名" + str(i), id_number(), CODE_A1, "", f"情况{i}"] for i in range(60)]
    rows += [["坏" + str(i), broken(id_number()), CODE_A1, "", ""] for i in range(3)]
    upload = upload_list(w["bureau"], source, rows)
    client.force_login(w["bureau"])
    url = reverse("cases:lead_upload_detail", args=[upload.pk])
    first = text(client.get(url))
    assert "第 1–50 条,共 63 条" in first
    second = text(client.get(url, {"page": 2}))
    assert "第 51–63 条,共 63 条" in second
    invalid = text(client.get(url, {"outcome": "invalid"}))
    assert invalid.count("身份证号的校验位(最后一位)不正确") == 3
    assert "第 1–" not in invalid  # three rows: one page
    assert Lead.objects.order_by("pk").first().lead_number not in invalid
    assert "全部 63" in first and "无效 3" in first


def test_the_template_has_the_default_headers(client, w):
    client.force_login(w["bureau"])
    response = client.get(reverse("cases:lead_template"))
    assert response.status_code == 200
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    first = workbook.worksheets[0]
    assert [cell.value for cell in first[1]] == DEFAULT_HEADERS
    assert first.max_row == 1
    notes = "\n".join(str(row[0]) for row in workbook.worksheets[1].iter_rows(values_only=True))
    assert "身份证号" in notes and CODE_A1 in notes and "310104001001" not in notes


# Sources --------------------------------------------------------------------------------------


def test_sources_are_added_changed_and_set_aside(client, w):
    client.force_login(w["bureau"])
    created = client.post(
        reverse("cases:lead_source_create"),
        {"name": "区卫健委·大病", "department": "区卫健委", "description": "大病患者"},
    )
    assert created["Location"] == reverse("cases:lead_sources")
    source = LeadSource.objects.get()
    assert (source.district, source.created_by, source.is_active) == (
        w["district"],
        w["bureau"],
        True,
    )
    again = client.post(reverse("cases:lead_source_create"), {"name": "区卫健委·大病"})
    assert "已有同名的线索来源。" in text(again)
    other = make_source(w["district"], "区残联·残疾人证")
    clash = client.post(
        reverse("cases:lead_source_edit", args=[other.pk]), {"name": "区卫健委·大病"}
    )
    assert "已有同名的线索来源。" in text(clash)
    other.refresh_from_db()
    assert other.name == "区残联·残疾人证"
    edit_page = text(client.get(reverse("cases:lead_source_edit", args=[source.pk])))
    assert "尚未设定" in edit_page and "重设列对应" in edit_page
    client.post(
        reverse("cases:lead_source_edit", args=[source.pk]),
        {"name": "区卫健委·大病", "department": "区卫健委", "description": "", "is_active": ""},
    )
    source.refresh_from_db()
    assert not source.is_active
    form = text(client.get(reverse("cases:lead_upload")))
    assert f'<option value="{other.pk}">' in form
    assert f'<option value="{source.pk}">' not in form


# Fixed queries ------------------------------------------------------------------------------


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def make_uploads(source, user, count):
    for i in range(count):
        LeadUpload.objects.create(
            district=source.district,
            source=source,
            received_on=DAY,
            file_name=f"名单{i}.csv",
            state=LeadUpload.State.PROCESSED,
            uploaded_by=user if i % 2 else None,
            rows_total=i,
            rows_new=i,
        )


def test_the_history_runs_a_fixed_number_of_queries(client, w):
    source = make_source(w["district"])
    other = make_source(w["district"], "区医保局")
    client.force_login(w["bureau"])
    url = reverse("cases:lead_uploads")
    make_uploads(source, w["bureau"], 3)
    small = queries(client, url)
    make_uploads(other, w["bureau"], 55)
    large = queries(client, url)
    assert small == large
    sources_small = queries(client, reverse("cases:lead_sources"))
    for i in range(5):
        make_source(w["district"], f"来源{i}", mapping={"name": "姓名", "id_number": "号"})
    assert queries(client, reverse("cases:lead_sources")) == sources_small


def test_the_report_page_runs_a_fixed_number_of_queries(client, w):
    source = make_source(w["district"])
    person = make_recipient(w["committees_a"][0])
    small_rows = [
        ["甲", id_number(), CODE_A1, "", "一"],
        [person.name, person.plain_id_number(), "", "", "一"],
        ["乙", broken(id_number()), "", "", ""],
    ]
    small = upload_list(w["bureau"], source, small_rows)
    large_rows = [["丙" + str(i), id_number(), CODE_B1, "", "二"] for i in range(70)]
    large_rows += [[person.name, person.plain_id_number(), "", "", "二"]]
    large = upload_list(w["bureau"], make_source(w["district"], "区医保局"), large_rows)
    client.force_login(w["bureau"])
    counts = {
        upload.pk: queries(client, reverse("cases:lead_upload_detail", args=[upload.pk]))
        for upload in (small, large)
    }
    assert counts[small.pk] == counts[large.pk]


# A long list ----------------------------------------------------------------------------------


def generated_list(count):
    """`count` rows of distinct valid numbers (birth dates and areas vary): every 25th
    row's number is broken (无效), every other 10th row has no committee code and an
    unknown address (无法定位), the rest name the world's committees (新线索)."""
    areas = ["310105", "310104", "310101", "310112"]
    start = datetime.date(1940, 1, 1)
    codes = [CODE_A1, CODE_A2, CODE_B1]
    rows, expected = [], Counter()
    for i in range(count):
        block = i // 200  # `id_number` gives 500 distinct serials per birth date
        number = id_number(start + datetime.timedelta(days=block), area=areas[block % 4])
        if i % 25 == 0:
            rows.append([f"无效{i}", broken(number), codes[0], "", "二级"])
            expected["invalid"] += 1
        elif i % 10 == 0:
            rows.append([f"未定位{i}", number, "", f"虚构路{i}号", "三级"])
            expected["unplaceable"] += 1
        else:
            rows.append([f"线索{i}", number, codes[i % 3], "", "二级"])
            expected["new_lead"] += 1
    return rows, expected


def check_long_list(client, w, count):
    rows, expected = generated_list(count)
    client.force_login(w["bureau"])
    report = upload_through_pages(client, csv_bytes(rows), new_source="区残联·残疾人证")
    assert f"名单共 {count} 行" in text(report)
    for outcome in ("new_lead", "invalid", "unplaceable"):
        assert figure(report, outcome) == expected[outcome], outcome
    assert figure(report, "matched") == figure(report, "duplicate") == 0
    assert Lead.objects.count() == expected["new_lead"] + expected["unplaceable"]
    assert Lead.objects.unplaced().count() == expected["unplaceable"]
    assert not find_full_id_numbers(text(report))


def test_a_list_of_10000_rows_through_the_pages(client, w):
    # About 20 s on SQLite and 40 s on PostgreSQL on the development machine.
    check_long_list(client, w, 10_000)
