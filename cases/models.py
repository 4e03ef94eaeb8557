"""The people in hardship (困难人员/救助对象) and the checklists of the advisors' work.

- `Recipient`: one record per person (one ID number, one record), with a stable 档案号 that
  exports carry and imports match on; the periods in which the person is a current recipient
  (现有救助对象, visited monthly) are `CurrentPeriod` rows, and "current today" is derived
  from them, never stored apart.
- Checklist 2 `Need`, checklist 3 `Resource`, checklist 4 `ServiceRecord` (checklist 1 is
  the advisor roster of `advisors`); `ChecklistReview` records a street manager's 复核 of a
  list that had no change (rule C10).
- `Evaluation`: the served person's rating (服务评议) of a service or of a station.

Assistance categories and key groups are lists the bureau extends (`AssistanceCategory`,
`KeyGroup`): the built-in entries (no district) are everyone's, a district's own entries are
its bureau's.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

import audit
from cases.choices import (
    AreaLevel,
    Checklist,
    EvaluationSource,
    Gender,
    HardshipLevel,
    NeedCategory,
    NeedSource,
    NeedStatus,
    Rating,
    RecipientStatus,
    ResourceType,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from changning_aid import pinyin
from changning_aid.numbering import next_number
from changning_aid.scoping import ScopedQuerySet
from changning_aid.sensitive.fields import (
    EncryptedIdNumberField,
    IdNumberHashField,
    PersonalPhoneField,
    plain_id_number,
)
from changning_aid.sensitive.idnumbers import birth_date_of

FILE_NUMBER_PREFIX = "DA"
NEED_NUMBER_PREFIX = "XQ"
RESOURCE_NUMBER_PREFIX = "ZY"
SERVICE_NUMBER_PREFIX = "FW"


def served_stations(user):
    """The stations an advisor login serves (a queryset)."""
    from stations.models import Station

    return Station.objects.filter(advisor_users=user)


def served_area_q(user):
    """What an advisor login sees of rows placed by `committee`, `street` and `advisor`
    (people in hardship, leads): those of the committee points they serve, of the whole
    street for a street station, and those in their own charge.

    The committees, streets and advisor records are read first (two small queries) and put in
    the filter as lists: an OR of plain `IN (...)` lets PostgreSQL take an index for each
    branch and combine them, where an OR of subqueries and a join scans every row (4 s for
    an advisor's search among 300,000 people)."""
    from advisors.models import Advisor
    from stations.choices import StationKind

    committees, streets = set(), set()
    for kind, committee_id, street_id in served_stations(user).values_list(
        "kind", "committee_id", "street_id"
    ):
        if kind == StationKind.COMMITTEE and committee_id is not None:
            committees.add(committee_id)
        elif kind == StationKind.STREET and street_id is not None:
            streets.add(street_id)
    own = sorted(Advisor.objects.filter(user=user).values_list("pk", flat=True))
    return Q(committee__in=sorted(committees)) | Q(street__in=sorted(streets)) | Q(advisor__in=own)


# Vocabularies the bureau extends ------------------------------------------------------


class VocabularyQuerySet(ScopedQuerySet):
    """Built-in entries (no district) are everyone's; a district's own entries its own."""

    def visible_to(self, user):
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        district_id = user.district_id
        if district_id is None and user.street_id:
            district_id = user.street.district_id
        if district_id is None and user.is_advisor:
            return self.filter(
                Q(district__isnull=True) | Q(district__in=served_stations(user).values("district"))
            )
        return self.filter(Q(district__isnull=True) | Q(district_id=district_id))

    def in_use(self):
        return self.filter(is_active=True)


class Vocabulary(models.Model):
    district = models.ForeignKey(
        "stations.District",
        verbose_name=_("区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("空白表示全市通用的内置项。"),
    )
    name = models.CharField(_("名称"), max_length=30)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = VocabularyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name


@audit.track(district="district", street=None)
class AssistanceCategory(Vocabulary):
    """救助类别: 低保、低收入、特困供养、支出型贫困、临时救助、其他困难, and the bureau's own."""

    class Meta(Vocabulary.Meta):
        verbose_name = _("救助类别")
        verbose_name_plural = _("救助类别")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(district__isnull=True), name="category_builtin_once"
            ),
            models.UniqueConstraint(fields=["district", "name"], name="category_once_per_district"),
        ]


