"""The compliance engine: every rule of DOMAIN.md (C1–C12, the advice L1) and P1 (政策找人
线索及时核实) judged for a scope (a district, narrowed to a street if asked) and a period (a
month, a quarter or a year).

Each rule is registered once in `ENGINE_RULES` as an `EngineRule`: its id, Chinese title,
the notice's clause, its kind and how it is judged. The rules already defined elsewhere are
registered, not rewritten:

- status rules, judged on the stations as they are now: C1, C2 (`supervision.rules`), C3,
  C4 (`supervision.network_rules`);
- rules judged on a day, the period's last day (today for the period in progress): C5, C6,
  C7, C8, C11 (`supervision.staffing_rules`; C8 is the calendar year up to that day);
- event rules over the period: C9 (`visits.coverage`, the months of the period up to the
  month in progress, added up), C10 (`cases.checklists`, from the first day to the judging
  day) and C12 (`supervision.rectification`); P1 (`cases.lead_figures`: the leads found in
  the period, up to the judging day, visited within LEAD_VISIT_DAYS days of being found;
  a lead not visited whose deadline has not passed yet is not counted);
- the advice L1 (below): never a breach, it does not count in verdicts or assessments.

Each rule runs a fixed number of queries whatever the size of the scope: one grouped by
street that gives the streets' figures and, added up, the scope's (`rules.
measure_with_streets`; C9 and L1: one for each), and one more for the offending rows when
they are asked for.

`evaluate(district, period, street=None)` returns a `Compliance` with the scope's figures,
each street's figures and the offenders, and `Compliance.as_json()` the shape that
`manage.py compliance --json` prints for other bureau systems.

L1 (DOMAIN.md: "a station whose current recipients per active advisor exceed 1.5× the
district median (a setting) should add advisors"). Decisions: it is judged on the running
committee points (the people of a street station are the whole street's, not comparable)
on the judging day; a point without an active advisor is C6's breach and left out of L1
(no ratio); the median is over the district's points with an active advisor. Its figure is
the points not flagged / the points judged.
"""

import datetime
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases.checklists import C10
from cases.lead_figures import P1
from cases.models import Lead, Recipient
from stations.choices import StationKind, StationStatus
from stations.models import Station, Street
from supervision import rules as base_rules
from supervision.network_rules import C3, C4
from supervision.rectification import C12
from supervision.rules import C1, C2, RuleResult
from supervision.staffing_rules import C5, C6, C7, C8, C11, active_advisor_count
from visits import coverage
from visits.models import policy_for

# Periods ------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """A month (`2026-10`), a quarter (`2026Q3`) or a calendar year (`2026`); ends inclusive."""

    kind: str  # "month", "quarter" or "year"
    first: datetime.date
    last: datetime.date
    key: str

    @property
    def label(self):
        if self.kind == "month":
            return _("%(y)d年%(m)d月") % {"y": self.first.year, "m": self.first.month}
        if self.kind == "quarter":
            quarter = (self.first.month - 1) // 3 + 1
            return _("%(y)d年第%(q)d季度") % {"y": self.first.year, "q": quarter}
        return _("%(y)d年") % {"y": self.first.year}

    def judging_day(self, today=None):
        """The period's last day, or today while it is in progress."""
        return min(self.last, today or timezone.localdate())

    def months(self, today=None):
        """The first days of the period's months up to the month of the judging day."""
        last = self.judging_day(today).replace(day=1)
        months, month = [], self.first
        while month <= last:
            months.append(month)
            month = coverage.shift_month(month, 1)
        return months

    def has_started(self, today=None):
        return self.first <= (today or timezone.localdate())


