"""The bureau's oversight: inspections (督导检查) and rectification orders (限期整改).

- `Inspection`: a visit of the bureau to a street or one of its stations (不定期督导检查,
  announced or not), with a checklist of scored items (`InspectionItem`) and what was found
  wrong (`Finding`), each finding with its photos or files (`FindingAttachment`).
- `RectificationOrder`: a finding, or a standalone matter, that a street must put right by
  a deadline. Every step is an `OrderEvent` (issued, answered, sent back, extended, closed)
  keeping who, when and what; the street's answers carry evidence files (`EvidenceFile`).
  The deadline as extended is `deadline`, the first one `original_deadline`; each extension
  is an event with the deadline before and after it.

Uploaded files live on the default storage under names the system gives them (never the
uploader's name) and are only ever read through the scoped download views
(`supervision.views`); nothing of them is served at a public URL.

Who sees what: bureau staff their district's, street managers their street's, nobody else.
"""

import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from changning_aid.numbering import next_number
from changning_aid.scoping import ScopedQuerySet

ORDER_NUMBER_PREFIX = "ZG"
# The highest score of a checklist item, unless an item says otherwise.
ITEM_MAX_SCORE = 10


class CheckItem(models.TextChoices):
    """The checklist of an inspection: what the notice and the rules ask of a station."""

    SITE = "site", _("场所")  # C4: workspace, desks and chairs, computers, internet
    SIGNAGE = "signage", _("标识")  # C3: standard name on the plaque, unified logo
    STAFFING = "staffing", _("人员配备")  # C5 / C6
    UNIFORM = "uniform", _("着装胸牌")  # C11
    CHECKLISTS = "checklists", _("四项清单")  # C10
    VISITS = "visits", _("走访")  # C9
    RULES_POSTED = "rules_posted", _("制度上墙")  # notice 四(一): 完善工作制度


# What an inspector checks under each item, and the rule it stands for.
CHECK_ITEM_GUIDANCE = {
    CheckItem.SITE: _("C4:工作面积、桌椅、电脑、网络"),
    CheckItem.SIGNAGE: _("C3:标牌名称规范、使用全市统一标识"),
    CheckItem.STAFFING: _("C5/C6:街镇服务站≥2名、居委服务点≥1名在岗顾问"),
    CheckItem.UNIFORM: _("C11:在岗顾问统一着装、佩戴胸牌"),
    CheckItem.CHECKLISTS: _("C10:四项清单建立并及时更新"),
    CheckItem.VISITS: _("C9:现有救助对象每月至少走访一次"),
    CheckItem.RULES_POSTED: _("工作制度、服务流程、服务事项上墙公示"),
}


class Severity(models.TextChoices):
    GENERAL = "general", _("一般")
    SERIOUS = "serious", _("较重")
    SEVERE = "severe", _("严重")


class OrderStatus(models.TextChoices):
    """待整改 → 已提交 → 已办结; a sent-back answer returns the order to 待整改."""

    OPEN = "open", _("待整改")
    ANSWERED = "answered", _("已提交")
    CLOSED = "closed", _("已办结")


class OrderEventKind(models.TextChoices):
    ISSUED = "issued", _("下达整改通知")
    ANSWERED = "answered", _("提交整改情况")
    SENT_BACK = "sent_back", _("退回重新整改")
    EXTENDED = "extended", _("延长整改期限")
    CLOSED = "closed", _("验收办结")


def attachment_path(instance, filename):
    """Where an uploaded file is kept: a random name, never the uploader's (which is kept apart)."""
    today = timezone.localdate()
    extension = Path(filename).suffix.lower()
    return (
        f"supervision/{type(instance).__name__.lower()}/{today:%Y/%m}/{uuid.uuid4().hex}{extension}"
    )


class StoredFile(models.Model):
    """An uploaded photo or document, checked by `supervision.attachments` before it is kept."""

    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    original_name = models.CharField(_("文件名"), max_length=255)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name

    @property
    def is_image(self):
        return self.content_type.startswith("image/")


# Inspections --------------------------------------------------------------------------------


class InspectionQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"


