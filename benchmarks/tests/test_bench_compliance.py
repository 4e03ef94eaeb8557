"""The compliance jobs of the benchmark: the hand-written query counts as the engine does.

A small city of two districts judged for October 2026: in 长宁区 (its bureau excludes phone
calls, due from 15 days) two streets, people due and not due, visits that count and visits
that do not (a phone call, failed attempts, a withdrawn visit, visits outside the month);
in 徐汇区 (no policy saved: the defaults) a phone call counts. The query is PostgreSQL's.
"""

import datetime
import re
from decimal import Decimal
from pathlib import Path

import pytest

from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor
from benchmarks import Section, compliance_jobs
from cases.models import CurrentPeriod
from cases.tests.factories import make_recipient
from stations.choices import StationStatus
from stations.models import Station
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    street_station,
)
from visits import summaries
from visits.choices import VisitMethod, VisitResult
from visits.models import VisitPolicy
from visits.tests.factories import make_visit

D = datetime.date
OCT_FIRST, OCT_LAST = D(2026, 10, 1), D(2026, 10, 31)
NEW_YEAR = D(2026, 1, 1)
WITHDRAWN = {"withdrawn_at": datetime.datetime(2026, 10, 20, tzinfo=datetime.UTC)}


@pytest.fixture
def city(two_streets):
    w = two_streets
    VisitPolicy.objects.create(district=w.district, due_days=15, excluded_methods=["phone"])
    a_station, b_station = street_station(w.street_a), street_station(w.street_b)
    a_point = committee_point(w.committees_a[0])
    Station.objects.filter(pk=a_station.pk).update(
        signboard_name=a_station.name,
        has_unified_logo=True,
        workspace_m2=Decimal("25"),
        desk_sets=2,
        computers=1,
        has_internet=True,
    )
    Station.objects.filter(pk=b_station.pk).update(status=StationStatus.SUSPENDED)
    adviser = make_advisor(
        w.street_a,
        [a_station, a_point],
        uniform_issued_on=D(2024, 1, 1),
        badge_issued_on=D(2024, 1, 1),
    )
    make_advisor(w.street_a, [a_station], filing_status=FilingStatus.PENDING)
    make_advisor(w.street_a, [a_station], left_on=D(2026, 10, 31))  # gone on the judging day
    make_advisor(w.street_b, [committee_point(w.committees_b[0])], started_on=D(2026, 11, 2))
    b_adviser = make_advisor(w.street_b, [], filing_status=FilingStatus.REVOKED)

    def person(committee, current_from=NEW_YEAR):
        return make_recipient(committee, advisor=adviser, current_from=current_from)

    a1, a2 = w.committees_a
    home = person(a1)
    make_visit(home, adviser, D(2026, 10, 9))
    phone = person(a1)  # a phone call does not count in 长宁区
    make_visit(phone, adviser, D(2026, 10, 9), method=VisitMethod.PHONE)
    failed = person(a2)
    make_visit(failed, adviser, D(2026, 10, 3), result=VisitResult.NOBODY_HOME)
    make_visit(failed, adviser, D(2026, 10, 4), result=VisitResult.REFUSED)
    withdrawn = person(a2)
    make_visit(withdrawn, adviser, D(2026, 10, 5), withdraw_reason="录入有误", **WITHDRAWN)
    short = person(a1, current_from=D(2026, 10, 18))  # 14 days of October: not due
    make_visit(short, adviser, D(2026, 10, 20))
    exact = person(a1, current_from=D(2026, 10, 17))  # 15 days: due, visited out of the month
    make_visit(exact, adviser, D(2026, 9, 30))
    make_visit(exact, adviser, D(2026, 11, 1))
    two_periods = make_recipient(a2, advisor=adviser, current_from=D(2026, 10, 20))
    CurrentPeriod.objects.create(
        recipient=two_periods, starts_on=D(2026, 9, 1), ends_on=D(2026, 10, 8)
    )
    make_visit(two_periods, adviser, D(2026, 10, 21), method=VisitMethod.VIDEO)  # 8 + 12 days
    ended = make_recipient(a1, advisor=adviser, current_from=D(2026, 1, 1))
    CurrentPeriod.objects.filter(recipient=ended).update(ends_on=D(2026, 9, 30))
    summaries.refresh_people([ended.pk])  # a QuerySet.update sends no signal
    make_visit(ended, adviser, D(2026, 10, 2))
    make_recipient(a1)  # registered, never current

    b = w.committees_b[0]
    b_seen = make_recipient(b, current_from=D(2026, 1, 1))
    make_visit(b_seen, b_adviser, D(2026, 10, 1), method=VisitMethod.STATION)
    make_visit(b_seen, b_adviser, D(2026, 10, 31))  # twice in the month: once
    make_recipient(b, current_from=D(2026, 1, 1))  # due, not visited

    xuhui = make_district("310104", "徐汇区")
    x_street = make_street(xuhui, "天平路街道", "310104003")
    x_committee = make_committee(x_street, "天平居委会", "310104003001")
    make_committee(x_street, "宛平居委会", "310104003002", status=StationStatus.PLANNING)
    x_adviser = make_advisor(x_street, [street_station(x_street)])
    x_phone = make_recipient(x_committee, current_from=D(2026, 1, 1))
    make_visit(x_phone, x_adviser, D(2026, 10, 12), method=VisitMethod.PHONE)  # counts here
    make_recipient(x_committee, current_from=D(2026, 1, 1))
    w.xuhui, w.x_street = xuhui, x_street
    return w


