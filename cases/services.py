"""Writes to the register of people in hardship and the checklists. Pages and imports come here.

Every service takes the acting user (`actor`) by keyword. A row outside the actor's scope is
treated as if it did not exist (`Http404`); a role that may not take a step gets
`PermissionDenied`; a bad value raises `ValidationError` with a Chinese message and changes
nothing. After saving, each service checks again, in the same transaction, that the row is
inside the actor's scope.

Who does what:
- the register (a person's details, categories, key groups, responsible advisor): street
  managers and bureau staff, and advisors for the people they see (they find people and keep
  in touch with them);
- the current-recipient periods and leaving the register: street managers and bureau staff;
- needs and services: advisors, street managers and bureau staff, for the people they see;
- resources: bureau staff (district-wide or any street of theirs), street managers (their
  street and its committees);
- the hand-over when an advisor leaves, and list reviews: street managers (bureau staff too).
"""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from advisors.models import Advisor, active_q
from cases.charges import record_charges
from cases.choices import (
    NEED_TRANSITIONS,
    OPEN_NEED_STATUSES,
    AreaLevel,
    EvaluationSource,
    NeedStatus,
    RecipientStatus,
)
from cases.leads import hand_over_leads, open_lead_count
from cases.models import (
    AssistanceCategory,
    ChecklistReview,
    CurrentPeriod,
    Evaluation,
    KeyGroup,
    LeadFact,
    Need,
    NeedResource,
    Recipient,
    RecipientCategory,
    RecipientKeyGroup,
    Resource,
    ServiceRecord,
)
from changning_aid.scoping import ensure_still_visible
from changning_aid.sensitive.fields import hash_id_number
from changning_aid.sensitive.idnumbers import normalize_id_number, validate_id_number
from changning_aid.writes import apply_changes, require_role, visible_or_404
from stations.models import Committee, Station, Street
from visits import summaries

KEEPERS = (Role.STREET_MANAGER, Role.BUREAU)
WORKERS = (Role.STREET_MANAGER, Role.BUREAU, Role.ADVISOR)

# What `update_recipient` may change; the ID number only while it is not yet recorded.
RECIPIENT_FIELDS = (
    "name",
    "gender",
    "phone",
    "address",
    "committee",
    "household_size",
    "hardship_level",
    "advisor",
)


class DuplicateRecipient(ValidationError):
    """A second record for a person already on the register; `existing` is that record.

    `existing` is None when the person is registered outside the actor's scope: the actor
    learns that the number is taken, not where.
    """

    def __init__(self, message, existing):
        super().__init__({"id_number": message}, code="duplicate")
        self.existing = existing


def _check_advisor(advisor, street, on=None):
    """An advisor put in charge must be active and of the person's street."""
    if advisor is None:
        return
    on = on or timezone.localdate()
    if advisor.street_id != street.pk:
        raise ValidationError({"advisor": _("责任顾问必须是本街镇的顾问。")})
    if not advisor.is_active_on(on):
        raise ValidationError(
            {"advisor": _("%(name)s 不是在岗顾问,不能负责。") % {"name": advisor.name}}
        )


# The register ---------------------------------------------------------------------------------


def find_by_id_number(number):
    """The record holding `number`, whoever's it is (for the duplicate check), or None."""
    digest = hash_id_number(number)
    if digest is None:
        return None
    return Recipient.objects.filter(id_number_hash=digest).select_related("street").first()


def _refuse_duplicate(actor, number, *, exclude_pk=None):
    existing = find_by_id_number(number)
    if existing is None or existing.pk == exclude_pk:
        return
    if Recipient.objects.visible_to(actor).filter(pk=existing.pk).exists():
        raise DuplicateRecipient(
            _("该身份证号已经建档:%(name)s(档案号 %(number)s),请打开已有档案。")
            % {"name": existing.name, "number": existing.file_number},
            existing,
        )
    raise DuplicateRecipient(
        _("该身份证号已在其他街镇建档,一人只能有一份档案,请联系区民政局核实。"), None
    )


def _clean_id_number(value):
    number = normalize_id_number(value)
    if not number:
        raise ValidationError({"id_number": _("请填写身份证号。")})
    try:
        validate_id_number(number)
    except ValidationError as exc:
        raise ValidationError({"id_number": exc.messages}) from exc
    return number


def _vocabulary(model, actor, items, field):
    items = list(dict.fromkeys(items or ()))
    allowed = set(model.objects.visible_to(actor).in_use().values_list("pk", flat=True))
    unknown = [str(item) for item in items if item.pk not in allowed]
    if unknown:
        raise ValidationError({field: _("不可选用的项目:%s。") % "、".join(unknown)})
    return items


@transaction.atomic
def register_recipient(
    *,
    actor,
    committee,
    name,
    gender,
    id_number,
    categories=(),
    key_groups=(),
    current_from=None,
    **fields,
):
    """Put a person on the register (在册), with a 档案号; one person, one record.

    `current_from` opens a current-recipient period from that day (keepers only). A number
    already on the register raises `DuplicateRecipient` pointing at the existing record.
    """
    require_role(actor, WORKERS, _("您的账号不能登记困难人员。"))
    visible_or_404(Committee.objects, actor, committee)
    if actor.is_advisor and not _advisor_serves_committee(actor, committee):
        raise Http404
    unknown = sorted(set(fields) - set(RECIPIENT_FIELDS))
    if unknown:
        raise TypeError(f"register_recipient() got unexpected fields {', '.join(unknown)}")
    number = _clean_id_number(id_number)
    _refuse_duplicate(actor, number)
    categories = _vocabulary(AssistanceCategory, actor, categories, "categories")
    key_groups = _vocabulary(KeyGroup, actor, key_groups, "key_groups")
    _check_advisor(fields.get("advisor"), committee.street)
    recipient = Recipient(
        committee=committee,
        street=committee.street,
        name=(name or "").strip(),
        gender=gender,
        id_number=number,
        **fields,
    )
    recipient.refresh_derived()
    recipient.full_clean(exclude=["file_number", "id_number_hash"])
    recipient.save()
    if recipient.advisor_id:
        record_charges([recipient.pk], recipient.advisor_id)
    RecipientCategory.objects.bulk_create(
        RecipientCategory(recipient=recipient, category=c) for c in categories
    )
    RecipientKeyGroup.objects.bulk_create(
        RecipientKeyGroup(recipient=recipient, key_group=g) for g in key_groups
    )
    if current_from is not None:
        require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以认定现有救助对象。"))
        _add_period(recipient, current_from, None, "")
    ensure_still_visible(recipient, actor)
    return recipient


