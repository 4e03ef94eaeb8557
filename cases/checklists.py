"""The four checklists of a street (四项清单) as lists: their rows, summaries and rule C10.

A street keeps four lists (DOMAIN.md, "Work"): the advisor roster (`advisors.Advisor`), the
needs list (`Need`), the resource list (`Resource`) and the service list (`ServiceRecord`).
This module says which rows make up each list of a street (`list_rows`), sums them up for
the checklist pages (`with_summaries`: row count, last change, last review) and judges rule
C10 over a period (`checklist_upkeep`, the `C10` rule), each in ONE query whatever the number
of streets and rows: every figure is a subquery annotation on the streets.

C10 (DOMAIN.md, "How the rules are judged": "each of the four lists of a street has a row
changed in the period, or a recorded review (复核) of that list by the street manager in the
period"; the rules table: "the four checklists are kept (non-empty and updated in the
period)"). Decisions:

- The period is [first, last], both dates inclusive, in Asia/Shanghai dates (the project's
  TIME_ZONE): a timestamp counts when it falls between `first` 00:00 and `last + 1 day`
  00:00, Asia/Shanghai time.
- The rows of a street's lists:
  - roster: the advisors of the street (`Advisor.street`), those who left included (the
    roster keeps them, with their leaving date);
  - needs: the needs of the street's people (`Need.recipient.street`);
  - resources: the street's own resources (of the street or of one of its committees) AND
    the district-wide resources of its district: they are in every street's list, so a
    change to a district-wide resource counts for every street of the district (and a
    district-wide resource makes every street's resource list non-empty);
  - services: the services delivered at the street's stations (`ServiceRecord.station`).
- A row "changed in the period" when it was created in it (`created_at`) or last updated
  in it (`updated_at`). The rows' own timestamps are the only ones used: they are the same
  on SQLite and PostgreSQL. Consequences, accepted: a row updated in the period and again
  after it shows only its last update, so judging a past period later can miss a change
  (the audit trail keeps the full history); a deleted row leaves no trace here; what does
  not touch a row's `updated_at` is not a change of the list: for the roster, a change of
  an advisor's stations (`AdvisorStation`, no timestamp; `advisors.services` does not touch
  the advisor row) and trainings (not part of the roster); for needs, linking a resource
  does touch the need (`services.link_resource`); for services, an evaluation is not a
  change of the service list.
- A review counts in the period when its `reviewed_on` date is in it (the service records
  today's date and refuses a date before the current month, so a past period cannot be
  mended afterwards). Reviews by bureau staff count like the street manager's.
- "Non-empty": a list passes only if it has at least one row created by the end of the
  period (`created_at` before `last + 1 day`). An empty list fails even with a review: a
  review confirms that a kept list is still right, it cannot stand for an empty one.
- A list is kept when it is non-empty and (changed or reviewed) in the period; a street
  passes C10 when all four of its lists are kept. The figure is streets passing / streets,
  target 100%.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import (
    DateField,
    DateTimeField,
    Exists,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from advisors.models import Advisor
from cases.choices import AreaLevel, Checklist
from cases.models import ChecklistReview, Need, Resource, ServiceRecord
from stations.models import Street
from supervision.rules import Rule, RuleResult, Share

# The four lists in the order of the notice: roster, needs, resources, services.
CHECKLISTS = (Checklist.ADVISORS, Checklist.NEEDS, Checklist.RESOURCES, Checklist.SERVICES)


# Periods -----------------------------------------------------------------------------------


def month_of(day):
    """The calendar month containing `day`: (first day, last day), both inclusive."""
    first = day.replace(day=1)
    next_month = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, next_month - datetime.timedelta(days=1)


def current_month():
    """The month in progress in Asia/Shanghai: (first day, last day)."""
    return month_of(timezone.localdate())


def period_bounds(first, last):
    """The period [first, last] (inclusive dates) as aware datetimes [start, end)."""
    zone = timezone.get_default_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(
        last + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
    )
    return start, end


# The rows of a list --------------------------------------------------------------------------


def list_rows(checklist, street, district):
    """The rows of `checklist` of a street, unscoped.

    `street` and `district` are the street's id and its district's id, or `OuterRef`s when
    the street is the row of an outer query (`OuterRef("pk")`, `OuterRef("district")`).
    Callers scope the streets; the rows of a visible street's lists are its keepers' to see.
    """
    if checklist == Checklist.ADVISORS:
        return Advisor.objects.filter(street=street)
    if checklist == Checklist.NEEDS:
        return Need.objects.filter(recipient__street=street)
    if checklist == Checklist.RESOURCES:
        return Resource.objects.filter(
            Q(street=street) | Q(area_level=AreaLevel.DISTRICT, district=district)
        )
    if checklist == Checklist.SERVICES:
        return ServiceRecord.objects.filter(station__street=street)
    raise ValueError(f"unknown checklist {checklist!r}")


def street_rows(checklist, street):
    """The rows of `checklist` of one `Street` (for links and tests)."""
    return list_rows(checklist, street.pk, street.district_id)


def _outer_rows(checklist):
    return list_rows(checklist, OuterRef("pk"), OuterRef("district"))


def _scalar(rows, function, field, output_field):
    """`function(field)` over `rows` as a one-value subquery (no GROUP BY: one row)."""
    value = rows.order_by().annotate(
        value=Func(F(field), function=function, output_field=output_field)
    )
    return Subquery(value.values("value")[:1], output_field=output_field)


def _reviews(checklist):
    return ChecklistReview.objects.filter(street=OuterRef("pk"), checklist=checklist)


def with_summaries(streets):
    """Annotate `streets` with, for each list `<c>` of `CHECKLISTS`:

    `<c>_count` its rows, `<c>_updated` the last change of a row (max `updated_at`, None
    for an empty list) and `<c>_reviewed_on` the date of its last review (None if never).
    """
    annotations = {}
    for checklist in CHECKLISTS:
        rows = _outer_rows(checklist)
        annotations[f"{checklist}_count"] = _scalar(rows, "COUNT", "pk", IntegerField())
        annotations[f"{checklist}_updated"] = _scalar(rows, "MAX", "updated_at", DateTimeField())
        annotations[f"{checklist}_reviewed_on"] = _scalar(
            _reviews(checklist), "MAX", "reviewed_on", DateField()
        )
    return streets.annotate(**annotations)


# C10 -------------------------------------------------------------------------------------------


def with_upkeep(streets, first, last):
    """Annotate `streets` with, for each list `<c>`, what C10 asks of it over [first, last]:

    `<c>_filled` (a row created by the end of the period), `<c>_changed` (a row created or
    updated in the period) and `<c>_reviewed` (a review dated in the period).
    """
    start, end = period_bounds(first, last)
    annotations = {}
    for checklist in CHECKLISTS:
        rows = _outer_rows(checklist)
        annotations[f"{checklist}_filled"] = Exists(rows.filter(created_at__lt=end))
        annotations[f"{checklist}_changed"] = Exists(
            rows.filter(
                Q(created_at__gte=start, created_at__lt=end)
                | Q(updated_at__gte=start, updated_at__lt=end)
            )
        )
        annotations[f"{checklist}_reviewed"] = Exists(
            _reviews(checklist).filter(reviewed_on__gte=first, reviewed_on__lte=last)
        )
    return streets.annotate(**annotations)


def kept_q(checklist):
    """The test a street's annotated row passes when its list `checklist` is kept."""
    return Q(**{f"{checklist}_filled": True}) & (
        Q(**{f"{checklist}_changed": True}) | Q(**{f"{checklist}_reviewed": True})
    )


