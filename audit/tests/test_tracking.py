"""Every model of the project is tracked by the audit trail, and a new one cannot slip past."""

import pytest
from django.db import models
from django.test.utils import isolate_apps

from audit import tracking


def test_every_model_of_the_project_is_tracked():
    """A model added later fails here until it is decorated with `@audit.track(...)`."""
    missing = tracking.untracked_models()
    assert missing == [], (
        f"models not tracked by the audit trail: {missing}. Decorate each with "
        "@audit.track(...) (see audit/tracking.py) and run makemigrations."
    )


def test_the_projects_apps_are_found_by_themselves():
    labels = {config.label for config in tracking.project_app_configs()}
    assert {"accounts", "stations", "advisors", "cases", "supervision", "audit"} <= labels
    assert "changning_aid" in labels
    assert not labels & {"auth", "admin", "contenttypes", "sessions", "pghistory", "pgtrigger"}


def test_auto_created_many_to_many_tables_are_covered_too():
    from accounts.models import User

    assert User.stations.through in tracking.project_models()
    assert "accounts.User_stations" not in tracking.untracked_models()


@isolate_apps("stations")
def test_self_check_an_untracked_model_is_reported():
    """The check itself: a model nobody decorated is reported by name."""

    class UnauditedThing(models.Model):
        name = models.CharField(max_length=10)

        class Meta:
            app_label = "stations"

        def __str__(self):
            return self.name

    reported = tracking.untracked_models([UnauditedThing, *tracking.project_models()])
    assert reported == ["stations.UnauditedThing"]


def test_every_scope_lookup_resolves_on_its_event_table():
    assert tracking.lookup_problems() == []


def test_the_scope_of_each_network_model_is_its_district():
    scopes = {key: (t.district, t.street) for key, t in tracking.REGISTRY.items()}
    assert scopes["stations.District"] == ("pgh_obj", None)
    assert scopes["stations.Street"] == ("district", "pgh_obj")
    assert scopes["stations.Committee"] == ("street__district", "street")
    assert scopes["stations.Station"] == ("district", "street")
    assert scopes["accounts.User_stations"] == ("station__district", "station__street")
    # Division files are the system administrator's: only the audit administrator reads them.
    assert scopes["stations.DivisionImport"] == (None, None)


def test_secrets_and_file_contents_never_reach_the_event_tables():
    user_event = tracking.tracking_for("accounts.User").event_model
    assert "password" not in {f.name for f in user_event._meta.fields}
    division_event = tracking.tracking_for("stations.DivisionImport").event_model
    assert "content" not in {f.name for f in division_event._meta.fields}


def test_tracking_refuses_a_field_the_model_does_not_have():
    from django.core.exceptions import FieldDoesNotExist

    with isolate_apps("stations"), pytest.raises(FieldDoesNotExist):

        class Bad(models.Model):
            class Meta:
                app_label = "stations"

            def __str__(self):
                return "bad"

        tracking.track(exclude=["nothing"])(Bad)


@pytest.mark.django_db
def test_no_migration_is_missing():
    """A tracked model without its migration has no triggers: nothing would be recorded."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exit_:
        pytest.fail(f"makemigrations has changes to write (exit {exit_.code}):\n{out.getvalue()}")