def _advisor_serves_committee(actor, committee):
    from stations.choices import StationKind

    served = Station.objects.filter(advisor_users=actor)
    return served.filter(
        Q(kind=StationKind.COMMITTEE, committee=committee)
        | Q(kind=StationKind.STREET, street=committee.street_id)
    ).exists()


@transaction.atomic
def update_recipient(*, actor, recipient, id_number=None, **changes):
    """Change a person's details; moving them to another committee keeps them in scope."""
    require_role(actor, WORKERS, _("您的账号不能修改困难人员信息。"))
    visible_or_404(Recipient.objects, actor, recipient)
    if recipient.is_anonymised:
        raise ValidationError(_("该档案已匿名化,不能修改。"))
    unknown = sorted(set(changes) - set(RECIPIENT_FIELDS))
    if unknown:
        raise TypeError(f"update_recipient() cannot change {', '.join(unknown)}")
    if "committee" in changes:
        committee = changes["committee"]
        visible_or_404(Committee.objects, actor, committee)
        changes["street"] = committee.street
    if "advisor" in changes and changes["advisor"] != recipient.advisor:
        _check_advisor(changes["advisor"], changes.get("street", recipient.street))
    if id_number is not None:
        number = _clean_id_number(id_number)
        if number != recipient.plain_id_number():
            _refuse_duplicate(actor, number, exclude_pk=recipient.pk)
            changes["id_number"] = number
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()
    advisor_before = recipient.advisor_id
    apply_changes(recipient, changes, exclude=["file_number", "id_number_hash"])
    recipient.refresh_derived()
    recipient.save()
    if recipient.advisor_id != advisor_before:
        record_charges([recipient.pk], recipient.advisor_id)
    ensure_still_visible(recipient, actor)
    return recipient


@transaction.atomic
def set_categories(*, actor, recipient, categories=None, key_groups=None):
    """Replace a person's assistance categories and/or key groups."""
    require_role(actor, WORKERS, _("您的账号不能修改困难人员信息。"))
    visible_or_404(Recipient.objects, actor, recipient)
    if categories is not None:
        categories = _vocabulary(AssistanceCategory, actor, categories, "categories")
        RecipientCategory.objects.filter(recipient=recipient).exclude(
            category__in=categories
        ).delete()
        have = set(
            RecipientCategory.objects.filter(recipient=recipient).values_list("category", flat=True)
        )
        RecipientCategory.objects.bulk_create(
            RecipientCategory(recipient=recipient, category=c)
            for c in categories
            if c.pk not in have
        )
    if key_groups is not None:
        key_groups = _vocabulary(KeyGroup, actor, key_groups, "key_groups")
        RecipientKeyGroup.objects.filter(recipient=recipient).exclude(
            key_group__in=key_groups
        ).delete()
        have = set(
            RecipientKeyGroup.objects.filter(recipient=recipient).values_list(
                "key_group", flat=True
            )
        )
        RecipientKeyGroup.objects.bulk_create(
            RecipientKeyGroup(recipient=recipient, key_group=g)
            for g in key_groups
            if g.pk not in have
        )
    Recipient.objects.filter(pk=recipient.pk).update(updated_at=timezone.now())
    return recipient


# Current-recipient periods ------------------------------------------------------------------


def _add_period(recipient, starts_on, ends_on, note):
    period = CurrentPeriod(recipient=recipient, starts_on=starts_on, ends_on=ends_on, note=note)
    period.full_clean()
    if recipient.status != RecipientStatus.REGISTERED:
        raise ValidationError(_("已退出的人员不能认定为现有救助对象。"))
    overlapping = CurrentPeriod.objects.filter(recipient=recipient).overlapping(
        starts_on, ends_on or datetime.date.max
    )
    if overlapping.exists():
        raise ValidationError({"starts_on": _("与已有的现有救助对象期间重叠,请先调整原期间。")})
    period.save()
    Recipient.objects.filter(pk=recipient.pk).update(updated_at=timezone.now())
    return period


@transaction.atomic
def start_current(*, actor, recipient, starts_on, note=""):
    """The person is a current recipient (现有救助对象) from `starts_on` on."""
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以认定现有救助对象。"))
    visible_or_404(Recipient.objects, actor, recipient)
    return _add_period(recipient, starts_on, None, note)


@transaction.atomic
def end_current(*, actor, recipient, ends_on, note=""):
    """The person stops being a current recipient after `ends_on` (inclusive)."""
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以变更现有救助对象。"))
    visible_or_404(Recipient.objects, actor, recipient)
    period = CurrentPeriod.objects.filter(recipient=recipient, ends_on__isnull=True).first()
    if period is None:
        raise ValidationError({"ends_on": _("该人员目前不是现有救助对象。")})
    if ends_on < period.starts_on:
        raise ValidationError({"ends_on": _("结束日期不能早于开始日期 %s。") % period.starts_on})
    period.ends_on = ends_on
    if note:
        period.note = note
    period.save()
    Recipient.objects.filter(pk=recipient.pk).update(updated_at=timezone.now())
    return period


