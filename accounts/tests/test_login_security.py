"""Logins: lockout after failed logins, the lockout page, password rules, idle sessions,
the previous login shown after login."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation

from accounts.choices import Role
from accounts.models import User
from stations.tests.factories import make_district, make_street, make_user

PASSWORD = "pw-for-tests-only"
LOCKED = "账号因连续5次登录失败已锁定15分钟"


def log_in(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def logged_in_as(client):
    return client.session.get("_auth_user_id")


def fail(client, username, times, **extra):
    for _ in range(times):
        response = log_in(client, username, "wrong-password", **extra)
        assert response.status_code in (200, 429)
    return response


@pytest.fixture
def other_district_manager(db):
    xuhui = make_district("310104", "徐汇区")
    street = make_street(xuhui, "天平路街道", "310104003")
    return make_user("manager_xuhui", Role.STREET_MANAGER, street=street)


# ---- Lockout -------------------------------------------------------------------------


@pytest.mark.django_db
def test_five_failures_lock_the_username_and_the_right_password_is_refused(client, two_streets):
    for _ in range(4):
        response = log_in(client, "manager_a", "wrong-password")
        assert response.status_code == 200
        assert LOCKED not in response.content.decode()
    fifth = log_in(client, "manager_a", "wrong-password")
    assert fifth.status_code == 429
    assert LOCKED in fifth.content.decode()

    sixth = log_in(client, "manager_a", PASSWORD)
    assert sixth.status_code == 429
    assert LOCKED in sixth.content.decode()
    assert logged_in_as(client) is None


@pytest.mark.django_db
def test_the_lock_is_by_username_not_by_address(client, two_streets):
    fail(client, "manager_a", 5)
    # Same address, same browser: a colleague in the same office still logs in.
    response = log_in(client, "manager_b", PASSWORD)
    assert response.status_code == 302
    assert logged_in_as(client) == str(two_streets.manager_b.pk)


@pytest.mark.django_db
def test_failures_from_several_addresses_add_up(client, two_streets):
    for number in range(5):
        fail(client, "manager_a", 1, REMOTE_ADDR=f"203.0.113.{number + 1}")
    assert log_in(client, "manager_a", PASSWORD, REMOTE_ADDR="198.51.100.1").status_code == 429


@pytest.mark.django_db
def test_a_success_resets_the_count(client, two_streets):
    fail(client, "manager_a", 4)
    assert log_in(client, "manager_a", PASSWORD).status_code == 302
    client.logout()
    fail(client, "manager_a", 4)
    assert log_in(client, "manager_a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lock_ends_after_15_minutes_and_tries_while_locked_do_not_extend_it(
    client, two_streets
):
    fail(client, "manager_a", 5)
    locked_at = AccessAttempt.objects.get(username="manager_a").attempt_time
    fail(client, "manager_a", 3)
    attempt = AccessAttempt.objects.get(username="manager_a")
    assert attempt.attempt_time == locked_at
    assert attempt.failures_since_start == 5

    # 14 minutes later: still locked.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=14))
    assert log_in(client, "manager_a", PASSWORD).status_code == 429
    # Past 15 minutes: the right password works again.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(minutes=1, seconds=1))
    assert log_in(client, "manager_a", PASSWORD).status_code == 302
    assert logged_in_as(client) == str(two_streets.manager_a.pk)


@pytest.mark.django_db
def test_failures_are_counted_against_the_real_client_behind_a_trusted_proxy(
    client, two_streets, settings
):
    settings.TRUSTED_PROXIES = ["10.0.0.5"]
    fail(
        client, "manager_a", 1, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7"
    )
    assert AccessAttempt.objects.get(username="manager_a").ip_address == "198.51.100.7"


# ---- The lockout page ----------------------------------------------------------------


@pytest.mark.django_db
def test_bureau_sees_the_locks_of_its_district_only(
    client, two_streets, other_district_manager, login
):
    fail(client, "manager_a", 5)
    fail(client, "manager_b", 2)
    fail(client, "manager_xuhui", 5)
    fail(client, "nobody-by-this-name", 5)

    page = login(two_streets.bureau).get(reverse("security:lockouts"))
    assert page.status_code == 200
    body = page.content.decode()
    rows = {row.username: row for row in page.context["rows"]}
    assert set(rows) == {"manager_a", "manager_b"}
    assert rows["manager_a"].locked and rows["manager_a"].failures == 5
    assert not rows["manager_b"].locked
    assert page.context["locked_count"] == 1
    assert "已锁定" in body and "127.0.0.1" in body
    for hidden in ("manager_xuhui", "nobody-by-this-name", "天平路街道"):
        assert hidden not in body


@pytest.mark.django_db
def test_the_system_administrator_also_sees_unknown_usernames(
    client, two_streets, other_district_manager, login
):
    fail(client, "nobody-by-this-name", 5)
    fail(client, "manager_xuhui", 5)
    page = login(two_streets.sysadmin).get(reverse("security:lockouts"))
    usernames = {row.username for row in page.context["rows"]}
    assert usernames == {"nobody-by-this-name", "manager_xuhui"}
    assert "不存在的账号" in page.content.decode()


@pytest.mark.django_db
def test_bureau_lifts_a_lock(client, two_streets, login):
    fail(client, "manager_a", 5)
    login(two_streets.bureau)
    response = client.post(reverse("security:lockout_lift"), {"username": "manager_a"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(username="manager_a").exists()
    assert "已解除账号 manager_a 的登录锁定" in client.get(response["Location"]).content.decode()
    client.logout()
    assert log_in(client, "manager_a", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_bureau_cannot_lift_locks_outside_its_district(
    client, two_streets, other_district_manager, login
):
    fail(client, "manager_xuhui", 5)
    fail(client, "nobody-by-this-name", 5)
    login(two_streets.bureau)
    for username in ("manager_xuhui", "nobody-by-this-name"):
        response = client.post(reverse("security:lockout_lift"), {"username": username})
        assert response.status_code == 404
        assert AccessAttempt.objects.filter(username=username).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["manager_a", "advisor_a"])
def test_other_roles_find_no_lockout_page(client, two_streets, login, who):
    fail(client, "manager_b", 5)
    login(getattr(two_streets, who))
    assert client.get(reverse("security:lockouts")).status_code == 404
    response = client.post(reverse("security:lockout_lift"), {"username": "manager_b"})
    assert response.status_code == 404
    assert AccessAttempt.objects.filter(username="manager_b").exists()


@pytest.mark.django_db
def test_the_audit_administrator_finds_no_lockout_page(client, two_streets, login):
    auditor = make_user("auditor_t", Role.AUDIT_ADMIN)
    login(auditor)
    assert client.get(reverse("security:lockouts")).status_code == 404


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_the_login_page(client):
    response = client.get(reverse("security:lockouts"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ---- Passwords -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, message",
    [
        ("Ab1-xyz", "密码太短,至少需要10个字符"),
        ("abcdefghijkl", "四类字符中的3类"),
        ("abcdefgh1234", "四类字符中的3类"),
        ("ABCDEF-GHIJ-", "四类字符中的3类"),
    ],
)
def test_weak_passwords_are_refused_in_chinese(password, message):
    # As in a request (management commands leave the thread with no language).
    with translation.override("zh-hans"), pytest.raises(ValidationError) as error:
        validate_password(password, User(username="li_ming"))
    assert message in " ".join(error.value.messages)


@pytest.mark.parametrize(
    "password", ["Zhangsan-Shanghai-2026", "shanghai-ZHANGSAN-7", "2026.nasgnahz.Pudong"]
)
def test_a_password_may_not_contain_the_username(password):
    with pytest.raises(ValidationError) as error:
        validate_password(password, User(username="zhangsan"))
    assert "密码不能包含用户名" in " ".join(error.value.messages)


def test_a_password_like_the_username_is_refused():
    with pytest.raises(ValidationError) as error:
        validate_password("Zhangsan2026", User(username="zhangsan2025", full_name="张三"))
    assert any("相似" in message or "用户名" in message for message in error.value.messages)


@pytest.mark.parametrize(
    "password", ["Changning-2023", "huayang lu 2026 Station", "长宁区民政局Aid9"]
)
def test_good_passwords_pass(password):
    validate_password(password, User(username="zhangsan"))


@pytest.mark.django_db
def test_the_password_change_page_applies_the_rules(client, two_streets, login):
    login(two_streets.manager_a)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "manager_a-2026-X",
            "new_password2": "manager_a-2026-X",
        },
    )
    assert response.status_code == 200
    assert "密码不能包含用户名" in response.content.decode()
    two_streets.manager_a.refresh_from_db()
    assert two_streets.manager_a.check_password(PASSWORD)


# ---- Sessions ------------------------------------------------------------------------


def test_sessions_end_after_30_idle_minutes_and_with_the_browser():
    assert django_settings.SESSION_COOKIE_AGE == 30 * 60
    assert django_settings.SESSION_SAVE_EVERY_REQUEST
    assert django_settings.SESSION_EXPIRE_AT_BROWSER_CLOSE


@pytest.mark.django_db
def test_a_session_idle_for_more_than_30_minutes_is_logged_out(client, two_streets):
    log_in(client, "manager_a", PASSWORD)
    overview = reverse("stations:street_detail", args=[two_streets.street_a.code])
    assert client.get(overview).status_code == 200

    # Activity slides the end of the session: 30 minutes from the last request.
    Session.objects.update(expire_date=timezone.now() + timedelta(minutes=5))
    response = client.get(overview)
    assert response.status_code == 200
    expire_date = Session.objects.get().expire_date
    assert expire_date > timezone.now() + timedelta(minutes=29)
    # The cookie itself lives until the browser closes.
    cookie = response.cookies[django_settings.SESSION_COOKIE_NAME]
    assert cookie["expires"] == "" and cookie["max-age"] == ""

    # 31 minutes without a request: the session is gone.
    Session.objects.update(expire_date=F("expire_date") - timedelta(minutes=31))
    response = client.get(overview)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# ---- The previous login --------------------------------------------------------------


@pytest.mark.django_db
def test_the_first_login_says_so_and_the_next_shows_the_previous_time_and_address(
    client, two_streets
):
    first = client.post(
        reverse("login"), {"username": "manager_a", "password": PASSWORD}, follow=True
    )
    assert "这是您的账号首次登录" in first.content.decode()
    manager = User.objects.get(username="manager_a")
    assert manager.last_login_ip == "127.0.0.1"
    assert manager.previous_login_at is None
    first_login_at = manager.last_login

    client.logout()
    second = client.post(
        reverse("login"),
        {"username": "manager_a", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        follow=True,
    )
    body = second.content.decode()
    manager.refresh_from_db()
    assert manager.previous_login_at == first_login_at
    assert manager.previous_login_ip == "127.0.0.1"
    assert manager.last_login_ip == "203.0.113.9"
    shown = timezone.localtime(first_login_at).strftime("%Y年%-m月%-d日 %H:%M")
    assert f"上次登录:{shown},地址 127.0.0.1" in body


@pytest.mark.django_db
def test_the_login_address_behind_a_trusted_proxy_is_the_clients(client, two_streets, settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/24"]
    log_in(
        client,
        "manager_a",
        PASSWORD,
        REMOTE_ADDR="10.0.0.5",
        HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7",
    )
    assert User.objects.get(username="manager_a").last_login_ip == "198.51.100.7"


@pytest.mark.django_db
def test_the_security_page_shows_the_login_record(client, two_streets):
    log_in(client, "manager_a", PASSWORD)
    client.logout()
    log_in(client, "manager_a", PASSWORD, REMOTE_ADDR="203.0.113.9")
    page = client.get(reverse("security:overview"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "203.0.113.9" in body and "127.0.0.1" in body
    assert "两步验证" in body
    assert reverse("security:overview") in client.get(reverse("home"), follow=True).content.decode()


@pytest.mark.django_db
def test_an_overlong_username_is_refused_before_it_is_counted(client, two_streets):
    response = log_in(client, "0" * 256, "wrong-password")
    assert response.status_code == 200
    assert not AccessAttempt.objects.exists()
    assert logged_in_as(client) is None


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["", "a\x00b", "x" * 300])
def test_lifting_a_lock_of_no_sensible_username_is_not_found(client, two_streets, login, username):
    login(two_streets.bureau)
    response = client.post(reverse("security:lockout_lift"), {"username": username})
    assert response.status_code == 404


@pytest.mark.django_db
def test_a_lockout_met_outside_the_login_form_gets_the_login_page_with_the_message(rf):
    from django.contrib.auth.models import AnonymousUser
    from django.http import HttpResponseRedirect

    from accounts.lockouts import lockout_response

    request = rf.post("/elsewhere/")
    request.user = AnonymousUser()
    for original in (None, HttpResponseRedirect("/")):
        response = lockout_response(request, original, {"username": "manager_a"})
        assert response.status_code == 429
        assert LOCKED in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 12])
def test_the_lockout_list_takes_two_queries_however_many_rows(
    client, two_streets, django_assert_num_queries, count
):
    from accounts.lockouts import failed_logins_visible_to

    for number in range(count):
        make_user(f"manager_extra_{number}", Role.STREET_MANAGER, street=two_streets.street_a)
        fail(client, f"manager_extra_{number}", 5)
    bureau = User.objects.select_related("district").get(pk=two_streets.bureau.pk)
    with django_assert_num_queries(2):
        rows = failed_logins_visible_to(bureau)
    assert len(rows) == count and all(row.locked for row in rows)
