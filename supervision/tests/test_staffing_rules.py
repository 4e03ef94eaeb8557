"""C5, C6, C7, C8 and C11 from exact cases (DOMAIN.md, "How the rules are judged")."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisors.choices import FilingStatus, TrainingKind
from advisors.models import Advisor
from advisors.tests.factories import make_advisor, make_training
from stations.choices import StationStatus
from stations.models import Station, Street
from stations.tests.factories import committee_point, make_committee, street_station
from supervision.staffing_rules import C5, C6, C7, C8, C11, RULES

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 6, 30)
LAST_WEEK = DAY - datetime.timedelta(days=7)


def names(rows):
    return [row.name for row in rows]


def test_c5_street_station_needs_two_active_advisors(two_streets):
    station_a = street_station(two_streets.street_a)
    station_b = street_station(two_streets.street_b)
    make_advisor(two_streets.street_a, [station_a])
    make_advisor(two_streets.street_b, [station_b])
    make_advisor(two_streets.street_b, [station_b], left_on=LAST_WEEK, leave_reason="调离")

    result = C5.evaluate(Station.objects.all(), on=DAY)

    assert (result.covered, result.total) == (0, 2)
    assert names(result.offenders) == [station_a.name, station_b.name]

    make_advisor(two_streets.street_a, [station_a])
    result = C5.evaluate(Station.objects.all(), on=DAY)
    assert (result.covered, result.total) == (1, 2)
    assert names(result.offenders) == [station_b.name]
    # Before the second advisor of street B left, B was staffed too.
    assert (
        C5.evaluate(Station.objects.all(), on=LAST_WEEK - datetime.timedelta(days=1)).covered == 2
    )


def test_a_revoked_advisor_is_not_active_and_not_counted(two_streets):
    station = street_station(two_streets.street_a)
    make_advisor(two_streets.street_a, [station], name="已备案")
    revoked = make_advisor(
        two_streets.street_a, [station], name="已注销", filing_status=FilingStatus.REVOKED
    )

    scope = Station.objects.filter(street=two_streets.street_a)
    assert C5.evaluate(scope, on=DAY).covered == 0
    c7 = C7.evaluate(Advisor.objects.all(), on=DAY)
    assert (c7.covered, c7.total) == (1, 1)
    assert revoked not in c7.offenders


def test_a_pending_advisor_counts_for_staffing_but_fails_c7(two_streets):
    station = street_station(two_streets.street_a)
    make_advisor(two_streets.street_a, [station], name="已备案")
    make_advisor(two_streets.street_a, [station], name="待备案", filing_status=FilingStatus.PENDING)
    make_advisor(
        two_streets.street_a,
        name="已离岗待备案",
        filing_status=FilingStatus.PENDING,
        left_on=LAST_WEEK,
        leave_reason="退休",
    )

    assert C5.evaluate(Station.objects.filter(street=two_streets.street_a), on=DAY).passed
    c7 = C7.evaluate(Advisor.objects.all(), on=DAY)
    assert (c7.covered, c7.total) == (1, 2)
    assert names(c7.offenders) == ["待备案"]


def test_c6_committee_point_and_an_advisor_serving_two_points_counts_at_both(two_streets):
    point_1 = committee_point(two_streets.committees_a[0])
    point_2 = committee_point(two_streets.committees_a[1])
    point_b = committee_point(two_streets.committees_b[0])
    make_advisor(two_streets.street_a, [point_1, point_2])
    make_committee(
        two_streets.street_a, "筹建居委会", "310105001009", status=StationStatus.PLANNING
    )

    result = C6.evaluate(Station.objects.all(), on=DAY)

    # The 筹建 point is C2's breach, not C6's: only running points are counted.
    assert (result.covered, result.total) == (2, 3)
    assert names(result.offenders) == [point_b.name]
    scoped = C6.evaluate(Station.objects.visible_to(two_streets.manager_a), on=DAY)
    assert (scoped.covered, scoped.total) == (2, 2)


def test_c8_a_street_whose_only_training_was_last_year_fails(two_streets):
    advisor_a = make_advisor(two_streets.street_a)
    advisor_b = make_advisor(two_streets.street_b)
    make_training(
        street=two_streets.street_a, date=datetime.date(2025, 12, 20), attendees=[advisor_a]
    )
    make_training(
        street=two_streets.street_b, date=datetime.date(2026, 3, 1), attendees=[advisor_b]
    )

    result = C8.evaluate(Street.objects.all(), on=DAY)

    assert (result.covered, result.total) == (1, 2)
    assert names(result.offenders) == ["华阳路街道"]


def test_c8_trainings_that_do_not_count(two_streets):
    advisor_a = make_advisor(two_streets.street_a)
    # Not professional; no attendee (only an absentee); after the judging day.
    make_training(
        street=two_streets.street_a,
        date=datetime.date(2026, 2, 1),
        kind=TrainingKind.OTHER,
        attendees=[advisor_a],
    )
    make_training(
        street=two_streets.street_a, date=datetime.date(2026, 2, 1), absentees=[advisor_a]
    )
    make_training(
        street=two_streets.street_a, date=datetime.date(2026, 7, 1), attendees=[advisor_a]
    )

    assert C8.evaluate(Street.objects.filter(pk=two_streets.street_a.pk), on=DAY).covered == 0
    assert (
        C8.evaluate(
            Street.objects.filter(pk=two_streets.street_a.pk), on=datetime.date(2026, 7, 1)
        ).covered
        == 1
    )


def test_c8_a_district_training_counts_for_the_streets_whose_advisors_attended(two_streets):
    advisor_a = make_advisor(two_streets.street_a)
    advisor_b = make_advisor(two_streets.street_b)
    make_training(
        district=two_streets.district,
        date=datetime.date(2026, 4, 1),
        attendees=[advisor_a],
        absentees=[advisor_b],
    )
    make_training(district=two_streets.district, date=datetime.date(2026, 5, 1))

    result = C8.evaluate(Street.objects.all(), on=DAY)

    assert (result.covered, result.total) == (1, 2)
    assert names(result.offenders) == ["江苏路街道"]


def test_c11_uniform_and_badge_issued_on_or_before_the_day(two_streets):
    make_advisor(
        two_streets.street_a, name="齐全", uniform_issued_on=LAST_WEEK, badge_issued_on=LAST_WEEK
    )
    make_advisor(two_streets.street_a, name="无胸牌", uniform_issued_on=LAST_WEEK)
    make_advisor(two_streets.street_a, name="无服装", badge_issued_on=LAST_WEEK)
    make_advisor(
        two_streets.street_a,
        name="明天发",
        uniform_issued_on=DAY + datetime.timedelta(days=1),
        badge_issued_on=LAST_WEEK,
    )
    make_advisor(two_streets.street_a, name="已离岗", left_on=LAST_WEEK, leave_reason="调离")

    result = C11.evaluate(Advisor.objects.all(), on=DAY)

    assert (result.covered, result.total) == (1, 4)
    assert sorted(names(result.offenders)) == sorted(["无胸牌", "无服装", "明天发"])


def test_rules_follow_the_scope(two_streets):
    make_advisor(two_streets.street_a, filing_status=FilingStatus.PENDING)
    make_advisor(two_streets.street_b)

    for user, expected in (
        (two_streets.manager_a, (0, 1)),
        (two_streets.manager_b, (1, 1)),
        (two_streets.bureau, (1, 2)),
    ):
        result = C7.evaluate(Advisor.objects.visible_to(user), on=DAY)
        assert (result.covered, result.total) == expected
    assert C7.evaluate(Advisor.objects.visible_to(two_streets.sysadmin), on=DAY).total == 0


def test_the_default_day_is_today(two_streets):
    make_advisor(two_streets.street_a, started_on=datetime.date(2020, 1, 1))
    assert C7.evaluate(Advisor.objects.all()).total == 1
    assert set(RULES) == {"C5", "C6", "C7", "C8", "C11"}


def _grow(two_streets, count):
    point = committee_point(two_streets.committees_a[0])
    station = street_station(two_streets.street_a)
    for index in range(count):
        advisor = make_advisor(
            two_streets.street_a,
            [station, point],
            filing_status=FilingStatus.PENDING if index % 3 else FilingStatus.FILED,
        )
        make_training(street=two_streets.street_a, date=DAY, attendees=[advisor])
        make_training(district=two_streets.district, date=DAY, attendees=[advisor])


def _queries(rule, scope):
    with CaptureQueriesContext(connection) as captured:
        result = rule.evaluate(scope, on=DAY)
        list(result.offenders)
    return len(captured)


SCOPES = {
    "C5": lambda: Station.objects.all(),
    "C6": lambda: Station.objects.all(),
    "C7": lambda: Advisor.objects.all(),
    "C8": lambda: Street.objects.all(),
    "C11": lambda: Advisor.objects.all(),
}


@pytest.mark.parametrize("rule_id", sorted(SCOPES))
def test_each_rule_runs_the_same_queries_at_two_sizes(two_streets, rule_id):
    rule = RULES[rule_id]
    _grow(two_streets, 2)
    small = _queries(rule, SCOPES[rule_id]())
    _grow(two_streets, 20)
    large = _queries(rule, SCOPES[rule_id]())

    assert small == large == 2


def test_staffing_on_many_days_in_one_query_matches_each_day(two_streets):
    """The dashboard's trend judges C5 and C6 on twelve month-ends in one query each."""
    from supervision.staffing_rules import staffing_on_days

    station_a = street_station(two_streets.street_a)
    point = committee_point(make_committee(two_streets.street_a, "华三居委会", "310105001003"))
    make_advisor(two_streets.street_a, [station_a, point], started_on=datetime.date(2026, 3, 1))
    make_advisor(two_streets.street_a, [station_a], left_on=LAST_WEEK, leave_reason="调离")
    days = [datetime.date(2026, 2, 28), datetime.date(2026, 3, 31), LAST_WEEK, DAY]
    stations = Station.objects.all()

    with CaptureQueriesContext(connection) as captured:
        c5 = staffing_on_days(C5, stations, days)
        c6 = staffing_on_days(C6, stations, days)

    assert len(captured.captured_queries) == 2
    for rule, figures in ((C5, c5), (C6, c6)):
        for day in days:
            expected = rule.evaluate(stations, on=day)
            assert (figures[day].covered, figures[day].total) == (expected.covered, expected.total)
    # Two active advisors at the street station only from 1 March to the day before LAST_WEEK.
    assert [c5[day].covered for day in days] == [0, 1, 0, 0]
    assert [c6[day].covered for day in days] == [0, 1, 1, 1]
