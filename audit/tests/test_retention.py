"""Audit records are kept at least 180 days; `purge_audit` deletes only what is older."""

from datetime import timedelta
from io import StringIO

import pgtrigger
import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from audit.choices import AccessAction
from audit.models import APPEND_ONLY_TRIGGER, AccessRecord
from audit.services import purge_expired, retention_days
from audit.tracking import tracking_for
from stations.models import Station
from stations.tests.factories import street_station

pytestmark = pytest.mark.django_db


def access_at(days_ago, detail):
    return AccessRecord.objects.create(
        action=AccessAction.EXPORT, at=timezone.now() - timedelta(days=days_ago), detail=detail
    )


def test_the_retention_is_180_days_and_cannot_be_set_lower():
    assert retention_days() == 180
    with override_settings(AUDIT_RETENTION_DAYS=30):
        assert retention_days() == 180
    with override_settings(AUDIT_RETENTION_DAYS=365):
        assert retention_days() == 365


def test_purge_deletes_only_what_is_older_than_the_retention():
    access_at(400, "old")
    access_at(181, "just old enough")
    access_at(179, "kept")
    access_at(0, "today")

    out = StringIO()
    call_command("purge_audit", stdout=out)

    kept = set(
        AccessRecord.objects.exclude(action=AccessAction.PURGE).values_list("detail", flat=True)
    )
    assert kept == {"kept", "today"}
    assert "2" in out.getvalue()
    # The purge itself is on record.
    [purge] = AccessRecord.objects.filter(action=AccessAction.PURGE)
    assert "2 条" in purge.detail


@pytest.mark.parametrize("days", [0, 30, 179])
def test_purge_refuses_anything_younger_than_the_retention(days):
    access_at(200, "old")
    access_at(100, "young")
    with pytest.raises(CommandError, match="至少保存 180 天"):
        call_command("purge_audit", "--older-than-days", str(days), stdout=StringIO())
    with pytest.raises(ValueError):
        purge_expired(older_than_days=days)
    assert AccessRecord.objects.count() == 2


def test_a_longer_retention_keeps_more():
    access_at(400, "older than a year")
    access_at(200, "half a year")
    call_command("purge_audit", "--older-than-days", "365", stdout=StringIO())
    assert set(
        AccessRecord.objects.exclude(action=AccessAction.PURGE).values_list("detail", flat=True)
    ) == {"half a year"}


@pytest.mark.postgres
def test_purge_passes_the_append_only_triggers_for_old_events_only(two_streets):
    events = tracking_for(Station).event_model.objects
    old = street_station(two_streets.street_a)
    young = street_station(two_streets.street_b)
    uri = f"{events.model._meta.label}:{APPEND_ONLY_TRIGGER}"
    # Backdate one station's events (the test does what only the purge may).
    with pgtrigger.ignore(uri):
        events.filter(pgh_obj=old).update(pgh_created_at=timezone.now() - timedelta(days=200))
    assert events.filter(pgh_obj=young).exists()

    deleted = purge_expired()

    assert deleted[events.model._meta.label] >= 1
    assert not events.filter(pgh_obj=old).exists()
    assert events.filter(pgh_obj=young).exists()
