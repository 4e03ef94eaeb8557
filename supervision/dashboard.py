"""What the dashboard and the compliance page read: the engine's figures for the user's
scope, the trend of the last 12 months, open orders, the period's inspections and 政策找人
(the period's figures per street for bureau staff, the overdue leads of a street).

The scope is ALWAYS the user's: bureau staff see their district, a street manager their
street; nothing in a query string widens it. Every function runs a fixed number of queries
whatever the number of streets, people or advisors.
"""

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cases import lead_figures
from cases.leads import overdue_q
from cases.models import Lead
from stations.models import Station
from supervision import engine
from supervision.models import Inspection, RectificationOrder
from supervision.rules import Verdict
from supervision.staffing_rules import C5, C6, staffing_on_days
from visits import coverage
from visits.models import policy_for

# The rules in the order of the table's columns.
RULE_IDS = list(engine.ENGINE_RULES)
OFFENDERS_PER_PAGE = 50
TREND_MONTHS = 12
LISTED_ROWS = 20  # open orders / inspections shown on the dashboard (the full lists are linked)
OVERDUE_LEADS_LISTED = 10  # a street's overdue leads shown on its dashboard (the list is linked)


class PeriodError(ValueError):
    """A period that cannot be judged (bad text or not started yet); its message is Chinese."""


@dataclass(frozen=True)
class Scope:
    """Whose figures a user sees: a district, or one street of it."""

    district: object
    street: object = None  # a street manager's street

    @property
    def is_street(self):
        return self.street is not None


def scope_for(user):
    """The user's scope, or None for a role without the dashboard."""
    if user.is_bureau and user.district_id:
        return Scope(district=user.district)
    if user.is_street_manager and user.street_id:
        return Scope(district=user.street.district, street=user.street)
    return None


def period_from(text, today=None):
    """The period written in `text` (this month when empty); PeriodError otherwise."""
    today = today or timezone.localdate()
    if not (text or "").strip():
        first = today.replace(day=1)
        return engine.parse_period(f"{first:%Y-%m}")
    try:
        period = engine.parse_period(text)
    except ValueError as error:
        raise PeriodError(str(error)) from error
    if not period.has_started(today):
        raise PeriodError(
            _("统计期 %(period)s 尚未开始,请选择已开始的月份、季度或年份。")
            % {"period": period.label}
        )
    return period


def period_choices(today=None):
    """Quick choices for the period selector: this and last month, this quarter and year."""
    today = today or timezone.localdate()
    this_month = today.replace(day=1)
    last_month = coverage.shift_month(this_month, -1)
    quarter = (today.month - 1) // 3 + 1
    keys = [
        f"{this_month:%Y-%m}",
        f"{last_month:%Y-%m}",
        f"{today.year}Q{quarter}",
        f"{today.year}",
    ]
    return [engine.parse_period(key) for key in keys]


def compliance_url(period, *, street=None, rule=None):
    query = {"period": period.key}
    if street is not None:
        query["street"] = street.code
    if rule:
        query["rule"] = rule
    return reverse("supervision:compliance") + "?" + urlencode(query)


# The street × rule table ----------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    outcome: object  # engine.Outcome
    link: str

    @property
    def rule(self):
        return self.outcome.rule

    @property
    def offender_count(self):
        return self.outcome.total - self.outcome.covered


@dataclass
class StreetRow:
    street: object
    cells: list


def evaluate(scope, period, today=None):
    """The engine's result for the scope (offenders left unread)."""
    return engine.evaluate(
        scope.district, period, street=scope.street, today=today, street_offenders=False
    )


def rule_table(compliance, period):
    """One row per street: each rule's outcome with the link to its offenders."""
    return [
        StreetRow(
            street=row.street,
            cells=[
                Cell(
                    outcome,
                    compliance_url(period, street=row.street, rule=rule_id),
                )
                for rule_id, outcome in row.outcomes.items()
            ],
        )
        for row in compliance.streets
    ]


