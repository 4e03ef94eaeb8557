"""Advisor performance (内部考核激励): each advisor's figures for a period, and the nominations
for 救助顾问明星 and 业务骨干 that a street manager makes from them and the bureau decides.

Figures of an advisor for a period (a month, a quarter or a year, `engine.parse_period`):

- visit coverage: the C9 figures of the people they were responsible for on each month's
  last day, over the period's months up to today, added up
  (`visits.coverage.period_figures(..., by="advisor")`);
- services: the `ServiceRecord`s they delivered, dated in the period;
- needs resolved: the `Need`s in their charge closed as 已解决 in the period, and the average
  whole days from found to closed;
- satisfaction: the ratings of their services made in the period (`cases.satisfaction`:
  (满意 + 基本满意) / all; no ratings, no figure).

Queries: the advisors, the visit policy, one grouped query per month for coverage, and one
grouped query each for services, needs and ratings: the same whatever the number of advisors.

Nominations: a street manager nominates an advisor of their street; bureau staff of the
district confirm or decline (with a reason). Once per advisor, title and year, whatever the
outcome (a database constraint). A confirmed nomination also sets the advisor's
`star_year` / `backbone_year` (the roster's recognition columns) when it is the latest, so
checklist 1 and its export carry it; the public directory shows confirmed nominations only.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, FloatField, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from advisors.models import (
    Advisor,
    Nomination,
    NominationStatus,
    RecognitionTitle,
    year_validators,
)
from cases import satisfaction
from cases.choices import NeedStatus, Rating
from cases.models import Evaluation, Need, Recipient, ServiceRecord
from changning_aid.scoping import ensure_still_visible
from changning_aid.writes import require_role, visible_or_404
from visits import coverage
from visits.coverage import DaysBetween, Figure
from visits.models import policy_for

# ?sort= keys: the attribute of a row and whether the best comes first by descending order.
SORTS = {
    "name": ("name", False),
    "coverage": ("coverage_rate", True),
    "services": ("services", True),
    "resolved": ("resolved", True),
    "days": ("average_days", False),
    "satisfaction": ("satisfaction_rate", True),
}
DEFAULT_SORT = "name"


@dataclass
class AdvisorFigures:
    advisor: Advisor
    coverage: Figure = field(default_factory=Figure)
    services: int = 0
    resolved: int = 0
    average_days: Decimal | None = None
    ratings: satisfaction.Satisfaction = satisfaction.NO_RATINGS

    @property
    def name(self):
        return self.advisor.name

    @property
    def coverage_rate(self):
        return self.coverage.rate

    @property
    def satisfaction_rate(self):
        return self.ratings.percentage


def advisors_in_period(user, period, street=None):
    """The advisors the user sees (of `street` when given) who were on duty at some time in
    the period: started by its last day and not left before its first day."""
    advisors = Advisor.objects.visible_to(user).filter(started_on__lte=period.last)
    advisors = advisors.filter(Q(left_on__isnull=True) | Q(left_on__gt=period.first))
    if street is not None:
        advisors = advisors.filter(street=street)
    return advisors.select_related("street").order_by("street__code", "advisor_number")


def _one_decimal(value):
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def advisor_figures(user, period, *, district_id, street=None, sort=DEFAULT_SORT):
    """One `AdvisorFigures` per advisor of the scope, sorted by `sort` (see `SORTS`; a leading
    "-" reverses it). An advisor without figures appears with zeros; an empty figure sorts last."""
    advisors = list(advisors_in_period(user, period, street))
    rows = {advisor.pk: AdvisorFigures(advisor) for advisor in advisors}
    if rows:
        ids = list(rows)
        recipients = Recipient.objects.visible_to(user)
        if street is not None:
            recipients = recipients.filter(street=street)
        by_advisor = coverage.period_figures(
            recipients, period.months(), policy_for(district_id), by="advisor"
        )
        for pk, figure in by_advisor.items():
            if pk in rows:
                rows[pk].coverage = figure

        services = (
            ServiceRecord.objects.visible_to(user)
            .filter(advisor__in=ids, date__gte=period.first, date__lte=period.last)
            .order_by()
            .values("advisor")
            .annotate(count=Count("pk"))
        )
        for group in services:
            rows[group["advisor"]].services = group["count"]

        needs = (
            Need.objects.visible_to(user)
            .filter(
                advisor__in=ids,
                status=NeedStatus.RESOLVED,
                closed_on__gte=period.first,
                closed_on__lte=period.last,
            )
            .order_by()
            .values("advisor")
            .annotate(
                count=Count("pk"),
                days=Avg(DaysBetween("found_on", "closed_on"), output_field=FloatField()),
            )
        )
        for group in needs:
            rows[group["advisor"]].resolved = group["count"]
            rows[group["advisor"]].average_days = _one_decimal(group["days"])

        rated = satisfaction.Period.parse(period.key)
        ratings = (
            satisfaction.in_period(Evaluation.objects.visible_to(user), rated)
            .filter(service__advisor__in=ids)
            .order_by()
            .values("service__advisor")
            .annotate(
                satisfied=Count("pk", filter=Q(rating=Rating.SATISFIED)),
                fairly=Count("pk", filter=Q(rating=Rating.FAIRLY_SATISFIED)),
                dissatisfied=Count("pk", filter=Q(rating=Rating.DISSATISFIED)),
            )
        )
        for group in ratings:
            rows[group["service__advisor"]].ratings = satisfaction.Satisfaction(
                group["satisfied"], group["fairly"], group["dissatisfied"]
            )
    return sort_rows(list(rows.values()), sort)


def clean_sort(sort):
    """A known sort key (with an optional leading "-"), else the default."""
    sort = (sort or "").strip()
    return sort if sort.removeprefix("-") in SORTS else DEFAULT_SORT


def sort_rows(rows, sort):
    sort = clean_sort(sort)
    attribute, best_first = SORTS[sort.removeprefix("-")]
    descending = best_first != sort.startswith("-")
    present = [row for row in rows if getattr(row, attribute) is not None]
    missing = [row for row in rows if getattr(row, attribute) is None]
    present.sort(key=lambda row: row.advisor.advisor_number)
    present.sort(key=lambda row: getattr(row, attribute), reverse=descending)
    return present + missing


# Nominations ------------------------------------------------------------------------------------


def can_nominate(user):
    return user.is_authenticated and user.role == Role.STREET_MANAGER


def can_decide(user):
    return user.is_authenticated and user.role == Role.BUREAU


def _check_year(year):
    low = year_validators[0].limit_value
    high = timezone.localdate().year
    if not isinstance(year, int) or not low <= year <= high:
        raise ValidationError(
            {"year": _("年度应在%(low)d年至%(high)d年之间。") % {"low": low, "high": high}}
        )


@transaction.atomic
def nominate(*, actor, advisor, title, year, reason):
    """A street manager nominates an advisor of their street for `title` of `year`."""
    require_role(actor, (Role.STREET_MANAGER,), _("只有街镇管理员可以提名表彰。"))
    visible_or_404(Advisor.objects, actor, advisor)
    errors = {}
    if title not in RecognitionTitle.values:
        errors["title"] = _("请选择称号:救助顾问明星或业务骨干。")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("请填写推荐理由。")
    try:
        _check_year(year)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    duplicate = ValidationError(
        _("%(name)s已被提名过%(year)s年度%(title)s,同一称号每年只能提名一次。")
        % {"name": advisor.name, "year": year, "title": RecognitionTitle(title).label}
    )
    if Nomination.objects.filter(advisor=advisor, title=title, year=year).exists():
        raise duplicate
    nomination = Nomination(
        advisor=advisor, title=title, year=year, reason=reason, nominated_by=actor
    )
    nomination.full_clean(exclude=["advisor", "nominated_by"], validate_constraints=False)
    try:
        with transaction.atomic():
            nomination.save()
    except IntegrityError as error:
        raise duplicate from error
    ensure_still_visible(nomination, actor)
    return nomination


def _pending_or_refuse(nomination):
    if nomination.status != NominationStatus.PENDING:
        raise ValidationError(
            _("该提名已%(status)s,不能再次审核。") % {"status": nomination.get_status_display()}
        )


@transaction.atomic
def confirm_nomination(*, actor, nomination, reason=""):
    """Bureau staff of the district confirm a pending nomination: the recognition is given."""
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以确认表彰。"))
    visible_or_404(Nomination.objects, actor, nomination)
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    _pending_or_refuse(nomination)
    nomination.status = NominationStatus.CONFIRMED
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.decision_reason = (reason or "").strip()[:500]
    nomination.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    advisor = nomination.advisor
    year_field = "star_year" if nomination.title == RecognitionTitle.STAR else "backbone_year"
    if (getattr(advisor, year_field) or 0) < nomination.year:
        setattr(advisor, year_field, nomination.year)
        advisor.save(update_fields=[year_field, "updated_at"])
    ensure_still_visible(nomination, actor)
    return nomination


@transaction.atomic
def decline_nomination(*, actor, nomination, reason):
    """Bureau staff of the district decline a pending nomination, with the reason."""
    require_role(actor, (Role.BUREAU,), _("只有区民政局可以审核表彰提名。"))
    visible_or_404(Nomination.objects, actor, nomination)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("不予通过时请填写原因。")})
    nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
    _pending_or_refuse(nomination)
    nomination.status = NominationStatus.DECLINED
    nomination.decided_by = actor
    nomination.decided_at = timezone.now()
    nomination.decision_reason = reason[:500]
    nomination.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    ensure_still_visible(nomination, actor)
    return nomination
