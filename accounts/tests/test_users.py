"""Logins: roles tie a user to a district, a street or stations; login and password pages."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.choices import Role
from accounts.models import User
from stations.tests.factories import make_district, make_street, make_user


@pytest.mark.django_db
def test_street_manager_without_street_is_refused_in_database_and_form():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="nostreet", password="x", role=Role.STREET_MANAGER)
    user = User(username="nostreet", role=Role.STREET_MANAGER)
    with pytest.raises(ValidationError) as error:
        user.full_clean(exclude=["password"])
    assert "街镇管理员账号必须指定所属街镇" in str(error.value)


@pytest.mark.django_db
def test_bureau_without_district_is_refused():
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="nodistrict", password="x", role=Role.BUREAU)


@pytest.mark.django_db
def test_street_manager_takes_the_district_of_the_street():
    district = make_district()
    street = make_street(district, "华阳路街道", "310105001")
    manager = make_user("m", Role.STREET_MANAGER, street=street)
    assert manager.district == district


@pytest.mark.django_db
def test_street_outside_the_district_is_refused():
    changning = make_district()
    xuhui = make_district("310104", "徐汇区")
    street = make_street(xuhui, "天平路街道", "310104003")
    user = User(username="mix", role=Role.STREET_MANAGER, district=changning, street=street)
    with pytest.raises(ValidationError) as error:
        user.full_clean(exclude=["password"])
    assert "所属街镇不在所属区内" in str(error.value)


@pytest.mark.django_db
def test_login_page_logs_in_and_lands_on_the_role_page(client, two_streets):
    response = client.post(
        reverse("login"), {"username": "manager_a", "password": "pw-for-tests-only"}
    )
    assert response.status_code == 302
    landing = client.get(response["Location"])
    assert landing.status_code == 302
    # A street manager lands on their street's supervision dashboard.
    assert landing["Location"] == reverse("supervision:dashboard")


@pytest.mark.django_db
def test_wrong_password_is_refused_in_chinese(client, two_streets):
    response = client.post(reverse("login"), {"username": "manager_a", "password": "wrong"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_every_page_but_the_public_directory_needs_a_login(client, two_streets):
    assert client.get(reverse("public:directory")).status_code == 200
    for name in ("home", "stations:overview", "stations:my_stations"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_password_change_works(client, two_streets):
    client.force_login(two_streets.manager_a)
    response = client.post(
        reverse("password_change"),
        {
            "old_password": "pw-for-tests-only",
            "new_password1": "Neue-Passwort-2026",
            "new_password2": "Neue-Passwort-2026",
        },
    )
    assert response.status_code == 302
    two_streets.manager_a.refresh_from_db()
    assert two_streets.manager_a.check_password("Neue-Passwort-2026")


@pytest.mark.django_db
def test_logout_needs_post_and_ends_the_session(client, two_streets):
    client.force_login(two_streets.manager_a)
    response = client.post(reverse("logout"))
    assert response.status_code in (200, 302)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_there_is_no_password_reset_by_email(client):
    """Passwords are reset by the account's administrator, never by e-mail."""
    assert client.get("/accounts/password_reset/").status_code in (302, 404)
    from django.urls import NoReverseMatch

    with pytest.raises(NoReverseMatch):
        reverse("password_reset")
