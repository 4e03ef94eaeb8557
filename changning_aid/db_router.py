"""Where queries go: everything to the primary database, the heavy report reads to a replica.

Production may add a read-only replica of its PostgreSQL (`DATABASE_REPLICA_URL`, the
database alias `replica`). The reports read a whole district's history at once: the
dashboard and the compliance page (every rule of the compliance engine), the pages of the
month rule (coverage, misses, the person × month matrix) and the exports. On the replica
they leave the primary to the people at work, however many bureau staff are reading
reports at the end of a month. Everything else reads the primary, so a page always shows
what its user has just saved.

A report marks its reads with `with reporting():`, a report page with `@report_reads`
(its GET requests, template rendering included). Inside, reads go to the replica when one
is configured; writes always go to the primary, inside or outside, even the save of an
object read from the replica. Once a report block writes (a month summary built on the
first read of a month, say), its later reads go to the primary too: the replica would not
show the write yet. Without a replica every query goes to `default`, exactly as if there
were no router, so a report behaves the same on a single database.

The replica lags the primary by its replication delay (usually well under a second): a
report may miss a change made that very moment, which the next reading shows.
"""

import contextvars
import functools
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA = "replica"
SAFE_METHODS = ("GET", "HEAD")


class _ReportBlock:
    """The report block running in this thread (or task): whether it has written yet."""

    __slots__ = ("wrote",)

    def __init__(self):
        self.wrote = False


# A context variable rather than a thread local: it follows the request under ASGI too.
_current_block = contextvars.ContextVar("changning_aid_report_block", default=None)


def replica_configured():
    return REPLICA in connections.settings


@contextmanager
def reporting():
    """Send the reads of the block to the replica, if there is one; nested blocks are one."""
    if _current_block.get() is not None:
        yield
        return
    token = _current_block.set(_ReportBlock())
    try:
        yield
    finally:
        _current_block.reset(token)


def report_reads(view):
    """Run a report page's GET and HEAD requests inside `reporting()`, rendering included.

    A form posted to the same view is a write and reads the primary throughout.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method not in SAFE_METHODS:
            return view(request, *args, **kwargs)
        with reporting():
            response = view(request, *args, **kwargs)
            # A TemplateResponse would render after the view returned, outside the block.
            if callable(getattr(response, "render", None)) and not response.is_rendered:
                response.render()
        return response

    return wrapped


def reads_database():
    """The alias the reads of this moment go to (`replica` inside a report, else `default`)."""
    block = _current_block.get()
    if block is not None and not block.wrote and replica_configured():
        return REPLICA
    return DEFAULT_DB_ALIAS


class ReportReplicaRouter:
    """Reads inside `reporting()` to the replica, every write and every other read to `default`."""

    def db_for_read(self, model, **hints):
        return reads_database()

    def db_for_write(self, model, **hints):
        block = _current_block.get()
        if block is not None:
            block.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # Both are copies of one database: a row read from either may point at the other's.
        aliases = {DEFAULT_DB_ALIAS, REPLICA}
        if obj1._state.db in aliases and obj2._state.db in aliases:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # The replica follows the primary's schema by replication, never by `migrate`.
        if db == REPLICA:
            return False
        return None
