"""The browser division import, for the system administrator only.

The file goes the project's one upload path (`changning_aid.uploads`): the form checks
its type and size, the upload view previews it and keeps a `DivisionImport` row with the
preview (the planned counts, or the file's errors), and the file itself, when it can be
imported, as a `PendingUpload` of its uploader. Confirming plans the kept file again: when
the new plan is the one previewed, exactly that is written and the file is deleted; when
the divisions changed in between, the new preview is stored and shown for another
confirmation. A file not confirmed within the hour is deleted (`purge_uploads`); its
preview stays, and says that the file must be uploaded again.

Everyone but the system administrator gets 404, the same as for a page that does not exist.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef
from django.db.models.functions import Cast
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from changning_aid.models import PendingUpload
from changning_aid.uploads import discard_upload, pending_upload, store_upload
from stations import divisions
from stations.forms_divisions import DivisionFileForm
from stations.models import DivisionImport

RECENT_IMPORTS = 10
# The kind of the pending uploads of this import (changning_aid.uploads).
UPLOAD_KIND = "stations.division_import"


def _require_system_admin(user):
    if not (user.is_active and (user.role == Role.SYSTEM_ADMIN or user.is_superuser)):
        raise Http404


def _imports(user):
    return DivisionImport.objects.visible_to(user)


def _with_waiting_file(imports):
    """Annotate `waiting`: whether the import's file is still kept for its confirmation."""
    files = PendingUpload.objects.current().filter(
        kind=UPLOAD_KIND,
        subject_type=ContentType.objects.get_for_model(DivisionImport),
        subject_id=Cast(OuterRef("pk"), output_field=CharField()),
    )
    return imports.annotate(waiting=Exists(files))


def upload(request):
    """Choose a division file; it is kept with its preview and the preview page opens."""
    _require_system_admin(request.user)
    if request.method == "POST":
        form = DivisionFileForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            preview = divisions.preview_file(uploaded.content, uploaded.name)
            record = DivisionImport.objects.create(
                uploaded_by=request.user,
                file_name=uploaded.name,
                # The bytes wait in a PendingUpload, deleted after the confirmation.
                content=b"",
                preview=preview,
            )
            if not preview.get("errors"):
                store_upload(user=request.user, kind=UPLOAD_KIND, upload=uploaded, subject=record)
            return redirect("stations:division_import_preview", pk=record.pk)
    else:
        form = DivisionFileForm()
    recent = _with_waiting_file(
        _imports(request.user).select_related("uploaded_by").defer("content", "result")
    )
    return render(
        request,
        "stations/division_import_upload.html",
        {
            "form": form,
            "recent_imports": recent[:RECENT_IMPORTS],
            "upload_max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
        },
    )


def preview(request, pk):
    """What an uploaded file would create and change (or its errors); POST confirms it."""
    _require_system_admin(request.user)
    if request.method == "POST":
        return _confirm(request, pk)
    record = get_object_or_404(
        _imports(request.user).select_related("uploaded_by").defer("content"), pk=pk
    )
    summary = record.result if record.applied_at else record.preview
    errors = summary.get("errors", [])
    importable = not record.applied_at and not errors and summary["has_changes"]
    waiting = importable and (
        pending_upload(user=request.user, kind=UPLOAD_KIND, subject=record) is not None
    )
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
            "can_confirm": waiting,
            "file_gone": importable and not waiting,
            "uploaded_by_other": record.uploaded_by_id != request.user.pk,
        },
    )


def _confirm(request, pk):
    """Write the kept file if its fresh plan is the one previewed; else preview again."""
    from audit.choices import AccessAction
    from audit.services import record_access

    with transaction.atomic():
        # The lock makes a second confirmation wait, then see applied_at and stop.
        record = get_object_or_404(_imports(request.user).select_for_update(), pk=pk)
        if record.applied_at:
            messages.error(request, _("该文件已经导入,不能重复导入。"))
            return redirect("stations:division_import_preview", pk=record.pk)
        if record.preview.get("errors"):
            messages.error(request, _("文件中有错误,不能导入。请修改后重新上传。"))
            return redirect("stations:division_import_preview", pk=record.pk)
        kept = pending_upload(user=request.user, kind=UPLOAD_KIND, subject=record, for_update=True)
        if kept is None:
            messages.error(request, _file_gone_message(record, request.user))
            return redirect("stations:division_import_preview", pk=record.pk)
        parsed = divisions.parse(bytes(kept.content), kept.file_name)
        if parsed.errors:
            discard_upload(kept)
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
        discard_upload(kept)
        record_access(
            request=request, action=AccessAction.IMPORT, obj=record, detail=record.file_name
        )
    if summary["has_changes"]:
        messages.success(request, _("区划已导入。"))
    else:
        messages.success(request, _("没有变化:数据库中的区划已与文件一致。"))
    return redirect("stations:division_import_preview", pk=record.pk)


def _file_gone_message(record, user):
    if record.uploaded_by_id != user.pk:
        return _("只有上传该文件的人可以确认导入。如需导入,请重新上传文件。")
    return _("上传的文件超过1小时未确认,已按规定删除。请重新上传后再确认。")
