"""Uploads: type by extension and content, size, kept for their uploader, gone within the hour."""

import io
import zipfile
from datetime import timedelta

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from changning_aid.models import PendingUpload
from changning_aid.uploads import (
    UploadedImportFile,
    check_upload,
    discard_upload,
    pending_upload,
    purge_expired_uploads,
    store_upload,
)
from stations.tests.factories import make_user


def workbook_bytes():
    workbook = openpyxl.Workbook()
    workbook.active.append(["a", "b"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def zip_bytes(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_a_utf8_csv_and_a_real_workbook_pass():
    csv_file = check_upload(SimpleUploadedFile("名单.CSV", "姓名,档案号\n张三,1\n".encode()))
    assert csv_file == UploadedImportFile("名单.CSV", "csv", "姓名,档案号\n张三,1\n".encode())
    assert check_upload(SimpleUploadedFile("名单.xlsx", workbook_bytes())).format == "xlsx"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("list.pdf", b"%PDF-1.7", "只能导入 .csv 或 .xlsx 文件"),
        ("list", b"a,b\n", "只能导入 .csv 或 .xlsx 文件"),
        ("list.xls", b"\xd0\xcf\x11\xe0", "不支持旧版 Excel (.xls) 文件"),
        ("list.csv", "姓名\n".encode("gb18030"), "文件不是 UTF-8 编码(第 1 行起)"),
        ("list.csv", b"a,b\n\x00\x01", "文件内容不是文本"),
        ("list.csv", workbook_bytes(), "文件内容不是文本"),  # a workbook renamed .csv
        ("list.xlsx", "姓名,档案号\n".encode(), "不是有效的 Excel (.xlsx) 工作簿"),
        ("list.xlsx", b"\xd0\xcf\x11\xe0old", "旧版 Excel (.xls)"),
        ("list.xlsx", zip_bytes({"word/document.xml": "<x/>"}), "不是有效的 Excel"),
        (
            "list.xlsx",
            zip_bytes(
                {"[Content_Types].xml": "application/vnd.ms-excel.sheet.macroEnabled.main+xml"}
            ),
            "不是有效的 Excel",
        ),
    ],
)
def test_a_file_is_refused_by_its_extension_or_its_content(name, content, message):
    with pytest.raises(ValidationError) as error:
        check_upload(SimpleUploadedFile(name, content))
    assert message in error.value.messages[0]


def test_control_characters_leave_the_file_name():
    assert check_upload(SimpleUploadedFile("名\x00单\r.csv", b"a\n")).name == "名单.csv"


def test_the_formats_can_be_narrowed():
    with pytest.raises(ValidationError) as error:
        check_upload(SimpleUploadedFile("a.xlsx", workbook_bytes()), formats=("csv",))
    assert error.value.messages == ["只能导入 .csv 文件。"]


@override_settings(UPLOAD_MAX_BYTES=1024 * 1024)
def test_a_file_over_the_limit_is_refused_with_both_sizes():
    with pytest.raises(ValidationError) as error:
        check_upload(SimpleUploadedFile("big.csv", b"a" * (1024 * 1024 + 1)))
    assert error.value.messages == ["文件过大:1.1 MB,最大 1 MB。"]
    check_upload(SimpleUploadedFile("fits.csv", b"a" * (1024 * 1024)))


def test_the_default_limit_is_10_megabytes(settings):
    assert settings.UPLOAD_MAX_BYTES == 10 * 1024 * 1024


def store(user, name="a.csv", kind="test.import", age=timedelta(0), subject=None):
    upload = store_upload(
        user=user,
        kind=kind,
        upload=UploadedImportFile(name, "csv", b"a,b\n1,2\n"),
        subject=subject,
    )
    if age:
        PendingUpload.objects.filter(pk=upload.pk).update(uploaded_at=timezone.now() - age)
    return upload


@pytest.mark.django_db
def test_an_upload_is_kept_for_its_uploader_only():
    owner = make_user("owner", "system_admin")
    other = make_user("other", "system_admin")
    upload = store(owner)

    assert upload.size == 8 and len(upload.sha256) == 64
    assert pending_upload(user=owner, kind="test.import", pk=upload.pk) == upload
    assert pending_upload(user=other, kind="test.import", pk=upload.pk) is None
    assert pending_upload(user=owner, kind="another.import", pk=upload.pk) is None

    discard_upload(upload)
    assert not PendingUpload.objects.exists()


@pytest.mark.django_db
def test_an_upload_is_found_by_the_record_it_belongs_to():
    owner = make_user("owner", "system_admin")
    upload = store(owner, subject=owner)
    store(owner, name="other.csv")

    assert pending_upload(user=owner, kind="test.import", subject=owner) == upload


@pytest.mark.django_db
def test_purge_uploads_deletes_what_waited_more_than_an_hour(capsys):
    owner = make_user("owner", "system_admin")
    old = store(owner)
    fresh = store(owner)
    PendingUpload.objects.filter(pk=old.pk).update(
        uploaded_at=timezone.now() - timedelta(hours=1, seconds=1)
    )
    PendingUpload.objects.filter(pk=fresh.pk).update(
        uploaded_at=timezone.now() - timedelta(minutes=59)
    )
    # An expired upload is not found even before the purge.
    assert pending_upload(user=owner, kind="test.import", pk=old.pk) is None

    call_command("purge_uploads")

    assert list(PendingUpload.objects.all()) == [fresh]
    assert "已删除 1 个超时未确认的上传文件" in capsys.readouterr().out


@pytest.mark.django_db
def test_each_new_upload_purges_the_expired_ones_of_anyone():
    owner = make_user("owner", "system_admin")
    someone = make_user("someone", "system_admin")
    store(someone, age=timedelta(hours=2))

    new = store(owner)

    assert list(PendingUpload.objects.all()) == [new]
    assert purge_expired_uploads() == 0


@pytest.mark.django_db
@override_settings(UPLOAD_RETENTION_SECONDS=600)
def test_the_retention_is_a_setting():
    owner = make_user("owner", "system_admin")
    store(owner, age=timedelta(minutes=11))

    assert purge_expired_uploads() == 1
