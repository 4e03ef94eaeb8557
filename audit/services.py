"""Writes of the audit trail: access records, and the retention purge.

Changes to the project's data are recorded by database triggers (`audit.tracking`); these
services record what no trigger can see, and delete what has outlived its retention.
"""

from datetime import timedelta

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.utils import timezone

from audit.choices import AccessAction
from audit.models import APPEND_ONLY_TRIGGER, AccessRecord
from audit.tracking import REGISTRY
from changning_aid.net import client_ip

# The floor of the retention period: the law asks for at least six months of logs.
MINIMUM_RETENTION_DAYS = 180

OBJECT_REPR_MAX_LENGTH = AccessRecord._meta.get_field("object_repr").max_length
PATH_MAX_LENGTH = AccessRecord._meta.get_field("path").max_length


def division_of(obj):
    """The (district id, street id) an object belongs to in the network, as far as it says.

    A street and a district are their own place; other objects name theirs by a `street`
    or `district` foreign key (a committee by its street). Either may be None.
    """
    from stations.models import District, Street

    if obj is None:
        return None, None
    if isinstance(obj, District):
        return obj.pk, None
    if isinstance(obj, Street):
        return obj.district_id, obj.pk
    street_id = getattr(obj, "street_id", None)
    district_id = getattr(obj, "district_id", None)
    if street_id and not district_id:
        district_id = Street.objects.filter(pk=street_id).values_list("district_id", flat=True)[0]
    return district_id, street_id


@transaction.atomic
def record_access(*, request, action, obj=None, street=None, detail=""):
    """Record that the request's user read sensitive data: opened, revealed or exported it.

    `action` is an `audit.choices.AccessAction`; `obj` the record read (None for an export
    of many rows); `street` the street/town the data belongs to when `obj` does not say it
    (an export of one street's list); `detail` what was read and why (the purpose stated for
    an export). The district follows from the street or the object, else from the user, so
    bureau staff find the record in their district's trail. Returns the `AccessRecord`.
    """
    user = request.user if request.user.is_authenticated else None
    district_id, street_id = division_of(obj)
    if street is not None:
        district_id, street_id = street.district_id, street.pk
    if district_id is None and user is not None:
        district_id = user.district_id
    return AccessRecord.objects.create(
        user=user,
        ip=client_ip(request),
        action=action,
        object_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:OBJECT_REPR_MAX_LENGTH] if obj is not None else "",
        district_id=district_id,
        street_id=street_id,
        path=request.get_full_path()[:PATH_MAX_LENGTH],
        detail=detail,
    )


def retention_days():
    """How long audit records are kept at least (`AUDIT_RETENTION_DAYS`, never under 180)."""
    configured = int(getattr(settings, "AUDIT_RETENTION_DAYS", MINIMUM_RETENTION_DAYS))
    return max(configured, MINIMUM_RETENTION_DAYS)


def audit_tables():
    """The models whose rows form the audit trail: every event table, and access records."""
    return [tracking.event_model for tracking in REGISTRY.values()] + [AccessRecord]


@transaction.atomic
def purge_expired(*, older_than_days=None, now=None):
    """Delete the audit records older than the retention period, and nothing younger.

    `older_than_days` may lengthen the retention (keep more), never shorten it: a value
    under `retention_days()` raises `ValueError` and deletes nothing. The append-only
    triggers of the audit tables are passed for this transaction only, by naming them to
    `pgtrigger.ignore`; no page, admin or other service does so. Returns the number of
    rows deleted per table label, and records the purge itself as an access record.
    """
    minimum = retention_days()
    days = minimum if older_than_days is None else int(older_than_days)
    if days < minimum:
        raise ValueError(f"审计记录至少保存 {minimum} 天,不能清理 {days} 天内的记录。")
    cutoff = (now or timezone.now()) - timedelta(days=days)
    deleted = {}
    uris = [f"{model._meta.label}:{APPEND_ONLY_TRIGGER}" for model in audit_tables()]
    with pgtrigger.ignore(*uris):
        for model in audit_tables():
            time_field = "at" if model is AccessRecord else "pgh_created_at"
            count, _ = model.objects.filter(**{f"{time_field}__lt": cutoff}).delete()
            if count:
                deleted[model._meta.label] = count
    AccessRecord.objects.create(
        action=AccessAction.PURGE,
        detail=f"清理 {cutoff:%Y-%m-%d %H:%M} 之前的审计记录 {sum(deleted.values())} 条"
        f"(保存期 {days} 天)",
    )
    return deleted
