"""Account management (账号管理): who creates, lists, resets and deactivates whose login.

Two streets of 长宁区 and a street of 徐汇区: every refusal is tested with a choice from
the other street and from the other district, and asserts that nothing was written.
"""

import re

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import services
from accounts.authority import can_manage, listed_accounts
from accounts.choices import Role
from accounts.models import User
from accounts.urls import urlpatterns as account_urlpatterns
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    make_two_streets,
    make_user,
    street_station,
)

STRONG_PASSWORD = "Temporary-Pass-2026"


@pytest.fixture
def world(db):
    """Two streets of 长宁区 (A, B) and 天平路街道 of 徐汇区, each with its logins."""
    world = make_two_streets()
    xuhui = make_district("310104", "徐汇区")
    tianping = make_street(xuhui, "天平路街道", "310104003")
    jianxiang = make_committee(tianping, "建襄居委会", "310104003001")
    world.update(
        xuhui=xuhui,
        tianping=tianping,
        jianxiang=jianxiang,
        bureau_xuhui=make_user("bureau_xuhui", Role.BUREAU, district=xuhui),
        manager_xuhui=make_user("manager_xuhui", Role.STREET_MANAGER, street=tianping),
        advisor_xuhui=make_user(
            "advisor_xuhui", Role.ADVISOR, stations=[committee_point(jianxiang)]
        ),
        auditor=make_user("auditor_t", Role.AUDIT_ADMIN),
    )
    return world


def create(client, actor, **data):
    client.force_login(actor)
    data.setdefault("full_name", "新同事")
    data.setdefault("password_choice", "typed")
    data.setdefault("password1", STRONG_PASSWORD)
    data.setdefault("password2", data["password1"])
    return client.post(reverse("accounts:create"), data)


def shown_once(client, response, account):
    """Follow a generated password's redirect: the page shows it once, uncached, then never."""
    url = reverse("accounts:temporary_password", args=[account.pk])
    assert response.status_code == 302 and response["Location"] == url
    page = client.get(url)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    password = re.search(r'data-testid="temporary-password">([^<]+)<', page.content.decode())[1]
    again = client.get(url, follow=True)
    assert password not in again.content.decode()
    assert "临时密码只显示一次" in again.content.decode()
    return password


def error_text(response):
    return response.content.decode()


# ---- Creating logins, by role ---------------------------------------------------------


@pytest.mark.django_db
def test_system_admin_creates_bureau_staff_audit_and_system_administrators(client, world):
    sysadmin = world["sysadmin"]
    for username, role, extra in [
        ("bureau_new", Role.BUREAU, {"district": world["district"].pk}),
        ("bureau_xh", Role.BUREAU, {"district": world["xuhui"].pk}),
        ("auditor_new", Role.AUDIT_ADMIN, {}),
        ("sysadmin_new", Role.SYSTEM_ADMIN, {}),
    ]:
        response = create(client, sysadmin, username=username, role=role, **extra)
        assert response.status_code == 302, error_text(response)
        account = User.objects.get(username=username)
        assert response["Location"] == reverse("accounts:detail", args=[account.pk])
        assert account.role == role
        assert account.must_change_password
        assert account.created_by == sysadmin
        assert account.check_password(STRONG_PASSWORD)
    assert User.objects.get(username="bureau_new").district == world["district"]
    assert User.objects.get(username="auditor_new").district is None


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.STREET_MANAGER, Role.ADVISOR, "superuser"])
def test_system_admin_cannot_create_street_or_advisor_logins(client, world, role):
    before = User.objects.count()
    response = create(
        client,
        world["sysadmin"],
        username="not_mine",
        role=role,
        street=world["street_a"].pk,
        stations=[street_station(world["street_a"]).pk],
    )
    assert response.status_code == 200
    assert "您无权创建该角色的账号" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
