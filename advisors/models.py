"""The advisors (社区救助顾问), their filing, the volunteers who help them and their training.

Leaving never deletes an advisor: `left_on` and `leave_reason` are set, the history stays,
and the advisor drops out of the staffing counts from that day (`AdvisorQuerySet.active`).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

import audit
from advisors.choices import (
    Background,
    FilingAction,
    FilingStatus,
    Gender,
    OrganiserLevel,
    Skill,
    SocialWorkLevel,
    TrainingKind,
)
from changning_aid import pinyin
from changning_aid.numbering import next_number
from changning_aid.scoping import ScopedQuerySet, advisor_station_ids
from changning_aid.sensitive.fields import PersonalPhoneField

ADVISOR_NUMBER_PREFIX = "GW"
year_validators = [MinValueValidator(2000), MaxValueValidator(2100)]


def active_q(on, prefix=""):
    """The one definition of an active advisor on day `on` (DOMAIN.md, "Active").

    Started on or before `on`, not left by `on` (an advisor who leaves on day L is not active
    from L on), and a filing that is not 已注销. `prefix` reaches the advisor from another
    model (`"advisor__"`).
    """
    return (
        Q(**{f"{prefix}started_on__lte": on})
        & (Q(**{f"{prefix}left_on__isnull": True}) | Q(**{f"{prefix}left_on__gt": on}))
        & ~Q(**{f"{prefix}filing_status": FilingStatus.REVOKED})
    )


def validate_skills(value):
    """A list of the notice's skills (`Skill`), each at most once."""
    if not isinstance(value, list):
        raise ValidationError(_("技能应为列表。"))
    unknown = [item for item in value if item not in Skill.values]
    if unknown:
        raise ValidationError(
            _("未知的技能:%(skills)s。"), params={"skills": "、".join(map(str, unknown))}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("技能不能重复。"))


class AdvisorQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"

    def for_advisor(self, user):
        """An advisor login sees the advisors of the stations it serves."""
        return self.filter(
            pk__in=AdvisorStation.objects.filter(station__in=advisor_station_ids(user)).values(
                "advisor"
            )
        )

    def active(self, on):
        """The advisors active on day `on` (see `active_q`)."""
        return self.filter(active_q(on))


