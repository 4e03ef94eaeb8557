"""The reads of the advisor's desk (走访工作台): who is due this month, in order of urgency.

The desk lists the current recipients an advisor login sees (their own by default, or
everyone of the stations they serve), each with this month's state by the month rule
(`visits.coverage.with_month`, the one definition of C9), last month's miss, the last
visit, the count of open needs and the open follow-ups. Everything is annotated in the
database: a fixed number of queries whatever the number of people.

Decisions:
- "Last visit" is the last visit that counts (kept, not a failed attempt, of a counted
  method): the date an advisor is judged by. A failed attempt this month is shown apart
  (无人在家 on the 3rd) because it tells the advisor to go back.
- Urgency: the people due and not yet visited this month first (last month's misses
  first, then by hardship, then the longest since their last visit, never visited
  first); then the people current today but not due this month (current for fewer days
  than the policy asks); the people visited this month last.
- Days left count today: on the last day of the month one day is left.

政策找人 on the desk (`desk_leads`, `desk_situation_changes`): the open leads the login sees
(those in the advisor's charge and those of the committees they serve) and the 情况变化 of
registered people not yet acknowledged. Decisions:
- Leads: 待核实 first (not yet visited), then the overdue ones (open longer than
  LEAD_VISIT_DAYS), then by the number of sources (more sources, more likely in need),
  the oldest first. A panel, not a list page: the first DESK_LEAD_LIMIT with the counts,
  and a link to the leads list for the rest.
- 情况变化 follow the desk's tab: "mine" the people in the advisor's charge (the advisor
  hears of them and is the one to check them), "all" every person the login sees. The
  oldest first (a change waits longest), the first DESK_FACT_LIMIT with the count; once
  acknowledged a fact leaves the panel and the next ones show.
"""

import datetime
from dataclasses import dataclass

