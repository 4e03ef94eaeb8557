"""The context of a change: who made it, from where, through which door, and why.

pghistory's triggers attach every event to a context row (`pghistory.Context`) holding the
metadata of `pghistory.context(...)`: `user` (a user id), `ip`, `url` (a page) or `command`
(a management command), and `reason` when the user was asked for one. The metadata travels
to PostgreSQL as session variables set before each statement; SQLite has no triggers and
no session variables, so there the context is a no-op.

Requests get their context from `audit.middleware.AuditContextMiddleware`, management
commands from `audit.apps` (a `pre`/`post` hook around every command). A page that asks
the user for a reason adds it with `add_reason(...)` before it writes.
"""

import contextlib

import pghistory
import pghistory.runtime
from django.db import connection


def tracking_supported():
    """Triggers, and so change records, exist on PostgreSQL only."""
    return connection.vendor == "postgresql"


@contextlib.contextmanager
def audit_context(**metadata):
    """`pghistory.context(**metadata)` on PostgreSQL; a context that does nothing elsewhere.

    Nested in another context (a command that calls a command), the inner metadata
    applies only inside: on exit the outer context's metadata is restored, so that what
    the outer command writes afterwards is not put down to the inner one.
    """
    if not tracking_supported():
        yield
        return
    outer = getattr(pghistory.runtime._tracker, "value", None)
    saved = dict(outer.metadata) if outer is not None else None
    try:
        with pghistory.context(**metadata):
            yield
    finally:
        if outer is not None:
            outer.metadata.clear()
            outer.metadata.update(saved)


def add_reason(reason):
    """Attach the reason the user gave to the changes of the current request or command."""
    if tracking_supported() and reason:
        pghistory.context(reason=str(reason))