def scope_cells(compliance, period, street=None):
    return [
        Cell(outcome, compliance_url(period, street=street, rule=rule_id))
        for rule_id, outcome in compliance.outcomes.items()
    ]


_SEVERITY = {Verdict.FAIL: 0, Verdict.NEAR: 1}


def failing_rules(compliance, period, street):
    """The rules a street breaches, the most serious (red) first, with their offenders count.

    The advice L1 is not a breach and is left out."""
    failing = [
        Cell(outcome, compliance_url(period, street=street, rule=rule_id))
        for rule_id, outcome in compliance.outcomes.items()
        if outcome.rule.kind != engine.ADVICE and outcome.total and not outcome.passed
    ]
    return sorted(
        failing,
        key=lambda cell: (
            _SEVERITY.get(cell.outcome.verdict, 2),
            cell.outcome.value if cell.outcome.value is not None else 0,
            RULE_IDS.index(cell.rule.id),
        ),
    )


# Orders and inspections -------------------------------------------------------------------------


def open_orders(user, scope, limit=LISTED_ROWS):
    """The scope's orders not closed, the earliest deadline first (one query)."""
    orders = RectificationOrder.objects.visible_to(user).unclosed()
    if scope.is_street:
        orders = orders.filter(street=scope.street)
    return list(orders.select_related("street").order_by("deadline", "pk")[:limit])


def inspections_in(user, scope, first, last, limit=LISTED_ROWS):
    """The scope's inspections dated in `first`..`last`, the latest first (one query)."""
    rows = Inspection.objects.visible_to(user).filter(inspected_on__range=(first, last))
    if scope.is_street:
        rows = rows.filter(street=scope.street)
    return list(rows.select_related("street", "station").order_by("-inspected_on", "-pk")[:limit])


# 政策找人 ---------------------------------------------------------------------------------------


def lead_streets(user, scope, period, today=None):
    """The period's 政策找人 figures of each street of the district and of the leads not
    placed yet, with their total (`cases.lead_figures.street_figures`; 2 queries)."""
    today = today or timezone.localdate()
    return lead_figures.street_figures(
        scope.district.pk,
        period.first,
        period.last,
        today,
        street_id=scope.street.pk if scope.is_street else None,
        user=user,
        with_rows=False,
    )


def lead_figures_url(period):
    return reverse("cases:lead_figures") + "?" + urlencode({"period": period.key})


def overdue_leads(user, scope, today=None, limit=OVERDUE_LEADS_LISTED):
    """(count, rows): the scope's open leads found more than LEAD_VISIT_DAYS days ago
    (`cases.leads.overdue_q`), the longest waiting first, each with `days_waiting`; 2 queries."""
    today = today or timezone.localdate()
    leads = Lead.objects.visible_to(user).filter(overdue_q(today))
    if scope.is_street:
        leads = leads.filter(street=scope.street)
    count = leads.count()
    rows = list(leads.select_related("committee", "advisor").order_by("found_on", "pk")[:limit])
    for lead in rows:
        lead.days_waiting = lead.days_open(today)
    return count, rows


def overdue_leads_url(scope):
    query = {"overdue": "1"}
    if scope.is_street:
        query["street"] = scope.street.code
    return reverse("cases:leads") + "?" + urlencode(query)


# Trends -----------------------------------------------------------------------------------------


@dataclass
class Trend:
    months: list  # first days, oldest first
    series: dict = field(default_factory=dict)  # name -> [Decimal | None] per month


def month_end(first, today):
    return min(coverage.month_bounds(first)[1], today)


