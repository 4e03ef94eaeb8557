"""The visit records (走访记录): the list with its filters, the full visit form with the needs
a visit raised, a visit's page, changing and withdrawing a visit, and visits in and out of
Excel (`visits.visit_io`).

Every row comes through `Model.objects.visible_to(request.user)`; a visit outside the
user's scope answers 404 exactly like one that does not exist. Writes go through
`visits.services`, which decide who may record, change and withdraw what (advisors their own
visits within the entry window, keepers any visit of their scope); the pages show the
buttons by the same rule (`services.may_change`). The list runs a fixed number of queries
whatever the number of visits.

Only keepers (street managers, bureau staff) export and import visits, as for the
checklists: the export of anyone else answers 404, the import pages a Chinese 403 page.
"""

import datetime
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.choices import RecipientStatus
from cases.models import Need, Recipient
from changning_aid import exports, imports
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404
from visits import services, visit_io
from visits.choices import FAILED_RESULTS, QUICK_CHECKS, VisitMethod
from visits.forms import VisitFilterForm, VisitForm, WithdrawForm, filter_visits, need_rows
from visits.models import Visit, VisitNeed, policy_for

PER_PAGE = 50
# A visit entered more than this many days after it took place is shown as 补录.
LATE_ENTRY_DAYS = 5
# The newest changes a visit's page shows; the audit pages hold the rest.
HISTORY_LIMIT = 30


def can_view(user):
    """Who sees visit records: advisors, street managers, bureau staff (each in scope)."""
    return user.role in services.WORKERS


def can_keep(user):
    """Who exports and imports visits: street managers and bureau staff."""
    return user.role in services.KEEPERS


def can_record(user):
    """Who may record visits: keepers, and advisors with their roster record."""
    if can_keep(user):
        return True
    return user.is_advisor and services.own_advisor(user) is not None


