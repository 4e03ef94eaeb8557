"""On PostgreSQL, every door to the data leaves exactly one event per changed row.

Pages, the admin, `import_divisions`, `bulk_create`, `bulk_update` and `QuerySet.update`:
the database triggers write the event in the same transaction, with the user, the client
address and the page (or the command) where there is one.
"""

import csv
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from accounts.models import User
from audit.context import add_reason, audit_context
from audit.tracking import tracking_for
from stations.choices import CommitteeKind, StationKind, StationStatus
from stations.models import Committee, District, Station, Street
from stations.tests.factories import committee_point, make_street, street_station

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def events(model, **lookup):
    """The event rows of `model`'s table, oldest first."""
    return tracking_for(model).event_model.objects.filter(**lookup).order_by("pgh_id")


def new_events(model, before, **lookup):
    return events(model, pgh_id__gt=before, **lookup)


def last_event_id(model):
    last = events(model).last()
    return last.pgh_id if last else 0


def test_an_edit_on_the_station_page_leaves_one_event_with_who_where_and_which_page(
    two_streets, login
):
    point = committee_point(two_streets.committees_a[0])
    before = last_event_id(Station)
    url = reverse("stations:station_edit", args=[point.pk])

    response = login(two_streets.manager_a).post(
        url,
        {"status": point.status, "address": "华阳路1号", "phone": "021-1", "signboard_name": ""},
        REMOTE_ADDR="10.20.30.40",
    )

    assert response.status_code == 302
    [event] = new_events(Station, before)
    assert event.pgh_obj_id == point.pk
    assert event.pgh_label == "update"
    assert event.address == "华阳路1号"
    assert event.pgh_context["user"] == two_streets.manager_a.pk
    assert event.pgh_context["ip"] == "10.20.30.40"
    assert event.pgh_context["url"] == url


def test_a_change_in_the_admin_leaves_one_event_with_the_user(client, two_streets):
    station = street_station(two_streets.street_a)
    before = last_event_id(Station)
    client.force_login(two_streets.bureau)

    response = client.post(
        reverse("admin:stations_station_change", args=[station.pk]),
        {
            "kind": station.kind,
            "district": station.district_id,
            "street": station.street_id,
            "committee": "",
            "status": StationStatus.SUSPENDED,
            "address": "长宁区华阳路112号",
            "phone": "",
            "opening_hours": "",
            "signboard_name": "",
            "organisation_name": "",
            "organisation_credit_code": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    [event] = new_events(Station, before)
    assert (event.pgh_obj_id, event.pgh_label, event.status) == (
        station.pk,
        "update",
        StationStatus.SUSPENDED,
    )
    assert event.pgh_context["user"] == two_streets.bureau.pk


def _division_file(tmp_path, rows):
    path = tmp_path / "divisions.csv"
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "district_code",
                "district_name",
                "street_code",
                "street_name",
                "committee_code",
                "committee_name",
            ]
        )
        writer.writerows(rows)
    return path


def test_import_divisions_leaves_one_event_per_row_it_writes(tmp_path):
    rows = [
        ["310105", "长宁区", "310105001", "华阳路街道", "310105001001", "华一居委会"],
        ["310105", "长宁区", "310105001", "华阳路街道", "310105001002", "华二居委会"],
        ["310105", "长宁区", "310105102", "新泾镇", "310105102001", "刘家宅小区第一居委会"],
    ]
    before = {model: last_event_id(model) for model in (District, Street, Committee, Station)}

    call_command("import_divisions", str(_division_file(tmp_path, rows)), stdout=StringIO())

    for model in (District, Street, Committee, Station):
        created = set(model.objects.values_list("pk", flat=True))
        inserted = new_events(model, before[model])
        assert sorted(e.pgh_obj_id for e in inserted) == sorted(created), model
        assert {e.pgh_label for e in inserted} == {"insert"}
        assert all(e.pgh_context["command"] == "import_divisions" for e in inserted)
        assert all(e.pgh_context.get("user") is None for e in inserted)
    assert Station.objects.count() == 1 + 2 + 3

    # A second file renames one committee: one committee event, one station event.
    rows[1][5] = "华二新村居委会"
    before = {model: last_event_id(model) for model in (District, Street, Committee, Station)}
    call_command("import_divisions", str(_division_file(tmp_path, rows)), stdout=StringIO())

    renamed = Committee.objects.get(code="310105001002")
    assert [(e.pgh_obj_id, e.pgh_label) for e in new_events(Committee, before[Committee])] == [
        (renamed.pk, "update")
    ]
    point = committee_point(renamed)
    assert [(e.pgh_obj_id, e.name) for e in new_events(Station, before[Station])] == [
        (point.pk, point.name)
    ]
    assert not new_events(Street, before[Street]).exists()
    assert not new_events(District, before[District]).exists()


def test_a_bulk_create_of_a_thousand_rows_leaves_a_thousand_events(two_streets):
    street = make_street(two_streets.district, "新泾镇", "310105102")
    before = last_event_id(Committee)

    created = Committee.objects.bulk_create(
        Committee(
            street=street,
            code=f"310105102{number:03d}",
            name=f"第{number}居委会",
            kind=CommitteeKind.RESIDENTS,
        )
        for number in range(1000)
    )

    inserted = new_events(Committee, before)
    assert inserted.count() == 1000
    assert set(inserted.values_list("pgh_obj_id", flat=True)) == {c.pk for c in created}
    assert set(inserted.values_list("pgh_label", flat=True)) == {"insert"}


