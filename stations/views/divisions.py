"""The browser division import, for the system administrator only.

Upload stores the file in a `DivisionImport` row with its preview (the planned counts, or
the file's errors); the preview page shows them and offers to confirm. Confirming plans
the stored file again: when the new plan is the one previewed, exactly that is written;
when the divisions changed in between, the new preview is stored and shown for another
confirmation. The file waits in the database, so any app server can confirm it.

Everyone but the system administrator gets 404, the same as for a page that does not exist.
"""

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from stations import divisions
from stations.forms_divisions import DivisionFileForm
from stations.models import DivisionImport

RECENT_IMPORTS = 10


def _require_system_admin(user):
    if not (user.is_active and (user.role == Role.SYSTEM_ADMIN or user.is_superuser)):
        raise Http404


def upload(request):
    """Choose a division file; it is stored with its preview and the preview page opens."""
    _require_system_admin(request.user)
    if request.method == "POST":
        form = DivisionFileForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            content = uploaded.read()
            record = DivisionImport.objects.create(
                uploaded_by=request.user,
                file_name=uploaded.name[:255],
                content=content,
                preview=divisions.preview_file(content, uploaded.name),
            )
            return redirect("stations:division_import_preview", pk=record.pk)
    else:
        form = DivisionFileForm()
    recent = DivisionImport.objects.select_related("uploaded_by").defer("content", "result")
    return render(
        request,
        "stations/division_import_upload.html",
        {"form": form, "recent_imports": recent[:RECENT_IMPORTS]},
    )


def preview(request, pk):
    """What an uploaded file would create and change (or its errors); POST confirms it."""
    _require_system_admin(request.user)
    if request.method == "POST":
        return _confirm(request, pk)
    record = get_object_or_404(
        DivisionImport.objects.select_related("uploaded_by").defer("content"), pk=pk
    )
    summary = record.result if record.applied_at else record.preview
    errors = summary.get("errors", [])
    return render(
        request,
        "stations/division_import_preview.html",
        {
            "record": record,
            "summary": summary,
            "errors": errors,
            "count_table": divisions.count_table(summary) if not errors else [],
            "changes": [divisions.describe_change(change) for change in summary["changes"]],
            "missing": [divisions.describe_missing(unit) for unit in summary["missing"]],
            "can_confirm": not record.applied_at and not errors and summary["has_changes"],
        },
    )


def _confirm(request, pk):
    """Write the stored file if its fresh plan is the one previewed; else preview again."""
    with transaction.atomic():
        # The lock makes a second confirmation wait, then see applied_at and stop.
        record = get_object_or_404(DivisionImport.objects.select_for_update(), pk=pk)
        if record.applied_at:
            messages.error(request, _("该文件已经导入,不能重复导入。"))
            return redirect("stations:division_import_preview", pk=record.pk)
        parsed = divisions.parse(bytes(record.content), record.file_name)
        if parsed.errors:
            messages.error(request, _("文件中有错误,不能导入。请修改后重新上传。"))
            return redirect("stations:division_import_preview", pk=record.pk)
        plan = divisions.plan(parsed.rows)
        summary = plan.summary()
        if summary != record.preview:
            record.preview = summary
            record.save(update_fields=["preview"])
            messages.warning(
                request,
                _(
                    "预览之后数据库中的区划已有变化,以下是按当前数据重新计算的预览,请核对后再次确认。"
                ),
            )
            return redirect("stations:division_import_preview", pk=record.pk)
        record.result = divisions.apply(plan)
        record.applied_at = timezone.now()
        record.save(update_fields=["result", "applied_at"])
    if summary["has_changes"]:
        messages.success(request, _("区划已导入。"))
    else:
        messages.success(request, _("没有变化:数据库中的区划已与文件一致。"))
    return redirect("stations:division_import_preview", pk=record.pk)
