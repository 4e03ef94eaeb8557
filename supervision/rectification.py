"""Rectification orders (限期整改): their writes, and rule C12 (every order closed by its deadline).

The way of an order (`RectificationOrder.status`), each step an `OrderEvent` with who and when:

    待整改 --street manager answers--> 已提交 --bureau verifies--> 已办结
       ^                                  |
       +-------- bureau sends back -------+   (with a reason; the order is open again)

and, while it is not closed, the bureau may extend its deadline with a reason.

Decisions:
- Only bureau staff issue, extend, verify and send back, for the streets of their district;
  only the street's manager answers. An answer needs a text; evidence files are optional.
- A new order's deadline is today or later. An extension moves the deadline later and is
  only granted while the deadline has not passed: once it has, the breach stands (C12) and
  cannot be undone by an extension; the order is closed when the street has put it right.
- An order is closed only by the bureau's verification of an answer (已提交), which records
  the verifier and the date of the close (a database constraint holds both). The date is
  today by default; the bureau may date the close back to the day of the answer it accepts
  (not earlier, not after today), so that a street that put things right in time is not
  made late by the time the bureau took to check.
- Overdue: an order whose deadline (as extended) has passed without a verified close. An
  answered order the bureau has not verified yet is overdue too once its deadline has
  passed: only a verified close stops the clock (DOMAIN.md, C12); an answer sent back
  leaves the order open.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.choices import Role
from changning_aid.scoping import ensure_still_visible
from changning_aid.writes import require_role, visible_or_404
from notifications import hooks as notification_hooks
from stations.models import Street
from supervision import attachments
from supervision.models import (
    EvidenceFile,
    Finding,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    RectificationOrder,
    Severity,
)
from supervision.rules import Rule, Share

BUREAU = (Role.BUREAU,)
STREET = (Role.STREET_MANAGER,)

# The deadline a new order from a finding is offered, by the finding's severity (days).
SUGGESTED_DAYS = {Severity.GENERAL: 30, Severity.SERIOUS: 15, Severity.SEVERE: 7}


def can_issue(user):
    """Who issues, extends, verifies and sends back orders: bureau staff."""
    return user.is_authenticated and user.is_bureau


def can_answer(user):
    """Who answers orders: the street's manager."""
    return user.is_authenticated and user.is_street_manager


def suggested_deadline(finding=None, today=None):
    today = today or timezone.localdate()
    days = SUGGESTED_DAYS.get(finding.severity if finding else None, 30)
    return today + datetime.timedelta(days=days)


def _locked(order):
    """The order again, locked for this transaction, so that two steps never cross."""
    return RectificationOrder.objects.select_for_update().get(pk=order.pk)


def _text(value):
    return (value or "").strip()


def _event(order, kind, actor, **fields):
    event = OrderEvent(order=order, kind=kind, actor=actor, at=timezone.now(), **fields)
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def issue_order(*, actor, street, problem, deadline, requirement="", finding=None):
    """Issue a 限期整改 order to `street`, from an inspection's `finding` or standalone.

    A finding becomes at most one order, addressed to the street its inspection checked.
    """
    require_role(actor, BUREAU, _("只有区民政局可以下达整改通知。"))
    today = timezone.localdate()
    errors = {}
    if finding is not None:
        visible_or_404(Finding.objects, actor, finding)
        finding = Finding.objects.select_related("inspection").get(pk=finding.pk)
        street = finding.inspection.street
        if RectificationOrder.objects.filter(finding=finding).exists():
            errors["finding"] = _("该问题已经下达过整改通知。")
    if street is None:
        errors["street"] = _("请选择责任街镇。")
    else:
        visible_or_404(Street.objects, actor, street)
    problem = _text(problem)
    if not problem:
        errors["problem"] = _("请填写存在的问题。")
    if deadline is None:
        errors["deadline"] = _("请填写整改期限。")
    elif deadline < today:
        errors["deadline"] = _("整改期限不能早于今天。")
    if errors:
        raise ValidationError(errors)
    order = RectificationOrder(
        street=street,
        finding=finding,
        problem=problem,
        requirement=_text(requirement),
        issued_on=today,
        issued_by=actor,
        original_deadline=deadline,
        deadline=deadline,
        status=OrderStatus.OPEN,
    )
    order.full_clean(exclude=["number"])
    order.save()
    _event(order, OrderEventKind.ISSUED, actor, deadline_after=deadline)
    ensure_still_visible(order, actor)
    notification_hooks.order_issued(order, actor)
    return order


