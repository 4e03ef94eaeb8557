"""C1 and C2: street station and committee point coverage, judged on the stations' status."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.choices import Role
from stations.choices import CommitteeKind, StationKind, StationStatus
from stations.models import Committee, Station, Street
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    make_user,
)
from stations.validators import credit_code_check_character
from supervision.rules import C1, C2, RULES, Verdict

pytestmark = pytest.mark.django_db

CREDIT_CODE = "52310105MJ1234567" + credit_code_check_character("52310105MJ1234567")


def names(rows):
    return [row.name for row in rows]


@pytest.fixture
def network():
    """Four streets: one fully running, one 筹建, one 暂停, one without a street station;
    committees with a running point, a 筹建 point, a 暂停 point and no point at all.
    """
    district = make_district()
    running = make_street(district, "华阳路街道", "310105001")
    planning = make_street(district, "江苏路街道", "310105002", status=StationStatus.PLANNING)
    suspended = make_street(district, "新华路街道", "310105003", status=StationStatus.SUSPENDED)
    Street.objects.create(
        district=district, code="310105004", name="天山路街道", kind="subdistrict"
    )
    make_committee(running, "华一居委会", "310105001001")
    make_committee(running, "华二居委会", "310105001002", status=StationStatus.PLANNING)
    make_committee(planning, "曹家堰居委会", "310105002001", status=StationStatus.SUSPENDED)
    Committee.objects.create(
        street=suspended, code="310105003001", name="敦煌居委会", kind=CommitteeKind.RESIDENTS
    )
    return district


def test_c1_counts_streets_with_a_running_street_station(network):
    result = C1.evaluate(Street.objects.all())

    assert (result.covered, result.total, result.missing) == (1, 4, 3)
    assert result.percentage == Decimal("25.0")
    assert not result.passed
    assert result.verdict == Verdict.FAIL


def test_c1_offenders_are_the_missing_planning_and_suspended_street_stations(network):
    result = C1.evaluate(Street.objects.all())

    assert names(result.offenders) == ["江苏路街道", "新华路街道", "天山路街道"]


def test_c2_counts_committees_with_a_running_point(network):
    result = C2.evaluate(Committee.objects.all())

    assert (result.covered, result.total) == (1, 4)
    assert result.percentage == Decimal("25.0")
    assert result.verdict == Verdict.FAIL
    # 筹建, 暂停 and a committee without any point all offend.
    assert names(result.offenders) == ["华二居委会", "曹家堰居委会", "敦煌居委会"]


def test_other_kinds_of_station_do_not_cover_a_committee_or_a_street(network):
    street = Street.objects.get(name="天山路街道")
    Station.objects.create(
        kind=StationKind.PROFESSIONAL,
        district=network,
        street=street,
        organisation_name="乐群社工服务社",
        organisation_credit_code=CREDIT_CODE,
        status=StationStatus.RUNNING,
    )

    assert "天山路街道" in names(C1.evaluate(Street.objects.all()).offenders)


def test_a_rule_is_judged_on_the_scope_it_is_given(network):
    manager = make_user("manager", Role.STREET_MANAGER, street=Street.objects.get(code="310105001"))

    c1 = C1.evaluate(Street.objects.visible_to(manager))
    c2 = C2.evaluate(Committee.objects.visible_to(manager))

    assert (c1.covered, c1.total) == (1, 1)
    assert c1.passed and c1.verdict == Verdict.PASS
    assert (c2.covered, c2.total) == (1, 2)
    assert names(c2.offenders) == ["华二居委会"]


def test_full_coverage_passes_and_lists_nobody(network):
    for station in Station.objects.exclude(kind=StationKind.GUIDANCE):
        station.status = StationStatus.RUNNING
        station.save()
    street = Street.objects.get(name="天山路街道")
    Station.objects.create(
        kind=StationKind.STREET, district=network, street=street, status=StationStatus.RUNNING
    )
    committee = Committee.objects.get(name="敦煌居委会")
    Station.objects.create(
        kind=StationKind.COMMITTEE,
        district=network,
        street=committee.street,
        committee=committee,
        status=StationStatus.RUNNING,
    )

    for rule, scope in ((C1, Street.objects.all()), (C2, Committee.objects.all())):
        result = rule.evaluate(scope)
        assert result.passed
        assert result.percentage == Decimal("100.0")
        assert result.verdict == Verdict.PASS
        assert list(result.offenders) == []


def test_verdict_is_amber_within_five_points_of_the_target():
    district = make_district()
    street = make_street(district, "华阳路街道", "310105001")
    committees = [make_committee(street, code=f"310105001{n:03d}") for n in range(1, 21)]
    point = committee_point(committees[0])
    point.status = StationStatus.SUSPENDED
    point.save()

    result = C2.evaluate(Committee.objects.all())

    assert result.percentage == Decimal("95.0")
    assert not result.passed
    assert result.verdict == Verdict.NEAR

    point = committee_point(committees[1])
    point.status = StationStatus.PLANNING
    point.save()
    assert C2.evaluate(Committee.objects.all()).verdict == Verdict.FAIL


def test_a_figure_just_below_the_target_never_rounds_into_a_pass():
    district = make_district()
    street = make_street(district, "华阳路街道", "310105001")
    committees = [make_committee(street, code=f"310105001{n:03d}") for n in range(1, 1000)]
    Station.objects.filter(committee=committees[0]).delete()

    result = C2.evaluate(Committee.objects.all())

    assert result.percentage == Decimal("99.9")
    assert not result.passed
    assert result.verdict == Verdict.NEAR


def test_an_empty_scope_has_no_figure(network):
    result = C2.evaluate(Committee.objects.none())

    assert result.total == 0
    assert result.percentage is None
    assert result.verdict == Verdict.EMPTY


def test_rules_run_a_fixed_number_of_queries():
    district = make_district()

    def measure():
        with CaptureQueriesContext(connection) as queries:
            for rule, scope in ((C1, Street.objects.all()), (C2, Committee.objects.all())):
                result = rule.evaluate(scope)
                list(result.offenders)
        return len(queries)

    street = make_street(district, status=StationStatus.PLANNING)
    make_committee(street, status=StationStatus.PLANNING)
    few = measure()
    for _ in range(8):
        street = make_street(district, status=StationStatus.SUSPENDED)
        for _ in range(4):
            make_committee(street, status=StationStatus.PLANNING)
    assert measure() == few == 4


def test_rules_are_listed_by_id():
    assert RULES == {"C1": C1, "C2": C2}


def test_a_figure_short_of_complete_never_shows_as_100():
    city = C2.judge(6508, 6509)

    assert city.percentage == Decimal("99.9")
    assert city.verdict == Verdict.NEAR
    assert C2.judge(6509, 6509).percentage == Decimal("100.0")
    assert C2.judge(2, 3).percentage == Decimal("66.7")
    assert C2.judge(0, 0).verdict == Verdict.EMPTY
