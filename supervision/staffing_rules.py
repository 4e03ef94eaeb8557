"""The staffing rules C5, C6, C7, C8 and C11 (DOMAIN.md, "How the rules are judged").

Each is data plus one function, like C1 and C2 in `supervision.rules`, whose `Rule`,
`RuleResult` and verdicts they reuse: a `DatedRule` is a `Rule` judged on a day (by default
today in Asia/Shanghai), since who is active depends on the day. Each measure runs a fixed
number of queries whatever the size of the scope (one aggregate for the figure; the
offending rows are a lazy queryset).

Decisions:
- Active advisor: one definition, `advisors.models.active_q` (`Advisor.objects.active(on)`):
  started on or before the day, not left by it (leaving on day L counts as gone from L on),
  filing not 已注销. A 待备案 advisor counts for staffing (C5, C6, C11) but fails C7.
- An active advisor counts at every station they serve.
- C5 and C6 count only running (运行) stations of their kind: a 筹建 or 暂停 station is
  already C1's or C2's breach, and counting it here would report one gap twice. Station
  status is its current one, as for C1 and C2.
- C7 counts the advisors active on the day and asks that their filing be 已备案 now.
- C8 is an event rule over the calendar year of the day, from 1 January up to the day:
  a street passes with a 专业培训 it organised that ≥ 1 advisor attended, or a district
  专业培训 that ≥ 1 of the street's advisors attended.
- C11 counts the advisors active on the day and asks for both issue dates on or before it.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from advisors.choices import FilingStatus, OrganiserLevel, TrainingKind
from advisors.models import AdvisorStation, Training, TrainingAttendance, active_q
from stations.choices import StationKind, StationStatus
from supervision.rules import Rule, RuleResult, share_passing


@dataclass(frozen=True)
class DatedRule(Rule):
    """A rule judged on a day: `measure(rule, scope, on)`."""

    measure: Callable[["DatedRule", QuerySet, datetime.date], RuleResult]

    def evaluate(self, scope: QuerySet, on: datetime.date | None = None) -> RuleResult:
        """The rule's result for `scope` on day `on` (today in Asia/Shanghai by default)."""
        return self.measure(self, scope, on or timezone.localdate())


def _active_advisor_count(on):
    """A subquery: the number of advisors active on `on` serving the outer station."""
    links = (
        AdvisorStation.objects.filter(active_q(on, "advisor__"), station=OuterRef("pk"))
        .order_by()
        .values("station")
        .annotate(n=Count("advisor", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(links, output_field=IntegerField()), 0)


def _staffing(rule, stations, on, kind, minimum):
    stations = stations.filter(kind=kind, status=StationStatus.RUNNING).annotate(
        active_advisors=_active_advisor_count(on)
    )
    return share_passing(
        rule,
        stations,
        Q(active_advisors__gte=minimum),
        ordering=("district__code", "street__code", "committee__code", "pk"),
    )


def measure_street_station_staffing(rule, stations, on):
    """C5 over a queryset of stations: running street stations with ≥ 2 active advisors."""
    return _staffing(rule, stations, on, StationKind.STREET, 2)


def measure_committee_point_staffing(rule, stations, on):
    """C6 over a queryset of stations: running committee points with ≥ 1 active advisor."""
    return _staffing(rule, stations, on, StationKind.COMMITTEE, 1)


ADVISOR_ORDERING = ("street__code", "advisor_number")


def measure_filing(rule, advisors, on):
    """C7 over a queryset of advisors: the active ones that are 已备案."""
    return share_passing(
        rule,
        advisors.filter(active_q(on)),
        Q(filing_status=FilingStatus.FILED),
        ordering=ADVISOR_ORDERING,
    )


def measure_uniform_and_badge(rule, advisors, on):
    """C11 over a queryset of advisors: the active ones with uniform and badge issued by `on`."""
    return share_passing(
        rule,
        advisors.filter(active_q(on)),
        Q(uniform_issued_on__lte=on, badge_issued_on__lte=on),
        ordering=ADVISOR_ORDERING,
    )


def qualifying_trainings(on):
    """The 专业培训 of the calendar year of `on`, up to `on`, that ≥ 1 advisor attended."""
    return Training.objects.filter(
        Exists(TrainingAttendance.objects.filter(training=OuterRef("pk"), attended=True)),
        kind=TrainingKind.PROFESSIONAL,
        date__gte=datetime.date(on.year, 1, 1),
        date__lte=on,
    )


def measure_training(rule, streets, on):
    """C8 over a queryset of streets: those with a qualifying 专业培训 this year up to `on`."""
    own = qualifying_trainings(on).filter(
        organiser_level=OrganiserLevel.STREET, street=OuterRef("pk")
    )
    district = qualifying_trainings(on).filter(
        Exists(
            TrainingAttendance.objects.filter(
                training=OuterRef("pk"), attended=True, advisor__street=OuterRef(OuterRef("pk"))
            )
        ),
        organiser_level=OrganiserLevel.DISTRICT,
        district=OuterRef("district"),
    )
    streets = streets.annotate(held_own=Exists(own), attended_district=Exists(district))
    return share_passing(
        rule,
        streets,
        Q(held_own=True) | Q(attended_district=True),
        ordering=("district__code", "code"),
    )


C5 = DatedRule(
    id="C5",
    title=_("街镇服务站顾问配备"),
    description=_("每个街镇服务站至少配备2名社区救助顾问"),
    counts=_("运行中的街镇服务站"),
    offender_label=_("在岗顾问少于2名"),
    target=100,
    measure=measure_street_station_staffing,
)

C6 = DatedRule(
    id="C6",
    title=_("居委服务点顾问配备"),
    description=_("每个居委服务点至少配备1名社区救助顾问"),
    counts=_("运行中的居委服务点"),
    offender_label=_("没有在岗顾问"),
    target=100,
    measure=measure_committee_point_staffing,
)

C7 = DatedRule(
    id="C7",
    title=_("顾问备案"),
    description=_("每名在岗社区救助顾问均已备案"),
    counts=_("在岗顾问"),
    offender_label=_("未备案"),
    target=100,
    measure=measure_filing,
)

C8 = DatedRule(
    id="C8",
    title=_("专业培训"),
    description=_("每个街镇每年至少开展1次专业培训"),
    counts=_("街镇"),
    offender_label=_("本年度尚未开展专业培训"),
    target=100,
    measure=measure_training,
)

C11 = DatedRule(
    id="C11",
    title=_("统一服装和胸牌"),
    description=_("在岗社区救助顾问统一着装、佩戴胸牌"),
    counts=_("在岗顾问"),
    offender_label=_("未发放统一服装或胸牌"),
    target=100,
    measure=measure_uniform_and_badge,
)

RULES = {rule.id: rule for rule in (C5, C6, C7, C8, C11)}