@audit.track()
class Inspection(models.Model):
    """A 督导检查 of a street, or of one of its stations, by the bureau.

    `announced` is False for the notice's 不定期 (unannounced, 暗访) checks. The checklist's
    scores are `items`; the total is their sum over the items scored.
    """

    street = models.ForeignKey(
        "stations.Street", verbose_name=_("街镇"), on_delete=models.PROTECT, related_name="+"
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("检查站点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("不选表示检查整个街镇。"),
    )
    inspected_on = models.DateField(_("检查日期"))
    inspectors = models.CharField(_("检查人员"), max_length=200)
    announced = models.BooleanField(
        _("事先通知"), default=False, help_text=_("不勾选表示不定期检查(暗访)。")
    )
    summary = models.TextField(_("检查情况"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("督导检查")
        verbose_name_plural = _("督导检查")
        ordering = ["-inspected_on", "-pk"]
        indexes = [models.Index(fields=["street", "inspected_on"], name="inspection_street_date")]

    def __str__(self):
        return f"{self.street} {self.inspected_on:%Y-%m-%d}"

    def get_absolute_url(self):
        return reverse("supervision:inspection_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.station_id and self.street_id and self.station.street_id != self.street_id:
            errors["station"] = _("检查站点必须是该街镇的站点。")
        if self.inspected_on and self.inspected_on > timezone.localdate():
            errors["inspected_on"] = _("检查日期不能晚于今天。")
        if errors:
            raise ValidationError(errors)


class InspectionPartQuerySet(ScopedQuerySet):
    district_lookup = "inspection__street__district"
    street_lookup = "inspection__street"


@audit.track()
class InspectionItem(models.Model):
    """One scored item of an inspection's checklist (0 to `max_score`), with a remark."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("督导检查"), on_delete=models.CASCADE, related_name="items"
    )
    item = models.CharField(_("检查项目"), max_length=20, choices=CheckItem.choices)
    score = models.PositiveSmallIntegerField(_("得分"))
    max_score = models.PositiveSmallIntegerField(
        _("满分"), default=ITEM_MAX_SCORE, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    remark = models.CharField(_("说明"), max_length=500, blank=True)

    objects = InspectionPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("检查项目评分")
        verbose_name_plural = _("检查项目评分")
        ordering = ["inspection", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "item"], name="inspection_item_once"),
            models.CheckConstraint(
                name="inspection_item_score_in_range",
                condition=Q(score__lte=F("max_score"), max_score__gte=1),
            ),
        ]

    def __str__(self):
        return f"{self.get_item_display()} {self.score}/{self.max_score}"

    def clean(self):
        if self.score is not None and self.max_score and self.score > self.max_score:
            raise ValidationError(
                {"score": _("得分不能高于满分 %(max)s 分。") % {"max": self.max_score}}
            )


@audit.track()
class Finding(models.Model):
    """Something an inspection found wrong, how serious it is, and its photos or files."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("督导检查"), on_delete=models.PROTECT, related_name="findings"
    )
    item = models.CharField(_("检查项目"), max_length=20, choices=CheckItem.choices, blank=True)
    description = models.TextField(_("问题描述"))
    severity = models.CharField(
        _("严重程度"), max_length=10, choices=Severity.choices, default=Severity.GENERAL
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects = InspectionPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("检查发现问题")
        verbose_name_plural = _("检查发现问题")
        ordering = ["inspection", "pk"]
        constraints = [
            models.CheckConstraint(name="finding_has_description", condition=~Q(description=""))
        ]

    def __str__(self):
        return self.description[:30]


class FindingAttachmentQuerySet(ScopedQuerySet):
    district_lookup = "finding__inspection__street__district"
    street_lookup = "finding__inspection__street"


@audit.track()
class FindingAttachment(StoredFile):
    """A photo or a file that documents a finding."""

    finding = models.ForeignKey(
        Finding,
        verbose_name=_("检查发现问题"),
        on_delete=models.CASCADE,
        related_name="attachments",
    )

    objects = FindingAttachmentQuerySet.as_manager()

    class Meta(StoredFile.Meta):
        verbose_name = _("问题附件")
        verbose_name_plural = _("问题附件")

    def get_absolute_url(self):
        return reverse("supervision:finding_file", args=[self.pk])


# Rectification orders -----------------------------------------------------------------------


class OrderQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"

    def unclosed(self):
        return self.exclude(status=OrderStatus.CLOSED)

    def overdue(self, today=None):
        """Orders whose deadline (as extended) has passed without a verified close.

        An answered order the bureau has not verified yet is overdue too: only a verified
        close stops the clock (DOMAIN.md, C12).
        """
        return self.unclosed().filter(deadline__lt=today or timezone.localdate())

    def most_urgent_first(self):
        """Open orders before closed ones; among them the earliest deadline first."""
        return self.alias(
            closed_last=models.Case(
                models.When(status=OrderStatus.CLOSED, then=models.Value(1)),
                default=models.Value(0),
                output_field=models.IntegerField(),
            )
        ).order_by("closed_last", "deadline", "pk")


@audit.track()
class RectificationOrder(models.Model):
    """A 限期整改 order: what a street must put right, by when, and how it went.

    `deadline` is the deadline as extended (the one that counts), `original_deadline` the
    one first set. The order is closed only by the bureau's verification, which records
    who verified it and the date of the close (a database constraint).
    """

    number = models.CharField(_("整改编号"), max_length=20, unique=True, editable=False)
    street = models.ForeignKey(
        "stations.Street", verbose_name=_("责任街镇"), on_delete=models.PROTECT, related_name="+"
    )
    finding = models.OneToOneField(
        Finding,
        verbose_name=_("来源问题"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="order",
    )
    problem = models.TextField(_("存在问题"))
    requirement = models.TextField(_("整改要求"), blank=True)
    issued_on = models.DateField(_("下达日期"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("下达人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_deadline = models.DateField(_("原定期限"))
    deadline = models.DateField(_("整改期限"))
    status = models.CharField(
        _("状态"), max_length=10, choices=OrderStatus.choices, default=OrderStatus.OPEN
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("验收人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = OrderQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改通知")
        verbose_name_plural = _("整改通知")
        ordering = ["-issued_on", "-pk"]
        indexes = [
            models.Index(fields=["street", "status", "deadline"], name="order_street_status"),
            models.Index(fields=["deadline"], name="order_deadline"),
        ]
        constraints = [
            # Nothing is closed without a verifier and a date, and only a close has them.
            models.CheckConstraint(
                name="order_closed_has_verifier_and_date",
                condition=Q(status="closed", closed_by__isnull=False, closed_on__isnull=False)
                | (~Q(status="closed") & Q(closed_by__isnull=True, closed_on__isnull=True)),
            ),
            models.CheckConstraint(
                name="order_deadline_not_before_original",
                condition=Q(deadline__gte=F("original_deadline")),
            ),
            models.CheckConstraint(
                name="order_deadline_not_before_issue",
                condition=Q(original_deadline__gte=F("issued_on")),
            ),
            models.CheckConstraint(
                name="order_closed_not_before_issue",
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("issued_on")),
            ),
            models.CheckConstraint(name="order_has_problem", condition=~Q(problem="")),
        ]

    def __str__(self):
        return self.number

    def save(self, *args, **kwargs):
        if not self.number:
            year = (self.issued_on or timezone.localdate()).year
            self.number = next_number(
                RectificationOrder, "number", f"{ORDER_NUMBER_PREFIX}{year}", 4
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("supervision:order_detail", args=[self.pk])

    @property
    def is_closed(self):
        return self.status == OrderStatus.CLOSED

    def is_overdue_on(self, day):
        """Whether the deadline (as extended) has passed on `day` without a verified close."""
        return not self.is_closed and self.deadline < day

    @property
    def is_overdue(self):
        return self.is_overdue_on(timezone.localdate())

    @property
    def closed_on_time(self):
        return self.is_closed and self.closed_on <= self.deadline

    @property
    def was_extended(self):
        return self.deadline != self.original_deadline

    @property
    def overdue_days(self):
        """Days past the deadline without a verified close (0 when not overdue)."""
        return max(0, -self.days_left()) if not self.is_closed else 0

    def days_left(self, today=None):
        """Days until the deadline (negative once it has passed)."""
        return (self.deadline - (today or timezone.localdate())).days


class OrderEventQuerySet(ScopedQuerySet):
    district_lookup = "order__street__district"
    street_lookup = "order__street"


@audit.track()
class OrderEvent(models.Model):
    """One step of an order: who did what and when, with the comment and (answers) evidence.

    An extension keeps the deadline before and after it, so that the order's history of
    deadlines is its original deadline followed by its extension events.
    """

    order = models.ForeignKey(
        RectificationOrder,
        verbose_name=_("整改通知"),
        on_delete=models.CASCADE,
        related_name="events",
    )
    kind = models.CharField(_("环节"), max_length=20, choices=OrderEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    comment = models.TextField(_("说明"), blank=True)
    deadline_before = models.DateField(_("原期限"), null=True, blank=True)
    deadline_after = models.DateField(_("新期限"), null=True, blank=True)

    objects = OrderEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("整改记录")
        verbose_name_plural = _("整改记录")
        ordering = ["order", "at", "pk"]
        constraints = [
            models.CheckConstraint(
                name="order_event_extension_moves_deadline_later",
                condition=~Q(kind="extended")
                | Q(
                    deadline_before__isnull=False,
                    deadline_after__isnull=False,
                    deadline_after__gt=F("deadline_before"),
                ),
            ),
            models.CheckConstraint(
                name="order_event_reason_given",
                condition=~Q(kind__in=["answered", "sent_back", "extended"]) | ~Q(comment=""),
            ),
        ]

    def __str__(self):
        return f"{self.order_id} {self.get_kind_display()}"


class EvidenceFileQuerySet(ScopedQuerySet):
    district_lookup = "event__order__street__district"
    street_lookup = "event__order__street"


@audit.track()
class EvidenceFile(StoredFile):
    """A photo or a file a street sends with its answer, as evidence of what was done."""

    event = models.ForeignKey(
        OrderEvent, verbose_name=_("整改记录"), on_delete=models.CASCADE, related_name="files"
    )

    objects = EvidenceFileQuerySet.as_manager()

    class Meta(StoredFile.Meta):
        verbose_name = _("整改佐证材料")
        verbose_name_plural = _("整改佐证材料")

    def get_absolute_url(self):
        return reverse("supervision:evidence_file", args=[self.pk])


# Assessment ----------------------------------------------------------------------------------
# The annual 社会救助绩效考核 of the streets (supervision.assessment): the bureau's plan for a
# year (a weight and a scoring mode per rule, manual items with their maximum), the manual
# scores it gives each street, and the snapshot frozen when it closes the year. Bureau staff
# see their district's; a street manager reads the plans and snapshots of their street's
# district, and the views show them their own street's row only (and only once published).


class AssessmentScoring(models.TextChoices):
    RATE = "rate", _("按比例计分")
    YES_NO = "yes_no", _("达标得分")


class AssessmentPlanQuerySet(ScopedQuerySet):
    district_lookup = "district"

    def for_street(self, street_id):
        from stations.models import Street

        return self.filter(district__in=Street.objects.filter(pk=street_id).values("district"))


class AssessmentPartQuerySet(ScopedQuerySet):
    district_lookup = "plan__district"

    def for_street(self, street_id):
        from stations.models import Street

        return self.filter(
            plan__district__in=Street.objects.filter(pk=street_id).values("district")
        )


@audit.track()
class AssessmentPlan(models.Model):
    """A district's assessment of a calendar year: its indicators, manual items and scores."""

    district = models.ForeignKey(
        "stations.District", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("考核年度"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = AssessmentPlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("绩效考核方案")
        verbose_name_plural = _("绩效考核方案")
        ordering = ["district", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["district", "year"], name="assessment_plan_one_per_year"
            )
        ]

    def __str__(self):
        return f"{self.year}"


@audit.track()
class AssessmentIndicator(models.Model):
    """One rule (C1–C12) of a plan: its weight and how it is scored."""

    plan = models.ForeignKey(
        AssessmentPlan,
        verbose_name=_("考核方案"),
        on_delete=models.CASCADE,
        related_name="indicators",
    )
    rule_id = models.CharField(_("规则"), max_length=4)
    weight = models.DecimalField(
        _("分值"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    scoring = models.CharField(
        _("计分方式"),
        max_length=10,
        choices=AssessmentScoring.choices,
        default=AssessmentScoring.RATE,
    )

    objects = AssessmentPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["plan", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "rule_id"], name="assessment_indicator_once"),
            models.CheckConstraint(
                name="assessment_weight_not_negative", condition=Q(weight__gte=0)
            ),
        ]

    def __str__(self):
        return f"{self.rule_id} {self.weight}"


@audit.track()
class AssessmentManualItem(models.Model):
    """An item the bureau scores by hand (宣传、品牌、创新 …), up to `max_score`."""

    plan = models.ForeignKey(
        AssessmentPlan, verbose_name=_("考核方案"), on_delete=models.CASCADE, related_name="items"
    )
    name = models.CharField(_("加分项目"), max_length=50)
    max_score = models.DecimalField(
        _("满分"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )

    objects = AssessmentPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("人工评分项目")
        verbose_name_plural = _("人工评分项目")
        ordering = ["plan", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="assessment_item_name_once"),
            models.CheckConstraint(
                name="assessment_item_max_not_negative", condition=Q(max_score__gte=0)
            ),
        ]

    def __str__(self):
        return self.name


class AssessmentScoreQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"


@audit.track()
class AssessmentManualScore(models.Model):
    """The bureau's score of one street on one manual item, with its note."""

    item = models.ForeignKey(
        AssessmentManualItem,
        verbose_name=_("人工评分项目"),
        on_delete=models.CASCADE,
        related_name="scores",
    )
    street = models.ForeignKey(
        "stations.Street", verbose_name=_("街镇"), on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField(
        _("得分"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    note = models.CharField(_("评分说明"), max_length=500, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("评分人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    scored_at = models.DateTimeField(_("评分时间"), default=timezone.now)

    objects = AssessmentScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("人工评分")
        verbose_name_plural = _("人工评分")
        ordering = ["item", "street"]
        constraints = [
            models.UniqueConstraint(fields=["item", "street"], name="assessment_score_once"),
            models.CheckConstraint(name="assessment_score_not_negative", condition=Q(score__gte=0)),
        ]

    def __str__(self):
        return f"{self.item_id} {self.street_id} {self.score}"


@audit.track()
class AssessmentSnapshot(models.Model):
    """The scorecard frozen when the bureau closed the year: never recomputed afterwards.

    `data` holds every street's figures, scores, manual items, totals and ranks as they
    were at closing (see `supervision.assessment.scorecard`).
    """

    plan = models.OneToOneField(
        AssessmentPlan,
        verbose_name=_("考核方案"),
        on_delete=models.PROTECT,
        related_name="snapshot",
    )
    data = models.JSONField(_("考核结果"))
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("关闭人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField(_("关闭时间"), default=timezone.now)

    objects = AssessmentPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("绩效考核结果")
        verbose_name_plural = _("绩效考核结果")
        ordering = ["-closed_at"]

    def __str__(self):
        return f"{self.plan_id} {self.closed_at:%Y-%m-%d}"


# Bulletins -----------------------------------------------------------------------------------
# The bureau's progress bulletin (通报) of a period (supervision.bulletins): generated from the
# compliance engine, its figures frozen at generation, edited as a draft and then published.
# Bureau staff see their district's; a street manager sees the published ones of their
# street's district; nobody else any.


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class BulletinQuerySet(ScopedQuerySet):
    district_lookup = "district"

    def for_street(self, street_id):
        from stations.models import Street

        return self.filter(
            status=BulletinStatus.PUBLISHED,
            district__in=Street.objects.filter(pk=street_id).values("district"),
        )


@audit.track()
class Bulletin(models.Model):
    """A district's bulletin of a period (a month, a quarter or a year), one per period.

    `data` is the engine's result at generation (per street: each rule's value and verdict),
    never recomputed; `commendations` and `criticisms` are lists of lines the bureau edits.
    """

    district = models.ForeignKey(
        "stations.District", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField(_("统计期"), max_length=10)
    title = models.CharField(_("标题"), max_length=200)
    introduction = models.TextField(_("导语"), max_length=5000, blank=True)
    data = models.JSONField(_("通报数据"))
    commendations = models.JSONField(_("表彰"), default=list, blank=True)
    criticisms = models.JSONField(_("通报批评"), default=list, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("生成人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    objects = BulletinQuerySet.as_manager()

    class Meta:
        verbose_name = _("工作通报")
        verbose_name_plural = _("工作通报")
        ordering = ["-period", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["district", "period"], name="bulletin_one_per_period"),
            models.CheckConstraint(
                name="bulletin_published_has_who_and_when",
                condition=Q(
                    status=BulletinStatus.DRAFT,
                    published_at__isnull=True,
                    published_by__isnull=True,
                )
                | Q(
                    status=BulletinStatus.PUBLISHED,
                    published_at__isnull=False,
                    published_by__isnull=False,
                ),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("supervision:bulletin_detail", args=[self.pk])

    @property
    def is_draft(self):
        return self.status == BulletinStatus.DRAFT