def parse_period(text):
    """The period written `2026-10`, `2026Q3` or `2026`; ValueError (Chinese) otherwise."""
    text = (text or "").strip()
    message = _("统计期应写作 2026-10(月)、2026Q3(季度)或 2026(年)。")
    if _MONTH.match(text):
        try:
            first = coverage.parse_month(text)
        except ValueError as error:
            raise ValueError(message) from error
        return Period("month", first, coverage.month_bounds(first)[1], f"{first:%Y-%m}")
    if match := _QUARTER.match(text):
        year, quarter = int(match[1]), int(match[2])
        first = datetime.date(year, quarter * 3 - 2, 1)
        last = coverage.month_bounds(datetime.date(year, quarter * 3, 1))[1]
        if 2000 <= year <= 2100:
            return Period("quarter", first, last, f"{year}Q{quarter}")
    if match := _YEAR.match(text):
        year = int(match[1])
        if 2000 <= year <= 2100:
            return Period("year", datetime.date(year, 1, 1), datetime.date(year, 12, 31), text)
    raise ValueError(message)


# Outcomes -----------------------------------------------------------------------------------


def percentage(covered, total):
    if not total:
        return None
    shown = (Decimal(covered) * 100 / Decimal(total)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )
    if covered < total and shown >= 100:
        return Decimal("99.9")
    return shown


@dataclass
class Outcome:
    """One rule's figure for one scope: covered / total against the target."""

    rule: "EngineRule"
    covered: int
    total: int
    offenders: Callable[[], list] | None = None

    @property
    def value(self):
        return percentage(self.covered, self.total)

    @property
    def passed(self):
        """Meets the target (nothing to judge passes: nothing was breached)."""
        return self.covered * 100 >= self.rule.target * self.total

    @property
    def verdict(self):
        return base_rules.RuleResult(rule=self.rule, covered=self.covered, total=self.total).verdict

    def offender_rows(self):
        return self.offenders() if self.offenders else []

    def as_json(self, with_offenders=True):
        data = {
            "passed": self.passed,
            "value": float(self.value) if self.value is not None else None,
            "target": self.rule.target,
            "covered": self.covered,
            "total": self.total,
        }
        if self.rule.kind == ADVICE:
            data["advice"] = True
        if with_offenders:
            data["offenders"] = self.offender_rows()
        return data


STATUS, DATED, EVENT, ADVICE = "status", "dated", "event", "advice"
# A judge's `by_street` asking for both figures at once: (RuleResult, {street pk: RuleResult}).
WITH_STREETS = "with_streets"


@dataclass(frozen=True)
class EngineRule:
    """A registered rule: what it is, and how it is judged for a scope and a period.

    `judge(rows_scope, period, today, by_street)` returns a `RuleResult`, a dict of them by
    street pk, or with `by_street=WITH_STREETS` both from one grouped query (the rules of
    `supervision.rules` and P1); `serialise(row)` turns an offending row into JSON.
    """

    id: str
    title: object
    clause: object  # the notice's words
    kind: str
    target: int
    counts: object
    judge: Callable = field(repr=False, default=None)
    serialise: Callable = field(repr=False, default=None)
    counted_model: type | None = None
    street_field: str = "street"


def _share_judge(rule, mode):
    """The judge of a rule of `supervision.rules` (a status, dated or period rule)."""

    def judge(scope, period, today, by_street):
        on = period.judging_day(today)
        if mode == STATUS:
            args = ()
        elif mode == DATED:
            args = (on,)
        elif rule is C12:
            args = (period.first, period.last, today)
        else:
            args = (period.first, on)
        if by_street == WITH_STREETS:
            return rule.evaluate_with_streets(scope, *args)
        if by_street:
            return rule.evaluate_by_street(scope, *args)
        return rule.evaluate(scope, *args)

    return judge


def _street_row(row):
    return {"code": row.code, "name": row.name}


def _committee_row(row):
    return {"code": row.code, "name": row.name, "street": row.street.code}


def _station_row(row):
    return {
        "id": row.pk,
        "name": row.name,
        "kind": row.kind,
        "street": row.street.code if row.street_id else None,
    }


def _advisor_row(row):
    return {"advisor_number": row.advisor_number, "name": row.name, "street": row.street.code}


def _order_row(row):
    return {
        "number": row.number,
        "street": row.street.code,
        "deadline": row.deadline.isoformat(),
        "status": row.status,
        "closed_on": row.closed_on.isoformat() if row.closed_on else None,
    }


