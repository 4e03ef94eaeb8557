"""What every page's base template needs: the navigation that fits the user's role."""

from typing import NamedTuple

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.authority import manages_accounts
from accounts.choices import Role


class NavItem(NamedTuple):
    """One entry of the main navigation.

    `section` is the path prefix of the pages the entry stands for (its URL by default), or
    a tuple of such prefixes; `active` marks the entry of the current page.
    """

    label: str
    url: str
    section: str | tuple = ""
    active: bool = False


def _mark_active(items, path):
    """Mark the entry with the longest section prefix of the current path."""
    sections = []
    for item in items:
        prefixes = item.section or item.url
        for prefix in (prefixes,) if isinstance(prefixes, str) else prefixes:
            sections.append((prefix, item))
    matches = [(section, item) for section, item in sections if path.startswith(section)]
    if not matches:
        return items
    current = max(matches, key=lambda match: len(match[0]))[1]
    return [item._replace(active=item is current) for item in items]


def navigation(request):
    """Navigation entries (`NavItem`) for the logged-in user's role, the current one marked."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        items = [NavItem(_("政务公开"), reverse("public:directory"))]
        return {"nav_items": _mark_active(items, request.path)}
    network_staff = user.role in (Role.BUREAU, Role.SYSTEM_ADMIN) or user.is_superuser
    items = []
    if user.role in (Role.BUREAU, Role.STREET_MANAGER):
        # Where the district (or the street) stands: the home page of both roles.
        items.append(NavItem(_("工作看板"), reverse("supervision:dashboard")))
    if network_staff:
        items.append(NavItem(_("服务网络"), reverse("stations:overview")))
    if user.role == Role.STREET_MANAGER and user.street_id:
        street_url = reverse("stations:street_detail", args=[user.street.code])
        items.append(NavItem(_("本街镇"), street_url, section=reverse("stations:overview")))
    if user.role in (Role.BUREAU, Role.STREET_MANAGER):
        items.append(NavItem(_("社区救助顾问"), reverse("advisors:roster")))
        # The advisors side by side for a period, and the nominations made from there.
        items.append(
            NavItem(
                _("顾问考核"),
                reverse("advisors:performance"),
                section=(reverse("advisors:performance"), reverse("advisors:nominations")),
            )
        )
    if user.role == Role.ADVISOR:
        items.append(NavItem(_("走访工作台"), reverse("visits:desk")))
        my_url = reverse("stations:my_stations")
        items.append(NavItem(_("我的站点"), my_url, section=reverse("stations:overview")))
    if user.role in (Role.BUREAU, Role.STREET_MANAGER, Role.ADVISOR):
        # Keepers keep them; advisors read those of the stations they serve.
        items.append(NavItem(_("志愿者"), reverse("advisors:volunteers:list")))
    if user.role in (Role.BUREAU, Role.STREET_MANAGER, Role.ADVISOR):
        items.append(NavItem(_("困难人员"), reverse("cases:recipients")))
        # 政策找人: the leads, the departments' lists and the figures, all under the leads'
        # /cases/leads/ (a longer prefix than the people's /cases/, so marked here).
        items.append(NavItem(_("政策找人"), reverse("cases:leads")))
    if user.role in (Role.BUREAU, Role.STREET_MANAGER, Role.ADVISOR):
        # The four checklists; their list pages live under /cases/ beside the recipients.
        lists = ("cases:checklists", "cases:needs", "cases:resources", "cases:services")
        items.append(
            NavItem(_("四项清单"), reverse(lists[0]), section=tuple(reverse(n) for n in lists))
        )
    if user.role in (Role.BUREAU, Role.STREET_MANAGER):
        # The month rule's figures, misses and matrix (the pages under /visits/).
        items.append(NavItem(_("走访"), reverse("visits:coverage"), section="/visits/"))
        items.append(NavItem(_("督导检查"), reverse("supervision:inspections")))
        items.append(NavItem(_("限期整改"), reverse("supervision:orders")))
        items.append(NavItem(_("绩效考核"), reverse("supervision:assessment")))
        items.append(NavItem(_("通报"), reverse("supervision:bulletins")))
    if user.role in (Role.BUREAU, Role.STREET_MANAGER):
        items.append(NavItem(_("服务满意率"), reverse("cases:satisfaction")))
    if manages_accounts(user):
        items.append(NavItem(_("账号管理"), reverse("accounts:list")))
    if user.role in (Role.AUDIT_ADMIN, Role.BUREAU):
        items.append(NavItem(_("审计记录"), reverse("audit:change_trail")))
    if user.role == Role.BUREAU:
        items.append(NavItem(_("登录锁定"), reverse("security:lockouts")))
    if network_staff:
        items.append(NavItem(_("后台管理"), reverse("admin:index")))
    if user.role == Role.SYSTEM_ADMIN or user.is_superuser:
        items.append(NavItem(_("区划导入"), reverse("stations:division_import")))
    items.append(NavItem(_("政务公开"), reverse("public:directory")))
    return {"nav_items": _mark_active(items, request.path)}


def unread_notifications(request):
    """`unread_notifications`: the login's unread notifications, counted when the page first
    asks (`.count`, `.label`): one query on a page that shows the header, none elsewhere."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from notifications.selectors import UnreadCount

    return {"unread_notifications": UnreadCount(user)}
