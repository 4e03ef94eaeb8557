"""`manage.py seed_demo`: the demo network and logins every later demo and journey starts from."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from advisors.choices import Background, FilingStatus
from advisors.models import (
    Advisor,
    AdvisorStation,
    FilingEvent,
    Training,
    TrainingAttendance,
    Volunteer,
)
from cases.choices import (
    COMMITTEE_POINT_TASKS,
    OPEN_NEED_STATUSES,
    STREET_STATION_TASKS,
    EvaluationSource,
    LeadStatus,
    NeedStatus,
    RecipientStatus,
    ResourceType,
)
from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload
from cases.models import (
    AdvisorCharge,
    ChecklistReview,
    CurrentPeriod,
    Evaluation,
    Need,
    NeedResource,
    Recipient,
    RecipientCategory,
    RecipientKeyGroup,
    Resource,
    ServiceRecord,
)
from cases.services import in_street_list, unassigned_current
from changning_aid import demo_cases
from changning_aid.sensitive.idnumbers import is_valid_id_number
from stations.choices import StationKind, StationStatus
from stations.models import Committee, District, Station, Street
from supervision.staffing_rules import RULES
from visits import coverage
from visits.choices import FAILED_RESULTS, CheckLevel, VisitResult
from visits.models import Visit, policy_for

DEMO_PASSWORD = "Changning-2023"


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = DEMO_PASSWORD


@pytest.fixture(autouse=True)
def few_people(monkeypatch):
    """The full seed's 32,000 people take half a minute: these tests share out a few hundred."""
    monkeypatch.setattr(demo_cases, "PEOPLE_TOTAL", 600)


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Everything seed_demo writes, in a form two runs can be compared by."""
    return {
        "districts": list(District.objects.order_by("code").values()),
        "streets": list(Street.objects.order_by("code").values()),
        "committees": list(Committee.objects.order_by("code").values()),
        "stations": list(Station.objects.order_by("pk").values()),
        "users": list(User.objects.order_by("username").values()),
        "user_stations": sorted(
            User.stations.through.objects.values_list("user__username", "station__name")
        ),
        "advisors": list(Advisor.objects.order_by("advisor_number").values()),
        "advisor_stations": list(AdvisorStation.objects.order_by("pk").values()),
        "filing_events": list(FilingEvent.objects.order_by("pk").values()),
        "trainings": list(Training.objects.order_by("pk").values()),
        "attendances": list(TrainingAttendance.objects.order_by("pk").values()),
        "volunteers": list(Volunteer.objects.order_by("pk").values()),
        "recipients": list(Recipient.objects.order_by("pk").values()),
        "periods": list(CurrentPeriod.objects.order_by("pk").values()),
        "recipient_categories": list(RecipientCategory.objects.order_by("pk").values()),
        "recipient_key_groups": list(RecipientKeyGroup.objects.order_by("pk").values()),
        "needs": list(Need.objects.order_by("pk").values()),
        "need_resources": list(NeedResource.objects.order_by("pk").values()),
        "resources": list(Resource.objects.order_by("pk").values()),
        "services": list(ServiceRecord.objects.order_by("pk").values()),
        "evaluations": list(Evaluation.objects.order_by("pk").values()),
        "reviews": list(ChecklistReview.objects.order_by("pk").values()),
        "charges": list(AdvisorCharge.objects.order_by("pk").values()),
        "visits": list(Visit.objects.order_by("pk").values()),
        "lead_sources": list(LeadSource.objects.order_by("pk").values()),
        "lead_uploads": list(LeadUpload.objects.order_by("pk").values()),
        "leads": list(Lead.objects.order_by("pk").values()),
        "lead_facts": list(LeadFact.objects.order_by("pk").values()),
    }


def staffed_committee_points():
    return Station.objects.filter(kind=StationKind.COMMITTEE, advisors__isnull=False).distinct()


@pytest.fixture
def full_seed(db, debug_on):
    return seed()


@pytest.mark.django_db
def test_full_seed_loads_changning(full_seed):
    district = District.objects.get()
    assert (district.code, district.name) == ("310105", "长宁区")
    assert Street.objects.count() == 10
    assert Committee.objects.count() == 189
    assert Station.objects.filter(kind=StationKind.GUIDANCE).count() == 1
    assert Station.objects.filter(kind=StationKind.STREET).count() == 10
    assert Station.objects.filter(kind=StationKind.COMMITTEE).count() == 189


@pytest.mark.django_db
def test_full_seed_creates_a_login_per_role(full_seed):
    admin = User.objects.get(username="admin")
    assert admin.role == Role.SYSTEM_ADMIN
    assert admin.is_superuser and admin.is_staff

    bureau = User.objects.get(username="bureau")
    assert bureau.role == Role.BUREAU
    assert bureau.district.code == "310105"

    managers = User.objects.filter(role=Role.STREET_MANAGER)
    assert sorted(managers.values_list("username", flat=True)) == sorted(
        f"street_{code}" for code in Street.objects.values_list("code", flat=True)
    )
    manager = managers.get(username="street_310105001")
    assert manager.street.name == "华阳路街道"
    assert manager.district.code == "310105"
    assert manager.full_name == "华阳路街道管理员"

    # A login for each committee point with advisors, none for the others.
    advisors = User.objects.filter(role=Role.ADVISOR)
    staffed_points = staffed_committee_points()
    assert advisors.count() == staffed_points.count()
    assert 170 <= advisors.count() < 189
    advisor = advisors.get(username="advisor_310105001001")
    assert advisor.full_name == "华一居委顾问"
    assert [station.committee.code for station in advisor.stations.all()] == ["310105001001"]
    # Every advisor login serves exactly their own committee's point.
    through = User.stations.through.objects.filter(user__role=Role.ADVISOR)
    assert through.count() == advisors.count()
    for username, committee_code in through.values_list(
        "user__username", "station__committee__code"
    ):
        assert username == f"advisor_{committee_code}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username", ["admin", "bureau", "auditor", "street_310105102", "advisor_310105001001"]
)
def test_demo_logins_work_with_the_demo_password(full_seed, client, username):
    assert client.login(username=username, password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_the_demo_auditor_lands_on_the_audit_trail(full_seed, client):
    client.login(username="auditor", password=DEMO_PASSWORD)
    response = client.get("/", follow=True)
    assert response.request["PATH_INFO"] == "/audit/"
    assert "审计" in response.content.decode()


@pytest.mark.django_db
def test_the_password_is_hashed_once(full_seed):
    assert User.objects.values("password").distinct().count() == 1
    assert not User.objects.get(username="bureau").password.startswith(DEMO_PASSWORD)


@pytest.mark.django_db
def test_most_stations_run_and_a_few_committee_points_do_not(full_seed):
    assert (
        not Station.objects.exclude(kind=StationKind.COMMITTEE)
        .exclude(status=StationStatus.RUNNING)
        .exists()
    )
    idle = Station.objects.filter(kind=StationKind.COMMITTEE).exclude(status=StationStatus.RUNNING)
    assert 5 <= idle.count() <= 8
    assert {station.status for station in idle} == {
        StationStatus.PLANNING,
        StationStatus.SUSPENDED,
    }
    first_committees = {
        street.committees.order_by("code").first().pk for street in Street.objects.all()
    }
    assert not idle.filter(committee__in=first_committees).exists()


@pytest.mark.django_db
def test_stations_get_plausible_details(full_seed):
    street_station = Station.objects.get(kind=StationKind.STREET, street__code="310105001")
    assert street_station.address.startswith("长宁区")
    assert street_station.address.endswith("华阳路街道社区事务受理服务中心")
    assert street_station.opening_hours.startswith("周一至周五")
    assert street_station.phone.startswith("021-6")
    assert (
        street_station.signboard_name == street_station.name == "长宁区华阳路街道社区救助顾问服务站"
    )
    assert street_station.has_unified_logo
    assert street_station.computers >= 1

    for station in Station.objects.all():
        assert station.address and station.phone and station.opening_hours, station

    # A few plaques and street stations fall short, so that C3 and C4 have rows to show.
    points = Station.objects.filter(kind=StationKind.COMMITTEE)
    assert 1 <= sum(not point.has_standard_signboard for point in points) <= 10
    street_stations = Station.objects.filter(kind=StationKind.STREET)
    short_of_c4 = [
        station
        for station in street_stations
        if station.workspace_m2 < 20
        or station.desk_sets < 2
        or station.computers < 1
        or not station.has_internet
    ]
    assert len(short_of_c4) == 2


@pytest.mark.django_db
def test_the_logins_are_printed(full_seed):
    for text in ("admin", "bureau", "street_310105001", "advisor_310105001001", DEMO_PASSWORD):
        assert text in full_seed


@pytest.mark.django_db
def test_a_second_run_changes_nothing(full_seed):
    before = snapshot()
    output = seed()
    assert snapshot() == before
    assert "没有新建或修改" in output


@pytest.mark.django_db
def test_a_second_run_keeps_what_people_changed(debug_on):
    seed("--small")
    point = Station.objects.get(committee__code="310105001001")
    point.status = StationStatus.SUSPENDED
    point.opening_hours = "周二 9:00-11:00"
    point.save()
    bureau = User.objects.get(username="bureau")
    bureau.set_password("a-changed-password")
    bureau.save()
    advisor = Advisor.objects.order_by("advisor_number").first()
    advisor.name = "改了名"
    advisor.save()
    counts = (Advisor.objects.count(), Training.objects.count(), Volunteer.objects.count())

    seed("--small")

    advisor.refresh_from_db()
    assert advisor.name == "改了名"
    assert (Advisor.objects.count(), Training.objects.count(), Volunteer.objects.count()) == counts

    point.refresh_from_db()
    assert (point.status, point.opening_hours) == (StationStatus.SUSPENDED, "周二 9:00-11:00")
    bureau.refresh_from_db()
    assert bureau.check_password("a-changed-password")


@pytest.mark.django_db
def test_small_loads_the_first_two_streets(debug_on, client):
    seed("--small")
    assert list(Street.objects.order_by("code").values_list("name", flat=True)) == [
        "华阳路街道",
        "江苏路街道",
    ]
    assert Committee.objects.count() == 21 + 13
    assert Station.objects.filter(kind=StationKind.COMMITTEE).count() == 34
    assert User.objects.filter(role=Role.STREET_MANAGER).count() == 2
    # 34 points: one not in service and one running without advisors have no login.
    assert User.objects.filter(role=Role.ADVISOR).count() == 32
    assert 40 <= Advisor.objects.count() <= 80
    assert Volunteer.objects.filter(street__code="310105002").exists()
    assert client.login(username="bureau", password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_small_then_full_adds_the_rest(debug_on):
    seed("--small")
    small_advisors = list(Advisor.objects.order_by("advisor_number").values())
    seed()
    assert Street.objects.count() == 10
    assert User.objects.filter(role=Role.ADVISOR).count() == staffed_committee_points().count()
    assert User.objects.filter(role=Role.STREET_MANAGER).count() == 10
    assert 300 <= Advisor.objects.count() <= 400
    # The first streets' people are as --small made them, and every street has its own.
    assert (
        list(
            Advisor.objects.filter(street__code__in=["310105001", "310105002"])
            .order_by("advisor_number")
            .values()
        )
        == small_advisors
    )
    assert set(Advisor.objects.values_list("street", flat=True)) == set(
        Street.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed()
    assert not District.objects.exists()
    assert not Station.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
def test_demo_password_comes_from_the_setting(debug_on, settings, client):
    settings.DEMO_PASSWORD = "Another-demo-2024"
    output = seed("--small")
    assert "Another-demo-2024" in output
    assert client.login(username="bureau", password="Another-demo-2024")


# ---- Advisors, trainings and volunteers ------------------------------------------------


@pytest.mark.django_db
def test_the_network_is_staffed_with_a_realistic_number_of_advisors(full_seed):
    assert 300 <= Advisor.objects.count() <= 400
    for station in Station.objects.filter(kind=StationKind.STREET):
        assert 2 <= station.advisors.count() <= 4, station
    point_counts = {
        station.pk: station.advisors.count()
        for station in Station.objects.filter(kind=StationKind.COMMITTEE)
    }
    assert set(point_counts.values()) == {0, 1, 2}
    assert sum(1 for count in point_counts.values() if count) >= 170
    # Every advisor serves one station of their own street, as their primary one.
    links = AdvisorStation.objects.select_related("advisor", "station")
    assert links.count() == Advisor.objects.count()
    assert all(
        link.is_primary and link.station.street_id == link.advisor.street_id for link in links
    )
    # Numbers as `next_advisor_number` makes them: GW, the street code, four digits.
    for number, street_code in Advisor.objects.values_list("advisor_number", "street__code"):
        assert number.startswith(f"GW{street_code}") and len(number) == 2 + 9 + 4


@pytest.mark.django_db
def test_advisors_have_chinese_names_mobiles_skills_and_backgrounds(full_seed):
    advisors = list(Advisor.objects.select_related("street"))
    names = [advisor.name for advisor in advisors]
    assert all(2 <= len(name) <= 3 for name in names)
    assert len(set(names)) == len(names)
    assert sum(name.startswith("曾") for name in names) >= 3
    assert sum(name.startswith("单") for name in names) >= 3
    assert all(advisor.mobile.isdigit() and len(advisor.mobile) == 11 for advisor in advisors)
    assert all(advisor.skills for advisor in advisors)
    for advisor in advisors:
        advisor.full_clean()
    points = Advisor.objects.filter(stations__kind=StationKind.COMMITTEE)
    street_staff = Advisor.objects.filter(stations__kind=StationKind.STREET)
    at_points = points.filter(
        background__in=[Background.COMMITTEE_CADRE, Background.COMMUNITY_WORKER]
    ).count()
    assert at_points >= 0.8 * points.count()
    assert points.filter(background=Background.SOCIAL_WORKER).exists()
    assert street_staff.filter(background=Background.STREET_STAFF).count() >= 0.8 * (
        street_staff.count()
    )
    assert Advisor.objects.exclude(social_work_level="none").exclude(certificate_number="").exists()


@pytest.mark.django_db
def test_the_first_point_of_each_street_has_an_advisor_with_a_linked_login(full_seed, client):
    for street in Street.objects.all():
        committee = street.committees.order_by("code").first()
        point = Station.objects.get(kind=StationKind.COMMITTEE, committee=committee)
        login = User.objects.get(username=f"advisor_{committee.code}")
        advisor = Advisor.objects.get(user=login)
        assert point in advisor.stations.all()
        assert advisor.is_active_on(datetime.date.today())
        assert set(login.stations.all()) == {point}
    # The linked advisor logs in and works.
    assert client.login(username="advisor_310105001001", password=DEMO_PASSWORD)
    assert client.get("/", follow=True).status_code == 200

    # And so is every advisor login, to the first advisor of its point.
    for login in User.objects.filter(role=Role.ADVISOR):
        advisor = login.advisor_profile
        [point] = login.stations.all()
        assert point in advisor.stations.all()
        assert advisor.is_active_on(datetime.date.today())
    assert Advisor.objects.filter(user__isnull=False).count() == (
        User.objects.filter(role=Role.ADVISOR).count()
    )


@pytest.mark.django_db
def test_some_points_have_no_advisor_and_no_login(full_seed):
    empty = Station.objects.filter(kind=StationKind.COMMITTEE, advisors__isnull=True)
    running_empty = empty.filter(status=StationStatus.RUNNING)
    assert 3 <= running_empty.count() <= 10
    first_committees = {
        street.committees.order_by("code").first().pk for street in Street.objects.all()
    }
    assert not empty.filter(committee__in=first_committees).exists()
    usernames = {f"advisor_{code}" for code in empty.values_list("committee__code", flat=True)}
    assert not User.objects.filter(username__in=usernames).exists()


@pytest.mark.django_db
def test_filing_leaving_and_revocation_are_all_shown(full_seed):
    today = datetime.date.today()
    filed = Advisor.objects.filter(filing_status=FilingStatus.FILED)
    assert filed.count() >= 0.9 * Advisor.objects.count()
    assert not filed.filter(filing_number="").exists()
    assert len(set(filed.values_list("filing_number", flat=True))) == filed.count()
    pending = Advisor.objects.filter(filing_status=FilingStatus.PENDING)
    assert 5 <= pending.count() <= 20
    assert pending.filter(filing_submitted_at__isnull=False).exists()
    assert pending.filter(filing_submitted_at__isnull=True).exists()
    left = Advisor.objects.filter(left_on__lte=today)
    assert 1 <= left.count() <= 3
    assert all(advisor.leave_reason for advisor in left)
    revoked = Advisor.objects.get(filing_status=FilingStatus.REVOKED)
    assert revoked.filing_events.get().reason
    # Nobody whose service ended has a login.
    assert (
        not Advisor.objects.exclude(user=None)
        .filter(Q(left_on__lte=today) | Q(filing_status=FilingStatus.REVOKED))
        .exists()
    )
    assert Advisor.objects.filter(Q(uniform_issued_on=None) | Q(badge_issued_on=None)).exists()


@pytest.mark.django_db
def test_every_staffing_rule_has_rows_that_pass_and_rows_to_show(full_seed):
    scopes = {
        "C5": Station.objects.all(),
        "C6": Station.objects.all(),
        "C7": Advisor.objects.all(),
        "C8": Street.objects.all(),
        "C11": Advisor.objects.all(),
    }
    for rule_id, scope in scopes.items():
        result = RULES[rule_id].evaluate(scope)
        assert result.covered >= 1, rule_id
        assert result.total - result.covered >= 1, rule_id


@pytest.mark.django_db
def test_trainings_this_year_in_most_streets_and_one_of_the_district(full_seed):
    today = datetime.date.today()
    this_year = Training.objects.filter(date__year=today.year, date__lte=today)
    streets_trained = set(this_year.exclude(street=None).values_list("street", flat=True))
    assert 6 <= len(streets_trained) < Street.objects.count()
    district = this_year.get(street=None)
    assert district.attendances.filter(attended=True).exists()
    assert not district.attendances.filter(
        advisor__street__in=Street.objects.exclude(pk__in=streets_trained)
    ).exists()
    for training in Training.objects.exclude(street=None):
        assert training.attendances.filter(attended=True).exists()
        assert not training.attendances.exclude(advisor__street=training.street).exists()
    assert TrainingAttendance.objects.filter(attended=False).exists()


@pytest.mark.django_db
def test_each_street_has_a_few_volunteers(full_seed):
    today = datetime.date.today()
    for street in Street.objects.all():
        volunteers = street.volunteers.all()
        assert 3 <= volunteers.count() <= 5, street
        assert all(v.station is None or v.station.street_id == street.pk for v in volunteers)
    volunteers = Volunteer.objects.all()
    assert volunteers.filter(station=None).exists()
    assert volunteers.exclude(station=None).exists()
    assert volunteers.filter(active_to__lt=today).exists()
    for volunteer in volunteers:
        volunteer.full_clean()
        assert volunteer.phone.isdigit()


# ---- People in hardship and the checklists ---------------------------------------------------


@pytest.fixture
def small_seed(db, debug_on):
    return seed("--small")


@pytest.mark.django_db
def test_people_live_in_every_street_and_committee(small_seed):
    streets = Street.objects.all()
    assert set(Recipient.objects.values_list("street", flat=True)) == set(
        streets.values_list("pk", flat=True)
    )
    assert 150 <= Recipient.objects.count() <= 300
    assert not Committee.objects.filter(recipients__isnull=True).exists()
    for recipient in Recipient.objects.select_related("committee", "street"):
        assert recipient.committee.street_id == recipient.street_id
        assert recipient.file_number.startswith(f"DA{recipient.street.code}")
        assert len(recipient.file_number) == 2 + 9 + 6
        assert recipient.address.startswith("长宁区")
        assert recipient.name_initials
    assert "单" in "".join(Recipient.objects.values_list("name", flat=True)) or "曾" in "".join(
        Recipient.objects.values_list("name", flat=True)
    )
    assert Recipient.objects.filter(phone="").exists()
    assert Recipient.objects.exclude(phone="").exists()


@pytest.mark.django_db
def test_id_numbers_are_valid_unique_encrypted_and_match_the_gender(small_seed):
    numbers = []
    for recipient in Recipient.objects.all():
        number = recipient.id_number.reveal()
        assert is_valid_id_number(number), number
        assert number[:6] in {code for code, _weight in demo_cases.AREA_CODES}
        assert (recipient.gender == "male") == (int(number[16]) % 2 == 1)
        assert recipient.id_tail == number[-4:]
        assert recipient.birth_date.strftime("%Y%m%d") == number[6:14]
        numbers.append(number)
    assert len(set(numbers)) == len(numbers)
    # Stored encrypted: no plain number in the column.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number FROM {Recipient._meta.db_table}")
        stored = [row[0] for row in cursor.fetchall()]
    assert all(token.startswith("sm4gcm$") for token in stored)
    # Many elderly, some children.
    ages = [recipient.age for recipient in Recipient.objects.all()]
    assert sum(age >= 60 for age in ages) > len(ages) / 3
    assert any(age < 18 for age in ages)


@pytest.mark.django_db
def test_current_recipients_have_a_period_covering_today(small_seed):
    today = timezone.localdate()
    current = Recipient.objects.current_on(today)
    people = Recipient.objects.count()
    assert 0.2 * people <= current.count() <= 0.45 * people
    for recipient in current.prefetch_related("periods"):
        assert recipient.status == RecipientStatus.REGISTERED
        assert recipient.is_current_on(today)
        periods = list(recipient.periods.all())
        covering = [period for period in periods if period.covers(today)]
        assert len(covering) == 1
        assert covering[0].starts_on >= today - datetime.timedelta(days=2 * 366)
    # Most periods are open; some people had an earlier, ended one.
    assert CurrentPeriod.objects.filter(ends_on__isnull=True).exists()
    assert CurrentPeriod.objects.filter(ends_on__lt=today).exists()
    assert current.annotate(n=Count("periods")).filter(n=2).exists()


@pytest.mark.django_db
def test_exited_people_have_a_date_a_reason_and_no_open_period(small_seed):
    exited = Recipient.objects.filter(status=RecipientStatus.EXITED)
    assert exited.exists()
    for recipient in exited.prefetch_related("periods"):
        assert recipient.exited_on <= timezone.localdate()
        assert recipient.exit_reason
        assert all(
            p.ends_on is not None and p.ends_on <= recipient.exited_on
            for p in recipient.periods.all()
        )


@pytest.mark.django_db
def test_categories_and_key_groups(small_seed):
    categories = RecipientCategory.objects.values_list("category__name", flat=True)
    assert categories.filter(category__name="低保").count() == max(
        categories.filter(category__name=name).count() for name in set(categories)
    )
    assert {"低保", "低收入", "临时救助"} <= set(categories)
    assert {"独居老人", "高龄老人", "重残"} <= set(
        RecipientKeyGroup.objects.values_list("key_group__name", flat=True)
    )
    assert Recipient.objects.annotate(n=Count("categories")).filter(n__gte=2).exists(), (
        "some people have several categories"
    )


@pytest.mark.django_db
def test_responsible_advisors_serve_the_point_and_some_people_have_none(small_seed):
    today = timezone.localdate()
    for recipient in Recipient.objects.exclude(advisor=None).select_related("advisor"):
        assert recipient.advisor.street_id == recipient.street_id
        assert recipient.advisor.station_links.filter(
            station__committee=recipient.committee_id
        ).exists()
    unassigned = unassigned_current(Recipient.objects.all(), today)
    assert unassigned.filter(advisor=None).exists()
    # A point without advisors: its people have none.
    empty_points = Station.objects.filter(kind=StationKind.COMMITTEE, advisors__isnull=True)
    assert empty_points.exists()
    assert not Recipient.objects.filter(
        committee__in=empty_points.values("committee"), advisor__isnull=False
    ).exists()
    # Someone whose advisor has left, waiting to be handed over.
    assert unassigned.filter(advisor__isnull=False).exists()


@pytest.mark.django_db
def test_needs_of_every_status_open_ones_recent(small_seed):
    today = timezone.localdate()
    needs = Need.objects.select_related("recipient")
    assert set(needs.values_list("status", flat=True)) == set(NeedStatus.values)
    people = Recipient.objects.count()
    assert 0.1 * people <= needs.values("recipient").distinct().count() <= 0.3 * people
    for need in needs:
        assert need.need_number.startswith(f"XQ{need.recipient.street.code}")
        assert need.found_on <= today
        if need.status in OPEN_NEED_STATUSES:
            assert need.found_on >= today - datetime.timedelta(days=150)
            assert need.closed_on is None
            assert need.recipient.status == RecipientStatus.REGISTERED
        else:
            assert need.found_on <= need.closed_on <= today
            assert need.outcome
    for link in NeedResource.objects.select_related("need__recipient__street", "resource"):
        assert in_street_list(link.resource, link.need.recipient.street)


@pytest.mark.django_db
def test_resources_of_every_type_policies_with_their_legal_basis(small_seed):
    assert set(Resource.objects.values_list("resource_type", flat=True)) == set(ResourceType.values)
    policies = Resource.objects.filter(resource_type=ResourceType.POLICY)
    assert policies.count() == 80
    assert not policies.filter(legal_basis="").exists()
    assert all("〔" in basis for basis in policies.values_list("legal_basis", flat=True))
    assert Resource.objects.filter(resource_type=ResourceType.ORGANISATION).count() >= 30
    assert set(Resource.objects.values_list("area_level", flat=True)) == {
        "district",
        "street",
        "committee",
    }
    district = Resource.objects.filter(area_level="district").count()
    assert district > Resource.objects.exclude(area_level="district").count()
    for resource in Resource.objects.select_related("street", "district"):
        assert resource.resource_number.startswith(f"ZY{resource.area_code()}")
        resource.full_clean()


@pytest.mark.django_db
def test_a_year_of_services_by_advisors_on_duty_at_their_stations(small_seed):
    today = timezone.localdate()
    services = ServiceRecord.objects.select_related("station__street", "advisor", "recipient")
    current = Recipient.objects.current_on(today).count()
    assert current <= services.count() <= 12 * current
    allowed = {
        StationKind.STREET: STREET_STATION_TASKS,
        StationKind.COMMITTEE: COMMITTEE_POINT_TASKS,
    }
    for service in services:
        assert service.task in allowed[service.station.kind]
        assert today - datetime.timedelta(days=366) <= service.date <= today
        assert service.advisor.is_active_on(service.date)
        assert service.advisor.station_links.filter(station=service.station).exists()
        assert service.record_number.startswith(f"FW{service.station.street.code}")
        service.full_clean()
    assert set(services.values_list("step", flat=True)) == {1, 2, 3, 4, 5}
    assert services.filter(recipient=None, head_count__gte=1).exists()
    assert services.exclude(need=None).exists()
    assert services.exclude(resource=None).exists()
    assert services.filter(station__kind=StationKind.STREET).exists()


@pytest.mark.django_db
def test_stations_have_evaluations_and_some_lists_a_review(small_seed):
    assert set(Evaluation.objects.values_list("source", flat=True)) == set(EvaluationSource.values)
    for evaluation in Evaluation.objects.exclude(service=None).select_related("service"):
        assert evaluation.service.station_id == evaluation.station_id
    dates = {e.created_at.date() for e in Evaluation.objects.all()}
    assert len(dates) > 10, "spread over the year"
    assert ChecklistReview.objects.filter(by__role=Role.STREET_MANAGER).exists()


@pytest.mark.django_db
def test_a_second_small_run_creates_nothing(small_seed):
    before = snapshot()
    output = seed("--small")
    assert snapshot() == before
    assert "没有新建或修改" in output
    assert "困难人员" in small_seed


@pytest.mark.django_db
def test_the_full_seed_shares_the_people_out_with_some_large_committees(full_seed):
    # The people of the register as made (not those enrolled from leads, 政策找人).
    counts = sorted(
        Recipient.objects.filter(lead__isnull=True)
        .values("committee")
        .annotate(n=Count("pk"))
        .values_list("n", flat=True)
    )
    assert sum(counts) == 600
    assert Committee.objects.count() == len(counts)
    assert counts[-1] >= 2 * counts[len(counts) // 2]


# ---- Monthly visits ---------------------------------------------------------------------------


def district_policy():
    return policy_for(District.objects.get().pk)


def visit_months():
    """The twelve months of demo visits, the month in progress last."""
    return coverage.months_ending(timezone.localdate(), 12)


@pytest.mark.django_db
def test_visits_cover_most_due_person_months(small_seed):
    policy = district_policy()
    complete = visit_months()[:-1]
    figures = [coverage.month_figures(Recipient.objects.all(), month, policy) for month in complete]
    assert all(figure.due for figure in figures)
    due = sum(figure.due for figure in figures)
    visited = sum(figure.visited for figure in figures)
    assert 0.85 * due <= visited < due
    # Nobody is visited before the window or after today.
    today = timezone.localdate()
    assert not Visit.objects.filter(
        Q(visited_on__lt=complete[0]) | Q(visited_on__gt=today)
    ).exists()
    assert "近12个月走访记录" in small_seed


@pytest.mark.django_db
def test_last_month_has_gaps_and_a_poorly_covered_committee(small_seed):
    policy = district_policy()
    last_month = visit_months()[-2]
    figure = coverage.month_figures(Recipient.objects.all(), last_month, policy)
    assert Decimal(80) <= figure.rate <= Decimal(99)
    by_committee = coverage.month_figures(
        Recipient.objects.all(), last_month, policy, by="committee"
    )
    rates = [f.rate for f in by_committee.values() if f.due]
    assert min(rates) < 80
    # Most committees are (nearly) fully covered.
    assert sum(rate >= 90 for rate in rates) >= 0.7 * len(rates)
    # The misses listed are the figure's.
    assert coverage.misses(Recipient.objects.all(), last_month, policy).count() == figure.missed


@pytest.mark.django_db
def test_failed_attempts_are_recorded_and_not_counted(small_seed):
    policy = district_policy()
    failed = Visit.objects.filter(result__in=FAILED_RESULTS)
    assert failed.exists()
    assert 0.01 * Visit.objects.count() <= failed.count() <= 0.08 * Visit.objects.count()
    assert set(failed.values_list("method", flat=True)) == {"home"}
    assert not failed.exclude(living="", health="", housing="", mood="").exists()
    # Some are followed by a successful retry a few days later...
    retried = 0
    for attempt in failed:
        retried += Visit.objects.filter(
            recipient=attempt.recipient_id,
            result=VisitResult.COMPLETED,
            visited_on__gt=attempt.visited_on,
            visited_on__lte=attempt.visited_on + datetime.timedelta(days=8),
        ).exists()
    assert retried >= 1
    # ...and a month with failed attempts only is a miss.
    only_failed = 0
    for month in visit_months()[:-1]:
        first, last = coverage.month_bounds(month)
        in_month = Visit.objects.filter(visited_on__gte=first, visited_on__lte=last)
        people = set(in_month.filter(result__in=FAILED_RESULTS).values_list("recipient", flat=True))
        people -= set(
            in_month.filter(result=VisitResult.COMPLETED).values_list("recipient", flat=True)
        )
        due = coverage.due_in(Recipient.objects.filter(pk__in=people), month, policy)
        missed = coverage.misses(Recipient.objects.filter(pk__in=people), month, policy)
        assert set(missed.values_list("pk", flat=True)) == set(due.values_list("pk", flat=True))
        only_failed += due.count()
    assert only_failed >= 1


@pytest.mark.django_db
def test_visits_by_an_advisor_on_duty_for_the_persons_point_on_working_days(small_seed):
    visits = Visit.objects.select_related("advisor", "recipient__street", "recorded_by")
    assert visits.count() >= 8 * Recipient.objects.current_on(timezone.localdate()).count()
    numbers = set()
    weekend = 0
    for visit in visits:
        assert visit.advisor.is_active_on(visit.visited_on), visit
        assert visit.advisor.street_id == visit.recipient.street_id
        assert visit.advisor.station_links.filter(
            Q(station__committee=visit.recipient.committee_id)
            | Q(station__kind=StationKind.STREET, station__street=visit.recipient.street_id)
        ).exists()
        assert visit.recipient.is_current_on(visit.visited_on)
        assert timezone.localtime(visit.recorded_at).date() >= visit.visited_on
        assert visit.updated_at >= visit.recorded_at
        assert visit.recorded_by.role in (Role.ADVISOR, Role.STREET_MANAGER)
        assert visit.visit_number.startswith(f"ZF{visit.recipient.street.code}")
        assert len(visit.visit_number) == 2 + 9 + 7
        numbers.add(visit.visit_number)
        weekend += visit.visited_on.weekday() >= 5
        visit.full_clean()
    assert len(numbers) == visits.count()
    assert weekend <= 0.01 * visits.count()
    assert set(visits.values_list("method", flat=True)) == {"home", "phone", "station", "video"}
    assert visits.filter(method="home").count() > visits.count() / 2
    assert visits.filter(visited_at=None).exists()


@pytest.mark.django_db
def test_some_advisors_log_late_and_managers_enter_some_visits(small_seed):
    late = [
        visit
        for visit in Visit.objects.all()
        if (timezone.localtime(visit.recorded_at).date() - visit.visited_on).days >= 4
    ]
    assert late
    assert len({visit.advisor_id for visit in late}) <= 0.15 * Advisor.objects.count()
    assert Visit.objects.filter(recorded_by__role=Role.STREET_MANAGER).exists()
    assert Visit.objects.filter(recorded_by__role=Role.ADVISOR).exists()


@pytest.mark.django_db
def test_quick_checks_mostly_normal_and_follow_ups_completed_by_a_later_visit(small_seed):
    today = timezone.localdate()
    done = Visit.objects.filter(result=VisitResult.COMPLETED)
    for check in ("living", "health", "mood"):
        levels = list(done.values_list(check, flat=True))
        assert levels.count(CheckLevel.NORMAL) >= 0.75 * len(levels), check
    assert done.filter(health__in=[CheckLevel.ATTENTION, CheckLevel.RISK]).exists()
    follow_ups = Visit.objects.filter(follow_up_required=True).select_related("followed_up_by")
    assert 0.03 * done.count() <= follow_ups.count() <= 0.15 * done.count()
    completed = follow_ups.exclude(followed_up_by=None)
    assert completed.count() > follow_ups.count() / 2
    for visit in follow_ups:
        assert visit.follow_up_by > visit.visited_on and visit.follow_up_note
        later = Visit.objects.filter(
            recipient=visit.recipient_id,
            result=VisitResult.COMPLETED,
            visited_on__gt=visit.visited_on,
        ).order_by("visited_on", "visited_at")
        # Completed by the person's next successful visit; open while there is none.
        assert visit.followed_up_by == later.first(), visit
    assert follow_ups.filter(followed_up_by=None).exists()
    assert not Visit.objects.filter(follow_up_required=False).exclude(followed_up_by=None).exists()
    assert follow_ups.filter(followed_up_by=None, follow_up_by__gte=today).exists() or (
        follow_ups.filter(followed_up_by=None, follow_up_by__lt=today).exists()
    )


@pytest.mark.django_db
def test_every_person_with_an_advisor_has_one_open_charge_naming_them(small_seed):
    today = timezone.localdate()
    charged = {}
    for recipient_id, advisor_id in AdvisorCharge.objects.filter(ends_on=None).values_list(
        "recipient", "advisor"
    ):
        assert recipient_id not in charged
        charged[recipient_id] = advisor_id
    assert charged == dict(Recipient.objects.exclude(advisor=None).values_list("pk", "advisor"))
    # Those waiting to be handed over too; and every charge begins after the advisor started.
    waiting = unassigned_current(Recipient.objects.all(), today).exclude(advisor=None)
    assert waiting.exists()
    assert all(charged[pk] == advisor for pk, advisor in waiting.values_list("pk", "advisor"))
    for charge in AdvisorCharge.objects.select_related("advisor"):
        assert charge.advisor.started_on <= charge.starts_on <= today
    # The month's last day has a responsible advisor for most of the people due.
    last_month = visit_months()[-2]
    rows = coverage.due_in(Recipient.objects.exclude(advisor=None), last_month, district_policy())
    assert sum(row.m_advisor is not None for row in rows) >= 0.8 * len(rows)


@pytest.mark.django_db
def test_the_demo_advisor_login_has_people_to_visit_this_month(small_seed):
    user = User.objects.get(username="advisor_310105001001")
    policy = district_policy()
    this_month, last_month = visit_months()[-1], visit_months()[-2]
    mine = Recipient.objects.for_advisor(user).filter(advisor__user=user)
    now = coverage.with_month(mine, this_month, policy)
    assert now.filter(m_due=True, m_visit=None).exists()
    # A few of theirs missed last month (where they had anyone due: the tests' demo is small).
    if coverage.due_in(mine, last_month, policy).exists():
        assert coverage.misses(mine, last_month, policy).exists()
    # Today's desk: the month in progress has visits up to today only, not for everyone.
    assert Visit.objects.filter(visited_on__gte=this_month).exists() or (
        timezone.localdate().day <= 3
    )
    figure = coverage.month_figures(Recipient.objects.all(), this_month, policy)
    assert figure.visited < figure.due


@pytest.mark.django_db
def test_a_street_seeded_before_visits_gets_them_on_the_next_run(small_seed):
    visits = sorted(
        Visit.objects.values_list("recipient", "advisor", "visited_on", "method", "result")
    )
    Visit.objects.filter(followed_up_by__isnull=False).update(followed_up_by=None)
    Visit.objects.all().delete()
    output = seed("--small")
    assert "近12个月走访记录" in output
    assert (
        sorted(Visit.objects.values_list("recipient", "advisor", "visited_on", "method", "result"))
        == visits
    )


@pytest.mark.django_db
def test_the_full_seed_has_a_poorly_covered_committee(full_seed):
    policy = district_policy()
    last_month = visit_months()[-2]
    figure = coverage.month_figures(Recipient.objects.all(), last_month, policy)
    assert Decimal(80) <= figure.rate <= Decimal(99)
    by_committee = coverage.month_figures(
        Recipient.objects.all(), last_month, policy, by="committee"
    )
    assert min(f.rate for f in by_committee.values() if f.due) < 80
    assert "走访覆盖较差的居委" in full_seed


# ---- 政策找人: other departments' lists and their leads -----------------------------------------


@pytest.mark.django_db
def test_three_lists_processed_with_every_kind_of_row(small_seed):
    uploads = list(LeadUpload.objects.select_related("source").order_by("received_on"))
    assert [upload.source.name for upload in uploads] == [
        "区残联·残疾人证",
        "区医保局·高额医疗费用",
        "区老龄办·独居老人",
    ]
    for upload in uploads:
        assert upload.state == LeadUpload.State.PROCESSED and upload.content is None
        assert 40 <= upload.rows_total <= 100
        assert upload.rows_new > upload.rows_total / 2
        assert upload.rows_matched >= 1 and upload.rows_duplicate >= 1
        assert upload.rows_invalid >= 3 and 1 <= upload.rows_unplaceable <= 5
        assert upload.source.has_mapping
    assert uploads[1].rows_merged >= 1 and uploads[2].rows_merged >= 1
    assert Lead.objects.filter(source_count=2).exists()
    assert Lead.objects.filter(committee__isnull=True).exists()
    assert not Lead.objects.exclude(status=LeadStatus.PENDING).exists()
    # The small demo keeps its visits as demo_visits made them.
    assert not Visit.objects.filter(lead__isnull=False).exists()
    flagged = LeadFact.objects.flagged()
    assert flagged.exists() and not flagged.filter(recipient__isnull=True).exists()
    assert "政策找人：比对部门名单 3 份" in small_seed


@pytest.mark.django_db
def test_the_demo_advisor_login_has_new_and_overdue_leads_and_changes_to_check(small_seed):
    today = timezone.localdate()
    user = User.objects.get(username="advisor_310105001001")
    mine = Lead.objects.visible_to(user).open()
    assert mine.filter(found_on__gte=today - datetime.timedelta(days=15)).count() >= 3
    assert mine.filter(found_on__lt=today - datetime.timedelta(days=15)).count() >= 2
    assert not mine.exclude(committee__code="310105001001").exclude(advisor__user=user).exists()
    assert (
        LeadFact.objects.visible_to(user).flagged().filter(recipient__advisor__user=user).exists()
    )


@pytest.mark.django_db
def test_the_full_seed_moves_some_leads_along_their_path(full_seed):
    today = timezone.localdate()
    by_status = dict(Lead.objects.values_list("status").annotate(n=Count("pk")))
    assert by_status[LeadStatus.PENDING] > 100
    assert 1 <= by_status[LeadStatus.ENROLLED] <= 10
    assert by_status[LeadStatus.VISITED] >= 5
    assert by_status[LeadStatus.INELIGIBLE] >= 1 and by_status[LeadStatus.UNREACHABLE] >= 1
    for lead in Lead.objects.filter(status=LeadStatus.ENROLLED).select_related("recipient"):
        assert lead.recipient.is_current_on(today) and lead.closed_on <= today
        assert lead.visits.filter(recipient=lead.recipient).exists()
    visits = Visit.objects.filter(lead__isnull=False).select_related("lead", "advisor")
    assert visits.filter(result=VisitResult.NOBODY_HOME).exists()
    for visit in visits:
        assert visit.lead.found_on <= visit.visited_on <= today
        assert visit.advisor.is_active_on(visit.visited_on)
        assert timezone.localtime(visit.recorded_at).date() == visit.visited_on
    # The demo advisor logins' own leads wait for them.
    for street in Street.objects.all():
        committee = street.committees.order_by("code").first()
        assert Lead.objects.filter(committee=committee, status=LeadStatus.PENDING).count() >= 6
    assert "线索走访" in full_seed
