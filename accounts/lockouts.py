"""Locked logins: who is locked out after failed logins, and lifting a lock.

django-axes counts failed logins per username in the database (`AccessAttempt`, one row
per username, address and browser), so every app server sees the same count; five in a
row lock the username for 15 minutes (settings `AXES_*`). An office behind one address is
never locked out together: the address plays no part in the lock.

Bureau staff see the locks of the logins of their district (`User.objects.visible_to`)
and can lift them; failed logins for usernames that do not exist are shown to the system
administrator only, since they name nobody a bureau manages.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from axes.backends import AxesStandaloneBackend
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role

log = logging.getLogger("changning_aid.security")

LOCKOUT_MANAGER_ROLES = (Role.BUREAU, Role.SYSTEM_ADMIN)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' gate, first of AUTHENTICATION_BACKENDS: a locked username gets no further.

    Axes refuses any authentication without a request; those come only from code, never
    from the login page (the test client's `login()`, a shell), so they pass unchecked.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message():
    """The Chinese message a locked-out user reads on the login page."""
    minutes = int(get_cool_off().total_seconds() // 60)
    return _(
        "账号因连续%(limit)d次登录失败已锁定%(minutes)d分钟,请在锁定解除后再试;"
        "如需提前解除,请联系区民政局。"
    ) % {"limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out login attempt gets (settings.AXES_LOCKOUT_CALLABLE).

    The login form already says why (`accounts.login.LoginForm`), so its page is kept and
    only marked 429 Too Many Requests; any other door gets the login page with the message.
    """
    if original_response is not None and original_response.status_code == 200:
        original_response.status_code = 429
        return original_response
    from accounts.login import LoginForm

    form = LoginForm(request)
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": lockout_message()},
        status=429,
    )


@dataclass(frozen=True)
class FailedLogins:
    """The recent failed logins of one username, as the lockout page shows them."""

    username: str
    user: object  # the login of that name, or None when no such login exists
    failures: int
    last_attempt_at: datetime
    last_ip: str | None
    unlocks_at: datetime | None  # None while not locked

    @property
    def locked(self):
        return self.unlocks_at is not None


def can_manage_lockouts(user):
    return user.is_active and (user.role in LOCKOUT_MANAGER_ROLES or user.is_superuser)


def failed_logins_visible_to(user, *, now=None):
    """The usernames with failed logins in the cool-off window that `user` may see.

    Locked ones first, then by the latest failure; two queries whatever the number of rows.
    """
    if not can_manage_lockouts(user):
        return []
    now = now or timezone.now()
    cool_off = get_cool_off()
    attempts = list(
        AccessAttempt.objects.filter(attempt_time__gte=now - cool_off)
        .exclude(username=None)
        .order_by("-attempt_time")
        .values("username", "ip_address", "failures_since_start", "attempt_time")
    )
    by_username = {}
    for attempt in attempts:
        by_username.setdefault(attempt["username"], []).append(attempt)
    User = get_user_model()
    users = {
        login.username: login
        for login in User.objects.visible_to(user).filter(username__in=list(by_username))
    }
    sees_unknown = user.is_system_admin
    rows = []
    for username, user_attempts in by_username.items():
        login = users.get(username)
        # The system administrator sees every login, so what is missing names nobody.
        if login is None and not sees_unknown:
            continue
        rows.append(_failed_logins(username, login, user_attempts, cool_off))
    rows.sort(key=lambda row: (not row.locked, -row.last_attempt_at.timestamp()))
    return rows


def _failed_logins(username, login, attempts, cool_off):
    """Mirror axes' rule: locked while the failures newer than the cool-off reach the limit.

    `attempts` is newest first; the lock ends when the attempt that reached the limit
    falls out of the window.
    """
    total = 0
    unlocks_at = None
    for attempt in attempts:
        total += attempt["failures_since_start"]
        if unlocks_at is None and total >= settings.AXES_FAILURE_LIMIT:
            unlocks_at = attempt["attempt_time"] + cool_off
    latest = attempts[0]
    return FailedLogins(
        username=username,
        user=login,
        failures=total,
        last_attempt_at=latest["attempt_time"],
        last_ip=latest["ip_address"],
        unlocks_at=unlocks_at,
    )


def lift_lockout(*, actor, username):
    """Forget the failed logins of `username`, lifting its lock; returns how many rows went.

    The actor must be allowed to see the login (404 otherwise, as for any row outside
    their scope); usernames that name no login are the system administrator's alone.
    """
    if not can_manage_lockouts(actor):
        raise Http404
    User = get_user_model()
    visible = User.objects.visible_to(actor).filter(username=username).exists()
    unknown_name = not User.objects.filter(username=username).exists()
    if not (visible or (unknown_name and actor.is_system_admin)):
        raise Http404
    count = AxesProxyHandler.reset_attempts(username=username)
    log.info("lockout of %r lifted by %r (%d attempt rows)", username, actor.username, count)
    return count
