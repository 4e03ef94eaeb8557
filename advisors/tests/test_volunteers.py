"""The volunteers (社区志愿者): their services and pages, kept by streets, read by advisors."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from advisors import services
from advisors.models import Volunteer
from stations.choices import StationKind
from stations.models import Station
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db

LIST = reverse("advisors:volunteers:list")
CREATE = reverse("advisors:volunteers:create")
START = datetime.date(2024, 3, 1)


@pytest.fixture
def world():
    world = make_two_streets()
    world["point_a"] = committee_point(world["committees_a"][0])
    world["point_a2"] = committee_point(world["committees_a"][1])
    world["point_b"] = committee_point(world["committees_b"][0])
    world["station_a"] = Station.objects.get(kind=StationKind.STREET, street=world["street_a"])
    return world


def make_volunteer(street, station=None, *, name, phone="13812345678", **fields):
    fields.setdefault("active_from", START)
    return Volunteer.objects.create(
        street=street, station=station, name=name, phone=phone, **fields
    )


def url(name, volunteer):
    return reverse(f"advisors:volunteers:{name}", args=[volunteer.pk])


def payload(**overrides):
    data = {
        "name": "王秀英",
        "phone": "13912345678",
        "skills": "退休教师,擅长政策宣讲",
        "station": "",
        "active_from": "2024-05-01",
    }
    data.update(overrides)
    return data


def body(response):
    return response.content.decode()


# ---- Services ---------------------------------------------------------------------------


def test_a_street_manager_registers_updates_and_ends_a_volunteer(world):
    manager = world["manager_a"]
    volunteer = services.register_volunteer(
        actor=manager,
        street=world["street_a"],
        name="  王秀英 ",
        phone=" 021-6234 5678 ",
        station=world["point_a"],
        active_from=START,
    )
    assert (volunteer.name, volunteer.phone) == ("王秀英", "021-6234 5678")

    services.update_volunteer(
        actor=manager, volunteer=volunteer, station=world["point_a2"], skills="心理疏导"
    )
    volunteer.refresh_from_db()
    assert (volunteer.station, volunteer.skills) == (world["point_a2"], "心理疏导")

    services.end_volunteer(actor=manager, volunteer=volunteer, active_to=datetime.date(2025, 6, 30))
    volunteer.refresh_from_db()
    assert volunteer.active_to == datetime.date(2025, 6, 30)
    with pytest.raises(ValidationError, match="已登记"):
        services.end_volunteer(actor=manager, volunteer=volunteer, active_to=START)


def test_bad_values_are_refused_in_chinese_and_change_nothing(world):
    manager = world["manager_a"]
    with pytest.raises(ValidationError) as error:
        services.register_volunteer(
            actor=manager, street=world["street_a"], name="甲", phone="call me", active_from=START
        )
    assert "联系电话" in str(error.value)
    with pytest.raises(ValidationError):
        services.register_volunteer(
            actor=manager, street=world["street_a"], name="  ", active_from=START
        )
    assert not Volunteer.objects.exists()

    volunteer = make_volunteer(world["street_a"], name="甲")
    with pytest.raises(ValidationError) as error:
        services.end_volunteer(
            actor=manager, volunteer=volunteer, active_to=START - datetime.timedelta(days=1)
        )
    assert "不能早于" in str(error.value)
    with pytest.raises(ValidationError):
        services.update_volunteer(actor=manager, volunteer=volunteer, name="乙", phone="12")
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.phone, volunteer.active_to) == ("甲", "13812345678", None)
    with pytest.raises(TypeError):
        services.update_volunteer(actor=manager, volunteer=volunteer, street=world["street_b"])


def test_another_streets_volunteers_and_stations_read_as_not_existing(world):
    manager = world["manager_a"]
    other = make_volunteer(world["street_b"], name="他街志愿者")
    with pytest.raises(Http404):
        services.register_volunteer(
            actor=manager, street=world["street_b"], name="甲", active_from=START
        )
    with pytest.raises(Http404):
        services.register_volunteer(
            actor=manager,
            street=world["street_a"],
            name="甲",
            station=world["point_b"],
            active_from=START,
        )
    with pytest.raises(Http404):
        services.update_volunteer(actor=manager, volunteer=other, name="改")
    with pytest.raises(Http404):
        services.end_volunteer(actor=manager, volunteer=other, active_to=START)
    other.refresh_from_db()
    assert (other.name, other.active_to) == ("他街志愿者", None)
    assert Volunteer.objects.count() == 1


def test_bureau_staff_keep_the_districts_volunteers_within_each_street(world):
    bureau = world["bureau"]
    volunteer = services.register_volunteer(
        actor=bureau,
        street=world["street_b"],
        name="甲",
        station=world["point_b"],
        active_from=START,
    )
    assert volunteer.street == world["street_b"]
    # A station must be of the volunteer's own street.
    with pytest.raises(ValidationError, match="街镇内"):
        services.update_volunteer(actor=bureau, volunteer=volunteer, station=world["point_a"])
    volunteer.refresh_from_db()
    assert volunteer.station == world["point_b"]


@pytest.mark.parametrize("who", ["advisor_a", "sysadmin"])
def test_other_roles_cannot_keep_volunteers(world, who):
    volunteer = make_volunteer(world["street_a"], world["point_a"], name="甲")
    with pytest.raises(PermissionDenied):
        services.register_volunteer(
            actor=world[who], street=world["street_a"], name="乙", active_from=START
        )
    with pytest.raises(PermissionDenied):
        services.update_volunteer(actor=world[who], volunteer=volunteer, name="乙")
    with pytest.raises(PermissionDenied):
        services.end_volunteer(actor=world[who], volunteer=volunteer, active_to=START)
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.active_to) == ("甲", None)


# ---- Pages ------------------------------------------------------------------------------


def test_a_street_manager_registers_edits_and_ends_on_the_pages(client, world):
    client.force_login(world["manager_a"])
    assert 'name="street"' not in body(client.get(CREATE))
    response = client.post(CREATE, payload(station=world["point_a"].pk))
    volunteer = Volunteer.objects.get(name="王秀英")
    assert response.status_code == 302
    assert response["Location"] == url("detail", volunteer)
    assert (volunteer.street, volunteer.station) == (world["street_a"], world["point_a"])

    # The volunteer's own page shows the phone in full; the form and the list masked.
    assert "13912345678" in body(client.get(url("detail", volunteer)))
    form_page = body(client.get(url("edit", volunteer)))
    assert "139****5678" in form_page and "13912345678" not in form_page
    list_page = body(client.get(LIST))
    assert "139****5678" in list_page and "13912345678" not in list_page

    # The mask sent back unchanged keeps the number.
    response = client.post(url("edit", volunteer), payload(name="王秀英改", phone="139****5678"))
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.phone, volunteer.station) == ("王秀英改", "13912345678", None)

    response = client.post(url("end", volunteer), {"end-active_to": "2025-12-31"})
    assert response.status_code == 302
    volunteer.refresh_from_db()
    assert volunteer.active_to == datetime.date(2025, 12, 31)
    assert "end-active_to" not in body(client.get(url("detail", volunteer)))


def test_bad_input_on_the_pages_shows_chinese_errors_and_writes_nothing(client, world):
    client.force_login(world["manager_a"])
    response = client.post(CREATE, payload(name=" ", phone="abc", station=world["point_b"].pk))
    assert response.status_code == 200
    page = body(response)
    assert "联系电话只能包含数字" in page
    assert "志愿者信息未保存" in page
    assert not Volunteer.objects.exists()

    volunteer = make_volunteer(world["street_a"], name="甲")
    response = client.post(url("edit", volunteer), payload(phone="138****0000"))
    assert response.status_code == 200
    assert "请填写完整的电话号码" in body(response)
    response = client.post(url("end", volunteer), {"end-active_to": "2020-01-01"})
    assert response.status_code == 200
    assert "服务结束日期不能早于开始日期" in body(response)
    response = client.post(url("end", volunteer), {"end-active_to": "not a date"})
    assert response.status_code == 200
    volunteer.refresh_from_db()
    assert (volunteer.name, volunteer.phone, volunteer.active_to) == ("甲", "13812345678", None)


def test_the_list_filters_by_station_and_state_and_searches_names(client, world):
    today = datetime.date.today()
    at_point = make_volunteer(world["street_a"], world["point_a"], name="张站点")
    street_level = make_volunteer(world["street_a"], name="李街镇")
    yesterday = today - datetime.timedelta(days=1)
    ended = make_volunteer(
        world["street_a"], world["point_a"], name="赵已结束", active_to=yesterday
    )
    last_day = make_volunteer(world["street_a"], name="钱最后一天", active_to=today)
    client.force_login(world["manager_a"])

    def names(**query):
        page = body(client.get(LIST, query))
        shown = [v.name for v in (at_point, street_level, ended, last_day) if v.name in page]
        return sorted(shown)

    assert names() == sorted(["张站点", "李街镇", "赵已结束", "钱最后一天"])
    assert names(station=world["point_a"].pk) == sorted(["张站点", "赵已结束"])
    assert names(state="active") == sorted(["张站点", "李街镇", "钱最后一天"])
    assert names(state="ended") == ["赵已结束"]
    assert names(q="街镇") == ["李街镇"]
    # A station or state of nobody's making is ignored, not an error.
    assert client.get(LIST, {"station": "x' OR 1=1", "state": "nope"}).status_code == 200


def test_two_streets_each_see_and_keep_only_their_own(client, world):
    mine = make_volunteer(world["street_a"], world["point_a"], name="本街志愿者")
    other = make_volunteer(world["street_b"], world["point_b"], name="他街志愿者")
    client.force_login(world["manager_a"])
    page = body(client.get(LIST))
    assert mine.name in page and other.name not in page
    assert "江苏路街道" not in page
    for name in ("detail", "edit"):
        assert client.get(url(name, other)).status_code == 404
    assert client.post(url("edit", other), payload()).status_code == 404
    assert client.post(url("end", other), {"end-active_to": "2025-01-01"}).status_code == 404
    other.refresh_from_db()
    assert (other.name, other.active_to) == ("他街志愿者", None)
    # Another street's station is not on offer, and refused when sent anyway.
    assert world["point_b"].name not in body(client.get(CREATE))
    response = client.post(CREATE, payload(station=world["point_b"].pk))
    assert response.status_code == 200
    assert not Volunteer.objects.filter(name="王秀英").exists()

    client.force_login(world["manager_b"])
    page = body(client.get(LIST))
    assert other.name in page and mine.name not in page
    assert client.get(url("detail", mine)).status_code == 404

    client.force_login(world["bureau"])
    page = body(client.get(LIST))
    assert mine.name in page and other.name in page


def test_bureau_staff_choose_the_street_and_a_station_of_it(client, world):
    client.force_login(world["bureau"])
    assert 'name="street"' in body(client.get(CREATE))
    response = client.post(
        CREATE, payload(street=world["street_a"].pk, station=world["point_b"].pk)
    )
    assert response.status_code == 200
    assert "服务站点必须在志愿者所属的街镇内" in body(response)
    assert not Volunteer.objects.exists()
    response = client.post(
        CREATE, payload(street=world["street_b"].pk, station=world["point_b"].pk)
    )
    assert response.status_code == 302
    assert Volunteer.objects.get().street == world["street_b"]


def test_advisors_read_the_volunteers_of_their_stations_only(client, world):
    at_my_point = make_volunteer(world["street_a"], world["point_a"], name="本点志愿者")
    at_other_point = make_volunteer(world["street_a"], world["point_a2"], name="邻点志愿者")
    street_level = make_volunteer(world["street_a"], name="街镇统筹志愿者")
    other_street = make_volunteer(world["street_b"], world["point_b"], name="他街志愿者")
    client.force_login(world["advisor_a"])
    page = body(client.get(LIST))
    assert at_my_point.name in page
    for hidden in (at_other_point, street_level, other_street):
        assert hidden.name not in page
    assert "登记志愿者" not in page and "138****5678" in page

    detail = body(client.get(url("detail", at_my_point)))
    assert "13812345678" in detail and "编辑志愿者信息" not in detail
    for hidden in (at_other_point, street_level, other_street):
        assert client.get(url("detail", hidden)).status_code == 404
    # Read-only: the forms are refused and nothing changes.
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, payload()).status_code == 403
    assert client.post(url("edit", at_my_point), payload()).status_code == 403
    assert client.post(url("end", at_my_point), {"end-active_to": "2025-01-01"}).status_code == 403
    at_my_point.refresh_from_db()
    assert (at_my_point.name, at_my_point.active_to) == ("本点志愿者", None)
    assert Volunteer.objects.count() == 4


def test_roles_without_personal_data_and_anonymous_users_get_nothing(client, world):
    volunteer = make_volunteer(world["street_a"], world["point_a"], name="甲")
    response = client.get(LIST)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(world["sysadmin"])
    assert client.get(LIST).status_code == 403
    assert client.get(CREATE).status_code == 403
    assert client.get(url("detail", volunteer)).status_code == 404
    assert client.post(url("end", volunteer), {"end-active_to": "2025-01-01"}).status_code == 404


@pytest.mark.parametrize("who", ["bureau", "manager_a", "advisor_a"])
def test_the_navigation_leads_to_the_volunteers(client, world, who):
    client.force_login(world[who])
    page = body(client.get(reverse("public:directory")))
    assert f'href="{LIST}"' in page and "志愿者" in page


def test_the_navigation_has_no_volunteers_for_the_system_administrator(client, world):
    client.force_login(world["sysadmin"])
    assert f'href="{LIST}"' not in body(client.get(reverse("public:directory")))


def _bulk_volunteers(world, count):
    start = Volunteer.objects.count()
    Volunteer.objects.bulk_create(
        Volunteer(
            street=world["street_a"] if i % 2 else world["street_b"],
            station=world["point_a"] if i % 2 else None,
            name=f"批量{start + i}",
            phone=f"139{start + i:08d}",
            skills="助老服务",
            active_from=START,
            active_to=datetime.date(2025, 1, 1) if i % 3 == 0 else None,
        )
        for i in range(count)
    )


@pytest.mark.parametrize("who", ["bureau", "manager_a", "advisor_a"])
def test_the_list_runs_a_fixed_number_of_queries(client, world, who):
    client.force_login(world[who])
    _bulk_volunteers(world, 10)
    client.get(LIST)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST, {"state": "active"}).status_code == 200
    _bulk_volunteers(world, 190)
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST, {"state": "active"})
        assert response.status_code == 200
    assert len(small) == len(large), [query["sql"] for query in large]
    assert "批量" in body(response)
