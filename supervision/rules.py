"""The compliance rules the system checks (DOMAIN.md, "The rules the system checks").

A rule is data plus one function: its id, its title, the rows it counts and the function
that, for a scope (a queryset already cut down with `visible_to`), says which rows count
and what a row needs to pass (a `Share`). From that one definition come the scope's figure
(covered / total, as a percentage), its offending rows and the figure of each street of
the scope, so that pages and reports read the rules and never recompute them.

Each measure runs a fixed number of queries whatever the size of the scope: one aggregate
for the figure, one grouped aggregate for the figures per street, and the offending rows
as a lazy queryset (one more query when a page lists them).

The status rules (C1, C2) are judged on the stations' current status: the period in
progress is judged today.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from stations.choices import StationKind, StationStatus
from stations.models import Committee, Station, Street

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
class Share:
    """What a rule counts in a scope: the rows, the test a row passes, how failures are listed.

    `rows` carry whatever annotations `passes` reads; `ordering` is the order in which the
    offending rows are listed.
    """

    rows: QuerySet
    passes: Q
    ordering: tuple[str, ...]


@dataclass(frozen=True)
class Rule:
    """A compliance rule: what it is called, what it counts, and how a counted row passes."""

    id: str
    title: Promise
    description: Promise  # the rule in the notice's words
    counts: Promise  # what `total` counts, e.g. 街镇
    unit: Promise  # the measure word of what is counted: 个 for places, 名 for people
    offender_label: Promise  # what an offending row lacks
    target: int  # the percentage a scope must reach to pass
    counted_model: type[models.Model]  # the rows counted: a scope is a queryset of these
    street_field: str  # the path from a counted row to its street, for figures per street
    share: Callable[[QuerySet], Share]
    # Said of a scope without offenders (全部覆盖 for the coverage rules).
    all_clear: Promise = _("全部达标")

    def share_of(self, scope: QuerySet, *args, **kwargs) -> Share:
        """What the rule counts in `scope` (the arguments after it are those of `evaluate`,
        which a rule judged on a day or over a period takes)."""
        return self.share(scope)

    def evaluate(self, scope: QuerySet, *args, **kwargs) -> RuleResult:
        """The rule's result for `scope`, a queryset already cut down with `visible_to`."""
        return measure(self, self.share_of(scope, *args, **kwargs))

    def evaluate_by_street(self, scope: QuerySet, *args, **kwargs) -> dict[int, RuleResult]:
        """The rule's figure for each street of `scope`, in one query (see `measure_by_street`)."""
        return measure_by_street(self, self.share_of(scope, *args, **kwargs))

    def evaluate_with_streets(self, scope: QuerySet, *args, **kwargs):
        """`evaluate` and `evaluate_by_street` in one query: (RuleResult, {street pk:
        RuleResult}), see `measure_with_streets`."""
        return measure_with_streets(self, self.share_of(scope, *args, **kwargs))

    def judge(self, covered: int, total: int) -> RuleResult:
        """The rule's verdict on counts a page already has (e.g. one row of a table)."""
        return RuleResult(rule=self, covered=covered, total=total)

    def scope_for(self, user, street=None) -> QuerySet:
        """The rows the rule counts that `user` may see, within `street` when one is given."""
        scope = self.counted_model._default_manager.visible_to(user)
        if street is not None:
            scope = scope.filter(**{self.street_field: street.pk})
        return scope

    @property
    def row_kind(self) -> str:
        """What an offending row is (street, committee, station, advisor), for the templates."""
        return self.counted_model._meta.model_name


def measure(rule, share):
    """The rule's figure over a share: the rows meeting `passes` / all rows, in one query.

    The rows failing `passes` come back lazily, in the share's ordering, as the offenders.
    """
    rows = share.rows.order_by()
    figures = rows.aggregate(total=Count("pk"), covered=Count("pk", filter=share.passes))
    return RuleResult(
        rule=rule, covered=figures["covered"], total=figures["total"], offenders=_offenders(share)
    )


def _offenders(share):
    """The share's rows failing `passes`, in its ordering (a lazy queryset)."""
    return share.rows.order_by().exclude(share.passes).order_by(*share.ordering)


def measure_by_street(rule, share):
    """The rule's figure for each street of a share, in one grouped query.

    The same rows and the same test as `measure`, grouped by the street each row belongs
    to: {street pk: RuleResult}. A street without a counted row is absent; its figure is
    empty (`rule.judge(0, 0)`).
    """
    groups = (
        share.rows.order_by()
        .values(rule.street_field)
        .annotate(total=Count("pk"), covered=Count("pk", filter=share.passes))
    )
    return {
        group[rule.street_field]: rule.judge(group["covered"], group["total"]) for group in groups
    }


def measure_with_streets(rule, share):
    """`measure` and `measure_by_street` in one grouped query: (the share's RuleResult, its
    offenders lazily, as `measure` gives it; {street pk: RuleResult}).

    Every counted row is in exactly one group (a row's street is one value, or none), so
    the whole's counts are the sums of the groups', the rows without a street included
    (a district's guidance station): what `measure` counts with a query of its own.
    """
    by_street = {}
    covered = total = 0
    for street_pk, figure in measure_by_street(rule, share).items():
        covered += figure.covered
        total += figure.total
        if street_pk is not None:
            by_street[street_pk] = figure
    result = RuleResult(rule=rule, covered=covered, total=total, offenders=_offenders(share))
    return result, by_street


def _active_station(kind, division_field):
    """Exists(an active station of `kind` pointing at the outer row through `division_field`)."""
    return Exists(
        Station.objects.filter(
            kind=kind, status=StationStatus.RUNNING, **{division_field: OuterRef("pk")}
        )
    )


def street_station_coverage(streets):
    """C1 over a queryset of streets: those with an active 街镇服务站 pass."""
    return Share(
        rows=streets.annotate(has_active_station=_active_station(StationKind.STREET, "street")),
        passes=Q(has_active_station=True),
        ordering=("district__code", "code"),
    )


def committee_point_coverage(committees):
    """C2 over a queryset of committees: those with an active 居委服务点 pass."""
    return Share(
        rows=committees.annotate(
            has_active_station=_active_station(StationKind.COMMITTEE, "committee")
        ),
        passes=Q(has_active_station=True),
        ordering=("street__district__code", "street__code", "code"),
    )


C1 = Rule(
    id="C1",
    title=_("街镇服务站全覆盖"),
    description=_("每个街镇都有运行中的街镇服务站"),
    counts=_("街镇"),
    unit=_("个"),
    offender_label=_("缺少运行中的街镇服务站"),
    target=100,
    counted_model=Street,
    street_field="pk",
    share=street_station_coverage,
    all_clear=_("全部覆盖"),
)

C2 = Rule(
    id="C2",
    title=_("居委服务点全覆盖"),
    description=_("每个居村委都有运行中的居委服务点"),
    counts=_("居村委"),
    unit=_("个"),
    offender_label=_("缺少运行中的居委服务点"),
    target=100,
    counted_model=Committee,
    street_field="street",
    share=committee_point_coverage,
    all_clear=_("全部覆盖"),
)

RULES = {rule.id: rule for rule in (C1, C2)}
