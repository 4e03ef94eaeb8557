"""The browser division import: upload, preview, confirm; for the system administrator only."""

import csv
import io
import zipfile
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse

from accounts.choices import Role
from audit.models import AccessRecord
from changning_aid.models import PendingUpload
from changning_aid.uploads import UploadedImportFile, store_upload
from stations import divisions
from stations.choices import StationStatus
from stations.models import Committee, District, DivisionImport, Station, Street
from stations.tests.factories import make_user
from stations.views.divisions import UPLOAD_KIND

CHANGNING = Path(settings.BASE_DIR) / "stations" / "data" / "changning_divisions.csv"
UPLOAD_URL = reverse("stations:division_import")

SMALL = [
    ["310105", "长宁区", "310105001", "华阳路街道", "310105001001", "华一居委会"],
    ["310105", "长宁区", "310105001", "华阳路街道", "310105001002", "华二居委会"],
    ["310105", "长宁区", "310105102", "新泾镇", "310105102001", "刘家宅小区第一居委会"],
]


def csv_bytes(rows):
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(divisions.COLUMNS)
    writer.writerows(rows)
    return text.getvalue().encode()


def preview_url(record):
    return reverse("stations:division_import_preview", args=[record.pk])


def network_counts():
    return (
        District.objects.count(),
        Street.objects.count(),
        Committee.objects.count(),
        Station.objects.count(),
    )


@pytest.fixture
def sysadmin(db):
    return make_user("sysadmin", Role.SYSTEM_ADMIN)


@pytest.fixture
def admin_client(client, sysadmin):
    client.force_login(sysadmin)
    return client


def upload(client, content, name="divisions.csv"):
    return client.post(UPLOAD_URL, {"file": SimpleUploadedFile(name, content)})


def stored_import(user, content, name="divisions.csv"):
    """An import uploaded by `user`, waiting for its confirmation as the upload view keeps it."""
    record = DivisionImport.objects.create(
        uploaded_by=user,
        file_name=name,
        content=b"",
        preview=divisions.preview_file(content, name),
    )
    store_upload(
        user=user,
        kind=UPLOAD_KIND,
        upload=UploadedImportFile(name=name, format="csv", content=content),
        subject=record,
    )
    return record


def kept_file(record):
    """The bytes kept for an import's confirmation, or None once deleted."""
    upload = PendingUpload.objects.filter(subject_id=str(record.pk)).first()
    return bytes(upload.content) if upload else None


