"""The one export path of the project: a scoped queryset out as CSV or Excel, and back in.

An export is declared once, as an `ExportSpec`: the model, the stable non-sensitive key
its rows are matched on when the file comes back (档案号, a division code), and the
columns with their Chinese headers::

    STATION_EXPORT = ExportSpec(
        model=Station,
        name=_("服务站点"),
        key=Column(_("站点代码"), station_code),
        columns=[Column(_("标准名称"), "name"), Column(_("街镇"), "street.name"), ...],
        related=["district", "street", "committee"],
    )

and served by a view marked `@export_view` that calls `export_page(...)`: a small form
asks the purpose and the format, and `export(...)` then

- reads the rows through `queryset.visible_to(user)`, always, whatever queryset it is given;
- masks ID numbers (310105********1234) and personal phones (138****5678) by the kind of
  their model fields; the full ID numbers only in a separate action for bureau staff
  (`full_id_numbers=True`, 404 for anyone else);
- prints the exporter, the time (Asia/Shanghai) and the purpose in the file's first line;
- neutralises every cell that a spreadsheet could take for a formula (`= + - @`, tab,
  carriage return) by prefixing `'`;
- adds one access record to the audit trail (`export` or `export_full_id`, the purpose).

Imports read such a file with `read_export(...)` and compare a row with the stored object
with `row_changes(...)`: a masked value equal to the mask of the stored value is unchanged.
"""

import csv
import datetime
import decimal
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from changning_aid.sensitive.fields import IdNumber
from changning_aid.sensitive.masking import ID_NUMBER, PHONE, is_unchanged, mask

CSV, XLSX = "csv", "xlsx"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NEUTRALISING_PREFIX = "'"
BANNER_LABEL = "导出人:"
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Column:
    """One column of an export: its Chinese header and where its value comes from.

    `source` is a dotted attribute path (`"street.name"`; a field with choices gives its
    label) or a callable of the row. `sensitive` (`masking.ID_NUMBER`, `masking.PHONE`) is
    found from the model field of a path; give it for a callable that returns such a value.
    """

    header: str
    source: str | Callable
    sensitive: str = ""


@dataclass(frozen=True)
class ExportSpec:
    """What an export of `model` holds: its key column first, then `columns`.

    `key` is the stable, non-sensitive identity of a row (档案号, a code) that imports
    match on; it must not be a sensitive column. `related` and `prefetch` are handed to
    `select_related` / `prefetch_related`, so an export runs a fixed number of queries.
    """

    model: type
    name: str
    key: Column
    columns: Sequence[Column]
    related: Sequence[str] = ()
    prefetch: Sequence[str] = ()
    _resolved: tuple = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self):
        resolved = tuple(_resolve_column(self.model, column) for column in self.all_columns)
        if resolved[0].sensitive:
            raise ImproperlyConfigured(f"The key of export {self.name} must not be sensitive.")
        object.__setattr__(self, "_resolved", resolved)

    @property
    def all_columns(self):
        return (self.key, *self.columns)

    @property
    def headers(self):
        return [str(column.header) for column in self.all_columns]

    @property
    def has_id_numbers(self):
        return any(column.sensitive == ID_NUMBER for column in self._resolved)


def field_columns(model, *paths):
    """Columns headed by the verbose names of the model fields at `paths`."""
    return [Column(_model_field(model, path).verbose_name, path) for path in paths]


def _model_field(model, path):
    """The model field at the end of a dotted path, or None (a property, a method)."""
    field_, current = None, model
    for part in path.split("."):
        if current is None:
            return None
        try:
            field_ = current._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        current = field_.related_model
    return field_


def _resolve_column(model, column):
    if isinstance(column.source, str) and not column.sensitive:
        model_field = _model_field(model, column.source)
        kind = getattr(model_field, "sensitive_kind", "") if model_field is not None else ""
        if kind:
            return Column(column.header, column.source, kind)
    return column


def _value(obj, source):
    if callable(source):
        return source(obj)
    *parents, last = source.split(".")
    for part in parents:
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    display = getattr(obj, f"get_{last}_display", None)
    if callable(display):
        return display()
    value = getattr(obj, last, None)
    return value() if callable(value) else value


def _cell(value, sensitive, *, full_id_numbers):
    """A value as it goes into a cell: masked, formatted, neutralised (numbers stay numbers)."""
    if value is None:
        return ""
    if sensitive == ID_NUMBER:
        if full_id_numbers and isinstance(value, IdNumber) and value.readable:
            value = value.reveal()
        else:
            value = mask(ID_NUMBER, value)
    elif sensitive == PHONE:
        value = mask(PHONE, value)
    elif isinstance(value, bool):
        value = gettext("是") if value else gettext("否")
    elif isinstance(value, datetime.datetime):
        value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value.tzinfo else value
    elif isinstance(value, datetime.date):
        value = value.isoformat()
    if isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool):
        return value
    return neutralise(str(value))


