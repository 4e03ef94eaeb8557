"""In-app notifications (通知): what the system tells one user, read in their list.

A notification belongs to one login and is seen by nobody else, whatever their role. It
names the object it is about by a local path (`url`); following it marks the notification
read. `dedupe_key` says which event the notification is for ("deadline_missed:12:2026-10-31"):
a login gets at most one notification per key, so that a job or a hook that runs twice
creates nothing new (`notifications.services.notify`).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from changning_aid.scoping import ScopedQuerySet
from notifications.choices import NotificationKind


class NotificationQuerySet(ScopedQuerySet):
    """Each login sees its own notifications and nobody else's, whatever the role."""

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        return self.filter(recipient=user)

    def unread(self):
        return self.filter(read_at__isnull=True)

    def unread_first(self):
        """Unread ones on top, each group newest first."""
        read = models.Case(
            models.When(read_at__isnull=True, then=models.Value(0)),
            default=models.Value(1),
            output_field=models.IntegerField(),
        )
        return self.order_by(read, "-created_at", "-pk")


@audit.track(district=None, street=None)
class Notification(models.Model):
    """One message of the system to one login: a rectification order, a deadline, a filing
    decided, last month's visit misses. Also sent by e-mail where a server is configured."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        # A notification means nothing without its reader; logins are deactivated, not deleted.
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(
        _("类别"), max_length=20, choices=NotificationKind.choices, default=NotificationKind.OTHER
    )
    title = models.CharField(_("标题"), max_length=200)
    body = models.CharField(_("内容"), max_length=500, blank=True)
    url = models.CharField(
        _("链接"), max_length=300, blank=True, help_text=_("本系统内的页面地址,以 / 开头。")
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    dedupe_key = models.CharField(
        _("去重键"),
        max_length=200,
        help_text=_("同一接收人同一去重键只通知一次。"),
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_key"
            ),
            models.CheckConstraint(name="notification_has_key", condition=~Q(dedupe_key="")),
            # Only a path of this site: never another host ("//host", "https://...").
            models.CheckConstraint(
                name="notification_url_is_local",
                condition=Q(url="") | (Q(url__startswith="/") & ~Q(url__startswith="//")),
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        """The address that marks the notification read and goes on to its object."""
        return reverse("notifications:open", args=[self.pk])

    @property
    def is_unread(self):
        return self.read_at is None
