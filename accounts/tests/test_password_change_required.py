"""The forced password change: a new or reset login changes its temporary password first."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from accounts import services
from accounts.choices import Role
from accounts.middleware import PasswordChangeRequiredMiddleware, password_change_not_required
from accounts.models import User

TEMPORARY = "Temporary-Pass-2026"
CHOSEN = "Chosen-By-Me-2026"


@pytest.fixture
def new_manager(two_streets):
    """A street manager just created by bureau staff, with a temporary password."""
    return services.create_account(
        actor=two_streets.bureau,
        username="manager_new",
        full_name="新街镇管理员",
        role=Role.STREET_MANAGER,
        password=TEMPORARY,
        street=two_streets.street_b,
    )


def log_in(client, username, password):
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, response.content.decode()
    assert "_auth_user_id" in client.session
    return response


def change_password(client, old=TEMPORARY, new=CHOSEN):
    return client.post(
        reverse("password_change"),
        {"old_password": old, "new_password1": new, "new_password2": new},
    )


@pytest.mark.django_db
def test_a_new_login_changes_its_password_before_anything_else(client, new_manager):
    assert new_manager.must_change_password

    landing = client.get(log_in(client, "manager_new", TEMPORARY)["Location"])
    assert landing.status_code == 302
    assert landing["Location"] == reverse("password_change")
    page = client.get(landing["Location"])
    assert page.status_code == 200
    assert "临时密码" in page.content.decode()

    for url in (
        reverse("stations:overview"),
        reverse("stations:street_detail", args=["310105002"]),
        reverse("accounts:list"),
        reverse("home"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == reverse("password_change")

    response = change_password(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("password_change_done")
    new_manager.refresh_from_db()
    assert not new_manager.must_change_password
    assert new_manager.password_changed_at is not None
    assert new_manager.check_password(CHOSEN)

    # The session survives the change, and every page opens now.
    response = client.get(reverse("stations:overview"), follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("stations:street_detail", args=["310105002"])
    assert client.get(reverse("stations:street_detail", args=["310105002"])).status_code == 200


@pytest.mark.django_db
def test_a_new_login_can_log_out_and_read_the_public_directory(client, new_manager):
    log_in(client, "manager_new", TEMPORARY)
    assert client.get(reverse("public:directory")).status_code == 200
    assert client.get(reverse("password_change_done")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code in (200, 302)
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_reset_login_must_change_its_password_again(client, two_streets):
    advisor = two_streets.advisor_a
    client.force_login(advisor)
    assert client.get(reverse("stations:my_stations")).status_code == 200

    password = services.reset_password(actor=two_streets.manager_a, account=advisor)
    log_in(client, "advisor_a", password)
    response = client.get(reverse("stations:my_stations"))
    assert response["Location"] == reverse("password_change")

    assert change_password(client, old=password).status_code == 302
    assert client.get(reverse("stations:my_stations")).status_code == 200


@pytest.mark.django_db
def test_the_new_password_may_not_be_the_temporary_one(client, new_manager):
    log_in(client, "manager_new", TEMPORARY)
    response = change_password(client, new=TEMPORARY)
    assert response.status_code == 200
    assert "新密码不能与当前密码相同" in response.content.decode()
    new_manager.refresh_from_db()
    assert new_manager.must_change_password and new_manager.password_changed_at is None


@pytest.mark.django_db
def test_a_wrong_current_password_changes_nothing(client, new_manager):
    log_in(client, "manager_new", TEMPORARY)
    response = change_password(client, old="not-the-password")
    assert response.status_code == 200
    new_manager.refresh_from_db()
    assert new_manager.must_change_password and new_manager.check_password(TEMPORARY)
    assert client.get(reverse("stations:overview"))["Location"] == reverse("password_change")


@pytest.mark.django_db
def test_a_voluntary_change_records_its_time(client, two_streets):
    manager = two_streets.manager_a
    client.force_login(manager)
    assert change_password(client, old="pw-for-tests-only").status_code == 302
    manager.refresh_from_db()
    assert manager.password_changed_at is not None and not manager.must_change_password


@pytest.mark.django_db
def test_a_superuser_without_a_role_can_change_its_password(client):
    """`createsuperuser` logins have no role; that does not block their forced change."""
    User.objects.create_superuser("root", password=TEMPORARY)
    log_in(client, "root", TEMPORARY)
    assert client.get(reverse("home"))["Location"] == reverse("password_change")
    assert change_password(client).status_code == 302
    assert not User.objects.get(username="root").must_change_password


def run_middleware(user, path, view):
    request = RequestFactory().get(path)
    request.user = user
    request.resolver_match = None
    middleware = PasswordChangeRequiredMiddleware(lambda request: HttpResponse())
    return middleware.process_view(request, view, (), {})


def page_view(request):
    return HttpResponse()


@pytest.mark.django_db
def test_static_files_and_marked_views_stay_open(two_streets):
    user = two_streets.manager_a
    user.must_change_password = True
    assert run_middleware(user, "/network/", page_view).status_code == 302
    assert run_middleware(user, "/static/css/app.css", page_view) is None
    assert run_middleware(user, "/second-step/", password_change_not_required(page_view)) is None
    user.must_change_password = False
    assert run_middleware(user, "/network/", page_view) is None


@pytest.fixture
def seed_demo(settings):
    settings.DEBUG = True
    settings.DEMO_PASSWORD = "Changning-2023"

    def _seed():
        out = StringIO()
        call_command("seed_demo", "--small", stdout=out)
        return out.getvalue()

    return _seed


@pytest.mark.django_db
def test_demo_logins_are_not_asked_to_change_the_demo_password(client, seed_demo):
    seed_demo()
    assert not User.objects.filter(must_change_password=True).exists()
    log_in(client, "street_310105001", "Changning-2023")
    assert client.get(reverse("stations:overview"), follow=True).status_code == 200


@pytest.mark.django_db
def test_older_demo_logins_are_released_once_but_a_reset_one_is_not(seed_demo):
    seed_demo()
    # Demo logins made before the forced change existed carry the model's default.
    User.objects.update(must_change_password=True)
    bureau = User.objects.get(username="bureau")
    services.reset_password(actor=User.objects.get(username="admin"), account=bureau)

    assert "不再要求首次登录修改密码" in seed_demo()
    assert list(User.objects.filter(must_change_password=True)) == [bureau]
    assert "没有新建或修改" in seed_demo()
