"""The advisor pages: the roster, an advisor, the registry, filing, leaving and trainings,
and the roster's export and import (checklist 1, `advisors.roster_io`).

Every row comes through `Model.objects.visible_to(request.user)`; an object outside the
user's scope answers 404 exactly like one that does not exist. Writes go through
`advisors.services`. Lists run a fixed number of queries whatever the number of advisors.
"""

from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from advisors import roster_io, services
from advisors.choices import FilingStatus, Skill
from advisors.forms import (
    AdvisorFilterForm,
    AdvisorForm,
    AttendanceForm,
    FileForm,
    ImportConfirmForm,
    LeaveForm,
    ReasonForm,
    RosterImportForm,
    TrainingForm,
)
from advisors.models import (
    Advisor,
    AdvisorStation,
    FilingEvent,
    Training,
    TrainingAttendance,
    active_q,
)
from changning_aid import exports
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.pinyin import initials_q
from changning_aid.scoping import scoped_get_or_404
from changning_aid.uploads import discard_upload, pending_upload, store_upload

PER_PAGE = 50


def can_keep(user):
    """Who keeps the registry: bureau staff and street managers (each within their scope)."""
    return user.is_bureau or user.is_street_manager


def can_view(user):
    """Who sees the advisor pages: keepers and advisors; nobody without personal data scope."""
    return can_keep(user) or user.is_advisor


def _roster_queryset(user):
    return (
        Advisor.objects.visible_to(user)
        .select_related("street")
        .prefetch_related(
            Prefetch(
                "station_links",
                queryset=AdvisorStation.objects.select_related("station").order_by(
                    "-is_primary", "station"
                ),
            )
        )
    )


def filter_roster(advisors, data):
    """The advisors matching the roster's filters (`AdvisorFilterForm.cleaned_data`).

    The search finds a name or a phone containing it, and a search of Latin letters also
    finds the names with those pinyin initials (`zxm`: 张晓明; `changning_aid.pinyin`).
    """
    today = timezone.localdate()
    q = data["q"].strip()
    if q:
        advisors = advisors.filter(
            Q(name__icontains=q) | Q(mobile__icontains=q) | initials_q("name_initials", q)
        )
    if data["station"]:
        advisors = advisors.filter(station_links__station=data["station"])
    if data["background"]:
        advisors = advisors.filter(background=data["background"])
    if data["filing_status"]:
        advisors = advisors.filter(filing_status=data["filing_status"])
    if data["qualification"]:
        advisors = advisors.filter(social_work_level=data["qualification"])
    if data["state"] == "active":
        advisors = advisors.filter(active_q(today))
    elif data["state"] == "left":
        advisors = advisors.filter(left_on__isnull=False, left_on__lte=today)
    return advisors


def _filter_params(form):
    """The roster filters in use, as query parameters (for the export link and its form)."""
    if not form.is_valid():
        return {}
    return {
        name: form.data[name]
        for name, value in form.cleaned_data.items()
        if value not in ("", None) and name in form.data
    }


