"""The register of people in hardship and the checklists, through their services."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from accounts.choices import Role
from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor
from cases import services
from cases.choices import (
    AreaLevel,
    Gender,
    NeedCategory,
    NeedSource,
    NeedStatus,
    RecipientStatus,
    ResourceType,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from cases.models import AssistanceCategory, KeyGroup, Need, Recipient, Resource, ServiceRecord
from cases.tests.factories import id_number, make_need, make_recipient, make_resource
from stations.tests.factories import committee_point, make_user, street_station

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2026, 11, 30)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.localdate", lambda *a, **k: TODAY)


def register(world, actor=None, committee=None, **fields):
    fields.setdefault("name", "王秀英")
    fields.setdefault("gender", Gender.FEMALE)
    fields.setdefault("id_number", id_number())
    return services.register_recipient(
        actor=actor or world.manager_a, committee=committee or world.committees_a[0], **fields
    )


# The register ------------------------------------------------------------------------------


def test_registering_gives_a_file_number_and_derives_from_the_id_number(two_streets):
    number = id_number(datetime.date(1948, 2, 29))
    low = AssistanceCategory.objects.get(name="低保", district=None)
    alone = KeyGroup.objects.get(name="独居老人", district=None)
    person = register(two_streets, id_number=number, categories=[low], key_groups=[alone])

    person.refresh_from_db()
    assert person.file_number == "DA310105001000001"
    assert person.street == two_streets.street_a
    assert person.birth_date == datetime.date(1948, 2, 29)
    assert person.id_tail == number[-4:]
    assert str(person.id_number) == number[:6] + "********" + number[-4:]
    assert person.id_number.reveal() == number
    assert list(person.categories.all()) == [low]
    assert list(person.key_groups.all()) == [alone]
    assert person.status == RecipientStatus.REGISTERED
    assert register(two_streets).file_number == "DA310105001000002"


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("310105196005170010", "校验位"),
        ("310105196002300017", "不是有效日期"),
        ("31010519600517001", "18位"),
        ("", "请填写身份证号"),
    ],
)
def test_an_invalid_id_number_is_refused_in_chinese(two_streets, number, message):
    with pytest.raises(ValidationError) as error:
        register(two_streets, id_number=number)
    assert message in " ".join(error.value.message_dict["id_number"])
    assert not Recipient.objects.exists()


def test_the_gender_must_agree_with_the_id_number(two_streets):
    with pytest.raises(ValidationError) as error:
        register(two_streets, id_number=id_number(male=True), gender=Gender.FEMALE)
    assert "身份证号显示为男" in error.value.message_dict["gender"][0]
    assert not Recipient.objects.exists()


def test_a_second_record_for_the_same_person_points_at_the_first(two_streets):
    number = id_number()
    first = register(two_streets, id_number=number)

    with pytest.raises(services.DuplicateRecipient) as error:
        register(two_streets, id_number=" " + number.lower(), name="王秀英2")
    assert error.value.existing == first
    assert first.file_number in error.value.message_dict["id_number"][0]
    assert Recipient.objects.count() == 1


def test_a_duplicate_in_another_street_is_refused_without_saying_whose(two_streets):
    number = id_number()
    register(two_streets, id_number=number)

    with pytest.raises(services.DuplicateRecipient) as error:
        register(
            two_streets,
            actor=two_streets.manager_b,
            committee=two_streets.committees_b[0],
            id_number=number,
        )
    assert error.value.existing is None
    message = error.value.message_dict["id_number"][0]
    assert "其他街镇" in message and "王秀英" not in message
    assert Recipient.objects.count() == 1


def test_a_street_manager_registers_only_in_their_street(two_streets):
    with pytest.raises(Http404):
        register(two_streets, actor=two_streets.manager_b)
    assert not Recipient.objects.exists()


def test_an_advisor_registers_in_the_committees_they_serve(two_streets):
    person = register(two_streets, actor=two_streets.advisor_a)
    assert person.committee == two_streets.committees_a[0]
    with pytest.raises(Http404):
        register(two_streets, actor=two_streets.advisor_a, committee=two_streets.committees_a[1])


def test_who_sees_whom(two_streets):
    a1, a2 = two_streets.committees_a
    first = make_recipient(a1)
    second = make_recipient(a2)
    other = make_recipient(two_streets.committees_b[0])
    station_advisor = make_user(
        "station_advisor", Role.ADVISOR, stations=[street_station(two_streets.street_a)]
    )
    in_charge = make_advisor(two_streets.street_a, [committee_point(a1)])
    in_charge.user = make_user("in_charge", Role.ADVISOR)
    in_charge.save()
    second.advisor = in_charge
    second.save()

    def seen(user):
        return set(Recipient.objects.visible_to(user))

    assert seen(two_streets.bureau) == {first, second, other}
    assert seen(two_streets.manager_a) == {first, second}
    assert seen(two_streets.manager_b) == {other}
    assert seen(two_streets.advisor_a) == {first}
    assert seen(station_advisor) == {first, second}
    assert seen(in_charge.user) == {second}
    assert seen(two_streets.sysadmin) == set()


def test_changing_the_id_number_checks_it_again(two_streets):
    person = register(two_streets)
    taken = id_number()
    register(two_streets, id_number=taken, name="李四")
    with pytest.raises(services.DuplicateRecipient):
        services.update_recipient(actor=two_streets.manager_a, recipient=person, id_number=taken)
    new = id_number()
    services.update_recipient(actor=two_streets.manager_a, recipient=person, id_number=new)
    person.refresh_from_db()
    assert person.id_number.reveal() == new
    assert Recipient.objects.filter(id_number__matches=new).get() == person


def test_moving_a_person_to_another_streets_committee_is_404(two_streets):
    person = register(two_streets)
    with pytest.raises(Http404):
        services.update_recipient(
            actor=two_streets.manager_a, recipient=person, committee=two_streets.committees_b[0]
        )
    person.refresh_from_db()
    assert person.committee == two_streets.committees_a[0]


# Current-recipient periods and leaving ------------------------------------------------------


def test_current_is_derived_from_the_periods(two_streets):
    person = register(two_streets, current_from=datetime.date(2026, 3, 1))
    services.end_current(
        actor=two_streets.manager_a, recipient=person, ends_on=datetime.date(2026, 6, 30)
    )
    services.start_current(
        actor=two_streets.manager_a, recipient=person, starts_on=datetime.date(2026, 9, 1)
    )

    current = Recipient.objects.current_on
    assert not current(datetime.date(2026, 2, 28)).exists()
    assert current(datetime.date(2026, 3, 1)).get() == person
    assert current(datetime.date(2026, 6, 30)).get() == person
    assert not current(datetime.date(2026, 7, 1)).exists()
    assert current(TODAY).get() == person


def test_overlapping_periods_are_refused(two_streets):
    person = register(two_streets, current_from=datetime.date(2026, 3, 1))
    with pytest.raises(ValidationError) as error:
        services.start_current(
            actor=two_streets.manager_a, recipient=person, starts_on=datetime.date(2026, 5, 1)
        )
    assert "重叠" in str(error.value)
    assert person.periods.count() == 1


def test_an_advisor_cannot_declare_a_current_recipient(two_streets):
    person = register(two_streets)
    with pytest.raises(PermissionDenied):
        services.start_current(actor=two_streets.advisor_a, recipient=person, starts_on=TODAY)


def test_leaving_the_register_ends_the_current_period(two_streets):
    person = register(two_streets, current_from=datetime.date(2025, 1, 1))
    services.exit_register(
        actor=two_streets.manager_a,
        recipient=person,
        exited_on=datetime.date(2026, 10, 15),
        reason="收入超过标准",
    )
    person.refresh_from_db()
    assert person.status == RecipientStatus.EXITED
    assert person.periods.get().ends_on == datetime.date(2026, 10, 15)
    assert not Recipient.objects.current_on(TODAY).exists()
    with pytest.raises(ValidationError):
        services.start_current(actor=two_streets.manager_a, recipient=person, starts_on=TODAY)


def test_leaving_needs_a_reason(two_streets):
    person = register(two_streets)
    with pytest.raises(ValidationError) as error:
        services.exit_register(
            actor=two_streets.manager_a, recipient=person, exited_on=TODAY, reason=" "
        )
    assert "exit_reason" in error.value.message_dict
    person.refresh_from_db()
    assert person.status == RecipientStatus.REGISTERED


# When an advisor leaves ---------------------------------------------------------------------


def test_hand_over_moves_people_and_open_needs_in_one_step(two_streets):
    point = committee_point(two_streets.committees_a[0])
    leaving = make_advisor(two_streets.street_a, [point])
    taking = make_advisor(two_streets.street_a, [point])
    people = [make_recipient(two_streets.committees_a[0], advisor=leaving) for _ in range(3)]
    open_need = make_need(people[0], status=NeedStatus.TO_LINK)
    closed_need = make_need(people[1], status=NeedStatus.RESOLVED)

    moved = services.hand_over(actor=two_streets.manager_a, from_advisor=leaving, to_advisor=taking)

    assert moved == {"recipients": 3, "needs": 1, "leads": 0}
    assert set(Recipient.objects.filter(advisor=taking)) == set(people)
    open_need.refresh_from_db()
    closed_need.refresh_from_db()
    assert open_need.advisor == taking
    assert closed_need.advisor == leaving


def test_hand_over_to_another_streets_advisor_is_refused(two_streets):
    leaving = make_advisor(two_streets.street_a)
    other = make_advisor(two_streets.street_b)
    make_recipient(two_streets.committees_a[0], advisor=leaving)
    with pytest.raises(Http404):
        services.hand_over(actor=two_streets.manager_a, from_advisor=leaving, to_advisor=other)
    with pytest.raises(ValidationError):
        services.hand_over(actor=two_streets.bureau, from_advisor=leaving, to_advisor=other)
    assert Recipient.objects.get().advisor == leaving


def test_a_current_recipient_without_an_active_advisor_is_flagged(two_streets):
    committee = two_streets.committees_a[0]
    active = make_advisor(two_streets.street_a)
    left = make_advisor(two_streets.street_a, left_on=TODAY - datetime.timedelta(days=3))
    left.leave_reason = "调离"
    left.save()
    revoked = make_advisor(two_streets.street_a, filing_status=FilingStatus.REVOKED)
    since = datetime.date(2026, 1, 1)
    fine = make_recipient(committee, advisor=active, current_from=since)
    orphan_left = make_recipient(committee, advisor=left, current_from=since)
    orphan_revoked = make_recipient(committee, advisor=revoked, current_from=since)
    orphan_none = make_recipient(committee, current_from=since)
    make_recipient(committee)  # not current: nobody has to visit them monthly

    flagged = set(services.unassigned_current(Recipient.objects.all(), TODAY))
    assert flagged == {orphan_left, orphan_revoked, orphan_none}
    assert fine not in flagged


# Retention ----------------------------------------------------------------------------------


def test_people_who_left_long_ago_are_anonymised_once(two_streets):
    old = register(two_streets, phone="13800001111", address="华阳路1号")
    services.exit_register(
        actor=two_streets.manager_a,
        recipient=old,
        exited_on=datetime.date(2021, 11, 29),
        reason="迁出本区",
    )
    recent = register(two_streets, name="李四")
    services.exit_register(
        actor=two_streets.manager_a,
        recipient=recent,
        exited_on=datetime.date(2021, 12, 1),
        reason="迁出本区",
    )
    need = make_need(old, status=NeedStatus.RESOLVED)

    assert services.anonymise_expired(TODAY) == 1
    assert services.anonymise_expired(TODAY) == 0

    old.refresh_from_db()
    assert old.name == "(已匿名)"
    assert not old.id_number and old.id_number_hash is None and old.id_tail == ""
    assert old.phone == "" and old.address == ""
    assert old.file_number.startswith("DA")
    assert Need.objects.get() == need
    recent.refresh_from_db()
    assert recent.name == "李四"


# Needs, resources, services ------------------------------------------------------------------


def test_a_need_moves_through_its_statuses(two_streets):
    person = register(two_streets)
    need = services.record_need(
        actor=two_streets.advisor_a,
        recipient=person,
        category=NeedCategory.HOUSING,
        description="住房漏水需要修缮",
        source=NeedSource.VISIT,
        found_on=TODAY,
        urgency=Urgency.URGENT,
    )
    assert need.status == NeedStatus.TO_ASSESS
    assert need.need_number == "XQ310105001000001"

    with pytest.raises(ValidationError):
        services.change_need_status(
            actor=two_streets.advisor_a, need=need, status=NeedStatus.UNRESOLVABLE
        )
    need.refresh_from_db()
    assert need.status == NeedStatus.TO_ASSESS

    services.change_need_status(actor=two_streets.advisor_a, need=need, status=NeedStatus.TO_LINK)
    resource = make_resource(district=two_streets.district, name="住房修缮帮困项目")
    services.link_resource(actor=two_streets.advisor_a, need=need, resource=resource)
    need.refresh_from_db()
    assert need.status == NeedStatus.LINKED
    assert list(need.resources.all()) == [resource]

    services.change_need_status(
        actor=two_streets.advisor_a, need=need, status=NeedStatus.RESOLVED, outcome="已修缮"
    )
    need.refresh_from_db()
    assert need.status == NeedStatus.RESOLVED and need.closed_on == TODAY
    with pytest.raises(ValidationError):
        services.change_need_status(
            actor=two_streets.advisor_a, need=need, status=NeedStatus.TO_LINK
        )


def test_a_district_resource_is_every_streets_and_a_streets_its_own(two_streets):
    shared = make_resource(district=two_streets.district)
    own_a = make_resource(street=two_streets.street_a)
    own_b = make_resource(committee=two_streets.committees_b[0])

    assert set(Resource.objects.visible_to(two_streets.manager_a)) == {shared, own_a}
    assert set(Resource.objects.visible_to(two_streets.manager_b)) == {shared, own_b}
    assert set(Resource.objects.visible_to(two_streets.advisor_a)) == {shared, own_a}
    assert set(Resource.objects.visible_to(two_streets.bureau)) == {shared, own_a, own_b}


def test_only_the_bureau_keeps_district_resources(two_streets):
    with pytest.raises(PermissionDenied):
        services.create_resource(
            actor=two_streets.manager_a,
            area_level=AreaLevel.DISTRICT,
            name="全区资源",
            resource_type=ResourceType.FUND,
        )
    policy = services.create_resource(
        actor=two_streets.bureau,
        area_level=AreaLevel.DISTRICT,
        name="长宁区支出型贫困家庭救助",
        resource_type=ResourceType.POLICY,
        legal_basis="长民规〔2023〕1号",
    )
    assert policy.resource_number == "ZY31010500001"
    with pytest.raises(PermissionDenied):
        services.update_resource(actor=two_streets.manager_a, resource=policy, name="改名")
    with pytest.raises(ValidationError) as error:
        services.create_resource(
            actor=two_streets.manager_a,
            area_level=AreaLevel.STREET,
            street=two_streets.street_a,
            name="无依据政策",
            resource_type=ResourceType.POLICY,
        )
    assert "legal_basis" in error.value.message_dict


def test_services_follow_the_tasks_of_the_station(two_streets):
    point = committee_point(two_streets.committees_a[0])
    advisor = make_advisor(two_streets.street_a, [point])
    advisor.user = two_streets.advisor_a
    advisor.save()
    person = register(two_streets)

    service = services.record_service(
        actor=two_streets.advisor_a,
        date=TODAY,
        advisor=advisor,
        station=point,
        recipient=person,
        item=ServiceItem.DISCOVERY,
        task=ServiceTask.HOME_VISIT,
        content="上门了解家庭情况",
        step=ServiceStep.ASSESS,
    )
    assert service.record_number == "FW3101050010000001"
    with pytest.raises(ValidationError) as error:
        services.record_service(
            actor=two_streets.advisor_a,
            date=TODAY,
            advisor=advisor,
            station=point,
            recipient=person,
            item=ServiceItem.PUBLICITY,
            task=ServiceTask.APPLICATION_INTAKE,
            content="受理申请",
        )
    assert "不是居委服务点的服务任务" in error.value.message_dict["task"][0]
    with pytest.raises(ValidationError) as error:
        services.record_service(
            actor=two_streets.advisor_a,
            date=TODAY,
            advisor=advisor,
            station=point,
            item=ServiceItem.PUBLICITY,
            task=ServiceTask.POLICY_GUIDANCE,
            content="政策宣传活动",
        )
    assert "参加人数" in error.value.message_dict["head_count"][0]
    group = services.record_service(
        actor=two_streets.advisor_a,
        date=TODAY,
        advisor=advisor,
        station=point,
        item=ServiceItem.PUBLICITY,
        task=ServiceTask.POLICY_GUIDANCE,
        content="政策宣传活动",
        head_count=25,
    )
    assert services.furthest_step([service, group]) == ServiceStep.ASSESS
    assert ServiceRecord.objects.count() == 2


def test_an_advisor_records_only_their_own_services(two_streets):
    point = committee_point(two_streets.committees_a[0])
    mine = make_advisor(two_streets.street_a, [point])
    mine.user = two_streets.advisor_a
    mine.save()
    colleague = make_advisor(two_streets.street_a, [point])
    with pytest.raises(PermissionDenied):
        services.record_service(
            actor=two_streets.advisor_a,
            date=TODAY,
            advisor=colleague,
            station=point,
            item=ServiceItem.PUBLICITY,
            task=ServiceTask.POLICY_GUIDANCE,
            content="宣传",
            head_count=3,
        )
    assert not ServiceRecord.objects.exists()


def test_public_and_staff_evaluations(two_streets):
    point = committee_point(two_streets.committees_a[0])
    evaluation = services.public_evaluation(station=point, rating="satisfied", comment=" 很好 ")
    assert evaluation.comment == "很好" and evaluation.entered_by is None
    with pytest.raises(ValidationError):
        services.public_evaluation(station=point, rating="excellent")
    with pytest.raises(Http404):
        services.record_evaluation(
            actor=two_streets.manager_b, station=point, rating="dissatisfied"
        )


def test_a_review_is_recorded_for_the_managers_street_only(two_streets):
    review = services.record_review(
        actor=two_streets.manager_a, street=two_streets.street_a, checklist="resources"
    )
    assert review.reviewed_on == TODAY and review.by == two_streets.manager_a
    with pytest.raises(Http404):
        services.record_review(
            actor=two_streets.manager_a, street=two_streets.street_b, checklist="resources"
        )
    with pytest.raises(ValidationError):
        services.record_review(
            actor=two_streets.manager_a,
            street=two_streets.street_a,
            checklist="resources",
            reviewed_on=TODAY + datetime.timedelta(days=1),
        )
