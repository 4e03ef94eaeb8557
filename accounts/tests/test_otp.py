"""The second factor: TOTP for every role, required for the roles OTP_REQUIRED_ROLES names.

The suite runs with OTP_REQUIRED_ROLES empty (tests log in with force_login, which skips
the login form); the tests here turn it on with the `otp_required` fixture.
"""

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.choices import Role
from accounts.otp_views import PENDING_SECRET_SESSION_KEY
from stations.tests.factories import make_user

PASSWORD = "pw-for-tests-only"
STRICT = ["system_admin", "audit_admin", "bureau"]


@pytest.fixture
def otp_required(settings):
    settings.OTP_REQUIRED_ROLES = STRICT
    return settings


def token_for(device):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong_token(device):
    return f"{(int(token_for(device)) + 1) % 1_000_000:06d}"


def bind(user):
    return TOTPDevice.objects.create(user=user, name="手机验证器", confirmed=True)


def log_in(client, username, token=None, **extra):
    data = {"username": username, "password": PASSWORD}
    if token is not None:
        data["otp_token"] = token
    return client.post(reverse("login"), data, **extra)


def logged_in(client):
    return "_auth_user_id" in client.session


# ---- Login with the second factor -----------------------------------------------------


@pytest.mark.django_db
def test_with_the_setting_on_a_login_without_a_valid_token_is_refused(
    client, two_streets, otp_required
):
    device = bind(two_streets.bureau)

    missing = log_in(client, "bureau_t")
    assert missing.status_code == 200
    assert "请填写手机验证器上的动态口令" in missing.content.decode()
    assert not logged_in(client)

    wrong = log_in(client, "bureau_t", wrong_token(device))
    assert wrong.status_code == 200
    assert "动态口令不正确或已过期" in wrong.content.decode()
    assert not logged_in(client)

    garbage = log_in(client, "bureau_t", "abc<script>")
    assert garbage.status_code == 200
    assert not logged_in(client)


@pytest.mark.django_db
def test_with_a_valid_token_the_login_succeeds_and_is_verified(client, two_streets, otp_required):
    device = bind(two_streets.bureau)
    response = log_in(client, "bureau_t", token_for(device))
    assert response.status_code == 302
    assert logged_in(client)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("stations:overview")).status_code == 200


@pytest.mark.django_db
def test_a_token_cannot_be_used_twice(client, two_streets, otp_required):
    device = bind(two_streets.bureau)
    token = token_for(device)
    assert log_in(client, "bureau_t", token).status_code == 302
    client.logout()
    assert log_in(client, "bureau_t", token).status_code == 200
    assert not logged_in(client)


@pytest.mark.django_db
def test_wrong_tokens_count_as_failed_logins_and_lock_the_username(
    client, two_streets, otp_required
):
    device = bind(two_streets.bureau)
    for _ in range(4):
        log_in(client, "bureau_t", wrong_token(device))
    assert AccessAttempt.objects.get(username="bureau_t").failures_since_start == 4
    fifth = log_in(client, "bureau_t", wrong_token(device))
    assert fifth.status_code == 429
    assert "已锁定15分钟" in fifth.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    assert log_in(client, "bureau_t", token_for(device)).status_code == 429
    assert not logged_in(client)


@pytest.mark.django_db
def test_any_role_with_an_authenticator_must_give_its_token(client, two_streets, otp_required):
    device = bind(two_streets.manager_a)  # street managers are not required to have one
    assert log_in(client, "manager_a").status_code == 200
    assert not logged_in(client)
    assert log_in(client, "manager_a", token_for(device)).status_code == 302


@pytest.mark.django_db
def test_roles_not_named_log_in_with_the_password_alone(client, two_streets, otp_required):
    assert log_in(client, "manager_a").status_code == 302
    landing = client.get(reverse("stations:street_detail", args=[two_streets.street_a.code]))
    assert landing.status_code == 200


@pytest.mark.django_db
def test_with_the_setting_empty_nobody_is_asked(client, two_streets, settings):
    settings.OTP_REQUIRED_ROLES = []
    assert log_in(client, "bureau_t").status_code == 302
    assert client.get(reverse("stations:overview")).status_code == 200


# ---- A required role without an authenticator binds one first ------------------------


@pytest.mark.django_db
def test_a_required_role_without_authenticator_must_bind_one_before_anything_else(
    client, two_streets, otp_required
):
    assert log_in(client, "bureau_t").status_code == 302
    overview = reverse("stations:overview")
    for path in (overview, reverse("home"), reverse("admin:index"), reverse("security:lockouts")):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(reverse("security:otp_setup")), path

    setup = client.get(reverse("security:otp_setup"), {"next": overview})
    assert setup.status_code == 200
    body = setup.content.decode()
    secret = client.session[PENDING_SECRET_SESSION_KEY]
    assert setup.context["secret"].replace(" ", "") in body
    assert "otpauth://totp/" in body and "bureau_t" in body
    assert "<svg" in body  # the QR code, drawn on the server
    # Reloading keeps the secret the user may already have scanned.
    assert client.get(reverse("security:otp_setup")).context["secret"] == setup.context["secret"]

    pending = TOTPDevice(user=two_streets.bureau, key=secret)
    wrong = client.post(
        reverse("security:otp_setup"), {"token": wrong_token(pending), "next": overview}
    )
    assert wrong.status_code == 200
    assert "动态口令不正确" in wrong.content.decode()
    assert not TOTPDevice.objects.exists()

    confirmed = client.post(
        reverse("security:otp_setup"), {"token": token_for(pending), "next": overview}
    )
    assert confirmed.status_code == 302
    assert confirmed["Location"] == overview
    device = TOTPDevice.objects.get(user=two_streets.bureau)
    assert device.confirmed and device.key == secret
    assert PENDING_SECRET_SESSION_KEY not in client.session
    assert client.get(overview).status_code == 200

    # The code that confirmed the binding does not open a login too.
    client.logout()
    assert log_in(client, "bureau_t", token_for(pending)).status_code == 200


