"""The load and fault tests' own parts, so that `make load` and `make fault` cannot rot.

No server and no locust here: the simulated users' steps (`benchmarks.load.workload`) run
against the application through Django's test client, logging in through the login form
(with the authenticator's code for bureau staff) and doing every action of their role; the
checks of the register, the reading of locust's statistics, the README's blocks and the
fault test's judgement run on data made here.
"""

import ast
import datetime
import json
import random
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP

from advisors.tests.factories import make_advisor
from benchmarks.load import checks, fault, mix, setup, stats, workload
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point, make_committee, make_district, make_street
from visits import summaries
from visits.models import PersonMonth, Visit
from visits.tests.factories import make_visit

LOAD_DIR = Path(__file__).resolve().parents[1] / "load"


# The mix and the authenticator's code ---------------------------------------------------------


def test_fifty_users_are_shared_out_and_each_gets_a_login_of_its_own():
    counts = mix.role_counts(50)
    assert counts == {mix.BUREAU: 5, mix.STREET_MANAGER: 10, mix.ADVISOR: 35}
    assert sum(mix.role_counts(7).values()) == 7
    for role in mix.ROLES:
        assert mix.LOGINS_PER_ROLE[role] >= counts[role]
    # Advisors log visits; nobody else writes.
    assert {a for role in mix.ROLES for a in mix.ACTIONS[role] if a in mix.WRITES} == {
        "record_visit"
    }
    assert "record_visit" in mix.ACTIONS[mix.ADVISOR]


def test_the_code_is_the_one_the_authenticator_shows():
    # RFC 6238's test vector (HMAC-SHA1, 8 digits, at 59 s) ...
    key = b"12345678901234567890".hex()
    assert workload.totp(key, 59, digits=8) == "94287082"
    # ... and django-otp's own computation of a device's code, for a device's 20-byte key.
    device_key = "3a1f5e0c9b7d2468ace013579bdf02468ace1357"
    for moment in (1_700_000_000, 1_800_000_015, 1_900_000_029):
        expected = TOTP(bytes.fromhex(device_key), step=30, t0=0, digits=6)
        expected.time = moment
        assert workload.totp(device_key, moment) == f"{expected.token():06d}"


def test_a_second_login_within_the_same_step_waits_for_the_next_code():
    slept = []
    clock = [1_700_000_010.0]  # the first second of a 30-second step

    def sleep(seconds):
        slept.append(seconds)
        clock[0] += seconds

    visitor = workload.Visitor(
        {"username": "x", "role": mix.BUREAU, "totp_key": "00" * 20, "pages": {}},
        {},
        http=None,
        sleep=sleep,
        clock=lambda: clock[0],
    )
    first = visitor.code()
    assert slept == []
    second = visitor.code()
    assert slept == [pytest.approx(30.1)]
    assert first == workload.totp("00" * 20, 1_700_000_010)
    assert second == workload.totp("00" * 20, 1_700_000_040) != first


# A visit's outcome as the user reads it --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "text", "outcome"),
    [
        (200, "<p data-desk-message>已记录:张三 11月20日 上门走访</p>", workload.SAVED),
        (200, "<p data-desk-message></p>", workload.UNEXPECTED),
        (400, "<ul class='errorlist'>…</ul>", workload.REFUSED),
        (500, "<h1>系统出错</h1>", workload.FAILED),
        (0, "", workload.NO_ANSWER),
        (302, "", workload.UNEXPECTED),
    ],
)
def test_what_the_user_was_told_of_a_visit(status, text, outcome):
    assert workload.visit_outcome(workload.Reply(status, text)) == outcome


# The simulated users against the application ---------------------------------------------------


def client_http(client, failures):
    """`workload`'s HTTP through Django's test client; failed expectations go to `failures`."""

    def http(method, path, *, name, data=None, headers=None, expect):
        if method == "GET":
            response = client.get(path, headers=headers or {})
        else:
            response = client.post(path, data=data, headers=headers or {})
        reply = workload.Reply(
            status=response.status_code,
            text=response.content.decode(),
            location=response.get("Location", ""),
        )
        problem = expect(reply)
        if problem:
            failures.append((name, problem))
        return reply

    return http


@pytest.fixture
def network(db):
    """Two streets of 长宁区, each with a committee point, its advisor and three current
    recipients in the advisor's charge; this month's summaries made, as the daily job does."""
    summaries.ensure_month()
    district = make_district()
    since = timezone.localdate() - datetime.timedelta(days=60)
    people = {}
    for code, name in (("310105001", "华阳路街道"), ("310105002", "江苏路街道")):
        street = make_street(district, name, code)
        committee = make_committee(street)
        advisor = make_advisor(street, [committee_point(committee)])
        people[advisor] = [
            make_recipient(committee, advisor=advisor, current_from=since) for _ in range(3)
        ]
    return SimpleNamespace(district=district, people=people)


