"""政策找人 in figures: what the lists brought and what became of the leads, per source and
per street over a period, and rule P1 (政策找人线索及时核实) that the compliance engine
registers (`supervision.engine`).

The figures of a period [first, last] (both inclusive):

- Rows (名单行数, 已在册). Per source, over the whole district: the rows of the lists
  processed in the period (`LeadUpload.rows_total`, `rows_matched`; an upload counts on
  the Asia/Shanghai date of `processed_at`). The rows of a list are not per street (an
  invalid or duplicate row has none), so per street — and per source within one street,
  what a street manager sees — the rows are the facts placed in the street by the lists
  processed in the period (a fact is a row that added something: a new lead, a lead named
  again, or a registered person's new fact) and 已在册 the facts on a registered person
  (`LeadFact.lead` empty). Facts of leads not placed yet are in the 尚未定位 row. Decision:
  the two tables' rows therefore do not add up to the same total; the by-street total
  leaves out invalid and duplicate rows.
- The leads of the period (新线索): the leads found in it (`found_on`, the day the list that
  first named them was processed). Everything else counts these leads as they stand today
  (decision: a past period's leads are followed to their outcome, not frozen at the
  period's end):
  - 及时走访: visited (a successful visit, `first_visited_on`, on or before `today`) within
    `settings.LEAD_VISIT_DAYS` days of being found (the deadline day itself is in time);
  - 纳入: enrolled on the register; 未办结: still open (待核实 or 已走访); 超期未办结:
    `cases.leads.overdue_q(today)` (open and found more than N days before `today`);
  - 平均核实天数: the average days from found to first visit over the leads visited
    (average rather than median: it is computed in the database on SQLite and PostgreSQL
    alike, as a sum of durations divided by the count, both from one grouped query).
- A lead belongs to every source that named it (any of its facts, at any time, is from
  that source): a lead named by two sources counts for both, and the total row counts it
  once. Per street, a lead belongs to the street it is placed in; the leads not placed yet
  are a row of their own (尚未定位, bureau staff only), so the streets and that row add up
  to the total.

Each function reads a fixed number of queries whatever the number of sources, streets and
leads: one per grouped figure (conditional aggregation, `Count(filter=)`), and one for the
rows' names.

Rule P1 (政策找人线索及时核实; the notice's 一、指导思想: 进一步夯实“政策找人”工作体系),
over the leads of a scope found in a period, judged on the judging day `on` (the period's
last day, or today while it is in progress), with what is recorded by `today`:

- counted: the leads placed in a street (a lead not placed yet is the bureau's to place and
  no street's to visit), found between the period's first day and `on`, whose outcome is
  known: visited by `today`, or whose deadline (found_on + N days) has passed before
  `today`. A lead found less than N days ago and not visited yet is not late: it is not
  counted yet (nor passed). Decision: a period's figure follows the leads found in it, so a
  lead found on the period's last days is judged once its deadline is known, whichever day
  the figure is read (the same leads, never a lead twice in consecutive periods);
- passes: its first successful visit came within N days of being found; a lead closed as
  无法联系 without one, or visited later, breaches. Decision: the clock starts when the lead
  is found (as `overdue_q` does), not when bureau staff placed it: a late placement shows as
  a breach of the street it was placed in (the figures page's 尚未定位 row keeps the
  bureau's backlog in view);
- target 90%; the offenders are the late leads (their number, street, found and first
  visited dates: no name).
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils.translation import gettext_lazy as _

from cases.choices import OPEN_LEAD_STATUSES, LeadStatus
from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload
from cases.leads import overdue_q
from stations.models import Street
from supervision.rules import Rule, Share

UNPLACED = "unplaced"  # the key of the row of the leads not placed in a street yet


def visit_days():
    """The days a lead may wait for its first visit (settings.LEAD_VISIT_DAYS)."""
    return datetime.timedelta(days=settings.LEAD_VISIT_DAYS)


def _prefixed(q, prefix):
    """`q` with every lookup read through `prefix` (a Q of Lead fields on LeadFact rows)."""
    if not prefix:
        return q
    copy = Q()
    copy.connector, copy.negated = q.connector, q.negated
    copy.children = [
        _prefixed(child, prefix) if isinstance(child, Q) else (f"{prefix}{child[0]}", child[1])
        for child in q.children
    ]
    return copy


def waited(prefix=""):
    """The time from found to first visit, as a duration (portable: SQLite and PostgreSQL)."""
    return ExpressionWrapper(
        F(f"{prefix}first_visited_on") - F(f"{prefix}found_on"), output_field=DurationField()
    )


def visited_in_time_q(today, prefix=""):
    """Visited (by `today`) within LEAD_VISIT_DAYS days of being found. The rows carry the
    annotation `wait` (`with_wait`); `first_visited_on` is tested on its own so that the
    negated test (the offenders) keeps the leads never visited."""
    return Q(
        **{
            f"{prefix}first_visited_on__isnull": False,
            f"{prefix}first_visited_on__lte": today,
            "wait__lte": visit_days(),
        }
    )


def with_wait(rows, prefix=""):
    return rows.annotate(wait=waited(prefix))


def _visited_q(today, prefix=""):
    return Q(
        **{f"{prefix}first_visited_on__isnull": False, f"{prefix}first_visited_on__lte": today}
    )


# Figures ------------------------------------------------------------------------------------


@dataclass
class Figures:
    """One row of a figures table: the lists' rows and what became of the period's leads."""

    rows: int = 0
    matched: int = 0
    new: int = 0
    visited_in_time: int = 0
    enrolled: int = 0
    open: int = 0
    overdue: int = 0
    visited: int = 0  # the leads with a first visit (the average's count)
    wait: datetime.timedelta = field(default_factory=datetime.timedelta)  # their total wait

    @property
    def average_days(self):
        """Average days from found to first visit, one decimal; None without a visit."""
        if not self.visited:
            return None
        days = Decimal(self.wait.total_seconds()) / 86400 / self.visited
        return days.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def add(self, other):
        for name in ("rows", "matched", "new", "visited_in_time", "enrolled", "open"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.overdue += other.overdue
        self.visited += other.visited
        self.wait += other.wait


@dataclass
class Row:
    """A source or a street (or the leads not placed yet) and its figures."""

    key: object  # a source pk, a street pk, or UNPLACED
    label: str
    figures: Figures
    source: LeadSource | None = None
    street: Street | None = None

    @property
    def is_unplaced(self):
        return self.key == UNPLACED


def _lead_aggregates(today, prefix=""):
    """The conditional aggregates of the leads of a period (rows are leads or facts)."""
    counted = "pk"
    return {
        "new": Count(counted),
        "visited_in_time": Count(counted, filter=visited_in_time_q(today, prefix)),
        "enrolled": Count(counted, filter=Q(**{f"{prefix}status": LeadStatus.ENROLLED})),
        "open": Count(counted, filter=Q(**{f"{prefix}status__in": OPEN_LEAD_STATUSES})),
        "overdue": Count(counted, filter=_prefixed(overdue_q(today), prefix)),
        "visited": Count(counted, filter=_visited_q(today, prefix)),
        "wait_sum": Sum("wait", filter=_visited_q(today, prefix)),
    }


def _lead_figures(values, figures=None):
    figures = figures or Figures()
    figures.new = values["new"] or 0
    figures.visited_in_time = values["visited_in_time"] or 0
    figures.enrolled = values["enrolled"] or 0
    figures.open = values["open"] or 0
    figures.overdue = values["overdue"] or 0
    figures.visited = values["visited"] or 0
    figures.wait = values["wait_sum"] or datetime.timedelta()
    return figures


def _leads(district_id, street_id, user):
    rows = Lead.objects.visible_to(user) if user is not None else Lead.objects.all()
    rows = rows.filter(district_id=district_id)
    if street_id is not None:
        rows = rows.filter(street_id=street_id)
    return rows


def _facts(district_id, street_id, user):
    rows = LeadFact.objects.visible_to(user) if user is not None else LeadFact.objects.all()
    rows = rows.filter(district_id=district_id)
    if street_id is not None:
        rows = rows.filter(street_id=street_id)
    return rows


def period_leads(district_id, first, last, street_id=None, user=None):
    """The leads found in [first, last] (of `street_id` when given; as `user` sees them)."""
    return _leads(district_id, street_id, user).filter(found_on__gte=first, found_on__lte=last)


def _period_facts(district_id, first, last, street_id, user):
    """The facts added by the lists processed in [first, last]."""
    return _facts(district_id, street_id, user).filter(
        upload__processed_at__date__gte=first, upload__processed_at__date__lte=last
    )


def total_figures(district_id, first, last, today, street_id=None, user=None):
    """The period's leads counted once (the total of both tables), one query."""
    leads = with_wait(period_leads(district_id, first, last, street_id, user)).order_by()
    return _lead_figures(leads.aggregate(**_lead_aggregates(today)))


