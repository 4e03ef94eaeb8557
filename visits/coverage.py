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
runs a fixed number of queries whatever the number of people, periods and visits: the
figures are conditional aggregates over per-person subqueries, in the database.
"""

import datetime
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
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
from visits.models import Visit

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


def with_month(recipients, first, policy, prefix="m"):
    """`recipients` annotated for the month starting `first` (see the module):

    `<prefix>_days` days current in the month, `<prefix>_due` whether due,
    `<prefix>_visit` the date of the first counted visit (None if none) and
    `<prefix>_advisor` the id of the advisor responsible on the month's last day.
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
    committee or advisor (responsible on each month's last day; key None for nobody).

    One query whatever the number of people (and of months, but for `by="advisor"`, which
    groups each month apart: one query per month).
    """
    months = sorted({month.replace(day=1) for month in months})
    if not months:
        return Figure() if by is None else {}
    base = _in_months(recipients.order_by(), months)
    if by == "advisor":
        totals = {}
        for first in months:
            for key, figure in _advisor_figures(base, first, policy).items():
                totals[key] = totals.get(key, Figure()) + figure
        return totals
    if by is not None and by not in GROUPS:
        raise ValueError(f"unknown grouping {by!r}")
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


def month_figures(recipients, first, policy, by=None):
    """The figures of one month (see `period_figures`)."""
    return period_figures(recipients, [first], policy, by=by)


def misses(recipients, first, policy):
    """The people due in the month starting `first` and not visited in it, annotated as
    `with_month` does (prefix `m`), in file order. One query."""
    rows = with_month(_in_months(recipients, [first]), first, policy, "m")
    return rows.filter(m_due=True, m_visit__isnull=True).order_by("committee__code", "file_number")


def due_in(recipients, first, policy):
    """The people due in the month starting `first` (visited or not), annotated (prefix `m`)."""
    rows = with_month(_in_months(recipients, [first]), first, policy, "m")
    return rows.filter(m_due=True)


def matrix(recipients, months, policy):
    """One row per person due in at least one of `months`, annotated for each month `i`
    (oldest first) as `with_month` does with prefix `m{i}`. One query per page of rows."""
    rows = _in_months(recipients, months)
    any_due = Q()
    for index, first in enumerate(months):
        rows = with_month(rows, first, policy, f"m{index}")
        any_due |= Q(**{f"m{index}_due": True})
    return rows.filter(any_due).order_by("committee__code", "file_number")


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