def test_bureau_staff_create_a_street_manager_of_their_district(client, world):
    response = create(
        client,
        world["bureau"],
        username="manager_new",
        role=Role.STREET_MANAGER,
        street=world["street_b"].pk,
        password_choice="generated",
    )
    account = User.objects.get(username="manager_new")
    password = shown_once(client, response, account)
    assert (account.role, account.street, account.district) == (
        Role.STREET_MANAGER,
        world["street_b"],
        world["district"],
    )
    assert account.must_change_password and account.created_by == world["bureau"]
    assert account.check_password(password)
    # The generated password is in no page but that one.
    detail = client.get(reverse("accounts:detail", args=[account.pk]))
    assert password not in detail.content.decode()


@pytest.mark.django_db
def test_bureau_staff_cannot_choose_a_street_of_another_district(client, world):
    before = User.objects.count()
    response = create(
        client,
        world["bureau"],
        username="manager_far",
        role=Role.STREET_MANAGER,
        street=world["tianping"].pk,
    )
    assert response.status_code == 200
    assert "所选的街镇不在您的管理范围内" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.BUREAU, Role.ADVISOR, Role.SYSTEM_ADMIN, Role.AUDIT_ADMIN])
def test_bureau_staff_create_no_other_role(client, world, role):
    before = User.objects.count()
    response = create(
        client,
        world["bureau"],
        username="climber",
        role=role,
        street=world["street_a"].pk,
        district=world["district"].pk,
        stations=[street_station(world["street_a"]).pk],
    )
    assert response.status_code == 200
    assert "您无权创建该角色的账号" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
def test_a_street_manager_creates_an_advisor_for_stations_of_their_street(client, world):
    points = [committee_point(c) for c in world["committees_a"]]
    response = create(
        client,
        world["manager_a"],
        username="advisor_new",
        stations=[points[1].pk, street_station(world["street_a"]).pk],
    )
    assert response.status_code == 302, error_text(response)
    account = User.objects.get(username="advisor_new")
    assert account.role == Role.ADVISOR
    assert set(account.stations.all()) == {points[1], street_station(world["street_a"])}
    assert account.must_change_password and account.created_by == world["manager_a"]
    assert account.street is None and account.district is None


@pytest.mark.django_db
@pytest.mark.parametrize("other", ["street_b", "tianping"])
def test_a_street_manager_cannot_give_stations_of_another_street(client, world, other):
    before = User.objects.count()
    response = create(
        client,
        world["manager_a"],
        username="advisor_far",
        stations=[committee_point(world["committees_a"][0]).pk, street_station(world[other]).pk],
    )
    assert response.status_code == 200
    assert "所选的服务站点不在您的管理范围内" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["9" * 40, "-1", "1e3", "١", "' OR 1=1 --"])
def test_ids_that_name_no_row_are_refused(client, world, value):
    before = User.objects.count()
    response = create(client, world["bureau"], username="odd_street", street=value)
    assert "所选的街镇不在您的管理范围内" in error_text(response)
    response = create(client, world["manager_a"], username="odd_station", stations=[value])
    assert "所选的服务站点不在您的管理范围内" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
def test_an_advisor_needs_a_station(client, world):
    before = User.objects.count()
    response = create(client, world["manager_a"], username="advisor_nowhere")
    assert "社区救助顾问账号至少要选择一个服务站点" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("role", [Role.STREET_MANAGER, Role.BUREAU, Role.SYSTEM_ADMIN])
def test_a_street_manager_creates_advisors_only(client, world, role):
    before = User.objects.count()
    response = create(
        client,
        world["manager_a"],
        username="climber",
        role=role,
        stations=[street_station(world["street_a"]).pk],
    )
    assert "您无权创建该角色的账号" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["manager_b", "MANAGER_B"])
def test_a_username_in_use_is_refused(client, world, username):
    before = User.objects.count()
    response = create(client, world["bureau"], username=username, street=world["street_b"].pk)
    assert "该用户名已被使用" in error_text(response)
    assert User.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short1A", "1234567890123", "password123", "manager_weak1"])
