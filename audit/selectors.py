"""Reading the audit trail: the change events and access records a user may read, filtered,
one page at a time, with a readable field-by-field diff.

Change events live in one table per tracked model (pghistory); the trail's list is their
union, cut per table to the reader's scope (`Tracking.district`: bureau staff read the
events of their district's objects, judged on the event row's own copy, so a deleted or
moved object's past stays where it was) and to the filters. A page costs a fixed number of
queries whatever the number of rows or tables: the count and the page of the union, then
the page's rows in full (one union), then the names they refer to (one query per kind of
object referred to).
"""

import datetime
import json
from dataclasses import dataclass, field

from django.db import models
from django.db.models import CharField, F, JSONField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.context import tracking_supported
from audit.models import AccessRecord
from audit.scoping import can_read_audit, is_audit_admin
from audit.tracking import DELETE, INSERT, REGISTRY, SECRET_CHANGE, UPDATE

# Actions as the filter offers them; a secret's change is a kind of update.
ACTION_LABELS = {
    INSERT: gettext_lazy("新建"),
    UPDATE: gettext_lazy("修改"),
    DELETE: gettext_lazy("删除"),
}
EVENT_LABELS = {**ACTION_LABELS, SECRET_CHANGE: gettext_lazy("修改保密字段")}
ACTION_EVENT_LABELS = {INSERT: [INSERT], UPDATE: [UPDATE, SECRET_CHANGE], DELETE: [DELETE]}

# Fields tried in turn to name an object in the trail.
NAME_FIELDS = ("name", "full_name", "username", "file_name", "code")
VALUE_MAX_LENGTH = 200


@dataclass
class TrailFilters:
    """What the reader narrowed the trail to; None or empty means "any"."""

    user_id: int | None = None
    model_key: str = ""
    object_id: str = ""
    street_id: int | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    action: str = ""


@dataclass
class FieldChange:
    """One field of a change: its name, and what it was and became, as the page shows them."""

    label: str
    old: str
    new: str
    hidden: bool = False


@dataclass
class ChangeEvent:
    """One change of one object, ready for the page."""

    at: datetime.datetime
    label: str
    action: str
    model_label: str
    object_id: str
    object_name: str
    street_name: str
    user_name: str
    ip: str
    source: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)
    note: str = ""

    @property
    def action_class(self):
        return {INSERT: "insert", DELETE: "delete"}.get(self.label, "update")


# Change events --------------------------------------------------------------------------


def trackings_for(user):
    """The tracked models whose events `user` may read, with the lookup that scopes them."""
    if not can_read_audit(user):
        return []
    if is_audit_admin(user):
        return list(REGISTRY.values())
    return [tracking for tracking in REGISTRY.values() if tracking.district]


def _branch(tracking, user, filters):
    """One event table's rows that `user` may read and `filters` keep, or None for none."""
    if filters.model_key and tracking.key != filters.model_key:
        return None
    if filters.street_id and not tracking.street:
        return None
    rows = models.QuerySet(tracking.event_model)
    if not is_audit_admin(user):
        rows = rows.filter(**{tracking.district: user.district_id})
    if filters.object_id:
        rows = rows.filter(pgh_obj_id=filters.object_id)
    if filters.street_id:
        rows = rows.filter(**{tracking.street: filters.street_id})
    if filters.user_id:
        rows = rows.filter(pgh_context__user=filters.user_id)
    if filters.date_from:
        rows = rows.filter(pgh_created_at__date__gte=filters.date_from)
    if filters.date_to:
        rows = rows.filter(pgh_created_at__date__lte=filters.date_to)
    if filters.action:
        rows = rows.filter(pgh_label__in=ACTION_EVENT_LABELS[filters.action])
    return rows.annotate(
        ev_model=Value(tracking.key, output_field=CharField()),
        ev_id=F("pgh_id"),
        ev_at=F("pgh_created_at"),
    )


def change_events(user, filters=None):
    """The change events `user` may read, newest first, as rows of (model, id, time).

    An ordered union over the event tables, for a paginator; `change_event_details` turns
    a page of it into `ChangeEvent`s. Empty where there are no triggers (SQLite).
    """
    filters = filters or TrailFilters()
    branches = []
    if tracking_supported():
        for tracking in trackings_for(user):
            if (rows := _branch(tracking, user, filters)) is not None:
                branches.append(rows.values("ev_model", "ev_id", "ev_at"))
    if not branches:
        return AccessRecord.objects.none().values("pk")
    rows = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    return rows.order_by("-ev_at", "-ev_id", "ev_model")