@transaction.atomic
def answer_order(*, actor, order, comment, files=()):
    """The street manager reports what was done, with evidence files; the order awaits checking."""
    require_role(actor, STREET, _("只有责任街镇的管理员可以提交整改情况。"))
    visible_or_404(RectificationOrder.objects, actor, order)
    order = _locked(order)
    if order.status != OrderStatus.OPEN:
        raise ValidationError(
            {
                "comment": _("当前状态为“%(status)s”,不能提交整改情况。")
                % {"status": order.get_status_display()}
            }
        )
    comment = _text(comment)
    if not comment:
        raise ValidationError({"comment": _("请填写整改情况。")})
    checked = attachments.check_attachments(files)
    stored = []
    try:
        event = _event(order, OrderEventKind.ANSWERED, actor, comment=comment)
        for upload in checked:
            stored.append(attachments.store(EvidenceFile, upload, uploaded_by=actor, event=event))
        order.status = OrderStatus.ANSWERED
        order.save(update_fields=["status", "updated_at"])
        ensure_still_visible(order, actor)
    except BaseException:
        attachments.discard_files(stored)
        raise
    return order


@transaction.atomic
def send_back_order(*, actor, order, reason):
    """The bureau refuses an answer (with the reason): the order is 待整改 again."""
    require_role(actor, BUREAU, _("只有区民政局可以退回整改情况。"))
    visible_or_404(RectificationOrder.objects, actor, order)
    order = _locked(order)
    if order.status != OrderStatus.ANSWERED:
        raise ValidationError({"reason": _("只有已提交的整改情况可以退回。")})
    reason = _text(reason)
    if not reason:
        raise ValidationError({"reason": _("请填写退回原因。")})
    _event(order, OrderEventKind.SENT_BACK, actor, comment=reason)
    order.status = OrderStatus.OPEN
    order.save(update_fields=["status", "updated_at"])
    return order


def last_answer(order):
    """The order's latest answer event, or None."""
    return (
        OrderEvent.objects.filter(order=order, kind=OrderEventKind.ANSWERED)
        .order_by("-at", "-pk")
        .first()
    )


@transaction.atomic
def verify_order(*, actor, order, closed_on=None, comment=""):
    """The bureau accepts the street's answer and closes the order, as verifier, on `closed_on`.

    `closed_on` is today by default; it may go back to the day of the accepted answer.
    """
    require_role(actor, BUREAU, _("只有区民政局可以验收办结。"))
    visible_or_404(RectificationOrder.objects, actor, order)
    order = _locked(order)
    if order.status != OrderStatus.ANSWERED:
        raise ValidationError({"closed_on": _("街镇提交整改情况后才能验收办结。")})
    today = timezone.localdate()
    closed_on = closed_on or today
    answer = last_answer(order)
    answered_on = timezone.localdate(answer.at) if answer else order.issued_on
    if closed_on > today:
        raise ValidationError({"closed_on": _("办结日期不能晚于今天。")})
    if closed_on < answered_on:
        raise ValidationError(
            {
                "closed_on": _("办结日期不能早于街镇提交整改情况的日期(%(day)s)。")
                % {"day": answered_on.isoformat()}
            }
        )
    order.status = OrderStatus.CLOSED
    order.closed_by = actor
    order.closed_on = closed_on
    order.full_clean(exclude=["number", "finding"])
    _event(order, OrderEventKind.CLOSED, actor, comment=_text(comment))
    order.save(update_fields=["status", "closed_by", "closed_on", "updated_at"])
    return order


@transaction.atomic
def extend_deadline(*, actor, order, new_deadline, reason):
    """The bureau extends an open order's deadline (with the reason) before it has passed."""
    require_role(actor, BUREAU, _("只有区民政局可以延长整改期限。"))
    visible_or_404(RectificationOrder.objects, actor, order)
    order = _locked(order)
    today = timezone.localdate()
    errors = {}
    if order.status == OrderStatus.CLOSED:
        raise ValidationError({"new_deadline": _("已办结的整改通知不能延期。")})
    if order.deadline < today:
        raise ValidationError(
            {"new_deadline": _("整改期限已过,不能再延期:逾期记录保留,请督促街镇整改后验收办结。")}
        )
    if new_deadline is None:
        errors["new_deadline"] = _("请填写新的整改期限。")
    elif new_deadline <= order.deadline:
        errors["new_deadline"] = _("新的整改期限必须晚于当前期限(%(day)s)。") % {
            "day": order.deadline.isoformat()
        }
    reason = _text(reason)
    if not reason:
        errors["reason"] = _("请填写延期原因。")
    if errors:
        raise ValidationError(errors)
    _event(
        order,
        OrderEventKind.EXTENDED,
        actor,
        comment=reason,
        deadline_before=order.deadline,
        deadline_after=new_deadline,
    )
    order.deadline = new_deadline
    order.save(update_fields=["deadline", "updated_at"])
    return order