class _NeverFailing(random.Random):
    """Draws like a seeded Random, except that the 5% chance of a failed visit never comes."""

    def random(self):
        return 0.5


def visitor_of(plan, login, failures, outcomes, run_id, rng=None):
    return workload.Visitor(
        login,
        plan,
        client_http(Client(enforce_csrf_checks=True), failures),
        run_id=run_id,
        on_visit=outcomes.append,
        rng=rng or random.Random(10),
    )


def test_every_role_logs_in_and_does_every_action_of_its_mix(network, settings):
    settings.OTP_REQUIRED_ROLES = ["bureau"]
    plan = setup.build_plan("Ld-test-Password-7q", counts={role: 2 for role in mix.ROLES})
    roles = [login["role"] for login in plan["logins"]]
    assert roles.count(mix.BUREAU) == roles.count(mix.STREET_MANAGER) == 2
    assert roles.count(mix.ADVISOR) == 2  # the two advisors on duty with people in charge
    outcomes = []
    for login in plan["logins"]:
        assert bool(login["totp_key"]) == (login["role"] == mix.BUREAU)
        assert set(login["pages"]) == set(mix.ACTIONS[login["role"]])
        failures = []
        visitor = visitor_of(plan, login, failures, outcomes, "t1")
        assert visitor.log_in(), failures
        for action in mix.ACTIONS[login["role"]]:
            getattr(visitor, f"do_{action}", visitor.do_page)(action)
        assert failures == [], login["username"]
        assert visitor.logged_in
    assert [o["outcome"] for o in outcomes] == [workload.SAVED, workload.SAVED]
    found = checks.report(outcomes, "t1", summaries=True)
    assert found["stored"] == 2
    assert checks.problems_of(found) == []


def test_the_demo_logins_are_deactivated_and_the_load_logins_kept_apart(network):
    from accounts.choices import Role
    from stations.tests.factories import make_user

    make_user("bureau", Role.BUREAU, district=network.district)
    make_user("advisor_310105001001", Role.ADVISOR)
    kept = make_user("load_elsewhere", Role.BUREAU, district=network.district)
    assert setup.deactivate_demo_logins() == 2
    kept.refresh_from_db()
    assert kept.is_active


# The register against what the users were told --------------------------------------------------


def _told(marker, outcome):
    return {"marker": marker, "outcome": outcome}


def test_the_checks_find_a_visit_the_user_was_told_wrongly_of(network):
    plan = setup.build_plan(
        "Ld-test-Password-7q", counts={mix.BUREAU: 0, mix.STREET_MANAGER: 0, mix.ADVISOR: 1}
    )
    failures, outcomes = [], []
    # A completed visit, so the month summary must count it (a failed one is left out of it).
    visitor = visitor_of(plan, plan["logins"][0], failures, outcomes, "t2", _NeverFailing(10))
    assert visitor.log_in()
    assert visitor.do_record_visit("record_visit") == workload.SAVED, failures
    saved = outcomes[0]["marker"]
    assert saved == "t2-load_advisor_01-1-1"
    told = [_told(saved, workload.SAVED), _told("t2-x-9", workload.FAILED)]
    assert checks.problems_of(checks.report(told, "t2")) == []

    # Told it failed, yet it is there; told it was saved, yet it is not.
    told = [_told(saved, workload.FAILED), _told("t2-x-9", workload.SAVED)]
    found = checks.compare(told, "t2")
    assert found["told_failed_but_stored"] == [saved]
    assert found["saved_missing"] == ["t2-x-9"]
    assert checks.compare([], "t2")["stored_unreported"] == [saved]

    # A visit without its number, its recorder or its month summary is half-written.
    visit = Visit.objects.get(findings=f"负载测试 {saved}")
    make_visit(visit.recipient, visit.advisor, visit.visited_on, findings="负载测试 t3-a-1")
    Visit.objects.filter(findings="负载测试 t3-a-1").update(visit_number="")
    problems = checks.half_written("t3")
    assert any("走访编号" in problem for problem in problems)
    assert any("录入人" in problem for problem in problems)
    assert checks.half_written("t2") == []
    PersonMonth.objects.filter(recipient=visit.recipient).delete()
    assert any("月度走访汇总" in problem for problem in checks.half_written("t2"))


# Locust's figures and the README -----------------------------------------------------------------


def _entry(method, name, times, failures=0, start=1000.0, last=1060.0):
    """An entry of locust's --json-file: `times` {rounded ms: count}."""
    return {
        "name": name,
        "method": method,
        "start_time": start,
        "last_request_timestamp": last,
        "num_requests": sum(times.values()),
        "num_none_requests": 0,
        "num_failures": failures,
        "total_response_time": sum(ms * n for ms, n in times.items()),
        "max_response_time": max(times, default=0) + 0.4,
        "min_response_time": min(times, default=None),
        "total_content_length": 0,
        "response_times": {str(ms): n for ms, n in times.items()},
        "num_reqs_per_sec": {},
        "num_fail_per_sec": {},
    }


