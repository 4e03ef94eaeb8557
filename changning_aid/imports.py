"""The shared machinery of the project's list imports: a file back in, previewed, confirmed.

Every list that is exported through `changning_aid.exports` can come back the same way
(the advisor roster of `advisors.roster_io` was the first; the checklists of `cases` use
this module):

1. An `Importer` declares its export spec (the same `ExportSpec` as the export, so the
   template is the export), the kind of its kept uploads, and a row planner: `scope`
   loads what rows are looked up in, in a fixed number of queries whatever the number
   of rows (locked with `lock=True` when the plan is applied), and `plan_row` turns one
   row into a `PlannedRow` (a creation, or a change listing `{header: (stored, incoming)}`)
   or into Chinese reasons why it cannot be imported. Nothing is written while planning.
2. `read_file` finds the header row (after the export's banner line, after a title line,
   or first) and numbers every row as Excel shows it: in an exported file the banner is
   row 1, the headers row 2 and the first data row 3. A file without every column of the
   template is refused as a whole.
3. `plan_import` reads and plans a whole file; a key repeated in the file is an error of
   the later row. `ImportPlan.digest()` fingerprints what the preview shows.
4. The views (`upload_page`, `preview_page`) keep the file as a `PendingUpload` between
   preview and confirmation; the confirmation plans the kept file again under locks, in
   one transaction, and applies it only when the plan is the one previewed (same digest)
   and has no error: all or nothing. One audit record (导入) names the list and counts.
   The preview lists the first `PREVIEW_ROWS` rows of each kind and counts the others; an
   importer of long lists writes its creations with a bulk service (`Importer.apply`).

Cells are read with the readers below (`text`, `choice`, `date`, `integer`, `joined`)
into their value and back into the text the export writes, so that `exports.row_changes`
sees a date typed as 2024/3/1, a date kept by Excel as a date, or a list in another
order as no change; a masked ID number or phone equal to the mask of the stored value
is no change either (`row_changes` handles that).
"""

import copy
import datetime
import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from changning_aid import exports
from changning_aid.uploads import (
    ImportFileField,
    discard_upload,
    pending_upload,
    store_upload,
)

MAX_ROWS = 5000
# The preview lists this many rows of each kind (creations, changes, errors) and counts the
# rest: a page of 20,000 rows would take longer to show than the file takes to import.
PREVIEW_ROWS = 500
# A title or banner line may come before the headers (the export's banner does).
HEADER_SEARCH_ROWS = 3
JOINER = "、"
LIST_SEPARATORS = re.compile(r"[、,，;；/\s]+")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


# Errors and plans ---------------------------------------------------------------------------


