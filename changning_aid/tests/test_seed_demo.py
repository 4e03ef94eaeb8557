"""`manage.py seed_demo`: the demo network and logins every later demo and journey starts from."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.choices import Role
from accounts.models import User
from stations.choices import StationKind, StationStatus
from stations.models import Committee, District, Station, Street

DEMO_PASSWORD = "Changning-2023"


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = DEMO_PASSWORD


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
    }


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

    advisors = User.objects.filter(role=Role.ADVISOR)
    assert advisors.count() == 189
    advisor = advisors.get(username="advisor_310105001001")
    assert advisor.full_name == "华一居委顾问"
    assert [station.committee.code for station in advisor.stations.all()] == ["310105001001"]
    # Every advisor serves exactly their own committee's point.
    through = User.stations.through.objects.filter(user__role=Role.ADVISOR)
    assert through.count() == 189
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

    seed("--small")

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
    assert User.objects.filter(role=Role.ADVISOR).count() == 34
    assert client.login(username="bureau", password=DEMO_PASSWORD)


@pytest.mark.django_db
def test_small_then_full_adds_the_rest(debug_on):
    seed("--small")
    seed()
    assert Street.objects.count() == 10
    assert User.objects.filter(role=Role.ADVISOR).count() == 189
    assert User.objects.filter(role=Role.STREET_MANAGER).count() == 10


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
