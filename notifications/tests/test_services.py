"""notify: once per login and key, only active logins, e-mailed where e-mail is configured."""

import datetime
import logging

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts.choices import Role
from advisors import services as advisor_services
from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor
from notifications import hooks, services
from notifications.choices import NotificationKind
from notifications.models import Notification
from stations.tests.factories import committee_point, make_user

pytestmark = pytest.mark.django_db


def send(recipients, key="test:1", **fields):
    fields.setdefault("kind", NotificationKind.OTHER)
    fields.setdefault("title", "测试通知")
    fields.setdefault("url", "/visits/misses/?month=2026-10")
    return services.notify(recipients, dedupe_key=key, **fields)


@pytest.fixture
def email_on(settings):
    settings.NOTIFICATION_EMAIL = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_BASE_URL = ""
    return settings


def test_notifying_twice_makes_one_notification_per_login(two_streets):
    managers = [two_streets.manager_a, two_streets.manager_b]
    assert send(managers) == 2
    assert send(managers) == 0
    assert send([two_streets.manager_a, two_streets.bureau]) == 1
    assert Notification.objects.filter(dedupe_key="test:1").count() == 3
    # Another key is another event.
    assert send(managers, key="test:2") == 2


def test_a_queryset_of_logins_is_accepted_and_deactivated_logins_are_left_out(two_streets):
    two_streets.manager_b.is_active = False
    two_streets.manager_b.save()
    logins = type(two_streets.manager_a).objects.filter(role=Role.STREET_MANAGER)
    assert send(logins) == 1
    assert list(Notification.objects.values_list("recipient", flat=True)) == [
        two_streets.manager_a.pk
    ]
    assert send([two_streets.manager_b]) == 0


def test_the_database_refuses_a_second_notification_for_the_same_key(two_streets):
    send([two_streets.manager_a])
    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            recipient=two_streets.manager_a, title="重复", dedupe_key="test:1"
        )


def test_a_notification_links_only_to_a_path_of_this_site(two_streets):
    for url in ("https://evil.example.com/", "//evil.example.com/x", "/\\evil.example.com"):
        with pytest.raises(ValueError):
            send([two_streets.manager_a], url=url)
    with pytest.raises(ValueError):
        send([two_streets.manager_a], key="")
    assert not Notification.objects.exists()


def test_long_titles_and_bodies_are_cut_to_fit(two_streets):
    send([two_streets.manager_a], title="长" * 300, body="内" * 900)
    notification = Notification.objects.get()
    assert len(notification.title) == 200 and len(notification.body) == 500


# E-mail -------------------------------------------------------------------------------------


def test_new_notifications_are_emailed_once_after_the_commit(
    two_streets, email_on, django_capture_on_commit_callbacks
):
    two_streets.manager_a.email = "manager_a@example.gov.cn"
    two_streets.manager_a.full_name = "王主任"
    two_streets.manager_a.save()
    # manager_b has no address: the notification stays in the list only.
    with django_capture_on_commit_callbacks(execute=True):
        made = send(
            [two_streets.manager_a, two_streets.manager_b],
            title="2026年10月走访漏访 3 人",
            body="华阳路街道漏访 3 人。",
        )
    assert made == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["manager_a@example.gov.cn"]
    assert message.subject == "[长宁区社区救助顾问] 2026年10月走访漏访 3 人"
    assert "王主任" in message.body and "华阳路街道漏访 3 人。" in message.body
    assert "请登录" in message.body
    emailed = Notification.objects.get(recipient=two_streets.manager_a)
    assert emailed.emailed_at is not None
    assert Notification.objects.get(recipient=two_streets.manager_b).emailed_at is None
    # Asked again: nothing new, nothing sent again.
    with django_capture_on_commit_callbacks(execute=True):
        assert send([two_streets.manager_a, two_streets.manager_b]) == 0
    assert len(mail.outbox) == 1


