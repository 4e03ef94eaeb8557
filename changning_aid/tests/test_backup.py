"""`make backup` and `make restore`: a dump restored into an empty database is the same database.

The round trip runs the commands the Makefile runs (`backup_database`, `restore_database`)
on databases of its own, beside the test database on the same server: a copy of the
migrated test database seeded with the demo (and an audited change made by a command),
and an empty one the dump is restored into. Then every table, the audit trail's included,
must have the same rows (count and a checksum of all of them), and every sequence the same
value. A restore into a database that is no longer empty is refused and changes nothing.
"""

import os
import subprocess
import sys
from urllib.parse import quote

import psycopg2
import pytest
from django.conf import settings
from django.db import connections
from psycopg2 import sql

pytestmark = pytest.mark.postgres

TABLES_SQL = """
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%'
ORDER BY 1, 2
"""
# Every row as text, in one fixed order: equal checksums mean equal rows, column by column.
TABLE_SQL = (
    "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {} t"
)


def server_connection(dbname):
    database = settings.DATABASES["default"]
    connection = psycopg2.connect(
        dbname=dbname,
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
    )
    connection.autocommit = True
    return connection


def database_url(dbname):
    database = settings.DATABASES["default"]
    credentials = quote(database.get("USER") or "", safe="")
    if database.get("PASSWORD"):
        credentials += ":" + quote(database["PASSWORD"], safe="")
    host = database.get("HOST") or "localhost"
    port = database.get("PORT") or 5432
    return f"postgres://{credentials}@{host}:{port}/{dbname}"


def manage(*args, dbname):
    environment = {
        **os.environ,
        "ENV_FILE": os.devnull,
        "DEBUG": "on",
        "DATABASE_URL": database_url(dbname),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return result


def fingerprint(dbname):
    """{table: (rows, checksum)} and {sequence: last value} of the database `dbname`."""
    connection = server_connection(dbname)
    try:
        with connection.cursor() as cursor:
            cursor.execute(TABLES_SQL)
            tables = cursor.fetchall()
            rows = {}
            for schema, table in tables:
                cursor.execute(sql.SQL(TABLE_SQL).format(sql.Identifier(schema, table)))
                rows[f"{schema}.{table}"] = cursor.fetchone()
            cursor.execute("SELECT schemaname, sequencename, last_value FROM pg_sequences")
            sequences = {f"{schema}.{name}": value for schema, name, value in cursor.fetchall()}
    finally:
        connection.close()
    return rows, sequences


@pytest.fixture
def databases(transactional_db):
    """A copy of the (migrated) test database, and an empty database; dropped afterwards."""
    template = connections["default"].settings_dict["NAME"]
    source, target = f"{template}_backup_source", f"{template}_backup_target"
    # A database is copied only while nobody is connected to it.
    connections.close_all()
    admin = server_connection("postgres")
    try:
        with admin.cursor() as cursor:
            for name in (source, target):
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(source), sql.Identifier(template)
                )
            )
            cursor.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0").format(sql.Identifier(target))
            )
        yield source, target
    finally:
        with admin.cursor() as cursor:
            for name in (source, target):
                cursor.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                )
        admin.close()


def test_a_backup_restored_into_an_empty_database_is_the_same_database(databases, tmp_path):
    source, target = databases
    seeded = manage("seed_demo", "--small", dbname=source)
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    # A change made by a command: an audit event, with its context (who, which command).
    change = (
        "from accounts.models import User; "
        "User.objects.filter(username='auditor').update(full_name='审计管理员(备份演练)')"
    )
    changed = manage("shell", "--no-imports", "-c", change, dbname=source)
    assert changed.returncode == 0, changed.stderr

    backup = manage("backup_database", "--dir", str(tmp_path), dbname=source)
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.glob(f"{source}-*.dump")
    assert oct(dump.stat().st_mode & 0o777) == oct(0o600)
    assert str(dump) in backup.stdout

    restored = manage("restore_database", str(dump), dbname=target)
    assert restored.returncode == 0, restored.stderr

    source_rows, source_sequences = fingerprint(source)
    target_rows, target_sequences = fingerprint(target)
    assert target_rows == source_rows
    assert target_sequences == source_sequences
    # What was compared: the demo, and the audit trail with the command's change.
    assert source_rows["public.cases_recipient"][0] >= 100
    assert source_rows["public.visits_visit"][0] >= 100
    assert source_rows["public.accounts_userevent"][0] >= 1
    assert len(source_rows) >= 100
    connection = server_connection(target)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pgh_context->>'command' FROM accounts_userevent"
                " WHERE full_name = '审计管理员(备份演练)'"
            )
            assert cursor.fetchall() == [("shell",)]
            # The audit triggers came back too: a change in the restored database is recorded.
            cursor.execute("UPDATE stations_district SET name = name || '(恢复后)'")
            cursor.execute(
                "SELECT count(*) FROM stations_districtevent WHERE name LIKE '%(恢复后)'"
            )
            assert cursor.fetchone()[0] >= 1
    finally:
        connection.close()


def test_a_restore_into_a_database_with_tables_is_refused_and_changes_nothing(databases, tmp_path):
    source, target = databases
    backup = manage("backup_database", "--dir", str(tmp_path), dbname=source)
    assert backup.returncode == 0, backup.stderr
    (dump,) = tmp_path.glob("*.dump")

    before = fingerprint(source)
    refused = manage("restore_database", str(dump), dbname=source)
    assert refused.returncode != 0
    assert "不是空的" in refused.stderr and "空数据库" in refused.stderr
    assert fingerprint(source) == before

    not_a_dump = tmp_path / "notes.dump"
    not_a_dump.write_text("这不是备份", encoding="utf-8")
    refused = manage("restore_database", str(not_a_dump), dbname=target)
    assert refused.returncode != 0
    assert "不是 pg_dump 的备份文件" in refused.stderr
    assert fingerprint(target) == ({}, {})