def _check_periods(periods):
    """The periods as (starts_on, ends_on) pairs in order; a refusal when two overlap."""
    ordered = sorted(periods, key=lambda period: period[0])
    for index, (starts_on, ends_on) in enumerate(ordered):
        if starts_on is None:
            raise ValidationError({"starts_on": _("请填写开始日期。")})
        if ends_on is not None and ends_on < starts_on:
            raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})
        if index:
            previous_end = ordered[index - 1][1]
            if previous_end is None or previous_end >= starts_on:
                raise ValidationError({"starts_on": _("现有救助对象期间相互重叠,请调整后再保存。")})
    return ordered


@transaction.atomic
def replace_periods(*, actor, recipient, periods, note=""):
    """Replace the person's current-recipient periods with `periods` ((starts_on, ends_on),
    ends_on None for an open period), under the rules of `start_current`: keepers only,
    not for people who left the register, no two periods overlapping. Periods already
    stored as given are kept as they are; the others are removed or added."""
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以变更现有救助对象。"))
    visible_or_404(Recipient.objects, actor, recipient)
    if recipient.status != RecipientStatus.REGISTERED:
        raise ValidationError(_("已退出的人员不能认定为现有救助对象。"))
    wanted = _check_periods([(start, end) for start, end in periods])
    stored = list(CurrentPeriod.objects.filter(recipient=recipient))
    keep = set(wanted)
    for period in stored:
        if (period.starts_on, period.ends_on) not in keep:
            period.delete()
    have = {(period.starts_on, period.ends_on) for period in stored}
    for starts_on, ends_on in wanted:
        if (starts_on, ends_on) not in have:
            period = CurrentPeriod(
                recipient=recipient, starts_on=starts_on, ends_on=ends_on, note=note
            )
            period.full_clean()
            period.save()
    Recipient.objects.filter(pk=recipient.pk).update(updated_at=timezone.now())
    return list(CurrentPeriod.objects.filter(recipient=recipient).order_by("starts_on"))


@transaction.atomic
def exit_register(*, actor, recipient, exited_on, reason):
    """The person leaves the register (已退出): open periods end the day before at the latest."""
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以办理退出。"))
    visible_or_404(Recipient.objects, actor, recipient)
    if recipient.status == RecipientStatus.EXITED:
        raise ValidationError(_("该人员已于 %s 退出。") % recipient.exited_on)
    apply_changes(
        recipient,
        {
            "status": RecipientStatus.EXITED,
            "exited_on": exited_on,
            "exit_reason": (reason or "").strip(),
        },
        exclude=["file_number", "id_number_hash"],
    )
    later = CurrentPeriod.objects.filter(recipient=recipient, starts_on__gt=exited_on)
    if later.exists():
        raise ValidationError(
            {"exited_on": _("退出日期早于一个现有救助对象期间的开始,请先调整期间。")}
        )
    CurrentPeriod.objects.filter(recipient=recipient).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gt=exited_on)
    ).update(ends_on=exited_on)
    recipient.save()
    # The periods were cut by an UPDATE (no hooks): the month summaries (C9) follow.
    summaries.refresh_people([recipient.pk])
    return recipient


# Advisors in charge -----------------------------------------------------------------------------


@transaction.atomic
def hand_over(*, actor, from_advisor, to_advisor):
    """Hand an advisor's people and open needs to another advisor of the street, in one step.

    Returns {"recipients": n, "needs": m, "leads": k}: open leads (政策找人) go too. Closed
    needs and leads keep who handled them.
    """
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以移交。"))
    visible_or_404(Advisor.objects, actor, from_advisor)
    visible_or_404(Advisor.objects, actor, to_advisor)
    if from_advisor.pk == to_advisor.pk:
        raise ValidationError({"to_advisor": _("请选择另一名顾问接手。")})
    if to_advisor.street_id != from_advisor.street_id:
        raise ValidationError({"to_advisor": _("接手顾问必须是同一街镇的顾问。")})
    _check_advisor(to_advisor, to_advisor.street)
    now = timezone.now()
    record_charges(Recipient.objects.filter(advisor=from_advisor), to_advisor.pk)
    recipients = Recipient.objects.filter(advisor=from_advisor).update(
        advisor=to_advisor, updated_at=now
    )
    needs = Need.objects.filter(advisor=from_advisor, status__in=OPEN_NEED_STATUSES).update(
        advisor=to_advisor, updated_at=now
    )
    leads = hand_over_leads(from_advisor, to_advisor)
    return {"recipients": recipients, "needs": needs, "leads": leads}


def hand_over_counts(from_advisor):
    """What `hand_over` would move from `from_advisor`: {"recipients", "needs", "leads"}.

    The same rows `hand_over` updates, counted, for the page that asks to confirm.
    """
    return {
        "recipients": Recipient.objects.filter(advisor=from_advisor).count(),
        "needs": Need.objects.filter(advisor=from_advisor, status__in=OPEN_NEED_STATUSES).count(),
        "leads": open_lead_count(from_advisor),
    }


def unassigned_current(recipients, on=None):
    """The current recipients among `recipients` with no active responsible advisor on `on`."""
    on = on or timezone.localdate()
    active = Advisor.objects.filter(active_q(on))
    return recipients.current_on(on).filter(Q(advisor__isnull=True) | ~Q(advisor__in=active))


# Retention ------------------------------------------------------------------------------------


def anonymise_expired(today=None):
    """Clear name, ID number, phone and address of people who left long enough ago.

    Safe to run twice: anonymised records are not touched again. Counts and history stay.
    Returns the number of records anonymised.
    """
    today = today or timezone.localdate()
    years = settings.RECIPIENT_RETENTION_YEARS
    try:
        cutoff = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        cutoff = today.replace(year=today.year - years, day=28)
    due = Recipient.objects.filter(
        status=RecipientStatus.EXITED, exited_on__lt=cutoff, anonymised_at__isnull=True
    )
    count = 0
    now = timezone.now()
    for recipient in due.iterator(chunk_size=500):
        recipient.name = _("(已匿名)")
        recipient.id_number = ""
        recipient.phone = ""
        recipient.address = ""
        recipient.anonymised_at = now
        recipient.refresh_derived()
        recipient.name_initials = ""
        recipient.save()
        # What other departments' lists said about the person goes too.
        LeadFact.objects.filter(recipient=recipient).update(facts={})
        count += 1
    return count


