"""Figures per street: one grouped query per rule, equal to the rule evaluated street by street."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor, make_training
from stations.choices import StationStatus
from stations.models import Street
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    street_station,
)
from supervision import registry
from supervision.staffing_rules import DatedRule

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 6, 30)
LAST_WEEK = DAY - datetime.timedelta(days=7)
LAST_YEAR = datetime.date(2025, 11, 3)


def add_street(district, number, *, staffed, committees=2, trained=True, status=None):
    """A street whose figures differ with `number`: staffing, filing, uniforms, trainings."""
    street = make_street(
        district,
        f"分组{number}街道",
        f"{district.code}{number:03d}",
        status=status or StationStatus.RUNNING,
    )
    station = street_station(street)
    points = [
        committee_point(
            make_committee(
                street,
                f"分组{number}-{m}居委会",
                f"{street.code}{m:03d}",
                status=StationStatus.SUSPENDED if m == 3 else StationStatus.RUNNING,
            )
        )
        for m in range(1, committees + 1)
    ]
    advisors = []
    for index in range(staffed):
        advisors.append(
            make_advisor(
                street,
                [station, *points[: index % (committees + 1)]],
                filing_status=FilingStatus.PENDING if index % 3 == 2 else FilingStatus.FILED,
                uniform_issued_on=LAST_WEEK if index % 2 == 0 else None,
                badge_issued_on=LAST_WEEK,
            )
        )
    make_advisor(street, [station], left_on=LAST_WEEK, leave_reason="调离")
    make_advisor(street, points[:1], filing_status=FilingStatus.REVOKED)
    if trained and advisors:
        make_training(street=street, date=datetime.date(2026, 3, 1), attendees=advisors[:1])
    elif advisors:
        make_training(street=street, date=LAST_YEAR, attendees=advisors[:1])
    return street


@pytest.fixture
def district():
    district = make_district()
    add_street(district, 1, staffed=0)
    add_street(district, 2, staffed=1, trained=False)
    add_street(district, 3, staffed=4, committees=3)
    add_street(district, 4, staffed=6, committees=1, status=StationStatus.PLANNING)
    # A street with no committee and no station at all.
    Street.objects.create(district=district, code="310105009", name="空白街道", kind="other")
    # A district training that street 2's first advisor attended counts for street 2 only.
    street_2 = Street.objects.get(code="310105002")
    make_training(
        district=district,
        date=datetime.date(2026, 5, 1),
        attendees=street_2.advisors.filter(left_on__isnull=True)[:1],
    )
    return district


def evaluate(rule, scope):
    if isinstance(rule, DatedRule):
        return rule.evaluate(scope, DAY)
    return rule.evaluate(scope)


def evaluate_by_street(rule, scope):
    if isinstance(rule, DatedRule):
        return rule.evaluate_by_street(scope, DAY)
    return rule.evaluate_by_street(scope)


@pytest.mark.parametrize("rule_id", list(registry.RULES))
def test_each_streets_figure_is_the_rule_evaluated_on_that_street(district, rule_id):
    rule = registry.RULES[rule_id]
    scope = rule.counted_model._default_manager.all()

    by_street = evaluate_by_street(rule, scope)

    streets = list(Street.objects.all())
    assert len(streets) == 5
    for street in streets:
        expected = evaluate(rule, scope.filter(**{rule.street_field: street.pk}))
        grouped = by_street.get(street.pk) or rule.judge(0, 0)
        assert (grouped.covered, grouped.total) == (expected.covered, expected.total), street
        assert grouped.verdict == expected.verdict
    # The streets add up to the district's figure.
    whole = evaluate(rule, scope)
    assert sum(r.covered for r in by_street.values()) == whole.covered
    assert sum(r.total for r in by_street.values()) == whole.total


def test_the_figures_per_street_are_not_all_alike(district):
    """The cases above really differ from street to street (the comparison is not vacuous)."""
    c5 = evaluate_by_street(registry.RULES["C5"], registry.RULES["C5"].counted_model.objects.all())
    c8 = evaluate_by_street(registry.RULES["C8"], Street.objects.all())
    codes = dict(Street.objects.values_list("pk", "code"))
    assert {codes[pk]: (r.covered, r.total) for pk, r in c5.items()} == {
        "310105001": (0, 1),
        "310105002": (0, 1),
        "310105003": (1, 1),
    }
    assert {codes[pk]: r.covered for pk, r in c8.items()} == {
        "310105001": 0,
        "310105002": 1,  # by the district training its advisor attended
        "310105003": 1,
        "310105004": 1,
        "310105009": 0,
    }


def test_figures_per_street_follow_the_users_scope(two_streets):
    make_advisor(two_streets.street_a, filing_status=FilingStatus.PENDING)
    make_advisor(two_streets.street_b)
    rule = registry.RULES["C7"]

    as_manager = rule.evaluate_by_street(rule.scope_for(two_streets.manager_a), DAY)
    as_bureau = rule.evaluate_by_street(rule.scope_for(two_streets.bureau), DAY)

    assert set(as_manager) == {two_streets.street_a.pk}
    assert set(as_bureau) == {two_streets.street_a.pk, two_streets.street_b.pk}
    assert (
        as_bureau[two_streets.street_b.pk].covered,
        as_bureau[two_streets.street_b.pk].total,
    ) == (
        1,
        1,
    )


def test_scope_for_a_street_keeps_only_that_streets_rows(two_streets):
    make_advisor(two_streets.street_a)
    make_advisor(two_streets.street_b)
    for rule in registry.RULES.values():
        scope = rule.scope_for(two_streets.bureau, two_streets.street_a)
        streets = set(scope.values_list(rule.street_field, flat=True))
        assert streets <= {two_streets.street_a.pk}, rule.id
        assert streets, rule.id
    assert not registry.RULES["C7"].scope_for(two_streets.manager_a, two_streets.street_b).exists()


def test_the_system_administrator_is_not_shown_rules_counting_people(two_streets):
    shown = [rule.id for rule in registry.rules_shown_to(two_streets.sysadmin)]
    assert shown == ["C1", "C2", "C5", "C6", "C8"]
    assert [rule.id for rule in registry.rules_shown_to(two_streets.bureau)] == list(registry.RULES)


@pytest.mark.parametrize("rule_id", list(registry.RULES))
def test_figures_per_street_take_one_query_at_any_size(db, rule_id):
    rule = registry.RULES[rule_id]
    district = make_district()

    def queries():
        with CaptureQueriesContext(connection) as captured:
            evaluate_by_street(rule, rule.counted_model._default_manager.all())
        return len(captured)

    add_street(district, 1, staffed=2)
    small = queries()
    for number in range(2, 8):
        add_street(district, number, staffed=number, committees=3)
    large = queries()

    assert small == large == 1
