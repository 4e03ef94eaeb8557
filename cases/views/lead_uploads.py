"""The bureau's pages for other departments' lists (政策找人 线索名单).

A list is received (`lead_upload`: its source, its date, its file), its columns are mapped
once per source (`lead_upload_mapping`: the mapping is remembered, so that the next list
of the source is one click), and it is processed (`cases.leads.process_upload`); its
report (`lead_upload_detail`, `lead_upload_report`) says what became of every row. The
sources are kept on their own pages (`lead_sources`).

Only bureau staff use these pages: anyone else gets a Chinese 403 page; a list or source
of another district answers 404. Every row comes through `visible_to(request.user)`; the
history and the report run a fixed number of queries whatever the number of rows, and the
report (up to 200,000 rows, kept as a list on the upload) is paginated in Python. No page
and no download shows a full ID number: the report holds none, and the sample rows of a
list are masked.
"""

import csv
import io
import re
from functools import wraps
from types import SimpleNamespace

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.choices import AccessAction
from audit.services import record_access
from cases import leads
from cases.choices import LeadField, LeadRowOutcome
from cases.lead_models import (
    DEFAULT_FACT_COLUMNS,
    DEFAULT_MAPPING,
    Lead,
    LeadSource,
    LeadUpload,
)
from cases.lead_upload_forms import (
    LeadMappingForm,
    LeadSourceForm,
    LeadUploadForm,
    csv_as_utf8,
)
from cases.models import Recipient
from changning_aid import exports, imports
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.sensitive.masking import mask_id_number, mask_phone
from stations.models import Committee

PER_PAGE = 50
SAMPLE_ROWS = 3
TEMPLATE_HEADERS = [*DEFAULT_MAPPING.values(), *DEFAULT_FACT_COLUMNS]
REPORT_HEADERS = [
    gettext_lazy("行号"),
    gettext_lazy("处理结果"),
    gettext_lazy("编号"),
    gettext_lazy("原因"),
]

# The counts of an upload as the report shows them, in the order of its figures.
COUNTS = [
    (LeadRowOutcome.MATCHED, "rows_matched", gettext_lazy("已在册并记入档案")),
    (LeadRowOutcome.NEW_LEAD, "rows_new", gettext_lazy("新线索")),
    (LeadRowOutcome.MERGED, "rows_merged", gettext_lazy("并入已有线索")),
    (LeadRowOutcome.DUPLICATE, "rows_duplicate", gettext_lazy("重复")),
    (LeadRowOutcome.INVALID, "rows_invalid", gettext_lazy("无效")),
    (LeadRowOutcome.UNPLACEABLE, "rows_unplaceable", gettext_lazy("无法定位待分派")),
]

