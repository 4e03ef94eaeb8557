from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """What a login may see and do (DOMAIN.md, "Users")."""

    SYSTEM_ADMIN = "system_admin", _("系统管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")
    BUREAU = "bureau", _("区民政局")
    STREET_MANAGER = "street_manager", _("街镇管理员")
    ADVISOR = "advisor", _("社区救助顾问")
