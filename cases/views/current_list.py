"""The monthly list of current recipients in (`cases.current_list_io`): template, upload, preview.

Only keepers (bureau staff, street managers) import the list: the upload page and the
template answer anyone else with a Chinese 403 page, the preview with 404 (a kept file is
its uploader's alone, as every import of the project). The preview shows who continues,
joins, is newly registered and ends; the confirmation plans the kept file again under locks
and writes it only when the plan is the one previewed and has no error: all or nothing, with
one audit record (导入).
"""

from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.choices import AccessAction
from audit.services import record_access
from cases import current_list_io, services
from cases.views.checklists import can_keep
from changning_aid import exports, imports
from changning_aid.pages import forbidden
from changning_aid.uploads import discard_upload, pending_upload, store_upload


class CurrentListForm(imports.ImportForm):
    """The month of the list (this month or last month) and its file."""

    month = forms.ChoiceField(label=gettext_lazy("名单月份"))

    field_order = ["month", "file"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].choices = current_list_io.month_choices()
        self.fields["file"].label = gettext_lazy("名单文件")


class ListConfirmForm(imports.ConfirmForm):
    """Confirms the preview the user saw: its month and its fingerprint."""

    month = forms.CharField(widget=forms.HiddenInput, max_length=7)


def _not_keeper(request):
    return forbidden(
        request,
        _("只有街镇管理员和区民政局可以导入现有救助对象月度名单。"),
        back_url=reverse("cases:recipients"),
    )


def _preview_url(pk, first):
    url = reverse("cases:current_list_import_preview", args=[pk])
    return f"{url}?{urlencode({'month': current_list_io.month_value(first)})}"


def current_list_template(request):
    """The empty template of the monthly list (headers, how to fill it in, the codes)."""
    user = request.user
    if not can_keep(user):
        return _not_keeper(request)
    response = HttpResponse(
        current_list_io.template_workbook(user),
        content_type=exports.CONTENT_TYPES[exports.XLSX],
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("%(name)s-导入模板.xlsx") % {"name": current_list_io.LIST_NAME}
    )
    patch_cache_control(response, no_store=True, private=True)
    return response


def current_list_import(request):
    """Choose the month and the file of a list; it is kept for its preview, nothing is written."""
    user = request.user
    if not can_keep(user):
        return _not_keeper(request)
    if request.method == "POST":
        form = CurrentListForm(request.POST, request.FILES)
        if form.is_valid():
            first = current_list_io.parse_month(form.cleaned_data["month"])
            upload = store_upload(
                user=user, kind=current_list_io.UPLOAD_KIND, upload=form.cleaned_data["file"]
            )
            return redirect(_preview_url(upload.pk, first))
    else:
        first = current_list_io.parse_month(request.GET.get("month", ""))
        first = first or services.list_months()[0]
        form = CurrentListForm(initial={"month": current_list_io.month_value(first)})
    return render(
        request,
        "cases/current_list_import.html",
        {
            "form": form,
            "list_name": current_list_io.LIST_NAME,
            "street": user.street if user.is_street_manager else None,
            "max_rows": current_list_io.MAX_ROWS,
            "upload_max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
            "retention_minutes": settings.UPLOAD_RETENTION_SECONDS // 60,
        },
    )


def current_list_import_preview(request, pk):
    """What a kept list would change for its month, and its errors; POST confirms it."""
    user = request.user
    if not can_keep(user):
        raise Http404
    upload = pending_upload(user=user, kind=current_list_io.UPLOAD_KIND, pk=pk)
    if upload is None:
        raise Http404
    if request.method == "POST":
        return _confirm(request, pk)
    first = current_list_io.parse_month(request.GET.get("month", ""))
    if first is None:
        messages.error(request, _("名单月份已不可导入(只能导入本月或上月的名单),请重新选择。"))
        return redirect("cases:current_list_import")
    plan = current_list_io.plan_upload(user, upload, first)
    return render(
        request,
        "cases/current_list_preview.html",
        {
            "upload": upload,
            "plan": plan,
            "list_name": current_list_io.LIST_NAME,
            "month_label": current_list_io.month_label(first),
            "is_last_month": first != services.list_months()[0],
            "preview_rows": current_list_io.PREVIEW_ROWS,
            "preview_slice": f":{current_list_io.PREVIEW_ROWS}",
            "confirm_form": ListConfirmForm(
                initial={
                    "digest": plan.digest(),
                    "month": current_list_io.month_value(first),
                }
            ),
        },
    )


def _confirm(request, pk):
    """Write the kept list, all or nothing, if its plan is still the one previewed."""
    user = request.user
    form = ListConfirmForm(request.POST)
    first = current_list_io.parse_month(form.data.get("month", "")) if form.is_valid() else None
    upload_url = reverse("cases:current_list_import")
    if first is None:
        messages.error(request, _("确认信息不完整,没有导入任何数据。请重新上传名单。"))
        return redirect(upload_url)
    preview_url = _preview_url(pk, first)
    try:
        with transaction.atomic():
            # The lock makes a second confirmation wait, then find the file gone.
            upload = pending_upload(
                user=user, kind=current_list_io.UPLOAD_KIND, pk=pk, for_update=True
            )
            if upload is None:
                messages.error(request, _("该文件已经导入或已过期删除,请重新上传。"))
                return redirect(upload_url)
            plan = current_list_io.plan_upload(user, upload, first, lock=True)
            if plan.errors:
                messages.error(request, _("名单中有错误,没有导入任何数据。请修改后重新上传。"))
                return redirect(preview_url)
            if plan.digest() != form.cleaned_data["digest"]:
                messages.error(
                    request,
                    _(
                        "预览之后数据已有变化,没有导入任何数据。"
                        "以下是按当前数据重新生成的预览,请核对后再确认。"
                    ),
                )
                return redirect(preview_url)
            if not plan.has_changes:
                discard_upload(upload)
                messages.info(request, _("没有变化:现有救助对象已与名单一致。"))
                return redirect("cases:recipients")
            counts = current_list_io.apply_plan(user, plan)
            discard_upload(upload)
            summary = _summary(counts)
            record_access(
                request=request,
                action=AccessAction.IMPORT,
                street=plan.streets[0] if len(plan.streets) == 1 else None,
                detail=_("%(name)s(%(month)s):%(file)s,%(summary)s")
                % {
                    "name": current_list_io.LIST_NAME,
                    "month": current_list_io.month_label(first),
                    "file": upload.file_name,
                    "summary": summary,
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
        return redirect(preview_url)
    messages.success(
        request,
        _("%(month)s现有救助对象名单已导入:%(summary)s。")
        % {"month": current_list_io.month_label(first), "summary": summary},
    )
    return redirect("cases:recipients")


def _summary(counts):
    return (
        _("继续 %(continue)s 人,新纳入 %(join)s 人,新登记 %(register)s 人,结束 %(end)s 人") % counts
    )
