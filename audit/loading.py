"""Bulk loads that the audit trail does not record: the demo data and the benchmark's data set.

A load of made-up data is nobody's change, and writing an event row for each of its hundreds
of thousands of rows makes it many times slower. `triggers_held_off()` holds every trigger of
the current transaction off on PostgreSQL (`SET LOCAL session_replication_role = replica`,
undone when the transaction ends). Only a superuser (or, from PostgreSQL 15, a role granted
SET on that parameter) may do so; for any other role the load runs with its triggers, only
slower. Never use it for real users' data: what it writes leaves no trail.
"""

from contextlib import contextmanager

from django.db import DatabaseError, connections, transaction


@contextmanager
def triggers_held_off(using="default"):
    """Within the block (inside a transaction), no trigger fires on PostgreSQL.

    Yields True when the triggers are held off, False when they could not be (not
    PostgreSQL, or not allowed).
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield False
        return
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("triggers_held_off() needs a transaction.")
    try:
        with transaction.atomic(using=using), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
    except DatabaseError:
        yield False
        return
    # On an error the transaction is rolled back, and the setting with it.
    yield True
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
