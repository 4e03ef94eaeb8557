"""Writing visits: record, change and withdraw, each checked for role, scope and date.

Who may write (the notice: advisors visit; street managers keep the street's records):
- an advisor records their own visits (as themselves) to the people they see, dated
  within the entry window the bureau sets (`VisitPolicy.earliest_entry`: this month, and
  last month until the 5th by default), never in the future; they change or withdraw only
  the visits they made, within the same window (old date and new);
- street managers and bureau staff record, change and withdraw any visit of their scope
  (paper records, corrections), at any past date, naming the advisor who visited: an
  advisor of the person's street, active on the day.

A visit is never deleted: `withdraw_visit` keeps the row with who, when and why, and every
page and figure reads `Visit.objects.kept()`. Changes are kept by the audit trail.

Follow-ups: a visit may require a follow-up by a date; the next successful visit of the
same person on or after it (by anyone, any method) completes it (`followed_up_by`), so that
a follow-up never stays open once the person has been seen again. Withdrawing or changing
that later visit reopens or re-links the follow-up.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors.models import Advisor
from cases import services as case_services
from cases.choices import NeedSource, RecipientStatus, Urgency
from cases.models import Recipient
from changning_aid.scoping import ensure_still_visible
from changning_aid.writes import apply_changes, require_role, visible_or_404
from visits.choices import FAILED_RESULTS, QUICK_CHECKS, VisitMethod, VisitResult
from visits.models import Visit, VisitNeed, policy_for

KEEPERS = case_services.KEEPERS
WORKERS = case_services.WORKERS

# What `update_visit` may change (the person and the needs raised stay as recorded).
VISIT_FIELDS = (
    "visited_on",
    "visited_at",
    "method",
    "result",
    "findings",
    *(name for name, _label in QUICK_CHECKS),
    "follow_up_required",
    "follow_up_by",
    "follow_up_note",
)
KEEPER_ONLY_FIELDS = ("advisor",)


def own_advisor(actor):
    """The `Advisor` record of an advisor login, or None."""
    return getattr(actor, "advisor_profile", None) if actor.is_advisor else None


def entry_window(actor, policy, today=None):
    """(earliest date or None for no limit, latest date) the actor may date a visit."""
    today = today or timezone.localdate()
    if actor.is_advisor:
        return policy.earliest_entry(today), today
    return None, today


def _check_date(actor, day, policy, field="visited_on"):
    earliest, latest = entry_window(actor, policy)
    if day is None:
        raise ValidationError({field: _("请填写走访日期。")})
    if day > latest:
        raise ValidationError({field: _("走访日期不能晚于今天。")})
    if earliest is not None and day < earliest:
        raise ValidationError(
            {
                field: _("顾问只能登记 %(earliest)s 以后的走访;更早的走访请由街镇管理员补录。")
                % {"earliest": earliest.isoformat()}
            }
        )


def _check_advisor(actor, advisor, recipient, day):
    if advisor is None:
        raise ValidationError({"advisor": _("请选择走访顾问。")})
    own = own_advisor(actor)
    if actor.is_advisor:
        if own is None or own.pk != advisor.pk:
            raise PermissionDenied(_("顾问只能登记本人的走访。"))
    else:
        visible_or_404(Advisor.objects, actor, advisor)
    if advisor.street_id != recipient.street_id:
        raise ValidationError({"advisor": _("走访顾问必须是该对象所在街镇的顾问。")})
    if not advisor.is_active_on(day):
        raise ValidationError(
            {
                "advisor": _("%(name)s 在 %(date)s 不是在岗顾问。")
                % {"name": advisor.name, "date": day.isoformat()}
            }
        )


def _check_recipient(recipient, day):
    if recipient.is_anonymised:
        raise ValidationError(_("该档案已匿名化,不能登记走访。"))
    if recipient.status == RecipientStatus.EXITED and day and day > recipient.exited_on:
        raise ValidationError(
            {
                "visited_on": _("该对象已于 %(date)s 退出,不能登记之后的走访。")
                % {"date": recipient.exited_on.isoformat()}
            }
        )


def _clear_checks_of_failed(fields):
    """A failed attempt met nobody: it has no quick checks and no follow-up of what was found."""
    if fields.get("result") in FAILED_RESULTS:
        for name, _label in QUICK_CHECKS:
            fields[name] = ""


@transaction.atomic
def record_visit(
    *,
    actor,
    recipient,
    advisor,
    visited_on,
    method,
    result=VisitResult.COMPLETED,
    needs=(),
    **fields,
):
    """Record a visit (and the needs it raised, each a `cases.Need`, in the same step)."""
    require_role(actor, WORKERS, _("您的账号不能登记走访。"))
    unknown = sorted(set(fields) - set(VISIT_FIELDS))
    if unknown:
        raise TypeError(f"record_visit() got unexpected fields {', '.join(unknown)}")
    visible_or_404(Recipient.objects, actor, recipient)
    policy = policy_for(recipient.street.district_id)
    _check_date(actor, visited_on, policy)
    _check_recipient(recipient, visited_on)
    _check_advisor(actor, advisor, recipient, visited_on)
    needs = [need for need in needs if (need.get("description") or "").strip()]
    if needs and result in FAILED_RESULTS:
        raise ValidationError({"result": _("未成功的走访不能登记发现的需求。")})
    fields["result"] = result
    _clear_checks_of_failed(fields)
    visit = Visit(
        recipient=recipient,
        advisor=advisor,
        visited_on=visited_on,
        method=method,
        recorded_by=actor,
        **fields,
    )
    visit.findings = (visit.findings or "").strip()
    visit.full_clean(exclude=["visit_number", "followed_up_by"])
    visit.save()
    for index, draft in enumerate(needs, start=1):
        try:
            need = case_services.record_need(
                actor=actor,
                recipient=recipient,
                category=draft.get("category"),
                description=draft.get("description"),
                source=NeedSource.VISIT,
                found_on=visited_on,
                urgency=draft.get("urgency") or Urgency.NORMAL,
            )
        except ValidationError as error:
            messages = error.messages if hasattr(error, "messages") else [str(error)]
            raise ValidationError(
                {"needs": [_("第%(n)d项需求:%(m)s") % {"n": index, "m": m} for m in messages]}
            ) from error
        VisitNeed.objects.create(visit=visit, need=need)
    complete_follow_ups(recipient)
    ensure_still_visible(visit, actor)
    return visit


def may_change(actor, visit, today=None):
    """Whether the actor may change or withdraw `visit` (for the pages' buttons)."""
    if visit.withdrawn_at is not None or actor.role not in WORKERS:
        return False
    if not actor.is_advisor:
        return True
    own = own_advisor(actor)
    if own is None or own.pk != visit.advisor_id:
        return False
    policy = policy_for(visit.recipient.street.district_id)
    earliest, _latest = entry_window(actor, policy, today)
    return visit.visited_on >= earliest


def _check_may_change(actor, visit):
    require_role(actor, WORKERS, _("您的账号不能修改走访记录。"))
    visible_or_404(Visit.objects, actor, visit)
    if visit.withdrawn_at is not None:
        raise ValidationError(_("该走访记录已撤销,不能再修改。"))
    if not may_change(actor, visit):
        raise PermissionDenied(
            _("顾问只能修改本人在补录期限内的走访记录;其他修改请联系街镇管理员。")
        )


@transaction.atomic
def update_visit(*, actor, visit, **changes):
    """Change a visit; the person and the needs it raised stay as recorded."""
    _check_may_change(actor, visit)
    allowed = VISIT_FIELDS + (() if actor.is_advisor else KEEPER_ONLY_FIELDS)
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise TypeError(f"update_visit() cannot change {', '.join(unknown)}")
    recipient = visit.recipient
    policy = policy_for(recipient.street.district_id)
    day = changes.get("visited_on", visit.visited_on)
    if "visited_on" in changes:
        _check_date(actor, day, policy)
        _check_recipient(recipient, day)
    advisor = changes.get("advisor", visit.advisor)
    if "advisor" in changes or "visited_on" in changes:
        if actor.is_advisor:
            if not advisor.is_active_on(day):
                raise ValidationError(
                    {"visited_on": _("您在 %(date)s 不是在岗顾问。") % {"date": day.isoformat()}}
                )
        else:
            _check_advisor(actor, advisor, recipient, day)
    result = changes.get("result", visit.result)
    if result in FAILED_RESULTS and VisitNeed.objects.filter(visit=visit).exists():
        raise ValidationError({"result": _("该走访已登记发现的需求,不能改为未成功的走访。")})
    changes = dict(changes)
    changes.setdefault("result", visit.result)
    _clear_checks_of_failed(changes)
    if "findings" in changes:
        changes["findings"] = (changes["findings"] or "").strip()
    if changes.get("follow_up_required") is False:
        changes["follow_up_by"] = None
    apply_changes(visit, changes, exclude=["visit_number", "followed_up_by"])
    visit.save()
    # The visit may no longer complete a follow-up, or complete another one.
    Visit.objects.filter(followed_up_by=visit).update(followed_up_by=None)
    if not visit.follow_up_required:
        visit.followed_up_by = None
        Visit.objects.filter(pk=visit.pk).update(followed_up_by=None)
    complete_follow_ups(recipient)
    ensure_still_visible(visit, actor)
    visit.refresh_from_db()
    return visit


@transaction.atomic
def withdraw_visit(*, actor, visit, reason):
    """Withdraw (撤销) a visit entered in error: the row stays, with who, when and why."""
    _check_may_change(actor, visit)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写撤销原因。")})
    if len(reason) > 200:
        raise ValidationError({"reason": _("撤销原因不能超过200字。")})
    visit.withdrawn_at = timezone.now()
    visit.withdrawn_by = actor
    visit.withdraw_reason = reason
    visit.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason", "updated_at"])
    Visit.objects.filter(followed_up_by=visit).update(followed_up_by=None)
    complete_follow_ups(visit.recipient)
    return visit


def complete_follow_ups(recipient):
    """Link each open follow-up of `recipient` to the first successful visit after it.

    A visit completes a follow-up when it is kept, not a failed attempt, and later than the
    visit asking for it (a later date, or the same date entered after it). A few rows per
    person: two queries.
    """
    visits = list(
        Visit.objects.kept()
        .filter(recipient=recipient)
        .order_by("visited_on", "pk")
        .only("pk", "visited_on", "result", "follow_up_required", "followed_up_by")
    )
    successes = [visit for visit in visits if visit.result not in FAILED_RESULTS]
    for visit in visits:
        if not visit.follow_up_required or visit.followed_up_by_id is not None:
            continue
        later = next(
            (
                other
                for other in successes
                if (other.visited_on, other.pk) > (visit.visited_on, visit.pk)
            ),
            None,
        )
        if later is not None:
            Visit.objects.filter(pk=visit.pk).update(followed_up_by=later)


def last_method(advisor):
    """The method of the advisor's latest visit (上门走访 when none): the desk's default."""
    if advisor is None:
        return VisitMethod.HOME
    method = (
        Visit.objects.kept()
        .filter(advisor=advisor)
        .order_by("-recorded_at", "-pk")
        .values_list("method", flat=True)
        .first()
    )
    return method or VisitMethod.HOME


def open_follow_ups(visits):
    """The visits of `visits` whose follow-up is still open."""
    return visits.kept().filter(follow_up_required=True, followed_up_by__isnull=True)