# What looks like an ID number (18 or 15 characters) or a mobile number in a list's cell.
_ID_LIKE = re.compile(r"(?<![0-9])(?:[0-9]{17}[0-9Xx]|[0-9]{15})(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
_SEPARATORS = re.compile(r"[\s\-]")


def _not_bureau(request):
    return forbidden(
        request,
        _("只有区民政局可以接收和处理其他部门的线索名单。"),
        back_url=reverse("home"),
    )


def bureau_only(view):
    """A page for bureau staff; anyone else gets the Chinese 403 page."""

    @wraps(view)
    def page(request, *args, **kwargs):
        if not request.user.is_bureau:
            return _not_bureau(request)
        return view(request, *args, **kwargs)

    return page


def bureau_object(queryset):
    """A page of one row of `queryset` (the view gets it instead of `pk`), for bureau staff.

    The row is looked up first within the user's scope (a copy of `queryset` cut to it at
    each request): a row the user cannot see answers 404 like one that does not exist,
    whatever the role (other roles see no list and no source at all); a visible row asked
    for by anyone but bureau staff gets the 403 page.
    """

    def decorate(view):
        @wraps(view)
        def page(request, pk):
            obj = get_object_or_404(queryset.visible_to(request.user), pk=pk)
            if not request.user.is_bureau:
                return _not_bureau(request)
            return view(request, obj)

        return page

    return decorate


def _page(request, rows):
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


# The history of lists ------------------------------------------------------------------------


@bureau_only
def upload_list(request):
    """Every list received by the district, newest first, with what became of its rows."""
    uploads = (
        LeadUpload.objects.visible_to(request.user)
        .select_related("source", "uploaded_by")
        .defer("content", "headers", "report")
    )
    return render(
        request,
        "cases/leads/upload_list.html",
        {"page_obj": _page(request, uploads)},
    )


@bureau_only
def list_template(request):
    """The default template of a list: its headers, and how to fill it in."""
    notes = [
        _(
            "第一个工作表的第一行是表头,请勿修改;从第二行起每人一行。"
            "其他部门的名单也可按原样上传,上传后设定各列的对应即可。"
        ),
        _("姓名、身份证号:必填;身份证号为完整的18位号码,校验不通过的行不会处理。"),
        _("居委代码:12位居委代码(见下表),据此分派给该居委的社区救助顾问;可不填。"),
        _("地址:未填居委代码时,按本区在册人员的地址定位居委;可不填。"),
        _("情况说明:来源部门掌握的情况(如残疾等级、医疗费用),记入线索或档案。"),
    ]
    committees = (
        Committee.objects.visible_to(request.user)
        .select_related("street")
        .order_by("street__code", "code")
    )
    tables = [
        (
            [_("居委代码"), _("居委"), _("街镇")],
            [(c.code, c.name, c.street.name) for c in committees],
        )
    ]
    spec = SimpleNamespace(name=_("线索名单"), headers=TEMPLATE_HEADERS)
    content = imports.template_workbook(SimpleNamespace(spec=spec), notes, tables)
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[exports.XLSX])
    response["Content-Disposition"] = content_disposition_header(True, _("线索名单-模板.xlsx"))
    patch_cache_control(response, no_store=True, private=True)
    return response


# Sources -------------------------------------------------------------------------------------


def mapping_lines(source):
    """The remembered mapping of a source as text lines: `身份证号 ← 证件号码`."""
    mapping = source.mapping or {}
    lines = [
        _("%(field)s ← %(column)s") % {"field": field.label, "column": mapping[field.value]}
        for field in LeadField
        if mapping.get(field.value)
    ]
    if source.fact_columns:
        lines.append(_("情况列:%(columns)s") % {"columns": "、".join(source.fact_columns)})
    return lines


@bureau_only
def source_list(request):
    """The departments whose lists the district receives, and their remembered mappings."""
    processed = Q(uploads__state=LeadUpload.State.PROCESSED)
    sources = (
        LeadSource.objects.visible_to(request.user)
        .annotate(
            list_count=Count("uploads", filter=processed),
            last_received_on=Max("uploads__received_on", filter=processed),
        )
        .order_by("-is_active", "name", "pk")
    )
    page_obj = _page(request, sources)
    for source in page_obj.object_list:
        source.mapping_lines = mapping_lines(source)
    return render(request, "cases/leads/source_list.html", {"page_obj": page_obj})


