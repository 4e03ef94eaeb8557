"""The choices of the advisors app (DOMAIN.md, "People")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Background(models.TextChoices):
    """Where an advisor comes from; at a committee point usually 居委干部 or 专职社区工作者."""

    COMMITTEE_CADRE = "committee_cadre", _("居委干部")
    COMMUNITY_WORKER = "community_worker", _("专职社区工作者")
    STREET_STAFF = "street_staff", _("街镇社会救助工作人员")
    SOCIAL_WORKER = "social_worker", _("社会组织专业社工")
    OTHER = "other", _("其他")


class SocialWorkLevel(models.TextChoices):
    """社会工作职业资格: preferred, not required."""

    NONE = "none", _("无")
    ASSISTANT = "assistant", _("助理社会工作师")
    SOCIAL_WORKER = "social_worker", _("社会工作师")
    SENIOR = "senior", _("高级社会工作师")


class Skill(models.TextChoices):
    """The five skills of the notice."""

    RESOURCES = "resources", _("资源调配")
    NEEDS = "needs", _("需求分析")
    ASSESSMENT = "assessment", _("问题评估")
    COUNSELLING = "counselling", _("心理疏导")
    EMERGENCY = "emergency", _("突发事件处置")


class FilingStatus(models.TextChoices):
    """备案: 待备案 → 已备案 → 已注销."""

    PENDING = "pending", _("待备案")
    FILED = "filed", _("已备案")
    REVOKED = "revoked", _("已注销")


class FilingAction(models.TextChoices):
    """One step of the filing, kept as a `FilingEvent`."""

    SUBMIT = "submit", _("提交备案")
    FILE = "file", _("备案")
    SEND_BACK = "send_back", _("退回")
    REVOKE = "revoke", _("注销")


class OrganiserLevel(models.TextChoices):
    """Who organised a training."""

    STREET = "street", _("街镇")
    DISTRICT = "district", _("区")


class TrainingKind(models.TextChoices):
    PROFESSIONAL = "professional", _("专业培训")
    OTHER = "other", _("其他")