@pytest.mark.postgres
def test_the_hand_written_query_counts_c9_as_the_engine_does(city):
    by_sql = compliance_jobs.sql_figures(OCT_FIRST, OCT_LAST)

    a = by_sql[("310105", city.street_a.code)]
    b = by_sql[("310105", city.street_b.code)]
    x = by_sql[("310104", city.x_street.code)]
    # 长宁区 A: home, phone, failed, withdrawn, exact and two_periods are due; home and
    # two_periods (a video call) visited. B: two due, one visited. 徐汇区: its phone call counts.
    assert a["C9"] == (2, 6)
    assert b["C9"] == (1, 2)
    assert x["C9"] == (1, 2)

    document = compliance_jobs.command_document("2026-10")
    engine_streets, engine_districts = compliance_jobs.command_figures(document)
    for key, figures in by_sql.items():
        assert figures["C9"] == engine_streets[key]["C9"], key
    assert engine_districts["310105"]["C9"] == (3, 8)
    assert compliance_jobs.differences(by_sql, document) == []


@pytest.mark.postgres
def test_the_hand_written_query_judges_the_status_rules_as_the_engine_does(city):
    by_sql = compliance_jobs.sql_figures(OCT_FIRST, OCT_LAST)

    a = by_sql[("310105", city.street_a.code)]
    b = by_sql[("310105", city.street_b.code)]
    x = by_sql[("310104", city.x_street.code)]
    assert (a["C1"], b["C1"], x["C1"]) == ((1, 1), (0, 1), (1, 1))
    assert (a["C2"], x["C2"]) == ((2, 2), (1, 2))
    assert a["C3"] == (1, 3)  # the street station's plaque; its two points have none
    assert (a["C4"], b["C4"]) == ((1, 1), (0, 0))
    # A's street station: the filed and the 待备案 advisor (the third left on the 31st).
    assert (a["C5"], a["C6"]) == ((1, 1), (1, 2))
    assert b["C6"] == (0, 1)  # its advisor starts in November
    assert (a["C7"], a["C11"]) == ((1, 2), (1, 2))
    assert b["C7"] == (0, 0)  # revoked, and not yet started: nobody active

    engine_streets, _districts = compliance_jobs.command_figures(
        compliance_jobs.command_document("2026-10")
    )
    assert by_sql == engine_streets


@pytest.mark.postgres
def test_the_job_measures_both_and_finds_them_equal(city):
    section = compliance_jobs.run(repeat=1, today=D(2026, 11, 15))

    assert isinstance(section, Section)
    assert section.failures == []
    assert set(section.jobs) == {"compliance.city_month", "compliance.hand_sql"}
    for figures in section.jobs.values():
        assert set(figures) == {"seconds", "peak_mb"}
        assert figures["seconds"] > 0
    header, city_row, sql_row, *notes = section.lines
    assert header.split() == ["作业", "秒", "峰值MB", "与手写SQL之比", "目标"]
    assert city_row.startswith("compliance.city_month") and "1.5 × 手写SQL" in city_row
    assert sql_row.startswith("compliance.hand_sql")
    assert "2 个区 3 个街镇" in notes[0] and "一致" in notes[0]


@pytest.mark.postgres
def test_a_figure_the_engine_gives_otherwise_is_a_failure_in_chinese(city):
    by_sql = compliance_jobs.sql_figures(OCT_FIRST, OCT_LAST)
    document = compliance_jobs.command_document("2026-10")
    changning = next(d for d in document["districts"] if d["district"]["code"] == "310105")
    street = next(s for s in changning["streets"] if s["code"] == city.street_a.code)
    street["rules"]["C9"]["covered"] = 6

    # The street's figure differs; the district's (3/8) is still the sum of the query's.
    assert compliance_jobs.differences(by_sql, document) == [
        f"街镇 {city.street_a.code} C9:手写SQL 2/6,compliance --json 6/6"
    ]
    changning["streets"].remove(street)
    assert compliance_jobs.differences(by_sql, document)[0] == (
        f"街镇 {city.street_a.code}(310105):手写SQL有此街镇,compliance --json 没有"
    )


@pytest.mark.postgres
def test_many_differences_are_listed_up_to_twenty_and_counted(city, monkeypatch):
    found = [f"街镇 310105{n:03d} C9:手写SQL 1/1,compliance --json 0/1" for n in range(25)]
    monkeypatch.setattr(compliance_jobs, "differences", lambda by_sql, document: found)

    section = compliance_jobs.run(repeat=1, today=D(2026, 11, 15))

    assert section.failures == [f"compliance:{text}" for text in found[:20]] + [
        "compliance:另有 5 处不一致"
    ]
    assert "25 处不一致" in section.lines[3]


def test_the_query_reads_base_tables_only():
    text = compliance_jobs.sql_text()
    tables = set(re.findall(r"\b(?:FROM|JOIN)\s+([a-z_0-9]+)", text))
    ctes = set(re.findall(r"\b([a-z_0-9]+) AS \(", text))
    assert tables - ctes == {
        "stations_district",
        "stations_street",
        "stations_committee",
        "stations_station",
        "advisors_advisor",
        "advisors_advisorstation",
        "cases_recipient",
        "cases_currentperiod",
        "visits_visit",
        "visits_visitpolicy",
    }


def test_the_last_complete_month_is_the_one_before_today():
    assert compliance_jobs.last_complete_month(D(2026, 12, 1)) == (D(2026, 11, 1), D(2026, 11, 30))
    assert compliance_jobs.last_complete_month(D(2026, 3, 31)) == (D(2026, 2, 1), D(2026, 2, 28))
    assert compliance_jobs.last_complete_month(D(2027, 1, 9)) == (D(2026, 12, 1), D(2026, 12, 31))


def test_the_readme_prints_the_query_the_benchmark_runs():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert compliance_jobs.sql_text().strip() in readme