def test_locusts_figures_are_read_back_and_merged(tmp_path):
    path = tmp_path / "locust.json"
    entries = [
        # 100 desk pages: 90 at 80 ms, 8 at 200 ms, 2 at 600 ms.
        _entry("GET", "advisor:desk", {80: 90, 200: 8, 600: 2}, start=1000.0, last=1050.0),
        _entry("POST", "advisor:record_visit", {120: 19, 900: 1}, failures=1),
        # 10 logins of 3 seconds, all at the start.
        _entry("POST", "advisor:login", {3000: 10}, start=1000.0, last=1005.0),
    ]
    path.write_text(json.dumps(entries), encoding="utf-8")
    rows = stats.read_stats(path)
    assert [row.name for row in rows] == [
        "advisor:desk",
        "advisor:login",
        "advisor:record_visit",
        stats.TOTAL_BUT_LOGINS,
        stats.TOTAL,
    ]
    desk = rows[0]
    assert (desk.requests, desk.p50_ms, desk.p95_ms, desk.p99_ms, desk.max_ms) == (
        100,
        80,
        200,
        600,
        600.4,
    )
    assert desk.average_ms == round((90 * 80 + 8 * 200 + 2 * 600) / 100, 1)
    everything = stats.total(rows)
    assert (everything.requests, everything.failures) == (130, 1)
    assert everything.rps == round(130 / 60, 2)  # over the whole run, 1000 s to 1060 s
    # 130 requests: the 10 logins are the slowest 7.7 %, so they make the 95th percentile.
    assert (everything.p50_ms, everything.p95_ms, everything.p99_ms) == (80, 3000, 3000)
    pages = stats.total(rows, stats.TOTAL_BUT_LOGINS)
    assert (pages.requests, pages.p50_ms, pages.p95_ms, pages.p99_ms) == (120, 80, 200, 600)
    table = stats.requests_table(rows)
    assert table[-1] == "| **合计** | 130 | 1 | 2.17 | 332.2 | 80 | 3000 | 3000 | 3000.4 |"
    assert table[4].startswith("| `POST advisor:record_visit` | 20 | 1 |")


def test_percentiles_follow_locusts_rule():
    from collections import Counter

    # What locust.stats.calculate_response_time_percentile answers for these histograms.
    assert stats.percentile(Counter(), 0.5) is None
    assert stats.percentile(Counter({10: 1}), 0.99) == 10
    assert stats.percentile(Counter({10: 50, 20: 50}), 0.5) == 20
    assert stats.percentile(Counter({10: 51, 20: 49}), 0.5) == 10
    assert stats.percentile(Counter({10: 95, 20: 4, 30: 1}), 0.95) == 20
    assert stats.percentile(Counter({10: 96, 20: 3, 30: 1}), 0.95) == 10


def test_the_settled_figures_leave_out_the_burst_of_logins():
    def request(start, ms, name="advisor:desk", failed=False):
        return {"start": start, "end": start + ms / 1000, "name": name, "failed": failed}

    requests = [request(0.0, 300, "advisor:login_page"), request(0.3, 2500, "advisor:login")]
    requests += [request(1.0, 1800)]  # queued behind the logins
    requests += [request(3.0 + n, 100 + n) for n in range(20)]
    requests += [request(30.0, 900, failed=True)]
    figures = stats.settled(requests)
    assert figures["from_seconds"] == 2.8
    assert figures["requests"] == 21 and figures["failures"] == 1
    # 21 times: 100 … 119 ms and 900 ms; nearest rank.
    assert (figures["p50_ms"], figures["p95_ms"], figures["p99_ms"]) == (110, 119, 900)
    assert figures["max_ms"] == 900
    assert stats.settled([]) is None


def test_failed_requests_are_grouped():
    requests = [
        {"method": "GET", "name": "advisor:desk", "error": "HTTP 500", "failed": True},
        {"method": "GET", "name": "advisor:desk", "error": "HTTP 500", "failed": True},
        {"method": "GET", "name": "advisor:desk", "error": "", "failed": False},
        {"method": "POST", "name": "bureau:login", "error": "没有应答", "failed": True},
    ]
    assert stats.failures_of(requests) == [
        {"method": "GET", "name": "advisor:desk", "error": "HTTP 500", "count": 2},
        {"method": "POST", "name": "bureau:login", "error": "没有应答", "count": 1},
    ]


