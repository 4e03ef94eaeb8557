"""The network: districts, streets/towns, committees and the stations that serve them."""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

import audit
from changning_aid.scoping import ScopedQuerySet, advisor_station_ids
from stations import naming
from stations.choices import CommitteeKind, StationKind, StationStatus, StreetKind
from stations.validators import validate_credit_code

district_code_validator = RegexValidator(r"^\d{6}$", _("区代码应为6位数字。"))
street_code_validator = RegexValidator(r"^\d{9}$", _("街镇代码应为9位数字。"))
committee_code_validator = RegexValidator(r"^\d{12}$", _("居村委代码应为12位数字。"))


class DistrictQuerySet(ScopedQuerySet):
    district_lookup = "pk"
    street_lookup = "streets"
    system_admin_sees_all = True

    def for_street(self, street_id):
        return self.filter(streets=street_id)

    def for_advisor(self, user):
        from stations.models import Station

        return self.filter(pk__in=Station.objects.filter(advisor_users=user).values("district_id"))


@audit.track(street=None)
class District(models.Model):
    """A district (区), e.g. 长宁区 (310105): the bureau's area of responsibility."""

    code = models.CharField(
        _("区划代码"), max_length=6, unique=True, validators=[district_code_validator]
    )
    name = models.CharField(_("名称"), max_length=50)

    objects = DistrictQuerySet.as_manager()

    class Meta:
        verbose_name = _("区")
        verbose_name_plural = _("区")
        ordering = ["code"]

    def __str__(self):
        return self.name


class StreetQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = "pk"
    system_admin_sees_all = True

    def for_advisor(self, user):
        from stations.models import Station

        return self.filter(pk__in=Station.objects.filter(advisor_users=user).values("street_id"))


@audit.track()
class Street(models.Model):
    """A street or town (街道 / 镇 / 乡, or 其他 for 开发区, 工业区, 农场) of a district."""

    district = models.ForeignKey(
        District, verbose_name=_("区"), on_delete=models.PROTECT, related_name="streets"
    )
    code = models.CharField(
        _("区划代码"), max_length=9, unique=True, validators=[street_code_validator]
    )
    name = models.CharField(_("名称"), max_length=50)
    kind = models.CharField(_("类型"), max_length=20, choices=StreetKind.choices)

    objects = StreetQuerySet.as_manager()

    class Meta:
        verbose_name = _("街镇")
        verbose_name_plural = _("街镇")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("stations:street_detail", args=[self.code])

    def clean(self):
        if self.code and self.district_id and not self.code.startswith(self.district.code):
            raise ValidationError({"code": _("街镇代码必须以所属区的代码开头。")})


class CommitteeQuerySet(ScopedQuerySet):
    district_lookup = "street__district"
    street_lookup = "street"
    system_admin_sees_all = True

    def for_advisor(self, user):
        from stations.models import Station

        return self.filter(pk__in=Station.objects.filter(advisor_users=user).values("committee_id"))


@audit.track()
class Committee(models.Model):
    """A residents' or village committee (居委会 / 村委会), or a 虚拟社区 and the like."""

    street = models.ForeignKey(
        Street, verbose_name=_("街镇"), on_delete=models.PROTECT, related_name="committees"
    )
    code = models.CharField(
        _("区划代码"), max_length=12, unique=True, validators=[committee_code_validator]
    )
    name = models.CharField(_("名称"), max_length=80)
    kind = models.CharField(_("类型"), max_length=20, choices=CommitteeKind.choices)

    objects = CommitteeQuerySet.as_manager()

    class Meta:
        verbose_name = _("居村委")
        verbose_name_plural = _("居村委")
        ordering = ["code"]

    def __str__(self):
        return self.name

    def clean(self):
        if self.code and self.street_id and not self.code.startswith(self.street.code):
            raise ValidationError({"code": _("居村委代码必须以所属街镇的代码开头。")})


class StationQuerySet(ScopedQuerySet):
    district_lookup = "district"
    street_lookup = "street"
    system_admin_sees_all = True

    def for_advisor(self, user):
        return self.filter(pk__in=advisor_station_ids(user))

    def active(self):
        return self.filter(status=StationStatus.RUNNING)


