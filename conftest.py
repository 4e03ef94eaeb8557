"""Fixtures shared by every app's tests."""

import os
from types import SimpleNamespace

import pytest


def pytest_collection_modifyitems(config, items):
    """`postgres` tests run on PostgreSQL only; on SQLite they are deselected, never skipped."""
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    kept, deselected = [], []
    for item in items:
        (deselected if item.get_closest_marker("postgres") else kept).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept


@pytest.fixture
def two_streets(db):
    """Two streets of one district, each with its manager and advisor (see factories)."""
    from stations.tests.factories import make_two_streets
    from visits import summaries

    # This month's visit summaries exist, as the daily job makes them at midnight; else the
    # first page read of the month builds them, a one-off that query counts must not see.
    summaries.ensure_month()
    return SimpleNamespace(**make_two_streets())


@pytest.fixture
def login(client):
    """Log the test client in as the given user and return the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


os.environ.setdefault("DEMO_PASSWORD", "Changning-2023")