def xlsx_bytes(rows):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(list(divisions.COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_system_admin_uploads_previews_and_confirms(admin_client, sysadmin):
    page = admin_client.get(UPLOAD_URL)
    assert page.status_code == 200
    assert "区划导入" in page.text

    response = upload(admin_client, CHANGNING.read_bytes(), "changning_divisions.csv")

    record = DivisionImport.objects.get()
    assert response.status_code == 302
    assert response.url == preview_url(record)
    assert record.uploaded_by == sysadmin
    # The file waits in the database until the confirmation, in the one upload store.
    assert kept_file(record) == CHANGNING.read_bytes()
    assert bytes(record.content) == b""
    assert network_counts() == (0, 0, 0, 0)  # nothing written before the confirmation

    page = admin_client.get(preview_url(record))
    assert page.status_code == 200
    counts = page.context["count_table"]
    assert [(label, created) for label, created, *_rest in counts] == [
        ("区", 1),
        ("街镇", 10),
        ("居村委", 189),
        ("服务站点", 200),
    ]
    assert "确认导入" in page.text
    assert "长宁区" in page.text

    page = admin_client.post(preview_url(record), follow=True)

    assert network_counts() == (1, 10, 189, 200)
    assert set(Station.objects.values_list("status", flat=True)) == {StationStatus.PLANNING}
    record.refresh_from_db()
    assert record.applied_at is not None
    assert record.result["counts"]["committee"]["created"] == 189
    assert "区划已导入" in page.text
    assert "确认导入" not in page.text
    # The file is gone once imported; the import is in the access records.
    assert kept_file(record) is None
    assert not PendingUpload.objects.exists()
    access = AccessRecord.objects.get(action="import")
    assert access.user == sysadmin
    assert access.detail == "changning_divisions.csv"


def test_a_superuser_without_a_role_may_import(client, db):
    user = make_user("root", "", is_superuser=True, is_staff=True)
    client.force_login(user)

    assert client.get(UPLOAD_URL).status_code == 200
    response = upload(client, csv_bytes(SMALL))
    assert response.status_code == 302


@pytest.mark.parametrize("role", ["bureau", "manager_a", "advisor_a"])
def test_other_roles_get_404_and_write_nothing(client, two_streets, role):
    record = stored_import(two_streets.sysadmin, csv_bytes(SMALL))
    before = network_counts()
    client.force_login(getattr(two_streets, role))

    assert client.get(UPLOAD_URL).status_code == 404
    assert upload(client, csv_bytes(SMALL)).status_code == 404
    assert client.get(preview_url(record)).status_code == 404
    assert client.post(preview_url(record)).status_code == 404

    assert DivisionImport.objects.count() == 1
    record.refresh_from_db()
    assert record.applied_at is None
    assert network_counts() == before


def test_anonymous_is_sent_to_login(client, sysadmin):
    record = stored_import(sysadmin, csv_bytes(SMALL))

    for response in (
        client.get(UPLOAD_URL),
        client.post(UPLOAD_URL),
        client.get(preview_url(record)),
        client.post(preview_url(record)),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert network_counts() == (0, 0, 0, 0)


def test_an_unknown_import_is_404(admin_client):
    assert (
        admin_client.get(reverse("stations:division_import_preview", args=[999])).status_code == 404
    )


def test_a_bad_file_shows_its_errors_and_offers_no_confirmation(admin_client):
    rows = SMALL + [
        ["310105", "长宁区", "310105001", "华阳路街道", "310105001", "华四居委会"],
        ["310105", "长宁区", "310105001", "华阳路街道", "310105002001", "曹家堰居委会"],
    ]
    upload(admin_client, csv_bytes(rows))
    record = DivisionImport.objects.get()

    page = admin_client.get(preview_url(record))

    assert "第 5 行:居村委代码 310105001 应为12位数字" in page.text
    assert "第 6 行:居村委代码 310105002001 应以街镇代码 310105001 开头" in page.text
    assert "确认导入" not in page.text
    assert kept_file(record) is None  # a file that cannot be imported is not kept

    page = admin_client.post(preview_url(record), follow=True)

    assert "不能导入" in page.text
    assert network_counts() == (0, 0, 0, 0)
    record.refresh_from_db()
    assert record.applied_at is None


def test_a_file_of_another_type_is_refused_by_the_form(admin_client):
    page = upload(admin_client, b"whatever", "divisions.pdf")

    assert page.status_code == 200
    assert "只能导入 .csv 或 .xlsx 文件" in page.text
    assert not DivisionImport.objects.exists()


def test_confirming_twice_applies_once(admin_client):
    upload(admin_client, csv_bytes(SMALL))
    record = DivisionImport.objects.get()
    admin_client.post(preview_url(record))
    Station.objects.filter(committee__code="310105001001").update(status=StationStatus.RUNNING)
    Committee.objects.filter(code="310105001002").update(name="改过的居委会")
    record.refresh_from_db()
    applied_at = record.applied_at

    page = admin_client.post(preview_url(record), follow=True)

    assert "不能重复导入" in page.text
    record.refresh_from_db()
    assert record.applied_at == applied_at
    assert network_counts() == (1, 2, 3, 6)
    assert Committee.objects.get(code="310105001002").name == "改过的居委会"


def test_divisions_changed_between_preview_and_confirm_are_previewed_again(admin_client):
    upload(admin_client, csv_bytes(SMALL))
    record = DivisionImport.objects.get()
    assert record.preview["counts"]["committee"]["created"] == 3
    # Meanwhile someone imports part of the divisions.
    divisions.apply(divisions.plan(divisions.parse(csv_bytes(SMALL[:1]), "part.csv").rows))

    page = admin_client.post(preview_url(record), follow=True)

    assert "请核对后再次确认" in page.text
    record.refresh_from_db()
    assert record.applied_at is None
    assert record.preview["counts"]["committee"]["created"] == 2
    assert network_counts() == (1, 1, 1, 3)
    assert "确认导入" in page.text

    admin_client.post(preview_url(record))

    record.refresh_from_db()
    assert record.applied_at is not None
    assert network_counts() == (1, 2, 3, 6)


def test_renames_and_units_no_longer_listed_are_previewed(admin_client):
    divisions.apply(divisions.plan(divisions.parse(csv_bytes(SMALL), "first.csv").rows))
    rows = [row[:] for row in SMALL[:2]]
    rows[0][5] = "华一新村居委会"
    upload(admin_client, csv_bytes(rows))
    record = DivisionImport.objects.get()

    page = admin_client.get(preview_url(record))

    assert "“华一居委会”更名为“华一新村居委会”" in page.text
    assert "居村委 310105102001 刘家宅小区第一居委会" in page.text
    assert "不会被删除" in page.text

    admin_client.post(preview_url(record))

    assert Committee.objects.get(code="310105001001").name == "华一新村居委会"
    assert Committee.objects.filter(code="310105102001").exists()


def test_a_file_that_changes_nothing_offers_no_confirmation(admin_client):
    divisions.apply(divisions.plan(divisions.parse(csv_bytes(SMALL), "first.csv").rows))

    upload(admin_client, csv_bytes(SMALL))
    page = admin_client.get(preview_url(DivisionImport.objects.get()))

    assert "没有变化" in page.text
    assert "确认导入" not in page.text


def test_the_upload_page_lists_recent_imports(admin_client, sysadmin):
    stored_import(sysadmin, csv_bytes(SMALL), "最近的文件.csv")

    page = admin_client.get(UPLOAD_URL)

    assert "最近的文件.csv" in page.text
    assert "待确认" in page.text


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("divisions.xls", b"\xd0\xcf\x11\xe0whatever", "不支持旧版 Excel (.xls) 文件"),
        ("divisions.csv", "区划,编码\n".encode("gbk"), "文件不是 UTF-8 编码"),
        ("divisions.csv", b"PK\x03\x04\x00\x00binary", "文件内容不是文本"),
        ("divisions.xlsx", b"district_code,district_name\n", "不是有效的 Excel (.xlsx) 工作簿"),
        ("divisions.xlsx", b"PK\x03\x04 not really a zip", "不是有效的 Excel (.xlsx) 工作簿"),
    ],
)
def test_a_file_whose_content_is_not_its_type_is_refused(admin_client, name, content, message):
    page = upload(admin_client, content, name)

    assert page.status_code == 200
    assert message in page.text
    assert not DivisionImport.objects.exists()
    assert not PendingUpload.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused(admin_client):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "[Content_Types].xml", "<Types><Default ContentType='text/plain'/></Types>"
        )
        archive.writestr("word/document.xml", "<w:document/>")

    page = upload(admin_client, buffer.getvalue(), "divisions.xlsx")

    assert "不是有效的 Excel (.xlsx) 工作簿" in page.text
    assert not DivisionImport.objects.exists()