# Checklist 2: needs ---------------------------------------------------------------------------


@transaction.atomic
def record_need(
    *, actor, recipient, category, description, source, found_on, urgency, advisor=None
):
    """Add a need (待评估) to a person's file; the person's advisor is responsible by default."""
    require_role(actor, WORKERS, _("您的账号不能登记需求。"))
    visible_or_404(Recipient.objects, actor, recipient)
    if recipient.status != RecipientStatus.REGISTERED:
        raise ValidationError(_("已退出的人员不能登记新的需求。"))
    if advisor is None:
        advisor = recipient.advisor
    if advisor is not None and advisor != recipient.advisor:
        _check_advisor(advisor, recipient.street)
    need = Need(
        recipient=recipient,
        category=category,
        description=(description or "").strip(),
        source=source,
        found_on=found_on,
        urgency=urgency,
        advisor=advisor,
    )
    need.full_clean(exclude=["need_number"])
    need.save()
    ensure_still_visible(need, actor)
    return need


@transaction.atomic
def change_need_status(*, actor, need, status, on=None, outcome=""):
    """Move a need along 待评估 → 待对接 → 已对接 → 已解决 / 无法解决 (with a reason)."""
    require_role(actor, WORKERS, _("您的账号不能处理需求。"))
    visible_or_404(Need.objects, actor, need)
    status = NeedStatus(status)
    if status not in NEED_TRANSITIONS[NeedStatus(need.status)]:
        raise ValidationError(
            {
                "status": _("需求不能从“%(from)s”变为“%(to)s”。")
                % {"from": need.get_status_display(), "to": status.label}
            }
        )
    closing = status in (NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE)
    apply_changes(
        need,
        {
            "status": status,
            "closed_on": (on or timezone.localdate()) if closing else None,
            "outcome": (outcome or "").strip() or need.outcome,
        },
        exclude=["need_number"],
    )
    need.save()
    return need


@transaction.atomic
def link_resource(*, actor, need, resource, on=None):
    """Link a resource to a need (资源对接); a need waiting for one becomes 已对接."""
    require_role(actor, WORKERS, _("您的账号不能对接资源。"))
    visible_or_404(Need.objects, actor, need)
    visible_or_404(Resource.objects, actor, resource)
    if not need.is_open:
        raise ValidationError(_("该需求已办结,不能再对接资源。"))
    on = on or timezone.localdate()
    if not Resource.objects.filter(pk=resource.pk).valid_on(on).exists():
        raise ValidationError({"resource": _("该资源不在有效期内。")})
    if not in_street_list(resource, need.recipient.street):
        raise ValidationError({"resource": _("该资源不在本街镇的资源清单中。")})
    link, created = NeedResource.objects.get_or_create(
        need=need, resource=resource, defaults={"linked_on": on}
    )
    if not created:
        raise ValidationError({"resource": _("该资源已对接过这项需求。")})
    if need.status in (NeedStatus.TO_ASSESS, NeedStatus.TO_LINK):
        need.status = NeedStatus.LINKED
        need.save(update_fields=["status", "updated_at"])
    else:
        Need.objects.filter(pk=need.pk).update(updated_at=timezone.now())
    return link


# What `update_need` may change; the status goes through `change_need_status`.
NEED_FIELDS = ("category", "description", "source", "found_on", "urgency", "advisor", "outcome")


@transaction.atomic
def update_need(*, actor, need, **changes):
    """Change a need's details (for the needs list's import); not its person or status."""
    require_role(actor, WORKERS, _("您的账号不能处理需求。"))
    visible_or_404(Need.objects, actor, need)
    unknown = sorted(set(changes) - set(NEED_FIELDS))
    if unknown:
        raise TypeError(f"update_need() cannot change {', '.join(unknown)}")
    if "advisor" in changes and changes["advisor"] != need.advisor:
        _check_advisor(changes["advisor"], need.recipient.street)
    for name in ("description", "outcome"):
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    apply_changes(need, changes, exclude=["need_number"])
    need.save()
    ensure_still_visible(need, actor)
    return need


# Checklist 3: resources -----------------------------------------------------------------------

RESOURCE_FIELDS = (
    "name",
    "resource_type",
    "provider",
    "contact",
    "offers",
    "eligibility",
    "capacity",
    "valid_from",
    "valid_to",
    "legal_basis",
)


def in_street_list(resource, street):
    """Whether `resource` is in `street`'s resource list: its own, or district-wide."""
    if resource.area_level == AreaLevel.DISTRICT:
        return resource.district_id == street.district_id
    return resource.street_id == street.pk


def street_list_q(street):
    """The resources of `street`'s resource list, as a filter (see `in_street_list`)."""
    return Q(street=street.pk) | Q(area_level=AreaLevel.DISTRICT, district=street.district_id)


def _resource_area(actor, area_level, street, committee):
    if area_level == AreaLevel.DISTRICT:
        if not actor.is_bureau:
            raise PermissionDenied(_("全区资源由区民政局维护。"))
        return None, None
    if street is None and committee is not None:
        street = committee.street
    if street is None:
        raise ValidationError({"street": _("请选择街镇。")})
    visible_or_404(Street.objects, actor, street)
    if committee is not None:
        visible_or_404(Committee.objects, actor, committee)
    return street, committee


@transaction.atomic
def create_resource(*, actor, area_level, street=None, committee=None, **fields):
    """Add a resource to the list: district-wide (bureau) or of a street or committee."""
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以维护资源清单。"))
    unknown = sorted(set(fields) - set(RESOURCE_FIELDS))
    if unknown:
        raise TypeError(f"create_resource() got unexpected fields {', '.join(unknown)}")
    street, committee = _resource_area(actor, area_level, street, committee)
    district = street.district if street else actor.district
    resource = Resource(
        area_level=area_level, district=district, street=street, committee=committee, **fields
    )
    resource.full_clean(exclude=["resource_number"])
    resource.save()
    ensure_still_visible(resource, actor)
    return resource


