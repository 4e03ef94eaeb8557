"""The pages of the people in hardship (困难人员): the list with its one search box, the
register, a person's file with everything in order, editing, the current-recipient periods,
leaving the register, and the hand-over when an advisor leaves. The file also shows what
other departments' lists said of the person (部门名单情况, 政策找人), with their 情况变化
to check (acknowledged through `visits:fact_acknowledge`, shared with the advisor's desk).

Every row comes through `Model.objects.visible_to(request.user)`; a person outside the
user's scope answers 404 exactly like one that does not exist. Writes go through
`cases.services`. The list and the file run a fixed number of queries whatever the number
of people, needs and services.
"""

import re
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors.models import Advisor, active_q
from cases import services
from cases.choices import OPEN_LEAD_STATUSES, OPEN_NEED_STATUSES, RecipientStatus, ServiceStep
from cases.forms import (
    EndCurrentForm,
    ExitForm,
    HandoverForm,
    RecipientFilterForm,
    RecipientForm,
    StartCurrentForm,
)
from cases.models import (
    CurrentPeriod,
    Evaluation,
    Lead,
    LeadFact,
    Need,
    NeedResource,
    Recipient,
    RecipientCategory,
    RecipientKeyGroup,
    ServiceRecord,
)
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.pinyin import initials_q
from changning_aid.scoping import scoped_get_or_404
from changning_aid.sensitive.idnumbers import normalize_id_number

PER_PAGE = 50
# The newest changes the file shows; the audit pages hold the rest.
HISTORY_LIMIT = 30


def can_keep(user):
    """Who keeps the register's periods, exits and hand-overs: bureau staff, street managers."""
    return user.is_bureau or user.is_street_manager


def can_view(user):
    """Who sees people in hardship: keepers and advisors (each within their scope)."""
    return can_keep(user) or user.is_advisor


def can_acknowledge_facts_of(user, recipient):
    """Who checks a 情况变化 on a person's file (已核实): keepers (the person is in their
    scope, or they would not see it) and the person's responsible advisor; another advisor
    of the point reads it but leaves it to the one in charge."""
    if can_keep(user):
        return True
    if not user.is_advisor or recipient is None or recipient.advisor_id is None:
        return False
    return recipient.advisor.user_id is not None and recipient.advisor.user_id == user.pk


def current_today(today):
    """An expression: whether the outer person is a current recipient on `today`."""
    return Exists(CurrentPeriod.objects.covering(today).filter(recipient=OuterRef("pk")))


# The list -----------------------------------------------------------------------------------------

_ID_TAIL = re.compile(r"[0-9]{3}[0-9X]")
_FILE_NUMBER = re.compile(r"DA[0-9]+")


def search_q(text):
    """The people one search box finds: by name, by pinyin initials (as the advisor roster
    does: `wxy` finds 王秀英, `zxm` and `cxm` both find 曾晓明), by the last 4 characters
    of the ID number (`123X`), by the whole ID number, or by the start of the 档案号."""
    text = text.strip()
    found = Q(name__icontains=text) | initials_q("name_initials", text)
    number = normalize_id_number(text)
    if _ID_TAIL.fullmatch(number):
        found |= Q(id_tail=number)
    elif len(number) == 18:
        found |= Q(id_number__matches=number)
    if _FILE_NUMBER.fullmatch(number):
        found |= Q(file_number__startswith=number)
    return found


def filter_recipients(recipients, data, today):
    """The people matching the list's filters (`RecipientFilterForm.cleaned_data`)."""
    if data["q"].strip():
        recipients = recipients.filter(search_q(data["q"]))
    if data.get("street"):
        recipients = recipients.filter(street=data["street"])
    if data["committee"]:
        recipients = recipients.filter(committee=data["committee"])
    if data["category"]:
        recipients = recipients.filter(categories=data["category"])
    if data["key_group"]:
        recipients = recipients.filter(key_groups=data["key_group"])
    if data["hardship"]:
        recipients = recipients.filter(hardship_level=data["hardship"])
    if data["current"]:
        current = current_today(today)
        recipients = recipients.filter(current if data["current"] == "yes" else ~current)
    if data["status"]:
        recipients = recipients.filter(status=data["status"])
    if data["advisor"]:
        recipients = recipients.filter(advisor=data["advisor"])
    if data["unassigned"]:
        recipients = services.unassigned_current(recipients, today)
    return recipients


