"""What other apps call when something happens that someone must hear of at once.

Each hook is called by the service that made the change, inside its transaction, after
the change is saved: a rolled-back change notifies nobody (and e-mails nobody). Each is
idempotent, keyed by the event it announces, so a retried call notifies nobody twice.

- `filing_decided(advisor, actor)`: from `advisors.services.file_advisor`, `send_back` and
  `revoke_filing`, after the `FilingEvent` is recorded.
- `order_issued(order, actor)`: from the service of `supervision` that issues a
  rectification order (限期整改), after the order and its `issued` event are saved.
"""

from django.urls import reverse
from django.utils.translation import gettext as _

from notifications import selectors
from notifications.choices import NotificationKind
from notifications.services import notify


def filing_decided(advisor, actor):
    """Tell the street managers of the advisor's street how the bureau decided the filing.

    Reads the advisor's latest filing step (备案, 退回 or 注销) and its reason; one
    notification per step. Returns how many notifications were made.
    """
    from advisors.choices import FilingAction

    event = advisor.filing_events.order_by("-at", "-pk").first()
    if event is None or event.action == FilingAction.SUBMIT:
        return 0
    name = f"{advisor.name}({advisor.advisor_number})"
    if event.action == FilingAction.FILE:
        title = _("社区救助顾问 %(name)s 已备案") % {"name": name}
        body = (
            _("区民政局已办理备案,备案编号 %(number)s。") % {"number": event.filing_number}
            if event.filing_number
            else _("区民政局已办理备案。")
        )
    elif event.action == FilingAction.SEND_BACK:
        title = _("社区救助顾问 %(name)s 的备案被退回") % {"name": name}
        body = _("退回原因:%(reason)s。请修改后重新提交备案。") % {"reason": event.reason}
    else:
        title = _("社区救助顾问 %(name)s 的备案已注销") % {"name": name}
        body = _("注销原因:%(reason)s。") % {"reason": event.reason}
    managers = selectors.street_managers(advisor.street_id)
    if actor is not None:
        managers = managers.exclude(pk=actor.pk)
    return notify(
        managers,
        kind=NotificationKind.FILING_DECIDED,
        title=title,
        body=body,
        url=reverse("advisors:detail", args=[advisor.pk]),
        dedupe_key=f"filing:{advisor.pk}:{event.pk}",
    )


def order_issued(order, actor=None):
    """Tell the street managers of the order's street that the bureau issued a 整改通知.

    Returns how many notifications were made.
    """
    managers = selectors.street_managers(order.street_id)
    if actor is not None:
        managers = managers.exclude(pk=actor.pk)
    return notify(
        managers,
        kind=NotificationKind.NEW_ORDER,
        title=_("新的整改通知 %(number)s,期限 %(deadline)s")
        % {"number": order.number, "deadline": f"{order.deadline:%Y-%m-%d}"},
        body=_("区民政局下达整改通知,请在 %(deadline)s 前完成整改并提交整改情况和佐证材料。")
        % {"deadline": f"{order.deadline:%Y-%m-%d}"},
        url=order.get_absolute_url(),
        dedupe_key=f"new_order:{order.pk}",
    )