@transaction.atomic
def update_resource(*, actor, resource, **changes):
    """Change a resource; a street manager changes only their street's own resources."""
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以维护资源清单。"))
    visible_or_404(Resource.objects, actor, resource)
    if resource.area_level == AreaLevel.DISTRICT and not actor.is_bureau:
        raise PermissionDenied(_("全区资源由区民政局维护。"))
    unknown = sorted(set(changes) - set(RESOURCE_FIELDS))
    if unknown:
        raise TypeError(f"update_resource() cannot change {', '.join(unknown)}")
    apply_changes(resource, changes, exclude=["resource_number"])
    resource.save()
    ensure_still_visible(resource, actor)
    return resource


# Checklist 4: services ------------------------------------------------------------------------

SERVICE_FIELDS = ("head_count", "outcome", "need", "resource", "step")


@transaction.atomic
def record_service(*, actor, date, advisor, station, item, task, content, recipient=None, **fields):
    """Record a service delivered by `advisor` at `station` (to `recipient`, or to a group).

    An advisor login records its own services at the stations it serves.
    """
    require_role(actor, WORKERS, _("您的账号不能登记服务。"))
    unknown = sorted(set(fields) - set(SERVICE_FIELDS))
    if unknown:
        raise TypeError(f"record_service() got unexpected fields {', '.join(unknown)}")
    visible_or_404(Station.objects, actor, station)
    visible_or_404(Advisor.objects, actor, advisor)
    if actor.is_advisor:
        own = getattr(actor, "advisor_profile", None)
        if own is None or own.pk != advisor.pk:
            raise PermissionDenied(_("顾问只能登记本人提供的服务。"))
    if recipient is not None:
        visible_or_404(Recipient.objects, actor, recipient)
    for name, queryset in (("need", Need.objects), ("resource", Resource.objects)):
        if fields.get(name) is not None:
            visible_or_404(queryset, actor, fields[name])
    if not advisor.is_active_on(date):
        raise ValidationError(
            {
                "advisor": _("%(name)s 在 %(date)s 不是在岗顾问。")
                % {"name": advisor.name, "date": date}
            }
        )
    if not advisor.station_links.filter(station=station).exists():
        raise ValidationError({"station": _("%(name)s 不在该站点服务。") % {"name": advisor.name}})
    resource = fields.get("resource")
    if resource is not None and station.street_id and not in_street_list(resource, station.street):
        raise ValidationError({"resource": _("该资源不在本街镇的资源清单中。")})
    service = ServiceRecord(
        date=date,
        advisor=advisor,
        station=station,
        recipient=recipient,
        item=item,
        task=task,
        content=(content or "").strip(),
        recorded_by=actor,
        **fields,
    )
    service.full_clean(exclude=["record_number"])
    service.save()
    if recipient is not None:
        Recipient.objects.filter(pk=recipient.pk).update(updated_at=timezone.now())
    ensure_still_visible(service, actor)
    return service


def furthest_step(services):
    """The furthest step of the service process reached among `services` (None for none)."""
    steps = [service.step for service in services]
    return max(steps, default=None)


# Service evaluation ---------------------------------------------------------------------------


@transaction.atomic
def record_evaluation(*, actor, rating, service=None, station=None, comment=""):
    """Staff enter the served person's rating of a service (or of a station)."""
    require_role(actor, WORKERS, _("您的账号不能录入服务评议。"))
    if service is not None:
        visible_or_404(ServiceRecord.objects, actor, service)
        station = service.station
    if station is None:
        raise ValidationError({"station": _("请选择服务站点或服务记录。")})
    visible_or_404(Station.objects, actor, station)
    evaluation = Evaluation(
        station=station,
        service=service,
        rating=rating,
        comment=(comment or "").strip(),
        source=EvaluationSource.STAFF,
        entered_by=actor,
    )
    evaluation.full_clean()
    evaluation.save()
    return evaluation


@transaction.atomic
def public_evaluation(*, station, rating, comment=""):
    """A rating from the public page: no login, nothing personal beyond the comment."""
    evaluation = Evaluation(
        station=station,
        rating=rating,
        comment=(comment or "").strip(),
        source=EvaluationSource.PUBLIC,
    )
    evaluation.full_clean()
    evaluation.save()
    return evaluation


# List reviews (C10) ---------------------------------------------------------------------------


@transaction.atomic
def record_review(*, actor, street, checklist, reviewed_on=None, note=""):
    """A street manager's 复核 of a list that had no change (counts for C10).

    Dated today by default; a date in the current month up to today is accepted, an
    earlier one is refused, so that a review cannot mend a past period afterwards.
    """
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以记录清单复核。"))
    visible_or_404(Street.objects, actor, street)
    today = timezone.localdate()
    reviewed_on = reviewed_on or today
    if reviewed_on > today:
        raise ValidationError({"reviewed_on": _("复核日期不能晚于今天。")})
    if reviewed_on < today.replace(day=1):
        raise ValidationError({"reviewed_on": _("只能记录本月的复核,不能补记以前月份的复核。")})
    review = ChecklistReview(
        street=street, checklist=checklist, reviewed_on=reviewed_on, by=actor, note=note.strip()
    )
    review.full_clean()
    review.save()
    ensure_still_visible(review, actor)
    return review


# The lists the bureau extends -----------------------------------------------------------------