def _full_rows(page_rows):
    """The page's events in full: their snapshot, the one before it, and their context."""
    ids = {}
    for row in page_rows:
        ids.setdefault(row["ev_model"], []).append(row["ev_id"])
    branches = []
    for key, event_ids in ids.items():
        tracking = next(t for t in REGISTRY.values() if t.key == key)
        table = tracking.event_model._meta.db_table
        previous = (
            f'SELECT to_jsonb(previous) FROM "{table}" previous'
            f' WHERE previous.pgh_obj_id = "{table}".pgh_obj_id'
            f' AND previous.pgh_id < "{table}".pgh_id ORDER BY previous.pgh_id DESC LIMIT 1'
        )
        street = F(tracking.street) if tracking.street else Value(None, models.BigIntegerField())
        branches.append(
            models.QuerySet(tracking.event_model)
            .filter(pgh_id__in=event_ids)
            .annotate(
                ev_model=Value(key, output_field=CharField()),
                ev_id=F("pgh_id"),
                ev_at=F("pgh_created_at"),
                ev_label=F("pgh_label"),
                ev_obj=Cast("pgh_obj_id", CharField()),
                ev_street=Cast(street, models.BigIntegerField()),
                ev_context=F("pgh_context"),
                ev_data=RawSQL(f'to_jsonb("{table}")', [], output_field=JSONField()),
                ev_previous=RawSQL(f"({previous})", [], output_field=JSONField()),
            )
            .values(
                "ev_model",
                "ev_id",
                "ev_at",
                "ev_label",
                "ev_obj",
                "ev_street",
                "ev_context",
                "ev_data",
                "ev_previous",
            )
        )
    if not branches:
        return {}
    rows = branches[0].union(*branches[1:], all=True) if len(branches) > 1 else branches[0]
    return {(row["ev_model"], row["ev_id"]): row for row in rows}


def change_event_details(user, page_rows):
    """`ChangeEvent`s for a page of `change_events`, in the page's order."""
    page_rows = list(page_rows)
    full = _full_rows(page_rows)
    rows = [full[(row["ev_model"], row["ev_id"])] for row in page_rows if row.get("ev_model")]
    names = _Names(user)
    for row in rows:
        tracking = _tracking(row["ev_model"])
        for data in (row["ev_data"], row["ev_previous"] or {}):
            for model_field in _snapshot_fields(tracking):
                if model_field.is_relation and data.get(model_field.attname) is not None:
                    names.want(model_field.related_model, data[model_field.attname])
        if row["ev_street"]:
            names.want_street(row["ev_street"])
        if (context := row["ev_context"] or {}).get("user"):
            names.want_user(context["user"])
    names.load()
    return [_change_event(row, names) for row in rows]


def _tracking(key):
    return next(t for t in REGISTRY.values() if t.key == key)


def _snapshot_fields(tracking):
    return [tracking.model._meta.get_field(name) for name in tracking.snapshot_fields]


def _change_event(row, names):
    tracking = _tracking(row["ev_model"])
    data, previous = row["ev_data"], row["ev_previous"]
    context = row["ev_context"] or {}
    label = row["ev_label"]
    changes, note = [], ""
    for model_field in _snapshot_fields(tracking):
        if model_field.primary_key:
            continue
        new = data.get(model_field.attname)
        hidden = model_field.name in tracking.masked
        if label == INSERT:
            if new in (None, "", False) and not hidden:
                continue
            old_text, new_text = "", _display(model_field, new, names)
        elif label == DELETE:
            old_text, new_text = _display(model_field, new, names), ""
        elif previous is None:
            old_text, new_text = "?", _display(model_field, new, names)
        else:
            old = previous.get(model_field.attname)
            if old == new:
                continue
            old_text, new_text = (
                _display(model_field, old, names),
                _display(model_field, new, names),
            )
        if hidden:
            old_text = new_text = _("(不显示内容)")
        changes.append(FieldChange(str(model_field.verbose_name), old_text, new_text, hidden))
    if label in (UPDATE, SECRET_CHANGE) and previous is None:
        note = _("此前没有该对象的记录,只列出修改后的值。")
    if label == SECRET_CHANGE:
        secret_names = "、".join(
            str(tracking.model._meta.get_field(name).verbose_name) for name in tracking.secret
        )
        note = " ".join(
            filter(None, [_("%(fields)s已修改(不记录内容)。") % {"fields": secret_names}, note])
        )
    return ChangeEvent(
        at=row["ev_at"],
        label=label,
        action=str(EVENT_LABELS.get(label, label)),
        model_label=tracking.verbose_name,
        object_id=row["ev_obj"] or "",
        object_name=_object_name(tracking, data, names),
        street_name=names.street(row["ev_street"]),
        user_name=names.user(context.get("user")),
        ip=context.get("ip") or "",
        source=_source(context),
        reason=context.get("reason") or "",
        changes=changes,
        note=note,
    )


def _object_name(tracking, data, names):
    for name in NAME_FIELDS:
        if name in tracking.snapshot_fields and data.get(name):
            return str(data[name])
    related = [
        names.of(f.related_model, data.get(f.attname))
        for f in _snapshot_fields(tracking)
        if f.is_relation and data.get(f.attname) is not None
    ]
    return " · ".join(related)


def _source(context):
    if context.get("command"):
        return _("命令 %(command)s") % {"command": context["command"]}
    return context.get("url") or ""


