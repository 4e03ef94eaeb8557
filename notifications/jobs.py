"""The timed notifications, run by the daily `manage.py run_scheduled`.

- `visit_misses`: from the 1st to the 7th of a month (so that a missed day catches up), each
  street manager hears how many due people of their street were not visited last month
  (C9, `visits.coverage`), once per street and month, and only when some were missed.
  Early in the month, while advisors may still enter last month's visits late.
- `rectification_deadlines`: an unclosed order whose deadline is within 3 days: the street
  managers hear of it while it waits for their answer, the district's bureau staff while it
  waits for their verification; once per order and deadline (an extended deadline is heard
  of again).
- `rectification_overdue`: an order past its deadline without a verified close (C12): the
  street managers and the district's bureau staff hear of it, once per order and deadline.

Every job is idempotent through the notifications' `dedupe_key`: running it twice a day,
or every day of its window, notifies nobody twice.
"""

import datetime
from collections import defaultdict

from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.choices import Role
from accounts.models import User
from changning_aid.scheduled import daily_job
from notifications.choices import NotificationKind
from notifications.services import notify

# The days of the month on which last month's misses are sent (1 to this day).
VISIT_MISSES_LAST_DAY = 7
# An order is "due soon" from this many days before its deadline.
DEADLINE_SOON_DAYS = 3


def _logins_by(role, field, keys):
    """{street or district id: [active logins of `role`]} for the given ids."""
    grouped = defaultdict(list)
    if keys:
        logins = User.objects.filter(role=role, is_active=True, **{f"{field}__in": keys})
        for login in logins.order_by("pk"):
            grouped[getattr(login, field)].append(login)
    return grouped


# Visit misses ---------------------------------------------------------------------------------


@daily_job("visit_misses")
def notify_visit_misses(today):
    """Each street manager hears of last month's misses of their street (1st to 7th)."""
    from cases.models import Recipient
    from visits import coverage
    from visits.models import policy_for

    if today.day > VISIT_MISSES_LAST_DAY:
        return _("上月漏访提醒在每月 1 日至 %(day)d 日发送,今天不发送。") % {
            "day": VISIT_MISSES_LAST_DAY
        }
    first = coverage.shift_month(today.replace(day=1), -1)
    month = coverage.month_key(first)
    label = coverage.month_label(first)
    url = reverse("visits:misses") + "?month=" + month
    managers = User.objects.filter(
        role=Role.STREET_MANAGER, is_active=True, street__isnull=False
    ).select_related("street")
    by_street = defaultdict(list)
    for manager in managers.order_by("pk"):
        by_street[manager.street].append(manager)
    streets_by_district = defaultdict(list)
    for street in by_street:
        streets_by_district[street.district_id].append(street)
    notified = created = 0
    for district_id, streets in sorted(streets_by_district.items()):
        policy = policy_for(district_id)
        # One query per district: its streets' figures together.
        figures = coverage.month_figures(
            Recipient.objects.filter(street__in=streets), first, policy, by="street"
        )
        for street in streets:
            figure = figures.get(street.pk)
            if figure is None or figure.missed <= 0:
                continue
            body = _(
                "%(street)s %(month)s应走访 %(due)d 人,已走访 %(visited)d 人,漏访 %(missed)d 人"
                "(走访率 %(rate)s%%)。"
            ) % {
                "street": street.name,
                "month": label,
                "due": figure.due,
                "visited": figure.visited,
                "missed": figure.missed,
                "rate": figure.rate,
            }
            if today.day <= policy.late_entry_day:
                body += _("顾问可在本月 %(day)d 日(含)之前补录上月的走访。") % {
                    "day": policy.late_entry_day
                }
            made = notify(
                by_street[street],
                kind=NotificationKind.VISIT_MISSES,
                title=_("%(month)s走访漏访 %(missed)d 人")
                % {"month": label, "missed": figure.missed},
                body=body,
                url=url,
                dedupe_key=f"visit_misses:{street.code}:{month}",
            )
            notified += 1
            created += made
    return _(
        "%(month)s漏访提醒:%(streets)d 个街镇有漏访,新发通知 %(created)d 条(已发过的不再重复)。"
    ) % {"month": label, "streets": notified, "created": created}