def test_an_xlsx_workbook_is_imported(admin_client):
    upload(admin_client, xlsx_bytes(SMALL), "divisions.xlsx")
    record = DivisionImport.objects.get()

    admin_client.post(preview_url(record))

    assert network_counts() == (1, 2, 3, 6)


@override_settings(UPLOAD_MAX_BYTES=100)
def test_a_file_over_the_size_limit_is_refused(admin_client):
    page = upload(admin_client, csv_bytes(SMALL))

    assert "文件过大" in page.text
    assert not DivisionImport.objects.exists()
    assert not PendingUpload.objects.exists()


def test_a_file_left_unconfirmed_for_an_hour_is_deleted_and_cannot_be_confirmed(
    admin_client, sysadmin
):
    upload(admin_client, csv_bytes(SMALL))
    record = DivisionImport.objects.get()
    kept = PendingUpload.objects.get()
    kept.uploaded_at -= timedelta(hours=1, seconds=1)
    kept.save()

    page = admin_client.get(preview_url(record))

    assert "确认导入" not in page.text
    assert "超过1小时未确认,已按规定删除" in page.text

    page = admin_client.post(preview_url(record), follow=True)

    assert "请重新上传" in page.text
    assert network_counts() == (0, 0, 0, 0)
    record.refresh_from_db()
    assert record.applied_at is None

    # The next upload of anyone deletes it for good.
    stored_import(sysadmin, csv_bytes(SMALL[:1]), "next.csv")
    assert kept_file(record) is None
    assert "未确认,文件已删除" in admin_client.get(UPLOAD_URL).text


def test_only_the_uploader_confirms_their_file(client, sysadmin):
    record = stored_import(sysadmin, csv_bytes(SMALL))
    other = make_user("sysadmin_2", Role.SYSTEM_ADMIN)
    client.force_login(other)

    page = client.get(preview_url(record))
    assert "只有上传该文件的人可以确认导入" in page.text
    assert "确认导入</button>" not in page.text

    client.post(preview_url(record))

    assert network_counts() == (0, 0, 0, 0)
    assert kept_file(record) is not None
