"""The pages of the leads (政策找人线索): the list with its filters and one search box, a
lead's page with its facts, visits and needs, and the actions of its path:
待核实 → 已走访 → 纳入 / 不符合 / 无法联系.

Every lead comes through `Lead.objects.visible_to(request.user)`: a lead outside the user's
scope answers 404 exactly like one that does not exist, on its page and on every action.
Street managers and advisors never see a lead that is not placed in a committee yet (the
bureau places it). Writes go through `cases.leads`, which check roles, scope and the path
again; their Chinese errors are shown on the lead's page with the form as it was typed.
Every view of a lead's page is a reading of personal data, recorded in the audit trail.
The list runs a fixed number of queries whatever the number of leads.
"""

import re

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import BooleanField, ExpressionWrapper, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import leads as lead_services
from cases.choices import CLOSED_LEAD_STATUSES, LeadStatus
from cases.lead_forms import (
    CLOSED,
    EVERY,
    OPEN,
    LeadAssignForm,
    LeadCloseForm,
    LeadEnrolForm,
    LeadFilterForm,
    LeadPlaceForm,
    LeadVisitForm,
)
from cases.lead_models import LEAD_NUMBER_PREFIX, Lead, LeadFact
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.pinyin import initials_q
from changning_aid.scoping import scoped_get_or_404
from changning_aid.sensitive.idnumbers import normalize_id_number
from visits.choices import QUICK_CHECKS
from visits.forms import need_rows
from visits.services import own_advisor
from visits.views import need_count

PER_PAGE = 50

_ID_TAIL = re.compile(r"[0-9]{3}[0-9X]")
_LEAD_NUMBER = re.compile(rf"{LEAD_NUMBER_PREFIX}[0-9]+")


def can_view(user):
    """Who works on leads: bureau staff, street managers and advisors (each in scope)."""
    return user.is_bureau or user.is_street_manager or user.is_advisor


def can_keep(user):
    """Who assigns advisors to leads: street managers and bureau staff."""
    return user.is_bureau or user.is_street_manager


def overdue_expression(today):
    """An annotation: whether the lead is open and older than `LEAD_VISIT_DAYS` (超期)."""
    return ExpressionWrapper(lead_services.overdue_q(today), output_field=BooleanField())


# The list -----------------------------------------------------------------------------------


def search_q(text):
    """The leads one search box finds: by name, by pinyin initials (`wxy` finds 王秀英), by
    the last 4 characters of the ID number (`123X`), by the whole number, or by the start of
    the 线索编号."""
    text = text.strip()
    found = Q(name__icontains=text) | initials_q("name_initials", text)
    number = normalize_id_number(text)
    if _ID_TAIL.fullmatch(number):
        found |= Q(id_tail=number)
    elif len(number) == 18:
        found |= Q(id_number__matches=number)
    if _LEAD_NUMBER.fullmatch(number):
        found |= Q(lead_number__startswith=number)
    return found


def filter_leads(leads, data, today):
    """The leads matching the list's filters (`LeadFilterForm.cleaned_data`)."""
    status = data["status"]
    if status == OPEN:
        leads = leads.open()
    elif status == CLOSED:
        leads = leads.filter(status__in=CLOSED_LEAD_STATUSES)
    elif status != EVERY:
        leads = leads.filter(status=status)
    if data["q"].strip():
        leads = leads.filter(search_q(data["q"]))
    if data.get("street"):
        leads = leads.filter(street=data["street"])
    if data["committee"]:
        leads = leads.filter(committee=data["committee"])
    if data["source"]:
        leads = leads.filter(pk__in=LeadFact.objects.filter(source=data["source"]).values("lead"))
    if data.get("placed") == "no":
        leads = leads.filter(committee__isnull=True)
    elif data.get("placed") == "yes":
        leads = leads.filter(committee__isnull=False)
    if data["found_from"]:
        leads = leads.filter(found_on__gte=data["found_from"])
    if data["found_to"]:
        leads = leads.filter(found_on__lte=data["found_to"])
    if data["overdue"]:
        leads = leads.filter(lead_services.overdue_q(today))
    return leads


