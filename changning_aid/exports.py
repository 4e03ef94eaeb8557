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

- reads the rows through `queryset.visible_to(user)`, always, whatever queryset it is given,
  in chunks of `EXPORT_CHUNK` rows with their related rows (a fixed number of queries per
  chunk) into a write-only workbook, so that memory stays flat however many rows there are;
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

import contextvars
import csv
import datetime
import decimal
import functools
import io
import re
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from changning_aid.db_router import reporting
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
# The rows an export reads at a time (with their related rows: a few queries per chunk).
EXPORT_CHUNK = 2000


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
        return [text_of(column.header) for column in self.all_columns]

    @property
    def has_id_numbers(self):
        return any(column.sensitive == ID_NUMBER for column in self._resolved)


_TEXTS = {}
_TEXTS_MAX = 4096
_LANGUAGE = contextvars.ContextVar("changning_aid_exports_language", default=None)


def text_of(value):
    """`str(value)` of a lazy translation (a header, a label), made once per language.

    For the module-level constants of the exports and imports, which a long file reads for
    every row and cell (a lazy string translates again at each `str`). The cache holds the
    objects it was given, so that their ids stay theirs. Within `one_language()` the
    active language is not looked up again at each call.
    """
    if isinstance(value, str):
        return value
    key = (_LANGUAGE.get() or get_language(), id(value))
    entry = _TEXTS.get(key)
    if entry is None or entry[0] is not value:
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        entry = _TEXTS[key] = (value, str(value))
    return entry[1]


@contextmanager
def one_language():
    """Within the block (a whole file read or written), `text_of` takes the language
    active when it began."""
    token = _LANGUAGE.set(get_language())
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


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
    return _reader(type(obj), source)(obj)


def _reader(model, source):
    """A function of a row of `model` giving the value of `source` (see `Column`): made
    once per language, not per row; a field with choices reads its labels from a dict
    (what `get_FOO_display` gives, without its per-call work)."""
    if callable(source):
        return source
    return _path_reader(model, source, get_language())


@functools.lru_cache(maxsize=1024)
def _path_reader(model, source, language):
    *parents, last = source.split(".")
    model_field = _model_field(model, source)
    labels = None
    if model_field is not None and model_field.choices:
        labels = {value: str(label) for value, label in model_field.flatchoices}

    def read(obj):
        for part in parents:
            obj = getattr(obj, part, None)
            if obj is None:
                return None
        if labels is not None:
            value = getattr(obj, model_field.attname)
            return labels.get(value, value)
        value = getattr(obj, last, None)
        return value() if callable(value) else value

    return read


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


def table_rows(queryset, spec, *, full_id_numbers=False, chunk_size=None):
    """The rows of the export (header excluded), values masked and neutralised.

    A queryset is read in chunks of `chunk_size` rows (`EXPORT_CHUNK`) with the spec's related rows
    (`with_related`): a fixed number of queries per chunk, and only one chunk of objects
    in memory at a time, however many rows the export has.
    """
    columns = [(_reader(spec.model, column.source), column.sensitive) for column in spec._resolved]
    if isinstance(queryset, QuerySet):
        queryset = with_related(queryset, spec).iterator(chunk_size=chunk_size or EXPORT_CHUNK)
    for obj in queryset:
        yield [
            _cell(read(obj), sensitive, full_id_numbers=full_id_numbers)
            for read, sensitive in columns
        ]


def prefetched(obj, to_attr, related):
    """The related rows of `obj` that a `Prefetch(related, to_attr=to_attr)` of the spec put
    in a list (reading that list is much cheaper per row than a related manager's
    `.all()`), else those of its manager `related` (an object loaded without it)."""
    rows = getattr(obj, to_attr, None)
    return rows if rows is not None else getattr(obj, related).all()


def with_related(rows, spec):
    """`rows` with the spec's related rows joined and prefetched."""
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
    # The rows from the read replica, if there is one (changning_aid.db_router).
    with reporting():
        content = export_file(
            queryset.visible_to(user),
            spec,
            user=user,
            purpose=purpose,
            file_format=file_format,
            full_id_numbers=full_id_numbers,
            when=now,
        )
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


def export_file(rows, spec, *, user, purpose, file_format, full_id_numbers=False, when=None):
    """The content of an export file: the banner (`user`, `when`, `purpose`), the headers
    and `rows`, a queryset read in chunks (`table_rows`) as it is given: `export` gives it
    cut to the user's scope. Memory stays flat as rows grow: the rows go into the file
    chunk by chunk, and only the finished file is held."""
    when = when or timezone.now()
    head = [neutralise(banner(user, when, purpose, full_id_numbers=full_id_numbers))]
    writer = write_xlsx if file_format == XLSX else write_csv
    return writer(spec, head, table_rows(rows, spec, full_id_numbers=full_id_numbers))