def test_a_queryset_update_leaves_one_event_per_changed_row_only(two_streets):
    stations = Station.objects.filter(street=two_streets.street_a)
    unchanged = street_station(two_streets.street_a)
    Station.objects.filter(pk=unchanged.pk).update(phone="021-62520000")
    before = last_event_id(Station)

    updated = stations.update(phone="021-62520000")

    changed = [e.pgh_obj_id for e in new_events(Station, before)]
    assert updated == 3
    assert sorted(changed) == sorted(s.pk for s in stations.exclude(pk=unchanged.pk))


def test_a_bulk_update_leaves_one_event_per_row(two_streets):
    points = [committee_point(c) for c in two_streets.committees_a]
    for number, point in enumerate(points):
        point.opening_hours = f"周{number + 1} 9:00-17:00"
    before = last_event_id(Station)

    Station.objects.bulk_update(points, ["opening_hours"])

    assert sorted(e.pgh_obj_id for e in new_events(Station, before)) == sorted(p.pk for p in points)


def test_a_delete_is_recorded_with_what_was_deleted(two_streets):
    street = make_street(two_streets.district, "临时街道", "310105099")
    station = street_station(street)
    pk = station.pk
    before = last_event_id(Station)

    station.delete()

    [event] = new_events(Station, before)
    assert (event.pgh_label, event.pgh_obj_id, event.kind) == ("delete", pk, "street")


def test_a_password_change_is_recorded_without_the_hash(two_streets):
    user = two_streets.manager_a
    before = last_event_id(User)

    user.set_password("A-new-password-2026")
    user.save()

    [event] = new_events(User, before)
    assert event.pgh_label == "secret_change"
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(cursor, event._meta.db_table)
        }
        cursor.execute(
            f'SELECT to_jsonb(e)::text FROM "{event._meta.db_table}" e WHERE pgh_id = %s',
            [event.pgh_id],
        )
        stored = cursor.fetchone()[0]
    assert "password" not in columns
    assert user.password not in stored


def test_an_ordinary_user_change_is_an_update(two_streets):
    user = two_streets.manager_a
    before = last_event_id(User)
    user.full_name = "张三"
    user.save()
    assert [e.pgh_label for e in new_events(User, before)] == ["update"]


def test_assigning_an_advisor_to_a_station_is_recorded(two_streets):
    advisor = two_streets.advisor_a
    point = committee_point(two_streets.committees_a[1])
    before = last_event_id(User.stations.through)

    advisor.stations.add(point)
    advisor.stations.remove(point)

    recorded = [
        (e.pgh_label, e.user_id, e.station_id) for e in new_events(User.stations.through, before)
    ]
    assert recorded == [("insert", advisor.pk, point.pk), ("delete", advisor.pk, point.pk)]


def test_a_reason_given_is_recorded_with_the_change(two_streets):
    station = street_station(two_streets.street_b)
    before = last_event_id(Station)

    with audit_context(user=two_streets.bureau.pk):
        add_reason("督导检查后更正地址")
        Station.objects.filter(pk=station.pk).update(address="江苏路1号")

    [event] = new_events(Station, before)
    assert event.pgh_context["reason"] == "督导检查后更正地址"
    assert event.pgh_context["user"] == two_streets.bureau.pk


@pytest.mark.parametrize("statement", ["UPDATE {table} SET pgh_label = 'x'", "DELETE FROM {table}"])
def test_the_database_refuses_to_change_or_delete_an_event(two_streets, statement):
    table = tracking_for(Station).event_model._meta.db_table
    assert events(Station).exists()
    with (
        pytest.raises(DatabaseError, match="Cannot update or delete"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement.format(table=f'"{table}"'))
    assert events(Station).exists()


def test_a_change_with_no_context_is_still_recorded(two_streets):
    """A script or a shell changes rows too: the trigger records them, without a user."""
    station = street_station(two_streets.street_b)
    before = last_event_id(Station)
    Station.objects.filter(pk=station.pk).update(kind=StationKind.STREET, status="suspended")
    [event] = new_events(Station, before)
    assert event.pgh_context is None


def test_a_command_run_by_a_command_is_named_only_for_what_it_writes(tmp_path):
    """seed_demo runs import_divisions, then writes on its own: each write names its command."""
    rows = [["310105", "长宁区", "310105001", "华阳路街道", "310105001001", "华一居委会"]]
    path = _division_file(tmp_path, rows)
    before = last_event_id(Station)

    with audit_context(command="seed_demo"):
        call_command("import_divisions", str(path), stdout=StringIO())
        Station.objects.update(status=StationStatus.RUNNING)

    commands = [(e.pgh_label, e.pgh_context["command"]) for e in new_events(Station, before)]
    assert ("insert", "import_divisions") in commands
    assert ("update", "seed_demo") in commands
    assert ("update", "import_divisions") not in commands


def test_every_trigger_of_the_trail_is_installed_as_the_code_says():
    """A tracked model whose migration was forgotten, or is out of date, fails here."""
    from pgtrigger import registry

    from audit.models import AccessRecord
    from audit.tracking import REGISTRY

    tables = {AccessRecord}
    for tracking in REGISTRY.values():
        tables |= {tracking.model, tracking.event_model}
    statuses = {
        f"{model._meta.label}:{trigger.name}": trigger.get_installation_status(model)[0]
        for model, trigger in registry.registered()
        if model in tables
    }
    assert len(statuses) >= 4 * len(REGISTRY)
    assert {uri for uri, status in statuses.items() if status != "INSTALLED"} == set()
