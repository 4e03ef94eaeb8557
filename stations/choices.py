from django.db import models
from django.utils.translation import gettext_lazy as _


class StreetKind(models.TextChoices):
    """街镇 kinds; 其他 covers 开发区, 工业区, 农场 and the like."""

    SUBDISTRICT = "subdistrict", _("街道")
    TOWN = "town", _("镇")
    TOWNSHIP = "township", _("乡")
    OTHER = "other", _("其他")


class CommitteeKind(models.TextChoices):
    RESIDENTS = "residents", _("居委会")
    VILLAGE = "village", _("村委会")
    OTHER = "other", _("其他(虚拟社区等)")


class StationKind(models.TextChoices):
    GUIDANCE = "guidance", _("区指导站")
    STREET = "street", _("街镇服务站")
    COMMITTEE = "committee", _("居委服务点")
    PROFESSIONAL = "professional", _("专业(社会组织)服务点")


class StationStatus(models.TextChoices):
    PLANNING = "planning", _("筹建")
    RUNNING = "running", _("运行")
    SUSPENDED = "suspended", _("暂停")


# The notice's unified service items (统一服务事项), offered at every station.
SERVICE_ITEMS = (
    _("政策宣传引导"),
    _("社区走访发现"),
    _("开展家境调查"),
    _("资源整合对接"),
    _("心理关爱疏导"),
    _("社区支持体系建设"),
)

# The tasks each kind of station carries out (notice 三(四)1).
STATION_TASKS = {
    StationKind.GUIDANCE: (_("业务指导"), _("督导检查"), _("政策解答")),
    StationKind.STREET: (_("政策解答"), _("申请受理"), _("资源链接")),
    StationKind.COMMITTEE: (
        _("上门走访"),
        _("需求排摸"),
        _("政策引导"),
        _("代办申请"),
        _("资源链接"),
        _("日常联系"),
    ),
    StationKind.PROFESSIONAL: (_("心理关爱疏导"), _("资源链接"), _("个性化服务")),
}
