"""The read replica (changning_aid/db_router.py): report reads go there, writes never do.

The tests give the database a second alias, `replica`, that is the test database itself,
as `TEST: {"MIRROR": "default"}` makes it when DATABASE_REPLICA_URL is set; on PostgreSQL
its connections are read-only, as in production, so a write sent there would fail. Data
is committed (transactional tests): the replica is another connection and sees only what
was committed, as a real replica does.
"""

import copy
import re

import pytest
from django.db import DEFAULT_DB_ALIAS, connections, router
from django.template import engines
from django.template.response import SimpleTemplateResponse
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from changning_aid.db_router import REPLICA, reads_database, report_reads, reporting
from stations.models import District, Station, Street

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|TRUNCATE|CREATE|ALTER|DROP)\b", re.IGNORECASE)


@pytest.fixture
def replica(transactional_db):
    """The alias `replica`, a second connection to the test database, for this test only."""
    config = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    # As settings.py makes it of DATABASE_REPLICA_URL: no request transaction, a mirror.
    config["ATOMIC_REQUESTS"] = False
    config["TEST"] = {**config.get("TEST", {}), "MIRROR": DEFAULT_DB_ALIAS}
    if config["ENGINE"].endswith("postgresql"):
        config["OPTIONS"] = {
            **config.get("OPTIONS", {}),
            "options": "-c jit=off -c default_transaction_read_only=on",
        }
    connections.settings[REPLICA] = config
    try:
        # Connected here: the test case refuses to open connections it was not told of.
        connections[REPLICA].connect()
        if connections[REPLICA].vendor == "sqlite":
            # Two connections to SQLite's shared in-memory database lock each other's tables
            # while reading; reading uncommitted rows takes no lock (PostgreSQL never does).
            with connections[REPLICA].cursor() as cursor:
                cursor.execute("PRAGMA read_uncommitted = true")
        yield connections[REPLICA]
    finally:
        connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


def sql_of(captured):
    return [query["sql"] for query in captured.captured_queries]


def writes(statements):
    return [sql for sql in statements if WRITE.match(sql)]


def reading(statements, table):
    return [sql for sql in statements if f'"{table}"' in sql and not WRITE.match(sql)]


# Without a replica ------------------------------------------------------------------------


def test_without_a_replica_reports_read_and_write_the_one_database():
    assert REPLICA not in connections.settings
    with reporting():
        assert router.db_for_read(Station) == DEFAULT_DB_ALIAS
        assert Station.objects.all().db == DEFAULT_DB_ALIAS
        assert router.db_for_write(Station) == DEFAULT_DB_ALIAS
    assert router.db_for_read(Station) == DEFAULT_DB_ALIAS


def test_the_replica_is_never_migrated():
    assert router.allow_migrate(REPLICA, "stations") is False
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "stations") is not False


# With a replica ---------------------------------------------------------------------------


def test_reads_of_a_report_go_to_the_replica_and_its_writes_to_the_primary(replica, two_streets):
    primary = connections[DEFAULT_DB_ALIAS]
    with CaptureQueriesContext(primary) as on_primary, CaptureQueriesContext(replica) as on_replica:
        with reporting():
            names = list(Street.objects.order_by("code").values_list("name", flat=True))
            with reporting():  # a nested block is the same block
                stations = Station.objects.count()
        outside = Street.objects.count()

    assert names == ["华阳路街道", "江苏路街道"]
    assert stations == 1 + 2 + 3  # the guidance station, two street stations, three points
    assert outside == 2
    assert len(reading(sql_of(on_replica), "stations_street")) == 1
    assert len(reading(sql_of(on_replica), "stations_station")) == 1
    assert len(reading(sql_of(on_primary), "stations_street")) == 1  # the read outside
    assert reading(sql_of(on_primary), "stations_station") == []

    with (
        CaptureQueriesContext(primary) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
        reporting(),
    ):
        Street.objects.count()
        District.objects.create(code="310106", name="静安区")
        # From its first write on, the block reads its own writes: from the primary.
        after = District.objects.filter(code="310106").exists()

    assert after is True
    assert writes(sql_of(on_replica)) == []
    assert len(reading(sql_of(on_replica), "stations_street")) == 1
    assert any('INSERT INTO "stations_district"' in sql for sql in sql_of(on_primary))
    assert len(reading(sql_of(on_primary), "stations_district")) == 1


def test_an_object_read_from_the_replica_is_saved_to_the_primary(replica, two_streets):
    with reporting():
        street = Street.objects.get(code="310105002")
    assert street._state.db == REPLICA
    street.name = "江苏路街道(新)"
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        street.save(update_fields=["name"])
    assert sql_of(on_replica) == []
    assert any('UPDATE "stations_street"' in sql for sql in sql_of(on_primary))
    assert Street.objects.get(code="310105002").name == "江苏路街道(新)"


def test_the_dashboard_reads_the_replica_and_never_writes_it(replica, two_streets, client):
    client.force_login(two_streets.bureau)
    url = reverse("supervision:dashboard")
    # A first reading of the month may build its month summaries (a write, on the primary).
    assert client.get(url).status_code == 200
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        response = client.get(url)

    assert response.status_code == 200
    assert "华阳路街道" in response.content.decode()
    replica_sql = sql_of(on_replica)
    assert writes(replica_sql) == []
    assert "BEGIN" not in replica_sql  # no request transaction there
    # The compliance engine's reads: the stations, the advisors, the orders...
    for table in ("stations_station", "advisors_advisor", "supervision_rectificationorder"):
        assert reading(replica_sql, table), table
        assert reading(sql_of(on_primary), table) == [], table


def test_an_export_reads_its_rows_from_the_replica_and_records_itself_on_the_primary(
    replica, two_streets, client
):
    client.force_login(two_streets.bureau)
    with (
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
        CaptureQueriesContext(replica) as on_replica,
    ):
        response = client.get(
            reverse("stations:station_export"), {"purpose": "季度核对", "format": "csv"}
        )

    assert response.status_code == 200
    assert "华一居委" in response.content.decode("utf-8-sig")
    assert writes(sql_of(on_replica)) == []
    assert reading(sql_of(on_replica), "stations_station")
    assert reading(sql_of(on_primary), "stations_station") == []
    assert any('INSERT INTO "audit_accessrecord"' in sql for sql in sql_of(on_primary))


def test_a_report_page_reads_the_replica_for_get_only_rendering_included(replica, rf):
    seen = []

    @report_reads
    def page(request):
        seen.append(reads_database())
        # Rendered after the view returns, unless the decorator renders it inside the block.
        template = engines["django"].from_string("{{ probe }}")
        return SimpleTemplateResponse(template, {"probe": reads_database})

    response = page(rf.get("/"))
    assert seen == [REPLICA]
    assert response.content.decode() == REPLICA

    seen.clear()
    response = page(rf.post("/")).render()
    assert seen == [DEFAULT_DB_ALIAS]
    assert response.content.decode() == DEFAULT_DB_ALIAS
    assert reads_database() == DEFAULT_DB_ALIAS
