"""Inspections (督导检查) through the browser's requests: what each role sees and may do,
the checklist's scores, findings with their files, Chinese refusals, fixed query counts."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stations.tests.factories import committee_point, street_station
from supervision import inspections
from supervision.models import CheckItem, Finding, FindingAttachment, Inspection, InspectionItem
from supervision.tests.inspection_factories import (
    JPG_BYTES,
    PNG_BYTES,
    docx_bytes,
    make_finding,
    make_finding_file,
    make_inspection,
    make_order,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def new_inspection(street, **extra):
    return {
        "street": street.pk,
        "inspected_on": TODAY.isoformat(),
        "inspectors": "张伟、李娜",
        "score_site": "8",
        "remark_site": "电脑老旧",
        "score_uniform": "10",
        **extra,
    }


def test_bureau_staff_record_an_inspection_with_its_checklist(client, two_streets):
    client.force_login(two_streets.bureau)
    station = committee_point(two_streets.committees_a[0])

    response = client.post(
        reverse("supervision:inspection_create"),
        new_inspection(two_streets.street_a, station=station.pk, announced="on"),
    )

    inspection = Inspection.objects.get()
    assert response.url == inspection.get_absolute_url()
    assert (inspection.street, inspection.station, inspection.announced) == (
        two_streets.street_a,
        station,
        True,
    )
    assert inspection.recorded_by == two_streets.bureau
    scored = dict(InspectionItem.objects.values_list("item", "score"))
    assert scored == {CheckItem.SITE: 8, CheckItem.UNIFORM: 10}
    page = client.get(inspection.get_absolute_url())
    assert "合计 18 / 20 分" in page.text
    assert "电脑老旧" in page.text and "未检查" in page.text


def test_an_inspection_is_unannounced_unless_ticked(client, two_streets):
    client.force_login(two_streets.bureau)
    client.post(reverse("supervision:inspection_create"), new_inspection(two_streets.street_a))
    inspection = Inspection.objects.get()
    assert inspection.announced is False
    assert "不定期(暗访)" in client.get(inspection.get_absolute_url()).text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"score_site": "", "score_uniform": "", "remark_site": ""}, "请至少为一个检查项目评分。"),
        ({"score_site": "11"}, "得分不能高于 10 分。"),
        ({"score_site": "-1"}, "得分不能低于 0 分。"),
        ({"inspected_on": (TODAY + DAY).isoformat()}, "检查日期不能晚于今天。"),
        ({"inspectors": "  "}, "这个字段是必填项。"),
        ({"score_site": "", "remark_site": "有说明没分数"}, "请为“场所”评分,或清除说明。"),
    ],
)
def test_bad_inspections_are_refused_in_chinese_and_nothing_is_saved(
    client, two_streets, changes, message
):
    client.force_login(two_streets.bureau)

    page = client.post(
        reverse("supervision:inspection_create"), new_inspection(two_streets.street_a, **changes)
    )

    assert page.status_code == 200
    assert message in page.text
    assert not Inspection.objects.exists()
    assert not InspectionItem.objects.exists()


def test_the_station_must_be_one_of_the_streets(client, two_streets):
    client.force_login(two_streets.bureau)
    station_b = street_station(two_streets.street_b)

    page = client.post(
        reverse("supervision:inspection_create"),
        new_inspection(two_streets.street_a, station=station_b.pk),
    )

    assert "检查站点必须是该街镇的站点。" in page.text
    assert not Inspection.objects.exists()


def test_only_bureau_staff_record_inspections(client, two_streets):
    for who in (two_streets.manager_a, two_streets.advisor_a, two_streets.sysadmin):
        client.force_login(who)
        page = client.get(reverse("supervision:inspection_create"))
        assert page.status_code == 403
        assert "只有区民政局可以登记督导检查。" in page.text
    with pytest.raises(PermissionDenied):
        inspections.record_inspection(
            actor=two_streets.manager_a,
            street=two_streets.street_a,
            inspected_on=TODAY,
            inspectors="张伟",
            scores={CheckItem.SITE: {"score": 5}},
        )


def test_a_finding_is_recorded_with_its_photos_and_files(client, two_streets):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    client.force_login(two_streets.bureau)

    response = client.post(
        inspection.get_absolute_url(),
        {
            "item": CheckItem.SIGNAGE,
            "severity": "severe",
            "description": "未使用全市统一标识",
            "files": [
                SimpleUploadedFile("门牌.jpg", JPG_BYTES),
                SimpleUploadedFile("PHOTO.PNG", PNG_BYTES),
                SimpleUploadedFile("检查记录.docx", docx_bytes()),
            ],
        },
    )

    assert response.status_code == 302
    finding = Finding.objects.get()
    assert (finding.severity, finding.item, finding.recorded_by) == (
        "severe",
        "signage",
        two_streets.bureau,
    )
    names = set(finding.attachments.values_list("original_name", "content_type"))
    assert names == {
        ("门牌.jpg", "image/jpeg"),
        ("PHOTO.PNG", "image/png"),
        (
            "检查记录.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    }
    page = client.get(inspection.get_absolute_url())
    assert "门牌.jpg" in page.text and "转为整改通知" in page.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("脚本.html", b"<script>alert(1)</script>", "类型不支持"),
        ("伪装.jpg", b"%PDF-1.4 not a picture", "文件内容不是 JPG 图片"),
        ("伪装.pdf", PNG_BYTES, "文件内容不是 PDF 文件"),
        ("伪装.docx", b"PK\x03\x04garbage", "不是有效的 Word (.docx) 文档"),
        ("空.png", b"", "空"),
    ],
)
def test_a_wrong_file_refuses_the_whole_finding_in_chinese(
    client, two_streets, media, name, content, message
):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    client.force_login(two_streets.bureau)

    page = client.post(
        inspection.get_absolute_url(),
        {
            "severity": "general",
            "description": "制度未上墙",
            "files": [SimpleUploadedFile("好的.png", PNG_BYTES), SimpleUploadedFile(name, content)],
        },
    )

    assert page.status_code == 200
    assert message in page.text
    assert not Finding.objects.exists()
    assert not FindingAttachment.objects.exists()
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


def test_a_file_over_the_limit_is_refused(client, two_streets, settings):
    settings.UPLOAD_MAX_BYTES = 20
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    client.force_login(two_streets.bureau)

    page = client.post(
        inspection.get_absolute_url(),
        {
            "severity": "general",
            "description": "制度未上墙",
            "files": [SimpleUploadedFile("大.png", PNG_BYTES)],
        },
    )

    assert "“大.png”过大" in page.text
    assert not Finding.objects.exists()


def test_the_service_checks_files_too(two_streets):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    with pytest.raises(ValidationError):
        inspections.add_finding(
            actor=two_streets.bureau,
            inspection=inspection,
            description="x",
            files=[SimpleUploadedFile("a.png", b"GIF89a")],
        )
    assert not Finding.objects.exists()


def test_street_managers_read_their_streets_inspections_only(client, two_streets):
    inspection_a = make_inspection(two_streets.street_a, by=two_streets.bureau)
    finding = make_finding(inspection_a, "华阳路站点电脑缺失")
    photo = make_finding_file(finding)
    inspection_b = make_inspection(two_streets.street_b, by=two_streets.bureau)

    client.force_login(two_streets.manager_a)
    listed = client.get(reverse("supervision:inspections"))
    assert [i.pk for i in listed.context["page_obj"]] == [inspection_a.pk]
    page = client.get(inspection_a.get_absolute_url())
    assert page.status_code == 200 and "华阳路站点电脑缺失" in page.text
    # Read-only: no finding form, no way to turn a finding into an order.
    assert "登记问题" not in page.text and "转为整改通知" not in page.text
    refused = client.post(inspection_a.get_absolute_url(), {"description": "x"})
    assert refused.status_code == 403
    assert client.get(reverse("supervision:finding_order", args=[finding.pk])).status_code == 403
    assert client.get(reverse("supervision:finding_file", args=[photo.pk])).status_code == 200
    assert client.get(inspection_b.get_absolute_url()).status_code == 404

    client.force_login(two_streets.manager_b)
    listed = client.get(reverse("supervision:inspections"))
    assert [i.pk for i in listed.context["page_obj"]] == [inspection_b.pk]
    assert "华阳路街道" not in listed.text
    for url in (
        inspection_a.get_absolute_url(),
        reverse("supervision:finding_file", args=[photo.pk]),
        reverse("supervision:finding_order", args=[finding.pk]),
    ):
        assert client.get(url).status_code == 404
        assert client.post(url, {"description": "x", "problem": "x"}).status_code == 404
    assert Finding.objects.count() == 1


def test_advisors_and_anonymous_users_see_no_inspection(client, two_streets):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    photo = make_finding_file(make_finding(inspection))
    file_url = reverse("supervision:finding_file", args=[photo.pk])

    anonymous = client.get(file_url)
    assert anonymous.status_code == 302
    client.force_login(two_streets.advisor_a)
    assert client.get(reverse("supervision:inspections")).status_code == 403
    assert client.get(inspection.get_absolute_url()).status_code == 404
    assert client.get(file_url).status_code == 404


def test_a_findings_file_downloads_as_an_attachment_never_inline(client, two_streets):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    photo = make_finding_file(make_finding(inspection), name="现场照片.png")
    client.force_login(two_streets.bureau)

    response = client.get(reverse("supervision:finding_file", args=[photo.pk]))

    assert response["Content-Disposition"].startswith("attachment;")
    assert (
        "filename*=utf-8''%E7%8E%B0%E5%9C%BA%E7%85%A7%E7%89%87.png"
        in (response["Content-Disposition"])
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert response.content == PNG_BYTES


def test_a_finding_becomes_an_order_from_its_inspection_page(client, two_streets):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    finding = make_finding(inspection, "服务流程未上墙", severity="severe")
    client.force_login(two_streets.bureau)
    url = reverse("supervision:finding_order", args=[finding.pk])

    form = client.get(url)
    assert form.context["form"].initial["deadline"] == TODAY + 7 * DAY  # 严重: 7 days
    assert "服务流程未上墙" in form.text
    client.post(url, {"problem": "服务流程未上墙", "deadline": (TODAY + 7 * DAY).isoformat()})

    order = finding.order
    assert order.street == two_streets.street_a
    page = client.get(inspection.get_absolute_url())
    assert order.number in page.text and "转为整改通知" not in page.text
    again = client.get(url)
    assert again.status_code == 302 and again.url == order.get_absolute_url()


def test_the_list_filters_by_street_dates_and_announcement(client, two_streets):
    bureau = two_streets.bureau
    early = make_inspection(two_streets.street_a, by=bureau, inspected_on=TODAY - 40 * DAY)
    announced = make_inspection(
        two_streets.street_a, by=bureau, inspected_on=TODAY - 5 * DAY, announced=True
    )
    other = make_inspection(two_streets.street_b, by=bureau, inspected_on=TODAY - 5 * DAY)
    client.force_login(bureau)

    def listed(**query):
        page = client.get(reverse("supervision:inspections"), query)
        return {i.pk for i in page.context["page_obj"]}

    assert listed() == {early.pk, announced.pk, other.pk}
    assert listed(street=two_streets.street_a.code) == {early.pk, announced.pk}
    assert listed(date_from=(TODAY - 10 * DAY).isoformat()) == {announced.pk, other.pk}
    assert listed(date_to=(TODAY - 10 * DAY).isoformat()) == {early.pk}
    assert listed(announced="yes") == {announced.pk}
    assert listed(announced="no") == {early.pk, other.pk}
    page = client.get(
        reverse("supervision:inspections"),
        {"date_from": TODAY.isoformat(), "date_to": (TODAY - DAY).isoformat()},
    )
    assert "结束日期不能早于开始日期。" in page.text


@pytest.mark.parametrize("who", ["bureau", "manager_a"])
def test_the_inspection_list_runs_the_same_queries_with_3_and_30_rows(client, two_streets, who):
    client.force_login(getattr(two_streets, who))
    url = reverse("supervision:inspections")
    station = committee_point(two_streets.committees_a[0])

    def add(count):
        for index in range(count):
            inspection = make_inspection(
                two_streets.street_a, by=two_streets.bureau, station=station if index % 2 else None
            )
            make_finding(inspection)

    add(3)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add(27)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert len(response.context["page_obj"]) == 25
    assert len(small) == len(large), [query["sql"] for query in large]
    row = response.context["page_obj"][0]
    assert (row.total_score, row.full_score, row.finding_count) == (14, 20, 1)


def test_the_inspection_page_runs_the_same_queries_with_few_and_many_findings(client, two_streets):
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)
    client.force_login(two_streets.bureau)

    def add(count):
        for _ in range(count):
            finding = make_finding(inspection)
            make_finding_file(finding)
            make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY, finding=finding)

    add(1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(inspection.get_absolute_url()).status_code == 200
    add(12)
    with CaptureQueriesContext(connection) as large:
        assert client.get(inspection.get_absolute_url()).status_code == 200
    assert len(small) == len(large)


def test_the_form_opened_from_a_station_has_its_street_and_station_chosen(two_streets, login):
    """登记督导检查 from a station's page (?station=): that station, only within the district."""
    from stations.tests.factories import make_district, make_street

    point = committee_point(two_streets.committees_a[0])
    elsewhere = street_station(
        make_street(make_district("310104", "徐汇区"), "天平路街道", "310104003")
    )
    client = login(two_streets.bureau)
    url = reverse("supervision:inspection_create")

    form = client.get(url, {"station": point.pk}).context["form"]
    assert form.initial == {"street": two_streets.street_a.pk, "station": point.pk}
    assert f'<option value="{point.pk}" selected>' in client.get(url, {"station": point.pk}).text

    for ignored in (elsewhere.pk, "x", "99999999"):
        assert client.get(url, {"station": ignored}).context["form"].initial == {}
