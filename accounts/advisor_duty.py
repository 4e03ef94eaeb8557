"""An advisor's login works while the advisor is on duty (`advisors.services`, module docstring).

A login of the advisor role linked to an advisor (`Advisor.user`) is refused at the login
page, and an open session of it ended at its next request, on the days the advisor is not
active (`Advisor.is_active_on`): before their start, from the day they leave, and once their
filing is revoked. Leaving today or a revoked filing also deactivates the login (the
services do it); this rule is what stops a login on the day a leave recorded in advance
takes effect, without a scheduled job. A login linked to no advisor keeps working.

The check reads the database once per session and day, not on every request: at login
(`remember_on_duty`, a `user_logged_in` receiver) and at the first request of each later
day (`end_session_off_duty`, called by `accounts.middleware`). A leave is dated in days,
so a session checked today stays right until midnight.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from advisors.choices import FilingStatus

# The session key holding the day (ISO) on which the login's advisor was last found on duty.
CHECKED_ON_SESSION_KEY = "advisor_on_duty_checked_on"


def _day(day):
    return formats.date_format(day, "Y年n月j日")


def off_duty_message(user, day=None):
    """Why `user` may not work as an advisor on `day` (today), or None when they may."""
    if getattr(user, "role", None) != Role.ADVISOR:
        return None
    # The reverse side of Advisor.user: absent when no advisor is linked to the login.
    advisor = getattr(user, "advisor_profile", None)
    day = day or timezone.localdate()
    if advisor is None or advisor.is_active_on(day):
        return None
    contact = _("如有疑问,请联系所在街镇的管理员。")
    if advisor.filing_status == FilingStatus.REVOKED:
        return _("您的社区救助顾问备案已注销,账号不能再使用。") + contact
    if advisor.left_on is not None and advisor.left_on <= day:
        left = _("您已于%(day)s离岗,社区救助顾问账号自当日起不能再使用。")
        return left % {"day": _day(advisor.left_on)} + contact
    not_started = _("您的上岗日期为%(day)s,社区救助顾问账号自当日起才能使用。")
    return not_started % {"day": _day(advisor.started_on)} + contact


def remember_on_duty(sender, request, user, **kwargs):
    """At login: note in the session that the advisor was found on duty today."""
    if request is None or not hasattr(request, "session"):
        return
    if getattr(user, "role", None) != Role.ADVISOR:
        return
    today = timezone.localdate()
    if off_duty_message(user, today) is None:
        request.session[CHECKED_ON_SESSION_KEY] = today.isoformat()


def end_session_off_duty(request):
    """Log an advisor whose advisor is off duty today out, and send them to the login page.

    Returns the redirect, or None when the request may go on. Reads the database at most
    once per session and day.
    """
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or session is None or not user.is_authenticated:
        return None
    if user.role != Role.ADVISOR:
        return None
    today = timezone.localdate()
    if session.get(CHECKED_ON_SESSION_KEY) == today.isoformat():
        return None
    message = off_duty_message(user, today)
    if message is None:
        session[CHECKED_ON_SESSION_KEY] = today.isoformat()
        return None
    logout(request)
    messages.error(request, message)
    return redirect(settings.LOGIN_URL)
