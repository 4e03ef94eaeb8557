"""What every page's base template needs: the navigation that fits the user's role."""

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.choices import Role


def navigation(request):
    """Navigation entries for the logged-in user's role, as (label, url) pairs."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [("政务公开", reverse("public:directory"))]}
    items = []
    if user.role in (Role.BUREAU, Role.SYSTEM_ADMIN) or user.is_superuser:
        items.append((_("服务网络"), reverse("stations:overview")))
    if user.role == Role.STREET_MANAGER and user.street_id:
        items.append((_("本街镇"), reverse("stations:street_detail", args=[user.street.code])))
    if user.role == Role.ADVISOR:
        items.append((_("我的站点"), reverse("stations:my_stations")))
    if user.role in (Role.BUREAU, Role.SYSTEM_ADMIN) or user.is_superuser:
        items.append((_("后台管理"), reverse("admin:index")))
    if user.role == Role.SYSTEM_ADMIN or user.is_superuser:
        items.append((_("区划导入"), reverse("stations:division_import")))
    items.append((_("政务公开"), reverse("public:directory")))
    return {"nav_items": items}
