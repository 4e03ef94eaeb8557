"""The advisor pages: the roster, an advisor, the registry, filing, leaving and trainings.

Every row comes through `Model.objects.visible_to(request.user)`; an object outside the
user's scope answers 404 exactly like one that does not exist. Writes go through
`advisors.services`. Lists run a fixed number of queries whatever the number of advisors.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Prefetch, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors import services
from advisors.choices import FilingStatus, Skill
from advisors.forms import (
    AdvisorFilterForm,
    AdvisorForm,
    AttendanceForm,
    FileForm,
    LeaveForm,
    ReasonForm,
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
from changning_aid.scoping import scoped_get_or_404

PER_PAGE = 50


def can_keep(user):
    """Who keeps the registry: bureau staff and street managers (each within their scope)."""
    return user.is_bureau or user.is_street_manager


def can_view(user):
    """Who sees the advisor pages: keepers and advisors; nobody without personal data scope."""
    return can_keep(user) or user.is_advisor


def _forbidden(request, message, *, back_url=None):
    return render(
        request,
        "stations/forbidden.html",
        {"message": message, "back_url": back_url},
        status=403,
    )


def _add_errors(form, error):
    """Put a service's ValidationError on the form (field errors where the form has them)."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)


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


def roster(request):
    """人员清单: the advisors of the user's scope, filtered, searched, paginated."""
    user = request.user
    if not can_view(user):
        return _forbidden(request, _("您的账号无权查看社区救助顾问。"))
    advisors = _roster_queryset(user)
    form = AdvisorFilterForm(request.GET or None, user=user)
    filtered = False
    if form.is_valid():
        data = form.cleaned_data
        today = timezone.localdate()
        if data["q"].strip():
            q = data["q"].strip()
            advisors = advisors.filter(Q(name__icontains=q) | Q(mobile__icontains=q))
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
        filtered = any(value not in ("", None) for value in data.values())
    page = Paginator(advisors.order_by("street__code", "advisor_number"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "advisors/roster.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "can_keep": can_keep(user),
            "can_file": user.is_bureau,
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
        return _forbidden(
            request,
            _("只有街镇管理员和区民政局可以登记或修改顾问信息。"),
            back_url=reverse("advisors:detail", args=[advisor.pk]) if advisor else None,
        )
    form = AdvisorForm(request.POST or None, instance=advisor, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            saved = _save_advisor(form, user, advisor)
        except ValidationError as error:
            _add_errors(form, error)
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
            return _forbidden(
                request, str(error), back_url=reverse("advisors:detail", args=[advisor.pk])
            )
        except ValidationError as error:
            if form is None:
                messages.error(request, " ".join(error.messages))
                return redirect("advisors:detail", pk=advisor.pk)
            _add_errors(form, error)
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
        return _forbidden(request, _("只有区民政局可以查看待备案队列。"))
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
        return _forbidden(request, _("您的账号无权查看顾问培训。"))
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
        return _forbidden(request, _("只有街镇管理员和区民政局可以登记培训。"))
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
            _add_errors(form, error)
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
                _add_errors(form, error)
            else:
                messages.success(request, _("出勤已登记。"))
                return redirect("advisors:training_detail", pk=training.pk)
        if request.method == "POST" and form.errors:
            messages.error(request, _("出勤未登记:请按提示修改后再提交。"))
    elif request.method == "POST":
        return _forbidden(request, _("只有街镇管理员和区民政局可以登记出勤。"))
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
