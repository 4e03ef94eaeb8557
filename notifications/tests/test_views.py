"""The notifications pages and the header's unread badge: each login sees its own only."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from notifications.choices import NotificationKind
from notifications.models import Notification

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")


def make_notifications(user, count, *, read=False, prefix="通知"):
    Notification.objects.bulk_create(
        Notification(
            recipient=user,
            kind=NotificationKind.VISIT_MISSES,
            title=f"{prefix}{i}",
            body="内容",
            url="/visits/misses/?month=2026-10",
            dedupe_key=f"{prefix}:{i}",
            read_at=timezone.now() if read else None,
        )
        for i in range(count)
    )
    return list(Notification.objects.filter(recipient=user, dedupe_key__startswith=f"{prefix}:"))


def body_of(response):
    return response.content.decode()


def test_anonymous_users_are_sent_to_the_login(client):
    for url in (LIST, reverse("notifications:open", args=[1]), reverse("notifications:read_all")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_list_shows_the_logins_own_notifications_unread_first(two_streets, login):
    make_notifications(two_streets.manager_a, 2, read=True, prefix="已读通知")
    make_notifications(two_streets.manager_a, 1, prefix="未读通知")
    make_notifications(two_streets.manager_b, 1, prefix="江苏路的通知")
    body = body_of(login(two_streets.manager_a).get(LIST))
    assert body.index("未读通知0") < body.index("已读通知0")
    assert "已读通知1" in body
    assert "江苏路的通知" not in body
    assert "未读 1 条" in body


def test_the_unread_filter(two_streets, login):
    make_notifications(two_streets.manager_a, 1, read=True, prefix="已读通知")
    make_notifications(two_streets.manager_a, 1, prefix="未读通知")
    body = body_of(login(two_streets.manager_a).get(LIST, {"show": "unread"}))
    assert "未读通知0" in body and "已读通知0" not in body


def test_another_logins_notification_is_not_found(two_streets, login):
    theirs = make_notifications(two_streets.manager_a, 1)[0]
    # Same street's bureau, same district: still not theirs.
    for who in (two_streets.bureau, two_streets.manager_b, two_streets.advisor_a):
        client = login(who)
        for name in ("open", "read"):
            url = reverse(f"notifications:{name}", args=[theirs.pk])
            assert client.get(url).status_code == 404
            assert client.post(url).status_code == 404
        client.post(reverse("notifications:read_all"))
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_following_a_notification_marks_it_read_and_opens_its_page(two_streets, login):
    notification = make_notifications(two_streets.manager_a, 1)[0]
    response = login(two_streets.manager_a).get(notification.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"] == "/visits/misses/?month=2026-10"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_notification_without_a_page_opens_the_list(two_streets, login):
    notification = make_notifications(two_streets.manager_a, 1)[0]
    Notification.objects.filter(pk=notification.pk).update(url="")
    response = login(two_streets.manager_a).get(notification.get_absolute_url())
    assert response["Location"] == LIST


def test_marking_one_read(two_streets, login):
    first, second = make_notifications(two_streets.manager_a, 2)
    client = login(two_streets.manager_a)
    url = reverse("notifications:read", args=[first.pk])
    assert client.get(url).status_code == 405  # a change is a POST
    response = client.post(url, {"next": LIST + "?page=1"})
    assert response["Location"] == LIST + "?page=1"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    # A `next` pointing elsewhere, or not a path at all, is not followed.
    for elsewhere in ("https://evil.example.com/", "//evil.example.com/", "' OR 1=1 --"):
        response = client.post(reverse("notifications:read", args=[second.pk]), {"next": elsewhere})
        assert response["Location"] == LIST


def test_marking_all_read(two_streets, login):
    make_notifications(two_streets.manager_a, 3)
    theirs = make_notifications(two_streets.manager_b, 1)[0]
    client = login(two_streets.manager_a)
    assert client.get(reverse("notifications:read_all")).status_code == 405
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "已将 3 条通知标为已读" in body_of(response)
    assert not Notification.objects.filter(recipient=two_streets.manager_a).unread().exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    response = client.post(reverse("notifications:read_all"), follow=True)
    assert "没有未读的通知" in body_of(response)


def test_the_list_runs_the_same_queries_at_two_sizes(two_streets, login):
    client = login(two_streets.manager_a)
    make_notifications(two_streets.manager_a, 3)
    client.get(LIST)  # the session is warm
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST).status_code == 200
    make_notifications(two_streets.manager_a, 40, read=True, prefix="更多")
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST, {"page": 2})
        assert response.status_code == 200
    assert "第 2 / 2 页" in body_of(response)
    assert len(large) == len(small)


# The header's badge -------------------------------------------------------------------------


def badge(response):
    body = body_of(response)
    marker = 'data-testid="unread-count">'
    if marker not in body:
        return None
    return body.split(marker, 1)[1].split("<", 1)[0]


def test_the_header_shows_the_unread_count(two_streets, login):
    client = login(two_streets.manager_a)
    page = reverse("security:overview")
    response = client.get(page)
    assert f'href="{LIST}"' in body_of(response)
    assert badge(response) is None  # nothing unread: no badge
    make_notifications(two_streets.manager_a, 2)
    make_notifications(two_streets.manager_a, 1, read=True, prefix="已读")
    make_notifications(two_streets.manager_b, 4, prefix="别人的")
    assert badge(client.get(page)) == "2"
    make_notifications(two_streets.manager_a, 120, prefix="很多")
    assert badge(client.get(page)) == "99+"


def test_the_header_shows_no_notifications_link_to_anonymous_users(client):
    response = client.get(reverse("login"))
    assert f'href="{LIST}"' not in body_of(response)


def notification_queries(queries):
    return [q["sql"] for q in queries if "notifications_notification" in q["sql"]]


def test_the_badge_costs_one_query_per_page(two_streets, login, settings):
    client = login(two_streets.manager_a)
    page = reverse("security:overview")
    make_notifications(two_streets.manager_a, 5)
    client.get(page)
    with CaptureQueriesContext(connection) as with_badge:
        assert badge(client.get(page)) == "5"
    assert len(notification_queries(with_badge)) == 1

    engine = settings.TEMPLATES[0]
    processors = engine["OPTIONS"]["context_processors"]
    settings.TEMPLATES = [
        {
            **engine,
            "OPTIONS": {
                **engine["OPTIONS"],
                "context_processors": [p for p in processors if "unread_notifications" not in p],
            },
        }
    ]
    with CaptureQueriesContext(connection) as without_badge:
        assert badge(client.get(page)) is None
    assert len(with_badge) - len(without_badge) <= 1