def _mark_rows(recipients, today):
    """Flag, on each row of a page, whether the person is a current recipient today and
    whether they are one without an active advisor.

    Whether they are current is read for the page's people only, in one query: as an
    annotation of the list, PostgreSQL read every current period of the city into a hash
    before the first row (a district's search: 78 ms, 10 ms this way)."""
    recipients = list(recipients)
    current = set(
        CurrentPeriod.objects.covering(today)
        .filter(recipient__in=[recipient.pk for recipient in recipients])
        .values_list("recipient", flat=True)
    )
    for recipient in recipients:
        recipient.current_today = recipient.pk in current
        recipient.advisor_active = bool(
            recipient.advisor_id and recipient.advisor.is_active_on(today)
        )
        recipient.unassigned = recipient.current_today and not recipient.advisor_active
    return recipients


def recipient_list(request):
    """困难人员: the people of the user's scope, filtered, searched, paginated."""
    user = request.user
    if not can_view(user):
        return forbidden(request, _("您的账号无权查看困难人员。"))
    today = timezone.localdate()
    visible = Recipient.objects.visible_to(user)
    recipients = visible.select_related("committee", "advisor").prefetch_related("categories")
    form = RecipientFilterForm(request.GET or None, user=user)
    filtered = False
    if form.is_valid():
        recipients = filter_recipients(recipients, form.cleaned_data, today)
        filtered = form.filtered
    page = Paginator(recipients.order_by("street__code", "file_number"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    page.object_list = _mark_rows(page.object_list, today)
    own_advisor = Advisor.objects.filter(user=user).first() if user.is_advisor else None
    return render(
        request,
        "cases/recipient_list.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "unassigned_count": services.unassigned_current(visible, today).count(),
            "own_advisor": own_advisor,
            "can_keep": can_keep(user),
        },
    )


# The register and editing -------------------------------------------------------------------------


def _recipient_form_page(request, form, recipient=None, existing=None, status=200):
    return render(
        request,
        "cases/recipient_form.html",
        {"form": form, "recipient": recipient, "existing": existing},
        status=status,
    )


def _duplicate(form, error):
    """Show a `DuplicateRecipient` on the form; the existing record when the user sees it."""
    form.add_error("id_number", error.messages)
    return error.existing


def recipient_create(request):
    """登记困难人员: one person, one record; a known ID number points at the existing file."""
    user = request.user
    if not can_view(user):
        return forbidden(request, _("您的账号不能登记困难人员。"))
    form = RecipientForm(request.POST or None, user=user)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            recipient = services.register_recipient(
                actor=user,
                committee=data["committee"],
                name=data["name"],
                gender=data["gender"],
                id_number=data["id_number"],
                categories=list(data["categories"]),
                key_groups=list(data["key_groups"]),
                current_from=data.get("current_from"),
                **{
                    name: data[name]
                    for name in RecipientForm.DETAIL_FIELDS
                    if name not in ("committee", "name", "gender")
                },
            )
        except services.DuplicateRecipient as error:
            existing = _duplicate(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        except Http404:
            form.add_error("committee", _("该居委不在您的服务范围内。"))
        else:
            messages.success(
                request,
                _("已建档:%(name)s,档案号 %(number)s。")
                % {"name": recipient.name, "number": recipient.file_number},
            )
            return redirect(recipient)
    if request.method == "POST" and form.errors:
        messages.error(request, _("未建档:请按提示修改后再提交。"))
    return _recipient_form_page(request, form, existing=existing)


def _get_recipient(request, pk, queryset=None):
    queryset = queryset if queryset is not None else Recipient.objects.all()
    return scoped_get_or_404(queryset, request.user, pk=pk)


def recipient_edit(request, pk):
    """修改困难人员信息, through `update_recipient` and `set_categories`."""
    user = request.user
    recipient = _get_recipient(request, pk, _file_queryset())
    if recipient.is_anonymised:
        messages.error(request, _("该档案已匿名化,不能修改。"))
        return redirect(recipient)
    form = RecipientForm(request.POST or None, user=user, recipient=recipient)
    existing = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # Only what the user changed: an advisor may keep a person in their charge in a
        # committee they do not serve, but not move anyone there.
        changes = {
            name: data[name] for name in RecipientForm.DETAIL_FIELDS if name in form.changed_data
        }
        try:
            with transaction.atomic():
                services.update_recipient(
                    actor=user,
                    recipient=recipient,
                    id_number=data["id_number"] if form.id_number_changed() else None,
                    **changes,
                )
                vocabularies = {
                    name: list(data[name])
                    for name in ("categories", "key_groups")
                    if name in form.changed_data
                }
                if vocabularies:
                    services.set_categories(actor=user, recipient=recipient, **vocabularies)
        except services.DuplicateRecipient as error:
            existing = _duplicate(form, error)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        except Http404:
            form.add_error("committee", _("该居委不在您的服务范围内。"))
        else:
            messages.success(request, _("困难人员信息已保存。"))
            return redirect(recipient)
    if request.method == "POST" and form.errors:
        messages.error(request, _("未保存:请按提示修改后再提交。"))
        recipient.refresh_from_db()
    return _recipient_form_page(request, form, recipient, existing)


# The person's file --------------------------------------------------------------------------------


def recipient_history(user, recipient):
    """谁改了什么: the newest changes of the person, their categories, key groups and periods.

    From the audit trail's event tables (PostgreSQL triggers); `None` where there are none
    (SQLite), so that the page says so. A fixed number of queries: the page of events, their
    rows in full, and one per kind of object they name.
    """
    from audit.context import tracking_supported
    from audit.selectors import change_event_details
    from audit.tracking import UPDATE, tracking_for

    if not tracking_supported():
        return None
    branches = []
    for model, lookup in (
        (Recipient, "pgh_obj"),
        (RecipientCategory, "recipient"),
        (RecipientKeyGroup, "recipient"),
        (CurrentPeriod, "recipient"),
    ):
        tracking = tracking_for(model)
        branches.append(
            tracking.event_model._default_manager.filter(**{lookup: recipient.pk})
            .annotate(
                ev_model=Value(tracking.key, output_field=CharField()),
                ev_id=F("pgh_id"),
                ev_at=F("pgh_created_at"),
            )
            .values("ev_model", "ev_id", "ev_at")
        )
    rows = branches[0].union(*branches[1:], all=True).order_by("-ev_at", "-ev_id", "ev_model")
    events = change_event_details(user, list(rows[:HISTORY_LIMIT]))
    # Derived columns change with what they derive from; the page shows the facts.
    derived = {
        str(Recipient._meta.get_field(name).verbose_name)
        for name in ("name_initials", "updated_at", "id_number_hash", "id_tail", "birth_date")
    }
    shown = []
    for event in events:
        event.changes = [change for change in event.changes if change.label not in derived]
        if event.changes or event.note or event.label != UPDATE:
            shown.append(event)
    return shown


def _file_context(request, recipient, **forms):
    from visits.views import recipient_visits

    user = request.user
    today = timezone.localdate()
    periods = list(CurrentPeriod.objects.filter(recipient=recipient).order_by("-starts_on"))
    need_rows = Need.objects.visible_to(user).filter(recipient=recipient)
    needs = list(need_rows.select_related("advisor").order_by("-found_on", "-need_number"))
    # The resources linked to the needs, in a query of its own that runs whether or not the
    # person has needs (a prefetch would skip it for none): the page's count stays fixed.
    links = {}
    for link in NeedResource.objects.filter(need__in=need_rows.values("pk")).select_related(
        "resource"
    ):
        links.setdefault(link.need_id, []).append(link)
    for need in needs:
        need.linked_resources = links.get(need.pk, [])
    service_list = list(
        ServiceRecord.objects.visible_to(user)
        .filter(recipient=recipient)
        .select_related("advisor", "station", "need", "resource")
        .order_by("-date", "-record_number")
    )
    evaluations = list(
        Evaluation.objects.visible_to(user)
        .filter(service__recipient=recipient)
        .select_related("service", "station")
        .order_by("-created_at", "-pk")
    )
    source_facts = list(
        LeadFact.objects.visible_to(user)
        .filter(recipient=recipient)
        .select_related("source", "acknowledged_by", "lead")
        .order_by("-received_on", "-pk")
    )
    furthest = services.furthest_step(service_list)
    current_today = any(period.covers(today) for period in periods)
    advisor = recipient.advisor
    advisor_active = bool(advisor and advisor.is_active_on(today))
    keeper = can_keep(user)
    registered = recipient.status == RecipientStatus.REGISTERED
    open_period = next((period for period in periods if period.ends_on is None), None)
    return {
        "recipient": recipient,
        "categories": list(recipient.categories.all()),
        "key_groups": list(recipient.key_groups.all()),
        "periods": periods,
        "current_today": current_today,
        "open_period": open_period,
        "advisor_active": advisor_active,
        "unassigned": current_today and not advisor_active,
        "needs": needs,
        "open_need_count": sum(1 for need in needs if need.is_open),
        "services": service_list,
        "furthest_step": furthest,
        "furthest_step_label": ServiceStep(furthest).label if furthest else "",
        "evaluations": evaluations,
        "source_facts": source_facts,
        "flagged_fact_count": sum(
            1 for fact in source_facts if fact.changes_situation and not fact.acknowledged_at
        ),
        "can_acknowledge_facts": can_acknowledge_facts_of(user, recipient)
        and not recipient.is_anonymised,
        **recipient_visits(user, recipient),
        "history": recipient_history(user, recipient),
        "can_keep": keeper,
        "can_edit": can_view(user) and not recipient.is_anonymised,
        "can_add_need": registered and not recipient.is_anonymised,
        "can_start": keeper and registered and open_period is None,
        "can_end": keeper and open_period is not None,
        "can_exit": keeper and registered,
        "audit_url": _audit_url(user, recipient),
        "start_form": forms.get("start_form") or StartCurrentForm(prefix="start"),
        "end_form": forms.get("end_form") or EndCurrentForm(prefix="end"),
        "exit_form": forms.get("exit_form") or ExitForm(prefix="exit"),
    }


def _audit_url(user, recipient):
    """The person's changes in the audit pages, for those who read the audit trail."""
    from audit.scoping import can_read_audit

    if not can_read_audit(user):
        return ""
    query = urlencode({"model": Recipient._meta.label, "object_id": recipient.pk})
    return f"{reverse('audit:change_trail')}?{query}"


def _render_file(request, recipient, status=200, **forms):
    return render(
        request,
        "cases/recipient_detail.html",
        _file_context(request, recipient, **forms),
        status=status,
    )


def _file_queryset():
    return Recipient.objects.select_related("street", "committee", "advisor")


def recipient_detail(request, pk):
    """A person's file: identity, contact, categories, periods, needs, services, evaluations,
    and who changed what."""
    from audit.choices import AccessAction
    from audit.services import record_access

    recipient = _get_recipient(request, pk, _file_queryset())
    # The file shows the phone and the address in full: a reading of personal data.
    record_access(
        request=request,
        action=AccessAction.VIEW_SENSITIVE,
        obj=recipient,
        detail=_("查看困难人员档案"),
    )
    return _render_file(request, recipient)


def _action(request, pk, run, success, form_class, prefix, form_key):
    """A POST form of the person's file; GET goes back to the file."""
    recipient = _get_recipient(request, pk, _file_queryset())
    if request.method != "POST":
        return redirect(recipient)
    form = form_class(request.POST, prefix=prefix)
    if form.is_valid():
        try:
            run(recipient, form.cleaned_data)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=recipient.get_absolute_url())
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect(recipient)
    recipient.refresh_from_db()
    messages.error(request, _("操作未完成:请按提示修改后再提交。"))
    return _render_file(request, recipient, **{form_key: form})


def current_start(request, pk):
    """认定为现有救助对象 (keepers)."""
    return _action(
        request,
        pk,
        lambda recipient, data: services.start_current(
            actor=request.user, recipient=recipient, starts_on=data["starts_on"], note=data["note"]
        ),
        _("已认定为现有救助对象。"),
        StartCurrentForm,
        "start",
        "start_form",
    )


def current_end(request, pk):
    """结束现有救助对象期间 (keepers)."""
    return _action(
        request,
        pk,
        lambda recipient, data: services.end_current(
            actor=request.user, recipient=recipient, ends_on=data["ends_on"], note=data["note"]
        ),
        _("现有救助对象期间已结束。"),
        EndCurrentForm,
        "end",
        "end_form",
    )


def recipient_exit(request, pk):
    """退出登记 (keepers): open periods end on the exit day at the latest."""
    return _action(
        request,
        pk,
        lambda recipient, data: services.exit_register(
            actor=request.user,
            recipient=recipient,
            exited_on=data["exited_on"],
            reason=data["reason"],
        ),
        _("已办理退出。"),
        ExitForm,
        "exit",
        "exit_form",
    )


# Hand-over ----------------------------------------------------------------------------------------


def _advisors_to_hand_over(user, today):
    """Advisors no longer active who are still responsible for people, open needs or open
    leads (政策找人)."""
    # A subquery, not a third join: the people and needs are joined already.
    open_leads = (
        Lead.objects.filter(advisor=OuterRef("pk"), status__in=OPEN_LEAD_STATUSES)
        .order_by()
        .values("advisor")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return (
        Advisor.objects.visible_to(user)
        .exclude(active_q(today))
        .annotate(
            people=Count("recipients", distinct=True),
            open_needs=Count(
                "needs", filter=Q(needs__status__in=OPEN_NEED_STATUSES), distinct=True
            ),
            open_leads=Coalesce(Subquery(open_leads, output_field=IntegerField()), 0),
        )
        .filter(Q(people__gt=0) | Q(open_needs__gt=0) | Q(open_leads__gt=0))
        .select_related("street")
        .order_by("street__code", "advisor_number")
    )


def _handed_over_message(leaving, taking, moved):
    """What moved: the people and open needs, and the open leads (政策找人) when there were any."""
    values = {
        "from": leaving.name,
        "to": taking.name,
        "people": moved["recipients"],
        "needs": moved["needs"],
        "leads": moved.get("leads", 0),
    }
    if values["leads"]:
        return (
            _(
                "已将 %(from)s 负责的 %(people)s 名困难人员、%(needs)s 项未办结需求"
                "和 %(leads)s 条未办结的政策找人线索移交给 %(to)s。"
            )
            % values
        )
    return (
        _("已将 %(from)s 负责的 %(people)s 名困难人员和 %(needs)s 项未办结需求移交给 %(to)s。")
        % values
    )


def handover(request):
    """移交: an advisor's people, open needs and open leads to another advisor of the street,
    in one step.

    GET with both advisors shows what will move and asks to confirm; the confirmation POSTs.
    """
    user = request.user
    if not can_keep(user):
        return forbidden(request, _("只有街镇管理员和区民政局可以办理移交。"))
    today = timezone.localdate()
    preview = None
    if request.method == "POST":
        form = HandoverForm(request.POST, user=user)
        if form.is_valid():
            leaving, taking = form.cleaned_data["from_advisor"], form.cleaned_data["to_advisor"]
            try:
                moved = services.hand_over(actor=user, from_advisor=leaving, to_advisor=taking)
            except ValidationError as error:
                add_service_errors(form, error)
            except PermissionDenied as error:
                return forbidden(request, str(error))
            else:
                messages.success(request, _handed_over_message(leaving, taking, moved))
                return redirect(f"{reverse('cases:recipients')}?advisor={taking.pk}")
        messages.error(request, _("未移交:请按提示修改后再提交。"))
    elif "to_advisor" in request.GET:
        form = HandoverForm(request.GET, user=user)
        if form.is_valid():
            preview = services.hand_over_counts(form.cleaned_data["from_advisor"])
    else:
        initial = {}
        leaving = request.GET.get("from_advisor", "")
        if leaving.isascii() and leaving.isdigit():
            initial["from_advisor"] = leaving
        form = HandoverForm(initial=initial, user=user)
    visible = Recipient.objects.visible_to(user)
    return render(
        request,
        "cases/recipient_handover.html",
        {
            "form": form,
            "preview": preview,
            "waiting": _advisors_to_hand_over(user, today),
            "unassigned_count": services.unassigned_current(visible, today).count(),
        },
    )
