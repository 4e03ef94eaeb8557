"""Choices of the notifications app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    """What a notification is about; the list page shows it as a tag."""

    NEW_ORDER = "new_order", _("整改通知")
    DEADLINE_SOON = "deadline_soon", _("整改即将到期")
    DEADLINE_MISSED = "deadline_missed", _("整改逾期")
    FILING_DECIDED = "filing_decided", _("备案结果")
    VISIT_MISSES = "visit_misses", _("走访漏访")
    LEAD_OVERDUE = "lead_overdue", _("线索逾期")
    SITUATION_CHANGED = "situation_changed", _("情况变化")
    OTHER = "other", _("其他")