@transaction.atomic
def add_vocabulary_entry(*, actor, model, name, order=100):
    """Bureau staff add an assistance category or a key group (`model`) for their district."""
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以增加救助类别和重点人群。"))
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("请填写名称。")})
    taken = model.objects.filter(Q(district__isnull=True) | Q(district=actor.district_id))
    if taken.filter(name=name).exists():
        raise ValidationError({"name": _("“%(name)s”已经在列表中。") % {"name": name}})
    entry = model(district_id=actor.district_id, name=name, order=order)
    entry.full_clean()
    entry.save()
    return entry


@transaction.atomic
def set_vocabulary_entry_active(*, actor, entry, active):
    """Bureau staff stop (or resume) offering one of their district's entries.

    A stopped entry stays on the people who have it; it is no longer offered in forms and
    imports. The built-in entries are everyone's and are not changed here.
    """
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以调整救助类别和重点人群。"))
    if entry.district_id is None:
        raise PermissionDenied(_("内置项目不能停用。"))
    if entry.district_id != actor.district_id:
        raise Http404
    entry.is_active = bool(active)
    entry.save(update_fields=["is_active"])
    return entry


# The monthly list of current recipients ---------------------------------------------------------
#
# The city's assistance system gives each street, every month, the list of its current
# recipients (现有救助对象月度名单). Importing the list of month M = [first, last] makes the
# register say what the list says, from `first` on (`cases.current_list_io` reads the file and
# previews; `import_current_list` writes):
#
# - a listed person with a period covering the whole month continues: nothing changes;
# - a listed person current on `first` whose period ends inside the month is current again
#   from then on: the period is reopened (no end), later periods of theirs are merged into it;
# - a listed person not current on `first` is current from `first` (no end): a period that
#   ended on the eve of `first` is reopened rather than a new one added, later periods are
#   merged into the new one (never two periods on one day);
# - a listed ID number that is not on the register is a new person (在册), current from `first`;
# - a registered person of the streets the list decides who is not on it and whose period
#   began before `first` and reaches into the month has that period ended on the eve of
#   `first`; a period of theirs that begins within the month is kept as it is (an import never
#   deletes a period it cannot end) and the preview lists it for the keeper to check;
# - people who left the register (已退出) are not touched, and cannot be listed.
#
# The rule is the same for the current and the previous month: a list decides from its first
# day on, so lists are imported in the order of their months.

LIST_CONTINUE = "continue"
LIST_EXTEND = "extend"
LIST_JOIN = "join"
LIST_END = "end"
LIST_KEEP = "keep"


def list_months(today=None):
    """The months whose list may be imported, as their first days: this month, then last month."""
    today = today or timezone.localdate()
    first = today.replace(day=1)
    return [first, (first - datetime.timedelta(days=1)).replace(day=1)]


def month_end(first):
    """The last day of the month that begins on `first`."""
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


class ListedChange:
    """What a month's list does to one person's periods.

    `kind` is one of LIST_CONTINUE, LIST_EXTEND, LIST_JOIN, LIST_END, LIST_KEEP; `before` and
    `after` are the person's periods that reach the month (those ending on the eve of its first
    day or later), as (starts_on, ends_on) in order; `updates` ((pk, starts_on, ends_on), ...),
    `deletions` (pk, ...) and `creation` ((starts_on, ends_on) or None) turn one into the other;
    `kept` are the periods of an unlisted person that begin within the month, left as they are;
    `stored` the stored (starts_on, ends_on) of the periods read, by pk.
    """

    __slots__ = ("kind", "before", "after", "updates", "deletions", "creation", "kept", "stored")

    def __init__(
        self,
        kind,
        before,
        after,
        *,
        updates=(),
        deletions=(),
        creation=None,
        kept=(),
        stored=None,
    ):
        self.kind = kind
        self.before = tuple(before)
        self.after = tuple(after)
        self.updates = tuple(updates)
        self.deletions = tuple(deletions)
        self.creation = creation
        self.kept = tuple(kept)
        self.stored = stored or {}

    def changed_fields(self):
        """[(pk, {field: new value})] of the updates: only what differs from the stored period."""
        changed = []
        for pk, starts_on, ends_on in self.updates:
            stored_start, stored_end = self.stored.get(pk, (None, None))
            fields = {}
            if starts_on != stored_start:
                fields["starts_on"] = starts_on
            if ends_on != stored_end or pk not in self.stored:
                fields["ends_on"] = ends_on
            changed.append((pk, fields))
        return changed

    @property
    def writes(self):
        return bool(self.updates or self.deletions or self.creation)

    def __repr__(self):
        return f"<ListedChange {self.kind} {self.before} → {self.after}>"


def month_list_change(periods, first, *, listed):
    """The `ListedChange` of one person for the list of the month beginning on `first`, or None.

    `periods` are the person's periods as (pk, starts_on, ends_on); `listed` whether the person
    is on the list. Pure: nothing is read or written. See the rules above.
    """
    last = month_end(first)
    eve = first - datetime.timedelta(days=1)
    relevant = sorted(
        (period for period in periods if period[2] is None or period[2] >= eve),
        key=lambda period: period[1],
    )
    before = [(starts_on, ends_on) for _pk, starts_on, ends_on in relevant]
    stored = {pk: (starts_on, ends_on) for pk, starts_on, ends_on in relevant}
    covering = next(
        (p for p in relevant if p[1] <= first and (p[2] is None or p[2] >= first)), None
    )
    if listed:
        if covering is not None and (covering[2] is None or covering[2] >= last):
            return ListedChange(LIST_CONTINUE, before, before)
        # At most one period begins before `first` and reaches its eve (they never overlap).
        earlier = [p for p in relevant if p[1] < first]
        later = [p for p in relevant if p[1] >= first]
        wanted = (earlier[0][1] if earlier else first, None)
        kind = LIST_EXTEND if covering is not None else LIST_JOIN
        rows = earlier + later
        if not rows:
            return ListedChange(kind, before, [wanted], creation=wanted, stored=stored)
        kept_row, merged = rows[0], rows[1:]
        updates = [] if (kept_row[1], kept_row[2]) == wanted else [(kept_row[0], *wanted)]
        return ListedChange(
            kind,
            before,
            [wanted],
            updates=updates,
            deletions=[p[0] for p in merged],
            stored=stored,
        )
    kept = [(start, end) for _pk, start, end in relevant if first <= start <= last]
    if covering is not None and covering[1] < first:
        after = [
            (starts_on, eve if pk == covering[0] else ends_on)
            for pk, starts_on, ends_on in relevant
        ]
        return ListedChange(
            LIST_END,
            before,
            after,
            updates=[(covering[0], covering[1], eve)],
            kept=kept,
            stored=stored,
        )
    if kept:
        return ListedChange(LIST_KEEP, before, before, kept=kept)
    return None