def source_names(user, leads):
    """{lead id: [source names]} for the leads of a page, in one query."""
    ids = [lead.pk for lead in leads]
    if not ids:
        return {}
    names = {}
    rows = (
        LeadFact.objects.visible_to(user)
        .filter(lead__in=ids)
        .values_list("lead", "source__name")
        .order_by("lead", "source__name")
        .distinct()
    )
    for lead_id, name in rows:
        names.setdefault(lead_id, []).append(name)
    return names


def days_taken(lead, today):
    """Days since the lead was found (open), or the days it took (closed)."""
    if lead.is_open:
        return lead.days_open(today)
    return (lead.closed_on - lead.found_on).days if lead.closed_on else None


def lead_list(request):
    """政策找人线索: the leads of the user's scope, most sources first, filtered, paginated."""
    user = request.user
    if not can_view(user):
        return forbidden(request, _("您的账号无权查看政策找人线索。"))
    today = timezone.localdate()
    visible = Lead.objects.visible_to(user)
    leads = visible.select_related("street", "committee", "advisor").annotate(
        is_overdue=overdue_expression(today)
    )
    form = LeadFilterForm(request.GET or None, user=user)
    filtered = False
    if form.is_valid():
        leads = filter_leads(leads, form.cleaned_data, today)
        filtered = form.filtered
    else:
        leads = leads.open()
    page = Paginator(leads, PER_PAGE).get_page(request.GET.get("page"))
    names = source_names(user, page.object_list)
    for lead in page.object_list:
        lead.source_names = names.get(lead.pk, [])
        lead.days = days_taken(lead, today)
    return render(
        request,
        "cases/leads/lead_list.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "overdue_count": visible.filter(lead_services.overdue_q(today)).count(),
            "unplaced_count": (visible.open().unplaced().count() if user.is_bureau else 0),
            "visit_days": settings.LEAD_VISIT_DAYS,
        },
    )


# A lead's page ------------------------------------------------------------------------------


def _lead_queryset(today):
    return Lead.objects.select_related(
        "street", "committee", "advisor", "recipient", "closed_by", "first_upload"
    ).annotate(is_overdue=overdue_expression(today))


def _get_lead(request, pk):
    return scoped_get_or_404(_lead_queryset(timezone.localdate()), request.user, pk=pk)


def _facts_by_source(user, lead):
    """[(source, [facts newest first])], sources by name."""
    facts = (
        LeadFact.objects.visible_to(user)
        .filter(lead=lead)
        .select_related("source")
        .order_by("source__name", "-received_on", "-pk")
    )
    groups = {}
    for fact in facts:
        groups.setdefault(fact.source, []).append(fact)
    return list(groups.items())


def _permissions(user, lead):
    """Which action panels the page shows (the services decide again on submit)."""
    workable = lead.is_open and not lead.is_anonymised
    own = own_advisor(user) if user.is_advisor else None
    records = can_keep(user) or (own is not None and own.street_id == lead.street_id)
    return {
        "own_advisor": own,
        "can_visit": workable and lead.committee_id is not None and records,
        "can_enrol": workable and lead.status == LeadStatus.VISITED and can_view(user),
        "can_close": workable and can_view(user),
        "can_assign": workable and can_keep(user) and lead.street_id is not None,
        "can_place": workable and user.is_bureau,
    }