@pytest.mark.django_db
def test_public_pages_and_logout_stay_open_while_the_second_factor_is_owed(
    client, two_streets, otp_required
):
    log_in(client, "bureau_t")
    assert client.get(reverse("public:directory")).status_code == 200
    assert client.post(reverse("logout")).status_code in (200, 302)
    assert not logged_in(client)


@pytest.mark.django_db
def test_no_redirect_loop_with_the_forced_password_change(client, two_streets, otp_required):
    bureau = two_streets.bureau
    bureau.must_change_password = True
    bureau.save()
    log_in(client, "bureau_t")
    seen = []
    response = client.get(reverse("stations:overview"))
    while response.status_code == 302 and len(seen) < 5:
        seen.append(response["Location"])
        response = client.get(response["Location"])
    assert response.status_code == 200, seen
    assert len(seen) <= 2, seen
    # Both owed pages open: the binding page and the password change page.
    assert client.get(reverse("security:otp_setup")).status_code == 200
    assert client.get(reverse("password_change")).status_code == 200


# ---- A session that was not verified --------------------------------------------------


@pytest.mark.django_db
def test_an_unverified_session_of_a_required_role_is_asked_for_a_token(
    client, two_streets, otp_required, login
):
    device = bind(two_streets.bureau)
    login(two_streets.bureau)  # force_login: the login form was never passed
    overview = reverse("stations:overview")
    response = client.get(overview)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("security:otp_verify"))
    # Binding another phone needs the current one first.
    setup = client.get(reverse("security:otp_setup"))
    assert setup["Location"].startswith(reverse("security:otp_verify"))

    wrong = client.post(reverse("security:otp_verify"), {"token": wrong_token(device)})
    assert wrong.status_code == 200
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    right = client.post(
        reverse("security:otp_verify"), {"token": token_for(device), "next": overview}
    )
    assert right.status_code == 302 and right["Location"] == overview
    assert client.get(overview).status_code == 200


@pytest.mark.django_db
def test_the_verify_page_ignores_a_next_to_another_site(client, two_streets, otp_required, login):
    device = bind(two_streets.bureau)
    login(two_streets.bureau)
    response = client.post(
        reverse("security:otp_verify"),
        {"token": token_for(device), "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


# ---- Every role may bind, and unbind where not required ------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager_a", "advisor_a", "bureau", "sysadmin"])
def test_every_role_can_bind_an_authenticator(client, two_streets, login, who):
    user = getattr(two_streets, who)
    login(user)
    assert client.get(reverse("security:overview")).status_code == 200
    client.get(reverse("security:otp_setup"))
    pending = TOTPDevice(user=user, key=client.session[PENDING_SECRET_SESSION_KEY])
    response = client.post(reverse("security:otp_setup"), {"token": token_for(pending)})
    assert response.status_code == 302
    assert TOTPDevice.objects.filter(user=user, confirmed=True).count() == 1


@pytest.mark.django_db
def test_rebinding_replaces_the_old_authenticator(client, two_streets):
    old = bind(two_streets.manager_a)
    assert log_in(client, "manager_a", token_for(old)).status_code == 302
    client.get(reverse("security:otp_setup"))
    pending = TOTPDevice(user=two_streets.manager_a, key=client.session[PENDING_SECRET_SESSION_KEY])
    assert (
        client.post(reverse("security:otp_setup"), {"token": token_for(pending)}).status_code == 302
    )
    assert list(TOTPDevice.objects.values_list("key", flat=True)) == [pending.key]


@pytest.mark.django_db
def test_unbinding_is_for_roles_that_do_not_require_it(client, two_streets, otp_required):
    device = bind(two_streets.manager_a)
    log_in(client, "manager_a", token_for(device))
    client.post(reverse("security:otp_remove"))
    assert not TOTPDevice.objects.exists()
    client.logout()

    device = bind(two_streets.bureau)
    log_in(client, "bureau_t", token_for(device))
    response = client.post(reverse("security:otp_remove"), follow=True)
    assert "不能解除绑定" in response.content.decode()
    assert TOTPDevice.objects.filter(user=two_streets.bureau).exists()


def test_authenticators_are_not_in_the_admin():
    assert not admin.site.is_registered(TOTPDevice)
    assert not any(model._meta.app_label == "axes" for model in admin.site._registry)


@pytest.mark.django_db
def test_the_strict_default_names_the_three_roles(settings):
    """Outside the tests the default is strict (see test_deploy for the process check)."""
    assert set(STRICT) == {Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN, Role.BUREAU}
    auditor = make_user("auditor_t", Role.AUDIT_ADMIN)
    settings.OTP_REQUIRED_ROLES = STRICT
    from accounts.second_factor import requires_second_factor

    assert requires_second_factor(auditor)
