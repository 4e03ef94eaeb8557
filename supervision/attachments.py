"""Photos and files attached to findings and to a street's answers: checked, kept, served.

A file is accepted when both its extension and its content say it is one of the kinds
below (a renamed file is refused), and it is at most UPLOAD_MAX_BYTES. It is kept on
Django's default storage under a random name (`supervision.models.attachment_path`) and
only ever read back through a scoped download view (`download_response`), as an
attachment and never sniffed by the browser: nothing uploaded is served at a public URL.
"""

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changning_aid.uploads import MAX_EXPANSION, content_problem

# Extension -> the content type the file is served with.
ACCEPTED_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
ACCEPT_ATTRIBUTE = ",".join(f".{extension}" for extension in ACCEPTED_TYPES)
# The most files one finding or one answer takes at once.
MAX_FILES = 10
DOCUMENT_CONTENT_TYPE = (
    b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
)
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed the checks: its (cleaned) name, content type and bytes."""

    name: str
    content_type: str
    content: bytes

    @property
    def sha256(self):
        return hashlib.sha256(self.content).hexdigest()


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0")


def _document_problem(content):
    """Why `content` is not a Word (.docx) document, or None."""
    refused = _("文件内容不是有效的 Word (.docx) 文档,请确认文件没有损坏。")
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            infos = archive.infolist()
            if sum(info.file_size for info in infos) > MAX_EXPANSION * settings.UPLOAD_MAX_BYTES:
                return refused
            info = archive.getinfo("[Content_Types].xml")
            if info.file_size > 1024 * 1024:
                return refused
            content_types = archive.read(info)
    except (KeyError, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return refused
    return None if DOCUMENT_CONTENT_TYPE in content_types else refused


def content_problem_of(content, extension):
    """Why `content` is not a file of `extension` (a Chinese message), or None."""
    if extension in ("jpg", "jpeg"):
        ok = content.startswith(b"\xff\xd8\xff")
        return None if ok else _("文件内容不是 JPG 图片。")
    if extension == "png":
        ok = content.startswith(b"\x89PNG\r\n\x1a\n")
        return None if ok else _("文件内容不是 PNG 图片。")
    if extension == "pdf":
        # A PDF may carry a few bytes of junk before its header; readers accept 1 KB.
        ok = b"%PDF-" in content[:1024]
        return None if ok else _("文件内容不是 PDF 文件。")
    if extension == "xlsx":
        return content_problem(content, "xlsx")
    if extension == "docx":
        return _document_problem(content)
    return _("不支持的文件类型。")


def check_attachment(uploaded_file):
    """Check an uploaded file; its `CheckedFile`, else `ValidationError` in Chinese."""
    name = _CONTROL_CHARACTERS.sub("", Path(uploaded_file.name or "").name).strip()
    extension = Path(name).suffix.lower().lstrip(".")
    shown = name[:60]
    if extension not in ACCEPTED_TYPES:
        raise ValidationError(
            _("“%(name)s”的类型不支持:只能上传 %(kinds)s 文件。")
            % {"name": shown, "kinds": _("JPG、PNG 图片或 PDF、Excel (.xlsx)、Word (.docx)")},
            code="extension",
        )
    limit = settings.UPLOAD_MAX_BYTES
    too_big = _("“%(name)s”过大:%(size)s MB,最大 %(limit)s MB。")
    if uploaded_file.size is not None and uploaded_file.size > limit:
        raise ValidationError(
            too_big
            % {"name": shown, "size": _megabytes(uploaded_file.size), "limit": _megabytes(limit)},
            code="size",
        )
    content = b"".join(uploaded_file.chunks())
    if len(content) > limit:  # the declared size is the client's word
        raise ValidationError(
            too_big % {"name": shown, "size": _megabytes(len(content)), "limit": _megabytes(limit)},
            code="size",
        )
    if not content:
        raise ValidationError(_("“%(name)s”是空文件。") % {"name": shown}, code="empty")
    problem = content_problem_of(content, extension)
    if problem:
        raise ValidationError(
            _("“%(name)s”:%(problem)s") % {"name": shown, "problem": problem}, code="content"
        )
    if len(name) > 255:
        name = name[: 255 - len(extension) - 1] + "." + extension
    return CheckedFile(name=name, content_type=ACCEPTED_TYPES[extension], content=content)


def check_attachments(files):
    """Check every file of an upload (all or nothing); the `CheckedFile`s."""
    files = list(files or ())
    if len(files) > MAX_FILES:
        raise ValidationError(
            _("一次最多上传 %(count)s 个文件。") % {"count": MAX_FILES}, code="too_many"
        )
    checked, errors = [], []
    for uploaded in files:
        if isinstance(uploaded, CheckedFile):
            checked.append(uploaded)
            continue
        try:
            checked.append(check_attachment(uploaded))
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError(errors)
    return checked


def store(model, checked, *, uploaded_by, **parent):
    """Keep `checked` (a `CheckedFile`) as a new `model` row (an attachment model) of `parent`."""
    row = model(
        original_name=checked.name,
        content_type=checked.content_type,
        size=len(checked.content),
        sha256=checked.sha256,
        uploaded_by=uploaded_by,
        **parent,
    )
    row.file.save(checked.name, ContentFile(checked.content), save=False)
    try:
        row.save()
    except Exception:
        row.file.delete(save=False)
        raise
    return row


def discard_files(rows):
    """Delete the stored files of `rows` (after their transaction was given up)."""
    for row in rows:
        if row.file:
            row.file.storage.delete(row.file.name)


def download_response(attachment):
    """The file of `attachment` as a download: never shown inline, never sniffed, not cached.

    Read whole (files are at most UPLOAD_MAX_BYTES), so that the response is an ordinary one.
    """
    try:
        with attachment.file.open("rb") as handle:
            content = handle.read()
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    response = HttpResponse(content, content_type=attachment.content_type)
    response["Content-Disposition"] = content_disposition_header(True, attachment.original_name)
    response["Content-Length"] = str(len(content))
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


class AttachmentsHelp:
    """The help text of an attachments field, with the upload limit as it is set now."""

    def __init__(self, purpose):
        self.purpose = purpose

    def __str__(self):
        return _(
            "%(purpose)s,可多选(一次最多 %(count)s 个):JPG、PNG 图片或 PDF、Excel (.xlsx)、"
            "Word (.docx) 文件,每个不超过 %(limit)s MB。"
        ) % {
            "purpose": self.purpose,
            "count": MAX_FILES,
            "limit": _megabytes(settings.UPLOAD_MAX_BYTES),
        }


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Several photos or files at once, each checked by `check_attachment`; cleans to a list."""

    default_error_messages = {
        "invalid": gettext_lazy("上传的内容不是文件。"),
        "empty": gettext_lazy("上传的文件是空的。"),
    }

    def __init__(self, *, purpose, **kwargs):
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": ACCEPT_ATTRIBUTE, "multiple": True})
        )
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", AttachmentsHelp(purpose))
        super().__init__(**kwargs)

    def clean(self, data, initial=None):
        if not data:
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required")
            return []
        files = data if isinstance(data, (list, tuple)) else [data]
        files = [super(AttachmentsField, self).clean(item, initial) for item in files if item]
        return check_attachments(files)
