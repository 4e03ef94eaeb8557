"""Uploaded import files: checked, kept in the database between preview and confirm, deleted.

Every browser import of the project goes the same way:

1. its form has an `ImportFileField`, which refuses a file by its extension, its size
   (UPLOAD_MAX_BYTES, 10 MB by default) and its content (a CSV must be UTF-8 text, an
   .xlsx an OOXML workbook), and cleans to an `UploadedImportFile` with the bytes;
2. the view checks the user's right (404 without it), previews, and keeps the file with
   `store_upload(...)`, in a `PendingUpload` row only its uploader can read;
3. the confirmation finds it with `pending_upload(...)` (None once expired), imports it,
   and deletes it with `discard_upload(...)`.

An upload left unconfirmed is deleted after UPLOAD_RETENTION_SECONDS (an hour): by the
next `store_upload` of anyone, and by `manage.py purge_uploads` (run it every few minutes
from cron or a systemd timer).
"""

import hashlib
import io
import math
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from changning_aid.models import PendingUpload

CSV, XLSX = "csv", "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES_PART = "[Content_Types].xml"
WORKBOOK_CONTENT_TYPE = (
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# A workbook may unpack to at most this many times the upload limit (a zip bomb is refused).
MAX_EXPANSION = 20


@dataclass(frozen=True)
class UploadedImportFile:
    """A file that passed the checks: its name, its format (`csv` or `xlsx`) and its bytes."""

    name: str
    format: str
    content: bytes


def max_upload_bytes():
    return settings.UPLOAD_MAX_BYTES


def _megabytes(size):
    # Rounded up to a tenth, so that a file just over the limit does not read as equal to it.
    tenths = math.ceil(size * 10 / (1024 * 1024))
    return f"{tenths / 10:.1f}".removesuffix(".0")


def check_upload(uploaded_file, *, formats=FORMATS):
    """Check an uploaded file's type and size; its `UploadedImportFile`, else ValidationError.

    The type is judged twice: by the extension, and by sniffing the content, so that a
    renamed file is refused too.
    """
    # Control characters (a NUL cannot even be stored by PostgreSQL) go from the name.
    name = _CONTROL_CHARACTERS.sub("", Path(uploaded_file.name or "").name)
    extension = Path(name).suffix.lower().lstrip(".")
    if extension not in formats:
        if extension == "xls" and XLSX in formats:
            raise ValidationError(
                _("不支持旧版 Excel (.xls) 文件,请另存为 .xlsx 或 CSV (UTF-8) 后再上传。"),
                code="old_excel",
            )
        raise ValidationError(
            _("只能导入 %(formats)s 文件。")
            % {"formats": " 或 ".join(f".{extension}" for extension in formats)},
            code="extension",
        )
    limit = max_upload_bytes()
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise ValidationError(
            _("文件过大:%(size)s MB,最大 %(limit)s MB。")
            % {"size": _megabytes(uploaded_file.size), "limit": _megabytes(limit)},
            code="size",
        )
    content = b"".join(uploaded_file.chunks())
    if len(content) > limit:  # the declared size is the client's word
        raise ValidationError(
            _("文件过大:%(size)s MB,最大 %(limit)s MB。")
            % {"size": _megabytes(len(content)), "limit": _megabytes(limit)},
            code="size",
        )
    problem = content_problem(content, extension)
    if problem:
        raise ValidationError(problem, code="content")
    return UploadedImportFile(name=name[:255], format=extension, content=content)


def content_problem(content, file_format):
    """Why `content` is not a file of `file_format` (a Chinese message), or None."""
    if file_format == CSV:
        if b"\x00" in content or content.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
            return _("文件内容不是文本,不是 CSV 文件。请以 CSV (UTF-8) 格式另存后再上传。")
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = content[: exc.start].count(b"\n") + 1
            return _(
                "文件不是 UTF-8 编码(第 %(line)s 行起),请以 CSV (UTF-8) 格式另存后再上传。"
            ) % {"line": line}
        return None
    if file_format == XLSX:
        return _workbook_problem(content)
    return _("不支持的文件类型。")


def _workbook_problem(content):
    not_a_workbook = _(
        "文件内容不是有效的 Excel (.xlsx) 工作簿,请确认文件没有损坏,或另存为 .xlsx。"
    )
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        return _("这是旧版 Excel (.xls) 文件,请另存为 .xlsx 或 CSV (UTF-8) 后再上传。")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > MAX_EXPANSION * max_upload_bytes():
                return not_a_workbook
            try:
                info = archive.getinfo(CONTENT_TYPES_PART)
            except KeyError:
                return not_a_workbook
            if info.file_size > 1024 * 1024:
                return not_a_workbook
            content_types = archive.read(info)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return not_a_workbook
    if WORKBOOK_CONTENT_TYPE not in content_types:
        # A Word document, a macro workbook (.xlsm) or any other zip renamed .xlsx.
        return not_a_workbook
    return None


class ImportFileField(forms.FileField):
    """A file to import, checked by `check_upload`; cleans to an `UploadedImportFile`."""

    def __init__(self, *, formats=FORMATS, **kwargs):
        self.formats = tuple(formats)
        accept = ",".join(f".{extension}" for extension in self.formats)
        kwargs.setdefault("widget", forms.FileInput(attrs={"accept": accept}))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if not uploaded:
            return uploaded
        return check_upload(uploaded, formats=self.formats)


def purge_expired_uploads(now=None):
    """Delete every upload older than the retention; returns how many were deleted."""
    deleted, _by_model = PendingUpload.objects.expired(now).delete()
    return deleted


def store_upload(*, user, kind, upload, subject=None):
    """Keep a checked upload for its confirmation; expired uploads of anyone go first.

    `kind` names the import (`"stations.division_import"`); `subject`, if given, is the
    record the import keeps about itself, by which `pending_upload` finds the file again.
    """
    purge_expired_uploads()
    return PendingUpload.objects.create(
        kind=kind,
        uploaded_by=user,
        file_name=upload.name,
        content=upload.content,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        subject_type=ContentType.objects.get_for_model(subject) if subject is not None else None,
        subject_id=str(subject.pk) if subject is not None else "",
        uploaded_at=timezone.now(),
    )


def pending_upload(*, user, kind, pk=None, subject=None, for_update=False):
    """The user's unexpired upload of `kind` (by pk or by its subject), or None.

    Only the uploader finds their file; an expired one is not found even before it is
    purged. `for_update` locks the row, so that one confirmation at a time uses it.
    """
    uploads = PendingUpload.objects.visible_to(user).filter(kind=kind)
    if pk is not None:
        uploads = uploads.filter(pk=pk)
    if subject is not None:
        uploads = uploads.filter(
            subject_type=ContentType.objects.get_for_model(subject), subject_id=str(subject.pk)
        )
    if for_update:
        uploads = uploads.select_for_update()
    return uploads.order_by("-uploaded_at").first()


def discard_upload(upload):
    """Delete an upload once its import is confirmed (or given up)."""
    if upload is not None and upload.pk is not None:
        upload.delete()
