"""The compliance jobs of `make bench`: a month for the whole city, by the command and by hand.

- `compliance.city_month`: `manage.py compliance --period <month> --json --all-districts`
  through `call_command` with its output captured and parsed: every rule of every district
  and street, offenders included, as another bureau system would ask for it (the command
  judges the districts one after the other, each as `--district` would);
- `compliance.hand_sql`: one hand-written query (`compliance.sql`, `sql_text()`) over the
  base tables (visits_visit, cases_currentperiod, cases_recipient, stations_*, advisors_*,
  the districts' visits_visitpolicy; never a summary table) giving each street's figures of
  the status rules C1–C7 and C11 and of the month rule C9.

The month is the last complete one (the month before today's, Asia/Shanghai), so both judge
its status rules on its last day. Each job runs `repeat` times: the median seconds and the
largest peak memory (`benchmarks.measured`). Then the query's figures are checked against
the command's, street by street and summed per district; any difference is a failure of
the run (the district's C3 is left out of the sums: it counts the district's guidance
station, which belongs to no street). The target: the city month through the command no
slower than 1.5 × the query.
"""

import datetime
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from benchmarks import RunFigures, Section, measured
from visits.models import DEFAULT_DUE_DAYS

NAME = "compliance"
CITY_JOB = f"{NAME}.city_month"
SQL_JOB = f"{NAME}.hand_sql"
SQL_FILE = Path(__file__).resolve().parent / "compliance.sql"
# The rules the query gives per street, as the command's JSON names them.
RULES = ("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C9", "C11")
# The rules whose district figure is the sum of its streets' figures.
SUMMED_RULES = tuple(rule for rule in RULES if rule != "C3")
TARGET_RATIO = 1.5
# The differences listed one by one in the run's failures; the rest are counted.
LISTED_DIFFERENCES = 20


def sql_text():
    """The hand-written query (benchmarks/compliance.sql), as the README prints it."""
    return SQL_FILE.read_text(encoding="utf-8")


def last_complete_month(today=None):
    """(first day, last day) of the month before the month of `today`."""
    last = (today or timezone.localdate()).replace(day=1) - datetime.timedelta(days=1)
    return last.replace(day=1), last


def sql_params(first, last, *, due_days=DEFAULT_DUE_DAYS, excluded_methods=()):
    """The query's parameters for the month [first, last] (see `sql_figures`)."""
    return {
        "first": first,
        "last": last,
        "due_days": due_days,
        "excluded_methods": json.dumps(list(excluded_methods)),
        "min_workspace_m2": settings.STATION_MIN_WORKSPACE_M2,
        "min_desk_sets": settings.STATION_MIN_DESK_SETS,
        "min_computers": settings.STATION_MIN_COMPUTERS,
    }


def sql_figures(first, last, *, due_days=DEFAULT_DUE_DAYS, excluded_methods=()):
    """{(district code, street code): {rule: (covered, total)}} by the hand-written query.

    `due_days` and `excluded_methods` are the visit rule's settings of the districts that
    have not saved their own; a district's saved `VisitPolicy` wins.
    """
    params = sql_params(first, last, due_days=due_days, excluded_methods=excluded_methods)
    with connection.cursor() as cursor:
        cursor.execute(sql_text(), params)
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    return {
        (row["district"], row["street"]): {
            rule: (row[f"{rule.lower()}_covered"], row[f"{rule.lower()}_total"]) for rule in RULES
        }
        for row in rows
    }


def command_document(month_key):
    """What `compliance --period <month_key> --json --all-districts` prints, parsed."""
    out = io.StringIO()
    call_command("compliance", "--period", month_key, "--json", "--all-districts", stdout=out)
    return json.loads(out.getvalue())


def command_figures(document):
    """The command's figures of `RULES`: ({(district, street): {rule: (covered, total)}},
    {district: {rule: (covered, total)}})."""
    streets, districts = {}, {}
    for entry in document["districts"]:
        code = entry["district"]["code"]
        districts[code] = {
            rule: (
                entry["district"]["rules"][rule]["covered"],
                entry["district"]["rules"][rule]["total"],
            )
            for rule in RULES
        }
        for street in entry["streets"]:
            streets[(code, street["code"])] = {
                rule: (street["rules"][rule]["covered"], street["rules"][rule]["total"])
                for rule in RULES
            }
    return streets, districts