def source_figures(district_id, first, last, today, street_id=None, user=None):
    """(rows, total): the figures of each source (see the module), and their total.

    Over the district: every source of the district, the rows from its lists; within a
    street (`street_id`, a street manager's view): the sources that named someone of the
    street, the rows as the street's facts. 4 queries (3 within a street).
    """
    rows = {}
    if street_id is None:
        sources = LeadSource.objects.visible_to(user) if user is not None else LeadSource.objects
        for source in sources.filter(district_id=district_id).order_by("name", "pk"):
            rows[source.pk] = Row(source.pk, source.name, Figures(), source=source)
        uploads = (
            LeadUpload.objects.visible_to(user) if user is not None else LeadUpload.objects.all()
        )
        for group in (
            uploads.filter(
                district_id=district_id,
                state=LeadUpload.State.PROCESSED,
                processed_at__date__gte=first,
                processed_at__date__lte=last,
            )
            .order_by()
            .values("source")
            .annotate(rows=Sum("rows_total"), matched=Sum("rows_matched"))
        ):
            row = rows.get(group["source"])
            if row is not None:
                row.figures.rows = group["rows"] or 0
                row.figures.matched = group["matched"] or 0
    else:
        for group in (
            _period_facts(district_id, first, last, street_id, user)
            .order_by()
            .values("source", "source__name")
            .annotate(rows=Count("pk"), matched=Count("pk", filter=Q(lead__isnull=True)))
        ):
            row = rows.setdefault(
                group["source"], Row(group["source"], group["source__name"], Figures())
            )
            row.figures.rows = group["rows"]
            row.figures.matched = group["matched"]
    # One fact per (lead, source): the lead counts once for each source that named it.
    first_of_pair = (
        LeadFact.objects.filter(lead=OuterRef("lead"), source=OuterRef("source"))
        .order_by("pk")
        .values("pk")[:1]
    )
    leads = period_leads(district_id, first, last, street_id, user)
    pairs = (
        _facts(district_id, None, user)
        .filter(lead__in=leads.values("pk"), pk=Subquery(first_of_pair))
        .annotate(wait=waited("lead__"))
        .order_by()
        .values("source", "source__name")
        .annotate(**_lead_aggregates(today, "lead__"))
    )
    for group in pairs:
        row = rows.get(group["source"])
        if row is None:
            row = rows[group["source"]] = Row(group["source"], group["source__name"], Figures())
        _lead_figures(group, row.figures)
    ordered = sorted(rows.values(), key=lambda row: (row.label, row.key))
    total = total_figures(district_id, first, last, today, street_id, user)
    total.rows = sum(row.figures.rows for row in ordered)
    total.matched = sum(row.figures.matched for row in ordered)
    return ordered, total


