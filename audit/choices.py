from django.db import models
from django.utils.translation import gettext_lazy as _


class AccessAction(models.TextChoices):
    """What a user did with sensitive data that is recorded even though nothing changed."""

    VIEW_SENSITIVE = "view_sensitive", _("查看敏感记录")
    REVEAL = "reveal", _("显示完整证件号")
    EXPORT = "export", _("导出")
    EXPORT_FULL_ID = "export_full_id", _("导出完整证件号")
    IMPORT = "import", _("导入")
    PURGE = "purge", _("清理过期审计记录")