# Rectification orders -------------------------------------------------------------------------


def _orders():
    """The unclosed rectification orders with their streets."""
    from supervision.models import RectificationOrder

    return RectificationOrder.objects.unclosed().select_related("street")


def _readers_of(orders):
    """({street id: its street managers}, {district id: its bureau staff}) for `orders`:
    two queries, whatever the number of orders."""
    street_ids = {order.street_id for order in orders}
    district_ids = {order.street.district_id for order in orders}
    return (
        _logins_by(Role.STREET_MANAGER, "street_id", street_ids),
        _logins_by(Role.BUREAU, "district_id", district_ids),
    )


@daily_job("rectification_deadlines")
def notify_deadlines_soon(today):
    """Unclosed orders due within 3 days: the street while it must answer, the bureau while
    it must verify the answer."""
    from supervision.models import OrderStatus

    orders = list(
        _orders().filter(
            deadline__gte=today, deadline__lte=today + datetime.timedelta(days=DEADLINE_SOON_DAYS)
        )
    )
    by_street, by_district = _readers_of(orders)
    created = 0
    for order in orders:
        deadline = f"{order.deadline:%Y-%m-%d}"
        days = (order.deadline - today).days
        when = _("今天") if days == 0 else _("%(days)d 天后") % {"days": days}
        if order.status == OrderStatus.ANSWERED:
            readers = by_district.get(order.street.district_id, [])
            title = _("整改通知 %(number)s 待验收,%(when)s到期") % {
                "number": order.number,
                "when": when,
            }
            body = _("%(street)s 已提交整改情况,请在 %(deadline)s 前验收办结或退回。") % {
                "street": order.street.name,
                "deadline": deadline,
            }
        else:
            readers = by_street.get(order.street_id, [])
            title = _("整改通知 %(number)s %(when)s到期") % {"number": order.number, "when": when}
            body = _("整改期限为 %(deadline)s,请及时完成整改并提交整改情况和佐证材料。") % {
                "deadline": deadline
            }
        created += notify(
            readers,
            kind=NotificationKind.DEADLINE_SOON,
            title=title,
            body=body,
            url=order.get_absolute_url(),
            dedupe_key=f"deadline_soon:{order.pk}:{order.deadline:%Y-%m-%d}",
        )
    return _("即将到期的整改通知 %(orders)d 件,新发通知 %(created)d 条。") % {
        "orders": len(orders),
        "created": created,
    }


@daily_job("rectification_overdue")
def notify_overdue(today):
    """Orders past their deadline without a verified close: the street managers and the
    district's bureau staff, once per order and deadline."""
    orders = list(_orders().overdue(today))
    by_street, by_district = _readers_of(orders)
    created = 0
    for order in orders:
        readers = by_street.get(order.street_id, []) + by_district.get(order.street.district_id, [])
        created += notify(
            readers,
            kind=NotificationKind.DEADLINE_MISSED,
            title=_("整改通知 %(number)s 已逾期(%(street)s)")
            % {"number": order.number, "street": order.street.name},
            body=_("整改期限 %(deadline)s 已过,尚未验收办结(%(status)s),计入 C12。")
            % {"deadline": f"{order.deadline:%Y-%m-%d}", "status": order.get_status_display()},
            url=order.get_absolute_url(),
            dedupe_key=f"deadline_missed:{order.pk}:{order.deadline:%Y-%m-%d}",
        )
    return _("逾期未办结的整改通知 %(orders)d 件,新发通知 %(created)d 条。") % {
        "orders": len(orders),
        "created": created,
    }