def test_a_weak_password_is_refused(client, world, password):
    """AUTH_PASSWORD_VALIDATORS judge a typed temporary password; their message is shown."""
    before = User.objects.count()
    response = create(
        client,
        world["bureau"],
        username="manager_weak",
        street=world["street_b"].pk,
        password1=password,
    )
    assert response.status_code == 200
    assert "账号未创建" in error_text(response)
    messages = response.context["form"].errors["password1"]
    assert messages and all(message in error_text(response) for message in messages)
    assert User.objects.count() == before


@pytest.mark.django_db
def test_typed_passwords_must_match(client, world):
    response = create(
        client,
        world["bureau"],
        username="manager_typo",
        street=world["street_b"].pk,
        password2=STRONG_PASSWORD + "x",
    )
    assert "两次输入的密码不一致" in error_text(response)
    assert not User.objects.filter(username="manager_typo").exists()


@pytest.mark.django_db
def test_the_create_form_offers_only_choices_in_scope(client, world):
    client.force_login(world["bureau"])
    page = client.get(reverse("accounts:create")).content.decode()
    assert "华阳路街道" in page and "江苏路街道" in page
    assert "天平路街道" not in page
    client.force_login(world["manager_a"])
    page = client.get(reverse("accounts:create")).content.decode()
    assert "华一居委" in page and "曹家堰" not in page and "建襄" not in page


# ---- The services check scope after the save, too --------------------------------------


@pytest.mark.django_db
def test_create_account_refuses_out_of_scope_choices_without_the_form(world):
    with pytest.raises(ValidationError) as error:
        services.create_account(
            actor=world["manager_a"],
            username="advisor_direct",
            full_name="直接",
            role=Role.ADVISOR,
            password=STRONG_PASSWORD,
            stations=[street_station(world["street_b"])],
        )
    assert "stations" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.create_account(
            actor=world["bureau"],
            username="manager_direct",
            full_name="直接",
            role=Role.STREET_MANAGER,
            password=STRONG_PASSWORD,
            street=world["tianping"],
        )
    assert not User.objects.filter(username__endswith="_direct").exists()


@pytest.mark.django_db
def test_a_write_that_lands_outside_the_scope_is_rolled_back(world, monkeypatch):
    """With the checks before the save switched off, the check after it still refuses."""
    monkeypatch.setattr(services, "_scope_errors", lambda *args, **kwargs: {})
    with pytest.raises(PermissionDenied):
        services.create_account(
            actor=world["manager_a"],
            username="advisor_leak",
            full_name="越界",
            role=Role.ADVISOR,
            password=STRONG_PASSWORD,
            stations=[committee_point(world["committees_a"][0]), street_station(world["street_b"])],
        )
    with pytest.raises(PermissionDenied):
        services.create_account(
            actor=world["bureau"],
            username="manager_leak",
            full_name="越界",
            role=Role.STREET_MANAGER,
            password=STRONG_PASSWORD,
            street=world["tianping"],
        )
    assert not User.objects.filter(username__endswith="_leak").exists()


@pytest.mark.django_db
def test_services_refuse_logins_the_actor_does_not_look_after(world):
    advisor_b = world["advisor_b"]
    password = advisor_b.password
    for service in (services.reset_password, services.deactivate_account):
        with pytest.raises(PermissionDenied):
            service(actor=world["manager_a"], account=advisor_b)
    advisor_b.refresh_from_db()
    assert advisor_b.password == password and advisor_b.is_active


@pytest.mark.django_db
def test_generated_passwords_pass_the_validators(world):
    from django.contrib.auth.password_validation import validate_password

    for _ in range(20):
        password = services.generate_temporary_password(world["manager_a"])
        validate_password(password, world["manager_a"])
        assert re.search("[A-Z]", password) and re.search("[a-z]", password)
        assert re.search("[0-9]", password)


# ---- Who has account pages -------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["auditor", "advisor_a"])
def test_audit_administrators_and_advisors_have_no_account_pages(client, world, who):
    client.force_login(world[who])
    target = world["advisor_a"]
    for url in [
        reverse("accounts:list"),
        reverse("accounts:create"),
        reverse("accounts:detail", args=[target.pk]),
        reverse("accounts:reset_password", args=[target.pk]),
        reverse("accounts:deactivate", args=[target.pk]),
    ]:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    assert "账号管理" not in client.get(reverse("public:directory")).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["sysadmin", "bureau", "manager_a"])
