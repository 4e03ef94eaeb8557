"""The choices of the visits app (the notice 三(二): 定期联系走访, 每月至少1次)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class VisitMethod(models.TextChoices):
    HOME = "home", _("上门走访")
    PHONE = "phone", _("电话")
    STATION = "station", _("来站")
    VIDEO = "video", _("视频")


class VisitResult(models.TextChoices):
    """A completed visit counts for the month; a failed attempt is recorded but does not."""

    COMPLETED = "completed", _("走访完成")
    NOBODY_HOME = "nobody_home", _("无人在家")
    REFUSED = "refused", _("拒访")


FAILED_RESULTS = (VisitResult.NOBODY_HOME, VisitResult.REFUSED)


class CheckLevel(models.TextChoices):
    """The quick checks of a visit: 生活状况, 健康状况, 居住安全, 心理状态."""

    NORMAL = "normal", _("正常")
    ATTENTION = "attention", _("需关注")
    RISK = "risk", _("有风险")


# The quick checks: field name and label, in the order the form shows them.
QUICK_CHECKS = (
    ("living", _("生活状况")),
    ("health", _("健康状况")),
    ("housing", _("居住安全")),
    ("mood", _("心理状态")),
)


class MonthState(models.TextChoices):
    """A person's state for a month on the desk and the matrix."""

    VISITED = "visited", _("已走访")
    PENDING = "pending", _("未走访")
    MISSED = "missed", _("漏访")
    NOT_DUE = "not_due", _("不需走访")