def plan_current_list(*, actor, first, streets, listed, lock=False):
    """{recipient id: ListedChange} of the list of the month beginning on `first`.

    `streets` (ids) are the streets the list decides, `listed` the ids of the registered
    people on it (all of those streets). The unlisted are the registered people of those
    streets the actor sees; only those the list changes or whose periods it keeps are in the
    answer. Two queries whatever the number of people (three with `lock`, which locks the
    people of the streets and their periods when applying).
    """
    eve = first - datetime.timedelta(days=1)
    people = Recipient.objects.visible_to(actor).registered().filter(street__in=list(streets))
    if lock:
        list(people.select_for_update(of=("self",)).only("pk").values_list("pk", flat=True))
    periods = CurrentPeriod.objects.filter(recipient__in=people.values("pk")).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=eve)
    )
    if lock:
        periods = periods.select_for_update(of=("self",))
    by_person = {}
    for pk, recipient_id, starts_on, ends_on in periods.values_list(
        "pk", "recipient_id", "starts_on", "ends_on"
    ):
        by_person.setdefault(recipient_id, []).append((pk, starts_on, ends_on))
    listed = set(listed)
    changes = {}
    for recipient_id in listed | set(by_person):
        change = month_list_change(
            by_person.get(recipient_id, ()), first, listed=recipient_id in listed
        )
        if change is not None:
            changes[recipient_id] = change
    return changes


class ListedNewcomer:
    """A person on a month's list who is not on the register yet: registered by the import.

    `committee` places them; the gender is the one the ID number codes.
    """

    __slots__ = ("committee", "name", "id_number", "categories", "address", "phone")

    def __init__(self, *, committee, name, id_number, categories=(), address="", phone=""):
        self.committee = committee
        self.name = name
        self.id_number = id_number
        self.categories = tuple(categories)
        self.address = address
        self.phone = phone


def gender_of_id_number(number):
    """The gender an 18-character ID number codes (its 17th digit: odd for men)."""
    from cases.choices import Gender

    return Gender.MALE if int(number[16]) % 2 else Gender.FEMALE


# Large IN lists are sent in parts (SQLite takes at most 32766 parameters in one statement).
LIST_CHUNK = 5000


def in_parts(items, size=LIST_CHUNK):
    """`items` in lists of at most `size`, for IN lists of any length."""
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _list_note(first):
    return _("按%(year)s年%(month)s月现有救助对象名单认定") % {
        "year": first.year,
        "month": first.month,
    }


# Checked apart by `_register_newcomers` (the ID number, the committee) or generated.
NEWCOMER_UNCHECKED = ("file_number", "id_number", "id_number_hash", "committee", "street")


def _register_newcomers(actor, first, newcomers, street_ids):
    """Register the newcomers of a list in bulk, each current from `first`, under the rules of
    `register_recipient`: a committee the actor sees in a street the list decides, a valid
    ID number not on the register (nor twice in the list), categories in use, a valid record.
    Returns the new people's ids."""
    if not newcomers:
        return []
    committee_ids = {newcomer.committee.pk for newcomer in newcomers}
    committees = {
        committee.pk: committee
        for committee in Committee.objects.visible_to(actor)
        .filter(pk__in=committee_ids)
        .select_related("street")
    }
    if set(committees) != committee_ids:
        raise Http404
    numbers = {}
    for newcomer in newcomers:
        committee = committees[newcomer.committee.pk]
        if committee.street_id not in street_ids:
            raise ValidationError({"committee": _("居委不在名单所属的街镇内。")})
        number = _clean_id_number(newcomer.id_number)
        if number in numbers:
            raise DuplicateRecipient(_("名单中同一身份证号出现了两次。"), None)
        numbers[number] = newcomer
    digests = [hash_id_number(number) for number in numbers]
    for part in in_parts(digests):
        taken = Recipient.objects.filter(id_number_hash__in=part).first()
        if taken is not None:
            _refuse_duplicate(actor, taken.plain_id_number())
            raise DuplicateRecipient(_("该身份证号已经建档。"), None)
    allowed = {category.pk for category in AssistanceCategory.objects.visible_to(actor).in_use()}
    for newcomer in newcomers:
        unknown = [str(c) for c in newcomer.categories if c.pk not in allowed]
        if unknown:
            raise ValidationError({"categories": _("不可选用的项目:%s。") % "、".join(unknown)})
    # The 档案号 of each street, in one query: DA + street code + the next free sequence
    # (as `cases.models.next_file_number` numbers one person).
    from cases.models import FILE_NUMBER_PREFIX

    prefixes = {
        committee.street_id: f"{FILE_NUMBER_PREFIX}{committee.street.code}"
        for committee in committees.values()
    }
    used = {prefix: 0 for prefix in prefixes.values()}
    same_prefix = Q(pk__in=[])
    for prefix in used:
        same_prefix |= Q(file_number__startswith=prefix)
    taken_numbers = Recipient._default_manager.filter(same_prefix).values_list(
        "file_number", flat=True
    )
    for file_number in taken_numbers:
        for prefix in used:
            tail = file_number[len(prefix) :]
            if file_number.startswith(prefix) and tail.isdigit():
                used[prefix] = max(used[prefix], int(tail))
    people = []
    for number, newcomer in numbers.items():
        committee = committees[newcomer.committee.pk]
        prefix = prefixes[committee.street_id]
        used[prefix] += 1
        person = Recipient(
            committee=committee,
            street=committee.street,
            name=(newcomer.name or "").strip(),
            gender=gender_of_id_number(number),
            id_number=number,
            address=(newcomer.address or "").strip(),
            phone=(newcomer.phone or "").strip(),
            file_number=f"{prefix}{used[prefix]:06d}",
        )
        person.refresh_derived()
        # The ID number was checked above (valid, not on the register); foreign keys are the
        # committee and street just loaded: nothing here queries the database.
        person.full_clean(
            exclude=[*NEWCOMER_UNCHECKED, "advisor"],
            validate_unique=False,
            validate_constraints=False,
        )
        people.append(person)
    Recipient.objects.bulk_create(people, batch_size=500)
    RecipientCategory.objects.bulk_create(
        (
            RecipientCategory(recipient=person, category=category)
            for person, newcomer in zip(people, numbers.values(), strict=True)
            for category in dict.fromkeys(newcomer.categories)
        ),
        batch_size=1000,
    )
    note = _list_note(first)
    CurrentPeriod.objects.bulk_create(
        (CurrentPeriod(recipient=person, starts_on=first, note=note) for person in people),
        batch_size=1000,
    )
    ids = [person.pk for person in people]
    visible = sum(
        Recipient.objects.visible_to(actor).filter(pk__in=part).count() for part in in_parts(ids)
    )
    if visible != len(ids):
        raise PermissionDenied(_("保存的数据超出了您的管理范围,已撤销。"))
    return ids