def _lead_row(row):
    """A late lead, by its number (no name: the JSON leaves the bureau's systems)."""
    return {
        "lead_number": row.lead_number,
        "street": row.street.code,
        "found_on": row.found_on.isoformat(),
        "first_visited_on": row.first_visited_on.isoformat() if row.first_visited_on else None,
    }


_RELATED = {
    "street": ("district",),
    "committee": ("street",),
    "station": ("street",),
    "advisor": ("street",),
    "rectificationorder": ("street",),
    "lead": ("street",),
}


def _registered(rule, mode, clause, serialise, kind=None):
    return EngineRule(
        id=rule.id,
        title=rule.title,
        clause=clause,
        kind=kind or (STATUS if mode == STATUS else EVENT if mode == EVENT else DATED),
        target=rule.target,
        counts=rule.counts,
        judge=_share_judge(rule, mode),
        serialise=serialise,
        counted_model=rule.counted_model,
        street_field=rule.street_field,
    )


# P1 -----------------------------------------------------------------------------------------


def _p1_judge(scope, period, today, by_street):
    """P1 over the leads of `scope` found from the period's first day to its judging day."""
    on = period.judging_day(today)
    if by_street == WITH_STREETS:
        return P1.evaluate_with_streets(scope, period.first, on, today)
    if by_street:
        return P1.evaluate_by_street(scope, period.first, on, today)
    return P1.evaluate(scope, period.first, on, today)


# C9 and L1 ----------------------------------------------------------------------------------


def _c9_judge_for(district, street=None):
    """C9 over the people placed in `district` (or `street`), see `visits.coverage`:
    person-months, the figures added up from the committee rollups."""
    policy = policy_for(district.pk)

    def judge(scope, period, today, by_street):
        months = period.months(today)
        area = {"district": district.pk, "street": street.pk if street is not None else None}
        if by_street:
            figures = coverage.area_figures(months, policy, by="street", **area)
            return {pk: C9_RULE_VIEW.judge(f.visited, f.due) for pk, f in figures.items()}
        figure = coverage.area_figures(months, policy, **area)

        def offenders():
            rows = []
            for first in months:
                # Only the three columns shown: a person's whole record (its ID number
                # decrypted) for each of a city's misses cost more than the query.
                misses = coverage.area_misses(first, policy, **area).values_list(
                    "file_number", "committee__code", "street__code"
                )
                rows.extend(
                    {
                        "month": coverage.month_key(first),
                        "file_number": file_number,
                        "committee": committee,
                        "street": street_code,
                    }
                    for file_number, committee, street_code in misses
                )
            return rows

        return C9_RULE_VIEW.judge(figure.visited, figure.due), offenders

    return judge


C9_RULE_VIEW = base_rules.Rule(
    id="C9",
    title=gettext_lazy("每月走访"),
    description=gettext_lazy("每名现有救助对象每月至少走访1次"),
    counts=gettext_lazy("应走访人次"),
    unit=gettext_lazy("人次"),
    offender_label=gettext_lazy("当月未走访"),
    target=100,
    counted_model=Recipient,
    street_field="street",
    share=None,
)