@audit.track()
class Station(models.Model):
    """A 社区救助顾问服务站点: where advisors serve.

    One 区指导站 per district, one 街镇服务站 per street/town (in its 社区事务受理服务中心),
    one 居委服务点 per committee, and 专业(社会组织)服务点 run by social organisations.
    The name is the standard one (N1), generated from the divisions; what the plaque
    on the wall says is `signboard_name`.
    """

    kind = models.CharField(_("站点类型"), max_length=20, choices=StationKind.choices)
    district = models.ForeignKey(
        District, verbose_name=_("区"), on_delete=models.PROTECT, related_name="stations"
    )
    street = models.ForeignKey(
        Street,
        verbose_name=_("街镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stations",
    )
    committee = models.ForeignKey(
        Committee,
        verbose_name=_("居村委"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="stations",
    )
    name = models.CharField(_("标准名称"), max_length=200, editable=False)
    status = models.CharField(
        _("状态"), max_length=20, choices=StationStatus.choices, default=StationStatus.PLANNING
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=50, blank=True)
    opening_hours = models.CharField(_("服务时间"), max_length=100, blank=True)
    signboard_name = models.CharField(_("标牌名称"), max_length=200, blank=True)
    has_unified_logo = models.BooleanField(_("使用全市统一标识"), default=False)

    # Facilities of a street station (C4).
    workspace_m2 = models.DecimalField(
        _("工作面积(m²)"),
        max_digits=7,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    desk_sets = models.PositiveSmallIntegerField(_("桌椅(套)"), null=True, blank=True)
    computers = models.PositiveSmallIntegerField(_("电脑(台)"), null=True, blank=True)
    has_internet = models.BooleanField(_("互联网办公"), default=False)
    has_consultation_zone = models.BooleanField(_("设咨询区"), default=False)
    has_service_zone = models.BooleanField(_("设服务区"), default=False)

    # A professional point's social organisation.
    organisation_name = models.CharField(_("社会组织名称"), max_length=100, blank=True)
    organisation_credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, blank=True, validators=[validate_credit_code]
    )

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = StationQuerySet.as_manager()

    class Meta:
        verbose_name = _("服务站点")
        verbose_name_plural = _("服务站点")
        ordering = ["district__code", "kind", "street__code", "committee__code", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["district"],
                condition=Q(kind=StationKind.GUIDANCE),
                name="one_guidance_station_per_district",
            ),
            models.UniqueConstraint(
                fields=["street"],
                condition=Q(kind=StationKind.STREET),
                name="one_street_station_per_street",
            ),
            models.UniqueConstraint(
                fields=["committee"],
                condition=Q(kind=StationKind.COMMITTEE),
                name="one_committee_point_per_committee",
            ),
            models.CheckConstraint(
                name="station_divisions_match_kind",
                condition=(
                    Q(kind=StationKind.GUIDANCE, street__isnull=True, committee__isnull=True)
                    | Q(kind=StationKind.STREET, street__isnull=False, committee__isnull=True)
                    | Q(kind=StationKind.COMMITTEE, street__isnull=False, committee__isnull=False)
                    | Q(kind=StationKind.PROFESSIONAL, street__isnull=False, committee__isnull=True)
                ),
            ),
            models.CheckConstraint(
                name="professional_station_has_organisation",
                condition=~Q(kind=StationKind.PROFESSIONAL) | ~Q(organisation_name=""),
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.name = self.compute_standard_name()
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "name"}
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("stations:station_detail", args=[self.pk])

    def clean(self):
        errors = {}
        if self.street_id and self.district_id and self.street.district_id != self.district_id:
            errors["street"] = _("街镇不在该区内。")
        if self.committee_id and self.street_id and self.committee.street_id != self.street_id:
            errors["committee"] = _("居村委不在该街镇内。")
        if self.kind == StationKind.PROFESSIONAL:
            if not self.organisation_name.strip():
                errors["organisation_name"] = _("专业服务点必须填写社会组织名称。")
            if not self.organisation_credit_code:
                errors["organisation_credit_code"] = _("专业服务点必须填写统一社会信用代码。")
        if errors:
            raise ValidationError(errors)

    def compute_standard_name(self):
        """The N1 name, from the current names of the divisions."""
        return naming.standard_name(
            kind=self.kind,
            district_name=self.district.name,
            street_name=self.street.name if self.street_id else "",
            committee_name=self.committee.name if self.committee_id else "",
            organisation_name=self.organisation_name,
        )

    @property
    def is_active(self):
        return self.status == StationStatus.RUNNING

    @property
    def has_standard_signboard(self):
        """C3: the plaque says the standard name and carries the unified logo."""
        return self.signboard_name.strip() == self.name and self.has_unified_logo


class DivisionImportQuerySet(ScopedQuerySet):
    """Division files are the system administrator's business only."""

    system_admin_sees_all = True


# The uploaded file itself is not copied into the trail: only that it was uploaded.
@audit.track(exclude=["content"])
class DivisionImport(models.Model):
    """A division file uploaded in the browser, kept between its preview and its confirmation.

    The file waits in the database, not on one server's disk or in a session, so that any
    app server can confirm what another previewed. Confirming writes exactly what the
    preview counted; a file whose divisions changed in between is previewed again.
    """

    uploaded_by = models.ForeignKey(
        "accounts.User",
        verbose_name=_("上传人"),
        on_delete=models.PROTECT,
        related_name="division_imports",
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    content = models.BinaryField(_("文件内容"))
    preview = models.JSONField(_("预览结果"), default=dict, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    result = models.JSONField(_("导入结果"), default=dict, blank=True)

    objects = DivisionImportQuerySet.as_manager()

    class Meta:
        verbose_name = _("区划导入")
        verbose_name_plural = _("区划导入")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return self.file_name