def test_managing_roles_find_account_management_in_the_navigation(client, world, who):
    client.force_login(world[who])
    page = client.get(reverse("public:directory")).content.decode()
    assert f'href="{reverse("accounts:list")}"' in page


@pytest.mark.django_db
def test_anonymous_users_are_sent_to_log_in(client, world):
    for url in [reverse("accounts:list"), reverse("accounts:detail", args=[1])]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# ---- Lists ------------------------------------------------------------------------------


def listed(client, user, **query):
    client.force_login(user)
    response = client.get(reverse("accounts:list"), query)
    assert response.status_code == 200
    body = response.content.decode()
    return set(re.findall(r'<th scope="row"><a href="/accounts/manage/\d+/">([^<]+)</a>', body))


@pytest.mark.django_db
def test_bureau_staff_list_the_street_managers_and_advisors_of_their_district(client, world):
    assert listed(client, world["bureau"]) == {
        "manager_a",
        "manager_b",
        "advisor_a",
        "advisor_b",
    }


@pytest.mark.django_db
def test_a_street_manager_lists_the_advisors_of_their_street(client, world):
    assert listed(client, world["manager_a"]) == {"advisor_a"}
    assert listed(client, world["manager_xuhui"]) == {"advisor_xuhui"}


@pytest.mark.django_db
def test_the_system_administrator_lists_every_login(client, world):
    assert listed(client, world["sysadmin"]) == set(User.objects.values_list("username", flat=True))


@pytest.mark.django_db
def test_lists_search_by_username_or_name_and_filter_by_role_and_status(client, world):
    User.objects.filter(username="advisor_b").update(full_name="王芳")
    bureau = world["bureau"]
    assert listed(client, bureau, q="王芳") == {"advisor_b"}
    assert listed(client, bureau, q="manager") == {"manager_a", "manager_b"}
    assert listed(client, bureau, role=Role.ADVISOR) == {"advisor_a", "advisor_b"}
    services.deactivate_account(actor=bureau, account=world["manager_b"])
    services.reset_password(actor=bureau, account=world["manager_a"])
    assert listed(client, bureau, status="inactive") == {"manager_b"}
    assert listed(client, bureau, status="must_change") == {"manager_a"}
    assert listed(client, bureau, status="active") == {"advisor_a", "advisor_b"}
    # A role outside the list is not a filter at all.
    assert listed(client, bureau, role=Role.SYSTEM_ADMIN) == listed(client, bureau)


@pytest.mark.django_db
def test_an_advisor_in_two_streets_shows_only_the_viewers_stations(client, world):
    advisor = make_user(
        "advisor_two",
        Role.ADVISOR,
        stations=[committee_point(world["committees_a"][1]), street_station(world["street_b"])],
    )
    client.force_login(world["manager_a"])
    for url in (reverse("accounts:list"), reverse("accounts:detail", args=[advisor.pk])):
        page = client.get(url).content.decode()
        assert "华二居委" in page
        assert "江苏路街道" not in page


def add_advisors(street, count, start):
    station = street_station(street)
    for n in range(start, start + count):
        make_user(f"advisor_bulk_{n:03d}", Role.ADVISOR, stations=[station], full_name=f"顾问{n}")


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["sysadmin", "bureau", "manager_a"])
def test_lists_run_a_fixed_number_of_queries(client, world, who):
    client.force_login(world[who])
    url = reverse("accounts:list")
    add_advisors(world["street_a"], 3, 1)
    small = count_queries(client, url)
    add_advisors(world["street_a"], 70, 100)
    large = count_queries(client, url)
    assert small == large
    page = client.get(url).content.decode()
    assert "第 1 / 2 页" in page
    assert count_queries(client, url + "?page=2") == large


