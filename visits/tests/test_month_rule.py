"""The month rule (C9) on exact cases: DOMAIN.md, "How the rules are judged", C9."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisors.tests.factories import make_advisor
from cases.models import CurrentPeriod, Recipient
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point
from visits import coverage
from visits.choices import VisitMethod, VisitResult
from visits.models import VisitPolicy, policy_for
from visits.tests.factories import make_visit

OCT = datetime.date(2025, 10, 1)
NOV = datetime.date(2025, 11, 1)
D = datetime.date


@pytest.fixture
def world(two_streets):
    committee = two_streets.committees_a[0]
    advisor = make_advisor(two_streets.street_a, [committee_point(committee)], name="甲顾问")
    return two_streets, committee, advisor


def person(committee, advisor, *periods, name=None):
    """A person with the given current periods [(from, to or None)]."""
    recipient = make_recipient(committee, name=name, advisor=advisor, charged_from=D(2025, 1, 1))
    for starts, ends in periods:
        CurrentPeriod.objects.create(recipient=recipient, starts_on=starts, ends_on=ends)
    return recipient


def figure(pks, month, policy=None):
    policy = policy or VisitPolicy()
    return coverage.month_figures(Recipient.objects.filter(pk__in=pks), month, policy)


def test_visits_on_the_31st_and_the_1st_cover_two_months(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 9, 1), None))
    make_visit(someone, advisor, D(2025, 10, 31))
    make_visit(someone, advisor, D(2025, 11, 1))
    assert figure([someone.pk], OCT) == coverage.Figure(due=1, visited=1)
    assert figure([someone.pk], NOV) == coverage.Figure(due=1, visited=1)
    assert figure([someone.pk], datetime.date(2025, 12, 1)) == coverage.Figure(due=1, visited=0)


def test_current_from_the_20th_is_due_only_the_next_month(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 10, 20), None))
    assert figure([someone.pk], OCT).due == 0  # 12 days of October
    assert figure([someone.pk], NOV) == coverage.Figure(due=1, visited=0)


def test_left_on_the_10th_is_not_due_that_month(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 3, 1), D(2025, 10, 10)))
    assert figure([someone.pk], datetime.date(2025, 9, 1)).due == 1
    assert figure([someone.pk], OCT).due == 0


@pytest.mark.parametrize(
    ("ends", "due"),
    [(D(2025, 10, 14), 0), (D(2025, 10, 15), 1), (D(2025, 10, 16), 1)],
)
def test_due_from_15_days_current_in_the_month(world, ends, due):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 10, 1), ends))
    assert figure([someone.pk], OCT).due == due


def test_two_periods_in_one_month_add_up(world):
    _streets, committee, advisor = world
    # 1–8 October (8 days) and from the 25th (7 days): 15 days, due.
    someone = person(committee, advisor, (D(2025, 10, 1), D(2025, 10, 8)), (D(2025, 10, 25), None))
    other = person(committee, advisor, (D(2025, 10, 1), D(2025, 10, 7)), (D(2025, 10, 25), None))
    assert figure([someone.pk], OCT).due == 1
    assert figure([other.pk], OCT).due == 0


def test_a_failed_attempt_alone_is_a_miss(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 1, 1), None))
    make_visit(someone, advisor, D(2025, 10, 9), result=VisitResult.NOBODY_HOME)
    make_visit(someone, advisor, D(2025, 10, 19), result=VisitResult.REFUSED)
    assert figure([someone.pk], OCT) == coverage.Figure(due=1, visited=0)
    missed = coverage.misses(Recipient.objects.all(), OCT, VisitPolicy())
    assert [row.pk for row in missed] == [someone.pk]


def test_a_visit_logged_late_counts_for_its_own_month(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 1, 1), None))
    make_visit(
        someone,
        advisor,
        D(2025, 10, 30),
        recorded_at=datetime.datetime(2025, 11, 4, 9, tzinfo=datetime.UTC),
    )
    assert figure([someone.pk], OCT) == coverage.Figure(due=1, visited=1)
    assert figure([someone.pk], NOV).visited == 0


def test_two_visits_in_a_month_count_once(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 1, 1), None))
    make_visit(someone, advisor, D(2025, 10, 3))
    make_visit(someone, advisor, D(2025, 10, 20), method=VisitMethod.PHONE)
    assert figure([someone.pk], OCT) == coverage.Figure(due=1, visited=1)
    row = coverage.with_month(Recipient.objects.filter(pk=someone.pk), OCT, VisitPolicy()).get()
    assert row.m_visit == D(2025, 10, 3)
    assert row.m_due is True


def test_withdrawn_visits_and_excluded_methods_do_not_count(world):
    streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 1, 1), None))
    withdrawn = make_visit(someone, advisor, D(2025, 10, 3))
    withdrawn.withdrawn_at = datetime.datetime(2025, 10, 4, tzinfo=datetime.UTC)
    withdrawn.withdraw_reason = "录错对象"
    withdrawn.save()
    assert figure([someone.pk], OCT).visited == 0
    make_visit(someone, advisor, D(2025, 10, 8), method=VisitMethod.PHONE)
    assert figure([someone.pk], OCT).visited == 1
    policy = VisitPolicy.objects.create(district=streets.district, excluded_methods=["phone"])
    assert figure([someone.pk], OCT, policy_for(streets.district.pk)).visited == 0
    assert figure([someone.pk], OCT, policy).visited == 0


def test_the_bureau_sets_the_days_that_make_a_person_due(world):
    streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 10, 20), None))
    assert figure([someone.pk], OCT).due == 0
    policy = VisitPolicy.objects.create(district=streets.district, due_days=10)
    assert figure([someone.pk], OCT, policy).due == 1


def test_a_miss_belongs_to_the_advisor_responsible_on_the_months_last_day(world):
    streets, committee, advisor = world
    successor = make_advisor(streets.street_a, [committee_point(committee)], name="乙顾问")
    someone = person(committee, advisor, (D(2025, 1, 1), None))
    # Handed over on 3 November: October's miss stays with the first advisor.
    from cases.charges import record_charges

    record_charges([someone.pk], successor.pk, on=D(2025, 11, 3))
    Recipient.objects.filter(pk=someone.pk).update(advisor=successor)
    people = Recipient.objects.filter(pk=someone.pk)
    assert coverage.month_figures(people, OCT, VisitPolicy(), by="advisor") == {
        advisor.pk: coverage.Figure(due=1, visited=0)
    }
    assert coverage.month_figures(people, NOV, VisitPolicy(), by="advisor") == {
        successor.pk: coverage.Figure(due=1, visited=0)
    }
    assert coverage.misses(people, OCT, VisitPolicy()).get().m_advisor == advisor.pk
    # A visit by anyone covers the month.
    make_visit(someone, successor, D(2025, 10, 31))
    assert coverage.month_figures(people, OCT, VisitPolicy(), by="advisor") == {
        advisor.pk: coverage.Figure(due=1, visited=1)
    }


def test_figures_per_committee_street_and_district_agree_with_the_misses(world):
    streets, committee, advisor = world
    other_committee = streets.committees_a[1]
    other_street_committee = streets.committees_b[0]
    advisor_b = make_advisor(streets.street_b, [committee_point(other_street_committee)])
    people = [
        person(committee, advisor, (D(2025, 1, 1), None)),
        person(committee, advisor, (D(2025, 1, 1), None)),
        person(other_committee, None, (D(2025, 1, 1), None)),
        person(other_street_committee, advisor_b, (D(2025, 1, 1), None)),
        person(other_street_committee, advisor_b, (D(2025, 10, 25), None)),  # not due
    ]
    make_visit(people[0], advisor, D(2025, 10, 2))
    make_visit(people[3], advisor_b, D(2025, 10, 2))
    everyone = Recipient.objects.all()
    policy = VisitPolicy()
    total = coverage.month_figures(everyone, OCT, policy)
    by_street = coverage.month_figures(everyone, OCT, policy, by="street")
    by_committee = coverage.month_figures(everyone, OCT, policy, by="committee")
    by_advisor = coverage.month_figures(everyone, OCT, policy, by="advisor")
    assert total == coverage.Figure(due=4, visited=2)
    assert by_street == {
        streets.street_a.pk: coverage.Figure(3, 1),
        streets.street_b.pk: coverage.Figure(1, 1),
    }
    assert by_committee == {
        committee.pk: coverage.Figure(2, 1),
        other_committee.pk: coverage.Figure(1, 0),
        other_street_committee.pk: coverage.Figure(1, 1),
    }
    assert by_advisor == {
        advisor.pk: coverage.Figure(2, 1),
        None: coverage.Figure(1, 0),
        advisor_b.pk: coverage.Figure(1, 1),
    }
    for figures in (by_street, by_committee, by_advisor):
        assert sum(figures.values(), coverage.Figure()) == total
    missed = list(coverage.misses(everyone, OCT, policy))
    assert len(missed) == total.missed
    assert {row.pk for row in missed} == {people[1].pk, people[2].pk}
    rows = list(coverage.matrix(everyone, coverage.months_ending(NOV, 2), policy))
    assert len(rows) == 5  # the late joiner is due in November
    october = [coverage.row_states(row, [OCT, NOV], today=D(2026, 1, 1))[0] for row in rows]
    assert sum(state == "visited" for _m, state, _v in october) == total.visited
    assert sum(state == "missed" for _m, state, _v in october) == total.missed


def test_quarters_and_years_add_up_the_months(world):
    _streets, committee, advisor = world
    someone = person(committee, advisor, (D(2025, 1, 1), None))
    make_visit(someone, advisor, D(2025, 7, 9))
    make_visit(someone, advisor, D(2025, 9, 9))
    quarter = [D(2025, 7, 1), D(2025, 8, 1), D(2025, 9, 1)]
    people = Recipient.objects.all()
    assert coverage.period_figures(people, quarter, VisitPolicy()) == coverage.Figure(3, 2)
    by_committee = coverage.period_figures(people, quarter, VisitPolicy(), by="committee")
    assert by_committee == {committee.pk: coverage.Figure(3, 2)}
    assert coverage.period_figures(people, quarter, VisitPolicy(), by="advisor") == {
        advisor.pk: coverage.Figure(3, 2)
    }


def test_the_month_in_progress_shows_pending_not_missed():
    months = [D(2026, 10, 1), D(2026, 11, 1)]
    assert coverage.month_state(True, None, months[1], today=D(2026, 11, 20)) == "pending"
    assert coverage.month_state(True, None, months[0], today=D(2026, 11, 20)) == "missed"
    assert coverage.month_state(False, None, months[0], today=D(2026, 11, 20)) == "not_due"
    assert coverage.month_state(True, D(2026, 10, 2), months[0]) == "visited"


def test_figures_and_matrix_run_a_fixed_number_of_queries(world):
    _streets, committee, advisor = world
    policy = VisitPolicy()
    months = coverage.months_ending(NOV, 12)

    def run():
        people = Recipient.objects.all()
        with CaptureQueriesContext(connection) as queries:
            coverage.month_figures(people, OCT, policy)
            coverage.month_figures(people, OCT, policy, by="committee")
            coverage.period_figures(people, months, policy, by="street")
            list(coverage.misses(people, OCT, policy))
            list(coverage.matrix(people, months, policy))
        return len(queries)

    def add(count):
        for index in range(count):
            someone = person(committee, advisor, (D(2025, 1, 1), None))
            if index % 2:
                make_visit(someone, advisor, D(2025, 10, 5))

    add(3)
    small = run()
    add(30)
    assert run() == small


def test_months_are_read_and_walked():
    assert coverage.parse_month("2026-03") == D(2026, 3, 1)
    for bad in ("2026-13", "2026/03", "", "abc", "1899-01"):
        with pytest.raises(ValueError):
            coverage.parse_month(bad)
    assert coverage.month_bounds(D(2024, 2, 1)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert coverage.months_ending(D(2026, 2, 1), 3) == [
        D(2025, 12, 1),
        D(2026, 1, 1),
        D(2026, 2, 1),
    ]
    assert coverage.Figure(3, 2).rate == Decimal("66.7")
    assert coverage.Figure(10000, 9999).rate == Decimal("99.9")
    assert coverage.Figure(0, 0).rate is None