@bureau_only
def source_create(request):
    form = LeadSourceForm(request.POST or None, creating=True)
    if request.method == "POST" and form.is_valid():
        try:
            source = leads.create_source(
                actor=request.user,
                name=form.cleaned_data["name"],
                department=form.cleaned_data["department"],
                description=form.cleaned_data["description"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("已新增线索来源“%(name)s”。首次上传其名单时设定列对应。") % {"name": source},
            )
            return redirect("cases:lead_sources")
    return render(request, "cases/leads/source_form.html", {"form": form, "source": None})


@bureau_object(LeadSource.objects.all())
def source_edit(request, source):
    stored_name = source.name  # the form's validation sets what was typed on `source`
    form = LeadSourceForm(request.POST or None, instance=source)
    if request.method == "POST" and form.is_valid():
        try:
            _save_source(form, source)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已保存线索来源“%(name)s”。") % {"name": source})
            return redirect("cases:lead_sources")
    return render(
        request,
        "cases/leads/source_form.html",
        {
            "form": form,
            "source": source,
            "source_name": stored_name,
            "mapping_lines": mapping_lines(source),
        },
    )


@transaction.atomic
def _save_source(form, source):
    """Save a source's name, department, description and use; the name is unique within
    the district. (The mapping is set by the uploads, not here.)"""
    taken = (
        LeadSource.objects.filter(district=source.district_id, name=form.cleaned_data["name"])
        .exclude(pk=source.pk)
        .exists()
    )
    if taken:
        raise ValidationError({"name": _("已有同名的线索来源。")})
    try:
        with transaction.atomic():
            form.save()
    except IntegrityError:
        raise ValidationError({"name": _("已有同名的线索来源。")}) from None


# Receiving a list ---------------------------------------------------------------------------


@bureau_only
def upload_create(request):
    """Choose the source, the date and the file of a list; then its columns are mapped."""
    user = request.user
    form = LeadUploadForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        uploaded = data["file"]
        try:
            with transaction.atomic():
                source = data["source"] or leads.create_source(actor=user, name=data["new_source"])
                upload = leads.receive_list(
                    actor=user,
                    source=source,
                    received_on=data["received_on"],
                    file_name=uploaded.name,
                    file_format=uploaded.format,
                    content=uploaded.content,
                )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                add_service_errors(form, error, renamed={"name": "new_source"})
            else:
                # A problem of the file as a whole: shown at the file.
                form.add_error("file", error.messages)
        else:
            return redirect("cases:lead_upload_mapping", upload.pk)
    return render(
        request,
        "cases/leads/upload_form.html",
        {
            "form": form,
            "template_headers": TEMPLATE_HEADERS,
            "upload_max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
            "max_rows": leads.MAX_LEAD_ROWS,
        },
    )


@bureau_object(LeadUpload.objects.select_related("source"))
def upload_mapping(request, upload):
    """Map the columns of a received list (pre-filled from the source), then process it;
    or give it up (放弃)."""
    user = request.user
    if upload.state != LeadUpload.State.MAPPING:
        return redirect(upload)
    headers = leads.upload_headers(upload)
    source = upload.source
    if request.method == "POST" and "discard" in request.POST:
        return _discard(request, upload)
    if request.method == "POST":
        form = LeadMappingForm(request.POST, headers=headers)
        if form.is_valid():
            try:
                with transaction.atomic():
                    upload = leads.process_upload(
                        actor=user,
                        upload=upload,
                        mapping=form.cleaned_data["mapping"],
                        fact_columns=form.cleaned_data["facts"],
                    )
                    record_access(
                        request=request,
                        action=AccessAction.IMPORT,
                        obj=upload,
                        detail=_("线索名单 %(source)s(%(day)s):%(file)s,%(summary)s")
                        % {
                            "source": source.name,
                            "day": upload.received_on.isoformat(),
                            "file": upload.file_name,
                            "summary": summary(upload),
                        },
                    )
            except ValidationError as error:
                if LeadUpload.objects.filter(pk=upload.pk, state=LeadUpload.State.MAPPING).exists():
                    for message in error.messages:
                        form.add_error(None, message)
                else:
                    messages.info(request, _("该名单已经处理过了。"))
                    return redirect(upload)
            else:
                messages.success(
                    request,
                    _("名单 %(number)s 已处理:%(summary)s。")
                    % {"number": upload.number, "summary": summary(upload)},
                )
                return redirect(upload)
    else:
        mapping, facts = leads.suggested_mapping(source, headers)
        form = LeadMappingForm(
            initial=LeadMappingForm.initial_for(mapping, facts, headers), headers=headers
        )
    remembered_missing = []
    if source.has_mapping:
        remembered = [*source.mapping.values(), *(source.fact_columns or [])]
        remembered_missing = [header for header in remembered if header not in headers]
    return render(
        request,
        "cases/leads/upload_mapping.html",
        {
            "upload": upload,
            "source": source,
            "headers": headers,
            "form": form,
            "remembered": source.has_mapping,
            "remembered_lines": mapping_lines(source) if source.has_mapping else [],
            "remembered_missing": remembered_missing,
            "sample": sample_rows(upload, headers),
            "sample_size": SAMPLE_ROWS,
        },
    )


def _discard(request, upload):
    try:
        leads.discard_list(actor=request.user, upload=upload)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(upload)
    messages.info(
        request,
        _("已放弃名单 %(number)s(%(file)s),文件已删除,没有处理任何一行。")
        % {"number": upload.number, "file": upload.file_name},
    )
    return redirect("cases:lead_uploads")


def summary(upload):
    """The counts of a processed list in one line of Chinese."""
    parts = [_("共 %(n)s 行") % {"n": upload.rows_total}]
    parts += [f"{label} {getattr(upload, field)}" for _outcome, field, label in COUNTS]
    return ",".join(parts)


# The sample of a list ----------------------------------------------------------------------


def masked_cell(text):
    """A cell of a list as the mapping page may show it: ID numbers and mobile numbers
    masked, wherever they are in the cell."""
    compact = _SEPARATORS.sub("", text)
    if _ID_LIKE.fullmatch(compact):
        return mask_id_number(compact)
    text = _ID_LIKE.sub(lambda match: mask_id_number(match.group(0)), text)
    return _MOBILE.sub(lambda match: mask_phone(match.group(0)), text)


def sample_rows(upload, headers, count=SAMPLE_ROWS):
    """The first `count` data rows of a kept list (cells in the order of `headers`),
    masked. Only the start of the file is read, however long it is."""
    found = None
    rows = []
    try:
        table = _table(bytes(upload.content or b""), leads.upload_format(upload))
        try:
            for cells in table:
                cells = [exports.unneutralise(cell.strip()) for cell in cells]
                if not any(cells):
                    continue
                if found is None:
                    if [cell for cell in cells if cell] == headers:
                        found = [index for index, cell in enumerate(cells) if cell]
                    continue
                rows.append([masked_cell(cells[i]) if i < len(cells) else "" for i in found])
                if len(rows) >= count:
                    break
        finally:
            table.close()
    except Exception:
        # A sample is a help, not a check: the file is read in full when it is processed.
        return []
    return rows


def _table(content, file_format):
    """The rows of a file as lists of text, read lazily (a generator)."""
    if file_format == exports.XLSX:
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            for values in workbook.worksheets[0].iter_rows(values_only=True):
                yield [_cell_text(value) for value in values]
        finally:
            workbook.close()
    else:
        text = csv_as_utf8(content).decode("utf-8-sig", errors="replace")
        yield from csv.reader(io.StringIO(text, newline=""))


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# The report ----------------------------------------------------------------------------------


def count_figures(upload):
    """(outcome, label, count) of a processed list, in the order of the report's figures."""
    return [(outcome, label, getattr(upload, field)) for outcome, field, label in COUNTS]


@bureau_object(LeadUpload.objects.select_related("source", "uploaded_by").defer("content"))
def upload_detail(request, upload):
    """What became of a list's rows: the counts, then the rows, filterable by outcome."""
    user = request.user
    if upload.state == LeadUpload.State.MAPPING:
        return redirect("cases:lead_upload_mapping", upload.pk)
    outcome = request.GET.get("outcome", "")
    if outcome not in LeadRowOutcome.values:
        outcome = ""
    report = upload.report or []
    if outcome:
        report = [row for row in report if row[1] == outcome]
    page_obj = _page(request, report)
    page_obj.object_list = report_rows(user, page_obj.object_list)
    figures = count_figures(upload)
    return render(
        request,
        "cases/leads/upload_detail.html",
        {
            "upload": upload,
            "figures": figures,
            "tabs": [("", _("全部"), upload.rows_total)]
            + [(value, label, count) for value, label, count in figures],
            "outcome": outcome,
            "page_obj": page_obj,
            "unplaced_url": f"{reverse('cases:leads')}?placed=no",
        },
    )


def report_rows(user, rows):
    """The report rows of one page, with a link for each reference the user may open:
    a lead number of the district's leads, a file number of the district's register.
    Two queries whatever the number of rows."""
    references = sorted({row[2] for row in rows if row[2]})
    lead_ids = dict(
        Lead.objects.visible_to(user)
        .filter(lead_number__in=references)
        .values_list("lead_number", "pk")
    )
    file_ids = dict(
        Recipient.objects.visible_to(user)
        .filter(file_number__in=references)
        .values_list("file_number", "pk")
    )
    result = []
    for line, outcome, reference, reason in rows:
        if reference in lead_ids:
            url = reverse("cases:lead_detail", args=[lead_ids[reference]])
        elif reference in file_ids:
            url = reverse("cases:recipient_detail", args=[file_ids[reference]])
        else:
            url = ""
        result.append(
            {
                "line": line,
                "outcome": outcome,
                "outcome_label": LeadRowOutcome(outcome).label,
                "reference": reference,
                "url": url,
                "reason": reason,
            }
        )
    return result


@bureau_object(LeadUpload.objects.select_related("source").defer("content"))
def upload_report(request, upload):
    """The report of a processed list as .xlsx: the counts, then every row (references
    only: the report holds no name and no full ID number)."""
    if upload.state != LeadUpload.State.PROCESSED:
        messages.error(request, _("该名单尚未处理,没有处理报告。"))
        return redirect(upload)
    now = timezone.now()
    content = report_workbook(request.user, upload, now)
    record_access(
        request=request,
        action=AccessAction.EXPORT,
        obj=upload,
        detail=_("线索名单处理报告 %(number)s(%(source)s,%(day)s)")
        % {
            "number": upload.number,
            "source": upload.source.name,
            "day": upload.received_on.isoformat(),
        },
    )
    file_name = _("线索名单处理报告-%(number)s.xlsx") % {"number": upload.number}
    response = HttpResponse(content, content_type=exports.CONTENT_TYPES[exports.XLSX])
    response["Content-Disposition"] = content_disposition_header(True, file_name)
    patch_cache_control(response, no_store=True, private=True)
    return response


def report_workbook(user, upload, now):
    """The report as an .xlsx workbook: the exporter's line, a block naming the list and
    its counts, then the rows (行号, 处理结果, 编号, 原因). Text is never a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("处理报告"))

    def cells(values):
        result = []
        for value in values:
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=exports.neutralise(value))
                cell.data_type = "s"
            else:
                cell = WriteOnlyCell(sheet, value=value)
            result.append(cell)
        return result

    processed_at = timezone.localtime(upload.processed_at) if upload.processed_at else None
    head = [
        [exports.banner(user, now, _("线索名单处理报告"))],
        [_("批次号"), upload.number],
        [_("来源"), upload.source.name],
        [_("名单日期"), upload.received_on.isoformat()],
        [_("文件名"), upload.file_name],
        [_("处理时间"), f"{processed_at:%Y-%m-%d %H:%M}" if processed_at else ""],
        [_("行数"), upload.rows_total],
        *[[str(label), count] for _outcome, label, count in count_figures(upload)],
        [],
        [str(header) for header in REPORT_HEADERS],
    ]
    for values in head:
        sheet.append(cells(values))
    for line, outcome, reference, reason in upload.report or []:
        sheet.append(cells([line, str(LeadRowOutcome(outcome).label), reference, reason]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