def checklists_kept(streets, first, last):
    """C10 over a queryset of streets and a period: those whose four lists are kept pass."""
    passes = Q()
    for checklist in CHECKLISTS:
        passes &= kept_q(checklist)
    return Share(
        rows=with_upkeep(streets, first, last),
        passes=passes,
        ordering=("district__code", "code"),
    )


@dataclass(frozen=True)
class ListUpkeep:
    """What C10 found about one list of one street over the period."""

    checklist: str
    filled: bool  # non-empty by the end of the period
    changed: bool  # a row created or updated in the period
    reviewed: bool  # a review dated in the period

    @property
    def kept(self) -> bool:
        return self.filled and (self.changed or self.reviewed)

    @property
    def label(self):
        return Checklist(self.checklist).label

    @property
    def state_label(self):
        """The Chinese state shown on the checklist pages."""
        if not self.filled:
            return _("清单为空")
        if self.changed:
            return _("已更新")
        if self.reviewed:
            return _("已复核")
        return _("未更新")


@dataclass(frozen=True)
class StreetUpkeep:
    """C10 for one street: its row (with any other annotations it came with) and its lists."""

    street: Street
    lists: tuple[ListUpkeep, ...]

    @property
    def passed(self) -> bool:
        return all(item.kept for item in self.lists)

    def of(self, checklist) -> ListUpkeep:
        return next(item for item in self.lists if item.checklist == checklist)