class FileError(Exception):
    """The file as a whole cannot be imported (not the template, unreadable, too long)."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.message = message
        self.line = line


class CellError(Exception):
    """One cell cannot be read; its message is a Chinese reason naming the column."""


@dataclass
class RowError:
    """Why one row (or the file, `line` None or the header row) cannot be imported."""

    line: int | None
    subject: str
    message: str


@dataclass
class PlannedRow:
    """One row of the file that creates or changes an object.

    `key` is the object's stable number ("" for a new one), `name` what the preview names
    it by, `changes` {header: (stored, incoming)} for a change, `values` the filled
    (header, text) of a creation, `street` the street written to, `action` what the
    importer's `apply_row` needs.
    """

    line: int
    key: str = ""
    name: str = ""
    obj: object = None
    street: object = None
    changes: dict = field(default_factory=dict)
    values: list = field(default_factory=list)
    action: dict = field(default_factory=dict)

    @property
    def is_creation(self):
        return self.obj is None


@dataclass
class ImportPlan:
    """What an import would do: rows to create and to change, rows left as they are, and
    every error. Only a plan without errors is applied."""

    rows: int = 0
    creations: list = field(default_factory=list)
    updates: list = field(default_factory=list)
    unchanged: int = 0
    errors: list = field(default_factory=list)

    @property
    def has_changes(self):
        return bool(self.creations or self.updates)

    def digest(self):
        """A fingerprint of what the user sees in the preview, to confirm exactly that."""
        summary = {
            "create": [[row.line, row.name, row.values] for row in self.creations],
            "update": [[row.line, row.key, sorted(row.changes.items())] for row in self.updates],
            "errors": [[error.line, error.subject, error.message] for error in self.errors],
            "unchanged": self.unchanged,
        }
        text = json.dumps(summary, ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()

    def streets(self):
        """The streets the plan writes to (those the rows name)."""
        found = {}
        for row in (*self.creations, *self.updates):
            if row.street is not None:
                found[row.street.pk] = row.street
        return list(found.values())


class PreviewRows:
    """The rows of a plan the preview lists (`PREVIEW_ROWS` of each kind, in file order)
    and how many of each it leaves out."""

    def __init__(self, plan, limit=None):
        limit = limit or PREVIEW_ROWS
        self.errors = plan.errors[:limit]
        self.creations = plan.creations[:limit]
        self.updates = plan.updates[:limit]
        self.errors_left = len(plan.errors) - len(self.errors)
        self.creations_left = len(plan.creations) - len(self.creations)
        self.updates_left = len(plan.updates) - len(self.updates)


class Importer:
    """One list's import. Subclasses set the attributes and implement the row planner.

    - `spec`: the list's `ExportSpec` (its key column is what rows are matched on);
    - `upload_kind`: the `PendingUpload.kind` of its kept files;
    - `list_name`: the list as users call it in messages ("需求清单");
    - `unit`: the counting word of a row in messages ("项", "人", "条").
    """

    spec = None
    upload_kind = ""
    list_name = ""
    unit = gettext_lazy("条")
    max_rows = MAX_ROWS

    @property
    def key_header(self):
        return exports.text_of(self.spec.key.header)

    def normalise_key(self, text):
        return text.strip().upper()

    def subject(self, key, cells):
        """How the errors table names a row: its key, else its name column."""
        return key

    def scope(self, user, rows, *, lock):
        """What the rows are looked up in, loaded in a fixed number of queries."""
        raise NotImplementedError

    def plan_row(self, line, key, cells, scope):
        """(PlannedRow or None when the row changes nothing, [Chinese reasons])."""
        raise NotImplementedError

    def apply_row(self, actor, row):
        """Write one planned row through the services (inside the caller's transaction)."""
        raise NotImplementedError

    def apply(self, actor, plan):
        """Write a plan's rows (inside the caller's transaction): row by row through
        `apply_row`. An importer of long lists writes its creations with a bulk service."""
        for row in (*plan.creations, *plan.updates):
            self.apply_row(actor, row)

    def unknown_key(self, key):
        """The answer for a key that is unknown or outside the user's scope (the same)."""
        return _("%(column)s“%(key)s”不存在,或不在您的管理范围内。") % {
            "column": self.key_header,
            "key": key,
        }


# Reading and planning -----------------------------------------------------------------------


def read_file(importer, content, file_format):
    """The header line and the rows `(line, {header: text})` of a file of `importer`'s list."""
    spec = importer.spec
    try:
        header_line, header, rows = exports.read_rows(
            content, file_format, key_header=spec.key.header, search_rows=HEADER_SEARCH_ROWS
        )
    except ValueError:
        raise FileError(
            _("文件不是%(list)s模板:找不到表头“%(key)s”。请下载模板或导出%(list)s后填写。")
            % {"list": importer.list_name, "key": importer.key_header}
        ) from None
    except Exception as exc:
        # A damaged or hostile file may fail deep inside the workbook reader in many ways.
        raise FileError(_("无法读取文件内容,请确认文件没有损坏后重新上传。")) from exc
    missing = [name for name in spec.headers if name not in header]
    if missing:
        raise FileError(
            _("文件不是%(list)s模板:缺少列 %(columns)s。请下载模板或导出%(list)s后填写。")
            % {"list": importer.list_name, "columns": "、".join(missing)},
            header_line,
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        raise FileError(
            _("表头中的列 %(columns)s 重复出现,请删除多余的列。")
            % {"columns": "、".join(repeated)},
            header_line,
        )
    if len(rows) > importer.max_rows:
        raise FileError(
            _("文件共 %(rows)s 行,超过一次最多导入的 %(max)s 行,请分批导入。")
            % {"rows": len(rows), "max": importer.max_rows}
        )
    return header_line, rows


def plan_import(importer, *, user, content, file_format, lock=False):
    """The plan of a file for `user`: what it would create and change, and its errors.

    Nothing is written. `lock` (when applying) locks the rows the file names.
    """
    with exports.one_language():
        return _plan_import(
            importer, user=user, content=content, file_format=file_format, lock=lock
        )


def _plan_import(importer, *, user, content, file_format, lock):
    plan = ImportPlan()
    try:
        _header_line, rows = read_file(importer, content, file_format)
    except FileError as error:
        plan.errors.append(RowError(error.line, "", error.message))
        return plan
    plan.rows = len(rows)
    keyed = [
        (line, importer.normalise_key(cells.get(importer.key_header, "")), cells)
        for line, cells in rows
    ]
    scope = importer.scope(user, keyed, lock=lock)
    seen = {}
    for line, key, cells in keyed:
        subject = importer.subject(key, cells)
        if key and key in seen:
            plan.errors.append(
                RowError(
                    line,
                    subject,
                    _("%(column)s“%(key)s”在文件中重复出现(第 %(line)s 行已有)。")
                    % {"column": importer.key_header, "key": key, "line": seen[key]},
                )
            )
            continue
        if key:
            seen[key] = line
        row, errors = importer.plan_row(line, key, cells, scope)
        plan.errors.extend(RowError(line, subject, message) for message in errors)
        if errors:
            continue
        if row is None:
            plan.unchanged += 1
        elif row.is_creation:
            plan.creations.append(row)
        else:
            plan.updates.append(row)
    return plan


def apply_plan(importer, *, actor, plan):
    """Write a plan without errors through the importer; returns (created, changed).

    Call it inside one transaction with the plan made under `lock=True`: a refusal by a
    service raises, and the caller's transaction takes every write of the file back.
    """
    if plan.errors:
        raise ValidationError(_("文件中有错误,不能导入。"))
    importer.apply(actor, plan)
    return len(plan.creations), len(plan.updates)


# Cells --------------------------------------------------------------------------------------


def text(value, header, *, required=False, max_length=None):
    value = value.strip()
    if required and not value:
        raise CellError(_("请填写%(column)s。") % {"column": header})
    if max_length and len(value) > max_length:
        raise CellError(_("%(column)s最多 %(max)s 个字。") % {"column": header, "max": max_length})
    return value, value


def choice(value, header, choices, *, required=False):
    """A choice by its label (as exported) or its stored value: (value, label)."""
    value = value.strip()
    if not value:
        if required:
            raise CellError(_("请填写%(column)s。") % {"column": header})
        return "", ""
    found = _choice_texts(choices, get_language()).get(value)
    if found is not None:
        return found
    raise CellError(
        _("%(column)s“%(value)s”不是可选的值,可填:%(choices)s。")
        % {"column": header, "value": value, "choices": "、".join(map(str, choices.labels))}
    )


@functools.lru_cache(maxsize=256)
def _choice_texts(choices, language):
    """{label or stored value as text: (stored value, label)} of a choices class; the
    first choice wins where two share a text, as reading them in order would."""
    texts = {}
    for stored, label in choices.choices:
        label = str(label)
        texts.setdefault(label, (stored, label))
        texts.setdefault(str(stored), (stored, label))
    return texts


def parse_date(value):
    """A date as people type it in a sheet (2024-03-01, 2024/3/1, 2024年3月1日), or as
    Excel gives a date cell back (2024-03-01 00:00:00); None when it is none of these."""
    value = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", value):
        value = value[:10]
    for pattern in DATE_FORMATS:
        try:
            day = datetime.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        return day if 1900 <= day.year <= 2100 else None
    return None


def date(value, header, *, required=False):
    value = value.strip()
    if not value:
        if required:
            raise CellError(_("请填写%(column)s。") % {"column": header})
        return None, ""
    day = parse_date(value)
    if day is None:
        raise CellError(
            _("%(column)s“%(value)s”不是有效的日期,请写成 2024-03-01 的格式。")
            % {"column": header, "value": value}
        )
    return day, day.isoformat()


def integer(value, header, *, required=False, minimum=None, maximum=None):
    value = value.strip()
    if not value:
        if required:
            raise CellError(_("请填写%(column)s。") % {"column": header})
        return None, ""
    if not re.fullmatch(r"[0-9]{1,9}(\.0+)?", value):
        raise CellError(_("%(column)s“%(value)s”应为整数。") % {"column": header, "value": value})
    number = int(value.split(".")[0])
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        raise CellError(
            _("%(column)s应在 %(min)s 到 %(max)s 之间。")
            % {"column": header, "min": minimum if minimum is not None else 0, "max": maximum}
            if maximum is not None
            else _("%(column)s不能小于 %(min)s。") % {"column": header, "min": minimum}
        )
    return number, str(number)


def items(value):
    """The items of a list cell (separated by 、 , ; / or spaces), without repeats."""
    return list(dict.fromkeys(item for item in LIST_SEPARATORS.split(value.strip()) if item))


def joined(values):
    return JOINER.join(values)


def model_errors(obj, header_of, *, exclude=()):
    """An object's own validation (fields and cross-field rules), as Chinese reasons.

    Foreign keys and generated fields go in `exclude` (validating them would query).
    """
    try:
        obj.full_clean(exclude=list(exclude), validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        reasons = []
        for name, field_messages in error.message_dict.items():
            label = "" if name == NON_FIELD_ERRORS else header_of(name)
            for message in field_messages:
                reasons.append(message if not label or label in message else f"{label}:{message}")
        return reasons
    return []


def changed_copy(obj, values):
    """A copy of `obj` with `values` set, to validate without touching the stored one."""
    checked = copy.copy(obj)
    for name, value in values.items():
        setattr(checked, name, value)
    return checked


# The pages ----------------------------------------------------------------------------------


class ImportForm(forms.Form):
    """The file to import: the exported list or the template, as .xlsx or CSV."""

    file = ImportFileField(label=gettext_lazy("清单文件"))


class ConfirmForm(forms.Form):
    """Confirms the preview the user saw: its fingerprint (`ImportPlan.digest`)."""

    digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)


def _format_of(upload):
    return Path(upload.file_name).suffix.lower().lstrip(".")


def plan_upload(importer, user, upload, *, lock=False):
    return plan_import(
        importer,
        user=user,
        content=bytes(upload.content),
        file_format=_format_of(upload),
        lock=lock,
    )


def upload_page(request, importer, *, template_name, preview_url, context=None):
    """Choose a file; it is kept for its preview (`preview_url(pk)`), nothing is written."""
    user = request.user
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = store_upload(
                user=user, kind=importer.upload_kind, upload=form.cleaned_data["file"]
            )
            return redirect(preview_url(upload.pk))
    else:
        form = ImportForm()
    return render(
        request,
        template_name,
        {
            "form": form,
            "importer": importer,
            "upload_max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
            "retention_minutes": settings.UPLOAD_RETENTION_SECONDS // 60,
            **(context or {}),
        },
    )


def preview_page(request, importer, pk, *, template_name, urls, context=None):
    """What a kept file would create and change, and its errors; POST confirms it.

    `urls` gives "preview", "upload" and "done" addresses. The file is its uploader's
    alone: anyone else, and an expired file, get 404.
    """
    user = request.user
    upload = pending_upload(user=user, kind=importer.upload_kind, pk=pk)
    if upload is None:
        raise Http404
    if request.method == "POST":
        return _confirm(request, importer, pk, urls)
    plan = plan_upload(importer, user, upload)
    return render(
        request,
        template_name,
        {
            "upload": upload,
            "plan": plan,
            "shown": PreviewRows(plan),
            "importer": importer,
            "confirm_form": ConfirmForm(initial={"digest": plan.digest()}),
            "can_confirm": plan.has_changes and not plan.errors,
            **(context or {}),
        },
    )


def _confirm(request, importer, pk, urls):
    """Write the kept file, all or nothing, if its plan is still the one previewed."""
    from audit.choices import AccessAction
    from audit.services import record_access

    user = request.user
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("确认信息不完整,没有导入任何数据。请核对预览后再确认。"))
        return redirect(urls["preview"])
    try:
        with transaction.atomic():
            # The lock makes a second confirmation wait, then find the file gone.
            upload = pending_upload(user=user, kind=importer.upload_kind, pk=pk, for_update=True)
            if upload is None:
                messages.error(request, _("该文件已经导入或已过期删除,请重新上传。"))
                return redirect(urls["upload"])
            plan = plan_upload(importer, user, upload, lock=True)
            if plan.errors:
                messages.error(request, _("文件中有错误,没有导入任何数据。请修改后重新上传。"))
                return redirect(urls["preview"])
            if plan.digest() != form.cleaned_data["digest"]:
                messages.error(
                    request,
                    _(
                        "预览之后数据已有变化,没有导入任何数据。"
                        "以下是按当前数据重新生成的预览,请核对后再确认。"
                    ),
                )
                return redirect(urls["preview"])
            if not plan.has_changes:
                discard_upload(upload)
                messages.info(
                    request, _("没有变化:%(list)s已与文件一致。") % {"list": importer.list_name}
                )
                return redirect(urls["done"])
            created, changed = apply_plan(importer, actor=user, plan=plan)
            discard_upload(upload)
            streets = plan.streets()
            record_access(
                request=request,
                action=AccessAction.IMPORT,
                street=streets[0] if len(streets) == 1 else None,
                detail=_("%(name)s:%(file)s,新增 %(created)s %(unit)s,修改 %(changed)s %(unit)s")
                % {
                    "name": importer.spec.name,
                    "file": upload.file_name,
                    "created": created,
                    "changed": changed,
                    "unit": importer.unit,
                },
            )
    except (ValidationError, PermissionDenied, Http404, IntegrityError) as error:
        # Every write of the file was taken back with the transaction.
        if isinstance(error, ValidationError):
            reason = " ".join(error.messages)
        elif isinstance(error, PermissionDenied) and str(error):
            reason = str(error)
        else:
            reason = _("数据在导入过程中被他人修改。")
        messages.error(request, _("导入未完成,没有写入任何数据:%(reason)s") % {"reason": reason})
        return redirect(urls["preview"])
    messages.success(
        request,
        _("%(list)s已导入:新增 %(created)s %(unit)s,修改 %(changed)s %(unit)s。")
        % {
            "list": importer.list_name,
            "created": created,
            "changed": changed,
            "unit": importer.unit,
        },
    )
    return redirect(urls["done"])


def template_workbook(importer, notes=(), tables=()):
    """The empty template of a list: its headers on the first sheet; how to fill it in
    (`notes`, lines) and reference tables (`tables`: (headers, rows)) on the second."""
    import io

    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = exports._sheet_title(importer.spec.name)
    sheet.append(importer.spec.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    sheet_notes = workbook.create_sheet(_("填写说明"))
    for line in notes:
        sheet_notes.append([exports.neutralise(str(line))])
    for headers, rows in tables:
        sheet_notes.append([])
        sheet_notes.append([str(header) for header in headers])
        for row in rows:
            sheet_notes.append([exports.neutralise(str(value)) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
