"""The notifications pages: a login's own notifications, opening one, marking them read.

Every login (whatever the role) reads its own notifications and nobody else's: another
login's notification answers 404, exactly like one that does not exist. Opening a
notification marks it read and goes on to the page it is about. The list runs a fixed
number of queries whatever the number of notifications.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.choices import Role
from changning_aid.pages import forbidden
from changning_aid.scoping import scoped_get_or_404
from notifications import services
from notifications.models import Notification

PER_PAGE = 30


def _local(request, url):
    """`url` if it is a path of this site ("/..."), else None."""
    if (
        url
        and url.startswith("/")
        and url_has_allowed_host_and_scheme(
            url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return url
    return None


def _back(request):
    """Where to go after marking read: the list page the form was on, else the list."""
    return _local(request, request.POST.get("next")) or reverse("notifications:list")


def notification_list(request):
    """通知: unread ones first, then the rest, newest first; `?show=unread` for unread only.

    The audit administrator receives no notifications: their only page is the trail
    (三员分立), so the list answers them with the Chinese 403 page.
    """
    if request.user.role == Role.AUDIT_ADMIN:
        return forbidden(
            request, _("审计管理员只查看审计记录,没有工作通知。"), back_url=reverse("home")
        )
    rows = Notification.objects.visible_to(request.user)
    unread_only = request.GET.get("show") == "unread"
    if unread_only:
        rows = rows.unread()
    page = Paginator(rows.unread_first(), PER_PAGE).get_page(request.GET.get("page"))
    list_url = reverse("notifications:list")
    return render(
        request,
        "notifications/notification_list.html",
        {
            "page_obj": page,
            "unread_only": unread_only,
            "all_url": list_url,
            "unread_url": list_url + "?show=unread",
        },
    )


def notification_open(request, pk):
    """Follow a notification's link: it is marked read, then its page opens."""
    notification = scoped_get_or_404(Notification.objects, request.user, pk=pk)
    services.mark_read(actor=request.user, notification=notification)
    return HttpResponseRedirect(_local(request, notification.url) or reverse("notifications:list"))


def notification_read(request, pk):
    """Mark one notification read (POST), back to the list."""
    # Looked up first: another login's notification is a 404 whatever the method.
    notification = scoped_get_or_404(Notification.objects, request.user, pk=pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    services.mark_read(actor=request.user, notification=notification)
    return HttpResponseRedirect(_back(request))


@require_POST
def notification_read_all(request):
    """Mark every unread notification of the login read (POST)."""
    count = services.mark_all_read(actor=request.user)
    if count:
        messages.success(request, _("已将 %(count)d 条通知标为已读。") % {"count": count})
    else:
        messages.info(request, _("没有未读的通知。"))
    return HttpResponseRedirect(_back(request))
