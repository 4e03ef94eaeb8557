"""The advisor services: scope, roles, the filing steps and who took them."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from advisors import services
from advisors.choices import (
    Background,
    FilingAction,
    FilingStatus,
    Gender,
    OrganiserLevel,
    TrainingKind,
)
from advisors.models import Advisor, FilingEvent, TrainingAttendance
from advisors.tests.factories import make_advisor, make_training
from stations.tests.factories import committee_point, street_station

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 3, 2)


def register(actor, street, **fields):
    fields = {
        "name": "张晓明",
        "gender": Gender.MALE,
        "mobile": "13800001234",
        "background": Background.COMMITTEE_CADRE,
        "started_on": DAY,
        **fields,
    }
    return services.register_advisor(actor=actor, street=street, **fields)


def test_a_street_manager_registers_an_advisor_of_their_street_pending(two_streets):
    advisor = register(two_streets.manager_a, two_streets.street_a, skills=["needs"])

    assert advisor.filing_status == FilingStatus.PENDING
    assert advisor.advisor_number == "GW3101050010001"
    assert advisor.skills == ["needs"]


def test_out_of_scope_streets_and_advisors_read_as_not_existing(two_streets):
    with pytest.raises(Http404):
        register(two_streets.manager_a, two_streets.street_b)
    advisor_b = make_advisor(two_streets.street_b)
    with pytest.raises(Http404):
        services.update_advisor(actor=two_streets.manager_a, advisor=advisor_b, name="改")
    with pytest.raises(Http404):
        services.advisor_leave(
            actor=two_streets.manager_a, advisor=advisor_b, left_on=DAY, reason="调离"
        )
    with pytest.raises(Http404):
        services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor_b)
    assert Advisor.objects.filter(street=two_streets.street_a).count() == 0


@pytest.mark.parametrize("who", ["advisor_a", "sysadmin"])
def test_other_roles_cannot_register(two_streets, who):
    with pytest.raises(PermissionDenied):
        register(getattr(two_streets, who), two_streets.street_a)


def test_bad_values_are_refused_in_chinese(two_streets):
    with pytest.raises(ValidationError) as error:
        register(two_streets.manager_a, two_streets.street_a, skills=["飞行"])
    assert "未知的技能" in str(error.value)
    assert Advisor.objects.count() == 0


def test_stations_are_set_with_one_primary_within_the_street(two_streets):
    advisor = register(two_streets.manager_a, two_streets.street_a)
    point_1 = committee_point(two_streets.committees_a[0])
    point_2 = committee_point(two_streets.committees_a[1])

    services.set_advisor_stations(
        actor=two_streets.manager_a, advisor=advisor, stations=[point_1, point_2], primary=point_2
    )
    services.set_advisor_stations(
        actor=two_streets.manager_a, advisor=advisor, stations=[point_1, point_2], primary=point_1
    )

    assert advisor.primary_station == point_1
    assert set(advisor.stations.all()) == {point_1, point_2}
    with pytest.raises(Http404):
        services.set_advisor_stations(
            actor=two_streets.manager_a,
            advisor=advisor,
            stations=[street_station(two_streets.street_b)],
            primary=street_station(two_streets.street_b),
        )
    with pytest.raises(ValidationError):
        services.set_advisor_stations(
            actor=two_streets.bureau,
            advisor=advisor,
            stations=[street_station(two_streets.street_b)],
            primary=street_station(two_streets.street_b),
        )
    assert set(advisor.stations.all()) == {point_1, point_2}


def test_the_advisor_login_serves_the_advisors_stations(two_streets):
    point = committee_point(two_streets.committees_a[1])
    advisor = register(two_streets.manager_a, two_streets.street_a, user=two_streets.advisor_a)

    services.set_advisor_stations(
        actor=two_streets.manager_a, advisor=advisor, stations=[point], primary=point
    )

    assert list(two_streets.advisor_a.stations.all()) == [point]


def test_leaving_keeps_the_advisor_and_needs_a_reason(two_streets):
    advisor = register(
        two_streets.manager_a, two_streets.street_a, started_on=datetime.date(2025, 1, 1)
    )
    with pytest.raises(ValidationError):
        services.advisor_leave(
            actor=two_streets.manager_a, advisor=advisor, left_on=DAY, reason=" "
        )

    services.advisor_leave(
        actor=two_streets.manager_a, advisor=advisor, left_on=DAY, reason="调往区民政局"
    )

    advisor.refresh_from_db()
    assert (advisor.left_on, advisor.leave_reason) == (DAY, "调往区民政局")
    assert not Advisor.objects.active(DAY).exists()
    assert Advisor.objects.active(DAY - datetime.timedelta(days=1)).get() == advisor


def test_filing_submit_send_back_submit_file_keeps_who_and_when(two_streets):
    advisor = register(two_streets.manager_a, two_streets.street_a)

    services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)
    with pytest.raises(ValidationError):
        services.send_back(actor=two_streets.bureau, advisor=advisor, reason="")
    services.send_back(actor=two_streets.bureau, advisor=advisor, reason="缺少资格证书编号")
    with pytest.raises(ValidationError):
        services.file_advisor(
            actor=two_streets.bureau, advisor=advisor, filing_number="X1", filed_on=DAY
        )
    services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)
    services.file_advisor(
        actor=two_streets.bureau, advisor=advisor, filing_number="CNBA-2026-001", filed_on=DAY
    )

    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.FILED
    assert (advisor.filing_number, advisor.filed_on) == ("CNBA-2026-001", DAY)
    events = list(FilingEvent.objects.filter(advisor=advisor).order_by("at", "pk"))
    assert [(e.action, e.by, e.reason, e.filing_number) for e in events] == [
        (FilingAction.SUBMIT, two_streets.manager_a, "", ""),
        (FilingAction.SEND_BACK, two_streets.bureau, "缺少资格证书编号", ""),
        (FilingAction.SUBMIT, two_streets.manager_a, "", ""),
        (FilingAction.FILE, two_streets.bureau, "", "CNBA-2026-001"),
    ]
    assert all(e.at is not None for e in events)

    services.revoke_filing(actor=two_streets.bureau, advisor=advisor, reason="本人辞职")
    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.REVOKED
    assert advisor.filing_events.last().action == FilingAction.REVOKE


def test_a_street_manager_cannot_file_send_back_or_revoke(two_streets):
    advisor = register(two_streets.manager_a, two_streets.street_a)
    services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)

    with pytest.raises(PermissionDenied):
        services.file_advisor(
            actor=two_streets.manager_a, advisor=advisor, filing_number="X", filed_on=DAY
        )
    with pytest.raises(PermissionDenied):
        services.send_back(actor=two_streets.manager_a, advisor=advisor, reason="x")
    with pytest.raises(PermissionDenied):
        services.revoke_filing(actor=two_streets.manager_a, advisor=advisor, reason="x")
    with pytest.raises(PermissionDenied):
        services.submit_for_filing(actor=two_streets.bureau, advisor=advisor)
    advisor.refresh_from_db()
    assert advisor.filing_status == FilingStatus.PENDING


def test_bureau_of_another_district_cannot_file(two_streets):
    from accounts.choices import Role
    from stations.tests.factories import make_district, make_user

    other = make_user("bureau_other", Role.BUREAU, district=make_district("310104", "徐汇区"))
    advisor = register(two_streets.manager_a, two_streets.street_a)
    services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)

    with pytest.raises(Http404):
        services.file_advisor(actor=other, advisor=advisor, filing_number="X", filed_on=DAY)


def test_trainings_and_attendance_are_recorded_within_scope(two_streets):
    advisor_a = make_advisor(two_streets.street_a)
    advisor_b = make_advisor(two_streets.street_b)

    training = services.record_training(
        actor=two_streets.manager_a,
        date=DAY,
        title="社会救助政策解读",
        hours=Decimal("3"),
        kind=TrainingKind.PROFESSIONAL,
    )
    assert (training.organiser_level, training.street) == (
        OrganiserLevel.STREET,
        two_streets.street_a,
    )
    services.record_attendance(
        actor=two_streets.manager_a, training=training, advisor=advisor_a, attended=True
    )
    services.record_attendance(
        actor=two_streets.manager_a,
        training=training,
        advisor=advisor_a,
        attended=False,
        remark="病假",
    )
    assert TrainingAttendance.objects.get().remark == "病假"

    with pytest.raises(Http404):
        services.record_attendance(
            actor=two_streets.manager_a, training=training, advisor=advisor_b, attended=True
        )
    with pytest.raises(Http404):
        services.record_attendance(
            actor=two_streets.manager_b, training=training, advisor=advisor_b, attended=True
        )
    with pytest.raises(Http404):
        services.record_training(
            actor=two_streets.manager_a,
            street=two_streets.street_b,
            date=DAY,
            title="x",
            hours=1,
            kind=TrainingKind.OTHER,
        )

    district_training = services.record_training(
        actor=two_streets.bureau, date=DAY, title="区级培训", hours=2, kind=TrainingKind.OTHER
    )
    assert district_training.organiser_level == OrganiserLevel.DISTRICT
    # A street manager records their own advisors at the district's training.
    services.record_attendance(
        actor=two_streets.manager_b, training=district_training, advisor=advisor_b, attended=True
    )
    with pytest.raises(ValidationError):
        services.record_training(
            actor=two_streets.bureau, date=DAY, title="x", hours=0, kind=TrainingKind.OTHER
        )


def test_a_training_of_another_street_is_out_of_scope(two_streets):
    training = make_training(street=two_streets.street_b, date=DAY)
    advisor_a = make_advisor(two_streets.street_a)
    with pytest.raises(Http404):
        services.record_attendance(
            actor=two_streets.manager_a, training=training, advisor=advisor_a, attended=True
        )
