"""The audit trail's own records.

Changes to the project's models are recorded by database triggers into pghistory's event
tables (see `audit.tracking`); what is kept here is what triggers cannot see: who opened,
revealed or exported sensitive data (`AccessRecord`). Audit rows are append-only: the
application offers no way to change or delete them, and on PostgreSQL a trigger refuses
UPDATE and DELETE except for the retention purge (`audit.services.purge_expired`).
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.choices import AccessAction
from audit.scoping import audit_scope

# The name pghistory gives the append-only trigger of its event tables; audit tables of
# this app use the same, so that the retention purge passes them all the same way
# (`pgtrigger.ignore`, in `audit.services.purge_expired`).
APPEND_ONLY_TRIGGER = "append_only"


class AccessRecordQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The access records `user` may read (`audit.scoping`)."""
        return self.filter(audit_scope(user))


class AccessRecord(models.Model):
    """One reading of sensitive data: a sensitive record opened, an ID number revealed, an export.

    Nothing changes in the database when someone reads, so triggers cannot record it; the
    view that shows, reveals or exports calls `audit.services.record_access`, which writes
    one of these with the user, the client address and the object read. `district` and
    `street` are the object's place in the network, so bureau staff see their district's.
    """

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    ip = models.GenericIPAddressField(_("地址"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=30, choices=AccessAction.choices)
    object_type = models.ForeignKey(
        "contenttypes.ContentType",
        verbose_name=_("对象类型"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    district = models.ForeignKey(
        "stations.District",
        verbose_name=_("区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    path = models.CharField(_("页面"), max_length=500, blank=True)
    detail = models.TextField(_("说明或用途"), blank=True)

    objects = AccessRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("访问记录")
        verbose_name_plural = _("访问记录")
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_access_object")]
        triggers = [
            pgtrigger.Protect(
                name=APPEND_ONLY_TRIGGER, operation=pgtrigger.Update | pgtrigger.Delete
            )
        ]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_repr}"
