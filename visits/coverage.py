"""The month rule (C9): for each calendar month and each current recipient, visited or not.

This is the one definition that the desk, the figures, the list of misses, the matrix and
`supervision` read. DOMAIN.md, "How the rules are judged", C9:

- A person is **due** in a month when they are a current recipient (their `CurrentPeriod`
  rows, inclusive dates) for at least `policy.due_days` days of it (15 by default; the
  bureau's setting, `VisitPolicy`). Periods of one person never overlap (the register
  refuses it), so the days of their periods in the month add up.
- Any **visit that counts** makes the month visited: kept (not withdrawn), not a failed
  attempt (无人在家, 拒访), of a method the district counts (`policy.excluded_methods`), by
  any advisor, dated in the month. Several visits in a month count once.
- A **miss** (due, not visited) belongs to the person's responsible advisor on the month's
  last day (`cases.charges.responsible_on`), also for the month in progress.
- Quarter and year figures add up the months: a person due in three months counts three
  times.

Decisions where DOMAIN.md is silent:
- The month in progress is judged like any other, over the visits so far: a person not yet
  visited counts as missed in its figure. The pages say that the month is in progress and
  call such people 未走访, not 漏访; a person due in it is due by their periods over the
  whole month (a person current from the 1st with an open period is due on the 2nd).
- A person's committee and street are their current ones (the register keeps no history of
  moves): a person who moved counts in their new committee's past months too.
- A visit counts in the month of its date, whenever it was entered (a late entry for last
  month mends last month).

Every function takes `recipients`, a queryset already cut down to the user's scope, and
runs a fixed number of queries whatever the number of people, periods and visits.

Where the figures come from: `computed_month` is the definition, per-person subqueries over
periods, visits and charges. `visits.summaries` writes its result per person and month
(`PersonMonth`, with `CommitteeMonth` adding them up) in the same transaction as every
write, and the functions below read those rows (conditional aggregates over a few hundred
rows instead of subqueries over millions) whenever they hold the question: the district's
own policy (a saved one, or the defaults unsaved) and months up to the month in progress,
checked with one query (`summaries.ensure_month`, which builds the month in progress when
nobody has yet). Any other question (a made-up policy, months to come) is computed from the
base tables as before, with the same results.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    Func,
    IntegerField,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.charges import responsible_on
from cases.models import CurrentPeriod
from supervision.rules import DEFAULT_AMBER_POINTS, VERDICT_LABELS, Verdict
from visits.choices import MonthState
from visits.models import DEFAULT_DUE_DAYS, CommitteeMonth, PersonMonth, Visit

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


# Months -------------------------------------------------------------------------------------


def parse_month(text):
    """The first day of the month written `2026-10`; ValueError for anything else."""
    match = _MONTH.match((text or "").strip())
    if not match:
        raise ValueError(f"not a month: {text!r}")
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        raise ValueError(f"not a month: {text!r}")
    return datetime.date(year, month, 1)


def month_bounds(first):
    """(first day, last day) of the month starting `first`."""
    first = first.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def shift_month(first, months):
    """The first day of the month `months` after (or before, negative) the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_ending(last_month, count=12):
    """The first days of the `count` months ending with the month of `last_month`, oldest first."""
    last_month = last_month.replace(day=1)
    return [shift_month(last_month, offset) for offset in range(1 - count, 1)]


def month_label(first):
    return _("%(year)d年%(month)d月") % {"year": first.year, "month": first.month}


def month_key(first):
    return f"{first.year:04d}-{first.month:02d}"


def current_month(today=None):
    return (today or timezone.localdate()).replace(day=1)


# Figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """Due and visited person-months of a scope; missed is the rest."""

    due: int = 0
    visited: int = 0

    @property
    def missed(self):
        return self.due - self.visited

    @property
    def rate(self):
        """visited / due as a percentage with one decimal; None when nobody is due.

        A figure short of complete never shows as 100.0."""
        if not self.due:
            return None
        shown = (Decimal(self.visited) * 100 / Decimal(self.due)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if self.visited < self.due and shown >= 100:
            return Decimal("99.9")
        return shown

    @property
    def passed(self):
        return self.visited >= self.due

    @property
    def verdict(self):
        """Green when every due person was visited (target 100%), amber within the amber
        band below it, red further below (DOMAIN.md, "Verdicts")."""
        if not self.due:
            return Verdict.EMPTY
        if self.passed:
            return Verdict.PASS
        amber = getattr(settings, "COMPLIANCE_AMBER_POINTS", DEFAULT_AMBER_POINTS)
        if self.visited * 100 >= (100 - amber) * self.due:
            return Verdict.NEAR
        return Verdict.FAIL

    @property
    def verdict_label(self):
        return VERDICT_LABELS[self.verdict]

    def __add__(self, other):
        return Figure(self.due + other.due, self.visited + other.visited)


# The per-person expressions -------------------------------------------------------------------


class DaysBetween(Func):
    """Whole days from the first date to the second (second − first), on both databases."""

    output_field = IntegerField()
    arity = 2

    def _later_first(self):
        first, second = self.get_source_expressions()
        swapped = self.copy()
        swapped.set_source_expressions([second, first])
        return swapped

    def as_sql(self, compiler, connection, **extra_context):
        # PostgreSQL: date − date is a whole number of days.
        return Func.as_sql(
            self._later_first(),
            compiler,
            connection,
            template="(%(expressions)s)",
            arg_joiner=" - ",
            **extra_context,
        )

    def as_sqlite(self, compiler, connection, **extra_context):
        return Func.as_sql(
            self._later_first(),
            compiler,
            connection,
            template="CAST(julianday(%(expressions)s) AS INTEGER)",
            arg_joiner=") - julianday(",
            **extra_context,
        )


def _date(day):
    return Value(day, output_field=DateField())


def current_days(first, last, recipient_ref="pk"):
    """A subquery: the days of [first, last] the outer person is a current recipient."""
    overlap = DaysBetween(
        Greatest(F("starts_on"), _date(first)),
        Least(Coalesce(F("ends_on"), _date(last)), _date(last)),
    )
    periods = (
        CurrentPeriod.objects.overlapping(first, last)
        .filter(recipient=OuterRef(recipient_ref))
        .order_by()
        .values("recipient")
        .annotate(days=Sum(overlap + 1))
        .values("days")
    )
    return Coalesce(Subquery(periods, output_field=IntegerField()), 0)


def counted_visits(first, last, policy, recipient_ref="pk"):
    """The visits of the outer person that count for the month [first, last]."""
    return (
        Visit.objects.counted(policy)
        .in_month(first, last)
        .filter(recipient=OuterRef(recipient_ref))
    )


def first_visit(first, last, policy, recipient_ref="pk"):
    """A subquery: the date of the outer person's first counted visit in [first, last]."""
    visits = (
        counted_visits(first, last, policy, recipient_ref)
        .order_by()
        .values("recipient")
        .annotate(day=Min("visited_on"))
        .values("day")
    )
    return Subquery(visits, output_field=DateField())


def computed_month(recipients, first, policy, prefix="m"):
    """`recipients` annotated for the month starting `first`, computed from the base tables
    (periods, visits, charges): THE definition of C9 per person-month (see the module).

    `<prefix>_days` days current in the month, `<prefix>_due` whether due,
    `<prefix>_visit` the date of the first counted visit (None if none) and
    `<prefix>_advisor` the id of the advisor responsible on the month's last day.

    `visits.summaries` writes its `PersonMonth` rows with this very expression; the pages read
    them through `with_month`.
    """
    first, last = month_bounds(first)
    due_days = policy.due_days
    return recipients.annotate(
        **{
            f"{prefix}_days": current_days(first, last),
            f"{prefix}_visit": first_visit(first, last, policy),
            f"{prefix}_advisor": responsible_on(last),
        }
    ).annotate(
        **{
            f"{prefix}_due": Case(
                When(**{f"{prefix}_days__gte": due_days}, then=Value(True)),
                default=Value(False),
            )
        }
    )


# Reading the month summaries ------------------------------------------------------------------


def _kept_policy(policy):
    """Whether the summaries were computed under `policy`: a saved policy is the district's
    (the summaries follow each save); an unsaved one is the district's only when it is the
    defaults (a district without a saved policy). Anything else (a policy made up for a
    question) is computed from the base tables."""
    if policy.pk is not None:
        return True
    return policy.due_days == DEFAULT_DUE_DAYS and not policy.excluded_methods


def _summarised(policy, months):
    """Whether `months` are read from the summaries (built first when need be: one query)."""
    from visits import summaries

    months = [month.replace(day=1) for month in months]
    if not months or not _kept_policy(policy) or max(months) > current_month():
        return False
    summaries.ensure_month(max(months))
    return True


def _person_month(first, field, recipient_ref="pk"):
    rows = PersonMonth.objects.filter(recipient=OuterRef(recipient_ref), month=first)
    return rows.order_by().values(field)[:1]


def with_month(recipients, first, policy, prefix="m"):
    """`recipients` annotated for the month starting `first` as `computed_month` does, read
    from the month summaries (`visits.summaries.PersonMonth`, kept in step with every write)
    when they hold the month under this policy, else computed."""
    if not _summarised(policy, [first]):
        return computed_month(recipients, first, policy, prefix)
    return _read_month(recipients, first, prefix)


def _read_month(recipients, first, prefix):
    first, last = month_bounds(first)
    return recipients.annotate(
        **{
            f"{prefix}_days": Coalesce(
                Subquery(_person_month(first, "days"), output_field=IntegerField()), 0
            ),
            f"{prefix}_visit": Subquery(
                _person_month(first, "first_visit_on"), output_field=DateField()
            ),
            # A person without a row (not current in the month) still has their advisor.
            f"{prefix}_advisor": Coalesce(
                Subquery(_person_month(first, "advisor"), output_field=IntegerField()),
                responsible_on(last),
                output_field=IntegerField(),
            ),
            f"{prefix}_due": Coalesce(
                Subquery(_person_month(first, "due"), output_field=BooleanField()),
                Value(False),
            ),
        }
    )


def _months_of(recipients, months, policy, streets=None, **wanted):
    """(rows, annotate): `annotate(rows, first, prefix)` annotates a month as `with_month`
    does, from the summaries or computed; one check of the summaries for all `months`.

    From the summaries, `rows` are already cut down to the people with a `PersonMonth` row
    in `months` matching `wanted` (e.g. due=True), through the (month) index, so that the
    annotations run for those people only; computed, to the people with a period in the
    months (the caller still filters on the annotations, which the summaries satisfy too).
    `streets`: street ids, to keep only the people of those streets; from the summaries,
    through the rows' (street, month) index (a person's rows carry their current street in
    every month): a district's misses of a month in 13-37 ms instead of 62-106 ms, where
    PostgreSQL otherwise looked each of the district's people up in the summaries."""
    if _summarised(policy, months):
        chosen = PersonMonth.objects.filter(month__in=months, **wanted)
        if streets is not None:
            chosen = chosen.filter(street__in=streets)
        return recipients.filter(pk__in=chosen.values("recipient")), _read_month

    def annotate(rows, first, prefix):
        return computed_month(rows, first, policy, prefix)

    if streets is not None:
        recipients = recipients.filter(street__in=streets)
    return _in_months(recipients, months), annotate


def _due_and_visited(recipients, first, policy, prefix):
    """The per-person due and visited tests for one month, as Q objects over annotations
    that `recipients` is given here (one pair of subqueries per month)."""
    first, last = month_bounds(first)
    recipients = recipients.annotate(
        **{
            f"{prefix}_days": current_days(first, last),
            f"{prefix}_seen": Exists(counted_visits(first, last, policy)),
        }
    )
    due = Q(**{f"{prefix}_days__gte": policy.due_days})
    return recipients, due, due & Q(**{f"{prefix}_seen": True})


GROUPS = {"street": "street", "committee": "committee", "advisor": None}


def _in_months(recipients, months):
    """Only the people with a period in one of the months (the rest are never due)."""
    start = month_bounds(months[0])[0]
    end = month_bounds(months[-1])[1]
    return recipients.filter(
        Exists(CurrentPeriod.objects.overlapping(start, end).filter(recipient=OuterRef("pk")))
    )


def period_figures(recipients, months, policy, by=None):
    """The figures of `months` added up: a `Figure`, or {key: Figure} grouped `by` street,
    committee, advisor (responsible on each month's last day; key None for nobody) or month
    (its first day; one query per month when computed).

    One query whatever the number of people (and of months, but for `by="advisor"`, which
    groups each month apart: one query per month).
    """
    months = sorted({month.replace(day=1) for month in months})
    if not months:
        return Figure() if by is None else {}
    if by is not None and by not in GROUPS and by != "month":
        raise ValueError(f"unknown grouping {by!r}")
    if _summarised(policy, months):
        return _summary_figures(recipients, months, by)
    if by == "month":
        return {
            first: _computed_period_figures(recipients, [first], policy, None) for first in months
        }
    return _computed_period_figures(recipients, months, policy, by)


def _summary_figures(recipients, months, by):
    """`period_figures` added up from the month summaries: one query."""
    rows = PersonMonth.objects.filter(
        recipient__in=recipients.order_by().values("pk"), month__in=months
    ).order_by()
    aggregates = {
        "n_due": Count("pk", filter=Q(due=True)),
        "n_visited": Count("pk", filter=Q(due=True, first_visit_on__isnull=False)),
    }
    if by is None:
        totals = rows.aggregate(**aggregates)
        return Figure(totals["n_due"], totals["n_visited"])
    return {
        group[by]: Figure(group["n_due"], group["n_visited"])
        for group in rows.values(by).annotate(**aggregates)
    }


def _computed_period_figures(recipients, months, policy, by):
    """`period_figures` computed from the base tables (a policy the summaries do not hold, or
    months to come)."""
    base = _in_months(recipients.order_by(), months)
    if by == "advisor":
        totals = {}
        for first in months:
            for key, figure in _advisor_figures(base, first, policy).items():
                totals[key] = totals.get(key, Figure()) + figure
        return totals
    aggregates = {}
    rows = base
    for index, first in enumerate(months):
        rows, due, visited = _due_and_visited(rows, first, policy, f"m{index}")
        aggregates[f"due{index}"] = Count("pk", filter=due)
        aggregates[f"visited{index}"] = Count("pk", filter=visited)

    def figure(values):
        return Figure(
            due=sum(values[f"due{i}"] for i in range(len(months))),
            visited=sum(values[f"visited{i}"] for i in range(len(months))),
        )

    if by is None:
        return figure(rows.aggregate(**aggregates))
    field = GROUPS[by]
    return {group[field]: figure(group) for group in rows.values(field).annotate(**aggregates)}


def _advisor_figures(rows, first, policy):
    first_day, last = month_bounds(first)
    rows, due, visited = _due_and_visited(rows, first, policy, "m")
    grouped = (
        rows.annotate(responsible=responsible_on(last))
        .values("responsible")
        .annotate(due=Count("pk", filter=due), visited=Count("pk", filter=visited))
    )
    return {group["responsible"]: Figure(group["due"], group["visited"]) for group in grouped}


def area_figures(months, policy, *, district, street=None, by=None):
    """`period_figures` of everybody placed in a district (or in one of its streets), as the
    bureau and a street manager see them: added up from the committee rollups
    (`CommitteeMonth`, a few hundred rows a month for a district) when the summaries hold the
    months, else computed over the area's people. One query.

    `by`: None, "street", "committee" or "month" (the first day of each month).
    """
    from cases.models import Recipient

    months = sorted({month.replace(day=1) for month in months})
    if not months:
        return Figure() if by is None else {}
    district = getattr(district, "pk", district)
    street = getattr(street, "pk", street)
    if not _summarised(policy, months):
        people = Recipient.objects.for_district(district)
        if street is not None:
            people = people.filter(street=street)
        return period_figures(people, months, policy, by=by)
    rows = CommitteeMonth.objects.filter(month__in=months).order_by()
    rows = (
        rows.filter(street=street) if street is not None else rows.filter(street__district=district)
    )
    sums = {"n_due": Coalesce(Sum("due"), 0), "n_visited": Coalesce(Sum("visited"), 0)}
    if by is None:
        totals = rows.aggregate(**sums)
        return Figure(totals["n_due"], totals["n_visited"])
    if by not in ("street", "committee", "month"):
        raise ValueError(f"unknown grouping {by!r}")
    return {
        group[by]: Figure(group["n_due"], group["n_visited"])
        for group in rows.values(by).annotate(**sums)
    }


def month_figures(recipients, first, policy, by=None):
    """The figures of one month (see `period_figures`)."""
    return period_figures(recipients, [first], policy, by=by)


def misses(recipients, first, policy, streets=None):
    """The people due in the month starting `first` and not visited in it, annotated as
    `with_month` does (prefix `m`), in file order. One query. `streets`: only the people of
    these streets (ids), read faster than by filtering `recipients` (see `_months_of`)."""
    rows, annotate = _months_of(
        recipients, [first], policy, streets, due=True, first_visit_on__isnull=True
    )
    rows = annotate(rows, first, "m")
    if annotate is not _read_month:
        rows = rows.filter(m_due=True, m_visit__isnull=True)
    return rows.order_by("committee__code", "file_number")


def area_misses(first, policy, *, district, street=None):
    """`misses` of the people placed in a district (or one street of it), the area that
    `area_figures` counts: found through the summary rows of the area's streets (which
    carry each person's street), not by filtering the people as well, which made
    PostgreSQL read every person of a district to find its misses (22 ms -> 13 ms)."""
    from cases.models import Recipient
    from stations.models import Street

    street = getattr(street, "pk", street)
    if street is not None:
        streets = [street]
    else:
        streets = Street.objects.filter(district=getattr(district, "pk", district)).values("pk")
    return misses(Recipient.objects.all(), first, policy, streets)


def due_in(recipients, first, policy):
    """The people due in the month starting `first` (visited or not), annotated (prefix `m`)."""
    rows, annotate = _months_of(recipients, [first], policy, due=True)
    rows = annotate(rows, first, "m")
    return rows if annotate is _read_month else rows.filter(m_due=True)


def matrix(recipients, months, policy):
    """One row per person due in at least one of `months`, annotated for each month `i`
    (oldest first) as `with_month` does with prefix `m{i}`. One query per page of rows."""
    rows, annotate = _months_of(recipients, months, policy, due=True)
    any_due = Q()
    for index, first in enumerate(months):
        rows = annotate(rows, first, f"m{index}")
        any_due |= Q(**{f"m{index}_due": True})
    if annotate is not _read_month:  # from the summaries, `rows` are those due already
        rows = rows.filter(any_due)
    return rows.order_by("committee__code", "file_number")


def month_state(due, visit, first, today=None):
    """The state of one person-month: not due, visited, pending (month in progress) or missed."""
    if not due:
        return MonthState.NOT_DUE
    if visit is not None:
        return MonthState.VISITED
    today = today or timezone.localdate()
    if month_bounds(first)[1] >= today:
        return MonthState.PENDING
    return MonthState.MISSED


def row_states(row, months, today=None):
    """[(first day, MonthState, visit date)] of a `matrix` row, oldest month first."""
    return [
        (
            first,
            month_state(getattr(row, f"m{i}_due"), getattr(row, f"m{i}_visit"), first, today),
            getattr(row, f"m{i}_visit"),
        )
        for i, first in enumerate(months)
    ]
