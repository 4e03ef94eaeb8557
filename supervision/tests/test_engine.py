"""The compliance engine and `manage.py compliance --json` on a district built case by case:
every rule's figure for each street, its offenders, and the same numbers as the rule's own
module gives (rules are registered, not rewritten)."""

import datetime
import io
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor, make_training
from cases.models import CurrentPeriod
from cases.tests.factories import make_need, make_recipient
from stations.choices import StationStatus
from stations.models import Station
from stations.tests.factories import committee_point, make_district, make_street, street_station
from supervision import engine
from supervision.tests.inspection_factories import make_order
from visits.tests.factories import make_visit

D = datetime.date
OCT = "2026-10"


@pytest.fixture
def world(two_streets):
    """Street A (two committees) and street B (one), judged for October 2026.

    A: street station with a standard plaque and full facilities, 2 advisors (one 待备案,
       one without a badge); committee point 1 with 1 advisor, point 2 without; a street
       training in 2026; two people due in October, one visited; an order closed in time.
    B: street station paused (C1), plaque wrong, no facilities; point with no advisor;
       one person due and not visited; an order past its deadline and still open.
    """
    w = two_streets
    a_station, b_station = street_station(w.street_a), street_station(w.street_b)
    a_point, a_point2 = (committee_point(c) for c in w.committees_a)
    b_point = committee_point(w.committees_b[0])
    Station.objects.filter(pk=a_station.pk).update(
        signboard_name=a_station.name,
        has_unified_logo=True,
        workspace_m2=Decimal("30"),
        desk_sets=3,
        computers=2,
        has_internet=True,
    )
    Station.objects.filter(pk=b_station.pk).update(status=StationStatus.SUSPENDED)
    adv1 = make_advisor(
        w.street_a,
        [a_station, a_point],
        uniform_issued_on=D(2024, 1, 1),
        badge_issued_on=D(2024, 1, 1),
    )
    adv2 = make_advisor(
        w.street_a, [a_station], filing_status=FilingStatus.PENDING, uniform_issued_on=D(2024, 1, 1)
    )
    make_training(street=w.street_a, date=D(2026, 3, 3), attendees=[adv1])
    due_visited = make_recipient(w.committees_a[0], advisor=adv1, current_from=D(2026, 1, 1))
    due_missed = make_recipient(w.committees_a[1], advisor=adv1, current_from=D(2026, 1, 1))
    make_recipient(w.committees_a[0], advisor=adv1, current_from=D(2026, 10, 25))  # not due
    make_visit(due_visited, adv1, D(2026, 10, 9))
    b_person = make_recipient(w.committees_b[0], current_from=D(2026, 1, 1))
    make_need(due_visited)
    make_order(w.street_a, by=w.bureau, deadline=D(2026, 10, 20), closed_on=D(2026, 10, 18))
    make_order(w.street_b, by=w.bureau, deadline=D(2026, 10, 10))
    w.people = (due_visited, due_missed, b_person)
    w.advisors = (adv1, adv2)
    w.points = (a_point, a_point2, b_point)
    return w


