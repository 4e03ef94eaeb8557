"""A bulk load of made-up data leaves no audit events; everything else still does."""

import pytest
from django.db import connection, transaction

from audit import tracking
from audit.loading import triggers_held_off
from stations.models import District


def district_events():
    return tracking.tracking_for("stations.District").event_model.objects


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_load_with_triggers_held_off_leaves_no_events_and_only_within_it():
    with transaction.atomic():
        with triggers_held_off() as held_off:
            District.objects.create(code="310199", name="演示区")
        District.objects.create(code="310198", name="真实区")
    assert held_off is True
    assert not district_events().filter(code="310199").exists()
    assert district_events().filter(code="310198").exists()
    with transaction.atomic():
        District.objects.filter(code="310199").update(name="改名区")
    assert district_events().filter(code="310199", name="改名区").exists()


@pytest.mark.django_db
def test_without_postgresql_nothing_is_held_off():
    if connection.vendor == "postgresql":
        with transaction.atomic(), triggers_held_off() as held_off:
            pass
        assert held_off is True
    else:
        with triggers_held_off() as held_off:
            pass
        assert held_off is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_it_needs_a_transaction():
    with pytest.raises(transaction.TransactionManagementError), triggers_held_off():
        pass