# ---- Detail -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("manager_a", "advisor_b"),
        ("manager_a", "manager_b"),
        ("manager_a", "bureau"),
        ("bureau", "manager_xuhui"),
        ("bureau", "advisor_xuhui"),
        ("bureau", "sysadmin"),
        ("bureau", "bureau_xuhui"),
    ],
)
def test_a_login_outside_the_list_is_404(client, world, who, target):
    client.force_login(world[who])
    pk = world[target].pk
    for name in ("detail", "edit", "reset_password", "deactivate", "reactivate"):
        url = reverse(f"accounts:{name}", args=[pk])
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url
    assert world[target].is_active


@pytest.mark.django_db
def test_the_detail_page_shows_the_login(client, world):
    client.force_login(world["manager_a"])
    response = client.get(reverse("accounts:detail", args=[world["advisor_a"].pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert "advisor_a" in page and "华一居委" in page
    assert reverse("accounts:reset_password", args=[world["advisor_a"].pk]) in page


# ---- Resetting a password ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_street_manager_resets_an_advisors_password(client, world):
    advisor = world["advisor_a"]
    client.force_login(world["manager_a"])
    url = reverse("accounts:reset_password", args=[advisor.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"password_choice": "generated"})
    password = shown_once(client, response, advisor)
    advisor.refresh_from_db()
    assert advisor.must_change_password
    assert advisor.check_password(password)
    assert not advisor.check_password("pw-for-tests-only")


@pytest.mark.django_db
def test_a_typed_temporary_password_is_validated(client, world):
    manager = world["manager_a"]
    client.force_login(world["bureau"])
    url = reverse("accounts:reset_password", args=[manager.pk])
    response = client.post(
        url, {"password_choice": "typed", "password1": "manager_a1", "password2": "manager_a1"}
    )
    assert response.status_code == 200
    manager.refresh_from_db()
    assert manager.check_password("pw-for-tests-only") and not manager.must_change_password

    response = client.post(
        url,
        {"password_choice": "typed", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password(STRONG_PASSWORD) and manager.must_change_password


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("bureau", "advisor_a"),  # street managers look after advisors
        ("sysadmin", "manager_a"),  # bureau staff look after street managers
        ("sysadmin", "sysadmin"),  # one's own password is changed, not reset
    ],
)
def test_a_login_listed_but_not_looked_after_cannot_be_reset(client, world, who, target):
    client.force_login(world[who])
    account = world[target]
    assert account in listed_accounts(world[who])
    for name in ("edit", "reset_password", "deactivate"):
        url = reverse(f"accounts:{name}", args=[account.pk])
        response = client.post(url, {"password_choice": "generated"})
        assert response.status_code == 403, url
        assert "无权" in response.content.decode() or "自己" in response.content.decode()
    account.refresh_from_db()
    assert account.check_password("pw-for-tests-only") and account.is_active
    assert not can_manage(world[who], account)


@pytest.mark.django_db
def test_the_system_administrator_resets_bureau_and_audit_logins(client, world):
    client.force_login(world["sysadmin"])
    for key in ("bureau", "auditor"):
        account = world[key]
        response = client.post(
            reverse("accounts:reset_password", args=[account.pk]),
            {"password_choice": "generated"},
        )
        assert response.status_code == 302
        account.refresh_from_db()
        assert account.must_change_password


@pytest.mark.django_db
def test_a_reset_ends_the_logins_open_sessions(client, world):
    from django.test import Client

    advisor_session = Client()
    advisor_session.force_login(world["advisor_a"])
    assert advisor_session.get(reverse("stations:my_stations")).status_code == 200
    services.reset_password(actor=world["manager_a"], account=world["advisor_a"])
    response = advisor_session.get(reverse("stations:my_stations"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_a_reset_lets_back_in_who_lost_their_phone_or_was_locked_out(client, world, settings):
    """A reset removes the authenticators and lifts the lockout; the role binds a new phone."""
    from axes.models import AccessAttempt
    from django_otp.plugins.otp_totp.models import TOTPDevice

    bureau = world["bureau"]
    TOTPDevice.objects.create(user=bureau, name="旧手机", confirmed=True)
    for _attempt in range(5):
        client.post(reverse("login"), {"username": bureau.username, "password": "wrong-one-1A"})
    assert AccessAttempt.objects.filter(username=bureau.username).exists()

    temporary = services.reset_password(actor=world["sysadmin"], account=bureau)

    assert not TOTPDevice.objects.filter(user=bureau).exists()
    assert not AccessAttempt.objects.filter(username=bureau.username).exists()
    settings.OTP_REQUIRED_ROLES = [Role.BUREAU]
    response = client.post(
        reverse("login"), {"username": bureau.username, "password": temporary}, follow=True
    )
    assert response.request["PATH_INFO"] == reverse("security:otp_setup")


# ---- Deactivating and reactivating ------------------------------------------------------


@pytest.mark.django_db
def test_bureau_staff_deactivate_and_reactivate_a_street_manager(client, world):
    manager = world["manager_a"]
    client.force_login(world["bureau"])
    confirm = client.get(reverse("accounts:deactivate", args=[manager.pk]))
    assert confirm.status_code == 200 and "历史记录全部保留" in confirm.content.decode()
    response = client.post(reverse("accounts:deactivate", args=[manager.pk]))
    assert response.status_code == 302
    manager.refresh_from_db()
    assert not manager.is_active and manager.deactivated_at is not None

    # The login stays, with what it made and what made it.
    assert User.objects.filter(pk=manager.pk).exists()
    assert world["manager_a"] in listed_accounts(world["bureau"])

    response = client.post(reverse("accounts:reactivate", args=[manager.pk]))
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.is_active and manager.deactivated_at is None
    assert client.login(username="manager_a", password="pw-for-tests-only")


@pytest.mark.django_db
def test_a_deactivated_login_cannot_log_in(client, world):
    services.deactivate_account(actor=world["bureau"], account=world["manager_a"])
    response = client.post(
        reverse("login"), {"username": "manager_a", "password": "pw-for-tests-only"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert not client.login(username="manager_a", password="pw-for-tests-only")


@pytest.mark.django_db
def test_a_deactivated_logins_session_ends(client, world):
    client.force_login(world["advisor_a"])
    services.deactivate_account(actor=world["manager_a"], account=world["advisor_a"])
    response = client.get(reverse("stations:my_stations"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_deactivating_twice_says_so_and_changes_nothing(client, world):
    services.deactivate_account(actor=world["manager_a"], account=world["advisor_a"])
    world["advisor_a"].refresh_from_db()
    when = world["advisor_a"].deactivated_at
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("accounts:deactivate", args=[world["advisor_a"].pk]), follow=True
    )
    assert "该账号已经停用" in response.content.decode()
    world["advisor_a"].refresh_from_db()
    assert world["advisor_a"].deactivated_at == when


@pytest.mark.django_db
def test_no_login_is_ever_deleted_through_the_application(world, rf):
    assert not [p for p in account_urlpatterns if "delete" in str(p.pattern) + (p.name or "")]
    request = rf.get("/")
    request.user = world["sysadmin"]
    assert not admin.site._registry[User].has_delete_permission(request, world["bureau"])


# ---- Editing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_street_manager_changes_an_advisors_stations_of_their_street_only(client, world):
    advisor = make_user(
        "advisor_two",
        Role.ADVISOR,
        stations=[committee_point(world["committees_a"][0]), street_station(world["street_b"])],
    )
    new_point = committee_point(world["committees_a"][1])
    client.force_login(world["manager_a"])
    url = reverse("accounts:edit", args=[advisor.pk])
    response = client.post(url, {"full_name": "两街顾问", "stations": [new_point.pk]})
    assert response.status_code == 302
    advisor.refresh_from_db()
    assert advisor.full_name == "两街顾问"
    assert set(advisor.stations.all()) == {new_point, street_station(world["street_b"])}

    response = client.post(
        url, {"full_name": "两街顾问", "stations": [street_station(world["tianping"]).pk]}
    )
    assert "所选的服务站点不在您的管理范围内" in response.content.decode()
    response = client.post(url, {"full_name": "两街顾问"})
    assert "至少要选择一个服务站点" in response.content.decode()
    assert set(advisor.stations.all()) == {new_point, street_station(world["street_b"])}