@audit.track(district="district", street=None)
class KeyGroup(Vocabulary):
    """重点人群: 独居老人、重残、大病、困境儿童, ..., and the bureau's own."""

    class Meta(Vocabulary.Meta):
        verbose_name = _("重点人群")
        verbose_name_plural = _("重点人群")
        constraints = [
            models.UniqueConstraint(
                fields=["name"], condition=Q(district__isnull=True), name="key_group_builtin_once"
            ),
            models.UniqueConstraint(
                fields=["district", "name"], name="key_group_once_per_district"
            ),
        ]


# Recipients ------------------------------------------------------------------------------


class RecipientQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"
    # A join to the streets read all 300,000 people of the city for a district's search or
    # list (270 ms).
    district_by_street_ids = True

    def for_advisor(self, user):
        """An advisor sees the people of the stations they serve, and those in their charge.

        A committee point's advisor sees its committee's people; a street station's advisor
        sees the people of the whole street (they answer, take applications and link
        resources for anyone of it); anyone sees the people they are responsible for.
        """
        return self.filter(served_area_q(user))

    def current_on(self, day):
        """The people who are current recipients on `day` (from their periods)."""
        return self.filter(
            models.Exists(
                CurrentPeriod.objects.covering(day).filter(recipient=models.OuterRef("pk"))
            )
        )

    def registered(self):
        return self.filter(status=RecipientStatus.REGISTERED)