def committee_point_loads(stations, on, with_current=True):
    """The running committee points of `stations` with `active_advisors` (on `on`) and, with
    `with_current`, `current` (their committee's current recipients on `on`), one query."""
    points = stations.filter(kind=StationKind.COMMITTEE, status=StationStatus.RUNNING).annotate(
        active_advisors=active_advisor_count(on)
    )
    if not with_current:
        return points
    current = (
        Recipient.objects.current_on(on)
        .filter(committee=OuterRef("committee"))
        .order_by()
        .values("committee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return points.annotate(current=Coalesce(Subquery(current, output_field=IntegerField()), 0))


@dataclass(frozen=True)
class LoadAdvice:
    median: float | None
    limit: float | None
    judged: list  # (station, ratio)
    flagged: list  # (station, ratio)


def current_by_committee(on):
    """{committee id: its current recipients on `on`} for the whole city, one grouped query:
    for a run over every district, where each district's stations counting their own
    committee's people took 16 × 90 ms at Shanghai scale, this takes about 250 ms."""
    rows = Recipient.objects.current_on(on).order_by().values("committee").annotate(n=Count("pk"))
    return {row["committee"]: row["n"] for row in rows}


def city_current_counts():
    """`current_counts` for `evaluate` when every district is judged in turn: the city's
    `current_by_committee`, read once for each judging day."""
    read = {}

    def counts(on):
        if on not in read:
            read[on] = current_by_committee(on)
        return read[on]

    return counts


def load_advice(district_stations, on, current_counts=None):
    """L1 for a district's stations on `on` (see the module). `current_counts(on)`: each
    committee's current recipients already read (`city_current_counts`), else the stations
    count their own."""
    stations = committee_point_loads(district_stations, on, with_current=current_counts is None)
    rows = list(
        stations.filter(active_advisors__gt=0)
        .select_related("street")
        .order_by("street__code", "committee__code")
    )
    if current_counts is not None:
        counts = current_counts(on)
        for row in rows:
            row.current = counts.get(row.committee_id, 0)
    judged = [(row, row.current / row.active_advisors) for row in rows]
    if not judged:
        return LoadAdvice(None, None, [], [])
    median = statistics.median(ratio for _row, ratio in judged)
    limit = median * settings.ADVICE_LOAD_FACTOR
    flagged = [(row, ratio) for row, ratio in judged if median > 0 and ratio > limit]
    return LoadAdvice(median, limit, judged, flagged)


def _l1_judge_for(district, current_counts=None):
    advices = {}  # judging day -> LoadAdvice: the district's stations are read once

    def judge(scope, period, today, by_street):
        on = period.judging_day(today)
        if on not in advices:
            advices[on] = load_advice(Station.objects.filter(district=district), on, current_counts)
        advice = advices[on]
        street_ids = set(scope.values_list("pk", flat=True))
        judged = [(s, r) for s, r in advice.judged if s.street_id in street_ids]
        flagged = [(s, r) for s, r in advice.flagged if s.street_id in street_ids]
        if by_street:
            result = {}
            for street_id in {s.street_id for s, _r in judged}:
                total = sum(1 for s, _r in judged if s.street_id == street_id)
                bad = sum(1 for s, _r in flagged if s.street_id == street_id)
                result[street_id] = L1_RULE_VIEW.judge(total - bad, total)
            return result

        def offenders():
            return [
                {
                    "id": station.pk,
                    "name": station.name,
                    "street": station.street.code,
                    "current_recipients": station.current,
                    "active_advisors": station.active_advisors,
                    "per_advisor": round(ratio, 1),
                    "district_median": round(advice.median, 1),
                }
                for station, ratio in flagged
            ]

        return L1_RULE_VIEW.judge(len(judged) - len(flagged), len(judged)), offenders

    return judge


L1_RULE_VIEW = base_rules.Rule(
    id="L1",
    title=gettext_lazy("顾问配备与对象数量相适应(建议)"),
    description=gettext_lazy("人均联系现有救助对象数超过全区中位数1.5倍的居委服务点宜增配顾问"),
    counts=gettext_lazy("有在岗顾问的居委服务点"),
    unit=gettext_lazy("个"),
    offender_label=gettext_lazy("人均对象数偏多,建议增配顾问"),
    target=100,
    counted_model=Street,
    street_field="pk",
    share=None,
)


# The registry --------------------------------------------------------------------------------

CLAUSES = {
    "C1": gettext_lazy("三(一)1:各街镇建立社区救助顾问服务站,实现全覆盖"),
    "C2": gettext_lazy("三(一)1:各居村委设立社区救助顾问服务点,实现全覆盖"),
    "C3": gettext_lazy("三(一)2:统一名称、统一标识"),
    "C4": gettext_lazy("三(一)2:有固定场所、办公桌椅、电脑和网络"),
    "C5": gettext_lazy("三(二)1:街镇服务站至少配备2名社区救助顾问"),
    "C6": gettext_lazy("三(二)1:居委服务点至少配备1名社区救助顾问"),
    "C7": gettext_lazy("三(二)2:社区救助顾问实行备案管理"),
    "C8": gettext_lazy("三(二)3:每年至少开展1次专业培训"),
    "C9": gettext_lazy("三(三)2:对现有救助对象定期联系走访,每月至少1次"),
    "C10": gettext_lazy("三(四):建立顾问、需求、资源、服务四项清单并动态更新"),
    "C11": gettext_lazy("三(二)4:统一着装、佩戴胸牌"),
    "C12": gettext_lazy("四:督导检查发现的问题限期整改"),
    "P1": gettext_lazy("一:进一步夯实“政策找人”工作体系"),
    "L1": gettext_lazy("三(二)1:可根据困难对象人数和区域范围大小适当增配"),
}

ENGINE_RULES = {
    "C1": _registered(C1, STATUS, CLAUSES["C1"], _street_row),
    "C2": _registered(C2, STATUS, CLAUSES["C2"], _committee_row),
    "C3": _registered(C3, STATUS, CLAUSES["C3"], _station_row),
    "C4": _registered(C4, STATUS, CLAUSES["C4"], _station_row),
    "C5": _registered(C5, DATED, CLAUSES["C5"], _station_row),
    "C6": _registered(C6, DATED, CLAUSES["C6"], _station_row),
    "C7": _registered(C7, DATED, CLAUSES["C7"], _advisor_row),
    "C8": _registered(C8, DATED, CLAUSES["C8"], _street_row, kind=EVENT),
    "C9": EngineRule(
        id="C9",
        title=C9_RULE_VIEW.title,
        clause=CLAUSES["C9"],
        kind=EVENT,
        target=100,
        counts=C9_RULE_VIEW.counts,
        judge=None,  # bound to the district (and street) in `evaluate`
        counted_model=Recipient,
        street_field="street",
    ),
    "C10": _registered(C10, EVENT, CLAUSES["C10"], _street_row),
    "C11": _registered(C11, DATED, CLAUSES["C11"], _advisor_row),
    "C12": _registered(C12, EVENT, CLAUSES["C12"], _order_row),
    "P1": EngineRule(
        id="P1",
        title=P1.title,
        clause=CLAUSES["P1"],
        kind=EVENT,
        target=P1.target,
        counts=P1.counts,
        judge=_p1_judge,
        serialise=_lead_row,
        counted_model=Lead,
        street_field="street",
    ),
    "L1": EngineRule(
        id="L1",
        title=L1_RULE_VIEW.title,
        clause=CLAUSES["L1"],
        kind=ADVICE,
        target=100,
        counts=L1_RULE_VIEW.counts,
        judge=None,  # bound to the district in `evaluate`
        counted_model=Street,
        street_field="pk",
    ),
}


# Evaluation ----------------------------------------------------------------------------------


@dataclass
class StreetCompliance:
    street: Street
    outcomes: dict  # rule id -> Outcome

    def as_json(self):
        return {
            "code": self.street.code,
            "name": self.street.name,
            "rules": {rule_id: o.as_json() for rule_id, o in self.outcomes.items()},
        }


@dataclass
class Compliance:
    period: Period
    district: object
    street: Street | None
    outcomes: dict  # rule id -> Outcome for the whole scope
    streets: list  # StreetCompliance

    def as_json(self):
        return {
            "period": self.period.key,
            "period_first": self.period.first.isoformat(),
            "period_last": self.period.last.isoformat(),
            "judged_on": self.judged_on.isoformat(),
            "streets": [street.as_json() for street in self.streets],
            "district": {
                "code": self.district.code,
                "name": self.district.name,
                "scope": "street" if self.street else "district",
                "rules": {rule_id: o.as_json() for rule_id, o in self.outcomes.items()},
            },
        }

    judged_on: datetime.date = None


def _judge_of(rule, district, street, current_counts=None):
    """The rule's judge; C9's and L1's are bound to the district (C9's to the street too)."""
    if rule.judge is not None:
        return rule.judge
    if rule.id == "C9":
        return _c9_judge_for(district, street)
    return _l1_judge_for(district, current_counts)


def _scope_rows(rule, district, street):
    rows = rule.counted_model._default_manager.for_district(district.pk)
    if street is not None:
        rows = rows.filter(**{rule.street_field: street.pk})
    return rows


def _offenders_of(rule, result):
    if result.offenders is None:
        return None
    related = _RELATED.get(result.rule.counted_model._meta.model_name, ())

    def offenders():
        return [rule.serialise(row) for row in result.offenders.select_related(*related)]

    return offenders


def evaluate(
    district,
    period,
    *,
    street=None,
    rule_ids=None,
    today=None,
    street_offenders=True,
    current_counts=None,
):
    """Every rule (or those of `rule_ids`) for `district` (narrowed to `street`) and `period`.
    `current_counts`: L1's counts of current recipients read for the city
    (`city_current_counts`), when every district is judged in turn.

    Per rule: one query grouped by street for the streets' figures and the scope's (C9 and
    L1: one each), and the scope's list of offenders when it is read (once: each street's
    list, with `street_offenders`, is the scope's rows of that street).
    """
    today = today or timezone.localdate()
    streets = list(Street.objects.filter(district=district).order_by("code"))
    if street is not None:
        streets = [row for row in streets if row.pk == street.pk]
    outcomes = {}
    per_street = {row.pk: {} for row in streets}
    for rule_id in rule_ids or ENGINE_RULES:
        rule = ENGINE_RULES[rule_id]
        judge = _judge_of(rule, district, street, current_counts)
        scope = _scope_rows(rule, district, street)
        if rule.judge is not None:
            # The scope's figure and its streets' from one grouped query.
            result, by_street = judge(scope, period, today, WITH_STREETS)
            offenders = _offenders_of(rule, result)
        else:  # C9 and L1: from the rollups or the district's stations read once
            result, offenders = judge(scope, period, today, False)
            by_street = judge(scope, period, today, True)
        offenders = _read_once(offenders)
        outcomes[rule_id] = Outcome(rule, result.covered, result.total, offenders)
        lists = _street_lists(offenders) if street_offenders and offenders else None
        for row in streets:
            figure = by_street.get(row.pk) or RuleResult(rule=result.rule, covered=0, total=0)
            street_offenders_fn = None
            if lists and (figure.total - figure.covered):
                street_offenders_fn = _of_street(lists, row.code)
            per_street[row.pk][rule_id] = Outcome(
                rule, figure.covered, figure.total, street_offenders_fn
            )
    return Compliance(
        period=period,
        district=district,
        street=street,
        outcomes=outcomes,
        streets=[StreetCompliance(row, per_street[row.pk]) for row in streets],
        judged_on=period.judging_day(today),
    )


def _read_once(offenders):
    """`offenders` read at most once, however many outcomes list them."""
    if offenders is None:
        return None
    kept = []

    def rows():
        if not kept:
            kept.append(offenders())
        return kept[0]

    return rows


def _street_code(row):
    """The street of an offending row as serialised: a street's own code, else its street."""
    return row["code"] if "street" not in row else row["street"]


def _street_lists(offenders):
    """`offenders`' rows by street code (every rule serialises its rows with their street's
    code), grouped once for all the streets that ask."""

    def grouped():
        lists = {}
        for row in offenders():
            lists.setdefault(_street_code(row), []).append(row)
        return lists

    return _read_once(grouped)


def _of_street(lists, code):
    """A street's offenders: the scope's rows of that street, so that a district's lists
    cost one query per rule, not one per rule and street."""

    def rows():
        return lists().get(code, [])

    return rows


def single_district(code=None):
    """The district the command covers: `code`'s, or the only bureau's, or the only one."""
    from accounts.choices import Role
    from accounts.models import User
    from stations.models import District

    if code:
        district = District.objects.filter(code=code).first()
        if district is None:
            raise ValueError(_("没有代码为 %(code)s 的区。") % {"code": code})
        return district
    bureau_districts = set(
        User.objects.filter(role=Role.BUREAU, is_active=True, district__isnull=False)
        .values_list("district", flat=True)
        .distinct()
    )
    if len(bureau_districts) == 1:
        return District.objects.get(pk=bureau_districts.pop())
    districts = list(District.objects.all()[:2])
    if len(districts) == 1 and not bureau_districts:
        return districts[0]
    raise ValueError(_("系统中有多个区,请用 --district 指定区代码。"))
