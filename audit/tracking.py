"""Which models the audit trail tracks, and the one way a model gets tracked: `audit.track`.

Every model of the project is tracked: each create, change and delete of its rows is
written by a PostgreSQL trigger (django-pghistory) into the model's event table, in the
same transaction as the change, whichever door it came through (pages, admin, imports,
`bulk_create`, `bulk_update`, `QuerySet.update`, management commands). A test
(`audit/tests/test_tracking.py`) fails while any model of the project is neither tracked
nor exempted here, so a model added later cannot slip past.

To track a new model, decorate it and make its migration::

    import audit

    @audit.track(district="street__district", street="street", masked=["id_number"])
    class Recipient(models.Model):
        ...

    # an auto-created many-to-many table, through a proxy of it (which migrations can see):
    @audit.track(district="station__district", street="station__street")
    class AdvisorStation(Advisor.stations.through):
        class Meta:
            proxy = True

then `python manage.py makemigrations <app> -n track_<model>`. The arguments:

- `district`, `street`: lookups from the event row to the District and the Street the
  object belongs to, which decide who reads its events (bureau staff read their district's)
  and the street filter of the audit pages. They are taken from the model's
  `ScopedQuerySet` (`district_lookup`, `street_lookup`) when not given, with `pgh_obj`
  standing for the object itself; None means only the audit administrator reads them.
- `exclude`: fields never copied into the trail (file contents, caches).
- `secret`: fields whose values must never reach the trail but whose change must (a
  password hash): a change to one is recorded as its own kind of event, without values.
- `masked`: fields copied into the trail (as the database stores them, e.g. encrypted)
  but never shown in the audit pages: a change shows as "已修改" without values.
- `label`: what the audit pages call the model, when its verbose name will not do.

The event tables are append-only: a trigger refuses UPDATE and DELETE of their rows,
except by the retention purge (`audit.services.purge_expired`).
"""

import hashlib
from dataclasses import dataclass, field

import pghistory
import pgtrigger
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.text import format_lazy

# Labels of the events the triggers write.
INSERT, UPDATE, DELETE, SECRET_CHANGE = "insert", "update", "delete", "secret_change"

# Models that are not tracked, each with the reason (they are audit records themselves).
EXEMPT = {
    "audit.AccessRecord": "审计记录本身:只增不改,由触发器禁止修改和删除",
    # Derived data, recomputed from the tracked base tables (visits.summaries).
    "visits.PersonMonth": "走访汇总:由走访、现有救助对象期间和责任顾问数据重新计算的派生数据",
    "visits.CommitteeMonth": "走访汇总:由对象月度汇总重新计算的派生数据",
    "visits.SummaryMonth": "走访汇总的生成标记:派生数据",
}


@dataclass
class Tracking:
    """How one tracked model is recorded and read back in the audit trail."""

    model: type
    event_model: type
    district: str | None
    street: str | None
    secret: tuple[str, ...] = ()
    masked: tuple[str, ...] = ()
    label: str = ""
    snapshot_fields: tuple[str, ...] = field(default=())

    @property
    def key(self):
        """The model's label (`stations.Station`), as the audit pages name it in URLs."""
        return self.model._meta.label

    @property
    def verbose_name(self):
        return str(self.label or self.model._meta.verbose_name)


# Label of the tracked table's model -> Tracking, filled by `track` as models are defined.
REGISTRY: dict[str, Tracking] = {}


class _ChangedWithSecretsUnchanged(pgtrigger.Condition):
    """Any of `fields` changed while none of `secret` did (an ordinary update)."""

    sql = "-"

    def __init__(self, fields, secret):
        super().__init__()
        self.fields, self.secret = list(fields), list(secret)

    def resolve(self, model):
        changed = pgtrigger.AnyChange(*self.fields).resolve(model)
        unchanged = " AND ".join(
            f'OLD."{model._meta.get_field(name).column}" IS NOT DISTINCT FROM '
            f'NEW."{model._meta.get_field(name).column}"'
            for name in self.secret
        )
        # A trigger's WHEN clause takes one parenthesised expression.
        return f"({changed} AND {unchanged})"


class _AnySecretChanged(pgtrigger.Condition):
    """Any of the `secret` fields changed (the new values are not recorded)."""

    sql = "-"

    def __init__(self, secret):
        super().__init__()
        self.secret = list(secret)

    def resolve(self, model):
        return pgtrigger.AnyChange(*self.secret).resolve(model)


def _default_lookup(model, attribute):
    """The district or street lookup of the model's ScopedQuerySet, read on its event rows."""
    lookup = getattr(model._default_manager.all(), attribute, None)
    if lookup is None:
        return None
    if lookup == "pk" or lookup.startswith("pk__"):
        return "pgh_obj" + lookup[2:]
    return lookup


def _index_name(model):
    """A short, stable, unique name for the time index of `model`'s event table."""
    digest = hashlib.sha1(model._meta.label.encode()).hexdigest()[:10]
    return f"audit_ev_at_{digest}"