# `name_initials` is derived from the name on every save: a search aid, not a fact to audit.
@audit.track(masked=["mobile"], exclude=["name_initials"])
class Advisor(models.Model):
    """A 社区救助顾问: kept by a street/town, serving one or more of its stations.

    `name_initials` holds the pinyin initials of the name, every reading of every
    character (`changning_aid.pinyin`), so that the roster finds 曾晓明 by `zxm` and `cxm`.
    `save()` keeps it up to date; a bulk write must set it (`pinyin.initials_text(name)`).
    """

    advisor_number = models.CharField(
        _("顾问编号"),
        max_length=20,
        unique=True,
        editable=False,
        help_text=_("稳定的编号,导出和导入按此匹配。"),
    )
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        related_name="advisors",
    )
    name = models.CharField(_("姓名"), max_length=50)
    name_initials = models.CharField(
        _("姓名拼音首字母"),
        max_length=pinyin.MAX_LENGTH,
        blank=True,
        editable=False,
        help_text=_("由姓名生成,含多音字的各种读法,以“|”分隔,用于按拼音首字母查找。"),
    )
    gender = models.CharField(_("性别"), max_length=10, choices=Gender.choices)
    mobile = PersonalPhoneField(_("手机号码"), blank=True)
    background = models.CharField(_("人员类别"), max_length=30, choices=Background.choices)
    social_work_level = models.CharField(
        _("社会工作职业资格"),
        max_length=20,
        choices=SocialWorkLevel.choices,
        default=SocialWorkLevel.NONE,
    )
    certificate_number = models.CharField(_("资格证书编号"), max_length=50, blank=True)
    skills = models.JSONField(_("技能"), default=list, blank=True, validators=[validate_skills])
    uniform_issued_on = models.DateField(_("统一服装发放日期"), null=True, blank=True)
    badge_issued_on = models.DateField(_("胸牌发放日期"), null=True, blank=True)
    star_year = models.PositiveSmallIntegerField(
        _("救助顾问明星(年度)"), null=True, blank=True, validators=year_validators
    )
    backbone_year = models.PositiveSmallIntegerField(
        _("业务骨干(年度)"), null=True, blank=True, validators=year_validators
    )
    started_on = models.DateField(_("上岗日期"))
    left_on = models.DateField(_("离岗日期"), null=True, blank=True)
    leave_reason = models.CharField(_("离岗原因"), max_length=200, blank=True)
    filing_status = models.CharField(
        _("备案状态"),
        max_length=20,
        choices=FilingStatus.choices,
        default=FilingStatus.PENDING,
    )
    filing_submitted_at = models.DateTimeField(_("提交备案时间"), null=True, blank=True)
    filing_number = models.CharField(_("备案编号"), max_length=50, blank=True)
    filed_on = models.DateField(_("备案日期"), null=True, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="advisor_profile",
    )
    stations = models.ManyToManyField(
        "stations.Station",
        verbose_name=_("服务站点"),
        through="AdvisorStation",
        related_name="advisors",
        blank=True,
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = AdvisorQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区救助顾问")
        verbose_name_plural = _("社区救助顾问")
        ordering = ["street__code", "advisor_number"]
        constraints = [
            models.CheckConstraint(
                name="advisor_left_after_start",
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("started_on")),
            ),
            models.CheckConstraint(
                name="advisor_filed_has_number_and_date",
                condition=~Q(filing_status=FilingStatus.FILED)
                | (~Q(filing_number="") & Q(filed_on__isnull=False)),
            ),
            models.UniqueConstraint(
                fields=["filing_number"],
                condition=~Q(filing_number=""),
                name="advisor_unique_filing_number",
            ),
        ]

    def __str__(self):
        return f"{self.name}({self.advisor_number})"

    def save(self, *args, **kwargs):
        if not self.advisor_number:
            self.advisor_number = next_advisor_number(self.street)
        self.name_initials = pinyin.initials_text(self.name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_initials"}
        super().save(*args, **kwargs)

    def clean(self):
        errors = {}
        if self.left_on and self.started_on and self.left_on < self.started_on:
            errors["left_on"] = _("离岗日期不能早于上岗日期。")
        if self.left_on and not self.leave_reason.strip():
            errors["leave_reason"] = _("离岗时请填写离岗原因。")
        if self.social_work_level == SocialWorkLevel.NONE and self.certificate_number:
            errors["certificate_number"] = _("无社会工作职业资格时不填写证书编号。")
        if self.filing_status == FilingStatus.FILED:
            if not self.filing_number.strip():
                errors["filing_number"] = _("已备案的顾问必须有备案编号。")
            if not self.filed_on:
                errors["filed_on"] = _("已备案的顾问必须有备案日期。")
        if self.user_id and self.user.role != "advisor":
            errors["user"] = _("只能关联社区救助顾问角色的账号。")
        if errors:
            raise ValidationError(errors)

    def is_active_on(self, day):
        """Whether the advisor is active on `day` (the same rule as `active_q`)."""
        return (
            self.started_on <= day
            and (self.left_on is None or self.left_on > day)
            and self.filing_status != FilingStatus.REVOKED
        )

    @property
    def primary_station(self):
        link = next((link for link in self.station_links.all() if link.is_primary), None)
        return link.station if link else None


def next_advisor_number(street):
    """`GW` + the street's 9-digit code + a 4-digit sequence within the street."""
    return next_number(Advisor, "advisor_number", f"{ADVISOR_NUMBER_PREFIX}{street.code}", 4)


class AdvisorStationQuerySet(ScopedQuerySet):
    district_lookup = "advisor__street__district"
    street_lookup = "advisor__street"
    station_lookup = "station"


@audit.track()
class AdvisorStation(models.Model):
    """A station an advisor serves; one of an advisor's stations is the primary one."""

    advisor = models.ForeignKey(
        Advisor, verbose_name=_("顾问"), on_delete=models.CASCADE, related_name="station_links"
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("服务站点"),
        on_delete=models.PROTECT,
        related_name="advisor_links",
    )
    is_primary = models.BooleanField(_("主要服务站点"), default=False)

    objects = AdvisorStationQuerySet.as_manager()

    class Meta:
        verbose_name = _("顾问服务站点")
        verbose_name_plural = _("顾问服务站点")
        ordering = ["advisor", "-is_primary", "station"]
        constraints = [
            models.UniqueConstraint(fields=["advisor", "station"], name="advisor_station_once"),
            models.UniqueConstraint(
                fields=["advisor"],
                condition=Q(is_primary=True),
                name="advisor_one_primary_station",
            ),
        ]

    def __str__(self):
        return f"{self.advisor.name} · {self.station}"

    def clean(self):
        if self.advisor_id and self.station_id and self.station.street_id != self.advisor.street_id:
            raise ValidationError({"station": _("服务站点必须在顾问所属的街镇内。")})


class FilingEventQuerySet(ScopedQuerySet):
    district_lookup = "advisor__street__district"
    street_lookup = "advisor__street"


@audit.track()
class FilingEvent(models.Model):
    """One step of an advisor's filing (备案): who did what, when, and why."""

    advisor = models.ForeignKey(
        Advisor, verbose_name=_("顾问"), on_delete=models.PROTECT, related_name="filing_events"
    )
    action = models.CharField(_("操作"), max_length=20, choices=FilingAction.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        on_delete=models.PROTECT,
        related_name="filing_events",
    )
    at = models.DateTimeField(_("操作时间"), auto_now_add=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)
    filing_number = models.CharField(_("备案编号"), max_length=50, blank=True)

    objects = FilingEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("备案记录")
        verbose_name_plural = _("备案记录")
        ordering = ["advisor", "at", "pk"]

    def __str__(self):
        return f"{self.advisor.name} {self.get_action_display()}"


class VolunteerQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"
    station_lookup = "station"


@audit.track(masked=["phone"])
class Volunteer(models.Model):
    """A 社区志愿者 recruited by a street or committee to help its advisors."""

    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        related_name="volunteers",
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("服务站点"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="volunteers",
    )
    name = models.CharField(_("姓名"), max_length=50)
    phone = PersonalPhoneField(_("联系电话"), blank=True)
    skills = models.CharField(_("特长"), max_length=200, blank=True)
    active_from = models.DateField(_("服务开始日期"))
    active_to = models.DateField(_("服务结束日期"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        verbose_name = _("社区志愿者")
        verbose_name_plural = _("社区志愿者")
        ordering = ["street__code", "name", "pk"]
        constraints = [
            models.CheckConstraint(
                name="volunteer_period_in_order",
                condition=Q(active_to__isnull=True) | Q(active_to__gte=models.F("active_from")),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.active_to and self.active_from and self.active_to < self.active_from:
            errors["active_to"] = _("服务结束日期不能早于开始日期。")
        if self.station_id and self.street_id and self.station.street_id != self.street_id:
            errors["station"] = _("服务站点必须在志愿者所属的街镇内。")
        if errors:
            raise ValidationError(errors)


class TrainingQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = "street"

    def shared_with_street(self, street_id):
        """District trainings are declared shared with every street of their district."""
        from stations.models import Street

        return Q(
            organiser_level=OrganiserLevel.DISTRICT,
            district__in=Street.objects.filter(pk=street_id).values("district"),
        )

    def for_advisor(self, user):
        """The trainings of the streets of the stations an advisor serves, and their district's."""
        from stations.models import Station

        served = Station.objects.filter(advisor_users=user)
        return self.filter(
            Q(street__in=served.values("street"))
            | Q(organiser_level=OrganiserLevel.DISTRICT, district__in=served.values("district"))
        )


@audit.track()
class Training(models.Model):
    """A training organised by a street/town (for its advisors) or by the district (for all)."""

    organiser_level = models.CharField(_("组织单位"), max_length=20, choices=OrganiserLevel.choices)
    district = models.ForeignKey(
        "stations.District",
        verbose_name=_("区"),
        on_delete=models.PROTECT,
        related_name="trainings",
    )
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="trainings",
    )
    date = models.DateField(_("培训日期"))
    title = models.CharField(_("培训主题"), max_length=200)
    hours = models.DecimalField(
        _("学时"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0)],
    )
    kind = models.CharField(
        _("培训类型"),
        max_length=20,
        choices=TrainingKind.choices,
        default=TrainingKind.PROFESSIONAL,
    )
    trainer = models.CharField(_("授课人"), max_length=100, blank=True)
    place = models.CharField(_("培训地点"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = TrainingQuerySet.as_manager()

    class Meta:
        verbose_name = _("培训")
        verbose_name_plural = _("培训")
        ordering = ["-date", "pk"]
        constraints = [
            models.CheckConstraint(
                name="training_street_matches_organiser",
                condition=Q(organiser_level=OrganiserLevel.STREET, street__isnull=False)
                | Q(organiser_level=OrganiserLevel.DISTRICT, street__isnull=True),
            ),
            models.CheckConstraint(name="training_hours_positive", condition=Q(hours__gt=0)),
        ]

    def __str__(self):
        return f"{self.date} {self.title}"

    def clean(self):
        errors = {}
        if self.organiser_level == OrganiserLevel.STREET and not self.street_id:
            errors["street"] = _("街镇组织的培训必须填写街镇。")
        if self.organiser_level == OrganiserLevel.DISTRICT and self.street_id:
            errors["street"] = _("区组织的培训不填写街镇。")
        if self.street_id and self.district_id and self.street.district_id != self.district_id:
            errors["street"] = _("街镇不在该区内。")
        if self.hours is not None and self.hours <= 0:
            errors["hours"] = _("学时必须大于0。")
        if errors:
            raise ValidationError(errors)


class TrainingAttendanceQuerySet(ScopedQuerySet):
    district_lookup = "training__district"
    street_lookup = "advisor__street"

    def for_advisor(self, user):
        return self.filter(advisor__in=Advisor.objects.for_advisor(user))


@audit.track()
class TrainingAttendance(models.Model):
    """Whether an advisor attended a training, with a score or a remark."""

    training = models.ForeignKey(
        Training, verbose_name=_("培训"), on_delete=models.CASCADE, related_name="attendances"
    )
    advisor = models.ForeignKey(
        Advisor, verbose_name=_("顾问"), on_delete=models.PROTECT, related_name="attendances"
    )
    attended = models.BooleanField(_("出席"), default=True)
    score = models.DecimalField(
        _("成绩"),
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )
    remark = models.CharField(_("备注"), max_length=200, blank=True)

    objects = TrainingAttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("培训出勤")
        verbose_name_plural = _("培训出勤")
        ordering = ["training", "advisor"]
        constraints = [
            models.UniqueConstraint(
                fields=["training", "advisor"], name="training_attendance_once"
            ),
        ]

    def __str__(self):
        return f"{self.training} · {self.advisor.name}"

    def clean(self):
        if not (self.training_id and self.advisor_id):
            return
        if self.advisor.street.district_id != self.training.district_id:
            raise ValidationError({"advisor": _("顾问不属于培训所在的区。")})
        if self.training.street_id and self.advisor.street_id != self.training.street_id:
            raise ValidationError({"advisor": _("顾问不属于组织培训的街镇。")})


# Recognition (内部考核激励) ---------------------------------------------------------------------


class RecognitionTitle(models.TextChoices):
    """The two recognitions of the notice: 救助顾问明星 and 业务骨干."""

    STAR = "star", _("救助顾问明星")
    BACKBONE = "backbone", _("业务骨干")


class NominationStatus(models.TextChoices):
    PENDING = "pending", _("待确认")
    CONFIRMED = "confirmed", _("已确认")
    DECLINED = "declined", _("未通过")


class NominationQuerySet(ScopedQuerySet):
    """Street managers see their street's nominations, bureau staff their district's;
    advisors none (no station lookup)."""

    district_lookup = "advisor__street__district"
    street_lookup = "advisor__street"

    def confirmed(self):
        return self.filter(status=NominationStatus.CONFIRMED)


@audit.track()
class Nomination(models.Model):
    """A street manager's nomination of an advisor for a recognition of a year, and the
    bureau's decision on it. Once per advisor, title and year, whatever the outcome."""

    advisor = models.ForeignKey(
        Advisor, verbose_name=_("顾问"), on_delete=models.PROTECT, related_name="nominations"
    )
    title = models.CharField(_("称号"), max_length=20, choices=RecognitionTitle.choices)
    year = models.PositiveSmallIntegerField(_("年度"), validators=year_validators)
    reason = models.TextField(_("推荐理由"), max_length=2000)
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=NominationStatus.choices,
        default=NominationStatus.PENDING,
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提名人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    nominated_at = models.DateTimeField(_("提名时间"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_reason = models.CharField(_("审核意见"), max_length=500, blank=True)

    objects = NominationQuerySet.as_manager()

    class Meta:
        verbose_name = _("表彰提名")
        verbose_name_plural = _("表彰提名")
        ordering = ["-year", "title", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["advisor", "title", "year"], name="nomination_once_per_title_year"
            ),
            models.CheckConstraint(
                name="nomination_decided_has_who_and_when",
                condition=Q(status=NominationStatus.PENDING, decided_at__isnull=True)
                | (
                    ~Q(status=NominationStatus.PENDING)
                    & Q(decided_at__isnull=False, decided_by__isnull=False)
                ),
            ),
        ]

    def __str__(self):
        return f"{self.advisor.name} · {self.label}"

    @property
    def label(self):
        """What the recognition reads, e.g. 2026年度救助顾问明星."""
        return _("%(year)s年度%(title)s") % {"year": self.year, "title": self.get_title_display()}