from django.db.models import (
    Case,
    CharField,
    Count,
    DateField,
    F,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from cases.choices import OPEN_NEED_STATUSES, HardshipLevel, LeadStatus
from cases.leads import overdue_q
from cases.models import Need
from cases.views.recipients import can_acknowledge_facts_of, current_today
from visits.choices import FAILED_RESULTS, MonthState, VisitMethod, VisitResult
from visits.coverage import month_bounds, month_figures, shift_month, with_month
from visits.models import Visit
from visits.services import open_follow_ups

# The most people a search shows: the box is for finding one person.
SEARCH_LIMIT = 20
# The most leads and 情况变化 the desk's panels list (the counts say how many there are).
DESK_LEAD_LIMIT = 20
DESK_FACT_LIMIT = 20


@dataclass(frozen=True)
class DeskMonth:
    """This month and last month as the desk judges them on `today`."""

    today: datetime.date
    first: datetime.date
    last: datetime.date
    previous: datetime.date

    @classmethod
    def on(cls, today):
        first, last = month_bounds(today)
        return cls(today=today, first=first, last=last, previous=shift_month(first, -1))

    @property
    def days_left(self):
        """The days of the month still open for visits, today included."""
        return (self.last - self.today).days + 1


def _last_counted(policy, field):
    visits = (
        Visit.objects.counted(policy)
        .filter(recipient=OuterRef("pk"))
        .order_by("-visited_on", "-visited_at", "-pk")
        .values(field)[:1]
    )
    return visits


def _attempt_this_month(month, field):
    """The latest failed attempt (kept) in the month, for a person not yet visited."""
    attempts = (
        Visit.objects.kept()
        .in_month(month.first, month.last)
        .filter(recipient=OuterRef("pk"), result__in=FAILED_RESULTS)
        .order_by("-visited_on", "-pk")
        .values(field)[:1]
    )
    return attempts


def _open_needs():
    needs = (
        Need.objects.filter(recipient=OuterRef("pk"), status__in=OPEN_NEED_STATUSES)
        .order_by()
        .values("recipient")
        .annotate(count=Count("pk"))
        .values("count")
    )
    return Coalesce(Subquery(needs, output_field=IntegerField()), 0)


def annotate_desk(recipients, month, policy):
    """`recipients` with this month (`m_*`) and last month (`p_*`) by the month rule, the
    last counted visit, this month's latest failed attempt, the open needs and the
    urgency ranks the desk sorts by. One query when evaluated."""
    rows = with_month(recipients, month.first, policy, "m")
    rows = with_month(rows, month.previous, policy, "p")
    return rows.annotate(
        last_visit_on=Subquery(_last_counted(policy, "visited_on"), output_field=DateField()),
        last_visit_method=Subquery(_last_counted(policy, "method"), output_field=CharField()),
        attempt_on=Subquery(_attempt_this_month(month, "visited_on"), output_field=DateField()),
        attempt_result=Subquery(_attempt_this_month(month, "result"), output_field=CharField()),
        open_needs=_open_needs(),
        state_rank=Case(
            When(m_visit__isnull=False, then=Value(2)),
            When(m_due=False, then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
        missed_rank=Case(
            When(Q(p_due=True, p_visit__isnull=True), then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        ),
        hardship_rank=Case(
            When(hardship_level=HardshipLevel.HIGH, then=Value(0)),
            When(hardship_level=HardshipLevel.MEDIUM, then=Value(1)),
            default=Value(2),
            output_field=IntegerField(),
        ),
    )


def by_urgency(rows):
    return rows.order_by(
        "state_rank",
        "missed_rank",
        "hardship_rank",
        F("last_visit_on").asc(nulls_first=True),
        "file_number",
    )


def desk_rows(recipients, month, policy):
    """The desk's list: `recipients` annotated (`annotate_desk`) in order of urgency."""
    return by_urgency(annotate_desk(recipients, month, policy)).select_related("committee")


def mark_states(rows, month):
    """Set on each row its state this month (`MonthState`) and last month's miss."""
    for row in rows:
        if row.m_visit is not None:
            row.state = MonthState.VISITED
        elif row.m_due:
            row.state = MonthState.PENDING
        else:
            row.state = MonthState.NOT_DUE
        row.missed_last_month = bool(row.p_due and row.p_visit is None)
        row.attempt_label = _label(VisitResult, row.attempt_result) if row.attempt_on else ""
        row.last_visit_method_label = _label(VisitMethod, row.last_visit_method)
    return rows


def _label(choices, value):
    try:
        return choices(value).label
    except ValueError:
        return ""


def attach_follow_ups(rows, follow_ups):
    """Give each row its open follow-ups (`row.follow_ups`, earliest first)."""
    by_person = {}
    for visit in follow_ups:
        by_person.setdefault(visit.recipient_id, []).append(visit)
    for row in rows:
        row.follow_ups = by_person.get(row.pk, [])
    return rows


def desk_follow_ups(visits, recipients, today):
    """The open follow-ups of `recipients` (earliest deadline first), each flagged overdue.
    One query. `visits` is `Visit.objects.visible_to(user)`."""
    rows = list(
        open_follow_ups(visits)
        .filter(recipient__in=recipients.order_by().values("pk"))
        .select_related("recipient")
        .only(
            "pk",
            "visited_on",
            "follow_up_by",
            "follow_up_note",
            "recipient_id",
            "recipient__id",
            "recipient__name",
        )
        .order_by("follow_up_by", "pk")
    )
    for visit in rows:
        visit.overdue = visit.follow_up_by is not None and visit.follow_up_by < today
    return rows


@dataclass(frozen=True)
class DeskSummary:
    """The figures at the top of the desk (this month so far, and last month)."""

    due: int
    visited: int
    days_left: int
    missed_last_month: int
    reminder_days: int

    @property
    def remaining(self):
        return self.due - self.visited

    @property
    def remind(self):
        return self.remaining > 0 and self.days_left <= self.reminder_days


def desk_summary(recipients, month, policy):
    """This month's due and visited among `recipients`, and last month's misses (two queries,
    by the one month rule)."""
    this_month = month_figures(recipients, month.first, policy)
    last_month = month_figures(recipients, month.previous, policy)
    return DeskSummary(
        due=this_month.due,
        visited=this_month.visited,
        days_left=month.days_left,
        missed_last_month=last_month.missed,
        reminder_days=policy.reminder_days,
    )


def search_rows(recipients, found, month, policy):
    """The people of `recipients` matching the search filter `found` (at most SEARCH_LIMIT),
    the current recipients first, then in order of urgency, annotated as the desk's list."""
    rows = annotate_desk(recipients.filter(found), month, policy).annotate(
        current=current_today(month.today)
    )
    rows = rows.order_by(
        F("current").desc(),
        "state_rank",
        "missed_rank",
        "hardship_rank",
        F("last_visit_on").asc(nulls_first=True),
        "file_number",
    ).select_related("committee")
    return mark_states(list(rows[:SEARCH_LIMIT]), month)


# 政策找人 -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeskLeads:
    """The desk's panel of open leads: the first rows and the counts of them all."""

    rows: list
    total: int
    pending: int
    overdue: int

    @property
    def more(self):
        return self.total - len(self.rows)


def desk_leads(leads, today, limit=DESK_LEAD_LIMIT):
    """The open leads of `leads` (`Lead.objects.visible_to(user)`) for the desk: the first
    `limit` in order (see the module), each with `days_open` and `overdue`, and the counts.
    Two queries."""
    open_leads = leads.open()
    overdue = overdue_q(today)
    figures = open_leads.aggregate(
        total=Count("pk"),
        pending=Count("pk", filter=Q(status=LeadStatus.PENDING)),
        overdue=Count("pk", filter=overdue),
    )
    rows = list(
        open_leads.annotate(
            status_rank=Case(
                When(status=LeadStatus.PENDING, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            overdue_rank=Case(When(overdue, then=Value(0)), default=Value(1)),
        )
        .select_related("committee", "advisor")
        .order_by("status_rank", "overdue_rank", "-source_count", "found_on", "pk")[:limit]
    )
    for lead in rows:
        lead.days_open = lead.days_open(today)
        lead.overdue = lead.overdue_rank == 0
    return DeskLeads(
        rows=rows,
        total=figures["total"],
        pending=figures["pending"],
        overdue=figures["overdue"],
    )


@dataclass(frozen=True)
class DeskFacts:
    """The desk's panel of 情况变化: the first facts and how many wait in all."""

    rows: list
    total: int

    @property
    def more(self):
        return self.total - len(self.rows)


def situation_changes(facts, advisor=None):
    """The 情况变化 of registered people among `facts` (`LeadFact.objects.visible_to(user)`)
    not yet acknowledged; of the people in `advisor`'s charge when given."""
    flagged = facts.flagged().filter(recipient__isnull=False)
    if advisor is not None:
        flagged = flagged.filter(recipient__advisor=advisor)
    return flagged


def desk_situation_changes(flagged, user, limit=DESK_FACT_LIMIT):
    """The first `limit` of `flagged` (`situation_changes`), oldest first, each with
    `can_acknowledge` for `user`, and their count. Two queries."""
    rows = list(
        flagged.select_related("recipient__committee", "recipient__advisor", "source").order_by(
            "received_on", "pk"
        )[:limit]
    )
    for fact in rows:
        fact.can_acknowledge = can_acknowledge_facts_of(user, fact.recipient)
    return DeskFacts(rows=rows, total=flagged.count())