def run_json(*args):
    out = io.StringIO()
    call_command("compliance", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def test_compliance_json_gives_each_rule_for_each_street(world):
    data = run_json("--period", OCT)
    assert data["period"] == OCT
    streets = {street["code"]: street["rules"] for street in data["streets"]}
    a, b = streets[world.street_a.code], streets[world.street_b.code]
    figures = {rid: (r["covered"], r["total"]) for rid, r in a.items()}
    assert figures["C1"] == (1, 1) and (b["C1"]["covered"], b["C1"]["total"]) == (0, 1)
    assert figures["C2"] == (2, 2)
    # C3: A's street station has the plaque, its two points do not; B's station is paused.
    assert figures["C3"] == (1, 3)
    assert figures["C4"] == (1, 1) and b["C4"]["total"] == 0
    assert figures["C5"] == (1, 1)
    assert figures["C6"] == (1, 2) and (b["C6"]["covered"], b["C6"]["total"]) == (0, 1)
    assert figures["C7"] == (1, 2)
    assert figures["C8"] == (1, 1) and not b["C8"]["passed"]
    assert figures["C9"] == (1, 2) and (b["C9"]["covered"], b["C9"]["total"]) == (0, 1)
    assert figures["C11"] == (1, 2)
    assert figures["C12"] == (1, 1) and (b["C12"]["covered"], b["C12"]["total"]) == (0, 1)
    assert a["C1"]["passed"] and not b["C1"]["passed"]
    assert a["C9"]["value"] == 50.0 and a["C9"]["target"] == 100
    # Offenders, by their stable keys.
    assert b["C1"]["offenders"] == [{"code": world.street_b.code, "name": world.street_b.name}]
    missed = world.people[1]
    assert a["C9"]["offenders"] == [
        {
            "month": OCT,
            "file_number": missed.file_number,
            "committee": world.committees_a[1].code,
            "street": world.street_a.code,
        }
    ]
    assert [row["advisor_number"] for row in a["C7"]["offenders"]] == [
        world.advisors[1].advisor_number
    ]
    assert [row["id"] for row in a["C6"]["offenders"]] == [world.points[1].pk]
    assert b["C12"]["offenders"][0]["deadline"] == "2026-10-10"
    # The district adds the streets up.
    district = data["district"]["rules"]
    assert (district["C9"]["covered"], district["C9"]["total"]) == (1, 3)
    assert (district["C1"]["covered"], district["C1"]["total"]) == (1, 2)
    assert data["district"]["code"] == world.district.code
    assert "L1" in district and district["L1"]["advice"] is True


def test_quarters_and_years_add_up_c9_months(world):
    quarter = run_json("--period", "2026Q4")
    year = run_json("--period", "2026")
    october = run_json("--period", OCT)
    q = quarter["district"]["rules"]["C9"]
    assert q["total"] >= october["district"]["rules"]["C9"]["total"]
    # January–October 2026, three people current all year: 30 person-months, one visit.
    y = year["district"]["rules"]["C9"]
    assert y["total"] >= 30 and y["covered"] == 1


def test_the_street_flag_narrows_and_bad_flags_are_refused(world):
    data = run_json("--period", OCT, "--street", world.street_b.code)
    assert [street["code"] for street in data["streets"]] == [world.street_b.code]
    assert data["district"]["scope"] == "street"
    assert data["district"]["rules"]["C9"]["total"] == 1
    for args, message in (
        (("--period", "2026-13"), "统计期"),
        (("--period", OCT, "--street", "999999999"), "没有代码"),
        (("--period", OCT, "--district", "000000"), "没有代码"),
    ):
        with pytest.raises(CommandError, match=message):
            run_json(*args)


def test_several_districts_need_the_district_flag(world):
    other = make_district("310104", "徐汇区")
    make_street(other, "天平路街道", "310104003")
    # The only bureau's district is still found (bureau_t works in 长宁区).
    assert run_json("--period", OCT)["district"]["code"] == world.district.code
    world.bureau.is_active = False
    world.bureau.save()
    with pytest.raises(CommandError, match="--district"):
        run_json("--period", OCT)
    assert run_json("--period", OCT, "--district", "310104")["district"]["name"] == "徐汇区"


def test_the_engine_reads_the_rules_own_modules(world):
    from cases.checklists import C10
    from supervision.staffing_rules import C6
    from visits import coverage
    from visits.models import VisitPolicy

    period = engine.parse_period(OCT)
    result = engine.evaluate(world.district, period, today=D(2026, 11, 30))
    c6 = C6.evaluate(Station.objects.for_district(world.district.pk), D(2026, 10, 31))
    assert (result.outcomes["C6"].covered, result.outcomes["C6"].total) == (c6.covered, c6.total)
    c10 = C10.evaluate(
        world.district.streets.all()
        if hasattr(world.district, "streets")
        else type(world.street_a).objects.filter(district=world.district),
        D(2026, 10, 1),
        D(2026, 10, 31),
    )
    assert (result.outcomes["C10"].covered, result.outcomes["C10"].total) == (
        c10.covered,
        c10.total,
    )
    from cases.models import Recipient

    c9 = coverage.month_figures(Recipient.objects.all(), D(2026, 10, 1), VisitPolicy())
    assert (result.outcomes["C9"].covered, result.outcomes["C9"].total) == (c9.visited, c9.due)


def test_l1_flags_a_point_far_above_the_median(world):
    a_point, _a_point2, _b_point = world.points
    adv1, _adv2 = world.advisors
    # Four more points with one advisor and one current person each; point A1 gets 10.
    street = world.street_a
    for index in range(4):
        from stations.tests.factories import make_committee

        committee = make_committee(street, f"新{index}居委会", f"31010500110{index}")
        make_advisor(street, [committee_point(committee)])
        make_recipient(committee, current_from=D(2026, 1, 1))
    for _index in range(9):
        make_recipient(world.committees_a[0], current_from=D(2026, 1, 1))
    result = engine.evaluate(world.district, engine.parse_period(OCT), today=D(2026, 11, 30))
    l1 = result.outcomes["L1"]
    flagged = l1.offender_rows()
    assert [row["id"] for row in flagged] == [a_point.pk]
    assert flagged[0]["current_recipients"] == 11 and flagged[0]["district_median"] == 1.0
    assert l1.total == 5 and l1.covered == 4
    # The city-wide run reads the committees' current people once for every district.
    counts = engine.city_current_counts()
    with CaptureQueriesContext(connection) as first:
        shared = engine.evaluate(
            world.district, engine.parse_period(OCT), today=D(2026, 11, 30), current_counts=counts
        )
    with CaptureQueriesContext(connection) as second:
        engine.evaluate(
            world.district, engine.parse_period(OCT), today=D(2026, 11, 30), current_counts=counts
        )
    assert len(second) == len(first) - 1
    assert shared.outcomes["L1"].offender_rows() == flagged
    assert (shared.outcomes["L1"].covered, shared.outcomes["L1"].total) == (4, 5)


def test_the_engine_runs_a_fixed_number_of_queries(world):
    period = engine.parse_period(OCT)

    def count():
        with CaptureQueriesContext(connection) as queries:
            engine.evaluate(world.district, period, today=D(2026, 11, 30), street_offenders=False)
        return len(queries)

    small = count()
    for _index in range(20):
        person = make_recipient(world.committees_a[0], current_from=D(2026, 1, 1))
        make_visit(person, world.advisors[0], D(2026, 10, 3))
    CurrentPeriod.objects.count()
    assert count() == small


def test_one_grouped_query_gives_each_rule_for_the_district_and_its_streets(world):
    """The engine's one query per rule gives what the rule's own two queries give: each
    street's figure, and the district's, which also counts the rows of no street."""
    period = engine.parse_period(OCT)
    today = D(2026, 11, 30)
    grouped_rules = [rule for rule in engine.ENGINE_RULES.values() if rule.judge is not None]
    assert {"C1", "C3", "C10", "C12", "P1"} <= {rule.id for rule in grouped_rules}
    for rule in grouped_rules:
        scope = engine._scope_rows(rule, world.district, None)
        with CaptureQueriesContext(connection) as queries:
            whole, by_street = rule.judge(scope, period, today, engine.WITH_STREETS)
        assert len(queries) == 1, rule.id
        alone = rule.judge(scope, period, today, False)
        streets = rule.judge(scope, period, today, True)
        assert (whole.covered, whole.total) == (alone.covered, alone.total), rule.id
        assert {pk: (r.covered, r.total) for pk, r in by_street.items()} == {
            pk: (r.covered, r.total) for pk, r in streets.items() if pk is not None
        }, rule.id
        assert list(whole.offenders) == list(alone.offenders), rule.id
        if rule.id == "C3":
            # The district's guidance station belongs to no street: counted in the district.
            assert whole.total == sum(r.total for r in by_street.values()) + 1
            assert None not in by_street