def test_the_readme_blocks_are_replaced_and_nothing_else(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("前言\n<!-- load:start -->\n旧\n<!-- load:end -->\n后记\n", encoding="utf-8")
    stats.update_readme("load", "新的结果", readme)
    assert readme.read_text(encoding="utf-8") == (
        "前言\n<!-- load:start -->\n新的结果\n<!-- load:end -->\n后记\n"
    )
    with pytest.raises(ValueError):
        stats.update_readme("fault", "x", readme)
    # The project's README has both blocks, so `make load` and `make fault` can fill them.
    text = stats.README_FILE.read_text(encoding="utf-8")
    for block in ("load", "fault"):
        assert f"<!-- {block}:start -->" in text and f"<!-- {block}:end -->" in text


# The fault test's judgement -------------------------------------------------------------------

TIMELINE = {"stop": 100.0, "stopped": 100.5, "start": 105.5, "started": 106.0}


def _request(start, status=200, failed=False, error_page=False, name="advisor:desk"):
    return {
        "start": start,
        "end": start + 0.1,
        "name": name,
        "status": status,
        "failed": failed,
        "error_page": error_page,
    }


def _healthy_run():
    requests = [_request(t) for t in range(90, 100)]
    requests += [_request(t + 0.2, 500, True, True) for t in range(100, 106)]
    requests += [_request(t) for t in range(107, 150)]
    probes = [(t / 4, t / 4 + 0.01, 200, False) for t in range(360, 400)]
    probes += [(t / 4, t / 4 + 0.01, 500, True) for t in range(402, 422)]
    probes += [(t / 4, t / 4 + 0.01, 200, False) for t in range(425, 600)]
    return requests, probes


def test_a_run_that_recovers_passes_the_fault_test():
    requests, probes = _healthy_run()
    found, problems = fault.judge(requests, probes, TIMELINE, [11, 12], [11, 12], 2)
    assert problems == []
    assert found["failed_during"] == found["error_pages"] == 6
    assert found["recovery_seconds"] == 0.26
    assert found["outage_error_pages"] == 20


def test_the_fault_test_fails_on_what_production_could_not_bear():
    requests, probes = _healthy_run()
    # A failure long after the database came back, an error answer that is not the error
    # page, a request that got no answer, and a worker that was replaced.
    requests += [_request(140, 500, True, True), _request(103, 502, True, False)]
    requests += [_request(104, 0, True)]
    found, problems = fault.judge(requests, probes, TIMELINE, [11, 12], [11, 13], 3)
    assert found["failed_after"] == 1
    assert len(problems) == 5
    # Never back, or back too late.
    late = [p for p in probes if p[0] < 106] + [(137.0, 137.1, 200, False)]
    assert any("才恢复正常" in p for p in fault.judge([], late, TIMELINE, [1], [1], 1)[1])
    never = [p for p in probes if p[0] < 106]
    assert any("一直没有恢复" in p for p in fault.judge([], never, TIMELINE, [1], [1], 1)[1])


# The locustfile itself ------------------------------------------------------------------------


def test_the_locustfile_gives_each_role_of_the_mix_its_user_class():
    """Read without importing locust (it lives in .venv-load, outside `make test`): one
    concrete user class per role of the mix, weighted as the mix says, on the abstract one."""
    tree = ast.parse((LOAD_DIR / "locustfile.py").read_text(encoding="utf-8"))
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    concrete = {
        name: node
        for name, node in classes.items()
        if [base.id for base in node.bases if isinstance(base, ast.Name)] == ["LoadUser"]
    }

    def assigned(node, name):
        for statement in node.body:
            if isinstance(statement, ast.Assign) and statement.targets[0].id == name:
                return ast.unparse(statement.value)
        return None

    assert assigned(classes["LoadUser"], "abstract") == "True"
    roles = {assigned(node, "role") for node in concrete.values()}
    assert roles == {f"mix.{name}" for name in ("BUREAU", "STREET_MANAGER", "ADVISOR")}
    assert set(mix.ROLE_WEIGHTS) == {mix.BUREAU, mix.STREET_MANAGER, mix.ADVISOR}
    for node in concrete.values():
        assert assigned(node, "weight") == f"mix.ROLE_WEIGHTS[{assigned(node, 'role')}]"


def test_a_run_ends_with_its_results_its_readme_block_and_its_status(monkeypatch, capsys):
    written, blocks = [], []
    monkeypatch.setattr(stats, "write_results", lambda doc, name: written.append(name) or "f")
    monkeypatch.setattr(stats, "update_readme", lambda name, text: blocks.append((name, text)))
    common = {"directory": "d", "summary": "概要", "readme": "表", "passed": "通过。"}

    assert stats.report("fault", {}, [], update=True, **common) == 0
    assert stats.report("load", {}, ["有失败的请求"], update=False, **common) == 1
    assert written == ["fault", "load"] and blocks == [("fault", "表")]
    out = capsys.readouterr().out
    assert "已更新 README.md 中的故障测试结果" in out and "- 有失败的请求" in out
