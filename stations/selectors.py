"""Reads of the station network that are more than one filter.

Every function takes querysets already scoped with `visible_to` (or the user to scope
with) and runs a fixed number of queries whatever the number of rows: counts come
from subqueries, the one station of a street or committee from a filtered join.
"""

from dataclasses import dataclass, field

from django.db.models import (
    Case,
    Count,
    F,
    FilteredRelation,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from advisors.models import Advisor, active_q
from stations.choices import StationKind, StationStatus
from stations.models import Committee, Station

# Stations of one division listed as the notice lists them: guidance, street, committee,
# professional.
KIND_ORDER = Case(
    When(kind=StationKind.GUIDANCE, then=Value(0)),
    When(kind=StationKind.STREET, then=Value(1)),
    When(kind=StationKind.COMMITTEE, then=Value(2)),
    default=Value(3),
)


def count_subquery(queryset, outer_field):
    """The number of rows of `queryset` whose `outer_field` is the outer row, as an annotation."""
    counted = (
        queryset.filter(**{outer_field: OuterRef("pk")})
        .order_by()
        .values(outer_field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def status_label(status):
    """The Chinese label of a station status, or None for a missing station."""
    return StationStatus(status).label if status else None


@dataclass
class CoverageTotals:
    """Sums over some streets of the overview table."""

    streets: int = 0
    street_stations: int = 0
    active_street_stations: int = 0
    committees: int = 0
    committee_points: int = 0
    active_points: int = 0

    def add(self, street):
        self.streets += 1
        if street.station_pk:
            self.street_stations += 1
            if street.station_status == StationStatus.RUNNING:
                self.active_street_stations += 1
        self.committees += street.committee_count
        self.committee_points += street.point_count
        self.active_points += street.active_point_count


@dataclass
class DistrictNetwork:
    """One district's streets in the overview, with its subtotals."""

    district: object
    streets: list = field(default_factory=list)
    totals: CoverageTotals = field(default_factory=CoverageTotals)


def with_street_station(streets):
    """`streets` with their 街镇服务站: `station_pk`, `station_name`, `station_status` (None
    when the street has none). One query when evaluated.
    """
    return (
        streets.select_related("district")
        .annotate(
            street_station=FilteredRelation(
                "stations", condition=Q(stations__kind=StationKind.STREET)
            ),
            station_pk=F("street_station__pk"),
            station_name=F("street_station__name"),
            station_status=F("street_station__status"),
        )
        .order_by("district__code", "code")
    )


def with_committee_point(committees):
    """`committees` with their 居委服务点: `point_pk`, `point_name`, `point_status`,
    `point_address`, `point_phone`, `point_hours` (None when missing). One query when evaluated.
    """
    return (
        committees.select_related("street", "street__district")
        .annotate(
            point=FilteredRelation("stations", condition=Q(stations__kind=StationKind.COMMITTEE)),
            point_pk=F("point__pk"),
            point_name=F("point__name"),
            point_status=F("point__status"),
            point_address=F("point__address"),
            point_phone=F("point__phone"),
            point_hours=F("point__opening_hours"),
        )
        .order_by("street__district__code", "street__code", "code")
    )


def add_status_labels(rows):
    """Evaluate `rows` and give each a `status_label` for the badge partial.

    The status is the committee's point's (`point_status`), the street's station's
    (`station_status`) or the station's own (`status`); the label is None when the station
    is missing. Returns the rows as a list.
    """
    rows = list(rows)
    for row in rows:
        for attr in ("point_status", "station_status", "status"):
            if hasattr(row, attr):
                row.status_label = status_label(getattr(row, attr))
                break
    return rows


def streets_with_coverage(streets):
    """`streets` with their street station (see `with_street_station`) and the counts of
    `committee_count`, `point_count` and `active_point_count`, plus `status_label`. One query.
    """
    points = Station.objects.filter(kind=StationKind.COMMITTEE)
    active_points = points.filter(status=StationStatus.RUNNING)
    return add_status_labels(
        with_street_station(streets).annotate(
            committee_count=count_subquery(Committee.objects.all(), "street"),
            point_count=count_subquery(points, "street"),
            active_point_count=count_subquery(active_points, "street"),
        )
    )


def network_overview(streets):
    """The overview table: streets grouped by district, with subtotals and grand totals."""
    districts = {}
    totals = CoverageTotals()
    for street in streets_with_coverage(streets):
        block = districts.get(street.district_id)
        if block is None:
            block = districts[street.district_id] = DistrictNetwork(district=street.district)
        block.streets.append(street)
        block.totals.add(street)
        totals.add(street)
    return list(districts.values()), totals


def active_public_stations(*, on, district_code="", street_code="", text=""):
    """The 政务公开 directory: every active station, in district, street, kind order.

    Each station brings the advisors active on day `on` who serve it
    (`advisors_on_duty`), by name only: one more query for a page of stations, and
    nothing else of theirs is read. `text` searches the station's name and address.
    """
    on_duty = Advisor.objects.filter(active_q(on)).only("pk", "name").order_by("advisor_number")
    stations = (
        Station.objects.active()
        .select_related("district", "street", "committee")
        .prefetch_related(Prefetch("advisors", queryset=on_duty, to_attr="advisors_on_duty"))
    )
    if district_code:
        stations = stations.filter(district__code=district_code)
    if street_code:
        stations = stations.filter(street__code=street_code)
    if text:
        stations = stations.filter(Q(name__icontains=text) | Q(address__icontains=text))
    # The guidance station (no street) comes first in its district.
    return stations.order_by(
        "district__code",
        F("street__code").asc(nulls_first=True),
        KIND_ORDER,
        "committee__code",
        "pk",
    )