def write_csv(spec, head, rows):
    """CSV in UTF-8 with a byte-order mark (so that Excel reads the Chinese right)."""
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(head)
    writer.writerow(spec.headers)
    for row in rows:
        writer.writerow(
            [value if isinstance(value, str) else neutralise(str(value)) for value in row]
        )
    text.flush()
    text.detach()
    return buffer.getvalue()


def write_xlsx(spec, head, rows):
    """An .xlsx workbook of one sheet; text cells are written as text, never as formulas.

    The workbook is write-only: rows go to a temporary file as they come, so memory stays
    flat. openpyxl takes a string for text unless it starts with `=` (a formula) or is an
    error code (`#N/A`): only those are given as cells forced to text (a cell object per
    value would double the work of a large export).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ERROR_CODES

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(spec.name))

    def text_cell(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell

    def cells(values):
        return [
            text_cell(value)
            if isinstance(value, str) and (value.startswith("=") or value in ERROR_CODES)
            else value
            for value in values
        ]

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
    """The first worksheet's rows as lists of text, row n of the sheet at index n - 1.

    Read by `_read_sheet` (a quarter of the time of openpyxl's row reader on a long list);
    a workbook it does not take is read by openpyxl itself, whose errors the callers
    report as a damaged file.
    """
    try:
        return _read_sheet(content)
    except Exception:  # noqa: BLE001 - anything unusual goes to openpyxl, which decides
        return _read_xlsx_openpyxl(content)


def _read_sheet(content):
    """The cells' values as openpyxl's read-only reader gives them with `data_only` (the
    values of its `_read_xlsx_openpyxl`), read from the sheet's XML in one pass.

    openpyxl reads the package (content types, shared strings, workbook, styles: which
    cell styles are dates, and the date system); the rows are read here: a row's number
    and a cell's column from their references (or following the previous one), missing
    rows kept as empty ones and a row numbered before the one read before left out, as
    openpyxl does (which, unlike this reader, also leaves out the rows past a sheet's
    stated dimension when that is wrong).
    """
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet
    from openpyxl.utils.cell import column_index_from_string
    from openpyxl.utils.datetime import from_excel, from_ISO8601
    from openpyxl.xml.constants import SHEET_MAIN_NS
    from openpyxl.xml.functions import iterparse

    reader = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        path = next(
            rel.target
            for _sheet, rel in reader.parser.find_sheets()
            if rel.target in reader.valid_files and "chartsheet" not in rel.Type
        )
        workbook, strings = reader.wb, reader.shared_strings
        dates, durations, epoch = (
            workbook._date_formats,
            workbook._timedelta_formats,
            workbook.epoch,
        )
        ns = f"{{{SHEET_MAIN_NS}}}"
        row_tag, cell_tag, value_tag = f"{ns}row", f"{ns}c", f"{ns}v"
        inline_tag, text_tag, run_tag = f"{ns}is", f"{ns}t", f"{ns}r"

        def inline(cell):
            node = cell.find(inline_tag)
            if node is None:
                return None
            plain = node.findtext(text_tag)
            runs = [run.findtext(text_tag) for run in node.findall(run_tag)]
            return "".join(part for part in (plain, *runs) if part is not None)

        def value_of(cell):
            kind = cell.get("t", "n")
            if kind == "inlineStr":
                return inline(cell)
            value = cell.findtext(value_tag) or None
            if value is None:
                return None
            if kind == "n":
                number = (
                    float(value) if ("." in value or "E" in value or "e" in value) else int(value)
                )
                style = int(cell.get("s") or 0)
                if style in dates:
                    try:
                        return from_excel(number, epoch, timedelta=style in durations)
                    except (OverflowError, ValueError):
                        return "#VALUE!"
                return number
            if kind == "s":
                return strings[int(value)]
            if kind == "b":
                return bool(int(value))
            if kind == "d":
                return from_ISO8601(value)
            return value

        rows = []
        last_row = 0
        with reader.archive.open(path) as source:
            for _event, element in iterparse(source):
                if element.tag != row_tag:
                    continue
                number = element.get("r")
                number = int(number) if number else last_row + 1
                last_row = number
                if number <= len(rows):
                    element.clear()
                    continue
                rows.extend([] for _ in range(number - 1 - len(rows)))
                cells = []
                column = 0
                for cell in element.iterfind(cell_tag):
                    reference = cell.get("r")
                    if reference:
                        column = column_index_from_string(reference.rstrip("0123456789"))
                    else:
                        column += 1
                    value = value_of(cell)
                    cells.extend("" for _ in range(column - len(cells)))
                    cells[column - 1] = "" if value is None else _text(value)
                element.clear()
                rows.append(cells)
        return rows
    finally:
        reader.archive.close()


def _read_xlsx_openpyxl(content):
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
