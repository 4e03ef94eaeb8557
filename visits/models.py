"""Monthly visits (定期联系走访, 每月至少1次) and the bureau's settings of the visit rule.

- `Visit`: one contact of an advisor with a person in hardship: date (and time), method,
  what was found (free text and four quick checks), the needs it raised (`VisitNeed`, each
  a `cases.Need` created in the same step), whether a follow-up is required and by when.
  A failed attempt (无人在家, 拒访) is recorded but does not count for the month. A visit
  is never deleted: withdrawing it (撤销) keeps the row, who withdrew it, when and why;
  edits are kept by the audit trail.
- `VisitPolicy`: what the bureau of a district sets for the rule (DOMAIN.md C9 "setting"s):
  the days of a month a person must be current to be due, the methods that do not count,
  how long last month stays open for late entries, and how many days before the month's
  end the reminders start. A district without a saved policy uses the defaults.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from changning_aid.numbering import next_number
from changning_aid.scoping import ScopedQuerySet
from visits.choices import FAILED_RESULTS, CheckLevel, VisitMethod, VisitResult

VISIT_NUMBER_PREFIX = "ZF"
# Numbers a new visit tries when others of its street take theirs at the same moment.
NUMBER_ATTEMPTS = 5

DEFAULT_DUE_DAYS = 15
DEFAULT_LATE_ENTRY_DAY = 5
DEFAULT_REMINDER_DAYS = 7


class VisitPolicyQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = None


@audit.track(district="district", street=None)
class VisitPolicy(models.Model):
    """The bureau's settings of the monthly visit rule for its district."""

    district = models.OneToOneField(
        "stations.District", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    due_days = models.PositiveSmallIntegerField(
        _("应走访的在册天数"),
        default=DEFAULT_DUE_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("当月作为现有救助对象满此天数的,当月应走访。"),
    )
    excluded_methods = models.JSONField(
        _("不计入的走访方式"),
        default=list,
        blank=True,
        help_text=_("这些方式的走访照常登记,但不计入每月走访。"),
    )
    late_entry_day = models.PositiveSmallIntegerField(
        _("上月补录截止日"),
        default=DEFAULT_LATE_ENTRY_DAY,
        validators=[MinValueValidator(0), MaxValueValidator(28)],
        help_text=_(
            "顾问可在本月此日(含)之前补录上月的走访;0 表示不能补录上月。"
            "更早的记录须由街镇管理员录入。"
        ),
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("月底提醒天数"),
        default=DEFAULT_REMINDER_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(28)],
        help_text=_("本月剩余天数不超过此数时,提醒尚未走访的对象。"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = VisitPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访规则设置")
        verbose_name_plural = _("走访规则设置")

    def __str__(self):
        return f"{self.district_id} 走访规则设置"

    def clean(self):
        unknown = set(self.excluded_methods or ()) - set(VisitMethod.values)
        if unknown:
            raise ValidationError({"excluded_methods": _("未知的走访方式。")})
        if set(self.excluded_methods or ()) >= set(VisitMethod.values):
            raise ValidationError({"excluded_methods": _("不能排除全部走访方式。")})

    @property
    def counted_methods(self):
        return [m for m in VisitMethod.values if m not in (self.excluded_methods or ())]

    def excluded_method_labels(self):
        return [VisitMethod(m).label for m in self.excluded_methods or ()]

    def earliest_entry(self, today):
        """The earliest visit date an advisor may enter (or move a visit to) on `today`.

        This month is open; last month stays open until the `late_entry_day`-th of this
        month (inclusive). Older dates need a street manager (or bureau staff).
        """
        first = today.replace(day=1)
        if today.day <= self.late_entry_day:
            return (first - datetime.timedelta(days=1)).replace(day=1)
        return first


def policy_for(district_id):
    """The visit policy of a district: the saved one, or the defaults (unsaved)."""
    if district_id is None:
        return VisitPolicy()
    policy = VisitPolicy.objects.filter(district_id=district_id).first()
    return policy or VisitPolicy(district_id=district_id)


class VisitQuerySet(ScopedQuerySet):
    district_lookup = "recipient__street__district"
    street_lookup = "recipient__street"
    district_by_street_ids = True

    def for_advisor(self, user):
        from cases.models import Recipient

        return self.filter(recipient__in=Recipient.objects.for_advisor(user))

    def kept(self):
        """The visits not withdrawn (撤销): every page and figure reads these."""
        return self.filter(withdrawn_at__isnull=True)

    def counted(self, policy=None):
        """The visits that count for the month: kept, not a failed attempt, not of a method
        the district's policy excludes."""
        rows = self.kept().exclude(result__in=FAILED_RESULTS)
        if policy is not None and policy.excluded_methods:
            rows = rows.exclude(method__in=policy.excluded_methods)
        return rows

    def in_month(self, first, last):
        return self.filter(visited_on__gte=first, visited_on__lte=last)


@audit.track(masked=["findings"])
class Visit(models.Model):
    """A visit (走访 / 日常联系) of an advisor to a person in hardship."""

    visit_number = models.CharField(_("走访编号"), max_length=30, unique=True, editable=False)
    recipient = models.ForeignKey(
        "cases.Recipient",
        verbose_name=_("走访对象"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    # The visit of a lead (政策找人) before the person is on the register: `recipient` is
    # empty until the lead is enrolled (纳入), when it is set and `lead` is kept.
    lead = models.ForeignKey(
        "cases.Lead",
        verbose_name=_("线索"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
    )
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("走访顾问"),
        on_delete=models.PROTECT,
        related_name="visits",
    )
    visited_on = models.DateField(_("走访日期"))
    visited_at = models.TimeField(_("走访时间"), null=True, blank=True)
    method = models.CharField(_("走访方式"), max_length=20, choices=VisitMethod.choices)
    result = models.CharField(
        _("走访结果"),
        max_length=20,
        choices=VisitResult.choices,
        default=VisitResult.COMPLETED,
        help_text=_("无人在家、拒访记为未成功的走访,登记在案但不计入每月走访。"),
    )
    findings = models.TextField(_("走访情况"), blank=True)
    living = models.CharField(_("生活状况"), max_length=20, choices=CheckLevel.choices, blank=True)
    health = models.CharField(_("健康状况"), max_length=20, choices=CheckLevel.choices, blank=True)
    housing = models.CharField(_("居住安全"), max_length=20, choices=CheckLevel.choices, blank=True)
    mood = models.CharField(_("心理状态"), max_length=20, choices=CheckLevel.choices, blank=True)
    follow_up_required = models.BooleanField(_("需要跟进"), default=False)
    follow_up_by = models.DateField(_("跟进期限"), null=True, blank=True)
    follow_up_note = models.CharField(_("跟进事项"), max_length=200, blank=True)
    followed_up_by = models.ForeignKey(
        "self",
        verbose_name=_("跟进走访"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("此后对同一对象的一次成功走访即完成跟进。"),
    )
    needs = models.ManyToManyField(
        "cases.Need",
        verbose_name=_("发现的需求"),
        through="VisitNeed",
        related_name="raised_in_visits",
        blank=True,
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # A default, not auto_now_add, so that bulk loads (imports, the demo) can say when a
    # paper record was entered.
    recorded_at = models.DateTimeField(_("录入时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    withdrawn_at = models.DateTimeField(_("撤销时间"), null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    withdraw_reason = models.CharField(_("撤销原因"), max_length=200, blank=True, editable=False)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_on", "-visited_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "visited_on"], name="visit_recipient_date"),
            # The visits that can count for the rule (C9): a person's first one in a month
            # is read from the index alone (the month summaries, the matrix).
            models.Index(
                fields=["recipient", "visited_on", "result", "method"],
                condition=Q(withdrawn_at__isnull=True),
                name="visit_counted_recipient_date",
            ),
            models.Index(fields=["advisor", "visited_on"], name="visit_advisor_date"),
            models.Index(fields=["visited_on"], name="visit_date"),
            models.Index(
                fields=["lead", "visited_on"], condition=Q(lead__isnull=False), name="visit_lead"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="visit_follow_up_has_date",
                condition=Q(follow_up_required=False) | Q(follow_up_by__isnull=False),
            ),
            models.CheckConstraint(
                name="visit_has_person",
                condition=Q(recipient__isnull=False) | Q(lead__isnull=False),
            ),
            models.CheckConstraint(
                name="visit_withdrawn_has_reason",
                condition=Q(withdrawn_at__isnull=True) | ~Q(withdraw_reason=""),
            ),
        ]

    def __str__(self):
        return f"{self.visit_number} {self.visited_on}"

    def save(self, *args, **kwargs):
        if self.visit_number:
            super().save(*args, **kwargs)
            return
        street = self.recipient.street if self.recipient_id else self.lead.street
        # Two visits of a street saved at the same moment read the same highest number: the
        # unique index refuses the later one once the earlier commits, and it takes the next.
        for attempt in range(1, NUMBER_ATTEMPTS + 1):
            self.visit_number = next_visit_number(street)
            try:
                with transaction.atomic():
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                taken = Visit.objects.filter(visit_number=self.visit_number).exists()
                if not taken or attempt == NUMBER_ATTEMPTS:
                    self.visit_number = ""
                    raise

    def get_absolute_url(self):
        return reverse("visits:detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.follow_up_required and not self.follow_up_by:
            errors["follow_up_by"] = _("需要跟进时请填写跟进期限。")
        if self.follow_up_by and self.visited_on and self.follow_up_by < self.visited_on:
            errors["follow_up_by"] = _("跟进期限不能早于走访日期。")
        if not self.follow_up_required and self.follow_up_by:
            self.follow_up_by = None
        if errors:
            raise ValidationError(errors)

    @property
    def counts(self):
        """Whether this visit counts for its month (policy exclusions aside)."""
        return self.withdrawn_at is None and self.result not in FAILED_RESULTS

    @property
    def is_failed_attempt(self):
        return self.result in FAILED_RESULTS

    @property
    def is_withdrawn(self):
        return self.withdrawn_at is not None

    @property
    def follow_up_open(self):
        return self.follow_up_required and self.followed_up_by_id is None


def next_visit_number(street):
    return next_number(Visit, "visit_number", f"{VISIT_NUMBER_PREFIX}{street.code}", 7)


class VisitNeedQuerySet(ScopedQuerySet):
    district_lookup = "visit__recipient__street__district"
    street_lookup = "visit__recipient__street"

    def for_advisor(self, user):
        return self.filter(visit__in=Visit.objects.for_advisor(user))


@audit.track()
class VisitNeed(models.Model):
    """A need raised by a visit (created with it, in the same step)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("走访记录"), on_delete=models.PROTECT, related_name="+"
    )
    need = models.ForeignKey(
        "cases.Need", verbose_name=_("需求"), on_delete=models.PROTECT, related_name="+"
    )

    objects = VisitNeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("走访发现的需求")
        verbose_name_plural = _("走访发现的需求")
        constraints = [models.UniqueConstraint(fields=["need"], name="need_raised_once")]

    def __str__(self):
        return f"{self.visit_id} · {self.need_id}"


# Month summaries of the visit rule (C9) ----------------------------------------------------------
#
# Derived tables, kept by `visits.summaries` in the same transaction as every write of the rows
# they are computed from (visits, current periods, charges, a person's committee, the district's
# policy), so that pages read hundreds of rows instead of computing C9 over millions. They hold
# nothing of their own: `manage.py rebuild_summaries` recomputes them from the base tables, and
# the audit trail does not track them (the base tables' events say what changed).


class PersonMonth(models.Model):
    """One person's month under the visit rule (C9), as `visits.coverage.computed_month`
    computes it.

    A row for each month in which the person is a current recipient for at least one day, from
    their first period's month up to the month in progress (never a future month).
    """

    # No foreign key constraints in the database on these derived rows (here and in
    # CommitteeMonth): millions of them are rewritten by INSERT ... SELECT from the very rows
    # they point to, and PostgreSQL would check each reference again at the commit (minutes
    # for a rebuild). The ORM's on_delete still applies; `differences()` finds strays. Nor
    # an index of their own: each key leads one of the composite indexes below, which serve
    # its lookups, and every index more is one more to write for each of the millions of
    # rows (an import of 20,000 people writes 480,000).
    recipient = models.ForeignKey(
        "cases.Recipient",
        verbose_name=_("困难人员"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    month = models.DateField(_("月份"), help_text=_("当月第一天。"))
    # The person's current street and committee (moves count in every month, see coverage).
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    committee = models.ForeignKey(
        "stations.Committee",
        verbose_name=_("居委"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    days = models.PositiveSmallIntegerField(_("当月在册天数"))
    due = models.BooleanField(_("当月应走访"))
    first_visit_on = models.DateField(_("当月首次计入的走访日期"), null=True, blank=True)
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("月末责任顾问"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )

    class Meta:
        verbose_name = _("对象月度走访汇总")
        verbose_name_plural = _("对象月度走访汇总")
        constraints = [
            models.UniqueConstraint(fields=["recipient", "month"], name="person_month_once"),
        ]
        indexes = [
            models.Index(fields=["street", "month"], name="person_month_street"),
            models.Index(fields=["committee", "month"], name="person_month_committee"),
            models.Index(fields=["advisor", "month"], name="person_month_advisor"),
            models.Index(fields=["month"], name="person_month_month"),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.month:%Y-%m}"


class CommitteeMonth(models.Model):
    """A committee's month under the visit rule: its due and visited person-months."""

    committee = models.ForeignKey(
        "stations.Committee",
        verbose_name=_("居委"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    month = models.DateField(_("月份"), help_text=_("当月第一天。"))
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    due = models.PositiveIntegerField(_("应走访人次"))
    visited = models.PositiveIntegerField(_("已走访人次"))

    class Meta:
        verbose_name = _("居委月度走访汇总")
        verbose_name_plural = _("居委月度走访汇总")
        constraints = [
            models.UniqueConstraint(fields=["committee", "month"], name="committee_month_once"),
        ]
        indexes = [models.Index(fields=["street", "month"], name="committee_month_street")]

    def __str__(self):
        return f"{self.committee_id} {self.month:%Y-%m}"


class SummaryMonth(models.Model):
    """A month whose `PersonMonth` rows are complete for everybody (built when it began, by
    the daily job or the first read or write of the month, or by a rebuild)."""

    month = models.DateField(_("月份"), unique=True)
    built_at = models.DateTimeField(_("生成时间"), default=timezone.now)

    class Meta:
        verbose_name = _("已生成的走访汇总月份")
        verbose_name_plural = _("已生成的走访汇总月份")

    def __str__(self):
        return f"{self.month:%Y-%m}"