def _detail_context(request, lead, **forms):
    user = request.user
    today = timezone.localdate()
    allowed = _permissions(user, lead)
    # A refused form is shown again with its errors, even where the lead's state would not
    # offer it (the error says why).
    for flag, key in (
        ("can_visit", "visit_form"),
        ("can_enrol", "enrol_form"),
        ("can_close", "close_form"),
        ("can_assign", "assign_form"),
        ("can_place", "place_form"),
    ):
        allowed[flag] = allowed[flag] or key in forms
    own = allowed["own_advisor"]
    visits = list(
        lead.visits.kept()
        .select_related("advisor")
        .annotate(need_count=need_count())
        .order_by("-visited_on", "-visited_at", "-pk")
    )
    for visit in visits:
        visit.checks = [
            (label, getattr(visit, f"get_{name}_display")())
            for name, label in QUICK_CHECKS
            if getattr(visit, name)
        ]
    context = {
        "lead": lead,
        "facts_by_source": _facts_by_source(user, lead),
        "visits": visits,
        "needs": list(lead.needs.select_related("advisor").order_by("found_on", "need_number")),
        "days": days_taken(lead, today),
        "visit_days": settings.LEAD_VISIT_DAYS,
        "path": _path_steps(lead),
        **allowed,
    }
    if allowed["can_visit"]:
        context["visit_form"] = forms.get("visit_form") or LeadVisitForm(
            user=user, lead=lead, own_advisor=own
        )
        context["need_rows"] = forms.get("need_rows") or need_rows()
        context["check_fields"] = [context["visit_form"][name] for name, _label in QUICK_CHECKS]
    if allowed["can_enrol"]:
        context["enrol_form"] = forms.get("enrol_form") or LeadEnrolForm(user=user, lead=lead)
    if allowed["can_close"]:
        context["close_form"] = forms.get("close_form") or LeadCloseForm()
    if allowed["can_assign"]:
        context["assign_form"] = forms.get("assign_form") or LeadAssignForm(user=user, lead=lead)
    if allowed["can_place"]:
        context["place_form"] = forms.get("place_form") or LeadPlaceForm(user=user, lead=lead)
    return context


def _path_steps(lead):
    """The steps of the lead's path so far: (label, date, done)."""
    closing = lead.get_status_display() if not lead.is_open else _("纳入 / 不符合 / 无法联系")
    return [
        (_("发现(名单比对)"), lead.found_on, True),
        (_("定位到居委"), lead.placed_on, lead.committee_id is not None),
        (_("已走访(首次成功走访)"), lead.first_visited_on, lead.first_visited_on is not None),
        (closing, lead.closed_on, not lead.is_open),
    ]


def _render_detail(request, lead, status=200, **forms):
    from audit.choices import AccessAction
    from audit.services import record_access

    # The page shows the person's name, address and phone: a reading of personal data.
    record_access(
        request=request,
        action=AccessAction.VIEW_SENSITIVE,
        obj=lead,
        detail=_("查看政策找人线索"),
    )
    return render(
        request,
        "cases/leads/lead_detail.html",
        _detail_context(request, lead, **forms),
        status=status,
    )


def lead_detail(request, pk):
    """A lead: who, where, the facts by source, its visits and needs, and its path."""
    return _render_detail(request, _get_lead(request, pk))


# The actions of a lead's path ------------------------------------------------------------------


def _run(request, lead, form, service):
    """Run `service()` for a valid form: (result, None) on success; (None, a 403 page) when
    refused; (None, None) with the service's errors put on the form."""
    try:
        return service(), None
    except PermissionDenied as error:
        return None, forbidden(
            request, str(error) or _("无权操作。"), back_url=lead.get_absolute_url()
        )
    except ValidationError as error:
        add_service_errors(form, error)
    except Http404:
        form.add_error(
            None, _("所选的居委或顾问不在您的服务范围内,请联系街镇管理员或区民政局办理。")
        )
    return None, None


def _refused(request, lead, **forms):
    """The lead's page again, as it is in the database, with the forms as typed."""
    messages.error(request, _("操作未完成:请按提示修改后再提交。"))
    return _render_detail(request, _get_lead(request, lead.pk), **forms)


def lead_visit(request, pk):
    """登记走访 of a lead, with the needs it raised; a successful visit makes it 已走访."""
    user = request.user
    lead = _get_lead(request, pk)
    if request.method != "POST":
        return redirect(lead)
    own = own_advisor(user) if user.is_advisor else None
    if user.is_advisor and own is None:
        return forbidden(
            request,
            _("您的账号尚未关联顾问档案,不能登记走访。请联系街镇管理员。"),
            back_url=lead.get_absolute_url(),
        )
    form = LeadVisitForm(request.POST, user=user, lead=lead, own_advisor=own)
    rows = need_rows(request.POST)
    if form.is_valid() & rows.is_valid():
        visit, refusal = _run(
            request,
            lead,
            form,
            lambda: lead_services.record_lead_visit(
                actor=user,
                lead=lead,
                advisor=own or form.cleaned_data["advisor"],
                needs=rows.needs(),
                **form.visit_values(),
            ),
        )
        if refusal is not None:
            return refusal
        if visit is not None:
            lead.refresh_from_db(fields=["status"])
            messages.success(
                request,
                _("已登记走访:%(date)s,%(result)s。线索状态:%(status)s。")
                % {
                    "date": visit.visited_on.isoformat(),
                    "result": visit.get_result_display(),
                    "status": lead.get_status_display(),
                },
            )
            return redirect(lead)
    return _refused(request, lead, visit_form=form, need_rows=rows)


