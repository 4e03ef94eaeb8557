"""The audit pages: who reads them (三员分立), what they show, and that nothing writes."""

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.choices import Role
from audit.choices import AccessAction
from audit.context import audit_context
from audit.models import AccessRecord
from audit.tracking import REGISTRY
from changning_aid.tests.test_scope_leaks import build_world, iter_patterns
from stations.models import Station
from stations.tests.factories import committee_point, make_user, street_station

pytestmark = pytest.mark.django_db

TRAIL = reverse("audit:change_trail")
ACCESS = reverse("audit:access_records")
on_postgres = pytest.mark.postgres


@pytest.fixture
def auditor(db):
    return make_user("auditor_t", Role.AUDIT_ADMIN)


def page(response):
    return response.content.decode()


def access(record_street, *, user, action=AccessAction.EXPORT, detail=""):
    return AccessRecord.objects.create(
        user=user,
        ip="10.0.0.1",
        action=action,
        district=record_street.district,
        street=record_street,
        detail=detail,
    )


# Who reads the trail ------------------------------------------------------------------


def test_the_audit_administrator_lands_on_the_trail(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == TRAIL
    assert client.get(TRAIL).status_code == 200
    assert client.get(ACCESS).status_code == 200


def test_bureau_staff_read_the_trail_and_find_it_in_the_navigation(client, two_streets):
    client.force_login(two_streets.bureau)
    response = client.get(TRAIL)
    assert response.status_code == 200
    assert f'href="{TRAIL}"' in page(response)


@pytest.mark.parametrize("who", ["sysadmin", "manager_a", "advisor_a"])
def test_nobody_else_reads_the_trail(client, two_streets, who):
    """Not even the system administrator: 三员分立."""
    client.force_login(getattr(two_streets, who))
    for url in (TRAIL, ACCESS):
        assert client.get(url).status_code == 404
    assert f'href="{TRAIL}"' not in page(client.get(reverse("public:directory")))


def test_anonymous_users_are_sent_to_log_in(client):
    for url in (TRAIL, ACCESS):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_audit_administrator_sees_nothing_but_the_trail(client, auditor):
    """Every other page of the project answers 403, 404 or sends them back to the trail."""
    build_world()
    client.force_login(auditor)
    street_names = ("华阳路街道", "江苏路街道", "天平路街道", "华一居委", "建襄居委")
    station = Station.objects.order_by("pk").first()
    checked = 0
    for route, name, callback in iter_patterns():
        if not name or name.startswith(("audit:", "public:")) or "<" in route or "(?P" in route:
            continue
        if callback.__module__.startswith("tests."):
            continue  # pages of test-only apps
        if name in ("login", "logout", "password_change", "password_change_done", "home"):
            continue
        response = client.get("/" + route.lstrip("^").rstrip("$"))
        # Their own login's pages (password, second factor) are theirs; nothing else is.
        allowed = (
            (200, 302, 403, 404, 405) if route.startswith("accounts/") else (302, 403, 404, 405)
        )
        assert response.status_code in allowed, (name, response.status_code)
        if response.status_code == 302:
            assert not response["Location"].startswith(("/network/", "/admin/")), name
        body = page(response)
        assert not [word for word in street_names if word in body], name
        checked += 1
    for url in (
        reverse("stations:station_detail", args=[station.pk]),
        reverse("stations:station_edit", args=[station.pk]),
        reverse("admin:index"),
        reverse("admin:stations_station_changelist"),
        reverse("admin:accounts_user_changelist"),
    ):
        assert client.get(url).status_code in (403, 404), url
    assert checked > 5


# What the pages say --------------------------------------------------------------------


def test_the_trail_says_plainly_whether_this_database_keeps_changes(client, auditor):
    client.force_login(auditor)
    body = page(client.get(TRAIL))
    if connection.vendor == "postgresql":
        assert "SQLite 演示库不记录变更轨迹" not in body
    else:
        # SQLite has no triggers: the page says so instead of looking empty.
        assert "SQLite 演示库不记录变更轨迹" in body
        assert "PostgreSQL" in body


@on_postgres
def test_the_trail_shows_who_changed_what_field_by_field(client, two_streets, auditor, login):
    point = committee_point(two_streets.committees_a[0])
    login(two_streets.manager_a).post(
        reverse("stations:station_edit", args=[point.pk]),
        {"status": "suspended", "address": "华阳路99号", "phone": "", "signboard_name": ""},
        REMOTE_ADDR="10.9.8.7",
    )
    client.force_login(auditor)

    body = page(client.get(TRAIL, {"model": "stations.Station", "object_id": point.pk}))

    assert "SQLite 演示库" not in body
    assert "manager_a" in body and "10.9.8.7" in body
    assert "状态" in body and "运行" in body and "暂停" in body  # verbose name, old → new
    assert "华阳路99号" in body
    assert "服务站点" in body and point.name in body
    assert reverse("stations:station_edit", args=[point.pk]) in body


@on_postgres
def test_a_password_change_shows_that_it_changed_and_nothing_of_it(client, two_streets, auditor):
    user = two_streets.manager_b
    user.set_password("Another-password-2026")
    user.save()
    client.force_login(auditor)
    body = page(client.get(TRAIL, {"model": "accounts.User", "action": "update"}))
    assert "密码已修改(不记录内容)" in body
    assert user.password not in body


@on_postgres
def test_the_trail_filters_by_user_street_action_and_date(client, two_streets, auditor, login):
    point_a = committee_point(two_streets.committees_a[0])
    point_b = committee_point(two_streets.committees_b[0])
    for user, point in ((two_streets.manager_a, point_a), (two_streets.manager_b, point_b)):
        login(user).post(
            reverse("stations:station_edit", args=[point.pk]),
            {"status": "running", "address": f"{user.username}的地址", "signboard_name": ""},
        )
    client.force_login(auditor)

    by_user = page(client.get(TRAIL, {"user": "manager_b"}))
    assert "manager_b的地址" in by_user and "manager_a的地址" not in by_user

    by_street = page(client.get(TRAIL, {"street": two_streets.street_a.code, "action": "update"}))
    assert "manager_a的地址" in by_street and "manager_b的地址" not in by_street

    deleted_only = page(client.get(TRAIL, {"action": "delete"}))
    assert "manager_a的地址" not in deleted_only

    future = page(client.get(TRAIL, {"date_from": "2999-01-01"}))
    assert "没有符合条件的变更记录" in future

    unknown = page(client.get(TRAIL, {"user": "nobody-of-that-name"}))
    assert "找不到该用户" in unknown


@on_postgres
def test_bureau_staff_do_not_see_another_districts_changes(client, two_streets):
    world = build_world_events()
    client.force_login(two_streets.bureau)

    body = page(client.get(TRAIL))
    rows = page(client.get(TRAIL, {"model": "stations.Station"}))

    assert world.xuhui_station.name not in body and "徐汇区" not in body
    assert "天平路" not in rows and "天平路街道" not in page(client.get(TRAIL, {"street": "x"}))
    assert two_streets.street_a.name in body
    # Nor by asking for the other district's street or object directly.
    asked = page(
        client.get(TRAIL, {"model": "stations.Station", "object_id": world.xuhui_station.pk})
    )
    assert world.xuhui_station.name not in asked


def build_world_events():
    """Another district with a station that changes, and its own bureau staff."""
    from types import SimpleNamespace

    from stations.tests.factories import make_district, make_street

    xuhui = make_district("310104", "徐汇区")
    street = make_street(xuhui, "天平路街道", "310104003")
    station = street_station(street)
    station.address = "天平路1号"
    station.save()
    bureau_xuhui = make_user("bureau_xuhui", Role.BUREAU, district=xuhui)
    return SimpleNamespace(xuhui_station=station, bureau_xuhui=bureau_xuhui)


def test_access_records_are_listed_and_scoped(client, two_streets, auditor):
    from stations.tests.factories import make_district, make_street

    tianping = make_street(make_district("310104", "徐汇区"), "天平路街道", "310104003")
    access(two_streets.street_a, user=two_streets.bureau, detail="季度核对导出")
    access(tianping, user=auditor, detail="徐汇导出")

    client.force_login(two_streets.bureau)
    body = page(client.get(ACCESS))
    assert "季度核对导出" in body and "华阳路街道" in body and "10.0.0.1" in body
    assert "徐汇导出" not in body and "天平路街道" not in body

    client.force_login(auditor)
    body = page(client.get(ACCESS))
    assert "季度核对导出" in body and "徐汇导出" in body
    filtered = page(client.get(ACCESS, {"street": tianping.code}))
    assert "徐汇导出" in filtered and "季度核对导出" not in filtered


def test_a_user_outside_the_bureaus_scope_is_named_by_role_only(client, two_streets, auditor):
    access(two_streets.street_a, user=two_streets.sysadmin, detail="系统导出")
    client.force_login(two_streets.bureau)
    body = page(client.get(ACCESS))
    assert "系统导出" in body and "sysadmin_t" not in body and "系统管理员" in body
    client.force_login(auditor)
    assert "sysadmin_t" in page(client.get(ACCESS))


# A fixed number of queries -------------------------------------------------------------


def _queries(client, url, data=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(context.captured_queries)


def test_access_records_page_runs_a_fixed_number_of_queries(client, two_streets, auditor):
    client.force_login(auditor)
    users = [two_streets.bureau, two_streets.manager_a, two_streets.sysadmin]
    for number in range(3):
        access(two_streets.street_a, user=users[number % 3])
    few = _queries(client, ACCESS)
    for number in range(120):
        access(two_streets.street_b, user=users[number % 3])
    assert _queries(client, ACCESS) == few
    assert _queries(client, ACCESS, {"page": 2}) == few


@on_postgres
@pytest.mark.parametrize("reader", ["auditor", "bureau"])
def test_change_trail_runs_a_fixed_number_of_queries(client, two_streets, auditor, reader):
    """A page of 50 rows costs what a page of a few does (the count, the page, its rows in
    full, one query per kind of object they name: never one per row)."""
    client.force_login(auditor if reader == "auditor" else two_streets.bureau)
    stations = Station.objects.filter(district=two_streets.district)
    with audit_context(user=two_streets.manager_a.pk):
        stations.update(opening_hours="第0版")
    only_stations = {"model": "stations.Station"}
    few = _queries(client, TRAIL, only_stations)
    for round_number in range(1, 13):
        with audit_context(user=two_streets.manager_a.pk):
            stations.update(opening_hours=f"第{round_number}版")
    assert _queries(client, TRAIL, only_stations) == few
    assert _queries(client, TRAIL, only_stations | {"page": 2}) == few
    # Every kind of object at once costs at most one more query per kind it names.
    assert _queries(client, TRAIL) <= few + 4


# Nothing writes ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_no_audit_page_accepts_a_write(client, auditor, method):
    client.force_login(auditor)
    for url in (TRAIL, ACCESS):
        assert getattr(client, method)(url).status_code == 405


def test_the_admin_has_no_way_to_audit_records(two_streets):
    """No admin for access records or event tables: nobody can change or delete them there."""
    audit_models = {AccessRecord} | {t.event_model for t in REGISTRY.values()}
    assert not audit_models & set(admin.site._registry)


def test_no_url_of_the_project_leads_to_audit_records_but_the_two_pages():
    audit_urls = {name for _route, name, _cb in iter_patterns() if name and "audit" in name}
    assert audit_urls == {"audit:change_trail", "audit:access_records"}


@on_postgres
def test_the_database_refuses_to_change_or_delete_an_access_record(two_streets):
    from django.db import DatabaseError, transaction

    record = access(two_streets.street_a, user=two_streets.bureau)
    for statement in (
        "UPDATE audit_accessrecord SET detail = 'x'",
        "DELETE FROM audit_accessrecord",
    ):
        with (
            pytest.raises(DatabaseError, match="Cannot update or delete"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    record.refresh_from_db()
    assert record.detail == ""
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).delete()
