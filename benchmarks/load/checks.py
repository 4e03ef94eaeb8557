"""What the database must hold after a load: each visit as its user was told, none half-written.

`python -m benchmarks.load.checks --run RUN_ID --visits visits.jsonl [--summaries]` (in the
database DATABASE_URL names) prints a JSON report; the load and fault tests judge it.

Every quick visit the load posted carries its marker in the findings (`workload`), and the
locustfile wrote down what its user was told. `compare` holds the two to each other:

- a visit the user was told was saved is in the register, once;
- a visit the user was told was not saved (the form's errors, the error page, no answer)
  is not: a user who was told to try again must not find it twice;
- no visit of the run is in the register without a user having posted it.

A request is one transaction (`ATOMIC_REQUESTS`), so a visit is either there with all that
the same request writes, or not at all. `half_written` looks for a visit of the run that
lacks any of it:

- its number (走访编号, `ZF<street code><7 digits>`, given by `Visit.save`);
- on PostgreSQL, its audit record: the insert event the trigger writes in the same
  transaction, naming the login that recorded it and the desk's address (the request's
  audit context);
- for a visit that counts (not a failed attempt), the person's month summary showing the
  month visited (`visits.summaries`, kept in the same transaction as the visit).

`--summaries` also compares the month summaries with a rebuild from the base tables
(`visits.summaries.differences`): rows that a half-done write left behind or left out.
"""

import argparse
import json
import os
import re
import sys
from collections import Counter

from benchmarks.load.workload import SAVED, TOLD_NOT_SAVED, UNEXPECTED

FINDINGS_PREFIX = "负载测试 "
_NUMBER = re.compile(r"^ZF(\d+)(\d{7})$")


def run_visits(run_id):
    from visits.models import Visit

    return Visit.objects.filter(findings__startswith=f"{FINDINGS_PREFIX}{run_id}-")


def marker_of(findings):
    return findings[len(FINDINGS_PREFIX) :]


def compare(outcomes, run_id):
    """What differs between what the users were told (`outcomes`, the on_visit records) and
    the visits of the run in the database: {"outcomes": counts, problem: [markers]}."""
    told = {record["marker"]: record for record in outcomes}
    stored = Counter(marker_of(f) for f in run_visits(run_id).values_list("findings", flat=True))
    return {
        "outcomes": dict(Counter(record["outcome"] for record in outcomes)),
        "stored": sum(stored.values()),
        "saved_missing": sorted(
            m for m, r in told.items() if r["outcome"] == SAVED and not stored[m]
        ),
        "told_failed_but_stored": sorted(
            m for m, r in told.items() if r["outcome"] in TOLD_NOT_SAVED and stored[m]
        ),
        "unexpected_answers": sorted(m for m, r in told.items() if r["outcome"] == UNEXPECTED),
        "stored_twice": sorted(m for m, count in stored.items() if count > 1),
        "stored_unreported": sorted(m for m in stored if m not in told),
    }


def half_written(run_id, desk_path=None):
    """The visits of the run missing part of what their request writes: [sentence]."""
    from django.urls import reverse

    from audit.context import tracking_supported
    from audit.tracking import INSERT, tracking_for
    from visits.choices import FAILED_RESULTS
    from visits.models import PersonMonth, Visit

    desk_path = desk_path or reverse("visits:desk_record")
    visits = list(run_visits(run_id).select_related("recipient__street", "advisor").order_by("pk"))
    problems = []
    for visit in visits:
        number = _NUMBER.match(visit.visit_number or "")
        if not number or number.group(1) != visit.recipient.street.code:
            problems.append(f"{visit.findings}:走访编号不完整({visit.visit_number!r})")
        if visit.recorded_by_id is None or visit.recorded_by_id != visit.advisor.user_id:
            problems.append(f"{visit.findings}:录入人不是走访顾问本人的账号")
    if tracking_supported():
        events = tracking_for(Visit).event_model.objects.filter(
            pgh_obj_id__in=[visit.pk for visit in visits], pgh_label=INSERT
        )
        contexts = dict(events.values_list("pgh_obj_id", "pgh_context"))
        for visit in visits:
            if visit.pk not in contexts:
                problems.append(f"{visit.findings}:没有新建的审计记录")
                continue
            context = contexts[visit.pk] or {}
            if context.get("user") != visit.recorded_by_id or context.get("url") != desk_path:
                problems.append(f"{visit.findings}:审计记录的操作人或页面不对({context})")
    months = {
        (row["recipient_id"], row["month"]): row["first_visit_on"]
        for row in PersonMonth.objects.filter(
            recipient_id__in={visit.recipient_id for visit in visits}
        ).values("recipient_id", "month", "first_visit_on")
    }
    for visit in visits:
        if visit.result in FAILED_RESULTS:
            continue
        first = months.get((visit.recipient_id, visit.visited_on.replace(day=1)))
        if first is None or first > visit.visited_on:
            problems.append(f"{visit.findings}:对象月度走访汇总没有记入这次走访")
    return problems


def summary_differences():
    """`visits.summaries.differences()` as JSON: {"person_months": [...], ...}."""
    from visits import summaries

    return {
        name: [[label, [str(value) for value in row]] for label, row in rows]
        for name, rows in summaries.differences().items()
    }


def report(outcomes, run_id, summaries=False):
    from django.conf import settings
    from django.db import connection

    found = compare(outcomes, run_id)
    found["half_written"] = half_written(run_id)
    found["atomic_requests"] = bool(settings.DATABASES["default"].get("ATOMIC_REQUESTS"))
    found["audit_checked"] = connection.vendor == "postgresql"
    if summaries:
        found["summary_differences"] = summary_differences()
    return found


def problems_of(found):
    """The report's failures as sentences (none when the database is as the users were told)."""
    labels = {
        "saved_missing": "提示已保存、数据库中却没有的走访",
        "told_failed_but_stored": "提示保存失败、数据库中却有的走访",
        "unexpected_answers": "得到意外应答的走访",
        "stored_twice": "保存了两次的走访",
        "stored_unreported": "数据库中有、客户端却没有提交记录的走访",
        "half_written": "不完整的走访",
    }
    problems = [
        f"{label}:{len(found[key])} 条,如 {found[key][:3]}"
        for key, label in labels.items()
        if found.get(key)
    ]
    if not found.get("atomic_requests"):
        problems.append("ATOMIC_REQUESTS 没有开启:一个请求的写入不在一个事务中")
    for name, rows in (found.get("summary_differences") or {}).items():
        if rows:
            problems.append(f"走访汇总 {name} 与重建结果不一致:{rows[:3]}")
    return problems


def read_outcomes(path):
    if not path or not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load.checks")
    parser.add_argument("--run", required=True, help="本次运行的标记(LOAD_RUN_ID)。")
    parser.add_argument("--visits", required=True, help="locustfile 写出的走访结果(JSON 行)。")
    parser.add_argument("--summaries", action="store_true", help="另与重建的走访汇总比较。")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changning_aid.settings")
    import django

    django.setup()
    found = report(read_outcomes(args.visits), args.run, summaries=args.summaries)
    print(json.dumps(found, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
