"""What a login leaves on the account: this login's time and address, and the previous ones.

The user sees the previous login's time and address after logging in (a login they do not
remember is how a stolen password shows). Django's own `update_last_login` receiver would
overwrite `last_login` before this one could move it to `previous_login_at`, so
`connect()` puts this receiver in its place: one write per login instead of two. It also
connects `accounts.advisor_duty.remember_on_duty`, which notes in the session that an
advisor login's advisor is on duty today.
"""

from django.contrib.auth.signals import user_logged_in
from django.utils import timezone

from accounts import advisor_duty
from changning_aid.net import client_ip

DJANGO_UPDATE_LAST_LOGIN = "update_last_login"


def record_login(sender, request, user, **kwargs):
    """Shift the last login to the previous one and record this login's time and address."""
    user.previous_login_at = user.last_login
    user.previous_login_ip = user.last_login_ip
    user.last_login = timezone.now()
    user.last_login_ip = client_ip(request) if request is not None else None
    user.save(
        update_fields=["last_login", "last_login_ip", "previous_login_at", "previous_login_ip"]
    )


def connect():
    """Record logins with `record_login` instead of Django's `update_last_login`."""
    user_logged_in.disconnect(dispatch_uid=DJANGO_UPDATE_LAST_LOGIN)
    user_logged_in.connect(record_login, dispatch_uid="accounts.record_login")
    user_logged_in.connect(
        advisor_duty.remember_on_duty, dispatch_uid="accounts.advisor_duty.remember_on_duty"
    )