def differences(by_sql, document):
    """The differences between the query's figures and the command's, in Chinese."""
    by_command, districts = command_figures(document)
    found = []
    for key in sorted(set(by_sql) | set(by_command)):
        district, street = key
        if key not in by_command:
            found.append(f"街镇 {street}({district}):手写SQL有此街镇,compliance --json 没有")
            continue
        if key not in by_sql:
            found.append(f"街镇 {street}({district}):compliance --json 有此街镇,手写SQL没有")
            continue
        for rule in RULES:
            mine, theirs = by_sql[key][rule], by_command[key][rule]
            if mine != theirs:
                found.append(
                    f"街镇 {street} {rule}:手写SQL {mine[0]}/{mine[1]},"
                    f"compliance --json {theirs[0]}/{theirs[1]}"
                )
    for district, figures in sorted(districts.items()):
        rows = [value for (code, _street), value in by_sql.items() if code == district]
        for rule in SUMMED_RULES:
            summed = (sum(row[rule][0] for row in rows), sum(row[rule][1] for row in rows))
            if summed != figures[rule]:
                found.append(
                    f"区 {district} {rule}:手写SQL各街镇合计 {summed[0]}/{summed[1]},"
                    f"compliance --json 全区 {figures[rule][0]}/{figures[rule][1]}"
                )
    return found


@dataclass
class Timing(RunFigures):
    """A job's runs (see `benchmarks.RunFigures`)."""

    runs: list = field(default_factory=list)


def table(city, hand):
    """The jobs as aligned lines (Chinese headers): seconds, peak, ratio, target."""
    from benchmarks.run import _cell, _width

    ratio = city.seconds / hand.seconds if hand.seconds else float("inf")
    met = ratio <= TARGET_RATIO
    headers = ["作业", "秒", "峰值MB", "与手写SQL之比", "目标"]
    rows = [
        [
            CITY_JOB,
            f"{city.seconds:.2f}",
            f"{city.peak_mb:.0f}",
            f"{ratio:.2f}",
            f"≤ {TARGET_RATIO} × 手写SQL:" + ("达到" if met else "未达到"),
        ],
        [SQL_JOB, f"{hand.seconds:.2f}", f"{hand.peak_mb:.0f}", "1.00", "基准"],
    ]
    widths = [max(_width(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    last = len(headers) - 1
    return [
        "  ".join(
            _cell(value, widths[i], left=i in (0, last)) for i, value in enumerate(row)
        ).rstrip()
        for row in [headers, *rows]
    ]


def _jit():
    """The server's JIT setting, which weighs on long queries (PostgreSQL only)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit'), current_setting('jit_above_cost')")
        jit, above = cursor.fetchone()
    return f"{jit},jit_above_cost = {above}" if jit == "on" else jit


def run(repeat=3, today=None):
    """Both jobs, `repeat` times each, checked against each other: a `Section`."""
    first, last = last_complete_month(today)
    month_key = f"{first:%Y-%m}"
    city, hand = Timing(), Timing()
    document = by_sql = None
    for _ in range(repeat):
        document = None  # each run starts without the last one's document in memory
        with measured(connection) as measurement:
            document = command_document(month_key)
        city.runs.append(measurement)
    for _ in range(repeat):
        with measured(connection) as measurement:
            by_sql = sql_figures(first, last)
        hand.runs.append(measurement)
    found = differences(by_sql, document)
    failures = [f"{NAME}:{text}" for text in found[:LISTED_DIFFERENCES]]
    if len(found) > LISTED_DIFFERENCES:
        failures.append(f"{NAME}:另有 {len(found) - LISTED_DIFFERENCES} 处不一致")
    lines = table(city, hand)
    lines.append(
        f"统计期 {month_key}(判定日 {last}),{len(document['districts'])} 个区 "
        f"{len(by_sql)} 个街镇;核对各街镇 {'、'.join(RULES)} 的数字:"
        + ("与 compliance --json 一致。" if not found else f"{len(found)} 处不一致。")
    )
    jit = _jit()
    if jit:
        lines.append(f"数据库 JIT 编译:{jit}(两项作业相同)。")
    return Section(
        jobs={CITY_JOB: city.as_json(), SQL_JOB: hand.as_json()},
        lines=lines,
        failures=failures,
    )
