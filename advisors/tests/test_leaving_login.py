"""An advisor's login follows the advisor: leaving and a revoked filing stop it.

Leaving today or a revoked filing deactivates the linked login at once (recorded like any
deactivation); a leave dated later lets the login work until that day and stops it from
that day on, at the login page and in open sessions. A login linked to no advisor, and the
logins of other advisors, keep working.
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.advisor_duty import CHECKED_ON_SESSION_KEY
from accounts.models import User
from advisors import services
from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor
from stations.tests.factories import committee_point, make_user

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"
HOME = reverse("stations:my_stations")


@pytest.fixture
def world(two_streets):
    """advisor_a and advisor_b are the logins of two registered advisors; advisor_c has none."""
    world = two_streets
    world.point_a = committee_point(world.committees_a[0])
    world.point_b = committee_point(world.committees_b[0])
    world.advisor_record_a = make_advisor(world.street_a, [world.point_a], user=world.advisor_a)
    world.advisor_record_b = make_advisor(world.street_b, [world.point_b], user=world.advisor_b)
    world.advisor_c = make_user("advisor_c", "advisor", stations=[world.point_a])
    return world


def log_in(client, username):
    return client.post(reverse("login"), {"username": username, "password": PASSWORD})


def logged_in(client):
    return "_auth_user_id" in client.session


def move_clock_to(monkeypatch, day):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)


def page(response):
    return response.content.decode()


def assert_works(client, username):
    client.logout()
    response = log_in(client, username)
    assert response.status_code == 302, page(response)
    assert client.get(HOME).status_code == 200


def test_leaving_today_deactivates_the_login_and_ends_its_session(client, world):
    today = timezone.localdate()
    session = client  # advisor_a is at work when the street manager records the leave
    assert log_in(session, "advisor_a").status_code == 302

    services.advisor_leave(
        actor=world.manager_a, advisor=world.advisor_record_a, left_on=today, reason="退休"
    )

    login = User.objects.get(pk=world.advisor_a.pk)
    assert not login.is_active and login.deactivated_at is not None
    # A deactivated login is nobody: the open session is sent to log in.
    response = session.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.logout()
    response = log_in(client, "advisor_a")
    assert response.status_code == 200 and not logged_in(client)
    # Nobody else is touched.
    assert_works(client, "advisor_b")
    assert_works(client, "advisor_c")


def test_a_leave_recorded_on_the_page_for_today_stops_the_login(client, world):
    client.force_login(world.manager_a)
    response = client.post(
        reverse("advisors:leave", args=[world.advisor_record_a.pk]),
        {"leave-left_on": timezone.localdate().isoformat(), "leave-reason": "调离"},
    )
    assert response.status_code == 302
    assert not User.objects.get(pk=world.advisor_a.pk).is_active


def test_a_leave_next_week_lets_the_login_work_until_then(client, world, monkeypatch):
    today = timezone.localdate()
    next_week = today + datetime.timedelta(days=7)
    services.advisor_leave(
        actor=world.manager_a, advisor=world.advisor_record_a, left_on=next_week, reason="退休"
    )
    assert User.objects.get(pk=world.advisor_a.pk).is_active
    assert_works(client, "advisor_a")

    # The day before the leave, the open session still works.
    move_clock_to(monkeypatch, next_week - datetime.timedelta(days=1))
    assert client.get(HOME).status_code == 200

    # From the day of the leave on, the session ends with the reason, and login is refused.
    move_clock_to(monkeypatch, next_week)
    response = client.get(HOME, follow=True)
    assert response.request["PATH_INFO"] == reverse("login")
    assert "离岗" in page(response)
    assert not logged_in(client)
    response = log_in(client, "advisor_a")
    assert response.status_code == 200 and not logged_in(client)
    assert "离岗" in page(response) and "不能再使用" in page(response)
    # The login itself was not deactivated by anyone; the rule refuses it.
    assert User.objects.get(pk=world.advisor_a.pk).is_active

    move_clock_to(monkeypatch, next_week + datetime.timedelta(days=30))
    assert log_in(client, "advisor_a").status_code == 200 and not logged_in(client)
    assert_works(client, "advisor_b")
    assert_works(client, "advisor_c")


def test_a_revoked_filing_deactivates_the_login(client, world):
    assert log_in(client, "advisor_a").status_code == 302
    other = client.__class__()
    assert log_in(other, "advisor_b").status_code == 302

    bureau = client.__class__()
    bureau.force_login(world.bureau)
    response = bureau.post(
        reverse("advisors:revoke", args=[world.advisor_record_a.pk]), {"revoke-reason": "调离"}
    )
    assert response.status_code == 302

    world.advisor_record_a.refresh_from_db()
    assert world.advisor_record_a.filing_status == FilingStatus.REVOKED
    login = User.objects.get(pk=world.advisor_a.pk)
    assert not login.is_active and login.deactivated_at is not None
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.logout()
    assert log_in(client, "advisor_a").status_code == 200 and not logged_in(client)
    # advisor_b's session goes on.
    assert other.get(HOME).status_code == 200


def test_bureau_staff_recording_a_leave_stop_the_login_too(world):
    services.advisor_leave(
        actor=world.bureau,
        advisor=world.advisor_record_b,
        left_on=timezone.localdate() - datetime.timedelta(days=1),
        reason="调往区民政局",
    )
    assert not User.objects.get(pk=world.advisor_b.pk).is_active
    assert User.objects.get(pk=world.advisor_a.pk).is_active


def test_a_revoked_advisor_whose_login_is_still_active_is_refused(client, world, monkeypatch):
    # A revocation that reached the database without the service (an old record).
    client.force_login(world.advisor_a)
    type(world.advisor_record_a).objects.filter(pk=world.advisor_record_a.pk).update(
        filing_status=FilingStatus.REVOKED
    )
    response = log_in(client.__class__(), "advisor_a")
    assert response.status_code == 200
    assert "备案已注销" in page(response)
    # The open session was found on duty at login today; the next day ends it.
    assert client.get(HOME).status_code == 200
    move_clock_to(monkeypatch, timezone.localdate() + datetime.timedelta(days=1))
    assert client.get(HOME).status_code == 302 and not logged_in(client)


def test_an_advisor_who_has_not_started_yet_cannot_log_in(client, world):
    start = timezone.localdate() + datetime.timedelta(days=3)
    type(world.advisor_record_a).objects.filter(pk=world.advisor_record_a.pk).update(
        started_on=start, filed_on=start
    )
    response = log_in(client, "advisor_a")
    assert response.status_code == 200 and not logged_in(client)
    assert "上岗日期" in page(response)


def test_a_login_without_an_advisor_keeps_working(client, world, monkeypatch):
    assert_works(client, "advisor_c")
    move_clock_to(monkeypatch, timezone.localdate() + datetime.timedelta(days=400))
    assert client.get(HOME).status_code == 200
    assert_works(client, "advisor_c")


def test_the_check_reads_the_database_once_per_session_and_day(client, world):
    client.force_login(world.advisor_a)
    client.get(HOME)
    with CaptureQueriesContext(connection) as checked_already:
        assert client.get(HOME).status_code == 200
    session = client.session
    del session[CHECKED_ON_SESSION_KEY]
    session.save()
    with CaptureQueriesContext(connection) as checking:
        assert client.get(HOME).status_code == 200
    assert len(checking) == len(checked_already) + 1


@pytest.mark.postgres
def test_the_deactivation_names_who_recorded_the_leave(client, world):
    from audit.tracking import tracking_for

    events = tracking_for(User).event_model.objects
    before = events.order_by("pgh_id").last().pgh_id
    client.force_login(world.manager_a)
    client.post(
        reverse("advisors:leave", args=[world.advisor_record_a.pk]),
        {"leave-left_on": timezone.localdate().isoformat(), "leave-reason": "调离"},
    )
    [event] = events.filter(pgh_id__gt=before, pgh_obj_id=world.advisor_a.pk, is_active=False)
    assert event.pgh_context["user"] == world.manager_a.pk


def test_an_advisor_is_linked_only_to_an_advisor_login_of_the_actors_area(world):
    fields = {
        "name": "新顾问",
        "gender": "female",
        "background": "community_worker",
        "started_on": datetime.date(2025, 1, 1),
    }
    for login in (world.advisor_b, world.manager_b):
        with pytest.raises(ValidationError) as error:
            services.register_advisor(
                actor=world.manager_a, street=world.street_a, user=login, **fields
            )
        assert "登录账号" in str(error.value)
    advisor = services.register_advisor(
        actor=world.manager_a, street=world.street_a, user=world.advisor_c, **fields
    )
    assert advisor.user == world.advisor_c
    with pytest.raises(ValidationError):
        services.update_advisor(actor=world.manager_a, advisor=advisor, user=world.advisor_b)
    advisor.refresh_from_db()
    assert advisor.user == world.advisor_c
