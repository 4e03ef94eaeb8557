"""The staffing rules C5, C6, C7, C8 and C11 (DOMAIN.md, "How the rules are judged").

Each is data plus one function, like C1 and C2 in `supervision.rules`, whose `Rule`,
`Share`, `RuleResult` and verdicts they reuse: a `DatedRule` is a `Rule` judged on a day (by
default today in Asia/Shanghai), since who is active depends on the day. Each measure runs
a fixed number of queries whatever the size of the scope (one aggregate for the figure, one
grouped aggregate for the figures per street; the offending rows are a lazy queryset).

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
from advisors.models import Advisor, AdvisorStation, Training, TrainingAttendance, active_q
from stations.choices import StationKind, StationStatus
from stations.models import Station, Street
from supervision.rules import Rule, Share

# The fewest active advisors a running station of each kind must have (C5, C6); guidance
# and professional stations have no minimum.
STAFFING_MINIMUM = {StationKind.STREET: 2, StationKind.COMMITTEE: 1}
# The station kind each staffing rule counts.
STAFFING_KINDS = {"C5": StationKind.STREET, "C6": StationKind.COMMITTEE}


@dataclass(frozen=True)
class DatedRule(Rule):
    """A rule judged on a day: `share(scope, on)`."""

    share: Callable[[QuerySet, datetime.date], Share]

    def share_of(self, scope: QuerySet, on: datetime.date | None = None) -> Share:
        """What the rule counts in `scope` on day `on` (today in Asia/Shanghai by default)."""
        return self.share(scope, on or timezone.localdate())


def active_advisor_count(on, station_field="station"):
    """An annotation: the number of advisors active on `on` serving the outer row.

    The outer row is a station, or with `station_field="station__committee"` a committee
    (counting the advisors of its committee point, the one station pointing at it).
    """
    links = (
        AdvisorStation.objects.filter(active_q(on, "advisor__"), **{station_field: OuterRef("pk")})
        .order_by()
        .values(station_field)
        .annotate(n=Count("advisor", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(links, output_field=IntegerField()), 0)


def _staffing(stations, on, kind):
    stations = stations.filter(kind=kind, status=StationStatus.RUNNING).annotate(
        active_advisors=active_advisor_count(on)
    )
    return Share(
        rows=stations,
        passes=Q(active_advisors__gte=STAFFING_MINIMUM[kind]),
        ordering=("district__code", "street__code", "committee__code", "pk"),
    )


def staffing_on_days(rule, stations, days):
    """C5 or C6 (`rule`) over `stations` judged on each of `days`: {day: RuleResult}, in one
    query (the dashboard's trend of twelve month-ends), as `rule.evaluate(stations, day)`
    would give each."""
    kind = STAFFING_KINDS[rule.id]
    days = list(days)
    if not days:
        return {}
    rows = (
        stations.filter(kind=kind, status=StationStatus.RUNNING)
        .order_by()
        .annotate(**{f"active_{i}": active_advisor_count(day) for i, day in enumerate(days)})
    )
    minimum = STAFFING_MINIMUM[kind]
    figures = rows.aggregate(
        total=Count("pk"),
        **{
            f"covered_{i}": Count("pk", filter=Q(**{f"active_{i}__gte": minimum}))
            for i in range(len(days))
        },
    )
    return {
        day: rule.judge(figures[f"covered_{i}"], figures["total"]) for i, day in enumerate(days)
    }


def street_station_staffing(stations, on):
    """C5 over a queryset of stations: running street stations with ≥ 2 active advisors pass."""
    return _staffing(stations, on, StationKind.STREET)


def committee_point_staffing(stations, on):
    """C6 over a queryset of stations: running committee points with ≥ 1 active advisor pass."""
    return _staffing(stations, on, StationKind.COMMITTEE)


ADVISOR_ORDERING = ("street__code", "advisor_number")


def filing(advisors, on):
    """C7 over a queryset of advisors: the active ones pass when 已备案."""
    return Share(
        rows=advisors.filter(active_q(on)),
        passes=Q(filing_status=FilingStatus.FILED),
        ordering=ADVISOR_ORDERING,
    )


def uniform_and_badge(advisors, on):
    """C11 over a queryset of advisors: the active ones pass with uniform and badge by `on`."""
    return Share(
        rows=advisors.filter(active_q(on)),
        passes=Q(uniform_issued_on__lte=on, badge_issued_on__lte=on),
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


def trainings_counting_for(on, *, street, district, attending_street):
    """The trainings that count for a street towards C8 on `on`.

    Its own qualifying 专业培训, and its district's that one of its advisors attended.
    `street` and `district` are the street and its district, `attending_street` the street
    as seen from inside the attendance subquery: plain ids for one street, or `OuterRef`s
    when the street is the row of an outer query (see `training_held`).
    """
    return qualifying_trainings(on).filter(
        Q(organiser_level=OrganiserLevel.STREET, street=street)
        | Q(
            Exists(
                TrainingAttendance.objects.filter(
                    training=OuterRef("pk"), attended=True, advisor__street=attending_street
                )
            ),
            organiser_level=OrganiserLevel.DISTRICT,
            district=district,
        )
    )


def street_trainings(street, on=None):
    """The trainings that make `street` pass C8 on `on` (today by default), newest first."""
    return trainings_counting_for(
        on or timezone.localdate(),
        street=street.pk,
        district=street.district_id,
        attending_street=street.pk,
    ).order_by("-date", "-pk")


def training_held(streets, on):
    """C8 over a queryset of streets: those with a training counting for them pass."""
    counted = trainings_counting_for(
        on,
        street=OuterRef("pk"),
        district=OuterRef("district"),
        attending_street=OuterRef(OuterRef("pk")),
    )
    return Share(
        rows=streets.annotate(trained=Exists(counted)),
        passes=Q(trained=True),
        ordering=("district__code", "code"),
    )


C5 = DatedRule(
    id="C5",
    title=_("街镇服务站顾问配备"),
    description=_("每个街镇服务站至少配备2名社区救助顾问"),
    counts=_("运行中的街镇服务站"),
    unit=_("个"),
    offender_label=_("在岗顾问少于2名"),
    target=100,
    counted_model=Station,
    street_field="street",
    share=street_station_staffing,
)

C6 = DatedRule(
    id="C6",
    title=_("居委服务点顾问配备"),
    description=_("每个居委服务点至少配备1名社区救助顾问"),
    counts=_("运行中的居委服务点"),
    unit=_("个"),
    offender_label=_("没有在岗顾问"),
    target=100,
    counted_model=Station,
    street_field="street",
    share=committee_point_staffing,
)

C7 = DatedRule(
    id="C7",
    title=_("顾问备案"),
    description=_("每名在岗社区救助顾问均已备案"),
    counts=_("在岗顾问"),
    unit=_("名"),
    offender_label=_("未备案"),
    target=100,
    counted_model=Advisor,
    street_field="street",
    share=filing,
)

C8 = DatedRule(
    id="C8",
    title=_("专业培训"),
    description=_("每个街镇每年至少开展1次专业培训"),
    counts=_("街镇"),
    unit=_("个"),
    offender_label=_("本年度尚未开展专业培训"),
    target=100,
    counted_model=Street,
    street_field="pk",
    share=training_held,
)

C11 = DatedRule(
    id="C11",
    title=_("统一服装和胸牌"),
    description=_("在岗社区救助顾问统一着装、佩戴胸牌"),
    counts=_("在岗顾问"),
    unit=_("名"),
    offender_label=_("未发放统一服装或胸牌"),
    target=100,
    counted_model=Advisor,
    street_field="street",
    share=uniform_and_badge,
)

RULES = {rule.id: rule for rule in (C5, C6, C7, C8, C11)}
STAFFING_RULES = {StationKind.STREET: C5, StationKind.COMMITTEE: C6}
