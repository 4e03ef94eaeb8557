"""`manage.py create_system_admin`: the first system administrator of a new installation."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.choices import Role
from accounts.models import User
from audit.tracking import tracking_for
from stations.tests.factories import make_user


def create(*args):
    output = StringIO()
    call_command("create_system_admin", *args, stdout=output)
    return output.getvalue()


def temporary_password(output):
    (line,) = [line for line in output.splitlines() if line.startswith("临时密码")]
    return line.removeprefix("临时密码:").removesuffix("(只显示这一次)")


@pytest.mark.django_db
def test_creates_a_system_administrator_who_must_change_the_temporary_password(settings):
    settings.OTP_REQUIRED_ROLES = ["system_admin", "audit_admin", "bureau"]
    output = create("sysadmin_wang", "--full-name", "王芳")

    account = User.objects.get(username="sysadmin_wang")
    assert account.role == Role.SYSTEM_ADMIN and account.is_system_admin
    assert account.full_name == "王芳"
    assert account.is_active and account.must_change_password
    # The role gives the rights; nothing of Django's all-powerful superuser.
    assert not account.is_superuser and not account.is_staff
    password = temporary_password(output)
    assert account.check_password(password) and len(password) == 14
    assert "首次登录须先修改密码" in output and "两步验证" in output


@pytest.mark.django_db
def test_the_new_administrator_logs_in_and_is_asked_to_change_the_password(client):
    password = temporary_password(create("sysadmin_zhao"))
    response = client.post(
        reverse("login"), {"username": "sysadmin_zhao", "password": password}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("password_change")


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.SYSTEM_ADMIN, ""])
def test_refused_once_an_active_system_administrator_exists(role):
    make_user("root_admin", role, is_superuser=role == "")
    with pytest.raises(CommandError, match="已有启用的系统管理员.*root_admin"):
        create("sysadmin_second")
    assert not User.objects.filter(username="sysadmin_second").exists()


@pytest.mark.django_db
def test_allowed_again_when_every_system_administrator_is_deactivated():
    make_user("retired_admin", Role.SYSTEM_ADMIN, is_active=False)
    create("sysadmin_new")
    assert User.objects.get(username="sysadmin_new").is_active


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username", ["admin", "Bureau", "street_310105001", "advisor_310105001001"]
)
def test_demo_usernames_are_refused(username):
    with pytest.raises(CommandError, match="演示账号的用户名"):
        create(username)
    assert not User.objects.filter(username__iexact=username).exists()


@pytest.mark.django_db
def test_a_username_in_use_in_any_letter_case_is_refused():
    make_user("Zhang_Wei", Role.AUDIT_ADMIN)
    with pytest.raises(CommandError, match="该用户名已被使用"):
        create("zhang_wei")


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_creation_is_in_the_audit_trail_under_the_command():
    create("sysadmin_audit")
    events = tracking_for(User).event_model.objects.filter(username="sysadmin_audit")
    (event,) = events
    assert event.pgh_label == "insert"
    assert event.pgh_context["command"] == "create_system_admin"