def _display(model_field, value, names):
    """A stored value as the page shows it: labels for choices, names for objects, local times."""
    if value is None or value == "":
        return "—"
    if model_field.is_relation:
        return names.of(model_field.related_model, value)
    if model_field.flatchoices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(model_field, models.BooleanField):
        return _("是") if value else _("否")
    if isinstance(model_field, models.DateTimeField):
        moment = parse_datetime(str(value))
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, datetime.UTC)
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    text = str(value)
    return text if len(text) <= VALUE_MAX_LENGTH else text[: VALUE_MAX_LENGTH - 1] + "…"


class _Names:
    """The names of the objects a page of the trail refers to, fetched once per kind.

    Bureau staff get names only of what their scope shows them (users outside it appear as
    their role); the audit administrator, who reads the whole trail, gets every name.
    """

    def __init__(self, reader):
        self.reader = reader
        self.wanted = {}
        self.names = {}
        self.user_roles = {}

    def want(self, model, pk):
        self.wanted.setdefault(model._meta.concrete_model, set()).add(pk)

    def want_street(self, pk):
        from stations.models import Street

        self.want(Street, pk)

    def want_user(self, pk):
        from accounts.models import User

        self.want(User, pk)

    def load(self):
        from accounts.models import User

        for model, pks in self.wanted.items():
            rows = model._default_manager.filter(pk__in=pks)
            if model is User:
                # One query: every wanted user, marked whether the reader's scope shows them.
                visible = User.objects.visible_to(self.reader).filter(pk=models.OuterRef("pk"))
                rows = rows.annotate(in_scope=models.Exists(visible))
                for user in rows.only("username", "full_name", "role"):
                    if is_audit_admin(self.reader) or user.in_scope:
                        self.names[(User, user.pk)] = str(user)
                    else:
                        self.names[(User, user.pk)] = str(user.get_role_display() or _("用户"))
                continue
            if not is_audit_admin(self.reader):
                scoped = rows.all()
                if not hasattr(scoped, "visible_to"):
                    continue
                rows = scoped.visible_to(self.reader)
            for obj in rows:
                self.names[(model, obj.pk)] = str(obj)

    def of(self, model, pk):
        if pk is None:
            return "—"
        return self.names.get((model._meta.concrete_model, pk), f"#{pk}")

    def street(self, pk):
        from stations.models import Street

        return self.of(Street, pk) if pk else ""

    def user(self, pk):
        from accounts.models import User

        return self.of(User, pk) if pk else ""


# Access records -------------------------------------------------------------------------


def access_records(user, filters=None):
    """The access records `user` may read, newest first, filtered, with what the page shows."""
    filters = filters or TrailFilters()
    records = AccessRecord.objects.visible_to(user).select_related(
        "user", "street", "district", "object_type"
    )
    if filters.user_id:
        records = records.filter(user=filters.user_id)
    if filters.model_key:
        app_label, _dot, model_name = filters.model_key.partition(".")
        records = records.filter(
            object_type__app_label=app_label, object_type__model=model_name.lower()
        )
    if filters.object_id:
        records = records.filter(object_id=filters.object_id)
    if filters.street_id:
        records = records.filter(street=filters.street_id)
    if filters.date_from:
        records = records.filter(at__date__gte=filters.date_from)
    if filters.date_to:
        records = records.filter(at__date__lte=filters.date_to)
    if filters.action:
        records = records.filter(action=filters.action)
    return records.order_by("-at", "-pk")


def access_record_user_names(reader, records):
    """How each access record's user is named to `reader` (see `_Names`), by record."""
    from accounts.models import User

    visible = set()
    user_ids = {record.user_id for record in records if record.user_id}
    if user_ids and not is_audit_admin(reader):
        visible = set(
            User.objects.visible_to(reader).filter(pk__in=user_ids).values_list("pk", flat=True)
        )
    names = {}
    for record in records:
        if record.user is None:
            names[record.pk] = ""
        elif is_audit_admin(reader) or record.user_id in visible:
            names[record.pk] = str(record.user)
        else:
            names[record.pk] = str(record.user.get_role_display() or _("用户"))
    return names


def access_object_types():
    """The kinds of object an access record can name: the project's tracked models."""
    return [
        (tracking.key, tracking.verbose_name)
        for tracking in sorted(REGISTRY.values(), key=lambda t: t.key)
        if not tracking.model._meta.proxy
    ]


def street_choices(user):
    """The streets a reader may filter by: all for the audit administrator, else the district's."""
    from stations.models import Street

    streets = Street.objects.select_related("district").order_by("district__code", "code")
    if not is_audit_admin(user):
        streets = streets.filter(district=user.district_id)
    return streets


def find_user(reader, username):
    """The login named `username` that `reader` may filter the trail by, or None."""
    from accounts.models import User

    users = User.objects.all() if is_audit_admin(reader) else User.objects.visible_to(reader)
    return users.filter(username=username).first()