def trends(scope, last_month, today=None):
    """Visit coverage (C9) and staffing (C5, C6) of the 12 months ending with `last_month`.

    Coverage is the month's C9 over the people of the scope; staffing is C5 and C6 judged
    on each month's last day (today for the month in progress). 4 queries.
    """
    today = today or timezone.localdate()
    months = coverage.months_ending(last_month, TREND_MONTHS)
    policy = policy_for(scope.district.pk)
    stations = Station.objects.for_district(scope.district.pk)
    if scope.is_street:
        stations = stations.filter(street=scope.street)
    # The people the user sees are those placed in the scope (bureau: the district; street
    # manager: the street), added up from the committee rollups for all months at once.
    ends = {first: month_end(first, today) for first in months if first <= today}
    by_month = coverage.area_figures(
        ends,
        policy,
        district=scope.district.pk,
        street=scope.street.pk if scope.is_street else None,
        by="month",
    )
    c5 = staffing_on_days(C5, stations, ends.values())
    c6 = staffing_on_days(C6, stations, ends.values())
    visits, street_staff, point_staff = [], [], []
    for first in months:
        if first > today:
            visits.append(None)
            street_staff.append(None)
            point_staff.append(None)
            continue
        visits.append(by_month.get(first, coverage.Figure()).rate)
        street_staff.append(c5[ends[first]].percentage)
        point_staff.append(c6[ends[first]].percentage)
    return Trend(
        months=months,
        series={"C9": visits, "C5": street_staff, "C6": point_staff},
    )


# Offenders --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OffenderRow:
    """One offending row as the compliance page lists it: its kind and what it shows."""

    kind: str  # street / committee / station / advisor / recipient / order / load / lead
    obj: object = None
    month: datetime.date | None = None
    data: dict | None = None


_KINDS = {
    "street": "street",
    "committee": "committee",
    "station": "station",
    "advisor": "advisor",
    "rectificationorder": "order",
    "lead": "lead",
}
_RELATED = {
    "street": (),
    "committee": ("street",),
    "station": ("street", "committee"),
    "advisor": ("street",),
    "rectificationorder": ("street",),
    "lead": ("street", "committee"),
}


def offenders_page(scope, period, rule_id, page_number, today=None):
    """One page (50 rows) of `rule_id`'s offenders in the scope, each an `OffenderRow`.

    C9 lists the people not visited per month (`visits.coverage.misses`, one query per
    month of the period), L1 the flagged committee points, the others the rule's own
    offending rows (a count and a page)."""
    today = today or timezone.localdate()
    rule = engine.ENGINE_RULES[rule_id]
    if rule_id == "C9":
        area = {"district": scope.district, "street": scope.street if scope.is_street else None}
        policy = policy_for(scope.district.pk)
        rows = []
        for first in period.months(today):
            misses = coverage.area_misses(first, policy, **area).select_related("committee")
            rows.extend(OffenderRow("recipient", obj=person, month=first) for person in misses)
        return Paginator(rows, OFFENDERS_PER_PAGE).get_page(page_number)
    if rule_id == "L1":
        outcome = engine.evaluate(
            scope.district,
            period,
            street=scope.street,
            rule_ids=["L1"],
            today=today,
            street_offenders=False,
        ).outcomes["L1"]
        rows = [OffenderRow("load", data=row) for row in outcome.offender_rows()]
        return Paginator(rows, OFFENDERS_PER_PAGE).get_page(page_number)
    scope_rows = rule.counted_model._default_manager.for_district(scope.district.pk)
    if scope.is_street:
        scope_rows = scope_rows.filter(**{rule.street_field: scope.street.pk})
    result = rule.judge(scope_rows, period, today, False)
    offenders = result.offenders
    model_name = rule.counted_model._meta.model_name
    if offenders is None:
        offenders = rule.counted_model._default_manager.none()
    elif not offenders.ordered:
        offenders = offenders.order_by("pk")
    offenders = offenders.select_related(*_RELATED.get(model_name, ()))
    page = Paginator(offenders, OFFENDERS_PER_PAGE).get_page(page_number)
    kind = _KINDS.get(model_name, "street")
    page.object_list = [OffenderRow(kind, obj=row) for row in page.object_list]
    return page
