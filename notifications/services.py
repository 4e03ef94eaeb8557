"""Writes of the notifications app: sending notifications and marking them read.

`notify` is the one way a notification is made, by the daily jobs (`notifications.jobs`)
and by the hooks other apps call when something happens (`notifications.hooks`). It is
idempotent: a login gets one notification per `dedupe_key`, however often it is asked.

E-mail: where `settings.NOTIFICATION_EMAIL` is on (an SMTP server is configured, or the
console in development; see settings.py), each new notification is also sent to its
reader's e-mail address, once the transaction that made it has committed (a rolled-back
job sends nothing). A failed e-mail is logged and leaves `emailed_at` empty; it never
stops the job or the page that made the notification. Notifications travel by e-mail, so
their titles and bodies carry no personal data of recipients (names, ID numbers, phones):
counts, numbers of orders and advisors' names only.
"""

import logging
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import Notification

logger = logging.getLogger(__name__)

TITLE_MAX = Notification._meta.get_field("title").max_length
BODY_MAX = Notification._meta.get_field("body").max_length


def _active_user_ids(recipients):
    """The ids of the active logins among `recipients` (a queryset or an iterable of users)."""
    if isinstance(recipients, QuerySet):
        ids = recipients.filter(is_active=True).values_list("pk", flat=True)
    else:
        ids = [user.pk for user in recipients if user is not None and user.is_active]
    return sorted(set(ids))


def _check_local(url):
    if url and (not url.startswith("/") or url.startswith("//") or "\\" in url):
        raise ValueError(f"a notification links to a path of this site, not {url!r}")


@transaction.atomic
def notify(recipients, *, kind, title, dedupe_key, body="", url=""):
    """Notify each active login of `recipients` once per `dedupe_key`; return how many new.

    `url` is a path of this site ("/visits/misses/?month=2026-10"). A login that already
    has a notification with this key gets nothing new, so a job may run twice safely; a
    deactivated login gets nothing. New notifications are e-mailed after the commit.
    """
    if not dedupe_key:
        raise ValueError("a notification needs a dedupe_key")
    _check_local(url)
    user_ids = _active_user_ids(recipients)
    if not user_ids:
        return 0
    already = set(
        Notification.objects.filter(recipient_id__in=user_ids, dedupe_key=dedupe_key).values_list(
            "recipient_id", flat=True
        )
    )
    missing = [pk for pk in user_ids if pk not in already]
    if not missing:
        return 0
    # One time for the batch: it tells this call's rows from those a concurrent run
    # inserted first (which the unique constraint let through once, to them).
    now = timezone.now()
    Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=pk,
                kind=kind,
                title=title[:TITLE_MAX],
                body=body[:BODY_MAX],
                url=url,
                dedupe_key=dedupe_key,
                created_at=now,
            )
            for pk in missing
        ],
        ignore_conflicts=True,
    )
    created = list(
        Notification.objects.filter(
            recipient_id__in=missing, dedupe_key=dedupe_key, created_at=now
        ).values_list("pk", flat=True)
    )
    if created and settings.NOTIFICATION_EMAIL:
        transaction.on_commit(partial(send_emails, created))
    return len(created)


def email_subject(notification):
    return _("[长宁区社区救助顾问] %(title)s") % {"title": notification.title}


def email_text(notification):
    """The e-mail's plain text: the notification, and where to read it."""
    reader = notification.recipient
    lines = [
        _("%(name)s:") % {"name": reader.full_name or reader.username},
        "",
        notification.title,
    ]
    if notification.body:
        lines.append(notification.body)
    lines.append("")
    base = settings.SITE_BASE_URL
    if base:
        lines.append(_("查看:%(link)s") % {"link": base + notification.get_absolute_url()})
    else:
        lines.append(_("请登录长宁区社区救助顾问服务站点管理系统,在“通知”中查看。"))
    lines.append(_("此邮件由系统自动发送,请勿回复。"))
    return "\n".join(lines)


def send_emails(notification_ids):
    """E-mail the given notifications to their readers (those with an address), once each.

    Returns how many were sent. Failures are logged, never raised: the notification stays
    in the list, with `emailed_at` empty.
    """
    if not settings.NOTIFICATION_EMAIL:
        return 0
    pending = (
        Notification.objects.filter(pk__in=notification_ids, emailed_at__isnull=True)
        .exclude(recipient__email="")
        .select_related("recipient")
        .order_by("pk")
    )
    sent = []
    try:
        with get_connection() as connection:
            for notification in pending:
                message = EmailMessage(
                    subject=email_subject(notification),
                    body=email_text(notification),
                    to=[notification.recipient.email],
                    connection=connection,
                )
                try:
                    message.send()
                except Exception:
                    logger.exception("通知邮件发送失败(通知 %s)", notification.pk)
                else:
                    sent.append(notification.pk)
    except Exception:
        # Opening or closing the connection failed: nothing (more) was sent.
        logger.exception("无法连接邮件服务器,通知邮件未发送(%d 条)", len(notification_ids))
    if sent:
        Notification.objects.filter(pk__in=sent).update(emailed_at=timezone.now())
    return len(sent)


def mark_read(*, actor, notification):
    """The reader has read `notification` (nothing changes if already read)."""
    if notification.recipient_id != actor.pk:
        raise Http404
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, actor):
    """Mark every unread notification of `actor` read; return how many."""
    return Notification.objects.visible_to(actor).unread().update(read_at=timezone.now())
