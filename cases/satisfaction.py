"""Satisfaction (满意率) of the service evaluations (服务评议), per station, street and district.

DOMAIN.md, "Satisfaction": (满意 + 基本满意) / all ratings in the period. A rating belongs
to the period in which it was made (`Evaluation.created_at`, in Asia/Shanghai dates, both
ends of the period inclusive), whether staff entered it after a service or a person gave it
on the public page. Where nobody rated there is no figure (None, shown as 暂无评议), neither
0% nor 100%.

Callers pass the evaluations already cut down to a scope (`Evaluation.objects.visible_to(user)`
for a page; `Evaluation.objects.for_street(pk)` or `for_district(pk)` for the assessment),
so that one function serves every scope. `breakdown` counts the ratings of every station of
the scope in one grouped query and adds them up per street and for the whole scope, so a
page of any size runs the same queries.
"""

import calendar
import datetime
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.choices import Rating

MONTH, QUARTER, YEAR = "month", "quarter", "year"
# Periods outside these years are refused: nothing was rated then, and dates near the ends
# of the calendar cannot be turned into times.
FIRST_YEAR, LAST_YEAR = 2000, 2099

_MONTH_CODE = re.compile(r"(\d{4})-(\d{1,2})")
_QUARTER_CODE = re.compile(r"(\d{4})[Qq]([1-4])")
_YEAR_CODE = re.compile(r"(\d{4})")
_QUARTER_NAMES = {1: "一", 2: "二", 3: "三", 4: "四"}


@dataclass(frozen=True)
class Period:
    """A month, a quarter or a calendar year, as dates; both ends inclusive (DOMAIN.md)."""

    kind: str
    year: int
    number: int  # the month (1-12), the quarter (1-4) or 1 for a year

    def __post_init__(self):
        limits = {MONTH: 12, QUARTER: 4, YEAR: 1}
        if self.kind not in limits or not 1 <= self.number <= limits[self.kind]:
            raise ValueError(f"no such period: {self.kind} {self.number}")
        if not FIRST_YEAR <= self.year <= LAST_YEAR:
            raise ValueError(f"year out of range: {self.year}")

    @classmethod
    def parse(cls, code):
        """The period a code names: 2026-03 (a month), 2026Q1 (a quarter), 2026 (a year)."""
        code = (code or "").strip()
        if match := _MONTH_CODE.fullmatch(code):
            return cls(MONTH, int(match[1]), int(match[2]))
        if match := _QUARTER_CODE.fullmatch(code):
            return cls(QUARTER, int(match[1]), int(match[2]))
        if match := _YEAR_CODE.fullmatch(code):
            return cls(YEAR, int(match[1]), 1)
        raise ValueError(f"not a period: {code!r}")

    @classmethod
    def month_of(cls, day):
        return cls(MONTH, day.year, day.month)

    @classmethod
    def quarter_of(cls, day):
        return cls(QUARTER, day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def year_of(cls, day):
        return cls(YEAR, day.year, 1)

    @property
    def code(self):
        if self.kind == MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year}Q{self.number}"
        return str(self.year)

    @property
    def label(self):
        if self.kind == MONTH:
            return _("%(year)d年%(month)d月") % {"year": self.year, "month": self.number}
        if self.kind == QUARTER:
            return _("%(year)d年第%(quarter)s季度") % {
                "year": self.year,
                "quarter": _QUARTER_NAMES[self.number],
            }
        return _("%(year)d年") % {"year": self.year}

    @property
    def start(self):
        """The period's first day."""
        if self.kind == MONTH:
            return datetime.date(self.year, self.number, 1)
        if self.kind == QUARTER:
            return datetime.date(self.year, 3 * self.number - 2, 1)
        return datetime.date(self.year, 1, 1)

    @property
    def end(self):
        """The period's last day (inclusive)."""
        if self.kind == YEAR:
            return datetime.date(self.year, 12, 31)
        last_month = self.number if self.kind == MONTH else 3 * self.number
        return datetime.date(self.year, last_month, calendar.monthrange(self.year, last_month)[1])

    def time_range(self):
        """[first moment, moment after the last day) in the site's time zone (Asia/Shanghai)."""
        zone = timezone.get_default_timezone()
        start = datetime.datetime.combine(self.start, datetime.time.min, tzinfo=zone)
        after = datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
        )
        return start, after

    def __str__(self):
        return self.code


def current_month():
    """The month in progress (the pages' default period)."""
    return Period.month_of(timezone.localdate())