def neutralise(text):
    """Text that no spreadsheet takes for a formula: a leading = + - @ tab or CR gets a `'`.

    Characters a workbook cannot hold (other control characters) are dropped first, so that
    they cannot hide a trigger behind them.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if text.startswith(FORMULA_TRIGGERS):
        return NEUTRALISING_PREFIX + text
    return text


def unneutralise(text):
    """The text `neutralise` was given (for imports reading an exported file back)."""
    if text.startswith(NEUTRALISING_PREFIX) and text[1:2] and text[1:2] in FORMULA_TRIGGERS:
        return text[1:]
    return text


def clean_purpose(purpose):
    """A purpose as printed and recorded: control characters gone, spaces collapsed."""
    return " ".join(_CONTROL.sub(" ", purpose or "").split())


def banner(user, when, purpose, *, full_id_numbers=False):
    """The first line of every export: who, when (Asia/Shanghai) and why."""
    who = getattr(user, "full_name", "") or user.get_username()
    line = gettext("导出人:%(who)s(%(username)s) 导出时间:%(when)s(北京时间) 用途:%(purpose)s") % {
        "who": who,
        "username": user.get_username(),
        "when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M:%S"),
        "purpose": purpose,
    }
    if full_id_numbers:
        line += gettext(" 含完整身份证号,请妥善保管")
    return line


def can_export_full_id_numbers(user):
    """Only bureau staff export full ID numbers."""
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_bureau", False))


def table_rows(queryset, spec, *, full_id_numbers=False):
    """The rows of the export (header excluded), values masked and neutralised."""
    columns = spec._resolved
    for obj in queryset:
        yield [
            _cell(_value(obj, column.source), column.sensitive, full_id_numbers=full_id_numbers)
            for column in columns
        ]


def scoped_rows(queryset, user, spec):
    """The export's queryset: always cut to the user's scope, with its related rows joined."""
    rows = queryset.visible_to(user)
    if spec.related:
        rows = rows.select_related(*spec.related)
    if spec.prefetch:
        rows = rows.prefetch_related(*spec.prefetch)
    return rows


def export(*, request, queryset, spec, purpose, file_format, full_id_numbers=False, street=None):
    """The export file of `queryset` within the user's scope, as an attachment response.

    `purpose` is required (a ValueError without it); `full_id_numbers` is for bureau staff
    only (404 for anyone else). One access record is added to the audit trail, with the
    purpose; `street` is the street/town the export belongs to, when it is one street's.
    """
    from audit.choices import AccessAction
    from audit.services import record_access

    user = request.user
    purpose = clean_purpose(purpose)
    if not purpose:
        raise ValueError("An export needs a stated purpose.")
    if file_format not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format {file_format!r}.")
    if full_id_numbers and not (can_export_full_id_numbers(user) and spec.has_id_numbers):
        raise Http404
    now = timezone.now()
    rows = table_rows(scoped_rows(queryset, user, spec), spec, full_id_numbers=full_id_numbers)
    head = [neutralise(banner(user, now, purpose, full_id_numbers=full_id_numbers))]
    writer = write_xlsx if file_format == XLSX else write_csv
    content = writer(spec, head, rows)
    record_access(
        request=request,
        action=AccessAction.EXPORT_FULL_ID if full_id_numbers else AccessAction.EXPORT,
        street=street,
        detail=gettext("%(name)s:%(purpose)s") % {"name": spec.name, "purpose": purpose},
    )
    file_name = f"{spec.name}-{timezone.localtime(now):%Y%m%d-%H%M%S}.{file_format}"
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    patch_cache_control(response, no_store=True, private=True)
    return response


def write_csv(spec, head, rows):
    """CSV in UTF-8 with a byte-order mark (so that Excel reads the Chinese right)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(head)
    writer.writerow(spec.headers)
    for row in rows:
        writer.writerow(
            [value if isinstance(value, str) else neutralise(str(value)) for value in row]
        )
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(spec, head, rows):
    """An .xlsx workbook of one sheet; text cells are written as text, never as formulas."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(spec.name))

    def cells(values):
        result = []
        for value in values:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"
            result.append(cell)
        return result

    sheet.append(cells(head))
    sheet.append(cells(spec.headers))
    for row in rows:
        sheet.append(cells(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_title(name):
    return re.sub(r"[\[\]:*?/\\]", "", str(name))[:31] or "Sheet1"


# Reading an export back -------------------------------------------------------------------


def read_export(content, file_format):
    """The rows of an exported file (CSV or XLSX) as dicts by header, first line skipped.

    The banner line is recognised and skipped; neutralised cells are restored. Cells are
    text (numbers as Excel gives them back). Raises ValueError when there is no header.
    """
    table = _read_xlsx(content) if file_format == XLSX else _read_csv(content)
    rows = [row for row in table if any(cell.strip() for cell in row)]
    if rows and rows[0] and rows[0][0].startswith(BANNER_LABEL):
        rows = rows[1:]
    if not rows:
        raise ValueError("no header")
    header = [cell.strip() for cell in rows[0]]
    return [
        {
            name: unneutralise(cells[index]) if index < len(cells) else ""
            for index, name in enumerate(header)
        }
        for cells in rows[1:]
    ]


def read_rows(content, file_format, *, key_header=None, search_rows=3):
    """The header row and the data rows of a file, each numbered as Excel numbers it.

    Returns `(header_line, header, rows)`: `header` the stripped header cells (neutralised
    cells restored), `rows` a list of `(line, {header: text})` for every row after the
    header that has a filled cell (empty rows are skipped but keep their numbers). The
    header row is the first row among the first `search_rows` filled rows that holds
    `key_header` (the export's banner line and a title line may come before it), or the
    first filled row after a banner when no key is given. Cells are read as `read_export`
    reads them. Raises ValueError when there is no header row.
    """
    table = _read_xlsx(content) if file_format == XLSX else _read_csv(content)
    numbered = [
        (index, row) for index, row in enumerate(table, start=1) if any(c.strip() for c in row)
    ]
    if key_header is None:
        start = 1 if numbered and numbered[0][1][0].startswith(BANNER_LABEL) else 0
        header_at = start if len(numbered) > start else None
    else:
        key_header = str(key_header)
        header_at = next(
            (
                position
                for position, (_line, row) in enumerate(numbered[:search_rows])
                if key_header in [unneutralise(cell.strip()) for cell in row]
            ),
            None,
        )
    if header_at is None:
        raise ValueError("no header")
    header_line, header_cells = numbered[header_at]
    header = [unneutralise(cell.strip()) for cell in header_cells]
    rows = [
        (
            line,
            {
                name: unneutralise(cells[index].strip()) if index < len(cells) else ""
                for index, name in enumerate(header)
                if name
            },
        )
        for line, cells in numbered[header_at + 1 :]
    ]
    return header_line, header, rows


def _read_csv(content):
    text = content.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline="")))


def _read_xlsx(content):
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        return [
            ["" if value is None else _text(value) for value in values]
            for values in sheet.iter_rows(values_only=True)
        ]
    finally:
        workbook.close()


def _text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def row_key(row, spec):
    """The key of an imported row (the spec's key column), stripped."""
    return str(row.get(str(spec.key.header), "")).strip()


def row_changes(obj, row, spec):
    """The columns an imported row would change on `obj`: {header: (stored, incoming)}.

    Values are compared as the export writes them; a sensitive column that comes back as
    the mask of the stored value is unchanged (`masking.is_unchanged`), and so is one left
    out of the file. The key column is never a change: it is what matched the row.
    """
    changes = {}
    for column in spec._resolved[1:]:
        header = str(column.header)
        if header not in row:
            continue
        incoming = str(row[header]).strip()
        stored = _value(obj, column.source)
        if column.sensitive:
            if is_unchanged(column.sensitive, stored=stored, incoming=incoming):
                continue
            changes[header] = (mask(column.sensitive, stored), incoming)
            continue
        written = _cell(stored, "", full_id_numbers=False)
        written = unneutralise(written if isinstance(written, str) else _text(written))
        if written.strip() != incoming:
            changes[header] = (written, incoming)
    return changes


# The page ------------------------------------------------------------------------------


class ExportForm(forms.Form):
    """What an export asks: the purpose (required, printed and recorded) and the format."""

    purpose = forms.CharField(
        label=_("导出用途"),
        max_length=200,
        help_text=_("将印在文件第一行,并记入审计日志,例如“2026年第三季度站点资料核对”。"),
    )
    format = forms.ChoiceField(
        label=_("文件格式"),
        choices=[(XLSX, _("Excel (.xlsx)")), (CSV, _("CSV (UTF-8)"))],
        initial=XLSX,
        widget=forms.RadioSelect,
    )

    def clean_purpose(self):
        purpose = clean_purpose(self.cleaned_data["purpose"])
        if not purpose:
            raise forms.ValidationError(_("请填写导出用途。"))
        return purpose


def export_view(view):
    """Mark a view as an export, so that the tests find every export by themselves."""
    view.export_view = True
    return view


def export_page(
    request,
    *,
    queryset,
    spec,
    title,
    back_url="",
    street=None,
    template_name="exports/export_form.html",
    extra_context=None,
):
    """An export's page: the purpose form, and the file once the form is filled in.

    GET without parameters shows the form (with the number of rows the user may export);
    GET with `purpose` and `format` returns the file; `full=1` adds the full ID numbers,
    for bureau staff only (404 for anyone else).
    """
    full = request.GET.get("full") == "1"
    form = ExportForm(request.GET if "purpose" in request.GET or "format" in request.GET else None)
    if full and not (can_export_full_id_numbers(request.user) and spec.has_id_numbers):
        raise Http404
    if form.is_bound and form.is_valid():
        return export(
            request=request,
            queryset=queryset,
            spec=spec,
            purpose=form.cleaned_data["purpose"],
            file_format=form.cleaned_data["format"],
            full_id_numbers=full,
            street=street,
        )
    context = {
        "form": form,
        "title": title,
        "back_url": back_url,
        "spec": spec,
        "row_count": queryset.visible_to(request.user).count(),
        "offer_full": spec.has_id_numbers and can_export_full_id_numbers(request.user),
        **(extra_context or {}),
    }
    return render(request, template_name, context)
