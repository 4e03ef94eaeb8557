from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

import audit
from accounts.choices import Role
from changning_aid.scoping import ScopedQuerySet


class UserQuerySet(ScopedQuerySet):
    """Logins are seen by the system administrator, and within their area by bureau staff
    (the district's street managers and advisors) and street managers (their street's);
    an advisor sees only their own login."""

    system_admin_sees_all = True

    def for_district(self, district_id):
        return self.filter(
            Q(district=district_id)
            | Q(
                pk__in=self.model.stations.through.objects.filter(
                    station__district=district_id
                ).values("user_id")
            )
        )

    def for_street(self, street_id):
        return self.filter(
            Q(street=street_id)
            | Q(
                pk__in=self.model.stations.through.objects.filter(station__street=street_id).values(
                    "user_id"
                )
            )
        )

    def for_advisor(self, user):
        return self.filter(pk=user.pk)


class ScopedUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


# The password hash never reaches the trail; that it changed does.
@audit.track(district="district", street="street", secret=["password"])
class User(AbstractUser):
    """A login of changning_aid, with the role and the part of the network it is scoped to.

    Bureau staff belong to one district, a street manager to one street/town, an advisor
    to the stations they serve. Scoping of every row follows from these fields
    (`changning_aid.scoping`).
    """

    role = models.CharField(_("角色"), max_length=20, choices=Role.choices)
    district = models.ForeignKey(
        "stations.District",
        verbose_name=_("所属区"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    street = models.ForeignKey(
        "stations.Street",
        verbose_name=_("所属街镇"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
    )
    stations = models.ManyToManyField(
        "stations.Station",
        verbose_name=_("服务站点"),
        blank=True,
        related_name="advisor_users",
    )
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    must_change_password = models.BooleanField(
        _("下次登录须修改密码"),
        default=True,
        help_text=_("新建或重置密码的账号在首次登录时必须先修改密码。"),
    )
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True)
    last_login_ip = models.GenericIPAddressField(_("最近登录地址"), null=True, blank=True)
    previous_login_at = models.DateTimeField(_("上次登录时间"), null=True, blank=True)
    previous_login_ip = models.GenericIPAddressField(_("上次登录地址"), null=True, blank=True)
    created_by = models.ForeignKey(
        "self",
        verbose_name=_("创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="created_users",
    )
    deactivated_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    objects = ScopedUserManager()

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                name="user_bureau_has_district",
                condition=~Q(role=Role.BUREAU) | Q(district__isnull=False),
            ),
            models.CheckConstraint(
                name="user_street_manager_has_street",
                condition=~Q(role=Role.STREET_MANAGER) | Q(street__isnull=False),
            ),
        ]

    def __str__(self):
        return self.full_name or self.username

    def clean(self):
        super().clean()
        if self.role == Role.BUREAU and not self.district_id:
            raise ValidationError({"district": _("区民政局账号必须指定所属区。")})
        if self.role == Role.STREET_MANAGER and not self.street_id:
            raise ValidationError({"street": _("街镇管理员账号必须指定所属街镇。")})
        if self.street_id and self.district_id and self.street.district_id != self.district_id:
            raise ValidationError({"street": _("所属街镇不在所属区内。")})

    def save(self, *args, **kwargs):
        # A street manager's district follows from the street; keep it consistent.
        if self.street_id and not self.district_id:
            self.district_id = self.street.district_id
        super().save(*args, **kwargs)

    @property
    def is_system_admin(self):
        return self.role == Role.SYSTEM_ADMIN or (self.is_superuser and not self.role)

    @property
    def is_bureau(self):
        return self.role == Role.BUREAU

    @property
    def is_street_manager(self):
        return self.role == Role.STREET_MANAGER

    @property
    def is_advisor(self):
        return self.role == Role.ADVISOR


@audit.track(district="station__district", street="station__street")
class UserStation(User.stations.through):
    """An advisor login's assignment to a station it serves (the `User.stations` table).

    Which stations an advisor serves decides what the login sees, so every assignment and
    removal is recorded in the audit trail; the proxy is how the trail's triggers reach
    Django's auto-created table.
    """

    class Meta:
        proxy = True
        verbose_name = _("顾问账号的服务站点")
        verbose_name_plural = _("顾问账号的服务站点")


# Django's permission groups and per-user permissions are not how access works here (roles
# are), but their tables exist and a row in them would be a grant: record any change too.
@audit.track(district=None, street=None)
class UserGroup(User.groups.through):
    """A login's membership of a Django permission group (unused: access follows the role)."""

    class Meta:
        proxy = True
        verbose_name = _("账号的权限组")
        verbose_name_plural = _("账号的权限组")


@audit.track(district=None, street=None)
class UserPermission(User.user_permissions.through):
    """A Django permission granted to a login directly (unused: access follows the role)."""

    class Meta:
        proxy = True
        verbose_name = _("账号的单项权限")
        verbose_name_plural = _("账号的单项权限")
