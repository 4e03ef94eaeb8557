"""政策找人: the lists other departments send, and the leads (线索) they give.

- `LeadSource`: a department's list (区残联 残疾人证, 医保 高额医疗费用 …) of a district, with
  the column mapping remembered from the first upload (`mapping`: our field → the list's
  header; `fact_columns`: the headers kept as the source's own facts).
- `LeadUpload`: one list received from a source on a date: who uploaded it, the counts of
  its report and the report's rows (row number, outcome, masked reference, reason). The
  file's bytes are kept only between the upload and the mapping (`content`), and cleared
  when the list is processed.
- `Lead`: a person the lists name who is not on the register: one lead per person (ID
  number), whatever the number of sources, placed in a committee (or waiting for bureau
  staff to place it), in the charge of an advisor, on its path 待核实 → 已走访 → 纳入 / 不符合
  / 无法联系. Its visits are ordinary `visits.Visit` rows with `lead` set; on 纳入 they and
  the needs they raised move to the new `Recipient`.
- `LeadFact`: what one source said about one person (a lead, or a person already on the
  register: then it is on their file, and `changes_situation` flags it for their advisor:
  情况变化). `fact_key` makes a fact arrive once, so a list uploaded twice adds nothing.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

import audit
from cases.choices import OPEN_LEAD_STATUSES, LeadStatus
from changning_aid import pinyin
from changning_aid.numbering import next_number
from changning_aid.scoping import ScopedQuerySet
from changning_aid.sensitive.fields import (
    EncryptedIdNumberField,
    IdNumberHashField,
    PersonalPhoneField,
    plain_id_number,
)

LEAD_NUMBER_PREFIX = "XS"
UPLOAD_NUMBER_PREFIX = "MD"

# The default template of a list (and of `manage.py import_leads` without a saved mapping).
DEFAULT_MAPPING = {
    "name": "姓名",
    "id_number": "身份证号",
    "committee_code": "居委代码",
    "address": "地址",
}
DEFAULT_FACT_COLUMNS = ["情况说明"]


class LeadSourceQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = None


@audit.track(district="district", street=None)
class LeadSource(models.Model):
    """A department whose lists the bureau compares with the register."""

    district = models.ForeignKey(
        "stations.District", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(
        _("来源名称"), max_length=60, help_text=_("例如:区残联·残疾人证、区医保局·高额医疗费用。")
    )
    department = models.CharField(_("提供部门"), max_length=60, blank=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    mapping = models.JSONField(
        _("列对应"),
        default=dict,
        blank=True,
        help_text=_("本系统字段 → 名单的列标题;首次上传时设定,此后沿用。"),
    )
    fact_columns = models.JSONField(
        _("情况列"), default=list, blank=True, help_text=_("作为该来源情况记录保存的列标题。")
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = LeadSourceQuerySet.as_manager()

    class Meta:
        verbose_name = _("线索来源")
        verbose_name_plural = _("线索来源")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="lead_source_once"),
        ]

    def __str__(self):
        return self.name

    @property
    def has_mapping(self):
        return bool((self.mapping or {}).get("id_number"))


class LeadUploadQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = None


@audit.track(district="district", street=None, exclude=["content", "report"])
class LeadUpload(models.Model):
    """One list received from a source, and what became of its rows."""

    class State(models.TextChoices):
        MAPPING = "mapping", _("待设定列对应")
        PROCESSED = "processed", _("已处理")
        DISCARDED = "discarded", _("已放弃")

    number = models.CharField(_("批次号"), max_length=30, unique=True, editable=False)
    district = models.ForeignKey(
        "stations.District", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+"
    )
    source = models.ForeignKey(
        LeadSource, verbose_name=_("来源"), on_delete=models.PROTECT, related_name="uploads"
    )
    received_on = models.DateField(_("名单日期"), help_text=_("来源部门提供名单的日期。"))
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=20, choices=State.choices)
    content = models.BinaryField(_("文件内容"), null=True, blank=True, editable=False)
    headers = models.JSONField(_("列标题"), default=list, blank=True, editable=False)
    file_format = models.CharField(_("文件格式"), max_length=10, default="xlsx", editable=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    processed_at = models.DateTimeField(_("处理时间"), null=True, blank=True, editable=False)
    rows_total = models.PositiveIntegerField(_("行数"), default=0)
    rows_matched = models.PositiveIntegerField(_("已在册"), default=0)
    rows_new = models.PositiveIntegerField(_("新线索"), default=0)
    rows_merged = models.PositiveIntegerField(_("并入已有线索"), default=0)
    rows_duplicate = models.PositiveIntegerField(_("重复"), default=0)
    rows_invalid = models.PositiveIntegerField(_("无效"), default=0)
    rows_unplaceable = models.PositiveIntegerField(_("无法定位"), default=0)
    # [[excel_row, outcome, reference, reason], ...]: no full ID number, no name.
    report = models.JSONField(_("处理报告"), default=list, blank=True, editable=False)

    objects = LeadUploadQuerySet.as_manager()

    class Meta:
        verbose_name = _("线索名单")
        verbose_name_plural = _("线索名单")
        ordering = ["-uploaded_at", "-pk"]
        indexes = [models.Index(fields=["source", "received_on"], name="lead_upload_source_day")]

    def __str__(self):
        return f"{self.number} {self.source}"

    def save(self, *args, **kwargs):
        # A format given as a marker header ("\x00csv") is taken out of the headers: JSON in
        # PostgreSQL cannot hold a NUL character.
        markers = [h for h in self.headers or () if str(h).startswith("\x00")]
        if markers:
            self.file_format = markers[-1][1:] or self.file_format
            self.headers = [h for h in self.headers if not str(h).startswith("\x00")]
        if not self.number:
            self.number = next_number(
                LeadUpload, "number", f"{UPLOAD_NUMBER_PREFIX}{self.district.code}", 5
            )
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cases:lead_upload_detail", args=[self.pk])


class LeadQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = "street"

    def for_advisor(self, user):
        """An advisor sees the leads of the committees (or streets) they serve, and theirs."""
        from cases.models import served_area_q

        return self.filter(served_area_q(user))

    def open(self):
        return self.filter(status__in=OPEN_LEAD_STATUSES)

    def unplaced(self):
        return self.filter(committee__isnull=True)


@audit.track(masked=["id_number", "id_number_hash", "phone", "address", "id_tail"])
class Lead(models.Model):
    """A person other departments' lists suggest may need help, not on the register."""

    lead_number = models.CharField(_("线索编号"), max_length=30, unique=True, editable=False)
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
        related_name="leads",
        help_text=_("空白表示尚未定位,待区民政局分派。"),
    )
    advisor = models.ForeignKey(
        "advisors.Advisor",
        verbose_name=_("核实顾问"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="leads",
    )
    name = models.CharField(_("姓名"), max_length=50)
    name_initials = models.CharField(
        _("姓名拼音首字母"), max_length=pinyin.MAX_LENGTH, blank=True, editable=False
    )
    id_number = EncryptedIdNumberField(_("身份证号"), blank=True)
    id_number_hash = IdNumberHashField(source="id_number", unique=True)
    id_tail = models.CharField(_("身份证号后4位"), max_length=4, blank=True, editable=False)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = PersonalPhoneField(_("联系电话"), blank=True)
    status = models.CharField(
        _("状态"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.PENDING
    )
    source_count = models.PositiveSmallIntegerField(
        _("来源数"), default=1, help_text=_("名单提到此人的来源个数;越多越优先。")
    )
    first_upload = models.ForeignKey(
        LeadUpload,
        verbose_name=_("首次出现的名单"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    found_on = models.DateField(_("发现日期"), help_text=_("首次出现在名单中的处理日期。"))
    placed_on = models.DateField(_("定位日期"), null=True, blank=True)
    first_visited_on = models.DateField(_("首次走访日期"), null=True, blank=True, editable=False)
    closed_on = models.DateField(_("办结日期"), null=True, blank=True)
    close_reason = models.CharField(_("办结说明"), max_length=300, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办结人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    recipient = models.OneToOneField(
        "cases.Recipient",
        verbose_name=_("纳入后的档案"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lead",
    )
    anonymised_at = models.DateTimeField(_("匿名化时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("政策找人线索")
        verbose_name_plural = _("政策找人线索")
        ordering = ["-source_count", "found_on", "pk"]
        indexes = [
            models.Index(fields=["street", "status"], name="lead_street_status"),
            models.Index(fields=["committee", "status"], name="lead_committee_status"),
            models.Index(fields=["advisor", "status"], name="lead_advisor_status"),
            models.Index(fields=["district", "status"], name="lead_district_status"),
            # The bureau's list in its order: the first page of a district's 90,000 open
            # leads read from the index (164 ms -> 64 ms), not sorted after the joins.
            models.Index(
                fields=["district", "-source_count", "found_on", "id"], name="lead_district_order"
            ),
            models.Index(fields=["id_tail"], name="lead_id_tail"),
        ]
        constraints = [
            models.CheckConstraint(
                name="lead_placed_in_street",
                condition=Q(committee__isnull=True) | Q(street__isnull=False),
            ),
            models.CheckConstraint(
                name="lead_closed_has_date",
                condition=Q(status__in=OPEN_LEAD_STATUSES, closed_on__isnull=True)
                | (~Q(status__in=OPEN_LEAD_STATUSES) & Q(closed_on__isnull=False)),
            ),
            models.CheckConstraint(
                name="lead_enrolled_has_recipient",
                condition=~Q(status=LeadStatus.ENROLLED) | Q(recipient__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.lead_number} {self.name}"

    def save(self, *args, **kwargs):
        self.refresh_derived()
        if self.committee_id and not self.street_id:
            self.street_id = self.committee.street_id
        if not self.lead_number:
            self.lead_number = next_lead_number(self.district)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("cases:lead_detail", args=[self.pk])

    def refresh_derived(self):
        number = self.plain_id_number()
        self.id_tail = number[-4:] if number else ""
        self.name_initials = pinyin.initials_text(self.name) if self.name else ""

    def plain_id_number(self):
        return plain_id_number(self.id_number)

    @property
    def is_open(self):
        return self.status in OPEN_LEAD_STATUSES

    @property
    def is_anonymised(self):
        return self.anonymised_at is not None

    def days_open(self, today):
        return (today - self.found_on).days


def next_lead_number(district):
    """`XS` + the district's code + a 7-digit sequence within the district."""
    return next_number(Lead, "lead_number", f"{LEAD_NUMBER_PREFIX}{district.code}", 7)


class LeadFactQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = "street"

    def for_advisor(self, user):
        from cases.models import Recipient

        return self.filter(
            Q(lead__in=Lead.objects.for_advisor(user))
            | Q(recipient__in=Recipient.objects.for_advisor(user))
        )

    def flagged(self):
        """情况变化 not yet seen by the advisor."""
        return self.filter(changes_situation=True, acknowledged_at__isnull=True)


@audit.track(masked=["facts"])
class LeadFact(models.Model):
    """What one source said about one person, on a lead or on a registered person's file."""

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
    lead = models.ForeignKey(
        Lead,
        verbose_name=_("线索"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="facts",
    )
    recipient = models.ForeignKey(
        "cases.Recipient",
        verbose_name=_("困难人员"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="source_facts",
    )
    source = models.ForeignKey(
        LeadSource, verbose_name=_("来源"), on_delete=models.PROTECT, related_name="facts"
    )
    upload = models.ForeignKey(
        LeadUpload, verbose_name=_("名单"), on_delete=models.PROTECT, related_name="facts"
    )
    received_on = models.DateField(_("名单日期"))
    facts = models.JSONField(_("情况"), default=dict, blank=True)
    fact_key = models.CharField(_("情况摘要"), max_length=64, unique=True, editable=False)
    changes_situation = models.BooleanField(
        _("情况变化"),
        default=False,
        help_text=_("在册人员出现新来源或情况有变,提示责任顾问核实。"),
    )
    acknowledged_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    objects = LeadFactQuerySet.as_manager()

    class Meta:
        verbose_name = _("来源情况")
        verbose_name_plural = _("来源情况")
        ordering = ["-received_on", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "source"], name="fact_recipient_source"),
            models.Index(fields=["lead", "source"], name="fact_lead_source"),
            models.Index(
                fields=["street", "changes_situation"],
                condition=Q(changes_situation=True, acknowledged_at__isnull=True),
                name="fact_flagged",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="fact_has_person",
                condition=Q(lead__isnull=False) | Q(recipient__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.source} {self.received_on}"

    def facts_text(self):
        return ";".join(f"{key}:{value}" for key, value in (self.facts or {}).items() if value)