def street_figures(district_id, first, last, today, street_id=None, user=None, with_rows=True):
    """(rows, total): the figures of each street of the district (or of `street_id` only),
    and the 尚未定位 row for the district's leads not placed yet (see the module).

    3 queries (2 without `with_rows`, the lists' rows left at 0).
    """
    streets = Street.objects.visible_to(user) if user is not None else Street.objects.all()
    streets = streets.filter(district_id=district_id).order_by("code")
    if street_id is not None:
        streets = streets.filter(pk=street_id)
    rows = {street.pk: Row(street.pk, street.name, Figures(), street=street) for street in streets}
    unplaced = Row(UNPLACED, str(_("尚未定位")), Figures())
    if with_rows:
        for group in (
            _period_facts(district_id, first, last, street_id, user)
            .order_by()
            .values("street")
            .annotate(rows=Count("pk"), matched=Count("pk", filter=Q(lead__isnull=True)))
        ):
            row = rows.get(group["street"]) if group["street"] else unplaced
            if row is not None:
                row.figures.rows = group["rows"]
                row.figures.matched = group["matched"]
    for group in (
        with_wait(period_leads(district_id, first, last, street_id, user))
        .order_by()
        .values("street")
        .annotate(**_lead_aggregates(today))
    ):
        row = rows.get(group["street"]) if group["street"] else unplaced
        if row is not None:
            _lead_figures(group, row.figures)
    listed = list(rows.values())
    if street_id is None:
        listed.append(unplaced)
    total = Figures()
    for row in listed:
        total.add(row.figures)
    return listed, total


# Rule P1 ------------------------------------------------------------------------------------


def counted_q(first, on, today):
    """The leads P1 counts over [first, on] with what is known on `today` (see the module)."""
    return Q(street__isnull=False, found_on__gte=first, found_on__lte=on) & (
        _visited_q(today) | Q(found_on__lt=today - visit_days())
    )


def timely_visits(leads, first, on, today):
    """P1's share of `leads`: those counted, passing when visited within the days allowed."""
    return Share(
        rows=with_wait(leads.filter(counted_q(first, on, today))),
        passes=visited_in_time_q(today),
        ordering=("found_on", "lead_number"),
    )


@dataclass(frozen=True)
class LeadRule(Rule):
    """A rule over leads judged for [first, on] with what is recorded by `today`."""

    share: Callable[[QuerySet, datetime.date, datetime.date, datetime.date], Share]

    def share_of(self, scope, first, on, today):
        return self.share(scope, first, on, today)


P1 = LeadRule(
    id="P1",
    title=_("政策找人线索及时核实"),
    description=_("政策找人线索在发现后规定天数内(默认15天)走访核实"),
    counts=_("应核实的线索"),
    unit=_("条"),
    offender_label=_("未在规定天数内走访核实"),
    target=90,
    counted_model=Lead,
    street_field="street",
    share=timely_visits,
    all_clear=_("全部及时核实"),
)
