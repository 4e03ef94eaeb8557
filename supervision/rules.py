"""The compliance rules the system checks (DOMAIN.md, "The rules the system checks").

A rule is data plus one function: its id, its title, the divisions it counts and the
function that, for a scope (a queryset already cut down with `visible_to`), computes
the figure (covered / total, as a percentage) and gives the offending rows. Pages and
reports read these results; they never recompute a rule themselves.

Each measure runs a fixed number of queries whatever the size of the scope: one
aggregate for the figure, and the offending rows as a lazy queryset (one more query
when a page lists them).

The status rules (C1, C2) are judged on the stations' current status: the period in
progress is judged today.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from stations.choices import StationKind, StationStatus
from stations.models import Station

# Within this many points below its target a figure is amber, further below it is red
# (DOMAIN.md, "Verdicts"; a setting).
DEFAULT_AMBER_POINTS = 5


class Verdict:
    """How a figure is coloured on the dashboards."""

    PASS = "pass"  # green: meets the target
    NEAR = "near"  # amber: within the amber band below the target
    FAIL = "fail"  # red: further below
    EMPTY = "empty"  # nothing to judge in this scope


VERDICT_LABELS = {
    Verdict.PASS: _("达标"),
    Verdict.NEAR: _("接近达标"),
    Verdict.FAIL: _("未达标"),
    Verdict.EMPTY: _("无统计对象"),
}


@dataclass(frozen=True)
class RuleResult:
    """A rule's figure for one scope, with its offending rows one query away."""

    rule: "Rule"
    covered: int
    total: int
    # The rows that fail the rule, lazily; None for a figure judged from counts alone.
    offenders: QuerySet | None = None

    @property
    def missing(self) -> int:
        return self.total - self.covered

    @property
    def percentage(self) -> Decimal | None:
        """covered / total as a percentage with one decimal; None when there is nothing to count.

        A figure short of complete never shows as 100.0 (6508 of 6509 is 99.9).
        """
        if not self.total:
            return None
        shown = (Decimal(self.covered) * 100 / Decimal(self.total)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if self.covered < self.total and shown >= 100:
            return Decimal("99.9")
        return shown

    @property
    def passed(self) -> bool:
        # Compared in integers so that 99.96% never rounds up into a pass.
        return self.covered * 100 >= self.rule.target * self.total

    @property
    def verdict(self) -> str:
        if not self.total:
            return Verdict.EMPTY
        if self.passed:
            return Verdict.PASS
        amber = getattr(settings, "COMPLIANCE_AMBER_POINTS", DEFAULT_AMBER_POINTS)
        if self.covered * 100 >= (self.rule.target - amber) * self.total:
            return Verdict.NEAR
        return Verdict.FAIL

    @property
    def verdict_label(self):
        return VERDICT_LABELS[self.verdict]


@dataclass(frozen=True)
class Rule:
    """A compliance rule: what it is called, what it counts, and how it is measured."""

    id: str
    title: Promise
    description: Promise  # the rule in the notice's words
    counts: Promise  # what `total` counts, e.g. 街镇
    offender_label: Promise  # what an offending row lacks
    target: int  # the percentage a scope must reach to pass
    measure: Callable[["Rule", QuerySet], RuleResult]

    def evaluate(self, scope: QuerySet) -> RuleResult:
        """The rule's result for `scope`, a queryset already cut down with `visible_to`."""
        return self.measure(self, scope)

    def judge(self, covered: int, total: int) -> RuleResult:
        """The rule's verdict on counts a page already has (e.g. one row of a table)."""
        return RuleResult(rule=self, covered=covered, total=total)


def _active_station(kind, division_field):
    """Exists(an active station of `kind` pointing at the outer row through `division_field`)."""
    return Exists(
        Station.objects.filter(
            kind=kind, status=StationStatus.RUNNING, **{division_field: OuterRef("pk")}
        )
    )


def share_passing(rule, scope, passes, ordering):
    """The rule's figure over `scope`: the rows meeting `passes` / all rows, in one query.

    The rows failing `passes` come back lazily, in `ordering`, as the offenders. Every
    rule that counts rows of one kind measures itself through this.
    """
    scope = scope.order_by()
    figures = scope.aggregate(total=Count("pk"), covered=Count("pk", filter=passes))
    offenders = scope.exclude(passes).order_by(*ordering)
    return RuleResult(
        rule=rule, covered=figures["covered"], total=figures["total"], offenders=offenders
    )


def _coverage(rule, scope, has_active_station, ordering):
    """covered/total of `scope`: the rows with an active station of their own."""
    scope = scope.annotate(has_active_station=has_active_station)
    return share_passing(rule, scope, Q(has_active_station=True), ordering)


def measure_street_station_coverage(rule, streets):
    """C1 over a queryset of streets: those with an active 街镇服务站 / all streets."""
    return _coverage(
        rule,
        streets,
        _active_station(StationKind.STREET, "street"),
        ordering=("district__code", "code"),
    )


def measure_committee_point_coverage(rule, committees):
    """C2 over a queryset of committees: those with an active 居委服务点 / all committees."""
    return _coverage(
        rule,
        committees,
        _active_station(StationKind.COMMITTEE, "committee"),
        ordering=("street__district__code", "street__code", "code"),
    )


C1 = Rule(
    id="C1",
    title=_("街镇服务站全覆盖"),
    description=_("每个街镇都有运行中的街镇服务站"),
    counts=_("街镇"),
    offender_label=_("缺少运行中的街镇服务站"),
    target=100,
    measure=measure_street_station_coverage,
)

C2 = Rule(
    id="C2",
    title=_("居委服务点全覆盖"),
    description=_("每个居村委都有运行中的居委服务点"),
    counts=_("居村委"),
    offender_label=_("缺少运行中的居委服务点"),
    target=100,
    measure=measure_committee_point_coverage,
)

RULES = {rule.id: rule for rule in (C1, C2)}
