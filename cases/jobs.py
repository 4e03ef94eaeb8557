"""The daily jobs of 政策找人 (leads), run by `manage.py run_scheduled`.

- `anonymise_leads`: a lead closed as 不符合 or 无法联系 more than LEAD_RETENTION_DAYS ago
  (365 by default) loses its name, ID number, phone, address and the content of its facts
  (`cases.leads.anonymise_closed_leads`); counts and dates stay. An enrolled lead is a
  person on the register, kept with the register's own rules.
- `lead_overdue`: a lead open longer than LEAD_VISIT_DAYS (15 by default) reminds the
  advisor in charge of it, once per lead (dedupe key `lead-overdue-<pk>`); a lead in
  nobody's charge reminds the street managers of its street instead, who assign it.

Both are safe to run twice and catch up after a missed day: anonymised leads are not
touched again; a reminder already sent is not sent again, and every lead overdue today is
looked at (not only those that became overdue today). The reminders are written in a
fixed number of queries per chunk of leads, whatever their number.
"""

from collections import defaultdict

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from cases import leads as lead_services
from cases.lead_models import Lead
from changning_aid.scheduled import daily_job
from notifications.choices import NotificationKind
from notifications.models import Notification
from notifications.services import BODY_MAX, TITLE_MAX, send_emails

CHUNK = 2000


@daily_job("anonymise_leads")
def anonymise_leads(today):
    """Leads closed as 不符合 or 无法联系 long enough ago lose what identifies the person."""
    days = settings.LEAD_RETENTION_DAYS
    count = lead_services.anonymise_closed_leads(today)
    if count:
        return _(
            "%(day)s:已将 %(count)d 条办结(不符合、无法联系)满 %(days)d 天的政策找人线索匿名化"
            "(姓名、身份证号、电话、地址和名单情况已清除,统计保留)。"
        ) % {"day": f"{today:%Y-%m-%d}", "count": count, "days": days}
    return _("%(day)s:没有需要匿名化的政策找人线索。") % {"day": f"{today:%Y-%m-%d}"}


@daily_job("discard_stale_lead_lists")
def discard_stale_lead_lists(today):
    """Lists uploaded but never mapped and processed do not keep their file."""
    count = lead_services.discard_stale_lists()
    if count:
        return _("%(day)s:已放弃 %(count)d 份超过 %(hours)d 小时未处理的线索名单,文件已删除。") % {
            "day": f"{today:%Y-%m-%d}",
            "count": count,
            "hours": settings.LEAD_UPLOAD_KEEP_HOURS,
        }
    return _("%(day)s:没有待清理的线索名单。") % {"day": f"{today:%Y-%m-%d}"}


def overdue_key(lead_pk):
    return f"lead-overdue-{lead_pk}"


@daily_job("lead_overdue")
def notify_overdue_leads(today):
    """Each overdue lead reminds its advisor (or, in nobody's charge, the street managers)."""
    days = settings.LEAD_VISIT_DAYS
    leads = list(
        Lead.objects.filter(lead_services.overdue_q(today), street__isnull=False)
        .order_by("pk")
        .values("pk", "lead_number", "found_on", "street_id", "advisor__user")
    )
    streets_unassigned = {lead["street_id"] for lead in leads if lead["advisor__user"] is None}
    managers = defaultdict(list)
    if streets_unassigned:
        for pk, street_id in User.objects.filter(
            role=Role.STREET_MANAGER, is_active=True, street__in=streets_unassigned
        ).values_list("pk", "street"):
            managers[street_id].append(pk)
    active = set(
        User.objects.filter(
            is_active=True, pk__in={lead["advisor__user"] for lead in leads} - {None}
        ).values_list("pk", flat=True)
    )
    reminders = []  # (user pk, lead row)
    for lead in leads:
        user = lead["advisor__user"]
        if user is None:
            reminders.extend((manager, lead) for manager in managers[lead["street_id"]])
        elif user in active:
            reminders.append((user, lead))
    created = 0
    for start in range(0, len(reminders), CHUNK):
        created += _remind(reminders[start : start + CHUNK], today, days)
    return _(
        "超过 %(days)d 天未办结的政策找人线索 %(leads)d 条,新发提醒 %(created)d 条"
        "(已提醒过的不再重复)。"
    ) % {"days": days, "leads": len(leads), "created": created}


def _remind(reminders, today, days):
    """Write the reminders not sent yet (three queries), e-mailed after the commit.

    As `notifications.services.notify` does for one key, for many keys at once: one
    notification per login and key, whatever a concurrent run inserted first.
    """
    keys = {overdue_key(lead["pk"]) for _user, lead in reminders}
    users = {user for user, _lead in reminders}
    sent = set(
        Notification.objects.filter(dedupe_key__in=keys, recipient__in=users).values_list(
            "recipient", "dedupe_key"
        )
    )
    now = timezone.now()
    new = []
    for user, lead in reminders:
        key = overdue_key(lead["pk"])
        if (user, key) in sent:
            continue
        sent.add((user, key))
        title = _("政策找人线索 %(number)s 已超过 %(days)d 天未办结") % {
            "number": lead["lead_number"],
            "days": days,
        }
        body = _(
            "该线索于 %(found)s 发现,已 %(open)d 天。请尽快上门核实,登记走访,"
            "并按核实结果纳入救助或办结。"
        ) % {"found": f"{lead['found_on']:%Y-%m-%d}", "open": (today - lead["found_on"]).days}
        new.append(
            Notification(
                recipient_id=user,
                kind=NotificationKind.LEAD_OVERDUE,
                title=title[:TITLE_MAX],
                body=body[:BODY_MAX],
                url=Lead(pk=lead["pk"]).get_absolute_url(),
                dedupe_key=key,
                created_at=now,
            )
        )
    if not new:
        return 0
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    created = list(
        Notification.objects.filter(
            recipient__in=users, dedupe_key__in=keys, created_at=now
        ).values_list("pk", flat=True)
    )
    if created and settings.NOTIFICATION_EMAIL:
        transaction.on_commit(lambda: send_emails(created))
    return len(created)