def lead_enrol(request, pk):
    """纳入: the person goes on the register; the page goes to the new file."""
    user = request.user
    lead = _get_lead(request, pk)
    if request.method != "POST":
        return redirect(lead)
    form = LeadEnrolForm(request.POST, user=user, lead=lead)
    if form.is_valid():
        data = form.cleaned_data
        recipient, refusal = _run(
            request,
            lead,
            form,
            lambda: lead_services.enrol_lead(
                actor=user,
                lead=lead,
                gender=data["gender"],
                categories=list(data["categories"]),
                key_groups=list(data["key_groups"]),
                current_from=data.get("current_from"),
                **form.recipient_values(),
            ),
        )
        if refusal is not None:
            return refusal
        if recipient is not None:
            messages.success(
                request,
                _("已纳入:%(name)s 已登记为困难人员,档案号 %(number)s。走访记录和需求已转入档案。")
                % {"name": recipient.name, "number": recipient.file_number},
            )
            return redirect(recipient)
    return _refused(request, lead, enrol_form=form)


def lead_close(request, pk):
    """不符合 / 无法联系, with a reason."""
    user = request.user
    lead = _get_lead(request, pk)
    if request.method != "POST":
        return redirect(lead)
    form = LeadCloseForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        closed, refusal = _run(
            request,
            lead,
            form,
            lambda: lead_services.close_lead(
                actor=user, lead=lead, status=data["status"], reason=data["reason"]
            ),
        )
        if refusal is not None:
            return refusal
        if closed is not None:
            messages.success(
                request,
                _("线索已办结:%(status)s。") % {"status": closed.get_status_display()},
            )
            return redirect(lead)
    return _refused(request, lead, close_form=form)


def lead_assign(request, pk):
    """分派顾问 (street managers, bureau staff)."""
    user = request.user
    lead = _get_lead(request, pk)
    if request.method != "POST":
        return redirect(lead)
    if not can_keep(user):
        return forbidden(
            request,
            _("只有街镇管理员或区民政局可以分派线索。"),
            back_url=lead.get_absolute_url(),
        )
    form = LeadAssignForm(request.POST, user=user, lead=lead)
    if form.is_valid():
        advisor = form.cleaned_data["advisor"]
        assigned, refusal = _run(
            request,
            lead,
            form,
            lambda: lead_services.assign_lead(actor=user, lead=lead, advisor=advisor),
        )
        if refusal is not None:
            return refusal
        if assigned is not None:
            messages.success(request, _("已分派给 %(name)s 核实。") % {"name": advisor.name})
            return redirect(lead)
    return _refused(request, lead, assign_form=form)


def lead_place(request, pk):
    """定位居委 (bureau staff): an unplaced lead, or one placed in the wrong committee."""
    user = request.user
    lead = _get_lead(request, pk)
    if request.method != "POST":
        return redirect(lead)
    if not user.is_bureau:
        return forbidden(request, _("只有区民政局可以定位线索。"), back_url=lead.get_absolute_url())
    form = LeadPlaceForm(request.POST, user=user, lead=lead)
    if form.is_valid():
        committee = form.cleaned_data["committee"]
        placed, refusal = _run(
            request,
            lead,
            form,
            lambda: lead_services.place_lead(actor=user, lead=lead, committee=committee),
        )
        if refusal is not None:
            return refusal
        if placed is not None:
            advisor = placed.advisor.name if placed.advisor_id else _("暂无,待街镇管理员分派")
            messages.success(
                request,
                _("已定位到 %(street)s %(committee)s;核实顾问:%(advisor)s。")
                % {
                    "street": committee.street.name,
                    "committee": committee.name,
                    "advisor": advisor,
                },
            )
            return redirect(lead)
    return _refused(request, lead, place_form=form)