@dataclass(frozen=True)
class ChecklistUpkeep:
    """C10 over some streets and a period: the figure and each street's lists."""

    first: datetime.date
    last: datetime.date
    result: RuleResult
    streets: list[StreetUpkeep]

    def for_street(self, street_id) -> StreetUpkeep | None:
        return next((item for item in self.streets if item.street.pk == street_id), None)


def checklist_upkeep(streets, first=None, last=None):
    """C10 over `streets` (a queryset already scoped with `visible_to`) for [first, last].

    The period defaults to the month in progress (Asia/Shanghai). Returns a
    `ChecklistUpkeep`: the C10 figure (a `RuleResult`: streets passing / streets, its
    offenders a lazy queryset) and, per street and per list, whether the list is
    non-empty, changed and reviewed in the period. One query, whatever the number of
    streets; the streets keep the annotations they came with (`with_summaries`).
    """
    if first is None or last is None:
        first, last = current_month()
    share = checklists_kept(streets, first, last)
    upkeep = []
    for row in share.rows.order_by(*share.ordering):
        lists = tuple(
            ListUpkeep(
                checklist=checklist,
                filled=bool(getattr(row, f"{checklist}_filled")),
                changed=bool(getattr(row, f"{checklist}_changed")),
                reviewed=bool(getattr(row, f"{checklist}_reviewed")),
            )
            for checklist in CHECKLISTS
        )
        upkeep.append(StreetUpkeep(street=row, lists=lists))
    result = RuleResult(
        rule=C10,
        covered=sum(item.passed for item in upkeep),
        total=len(upkeep),
        offenders=share.rows.exclude(share.passes).order_by(*share.ordering),
    )
    return ChecklistUpkeep(first=first, last=last, result=result, streets=upkeep)


@dataclass(frozen=True)
class PeriodRule(Rule):
    """A rule judged over a period [first, last] (inclusive): `share(scope, first, last)`.

    Without a period it judges the month in progress (Asia/Shanghai).
    """

    share: Callable[[QuerySet, datetime.date, datetime.date], Share]

    def share_of(self, scope, first=None, last=None) -> Share:
        if first is None or last is None:
            first, last = current_month()
        return self.share(scope, first, last)


C10 = PeriodRule(
    id="C10",
    title=_("四项清单"),
    description=_("每个街镇的四项清单有数据,并在期间内更新或复核"),
    counts=_("街镇"),
    unit=_("个"),
    offender_label=_("有清单为空或期间内未更新、未复核"),
    target=100,
    counted_model=Street,
    street_field="pk",
    share=checklists_kept,
)