def _write_list_changes(changes, first):
    """Write the period changes of a list in bulk, after checking each person's periods.

    The updates are few kinds of change (ended on the eve of the month, reopened, begun on
    its first day), so they go as one UPDATE per kind rather than one per period.
    """
    deletions, creations, touched = [], [], []
    updates = {}  # ((field, value), ...): [pk, ...]
    note = _list_note(first)
    for recipient_id, change in changes.items():
        if not change.writes:
            continue
        _check_periods(change.after)
        touched.append(recipient_id)
        deletions.extend(change.deletions)
        for pk, starts_on, ends_on in change.updates:
            CurrentPeriod(
                pk=pk, recipient_id=recipient_id, starts_on=starts_on, ends_on=ends_on
            ).full_clean(exclude=["recipient"], validate_unique=False, validate_constraints=False)
        for pk, fields in change.changed_fields():
            updates.setdefault(tuple(sorted(fields.items())), []).append(pk)
        if change.creation is not None:
            starts_on, ends_on = change.creation
            period = CurrentPeriod(
                recipient_id=recipient_id, starts_on=starts_on, ends_on=ends_on, note=note
            )
            period.full_clean(
                exclude=["recipient"], validate_unique=False, validate_constraints=False
            )
            creations.append(period)
    for part in in_parts(deletions):
        CurrentPeriod.objects.filter(pk__in=part).delete()
    for fields, pks in updates.items():
        for part in in_parts(pks):
            CurrentPeriod.objects.filter(pk__in=part).update(**dict(fields))
    CurrentPeriod.objects.bulk_create(creations, batch_size=1000)
    now = timezone.now()
    for part in in_parts(touched):
        Recipient.objects.filter(pk__in=part).update(updated_at=now)


@transaction.atomic
def import_current_list(*, actor, first, streets, listed, newcomers=()):
    """Make the register say what the list of current recipients of a month says.

    `first` is the month's first day (this month or last month, `list_months`); `streets`
    the streets the list decides (ids or Street objects the actor sees); `listed` the ids of
    the registered people on the list, all of those streets; `newcomers` the
    `ListedNewcomer`s to register. Keepers only. The periods change by the rules above, in
    bulk; returns the number of people of each kind
    ({"continue", "extend", "join", "register", "end", "keep"}; "continue" counts the
    extended too).
    """
    require_role(actor, KEEPERS, _("只有街镇管理员或区民政局可以导入现有救助对象名单。"))
    if first not in list_months():
        raise ValidationError({"month": _("只能导入本月或上月的现有救助对象名单。")})
    street_ids = {getattr(street, "pk", street) for street in streets}
    if not street_ids:
        raise ValidationError(_("名单中没有人员。"))
    if Street.objects.visible_to(actor).filter(pk__in=street_ids).count() != len(street_ids):
        raise Http404
    listed = list(dict.fromkeys(listed))
    found = {}
    for part in in_parts(listed):
        found.update(
            (pk, (street_id, status))
            for pk, street_id, status in Recipient.objects.visible_to(actor)
            .filter(pk__in=part)
            .values_list("pk", "street_id", "status")
        )
    if len(found) != len(listed):
        raise Http404
    if any(status != RecipientStatus.REGISTERED for _street, status in found.values()):
        raise ValidationError(_("已退出的人员不能认定为现有救助对象。"))
    if any(street_id not in street_ids for street_id, _status in found.values()):
        raise ValidationError(_("名单中的人员不属于名单所属的街镇。"))
    changes = plan_current_list(
        actor=actor, first=first, streets=street_ids, listed=listed, lock=True
    )
    # Bulk writes of periods (no hooks, or one per row): the month summaries (C9) of every
    # person the list touched are refreshed once, in this transaction.
    with summaries.deferred():
        _write_list_changes(changes, first)
        registered = _register_newcomers(actor, first, list(newcomers), street_ids)
        summaries.refresh_people([*changes, *registered])
    kinds = [change.kind for change in changes.values()]
    return {
        "continue": kinds.count(LIST_CONTINUE) + kinds.count(LIST_EXTEND),
        "extend": kinds.count(LIST_EXTEND),
        "join": kinds.count(LIST_JOIN),
        "register": len(registered),
        "end": kinds.count(LIST_END),
        "keep": sum(1 for change in changes.values() if change.kept),
    }
