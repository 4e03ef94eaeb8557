"""The advisor models: one definition of active, constraints, and scoping (two streets)."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from advisors.choices import FilingStatus, OrganiserLevel
from advisors.models import (
    Advisor,
    AdvisorStation,
    FilingEvent,
    Training,
    TrainingAttendance,
    Volunteer,
)
from advisors.tests.factories import make_advisor, make_training
from stations.tests.factories import committee_point, street_station

pytestmark = pytest.mark.django_db

DAY = datetime.date(2026, 6, 30)


def test_active_means_started_not_left_and_not_revoked(two_streets):
    street = two_streets.street_a
    working = make_advisor(street, name="在岗")
    make_advisor(street, name="未上岗", started_on=DAY + datetime.timedelta(days=1))
    leaves_today = make_advisor(street, name="今日离岗", left_on=DAY, leave_reason="调离")
    leaves_tomorrow = make_advisor(
        street, name="明日离岗", left_on=DAY + datetime.timedelta(days=1), leave_reason="调离"
    )
    make_advisor(street, name="已注销", filing_status=FilingStatus.REVOKED)
    pending = make_advisor(street, name="待备案", filing_status=FilingStatus.PENDING)

    active = set(Advisor.objects.active(DAY).values_list("name", flat=True))

    assert active == {"在岗", "明日离岗", "待备案"}
    assert [a.is_active_on(DAY) for a in (working, leaves_today, leaves_tomorrow, pending)] == [
        True,
        False,
        True,
        True,
    ]


def test_advisor_numbers_are_generated_per_street_and_stable(two_streets):
    first = make_advisor(two_streets.street_a)
    second = make_advisor(two_streets.street_a)
    other = make_advisor(two_streets.street_b)

    assert first.advisor_number == "GW3101050010001"
    assert second.advisor_number == "GW3101050010002"
    assert other.advisor_number == "GW3101050020001"
    first.name = "改名"
    first.save()
    first.refresh_from_db()
    assert first.advisor_number == "GW3101050010001"


def test_one_primary_station_per_advisor_and_each_station_once(two_streets):
    point_1 = committee_point(two_streets.committees_a[0])
    point_2 = committee_point(two_streets.committees_a[1])
    advisor = make_advisor(two_streets.street_a, [point_1])

    with pytest.raises(IntegrityError), transaction.atomic():
        AdvisorStation.objects.create(advisor=advisor, station=point_2, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AdvisorStation.objects.create(advisor=advisor, station=point_1)
    AdvisorStation.objects.create(advisor=advisor, station=point_2)
    assert advisor.stations.count() == 2


def test_a_station_of_another_street_is_refused(two_streets):
    advisor = make_advisor(two_streets.street_a)
    link = AdvisorStation(advisor=advisor, station=street_station(two_streets.street_b))

    with pytest.raises(ValidationError) as error:
        link.full_clean()
    assert "服务站点必须在顾问所属的街镇内。" in error.value.message_dict["station"]


def test_the_database_refuses_a_filed_advisor_without_number_and_a_leave_before_start(
    two_streets,
):
    advisor = make_advisor(two_streets.street_a, filing_status=FilingStatus.PENDING)
    with pytest.raises(IntegrityError), transaction.atomic():
        Advisor.objects.filter(pk=advisor.pk).update(filing_status=FilingStatus.FILED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Advisor.objects.filter(pk=advisor.pk).update(left_on=datetime.date(2020, 1, 1))


def test_skills_must_be_the_notices(two_streets):
    advisor = make_advisor(two_streets.street_a, skills=["resources", "counselling"])
    advisor.full_clean()
    advisor.skills = ["resources", "飞行"]
    with pytest.raises(ValidationError) as error:
        advisor.full_clean()
    assert "skills" in error.value.message_dict


def test_a_training_and_its_attendance_stay_within_district_and_street(two_streets):
    advisor_b = make_advisor(two_streets.street_b)
    training = make_training(street=two_streets.street_a, date=DAY)
    attendance = TrainingAttendance(training=training, advisor=advisor_b)
    with pytest.raises(ValidationError):
        attendance.full_clean()
    district_training = make_training(district=two_streets.district, date=DAY)
    TrainingAttendance(training=district_training, advisor=advisor_b).full_clean()

    with pytest.raises(IntegrityError), transaction.atomic():
        Training.objects.create(
            organiser_level=OrganiserLevel.DISTRICT,
            district=two_streets.district,
            street=two_streets.street_a,
            date=DAY,
            title="错",
            hours=1,
        )


def test_each_role_sees_its_own_advisors(two_streets):
    point_a = committee_point(two_streets.committees_a[0])
    point_a2 = committee_point(two_streets.committees_a[1])
    mine = make_advisor(two_streets.street_a, [point_a], name="甲")
    make_advisor(two_streets.street_a, [point_a2], name="乙")
    make_advisor(two_streets.street_b, [committee_point(two_streets.committees_b[0])], name="丙")

    def seen(user):
        return sorted(Advisor.objects.visible_to(user).values_list("name", flat=True))

    assert seen(two_streets.bureau) == ["丙", "乙", "甲"]
    assert seen(two_streets.manager_a) == ["乙", "甲"]
    assert seen(two_streets.manager_b) == ["丙"]
    assert seen(two_streets.advisor_a) == ["甲"]
    assert seen(two_streets.sysadmin) == []
    links_b = AdvisorStation.objects.visible_to(two_streets.manager_b)
    assert [link.advisor.name for link in links_b] == ["丙"]
    assert AdvisorStation.objects.visible_to(two_streets.advisor_a).get().advisor == mine


def test_district_trainings_are_shared_with_every_street(two_streets):
    make_training(street=two_streets.street_a, date=DAY, title="华阳培训")
    make_training(street=two_streets.street_b, date=DAY, title="江苏培训")
    make_training(district=two_streets.district, date=DAY, title="区培训")

    def seen(user):
        return sorted(Training.objects.visible_to(user).values_list("title", flat=True))

    assert seen(two_streets.bureau) == ["区培训", "华阳培训", "江苏培训"]
    assert seen(two_streets.manager_a) == ["区培训", "华阳培训"]
    assert seen(two_streets.manager_b) == ["区培训", "江苏培训"]
    assert seen(two_streets.advisor_a) == ["区培训", "华阳培训"]
    assert seen(two_streets.sysadmin) == []


def test_attendance_volunteers_and_filing_events_are_scoped(two_streets):
    advisor_a = make_advisor(two_streets.street_a)
    advisor_b = make_advisor(two_streets.street_b)
    training = make_training(
        district=two_streets.district, date=DAY, attendees=[advisor_a, advisor_b]
    )
    Volunteer.objects.create(
        street=two_streets.street_a,
        station=committee_point(two_streets.committees_a[0]),
        name="志愿者甲",
        active_from=DAY,
    )
    Volunteer.objects.create(street=two_streets.street_b, name="志愿者乙", active_from=DAY)
    FilingEvent.objects.create(advisor=advisor_b, action="submit", by=two_streets.manager_b)

    attendance_a = TrainingAttendance.objects.visible_to(two_streets.manager_a)
    assert [a.advisor for a in attendance_a] == [advisor_a]
    assert TrainingAttendance.objects.visible_to(two_streets.bureau).count() == 2
    assert training.attendances.count() == 2
    assert [v.name for v in Volunteer.objects.visible_to(two_streets.manager_a)] == ["志愿者甲"]
    assert [v.name for v in Volunteer.objects.visible_to(two_streets.advisor_a)] == ["志愿者甲"]
    assert Volunteer.objects.visible_to(two_streets.sysadmin).count() == 0
    assert FilingEvent.objects.visible_to(two_streets.manager_a).count() == 0
    assert FilingEvent.objects.visible_to(two_streets.manager_b).count() == 1