@audit.track(masked=["id_number", "id_number_hash", "phone", "address", "id_tail"])
class Recipient(models.Model):
    """A person in hardship of a committee (and so of a street): one record per person.

    `name_initials` holds the pinyin initials of the name, every reading of every character
    (`changning_aid.pinyin`, the same as the advisor roster), so that the list finds 曾晓明
    by `zxm` and by `cxm`; `id_tail` the last 4 characters of the ID number, which the mask
    shows anyway. `save()` keeps both up to date (`refresh_derived`).
    """

    file_number = models.CharField(
        _("档案号"),
        max_length=30,
        unique=True,
        editable=False,
        help_text=_("稳定的编号,导出和导入按此匹配。"),
    )
    street = models.ForeignKey(
        "stations.Street", verbose_name=_("街镇"), on_delete=models.PROTECT, related_name="+"
    )
    committee = models.ForeignKey(
        "stations.Committee",
        verbose_name=_("居委"),
        on_delete=models.PROTECT,
        related_name="recipients",
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
    id_number = EncryptedIdNumberField(_("身份证号"), blank=True)
    id_number_hash = IdNumberHashField(source="id_number", unique=True)
    id_tail = models.CharField(
        _("身份证号后4位"),
        max_length=4,
        blank=True,
        editable=False,
        help_text=_("遮盖后的号码本来就显示的后4位,用于检索。"),
    )
    birth_date = models.DateField(_("出生日期"), null=True, blank=True, editable=False)
    phone = PersonalPhoneField(_("联系电话"), blank=True)
    address = models.CharField(_("居住地址"), max_length=200, blank=True)
    household_size = models.PositiveSmallIntegerField(
        _("家庭人口"), default=1, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    categories = models.ManyToManyField(
        AssistanceCategory,
        verbose_name=_("救助类别"),
        through="RecipientCategory",
        related_name="recipients",
        blank=True,
    )
    key_groups = models.ManyToManyField(
        KeyGroup,
        verbose_name=_("重点人群"),
        through="RecipientKeyGroup",
        related_name="recipients",
        blank=True,
    )
    hardship_level = models.CharField(
        _("困难程度"), max_length=10, choices=HardshipLevel.choices, default=HardshipLevel.MEDIUM
    )
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("责任顾问"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recipients",
    )
    status = models.CharField(
        _("状态"),
        max_length=20,
        choices=RecipientStatus.choices,
        default=RecipientStatus.REGISTERED,
    )
    exited_on = models.DateField(_("退出日期"), null=True, blank=True)
    exit_reason = models.CharField(_("退出原因"), max_length=200, blank=True)
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("建档时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = RecipientQuerySet.as_manager()

    class Meta:
        verbose_name = _("困难人员")
        verbose_name_plural = _("困难人员")
        ordering = ["street__code", "file_number"]
        indexes = [
            models.Index(fields=["street", "status"], name="recipient_street_status"),
            models.Index(fields=["committee", "status"], name="recipient_committee_status"),
            models.Index(fields=["advisor"], name="recipient_advisor"),
            models.Index(fields=["id_tail"], name="recipient_id_tail"),
            models.Index(fields=["name"], name="recipient_name"),
        ]
        constraints = [
            models.CheckConstraint(
                name="recipient_exit_has_date",
                condition=Q(status=RecipientStatus.REGISTERED, exited_on__isnull=True)
                | Q(status=RecipientStatus.EXITED, exited_on__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.name}({self.file_number})"

    def save(self, *args, **kwargs):
        self.refresh_derived()
        if not self.file_number:
            self.file_number = next_file_number(self.street)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cases:recipient_detail", args=[self.pk])

    def refresh_derived(self):
        """Keep the street, the ID tail, the birth date and the initials in step."""
        if self.committee_id and not self.street_id:
            self.street_id = self.committee.street_id
        number = self.plain_id_number()
        self.id_tail = number[-4:] if number else ""
        self.birth_date = birth_date_of(number) if number else None
        self.name_initials = name_initials(self.name)

    def plain_id_number(self):
        """The normalized ID number for the services that derive from it ("" if none)."""
        return plain_id_number(self.id_number)

    def clean(self):
        errors = {}
        if self.committee_id and self.street_id and self.committee.street_id != self.street_id:
            errors["committee"] = _("居委不在该街镇内。")
        number = self.plain_id_number()
        if number and len(number) == 18 and self.gender:
            coded = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
            if coded != self.gender:
                errors["gender"] = _("性别与身份证号不符:身份证号显示为%(gender)s。") % {
                    "gender": coded.label
                }
        if self.status == RecipientStatus.EXITED:
            if not self.exited_on:
                errors["exited_on"] = _("退出时请填写退出日期。")
            if not self.exit_reason.strip():
                errors["exit_reason"] = _("退出时请填写退出原因。")
        elif self.exited_on or self.exit_reason:
            errors["status"] = _("在册人员不填写退出日期和原因。")
        if self.advisor_id and self.street_id and self.advisor.street_id != self.street_id:
            errors["advisor"] = _("责任顾问必须是本街镇的顾问。")
        if errors:
            raise ValidationError(errors)

    def is_current_on(self, day):
        """Whether a period covers `day` (uses prefetched `periods` when there)."""
        return any(period.covers(day) for period in self.periods.all())

    def age_on(self, day):
        """Full years of age on `day` (from the birth date in the ID number), or None."""
        born = self.birth_date
        if born is None:
            return None
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def age(self):
        """Full years of age today."""
        return self.age_on(timezone.localdate())

    @property
    def is_anonymised(self):
        return self.anonymised_at is not None


def next_file_number(street):
    """`DA` + the street's 9-digit code + a 6-digit sequence within the street."""
    return next_number(Recipient, "file_number", f"{FILE_NUMBER_PREFIX}{street.code}", 6)


def name_initials(name):
    """The pinyin initials of every reading of a name, as `changning_aid.pinyin` stores them
    for the advisor roster too; searched with `pinyin.initials_q("name_initials", text)`."""
    return pinyin.initials_text(name)


class RecipientLinkQuerySet(ScopedQuerySet):
    district_lookup = "recipient__street__district"
    street_lookup = "recipient__street"

    def for_advisor(self, user):
        return self.filter(recipient__in=Recipient.objects.for_advisor(user))


@audit.track()
class RecipientCategory(models.Model):
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("困难人员"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.ForeignKey(
        AssistanceCategory, verbose_name=_("救助类别"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RecipientLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("困难人员救助类别")
        verbose_name_plural = _("困难人员救助类别")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "category"], name="recipient_category_once"
            )
        ]

    def __str__(self):
        return f"{self.recipient_id} · {self.category_id}"


@audit.track()
class RecipientKeyGroup(models.Model):
    recipient = models.ForeignKey(
        Recipient, verbose_name=_("困难人员"), on_delete=models.CASCADE, related_name="+"
    )
    key_group = models.ForeignKey(
        KeyGroup, verbose_name=_("重点人群"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RecipientLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("困难人员重点人群")
        verbose_name_plural = _("困难人员重点人群")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key_group"], name="recipient_key_group_once"
            )
        ]

    def __str__(self):
        return f"{self.recipient_id} · {self.key_group_id}"


class CurrentPeriodQuerySet(RecipientLinkQuerySet):
    def covering(self, day):
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)

    def overlapping(self, first, last):
        """The periods with at least one day in [first, last]."""
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=first), starts_on__lte=last)


@audit.track()
class CurrentPeriod(models.Model):
    """A period (inclusive) in which the person is a current recipient (现有救助对象)."""

    recipient = models.ForeignKey(
        Recipient, verbose_name=_("困难人员"), on_delete=models.CASCADE, related_name="periods"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True, help_text=_("空白表示至今。"))
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects = CurrentPeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("现有救助对象期间")
        verbose_name_plural = _("现有救助对象期间")
        ordering = ["recipient", "starts_on", "pk"]
        indexes = [models.Index(fields=["recipient", "starts_on"], name="period_recipient_start")]
        constraints = [
            models.CheckConstraint(
                name="period_in_order",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
        ]

    def __str__(self):
        return f"{self.starts_on} – {self.ends_on or '至今'}"

    def covers(self, day):
        return self.starts_on <= day and (self.ends_on is None or self.ends_on >= day)

    def days_in(self, first, last):
        """How many days of [first, last] this period covers."""
        start = max(self.starts_on, first)
        end = min(self.ends_on or last, last)
        return max((end - start).days + 1, 0)

    def clean(self):
        if self.ends_on and self.starts_on and self.ends_on < self.starts_on:
            raise ValidationError({"ends_on": _("结束日期不能早于开始日期。")})


class AdvisorChargeQuerySet(RecipientLinkQuerySet):
    def on(self, day):
        """The charges in force on `day`."""
        return self.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=day), starts_on__lte=day)


@audit.track()
class AdvisorCharge(models.Model):
    """Who was the person's responsible advisor (责任顾问) from when to when (inclusive).

    `Recipient.advisor` is the advisor today; these rows keep the past, so that a month's
    missed visit belongs to the advisor responsible on the month's last day (DOMAIN.md C9).
    They are written only by `cases.charges.record_charges`, which every change of a
    person's advisor goes through; the open row (no end) always names `Recipient.advisor`.
    """

    recipient = models.ForeignKey(
        Recipient, verbose_name=_("困难人员"), on_delete=models.CASCADE, related_name="charges"
    )
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("责任顾问"),
        on_delete=models.PROTECT,
        related_name="charges",
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)

    objects = AdvisorChargeQuerySet.as_manager()

    class Meta:
        verbose_name = _("责任顾问期间")
        verbose_name_plural = _("责任顾问期间")
        ordering = ["recipient", "starts_on", "pk"]
        indexes = [models.Index(fields=["recipient", "starts_on"], name="charge_recipient_start")]
        constraints = [
            models.CheckConstraint(
                name="charge_in_order",
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
            ),
            models.UniqueConstraint(
                fields=["recipient"], condition=Q(ends_on__isnull=True), name="charge_one_open"
            ),
        ]

    def __str__(self):
        return f"{self.advisor_id} {self.starts_on} – {self.ends_on or '至今'}"