def deadline_history(order, events):
    """The deadlines an order has had: the original, then each extension (from `events`)."""
    history = [{"deadline": order.original_deadline, "event": None}]
    for event in events:
        if event.kind == OrderEventKind.EXTENDED:
            history.append({"deadline": event.deadline_after, "event": event})
    return history


# Rule C12 -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodRule(Rule):
    """A rule judged over a period [first, last] (inclusive), as known on a day.

    `share(scope, first, last, on)`; `on` is the period's last day, or today for the period
    in progress (the earlier of the two).
    """

    share: Callable[[QuerySet, datetime.date, datetime.date, datetime.date], Share]

    def share_of(self, scope, first, last, today=None) -> Share:
        return self.share(orders_of(scope), first, last, judging_day(last, today))


def judging_day(last, today=None):
    """The day a period is judged on: its last day, or today while it is in progress."""
    return min(last, today or timezone.localdate())


def orders_of(scope):
    """The orders of a scope given as orders or as streets (a queryset already scoped)."""
    if scope.model is RectificationOrder:
        return scope
    if scope.model is Street:
        return RectificationOrder.objects.filter(street__in=scope.order_by().values("pk"))
    raise TypeError(f"C12 counts rectification orders, not {scope.model.__name__}")


def closed_on_time_q():
    """An order closed (verified) on or before its deadline as extended."""
    return Q(closed_on__isnull=False, closed_on__lte=F("deadline"))


def counted_q(first, last, on):
    """The orders C12 counts over [first, last] judged on day `on` (see `deadline_compliance`)."""
    due_in_period = Q(deadline__gte=first, deadline__lte=last) & (
        Q(deadline__lt=on) | Q(closed_on__isnull=False, closed_on__lte=on)
    )
    carried_in_breach = Q(deadline__lt=first) & (
        Q(closed_on__isnull=True) | Q(closed_on__gte=first)
    )
    return due_in_period | carried_in_breach


def deadlines_kept(orders, first, last, on):
    """C12's share of `orders` over [first, last], judged on day `on`."""
    return Share(
        rows=orders.filter(counted_q(first, last, on)),
        passes=closed_on_time_q(),
        ordering=("deadline", "street__code", "number"),
    )


C12 = PeriodRule(
    id="C12",
    title=gettext_lazy("限期整改按期办结"),
    description=gettext_lazy("每项限期整改均在整改期限内验收办结"),
    counts=gettext_lazy("到期的整改通知"),
    unit=gettext_lazy("项"),
    offender_label=gettext_lazy("逾期未办结或逾期办结"),
    target=100,
    counted_model=RectificationOrder,
    street_field="street",
    share=deadlines_kept,
)


def deadline_compliance(scope, first, last, *, today=None, by_street=False):
    """Rule C12 for `scope` over the period [first, last]: every order closed by its deadline.

    `scope` is a queryset of orders or of streets, already cut down with `visible_to`.
    Returns a `RuleResult` (`covered` = orders closed on time, `total` = orders counted,
    `offenders` = the breaching orders, lazily), or with `by_street` {street pk: RuleResult}
    in one grouped query (a street without counted orders is absent: nothing to judge).
    One query for the figure; the offenders are one more when listed.

    Exactly (DOMAIN.md: an order breaches when its deadline, as extended by the bureau, has
    passed without a verified close; an answer sent back leaves it open):

    - D is the order's deadline as extended (`deadline`), C the date of its verified close
      (`closed_on`; empty while not closed, whether 待整改 or 已提交), and `on` the judging
      day: the period's last day, or today for the period in progress.
    - A deadline has passed on day `on` when D < `on` (the deadline day itself is in time).
    - Counted, (a) an order due in the period whose outcome is known on `on`: first ≤ D ≤
      last, and either D < `on` or it was closed by `on` (C ≤ `on`). An order whose deadline
      is still ahead and that is not closed yet is not counted: it has not breached, nor
      kept its deadline yet. (b) An order carried into the period in breach: D < first and
      not closed before the period began (no C, or C ≥ first).
    - Passes (closed on time): C ≤ D. An order counted under (b) never passes; it breaches
      in every period it stays open past its deadline, and in the period it is closed late.
    - Breaches: every counted order that did not pass: still open (待整改, or 已提交 and not
      verified yet, or sent back) past its deadline, or verified after it.
    """
    rule_scope = orders_of(scope)
    if by_street:
        return C12.evaluate_by_street(rule_scope, first, last, today)
    return C12.evaluate(rule_scope, first, last, today)