def roster(request):
    """人员清单: the advisors of the user's scope, filtered, searched, paginated."""
    user = request.user
    if not can_view(user):
        return forbidden(request, _("您的账号无权查看社区救助顾问。"))
    advisors = _roster_queryset(user)
    form = AdvisorFilterForm(request.GET or None, user=user)
    filtered = False
    if form.is_valid():
        advisors = filter_roster(advisors, form.cleaned_data)
        filtered = any(value not in ("", None) for value in form.cleaned_data.values())
    page = Paginator(advisors.order_by("street__code", "advisor_number"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    export_url = reverse("advisors:export")
    params = _filter_params(form)
    if params:
        export_url += "?" + urlencode(params)
    return render(
        request,
        "advisors/roster.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "can_keep": can_keep(user),
            "can_file": user.is_bureau,
            "export_url": export_url,
        },
    )


def _get_advisor(request, pk):
    return scoped_get_or_404(Advisor.objects.select_related("street", "user"), request.user, pk=pk)


def _detail(request, advisor, status=200, **forms):
    user = request.user
    links = AdvisorStation.objects.filter(advisor=advisor).select_related("station")
    events = FilingEvent.objects.visible_to(user).filter(advisor=advisor).select_related("by")
    attendances = (
        TrainingAttendance.objects.visible_to(user)
        .filter(advisor=advisor)
        .select_related("training")
        .order_by("-training__date", "-pk")
    )
    pending = advisor.filing_status == FilingStatus.PENDING
    submitted = bool(advisor.filing_submitted_at)
    context = {
        "advisor": advisor,
        "skills": [Skill(value).label for value in advisor.skills if value in Skill.values],
        "links": links.order_by("-is_primary", "station"),
        "events": events,
        "attendances": attendances,
        "is_active": advisor.is_active_on(timezone.localdate()),
        "can_keep": can_keep(user),
        "can_submit": user.is_street_manager and pending and not submitted,
        "can_file": user.is_bureau and pending and submitted,
        "can_revoke": user.is_bureau and advisor.filing_status != FilingStatus.REVOKED,
        "can_leave": can_keep(user) and not advisor.left_on,
        "file_form": forms.get("file_form") or FileForm(prefix="file"),
        "send_back_form": forms.get("send_back_form") or ReasonForm(prefix="back"),
        "revoke_form": forms.get("revoke_form") or ReasonForm(prefix="revoke"),
        "leave_form": forms.get("leave_form") or LeaveForm(prefix="leave"),
    }
    return render(request, "advisors/advisor_detail.html", context, status=status)


def advisor_detail(request, pk):
    """An advisor: details, stations, filing and its history, training history."""
    return _detail(request, _get_advisor(request, pk))


def _save_advisor(form, user, advisor=None):
    data = form.cleaned_data
    fields = {name: data[name] for name in form.Meta.fields}
    with transaction.atomic():
        if advisor is None:
            street = data["street"] if "street" in form.fields else user.street
            advisor = services.register_advisor(actor=user, street=street, **fields)
        else:
            advisor = services.update_advisor(actor=user, advisor=advisor, **fields)
        services.set_advisor_stations(
            actor=user, advisor=advisor, stations=list(data["stations"]), primary=data["primary"]
        )
    return advisor


def _advisor_form(request, advisor=None):
    user = request.user
    if not can_keep(user):
        return forbidden(
            request,
            _("只有街镇管理员和区民政局可以登记或修改顾问信息。"),
            back_url=reverse("advisors:detail", args=[advisor.pk]) if advisor else None,
        )
    form = AdvisorForm(request.POST or None, instance=advisor, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_advisor(form, user, advisor)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("顾问信息已保存。"))
            return redirect("advisors:detail", pk=saved.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("顾问信息未保存:请按提示修改后再提交。"))
    if advisor is not None:
        advisor.refresh_from_db()
    return render(request, "advisors/advisor_form.html", {"form": form, "advisor": advisor})


def advisor_create(request):
    """登记顾问."""
    return _advisor_form(request)


def advisor_edit(request, pk):
    """修改顾问信息."""
    return _advisor_form(request, _get_advisor(request, pk))


def _action(request, pk, run, success, form_class=None, prefix=None, form_key=None):
    """A POST button of the advisor page; GET goes back to the page."""
    advisor = _get_advisor(request, pk)
    if request.method != "POST":
        return redirect("advisors:detail", pk=advisor.pk)
    form = form_class(request.POST, prefix=prefix) if form_class else None
    if form is None or form.is_valid():
        try:
            run(advisor, form.cleaned_data if form else {})
        except PermissionDenied as error:
            return forbidden(
                request, str(error), back_url=reverse("advisors:detail", args=[advisor.pk])
            )
        except ValidationError as error:
            if form is None:
                messages.error(request, " ".join(error.messages))
                return redirect("advisors:detail", pk=advisor.pk)
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect("advisors:detail", pk=advisor.pk)
    advisor.refresh_from_db()
    messages.error(request, _("操作未完成:请按提示修改后再提交。"))
    return _detail(request, advisor, status=200, **{form_key: form})


def advisor_submit(request, pk):
    return _action(
        request,
        pk,
        lambda advisor, data: services.submit_for_filing(actor=request.user, advisor=advisor),
        _("已提交区民政局备案。"),
    )


def advisor_file(request, pk):
    return _action(
        request,
        pk,
        lambda advisor, data: services.file_advisor(
            actor=request.user,
            advisor=advisor,
            filing_number=data["filing_number"],
            filed_on=data["filed_on"],
        ),
        _("已备案。"),
        FileForm,
        "file",
        "file_form",
    )


def advisor_send_back(request, pk):
    return _action(
        request,
        pk,
        lambda advisor, data: services.send_back(
            actor=request.user, advisor=advisor, reason=data["reason"]
        ),
        _("已退回街镇。"),
        ReasonForm,
        "back",
        "send_back_form",
    )


def advisor_revoke(request, pk):
    return _action(
        request,
        pk,
        lambda advisor, data: services.revoke_filing(
            actor=request.user, advisor=advisor, reason=data["reason"]
        ),
        _("备案已注销。"),
        ReasonForm,
        "revoke",
        "revoke_form",
    )


def advisor_leave(request, pk):
    return _action(
        request,
        pk,
        lambda advisor, data: services.advisor_leave(
            actor=request.user, advisor=advisor, left_on=data["left_on"], reason=data["reason"]
        ),
        _("已办理离岗。"),
        LeaveForm,
        "leave",
        "leave_form",
    )


def filing_queue(request):
    """The bureau's queue: submitted advisors waiting to be filed."""
    if not request.user.is_bureau:
        return forbidden(request, _("只有区民政局可以查看待备案队列。"))
    advisors = (
        _roster_queryset(request.user)
        .filter(filing_status=FilingStatus.PENDING, filing_submitted_at__isnull=False)
        .order_by("filing_submitted_at", "pk")
    )
    page = Paginator(advisors, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "advisors/filing_queue.html", {"page_obj": page})


def training_list(request):
    """This year's trainings of the user's scope (district trainings shared with streets)."""
    if not can_view(request.user):
        return forbidden(request, _("您的账号无权查看顾问培训。"))
    year = timezone.localdate().year
    trainings = (
        Training.objects.visible_to(request.user)
        .filter(date__year=year)
        .select_related("street")
        .order_by("-date", "-pk")
    )
    page = Paginator(trainings, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "advisors/training_list.html",
        {"page_obj": page, "year": year, "can_keep": can_keep(request.user)},
    )


def training_create(request):
    """登记培训."""
    user = request.user
    if not can_keep(user):
        return forbidden(request, _("只有街镇管理员和区民政局可以登记培训。"))
    form = TrainingForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            training = services.record_training(
                actor=user,
                date=data["date"],
                title=data["title"],
                hours=data["hours"],
                kind=data["kind"],
                street=data.get("street"),
                trainer=data["trainer"],
                place=data["place"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("培训已登记,请登记出勤。"))
            return redirect("advisors:training_detail", pk=training.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("培训未保存:请按提示修改后再提交。"))
    return render(request, "advisors/training_form.html", {"form": form})


def training_detail(request, pk):
    """A training and its attendance; keepers record attendance of their own advisors."""
    user = request.user
    training = scoped_get_or_404(Training.objects.select_related("street", "district"), user, pk=pk)
    form = None
    if can_keep(user):
        form = AttendanceForm(
            request.POST if request.method == "POST" else None,
            user=user,
            training=training,
            prefix="attendance",
        )
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.record_attendance(
                    actor=user,
                    training=training,
                    advisor=data["advisor"],
                    attended=data["attended"],
                    remark=data["remark"],
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("出勤已登记。"))
                return redirect("advisors:training_detail", pk=training.pk)
        if request.method == "POST" and form.errors:
            messages.error(request, _("出勤未登记:请按提示修改后再提交。"))
    elif request.method == "POST":
        return forbidden(request, _("只有街镇管理员和区民政局可以登记出勤。"))
    attendances = (
        TrainingAttendance.objects.visible_to(user)
        .filter(training=training)
        .select_related("advisor", "advisor__street")
        .order_by("advisor__street__code", "advisor__advisor_number")
    )
    return render(
        request,
        "advisors/training_detail.html",
        {"training": training, "attendances": attendances, "form": form},
    )


# The roster in and out (checklist 1) -------------------------------------------------------


@exports.export_view
def roster_export(request):
    """Export the roster of the user's scope, with the roster's filters, as Excel or CSV.

    Street managers export their street's advisors, bureau staff their district's; other
    roles get 404, as for every export of the project.
    """
    user = request.user
    if not can_keep(user):
        raise Http404
    form = AdvisorFilterForm(request.GET, user=user)
    advisors = Advisor.objects.all()
    if form.is_valid():
        advisors = filter_roster(advisors, form.cleaned_data)
    params = _filter_params(form)
    back_url = reverse("advisors:roster")
    if params:
        back_url += "?" + urlencode(params)
    return exports.export_page(
        request,
        queryset=advisors,
        spec=roster_io.ROSTER_EXPORT,
        title=_("导出社区救助顾问人员清单"),
        back_url=back_url,
        street=user.street if user.is_street_manager else None,
        extra_context={"hidden_fields": params},
    )


def roster_import_template(request):
    """The empty roster template (headers, how to fill it in, the station codes)."""
    user = request.user
    if not can_keep(user):
        return forbidden(request, _("只有街镇管理员和区民政局可以导入人员清单。"))
    response = HttpResponse(
        roster_io.template_workbook(user), content_type=exports.CONTENT_TYPES[exports.XLSX]
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _("社区救助顾问人员清单-导入模板.xlsx")
    )
    patch_cache_control(response, no_store=True, private=True)
    return response


def roster_import(request):
    """Choose a roster file; it is kept for its preview, and nothing is written yet."""
    user = request.user
    if not can_keep(user):
        return forbidden(request, _("只有街镇管理员和区民政局可以导入人员清单。"))
    if request.method == "POST":
        form = RosterImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = store_upload(
                user=user, kind=roster_io.UPLOAD_KIND, upload=form.cleaned_data["file"]
            )
            return redirect("advisors:import_preview", pk=upload.pk)
    else:
        form = RosterImportForm()
    return render(
        request,
        "advisors/roster_import.html",
        {
            "form": form,
            "upload_max_mb": settings.UPLOAD_MAX_BYTES // (1024 * 1024),
            "retention_minutes": settings.UPLOAD_RETENTION_SECONDS // 60,
            "street": user.street if user.is_street_manager else None,
        },
    )


def _plan(user, upload, *, lock=False):
    file_format = Path(upload.file_name).suffix.lower().lstrip(".")
    return roster_io.plan_import(
        user=user, content=bytes(upload.content), file_format=file_format, lock=lock
    )


def roster_import_preview(request, pk):
    """What a kept roster file would create and change, and its errors; POST confirms it.

    The file is its uploader's alone: anyone else, and an expired file, get 404.
    """
    user = request.user
    upload = pending_upload(user=user, kind=roster_io.UPLOAD_KIND, pk=pk)
    if upload is None or not can_keep(user):
        raise Http404
    if request.method == "POST":
        return _confirm_import(request, pk)
    plan = _plan(user, upload)
    return render(
        request,
        "advisors/roster_import_preview.html",
        {
            "upload": upload,
            "plan": plan,
            "confirm_form": ImportConfirmForm(initial={"digest": plan.digest()}),
            "can_confirm": plan.has_changes and not plan.errors,
        },
    )


def _confirm_import(request, pk):
    """Write the kept file, all or nothing, if its plan is still the one previewed."""
    from audit.choices import AccessAction
    from audit.services import record_access

    user = request.user
    preview_url = reverse("advisors:import_preview", args=[pk])
    form = ImportConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("确认信息不完整,没有导入任何数据。请核对预览后再确认。"))
        return redirect(preview_url)
    try:
        with transaction.atomic():
            # The lock makes a second confirmation wait, then find the file gone.
            upload = pending_upload(user=user, kind=roster_io.UPLOAD_KIND, pk=pk, for_update=True)
            if upload is None:
                messages.error(request, _("该文件已经导入或已过期删除,请重新上传。"))
                return redirect("advisors:import")
            plan = _plan(user, upload, lock=True)
            if plan.errors:
                messages.error(request, _("文件中有错误,没有导入任何数据。请修改后重新上传。"))
                return redirect(preview_url)
            if plan.digest() != form.cleaned_data["digest"]:
                messages.error(
                    request,
                    _(
                        "预览之后顾问数据已有变化,没有导入任何数据。"
                        "以下是按当前数据重新生成的预览,请核对后再确认。"
                    ),
                )
                return redirect(preview_url)
            if not plan.has_changes:
                discard_upload(upload)
                messages.info(request, _("没有变化:人员清单已与文件一致。"))
                return redirect("advisors:roster")
            created, changed = roster_io.apply_plan(actor=user, plan=plan)
            discard_upload(upload)
            streets = plan.streets()
            record_access(
                request=request,
                action=AccessAction.IMPORT,
                street=streets[0] if len(streets) == 1 else None,
                detail=_("%(name)s:%(file)s,新增 %(created)s 人,修改 %(changed)s 人")
                % {
                    "name": roster_io.ROSTER_EXPORT.name,
                    "file": upload.file_name,
                    "created": created,
                    "changed": changed,
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
        _("人员清单已导入:新增 %(created)s 人,修改 %(changed)s 人。")
        % {"created": created, "changed": changed},
    )
    return redirect("advisors:roster")