# Checklist 3: resources -----------------------------------------------------------------


class ResourceQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = "street"

    def shared_with_street(self, street_id):
        """District-wide resources are every street's of their district."""
        from stations.models import Street

        return Q(
            area_level=AreaLevel.DISTRICT,
            district__in=Street.objects.filter(pk=street_id).values("district"),
        )

    def for_advisor(self, user):
        served = served_stations(user)
        return self.filter(
            Q(street__in=served.values("street"))
            | Q(area_level=AreaLevel.DISTRICT, district__in=served.values("district"))
        )

    def valid_on(self, day):
        return self.filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_to__isnull=True) | Q(valid_to__gte=day),
        )


@audit.track()
class Resource(models.Model):
    """A resource of the 社会救助资源清单: a policy, a fund, a project, an organisation..."""

    resource_number = models.CharField(_("资源编号"), max_length=30, unique=True, editable=False)
    name = models.CharField(_("资源名称"), max_length=200)
    resource_type = models.CharField(_("资源类型"), max_length=20, choices=ResourceType.choices)
    provider = models.CharField(_("提供方"), max_length=200, blank=True)
    contact = models.CharField(
        _("联系方式"), max_length=100, blank=True, help_text=_("提供方的对外联系电话或联系人。")
    )
    offers = models.TextField(_("提供内容"), blank=True)
    eligibility = models.CharField(_("服务对象"), max_length=300, blank=True)
    area_level = models.CharField(_("覆盖范围"), max_length=20, choices=AreaLevel.choices)
    district = models.ForeignKey(
        "stations.District", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    committee = models.ForeignKey(
        "stations.Committee",
        verbose_name=_("居委"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    capacity = models.PositiveIntegerField(
        _("可服务容量"), null=True, blank=True, help_text=_("空白表示不限。")
    )
    valid_from = models.DateField(_("有效期起"), null=True, blank=True)
    valid_to = models.DateField(_("有效期止"), null=True, blank=True)
    legal_basis = models.CharField(
        _("政策依据(文件号)"), max_length=200, blank=True, help_text=_("政策类资源填写。")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ResourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("社会救助资源")
        verbose_name_plural = _("社会救助资源")
        ordering = ["resource_number"]
        constraints = [
            models.CheckConstraint(
                name="resource_area_matches",
                condition=Q(
                    area_level=AreaLevel.DISTRICT, street__isnull=True, committee__isnull=True
                )
                | Q(area_level=AreaLevel.STREET, street__isnull=False, committee__isnull=True)
                | Q(area_level=AreaLevel.COMMITTEE, street__isnull=False, committee__isnull=False),
            ),
            models.CheckConstraint(
                name="resource_valid_in_order",
                condition=Q(valid_from__isnull=True)
                | Q(valid_to__isnull=True)
                | Q(valid_to__gte=models.F("valid_from")),
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if self.committee_id and not self.street_id:
            self.street_id = self.committee.street_id
        if self.street_id and not self.district_id:
            self.district_id = self.street.district_id
        if not self.resource_number:
            self.resource_number = next_number(
                Resource, "resource_number", f"{RESOURCE_NUMBER_PREFIX}{self.area_code()}", 5
            )
        super().save(*args, **kwargs)

    def area_code(self):
        if self.street_id:
            return self.street.code
        return self.district.code

    def clean(self):
        errors = {}
        if self.area_level == AreaLevel.DISTRICT and (self.street_id or self.committee_id):
            errors["area_level"] = _("全区资源不填写街镇和居委。")
        if self.area_level == AreaLevel.STREET:
            if not self.street_id:
                errors["street"] = _("街镇资源须填写街镇。")
            if self.committee_id:
                errors["committee"] = _("街镇资源不填写居委。")
        if self.area_level == AreaLevel.COMMITTEE and not self.committee_id:
            errors["committee"] = _("居委资源须填写居委。")
        if self.committee_id and self.street_id and self.committee.street_id != self.street_id:
            errors["committee"] = _("居委不在该街镇内。")
        if self.street_id and self.district_id and self.street.district_id != self.district_id:
            errors["street"] = _("街镇不在该区内。")
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            errors["valid_to"] = _("有效期止不能早于有效期起。")
        if self.resource_type == ResourceType.POLICY and not self.legal_basis.strip():
            errors["legal_basis"] = _("政策类资源请填写政策依据(文件号)。")
        if errors:
            raise ValidationError(errors)


# Checklist 2: needs ---------------------------------------------------------------------


class NeedQuerySet(ScopedQuerySet):
    district_lookup = "recipient__street__district"
    street_lookup = "recipient__street"
    district_by_street_ids = True

    def for_advisor(self, user):
        return self.filter(recipient__in=Recipient.objects.for_advisor(user))

    def open(self):
        from cases.choices import OPEN_NEED_STATUSES

        return self.filter(status__in=OPEN_NEED_STATUSES)


@audit.track()
class Need(models.Model):
    """A need of the 困难人员需求清单, with its status and what met it."""

    need_number = models.CharField(_("需求编号"), max_length=30, unique=True, editable=False)
    recipient = models.ForeignKey(
        Recipient,
        verbose_name=_("困难人员"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
    )
    # A need raised by the visit of a lead (政策找人): `recipient` is empty until the lead
    # is enrolled (纳入); until then it is on the lead's page, not in the needs list.
    lead = models.ForeignKey(
        "cases.Lead",
        verbose_name=_("线索"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
    )
    category = models.CharField(_("需求类别"), max_length=20, choices=NeedCategory.choices)
    description = models.TextField(_("需求描述"))
    source = models.CharField(_("发现方式"), max_length=20, choices=NeedSource.choices)
    found_on = models.DateField(_("发现日期"))
    urgency = models.CharField(
        _("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    status = models.CharField(
        _("状态"), max_length=20, choices=NeedStatus.choices, default=NeedStatus.TO_ASSESS
    )
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    outcome = models.CharField(
        _("办结情况"), max_length=500, blank=True, help_text=_("无法解决时必须填写原因。")
    )
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("责任顾问"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="needs",
    )
    resources = models.ManyToManyField(
        Resource,
        verbose_name=_("对接资源"),
        through="NeedResource",
        related_name="needs",
        blank=True,
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = NeedQuerySet.as_manager()

    class Meta:
        verbose_name = _("困难人员需求")
        verbose_name_plural = _("困难人员需求")
        ordering = ["-found_on", "need_number"]
        indexes = [
            # The lists' order: a page of the newest needs reads the index, not every need.
            models.Index(fields=["-found_on", "need_number"], name="need_found_number"),
            models.Index(fields=["recipient", "status"], name="need_recipient_status"),
            models.Index(fields=["advisor", "status"], name="need_advisor_status"),
            # C10's "changed in the period" (cases.checklists): the period's rows through the
            # two indexes, where a month without a change read all 90,000 needs of the city.
            models.Index(fields=["created_at"], name="need_created"),
            models.Index(fields=["updated_at"], name="need_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                name="need_has_person",
                condition=Q(recipient__isnull=False) | Q(lead__isnull=False),
            ),
            models.CheckConstraint(
                name="need_closed_has_date",
                condition=Q(status__in=["resolved", "unresolvable"], closed_on__isnull=False)
                | (~Q(status__in=["resolved", "unresolvable"]) & Q(closed_on__isnull=True)),
            ),
        ]

    def __str__(self):
        return f"{self.need_number} {self.get_category_display()}"

    def save(self, *args, **kwargs):
        if not self.need_number:
            self.need_number = next_number(
                Need, "need_number", f"{NEED_NUMBER_PREFIX}{self._street().code}", 6
            )
        super().save(*args, **kwargs)

    def _street(self):
        return self.recipient.street if self.recipient_id else self.lead.street

    def clean(self):
        errors = {}
        closed = self.status in (NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE)
        if closed and not self.closed_on:
            errors["closed_on"] = _("办结时请填写办结日期。")
        if not closed and self.closed_on:
            errors["closed_on"] = _("未办结的需求不填写办结日期。")
        if self.status == NeedStatus.UNRESOLVABLE and not self.outcome.strip():
            errors["outcome"] = _("无法解决时请说明原因。")
        if self.closed_on and self.found_on and self.closed_on < self.found_on:
            errors["closed_on"] = _("办结日期不能早于发现日期。")
        if self.found_on and self.found_on > timezone.localdate():
            errors["found_on"] = _("发现日期不能晚于今天。")
        if (
            self.advisor_id
            and self.recipient_id
            and self.advisor.street_id != self.recipient.street_id
        ):
            errors["advisor"] = _("责任顾问必须是本街镇的顾问。")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self):
        return self.status not in (NeedStatus.RESOLVED, NeedStatus.UNRESOLVABLE)


class NeedLinkQuerySet(ScopedQuerySet):
    district_lookup = "need__recipient__street__district"
    street_lookup = "need__recipient__street"

    def for_advisor(self, user):
        return self.filter(need__in=Need.objects.for_advisor(user))


@audit.track()
class NeedResource(models.Model):
    """A resource linked to a need (资源对接)."""

    need = models.ForeignKey(
        Need, verbose_name=_("需求"), on_delete=models.CASCADE, related_name="resource_links"
    )
    resource = models.ForeignKey(
        Resource, verbose_name=_("资源"), on_delete=models.PROTECT, related_name="need_links"
    )
    linked_on = models.DateField(_("对接日期"), default=datetime.date.today)

    objects = NeedLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("需求对接资源")
        verbose_name_plural = _("需求对接资源")
        constraints = [
            models.UniqueConstraint(fields=["need", "resource"], name="need_resource_once")
        ]

    def __str__(self):
        return f"{self.need_id} · {self.resource_id}"


# Checklist 4: services ------------------------------------------------------------------


class ServiceRecordQuerySet(ScopedQuerySet):
    district_lookup = "station__district"
    street_lookup = "station__street"

    def for_advisor(self, user):
        """Services at the stations the advisor serves, and services to the people they see.

        A UNION of the two sets of ids rather than an OR: each side takes its own index
        (station and date, person and date), where the OR scanned every service (a million
        rows in Shanghai)."""
        everything = ServiceRecord.objects.order_by()
        stations = list(served_stations(user).values_list("pk", flat=True))
        at_stations = everything.filter(station__in=stations).values("pk")
        to_people = everything.filter(recipient__in=Recipient.objects.for_advisor(user))
        return self.filter(pk__in=at_stations.union(to_people.values("pk")))


@audit.track()
class ServiceRecord(models.Model):
    """A service an advisor delivered (社区救助顾问服务清单), to a person or to a group."""

    record_number = models.CharField(_("服务编号"), max_length=30, unique=True, editable=False)
    date = models.DateField(_("服务日期"))
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("服务顾问"),
        on_delete=models.PROTECT,
        related_name="services",
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("服务站点"),
        on_delete=models.PROTECT,
        related_name="services",
    )
    recipient = models.ForeignKey(
        Recipient,
        verbose_name=_("服务对象"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        help_text=_("集体活动不填写,填写参加人数。"),
    )
    head_count = models.PositiveIntegerField(
        _("参加人数"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    item = models.CharField(_("服务事项"), max_length=30, choices=ServiceItem.choices)
    task = models.CharField(_("服务任务"), max_length=30, choices=ServiceTask.choices)
    content = models.TextField(_("服务内容"))
    outcome = models.CharField(_("服务结果"), max_length=500, blank=True)
    need = models.ForeignKey(
        Need,
        verbose_name=_("相关需求"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=_("相关资源"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
    )
    step = models.PositiveSmallIntegerField(
        _("服务流程环节"), choices=ServiceStep.choices, default=ServiceStep.DISCOVER
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("录入时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = ServiceRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务记录")
        verbose_name_plural = _("服务记录")
        ordering = ["-date", "-record_number"]
        indexes = [
            # The lists' order: a page of the newest services reads the index (a district's
            # list 123 ms -> 54 ms on 60,000 services), not every service then a sort.
            models.Index(fields=["-date", "-record_number"], name="service_date_number"),
            models.Index(fields=["station", "date"], name="service_station_date"),
            models.Index(fields=["recipient", "date"], name="service_recipient_date"),
            models.Index(fields=["advisor", "date"], name="service_advisor_date"),
            # C10's "changed in the period": the period's rows through the two indexes (a
            # district's C10 for a month without changes: 238 ms reading every service of
            # the city, 2 ms with them).
            models.Index(fields=["created_at"], name="service_created"),
            models.Index(fields=["updated_at"], name="service_updated"),
        ]
        constraints = [
            models.CheckConstraint(
                name="service_person_or_group",
                condition=Q(recipient__isnull=False, head_count__isnull=True)
                | Q(recipient__isnull=True, head_count__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.record_number} {self.get_item_display()}"

    def save(self, *args, **kwargs):
        if not self.record_number:
            self.record_number = next_number(
                ServiceRecord,
                "record_number",
                f"{SERVICE_NUMBER_PREFIX}{self.area_code()}",
                7,
            )
        super().save(*args, **kwargs)

    def area_code(self):
        station = self.station
        return station.street.code if station.street_id else station.district.code

    def clean(self):
        from cases.choices import COMMITTEE_POINT_TASKS, STREET_STATION_TASKS
        from stations.choices import StationKind

        errors = {}
        if self.recipient_id is None and not self.head_count:
            errors["head_count"] = _("集体活动请填写参加人数;个人服务请选择服务对象。")
        if self.recipient_id and self.head_count:
            errors["head_count"] = _("个人服务不填写参加人数。")
        if self.date and self.date > timezone.localdate():
            errors["date"] = _("服务日期不能晚于今天。")
        if self.station_id:
            station = self.station
            if (
                self.advisor_id
                and station.street_id
                and self.advisor.street_id != station.street_id
            ):
                errors["advisor"] = _("服务顾问必须是该站点所在街镇的顾问。")
            if (
                self.recipient_id
                and station.street_id
                and self.recipient.street_id != station.street_id
            ):
                errors["recipient"] = _("服务对象不在该站点所在的街镇。")
            allowed = {
                StationKind.STREET: STREET_STATION_TASKS,
                StationKind.COMMITTEE: COMMITTEE_POINT_TASKS,
            }.get(station.kind)
            if allowed is not None and self.task and self.task not in allowed:
                errors["task"] = _("“%(task)s”不是%(kind)s的服务任务。") % {
                    "task": ServiceTask(self.task).label,
                    "kind": station.get_kind_display(),
                }
        if self.need_id and self.recipient_id and self.need.recipient_id != self.recipient_id:
            errors["need"] = _("相关需求不属于该服务对象。")
        if errors:
            raise ValidationError(errors)


# Service evaluation ------------------------------------------------------------------------


class EvaluationQuerySet(ScopedQuerySet):
    district_lookup = "station__district"
    street_lookup = "station__street"
    station_lookup = "station"


@audit.track()
class Evaluation(models.Model):
    """A 服务评议: a rating of a service (entered by staff) or of a station (public page).

    The public page stores nothing personal beyond the optional comment.
    """

    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("服务站点"),
        on_delete=models.PROTECT,
        related_name="evaluations",
    )
    service = models.ForeignKey(
        ServiceRecord,
        verbose_name=_("服务记录"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evaluations",
    )
    rating = models.CharField(_("评价"), max_length=20, choices=Rating.choices)
    comment = models.CharField(_("意见建议"), max_length=500, blank=True)
    source = models.CharField(_("来源"), max_length=10, choices=EvaluationSource.choices)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("评议时间"), auto_now_add=True)

    objects = EvaluationQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务评议")
        verbose_name_plural = _("服务评议")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["station", "created_at"], name="evaluation_station_time")]

    def __str__(self):
        return self.get_rating_display()

    def clean(self):
        if self.service_id and self.station_id and self.service.station_id != self.station_id:
            raise ValidationError({"service": _("服务记录不属于该站点。")})


# Checklist reviews (C10) ----------------------------------------------------------------------


class ChecklistReviewQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"


@audit.track()
class ChecklistReview(models.Model):
    """A street manager's 复核 of one of the four lists that had no change."""

    street = models.ForeignKey(
        "stations.Street", verbose_name=_("街镇"), on_delete=models.PROTECT, related_name="+"
    )
    checklist = models.CharField(_("清单"), max_length=20, choices=Checklist.choices)
    reviewed_on = models.DateField(_("复核日期"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("复核人"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("复核说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = ChecklistReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("清单复核")
        verbose_name_plural = _("清单复核")
        ordering = ["-reviewed_on", "-pk"]
        indexes = [
            models.Index(fields=["street", "checklist", "reviewed_on"], name="review_street_list")
        ]

    def __str__(self):
        return f"{self.get_checklist_display()} {self.reviewed_on}"


# 政策找人 (leads) live in their own module; imported here so that Django finds them.
from cases.lead_models import Lead, LeadFact, LeadSource, LeadUpload  # noqa: E402, F401