def need_count():
    """An annotation: the number of needs the outer visit raised."""
    counted = (
        VisitNeed.objects.filter(visit=OuterRef("pk"))
        .order_by()
        .values("visit")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def safe_next(request):
    """The local page the user came from (`next`), or ""."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith("/")
        and not target.startswith("//")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return ""


def is_late(visit):
    """Whether the visit was entered more than `LATE_ENTRY_DAYS` after it took place (补录)."""
    entered = timezone.localdate(visit.recorded_at)
    return (entered - visit.visited_on).days > LATE_ENTRY_DAYS


# The list ----------------------------------------------------------------------------------


def _filter_params(form):
    if not form.is_valid():
        return {}
    return {
        name: form.data[name]
        for name, value in form.cleaned_data.items()
        if value not in ("", None, False) and name in form.data
    }


def visit_list(request):
    """走访记录: the visits of the user's scope, filtered, searched, paginated."""
    user = request.user
    if not can_view(user):
        return forbidden(request, _("您的账号无权查看走访记录。"))
    visits = (
        Visit.objects.visible_to(user)
        .select_related("recipient__committee", "advisor", "followed_up_by")
        .annotate(need_count=need_count())
    )
    form = VisitFilterForm(request.GET or None, user=user)
    filtered, person = False, None
    if form.is_valid():
        visits = filter_visits(visits, form)
        filtered = form.filtered
        person = form.cleaned_data["recipient"]
    else:
        visits = visits.kept()
    page = Paginator(visits.order_by("-visited_on", "-visited_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    params = _filter_params(form)
    export_url = reverse("visits:export")
    if params:
        export_url += "?" + urlencode(params)
    today = timezone.localdate()
    for visit in page.object_list:
        visit.follow_up_overdue = visit.follow_up_open and visit.follow_up_by < today
    return render(
        request,
        "visits/visit_list.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "person": person,
            "can_keep": can_keep(user),
            "can_record": can_record(user),
            "export_url": export_url,
            "today": today,
        },
    )


# The visit form ----------------------------------------------------------------------------


def _own_advisor_or_refusal(request):
    """(own advisor or None, a 403 response or None) for the visit forms."""
    user = request.user
    if not can_view(user):
        return None, forbidden(request, _("您的账号不能登记走访。"))
    if not user.is_advisor:
        return None, None
    own = services.own_advisor(user)
    if own is None:
        return None, forbidden(
            request, _("您的账号尚未关联顾问档案,不能登记走访。请联系街镇管理员。")
        )
    return own, None


def _window_note(user, district_id):
    """What dates the user may give a visit, in words (advisors have a window)."""
    if not user.is_advisor:
        return _("街镇管理员和区民政局可登记今天及以前任何日期的走访(纸质记录补录)。")
    earliest, latest = services.entry_window(user, policy_for(district_id))
    return _("您可登记 %(earliest)s 至 %(latest)s 的走访;更早的走访请由街镇管理员补录。") % {
        "earliest": earliest.isoformat(),
        "latest": latest.isoformat(),
    }


def _check_needs(form, person, needs):
    """Refusals that the service would only find after writing the visit."""
    if not needs or person is None:
        return
    if form.cleaned_data.get("result") in FAILED_RESULTS:
        form.add_error("result", _("未成功的走访不能登记发现的需求。"))
    elif person.status != RecipientStatus.REGISTERED:
        form.add_error(None, _("已退出的人员不能登记新的需求。"))


def visit_create(request):
    """登记走访: the full form; `?recipient=<pk>` fixes the person, `?next=` the way back."""
    user = request.user
    own, refusal = _own_advisor_or_refusal(request)
    if refusal is not None:
        return refusal
    recipient = None
    if request.GET.get("recipient"):
        recipient = scoped_get_or_404(
            Recipient.objects.select_related("street", "committee", "advisor"),
            user,
            pk=request.GET["recipient"],
        )
    if own is not None:
        method = services.last_method(own)
    elif recipient is not None and recipient.advisor_id:
        method = services.last_method(recipient.advisor)
    else:
        method = VisitMethod.HOME
    data = request.POST if request.method == "POST" else None
    form = VisitForm(data, user=user, recipient=recipient, own_advisor=own, method=method)
    rows = need_rows(data)
    if data is not None and form.is_valid() & rows.is_valid():
        person = form.recipient_of()
        needs = rows.needs()
        _check_needs(form, person, needs)
        if not form.errors:
            try:
                visit = services.record_visit(
                    actor=user,
                    recipient=person,
                    advisor=own or form.cleaned_data["advisor"],
                    needs=needs,
                    **form.visit_values(),
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                form.add_error(None, str(error) or _("无权操作。"))
            except Http404:
                form.add_error(None, _("该人员不在您的管理范围内。"))
            else:
                messages.success(
                    request,
                    _("已登记走访:%(name)s,%(date)s,%(method)s。")
                    % {
                        "name": person.name,
                        "date": visit.visited_on.isoformat(),
                        "method": visit.get_method_display(),
                    },
                )
                return redirect(safe_next(request) or person.get_absolute_url())
    if data is not None:
        messages.error(request, _("走访未登记:请按提示修改后再提交。"))
    district_id = (
        recipient.street.district_id
        if recipient is not None
        else (own.street.district_id if own is not None else user.district_id)
    )
    if district_id is None and user.street_id:
        district_id = user.street.district_id
    return render(
        request,
        "visits/visit_form.html",
        {
            "form": form,
            "need_rows": rows,
            "recipient": recipient,
            "own_advisor": own,
            "next": safe_next(request),
            "window_note": _window_note(user, district_id),
            "back_url": safe_next(request)
            or (recipient.get_absolute_url() if recipient else reverse("visits:list")),
            "check_fields": [form[name] for name, _label in QUICK_CHECKS],
        },
    )


# A visit -----------------------------------------------------------------------------------


def _visit_queryset():
    return Visit.objects.select_related(
        "recipient__street",
        "recipient__committee",
        "advisor",
        "recorded_by",
        "withdrawn_by",
        "followed_up_by__advisor",
    )


def _get_visit(request, pk):
    return scoped_get_or_404(_visit_queryset(), request.user, pk=pk)


def visit_history(user, visit):
    """谁改了什么: the newest changes of the visit and of the needs it raised.

    From the audit trail's event tables (PostgreSQL triggers); `None` where there are none
    (SQLite). A fixed number of queries (see `cases.views.recipients.recipient_history`).
    """
    from django.db.models import CharField, F, Value

    from audit.context import tracking_supported
    from audit.selectors import change_event_details
    from audit.tracking import UPDATE, tracking_for

    if not tracking_supported():
        return None
    branches = []
    for model, lookup in ((Visit, "pgh_obj"), (VisitNeed, "visit")):
        tracking = tracking_for(model)
        branches.append(
            tracking.event_model._default_manager.filter(**{lookup: visit.pk})
            .annotate(
                ev_model=Value(tracking.key, output_field=CharField()),
                ev_id=F("pgh_id"),
                ev_at=F("pgh_created_at"),
            )
            .values("ev_model", "ev_id", "ev_at")
        )
    rows = branches[0].union(*branches[1:], all=True).order_by("-ev_at", "-ev_id", "ev_model")
    events = change_event_details(user, list(rows[:HISTORY_LIMIT]))
    derived = {str(Visit._meta.get_field("updated_at").verbose_name)}
    shown = []
    for event in events:
        event.changes = [change for change in event.changes if change.label not in derived]
        if event.changes or event.note or event.label != UPDATE:
            shown.append(event)
    return shown


def _audit_url(user, visit):
    from audit.scoping import can_read_audit

    if not can_read_audit(user):
        return ""
    query = urlencode({"model": Visit._meta.label, "object_id": visit.pk})
    return f"{reverse('audit:change_trail')}?{query}"


def visit_detail(request, pk):
    """A visit: what was found, the needs it raised, the follow-up, who entered it and when."""
    user = request.user
    visit = _get_visit(request, pk)
    needs = list(
        Need.objects.visible_to(user)
        .filter(raised_in_visits=visit)
        .select_related("advisor")
        .order_by("need_number")
    )
    completed = list(
        Visit.objects.visible_to(user)
        .filter(followed_up_by=visit)
        .select_related("advisor")
        .order_by("visited_on", "pk")
    )
    return render(
        request,
        "visits/visit_detail.html",
        {
            "visit": visit,
            "recipient": visit.recipient,
            "needs": needs,
            "completed": completed,
            "checks": [
                (label, getattr(visit, name), getattr(visit, f"get_{name}_display")())
                for name, label in QUICK_CHECKS
            ],
            "late": is_late(visit),
            "late_days": (timezone.localdate(visit.recorded_at) - visit.visited_on).days,
            "can_change": services.may_change(user, visit),
            "history": visit_history(user, visit),
            "audit_url": _audit_url(user, visit),
        },
    )


def _refuse_change(request, visit):
    if visit.withdrawn_at is not None:
        message = _("该走访记录已撤销,不能再修改或撤销。")
    else:
        message = _("顾问只能修改或撤销本人在补录期限内的走访记录;其他修改请联系街镇管理员。")
    return forbidden(request, message, back_url=visit.get_absolute_url())


# The fields changed together: a follow-up is its flag, its date and its note.
FOLLOW_UP_FIELDS = ("follow_up_required", "follow_up_by", "follow_up_note")


def visit_edit(request, pk):
    """修改走访记录, through `update_visit`; the person and the needs raised stay."""
    user = request.user
    visit = _get_visit(request, pk)
    if not can_view(user) or not services.may_change(user, visit):
        return _refuse_change(request, visit)
    own = services.own_advisor(user)
    initial = {name: getattr(visit, name) for name in VisitForm.VISIT_FIELDS}
    initial["advisor"] = visit.advisor_id
    data = request.POST if request.method == "POST" else None
    form = VisitForm(
        data, user=user, recipient=visit.recipient, own_advisor=own, visit=visit, initial=initial
    )
    if data is not None and form.is_valid():
        changed = set(form.changed_data)
        if changed & set(FOLLOW_UP_FIELDS):
            changed |= set(FOLLOW_UP_FIELDS)
        names = [name for name in (*VisitForm.VISIT_FIELDS, "advisor") if name in changed]
        changes = {name: form.cleaned_data[name] for name in names if name in form.fields}
        if own is not None:
            changes.pop("advisor", None)
        if not changes:
            messages.info(request, _("没有修改。"))
            return redirect(visit)
        try:
            services.update_visit(actor=user, visit=visit, **changes)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("走访记录已保存。"))
            return redirect(visit)
    if data is not None:
        messages.error(request, _("未保存:请按提示修改后再提交。"))
        visit.refresh_from_db()
    return render(
        request,
        "visits/visit_form.html",
        {
            "form": form,
            "visit": visit,
            "recipient": visit.recipient,
            "own_advisor": own,
            "window_note": _window_note(user, visit.recipient.street.district_id),
            "back_url": visit.get_absolute_url(),
            "check_fields": [form[name] for name, _label in QUICK_CHECKS],
        },
    )


def visit_withdraw(request, pk):
    """撤销走访记录: a confirmation page, then a POST with the reason; the row stays."""
    user = request.user
    visit = _get_visit(request, pk)
    if not can_view(user) or not services.may_change(user, visit):
        return _refuse_change(request, visit)
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_visit(actor=user, visit=visit, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=visit.get_absolute_url())
        else:
            messages.success(
                request,
                _("已撤销走访记录 %(number)s:不再计入每月走访,记录保留备查。")
                % {"number": visit.visit_number},
            )
            return redirect(visit)
    if request.method == "POST":
        messages.error(request, _("未撤销:请填写撤销原因。"))
    return render(
        request,
        "visits/visit_withdraw.html",
        {"visit": visit, "recipient": visit.recipient, "form": form},
    )


# In and out of Excel -----------------------------------------------------------------------


def _io_urls(pk=None):
    urls = {
        "list": reverse("visits:list"),
        "upload": reverse("visits:import"),
        "template": reverse("visits:import_template"),
        "export": reverse("visits:export"),
    }
    urls["done"] = urls["list"]
    if pk is not None:
        urls["preview"] = reverse("visits:import_preview", args=[pk])
    return urls


@exports.export_view
def visit_export(request):
    """Export the kept visits of the user's scope, with the list's filters (any period)."""
    user = request.user
    if not can_keep(user):
        raise Http404
    form = VisitFilterForm(request.GET, user=user)
    rows = Visit.objects.all()
    street = user.street if user.is_street_manager else None
    if form.is_valid():
        rows = filter_visits(rows, form)
        street = street or form.cleaned_data.get("street") or None
    # Withdrawn visits are not visits: the export holds the kept ones whatever the filter.
    rows = rows.kept().order_by("visited_on", "visit_number")
    params = _filter_params(form)
    params.pop("withdrawn", None)
    back_url = reverse("visits:list")
    if params:
        back_url += "?" + urlencode(params)
    return exports.export_page(
        request,
        queryset=rows,
        spec=visit_io.VISIT_EXPORT,
        title=_("导出走访记录"),
        back_url=back_url,
        street=street,
        extra_context={"hidden_fields": params},
    )


def _not_keeper(request):
    return forbidden(
        request,
        _("只有街镇管理员和区民政局可以导入走访记录。"),
        back_url=reverse("visits:list"),
    )


def visit_import_template(request):
    """The empty template of the visit import (headers, how to fill it in, advisor numbers)."""
    user = request.user
    if not can_keep(user):
        return _not_keeper(request)
    response = HttpResponse(
        visit_io.template_workbook(user),
        content_type=exports.CONTENT_TYPES[exports.XLSX],
    )
    response["Content-Disposition"] = content_disposition_header(True, _("走访记录-导入模板.xlsx"))
    patch_cache_control(response, no_store=True, private=True)
    return response


IMPORT_RULES = [
    gettext_lazy(
        "每行一次走访,走访编号留空;导入只新增走访。导出文件中已有的走访与系统一致时原样保留,"
        "有改动的行不能导入,请在走访记录页面修改。"
    ),
    gettext_lazy(
        "档案号须是您管理范围内的人员;姓名可留空,填写时须与档案号一致。"
        "顾问编号须是该人员所在街镇、走访当日在岗的顾问。"
    ),
    gettext_lazy(
        "走访日期不能晚于今天,可以是以前任何月份;走访方式、走访结果、四项情况按中文填写"
        "(见模板的填写说明)。无人在家、拒访登记在案,但不计入每月走访。"
    ),
    gettext_lazy(
        "同一人员、同一日期、同一顾问、同一方式的走访已登记(或在文件中重复)时不能再导入,"
        "以免重复计数。"
    ),
]


def visit_import(request):
    """Choose a file of paper visit records; it is kept for its preview, nothing is written."""
    user = request.user
    if not can_keep(user):
        return _not_keeper(request)
    return imports.upload_page(
        request,
        visit_io.VISITS,
        template_name="cases/io_import.html",
        preview_url=lambda pk: reverse("visits:import_preview", args=[pk]),
        context={
            "urls": _io_urls(),
            "street": user.street if user.is_street_manager else None,
            "rules": IMPORT_RULES,
            "lead": _(
                "新增纸质走访记录(可以是以前任何月份)。上传后先预览将要新增的走访,确认后才写入。"
            ),
            "export_label": _("导出走访记录"),
            "foreign_rule": _("其他街镇的人员或顾问,与不存在的编号一样不能导入。"),
        },
    )


def visit_import_preview(request, pk):
    """What a kept file would add, and its errors with Excel row numbers; POST confirms it."""
    user = request.user
    if not can_keep(user):
        raise Http404
    return imports.preview_page(
        request,
        visit_io.VISITS,
        pk,
        template_name="cases/io_preview.html",
        urls=_io_urls(pk),
        context={"urls": _io_urls(pk)},
    )


# The person's file -------------------------------------------------------------------------

# How many of a person's visits their file lists (the newest kept ones).
FILE_VISITS = 10


def recipient_visits(user, recipient):
    """The visits a person's file shows: the newest kept ones, and the withdrawn ones among
    them marked; with the number of kept visits. Three queries whatever the number."""
    visible = (
        Visit.objects.visible_to(user)
        .filter(recipient=recipient)
        .select_related("advisor")
        .annotate(need_count=need_count())
        .order_by("-visited_on", "-visited_at", "-pk")
    )
    kept = list(visible.kept()[:FILE_VISITS])
    withdrawn = visible.filter(withdrawn_at__isnull=False)
    if len(kept) == FILE_VISITS:
        withdrawn = withdrawn.filter(visited_on__gte=kept[-1].visited_on)
    shown = kept + list(withdrawn[:FILE_VISITS])
    shown.sort(key=lambda v: (v.visited_on, v.visited_at or datetime.time.min, v.pk), reverse=True)
    return {
        "visits": shown,
        "visit_count": Visit.objects.visible_to(user).kept().filter(recipient=recipient).count(),
        "visits_url": f"{reverse('visits:list')}?{urlencode({'recipient': recipient.pk})}",
        "visits_today": timezone.localdate(),
        "can_record_visit": (
            can_record(user)
            and recipient.status == RecipientStatus.REGISTERED
            and not recipient.is_anonymised
        ),
    }