def test_the_email_links_to_the_notification_where_the_address_is_known(
    two_streets, email_on, django_capture_on_commit_callbacks
):
    email_on.SITE_BASE_URL = "https://aid.example.gov.cn"
    two_streets.manager_a.email = "manager_a@example.gov.cn"
    two_streets.manager_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        send([two_streets.manager_a])
    notification = Notification.objects.get()
    assert f"https://aid.example.gov.cn/notifications/{notification.pk}/" in mail.outbox[0].body


def test_nothing_is_emailed_without_an_email_server(
    two_streets, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_EMAIL = False
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    two_streets.manager_a.email = "manager_a@example.gov.cn"
    two_streets.manager_a.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert send([two_streets.manager_a]) == 1
    assert mail.outbox == []
    assert Notification.objects.get().emailed_at is None


def test_a_rolled_back_notification_is_not_emailed(
    two_streets, email_on, django_capture_on_commit_callbacks
):
    two_streets.manager_a.email = "manager_a@example.gov.cn"
    two_streets.manager_a.save()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send([two_streets.manager_a])
        raise RuntimeError("the job failed after notifying")
    assert mail.outbox == []
    assert not Notification.objects.exists()


class BrokenBackend(EmailBackend):
    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server unreachable")


def test_an_email_failure_is_logged_not_raised(
    two_streets, email_on, django_capture_on_commit_callbacks, caplog
):
    email_on.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    two_streets.manager_a.email = "manager_a@example.gov.cn"
    two_streets.manager_a.save()
    with (
        caplog.at_level(logging.ERROR, logger="notifications.services"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert send([two_streets.manager_a]) == 1
    assert "通知邮件发送失败" in caplog.text
    assert Notification.objects.get().emailed_at is None


# Hooks --------------------------------------------------------------------------------------


def test_a_filing_decision_tells_the_street_managers_of_the_advisors_street(two_streets):
    second_manager = make_user("manager_a2", Role.STREET_MANAGER, street=two_streets.street_a)
    advisor = make_advisor(
        two_streets.street_a,
        [committee_point(two_streets.committees_a[0])],
        name="李顾问",
        filing_status=FilingStatus.PENDING,
    )
    advisor_services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)
    # The filing services call the hook themselves: the two managers hear of it at once.
    advisor_services.send_back(actor=two_streets.bureau, advisor=advisor, reason="材料不全")
    assert Notification.objects.count() == 2
    assert hooks.filing_decided(advisor, two_streets.bureau) == 0  # a retried call
    advisor_services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)
    advisor_services.file_advisor(
        actor=two_streets.bureau,
        advisor=advisor,
        filing_number="CN-BA-99001",
        filed_on=datetime.date(2026, 11, 2),
    )
    assert Notification.objects.count() == 4

    mine = Notification.objects.filter(recipient=two_streets.manager_a).order_by("pk")
    assert [n.title for n in mine] == [
        f"社区救助顾问 李顾问({advisor.advisor_number}) 的备案被退回",
        f"社区救助顾问 李顾问({advisor.advisor_number}) 已备案",
    ]
    assert "材料不全" in mine[0].body and "CN-BA-99001" in mine[1].body
    assert {n.url for n in mine} == {reverse("advisors:detail", args=[advisor.pk])}
    assert {n.kind for n in mine} == {NotificationKind.FILING_DECIDED}
    assert Notification.objects.filter(recipient=second_manager).count() == 2
    # Nobody of the other street, nor the bureau, hears of it.
    assert not Notification.objects.exclude(
        recipient__in=[two_streets.manager_a, second_manager]
    ).exists()


def test_a_submission_alone_is_no_decision(two_streets):
    advisor = make_advisor(
        two_streets.street_a,
        [committee_point(two_streets.committees_a[0])],
        filing_status=FilingStatus.PENDING,
    )
    assert hooks.filing_decided(advisor, two_streets.bureau) == 0
    advisor_services.submit_for_filing(actor=two_streets.manager_a, advisor=advisor)
    assert hooks.filing_decided(advisor, two_streets.bureau) == 0
    assert not Notification.objects.exists()