def recent_periods(today=None, *, years=3):
    """The periods a picker offers, newest first: the months, quarters and years begun in
    the last `years` calendar years up to `today`."""
    today = today or timezone.localdate()
    first_year = max(FIRST_YEAR, today.year - years + 1)
    months, quarters, whole_years = [], [], []
    for year in range(today.year, first_year - 1, -1):
        whole_years.append(Period(YEAR, year, 1))
        for quarter in range(4, 0, -1):
            if datetime.date(year, 3 * quarter - 2, 1) <= today:
                quarters.append(Period(QUARTER, year, quarter))
        for month in range(12, 0, -1):
            if datetime.date(year, month, 1) <= today:
                months.append(Period(MONTH, year, month))
    return {MONTH: months, QUARTER: quarters, YEAR: whole_years}


@dataclass(frozen=True)
class Satisfaction:
    """The ratings of a scope in a period and its satisfaction figure."""

    satisfied: int = 0
    fairly_satisfied: int = 0
    dissatisfied: int = 0

    def __add__(self, other):
        return Satisfaction(
            self.satisfied + other.satisfied,
            self.fairly_satisfied + other.fairly_satisfied,
            self.dissatisfied + other.dissatisfied,
        )

    @property
    def total(self):
        return self.satisfied + self.fairly_satisfied + self.dissatisfied

    @property
    def content(self):
        """满意 + 基本满意: the ratings that count as satisfied."""
        return self.satisfied + self.fairly_satisfied

    @property
    def percentage(self):
        """(满意 + 基本满意) / all as a percentage with one decimal; None without ratings.

        A figure short of everyone never shows as 100.0, and one above no one never as 0.0
        (1999 of 2000 is 99.9; 1 of 2000 is 0.1).
        """
        if not self.total:
            return None
        shown = (Decimal(self.content) * 100 / Decimal(self.total)).quantize(
            Decimal("0.1"), rounding=ROUND_HALF_UP
        )
        if self.content < self.total and shown >= 100:
            return Decimal("99.9")
        if self.content and not shown:
            return Decimal("0.1")
        return shown


NO_RATINGS = Satisfaction()


def in_period(evaluations, period):
    """The evaluations made within `period`."""
    start, after = period.time_range()
    return evaluations.filter(created_at__gte=start, created_at__lt=after)


def _counts():
    return {
        "satisfied": Count("pk", filter=Q(rating=Rating.SATISFIED)),
        "fairly_satisfied": Count("pk", filter=Q(rating=Rating.FAIRLY_SATISFIED)),
        "dissatisfied": Count("pk", filter=Q(rating=Rating.DISSATISFIED)),
    }


def _satisfaction(row):
    return Satisfaction(
        row["satisfied"] or 0, row["fairly_satisfied"] or 0, row["dissatisfied"] or 0
    )


def overall(evaluations, period):
    """The satisfaction of all of `evaluations` in `period` (one query)."""
    return _satisfaction(in_period(evaluations, period).order_by().aggregate(**_counts()))


def grouped(evaluations, period, key):
    """The satisfaction in `period` for each value of `key` (a lookup such as "station" or
    "station__street"), as {value: Satisfaction}; values without ratings are absent (one query).
    """
    rows = in_period(evaluations, period).order_by().values(key).annotate(**_counts())
    return {row[key]: _satisfaction(row) for row in rows}


def by_station(evaluations, period):
    """{station pk: Satisfaction} in `period` (one query)."""
    return grouped(evaluations, period, "station")


def by_street(evaluations, period):
    """{street pk: Satisfaction} in `period` (one query); district-level stations under None."""
    return grouped(evaluations, period, "station__street")


@dataclass(frozen=True)
class Breakdown:
    """A scope's satisfaction in a period, for the scope and per street and station."""

    total: Satisfaction
    streets: dict  # {street pk or None (district-level stations): Satisfaction}
    stations: dict  # {station pk: Satisfaction}

    def for_street(self, street_pk):
        return self.streets.get(street_pk, NO_RATINGS)

    def for_station(self, station_pk):
        return self.stations.get(station_pk, NO_RATINGS)


def breakdown(evaluations, period):
    """Every level of a scope's satisfaction in `period` from one grouped query."""
    rows = (
        in_period(evaluations, period)
        .order_by()
        .values("station", "station__street")
        .annotate(**_counts())
    )
    stations = {}
    streets = defaultdict(Satisfaction)
    total = NO_RATINGS
    for row in rows:
        figure = _satisfaction(row)
        stations[row["station"]] = figure
        streets[row["station__street"]] += figure
        total += figure
    return Breakdown(total=total, streets=dict(streets), stations=stations)