def _event_model_name(model):
    """`Station` -> `StationEvent`; `User_stations` (many-to-many) -> `UserStationsEvent`."""
    parts = model._meta.object_name.split("_")
    return "".join(part[:1].upper() + part[1:] for part in parts) + "Event"


def track(*, district=..., street=..., exclude=(), secret=(), masked=(), label="", model_name=None):
    """Track every create, change and delete of the decorated model in the audit trail.

    See the module's documentation for the arguments. Returns the model unchanged; its
    event model is `audit.tracking.tracking_for(model).event_model`.
    """

    def decorate(model):
        concrete = [f.name for f in model._meta.concrete_model._meta.local_fields]
        unknown = sorted({*exclude, *secret, *masked} - set(concrete))
        if unknown:
            raise FieldDoesNotExist(f"{model._meta.label} has no field(s) {unknown}")
        snapshot = [name for name in concrete if name not in {*exclude, *secret}]
        if secret:
            updates = [
                pghistory.UpdateEvent(
                    UPDATE,
                    condition=_ChangedWithSecretsUnchanged(snapshot, secret),
                    trigger_name=f"audit_{UPDATE}",
                ),
                pghistory.UpdateEvent(
                    SECRET_CHANGE,
                    condition=_AnySecretChanged(secret),
                    trigger_name=f"audit_{SECRET_CHANGE}",
                ),
            ]
        else:
            updates = [
                pghistory.UpdateEvent(
                    UPDATE,
                    condition=pgtrigger.AnyChange(*snapshot),
                    trigger_name=f"audit_{UPDATE}",
                )
            ]
        trackers = [
            pghistory.InsertEvent(INSERT, trigger_name=f"audit_{INSERT}"),
            *updates,
            pghistory.DeleteEvent(DELETE, trigger_name=f"audit_{DELETE}"),
        ]
        event_model = pghistory.create_event_model(
            model,
            *trackers,
            fields=snapshot,
            obj_field=pghistory.ObjForeignKey(related_name="audit_events"),
            # The context is copied into each event row, so that an event row is complete
            # by itself and the tables can be append-only (a shared context row is updated).
            context_field=pghistory.ContextJSONField(),
            append_only=True,
            model_name=model_name or _event_model_name(model),
            abstract=False,
            meta={
                "verbose_name": format_lazy("{}变更记录", model._meta.verbose_name),
                "verbose_name_plural": format_lazy("{}变更记录", model._meta.verbose_name),
                # The trail is read newest first and purged oldest first.
                "indexes": [
                    models.Index(fields=["pgh_created_at", "pgh_id"], name=_index_name(model))
                ],
            },
        )
        # Keyed by the table's model: a proxy stands for the table it writes to (an
        # auto-created many-to-many table can only be tracked through a proxy).
        REGISTRY[model._meta.concrete_model._meta.label] = Tracking(
            model=model,
            event_model=event_model,
            district=_default_lookup(model, "district_lookup") if district is ... else district,
            street=_default_lookup(model, "street_lookup") if street is ... else street,
            secret=tuple(secret),
            masked=tuple(masked),
            label=label,
            snapshot_fields=tuple(snapshot),
        )
        return model

    return decorate


def tracking_for(model_or_label):
    """The `Tracking` of a tracked model (or its label, as `Tracking.key` says it), or None."""
    if isinstance(model_or_label, str):
        return next((t for t in REGISTRY.values() if t.key == model_or_label), None)
    return REGISTRY.get(model_or_label._meta.concrete_model._meta.label)


def project_app_configs():
    """The apps written for this project: those whose code lives in the project's folder."""
    base = settings.BASE_DIR.resolve()
    venv = (base / ".venv").resolve()
    configs = []
    for config in apps.get_app_configs():
        path = type(base)(config.path).resolve()
        if path.is_relative_to(base) and not path.is_relative_to(venv):
            configs.append(config)
    return configs


def project_models():
    """Every model of the project's apps, auto-created many-to-many tables included."""
    return [
        model
        for config in project_app_configs()
        for model in config.get_models(include_auto_created=True)
    ]


def untracked_models(candidates=None):
    """The labels of the models (by default, the project's) that the audit trail misses.

    A model is covered when `audit.track` tracks it, when it is an event table of the
    trail, or when `EXEMPT` names it; everything else is reported.
    """
    from pghistory.models import Event

    candidates = project_models() if candidates is None else candidates
    missing = []
    for model in candidates:
        if issubclass(model, Event) or not model._meta.managed:
            continue
        # A proxy model writes to its concrete model's table, tracked or not.
        label = model._meta.concrete_model._meta.label
        if label in REGISTRY or label in EXEMPT:
            continue
        missing.append(model._meta.label)
    return sorted(missing)


def lookup_problems():
    """Registered district/street lookups that do not resolve on their event model."""
    problems = []
    for tracking in REGISTRY.values():
        for lookup in (tracking.district, tracking.street):
            if lookup is None:
                continue
            try:
                tracking.event_model._default_manager.filter(**{lookup: 0}).query  # noqa: B018
            except Exception as error:  # noqa: BLE001 - any failure is the problem reported
                problems.append(f"{tracking.key}: {lookup} ({error})")
    return problems
