"""The forced password change: a new or reset login changes its password before anything else.

A login created or reset by its administrator carries a temporary password that someone
else has seen, so until its owner changes it (`User.must_change_password`), every page
sends them to the password change page. Still open: logging out, the password change
pages themselves, static files, and pages anyone may open without logging in (views
marked `login_not_required`, such as the public directory). A view that must stay open
for another reason (a second-factor step of the login) is marked
`@password_change_not_required`.

The same middleware, before anything else but static files, ends the session of an advisor
login whose advisor is no longer on duty (`accounts.advisor_duty.end_session_off_duty`): it
is what a logged-in user must settle first, and it keeps to the one middleware entry.
"""

import functools

from django.conf import settings
from django.shortcuts import redirect

from accounts.advisor_duty import end_session_off_duty

# The pages a login that must change its password may still open, by URL name.
EXEMPT_URL_NAMES = frozenset({"logout", "password_change", "password_change_done", "admin:logout"})


def password_change_not_required(view):
    """Mark `view` as open to a login that has not yet changed its temporary password."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        return view(request, *args, **kwargs)

    wrapped.password_change_required = False
    return wrapped


class PasswordChangeRequiredMiddleware:
    """Send a logged-in user whose password must change to the password change page."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/") if settings.STATIC_URL else None

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or self.is_static(request):
            return None
        off_duty = end_session_off_duty(request)
        if off_duty is not None:
            return off_duty
        if not user.must_change_password or self.is_exempt(request, view_func):
            return None
        return redirect("password_change")

    def is_static(self, request):
        return bool(self.static_prefix) and request.path_info.startswith(self.static_prefix)

    def is_exempt(self, request, view_func):
        if self.is_static(request):
            return True
        if getattr(view_func, "login_required", True) is False:
            return True
        if getattr(view_func, "password_change_required", True) is False:
            return True
        match = request.resolver_match
        return match is not None and match.view_name in EXEMPT_URL_NAMES
