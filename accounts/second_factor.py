"""The second factor: a TOTP authenticator app on the user's phone (django-otp).

Every role may bind an authenticator; the roles named in `settings.OTP_REQUIRED_ROLES`
must. Whoever has one gives its 6-digit code at login (`accounts.login.LoginForm`). A user
of a required role who logged in with the password alone, without an authenticator yet,
is sent by `SecondFactorMiddleware` to bind one before reaching any other page; one who
has an authenticator but whose session was not verified with it (a session older than
the rule) is asked for a code.

Tests log in with `client.force_login`, which never passes the login form, and so run
with `OTP_REQUIRED_ROLES` empty (settings.py); the tests of the second factor turn it on.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from accounts.choices import Role

DEVICE_NAME = _("手机验证器")

# Pages a user who still owes the second factor may open: binding or verifying it,
# changing the password (first login asks for it too) and leaving.
EXEMPT_VIEW_NAMES = frozenset(
    {
        "logout",
        "password_change",
        "password_change_done",
        "security:otp_setup",
        "security:otp_verify",
    }
)


def effective_role(user):
    """The role the rules apply to; a superuser without a role is a system administrator."""
    if user.is_superuser and not user.role:
        return Role.SYSTEM_ADMIN
    return user.role


def requires_second_factor(user):
    """Whether `user`'s role must use a second factor (settings.OTP_REQUIRED_ROLES)."""
    return user.is_authenticated and effective_role(user) in settings.OTP_REQUIRED_ROLES


def confirmed_devices(user):
    return list(devices_for_user(user, confirmed=True))


def new_secret():
    """A fresh TOTP secret (20 random bytes, hex) for a device being bound."""
    return random_hex(20)


def parse_token(token):
    """The code as the number it is, or None when it is not 6 to 8 digits."""
    token = "".join((token or "").split())
    if not token.isdigit() or not 6 <= len(token) <= 8:
        return None
    return int(token)


def verify_login_token(user, token):
    """The confirmed device of `user` that accepts `token`, or None.

    Each device throttles failed codes itself (django-otp doubles the wait after each).
    """
    number = parse_token(token)
    if number is None:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(number):
                return device
    return None


@transaction.atomic
def enable_second_factor(*, user, secret, token):
    """Bind an authenticator holding `secret` to `user`, once it shows a valid `token`.

    Replaces any authenticator the user had. Returns the new device, or None when the
    code does not match the secret (nothing is written then).
    """
    number = parse_token(token)
    if number is None:
        return None
    device = TOTPDevice(user=user, name=str(DEVICE_NAME), key=secret, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if not totp.verify(number, tolerance=device.tolerance):
        return None
    # The code just used may not open a login as well.
    device.last_t = totp.t()
    device.drift = totp.drift
    TOTPDevice.objects.filter(user=user).delete()
    device.full_clean()
    device.save()
    return device


@transaction.atomic
def disable_second_factor(*, user):
    """Remove the user's authenticators; returns how many there were."""
    count, _deleted = TOTPDevice.objects.filter(user=user).delete()
    return count


def mark_verified(request, device):
    """Record in the session that this login was verified with `device`."""
    otp_login(request, device)


class SecondFactorMiddleware:
    """Send a user of a required role who has not passed the second factor to do so.

    Must come after django_otp's OTPMiddleware. Public pages (`login_not_required`) and
    `EXEMPT_VIEW_NAMES` stay open; everything else redirects, with `next` kept.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not requires_second_factor(user):
            return None
        if getattr(user, "is_verified", lambda: False)():
            return None
        if getattr(view_func, "login_required", True) is False:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in EXEMPT_VIEW_NAMES:
            return None
        target = "security:otp_verify" if confirmed_devices(user) else "security:otp_setup"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
