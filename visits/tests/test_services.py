"""Recording, changing and withdrawing visits: who may, for whom, for which dates."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases import services as case_services
from cases.choices import NeedCategory, NeedSource, Urgency
from cases.models import AdvisorCharge, Need
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point
from visits import services
from visits.choices import VisitMethod, VisitResult
from visits.models import Visit, VisitNeed, VisitPolicy

D = datetime.date
TODAY = D(2026, 11, 4)


@pytest.fixture
def today(monkeypatch):
    """Pin 'today' for the entry window (4 November: October still open until the 5th)."""
    monkeypatch.setattr(services.timezone, "localdate", lambda: TODAY)
    return TODAY


@pytest.fixture
def world(two_streets):
    committee = two_streets.committees_a[0]
    advisor = make_advisor(two_streets.street_a, [committee_point(committee)], name="甲顾问")
    advisor.user = two_streets.advisor_a
    advisor.save()
    two_streets.advisor_a.refresh_from_db()
    someone = make_recipient(committee, advisor=advisor, current_from=D(2025, 1, 1))
    other_committee = two_streets.committees_b[0]
    advisor_b = make_advisor(two_streets.street_b, [committee_point(other_committee)])
    stranger = make_recipient(other_committee, advisor=advisor_b, current_from=D(2025, 1, 1))
    return two_streets, advisor, someone, advisor_b, stranger


def record(actor, recipient, advisor, day, **fields):
    fields.setdefault("method", VisitMethod.HOME)
    return services.record_visit(
        actor=actor, recipient=recipient, advisor=advisor, visited_on=day, **fields
    )


def test_an_advisor_records_their_own_visit_with_the_needs_it_raised(world, today):
    streets, advisor, someone, _b, _stranger = world
    visit = record(
        streets.advisor_a,
        someone,
        advisor,
        today,
        findings="  老人腿脚不便  ",
        health="attention",
        needs=[
            {"category": NeedCategory.CARE, "description": "需要助餐", "urgency": Urgency.URGENT},
            {"category": NeedCategory.MEDICAL, "description": "", "urgency": Urgency.NORMAL},
        ],
    )
    assert visit.visit_number.startswith("ZF310105001")
    assert visit.findings == "老人腿脚不便"
    assert visit.recorded_by == streets.advisor_a
    need = Need.objects.get()
    assert (need.recipient, need.source, need.found_on) == (someone, NeedSource.VISIT, today)
    assert VisitNeed.objects.get().visit == visit
    assert list(visit.needs.all()) == [need]


def test_an_advisor_cannot_record_for_a_colleague_or_a_stranger(world, today):
    streets, advisor, someone, advisor_b, stranger = world
    colleague = make_advisor(streets.street_a, [committee_point(streets.committees_a[0])])
    with pytest.raises(PermissionDenied):
        record(streets.advisor_a, someone, colleague, today)
    with pytest.raises(Http404):
        record(streets.advisor_a, stranger, advisor, today)
    with pytest.raises(Http404):
        record(streets.manager_a, stranger, advisor_b, today)
    assert not Visit.objects.exists()


def test_the_entry_window_for_advisors(world, today, monkeypatch):
    streets, advisor, someone, _b, _stranger = world
    with pytest.raises(ValidationError) as error:
        record(streets.advisor_a, someone, advisor, today + datetime.timedelta(days=1))
    assert "不能晚于今天" in str(error.value)
    # Until the 5th, last month is open; September is not.
    record(streets.advisor_a, someone, advisor, D(2026, 10, 1))
    with pytest.raises(ValidationError) as error:
        record(streets.advisor_a, someone, advisor, D(2026, 9, 30))
    assert "街镇管理员补录" in str(error.value)
    # On the 6th, last month is closed to advisors, but a street manager may enter it.
    monkeypatch.setattr(services.timezone, "localdate", lambda: D(2026, 11, 6))
    with pytest.raises(ValidationError):
        record(streets.advisor_a, someone, advisor, D(2026, 10, 31))
    record(streets.manager_a, someone, advisor, D(2026, 9, 30))
    assert Visit.objects.count() == 2
    # The bureau sets the window.
    VisitPolicy.objects.create(district=streets.district, late_entry_day=10)
    record(streets.advisor_a, someone, advisor, D(2026, 10, 31))


def test_a_failed_attempt_is_recorded_without_checks_or_needs(world, today):
    streets, advisor, someone, _b, _stranger = world
    with pytest.raises(ValidationError):
        record(
            streets.advisor_a,
            someone,
            advisor,
            today,
            result=VisitResult.NOBODY_HOME,
            needs=[{"category": NeedCategory.CARE, "description": "助餐", "urgency": "normal"}],
        )
    visit = record(
        streets.advisor_a, someone, advisor, today, result=VisitResult.REFUSED, living="risk"
    )
    assert visit.living == ""
    assert visit.is_failed_attempt and not visit.counts


def test_keepers_name_an_active_advisor_of_the_persons_street(world, today):
    streets, advisor, someone, advisor_b, _stranger = world
    with pytest.raises((ValidationError, Http404)):
        record(streets.bureau, someone, advisor_b, today)
    gone = make_advisor(
        streets.street_a, [committee_point(streets.committees_a[0])], left_on=D(2026, 6, 1)
    )
    with pytest.raises(ValidationError) as error:
        record(streets.manager_a, someone, gone, D(2026, 7, 1))
    assert "不是在岗顾问" in str(error.value)
    assert record(streets.bureau, someone, advisor, D(2025, 3, 1)).recorded_by == streets.bureau


def test_the_next_successful_visit_completes_a_follow_up(world, today):
    streets, advisor, someone, _b, _stranger = world
    first = record(
        streets.manager_a,
        someone,
        advisor,
        D(2026, 10, 10),
        follow_up_required=True,
        follow_up_by=D(2026, 10, 20),
    )
    record(streets.manager_a, someone, advisor, D(2026, 10, 12), result=VisitResult.NOBODY_HOME)
    first.refresh_from_db()
    assert first.follow_up_open
    again = record(streets.advisor_a, someone, advisor, D(2026, 11, 2), method=VisitMethod.PHONE)
    first.refresh_from_db()
    assert first.followed_up_by == again
    # Withdrawing the visit that did it reopens the follow-up.
    services.withdraw_visit(actor=streets.advisor_a, visit=again, reason="录错日期")
    first.refresh_from_db()
    assert first.follow_up_open
    with pytest.raises(ValidationError):
        record(streets.manager_a, someone, advisor, D(2026, 10, 10), follow_up_required=True)


def test_withdrawing_keeps_the_row_and_asks_why(world, today):
    streets, advisor, someone, _b, _stranger = world
    visit = record(streets.advisor_a, someone, advisor, today)
    with pytest.raises(ValidationError):
        services.withdraw_visit(actor=streets.advisor_a, visit=visit, reason="  ")
    services.withdraw_visit(actor=streets.advisor_a, visit=visit, reason="重复录入")
    visit.refresh_from_db()
    assert visit.is_withdrawn and visit.withdrawn_by == streets.advisor_a
    assert not Visit.objects.kept().exists() and Visit.objects.count() == 1
    with pytest.raises(ValidationError):
        services.update_visit(actor=streets.manager_a, visit=visit, findings="改")


def test_advisors_change_only_their_own_visits_in_the_window(world, today, monkeypatch):
    streets, advisor, someone, _b, _stranger = world
    colleague = make_advisor(streets.street_a, [committee_point(streets.committees_a[0])])
    theirs = record(streets.manager_a, someone, colleague, today)
    mine = record(streets.advisor_a, someone, advisor, today)
    with pytest.raises(PermissionDenied):
        services.update_visit(actor=streets.advisor_a, visit=theirs, findings="改")
    services.update_visit(actor=streets.advisor_a, visit=mine, method=VisitMethod.VIDEO)
    assert Visit.objects.get(pk=mine.pk).method == VisitMethod.VIDEO
    with pytest.raises(ValidationError):
        services.update_visit(actor=streets.advisor_a, visit=mine, visited_on=D(2026, 9, 1))
    with pytest.raises(TypeError):
        services.update_visit(actor=streets.advisor_a, visit=mine, advisor=colleague)
    monkeypatch.setattr(services.timezone, "localdate", lambda: D(2026, 12, 10))
    assert not services.may_change(streets.advisor_a, mine)
    with pytest.raises(PermissionDenied):
        services.withdraw_visit(actor=streets.advisor_a, visit=mine, reason="晚了")
    assert services.may_change(streets.manager_a, mine)
    services.update_visit(actor=streets.manager_a, visit=mine, advisor=colleague)
    assert Visit.objects.get(pk=mine.pk).advisor == colleague


def test_the_desk_remembers_the_last_method(world, today):
    streets, advisor, someone, _b, _stranger = world
    assert services.last_method(advisor) == VisitMethod.HOME
    record(streets.advisor_a, someone, advisor, today, method=VisitMethod.PHONE)
    assert services.last_method(advisor) == VisitMethod.PHONE


def test_every_change_of_advisor_is_kept_in_the_charges(world):
    streets, advisor, someone, _b, _stranger = world
    charge = AdvisorCharge.objects.get(recipient=someone)
    assert charge.advisor == advisor and charge.ends_on is None
    successor = make_advisor(streets.street_a, [committee_point(streets.committees_a[0])])
    case_services.update_recipient(actor=streets.manager_a, recipient=someone, advisor=successor)
    today = timezone.localdate()
    history = AdvisorCharge.objects.filter(recipient=someone).values_list("advisor", "ends_on")
    assert list(history) == [
        (advisor.pk, today - datetime.timedelta(days=1)),
        (successor.pk, None),
    ]
    # A second change the same day replaces today's charge: a charge never has zero days.
    case_services.update_recipient(actor=streets.manager_a, recipient=someone, advisor=advisor)
    case_services.update_recipient(actor=streets.manager_a, recipient=someone, advisor=successor)
    assert list(history) == [
        (advisor.pk, today - datetime.timedelta(days=1)),
        (successor.pk, None),
    ]
    third = make_advisor(streets.street_a, [committee_point(streets.committees_a[0])])
    people = [make_recipient(streets.committees_a[0], advisor=successor) for _i in range(3)]
    case_services.hand_over(actor=streets.manager_a, from_advisor=successor, to_advisor=third)
    for person in [someone, *people]:
        assert AdvisorCharge.objects.get(recipient=person, ends_on__isnull=True).advisor == third
    registered = case_services.register_recipient(
        actor=streets.manager_a,
        committee=streets.committees_a[0],
        name="新登记",
        gender="female",
        id_number="11010519491231002X",
        advisor=third,
    )
    assert AdvisorCharge.objects.get(recipient=registered).advisor == third
