"""Writes to logins (账号管理): creating them, resetting and changing passwords, deactivating.

Pages and any other door call these services, so the rules hold whichever way a change
comes in. Who may change whose login is `accounts.authority`: each service checks it
before writing, and checks again after the save, in the same transaction, that the login
(and an advisor's stations) lies inside the acting user's scope; a write that would land
outside raises `PermissionDenied` and is rolled back.

A new login and a reset one must change their password at the next login
(`must_change_password`, enforced by `accounts.middleware`). Logins are deactivated,
never deleted, so that everything they did keeps its author.
"""

import secrets

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.authority import (
    acting_role,
    can_manage,
    creatable_roles,
    listed_accounts,
    managed_accounts,
)
from accounts.choices import Role
from accounts.models import User
from accounts.second_factor import disable_second_factor
from changning_aid.checks import DEMO_USERNAME_PATTERN, DEMO_USERNAMES
from stations.models import District, Station, Street

# Generated passwords: three groups of four, from letters and digits that cannot be
# mistaken for one another when read out or copied by hand (no 0/O, 1/l/I).
PASSWORD_CHARACTER_CLASSES = ("ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnpqrstuvwxyz", "23456789")
PASSWORD_GROUPS = 3
PASSWORD_GROUP_LENGTH = 4
PASSWORD_ATTEMPTS = 100


def generate_temporary_password(account=None):
    """A random temporary password, such as `Hk7m-qP4r-T9wx`, that passes the validators.

    It has upper- and lower-case letters and digits, and is checked against
    AUTH_PASSWORD_VALIDATORS for `account` (so it is not like its username).
    """
    alphabet = "".join(PASSWORD_CHARACTER_CLASSES)
    for _attempt in range(PASSWORD_ATTEMPTS):
        password = "-".join(
            "".join(secrets.choice(alphabet) for _ in range(PASSWORD_GROUP_LENGTH))
            for _ in range(PASSWORD_GROUPS)
        )
        if not all(any(c in chars for c in password) for chars in PASSWORD_CHARACTER_CLASSES):
            continue
        try:
            password_validation.validate_password(password, account)
        except ValidationError:
            continue
        return password
    raise RuntimeError("no generated password passed AUTH_PASSWORD_VALIDATORS")


def _validate_password(password, account):
    """The validators' verdict on `password` for `account`, as an error of the field `password`."""
    try:
        password_validation.validate_password(password, account)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error


def _ensure_manages(actor, account):
    if not can_manage(actor, account):
        raise PermissionDenied(_("您无权管理该账号。"))


def _ensure_in_scope(actor, account, stations=()):
    """Refuse a saved login (and stations it was given) that lies outside the actor's scope.

    Called after the save inside the service's transaction: raising rolls the write back.
    """
    if not managed_accounts(actor).filter(pk=account.pk).exists():
        raise PermissionDenied(_("保存的账号超出了您的管理范围,已撤销。"))
    station_ids = {station.pk for station in stations}
    in_scope = set(
        Station.objects.visible_to(actor).filter(pk__in=station_ids).values_list("pk", flat=True)
    )
    if station_ids - in_scope:
        raise PermissionDenied(_("所选服务站点超出了您的管理范围,已撤销。"))


def _scope_errors(actor, *, role, district, street, stations):
    """Errors for the choices a login of `role` needs, each to be inside the actor's scope."""
    errors = {}
    if role == Role.BUREAU:
        if district is None:
            errors["district"] = _("区民政局账号必须指定所属区。")
        elif not District.objects.visible_to(actor).filter(pk=district.pk).exists():
            errors["district"] = _("所选的区不在您的管理范围内。")
    elif role == Role.STREET_MANAGER:
        if street is None:
            errors["street"] = _("街镇管理员账号必须指定所属街镇。")
        elif not Street.objects.visible_to(actor).filter(pk=street.pk).exists():
            errors["street"] = _("所选的街镇不在您的管理范围内。")
    elif role == Role.ADVISOR:
        station_ids = {station.pk for station in stations}
        if not station_ids:
            errors["stations"] = _("社区救助顾问账号至少要选择一个服务站点。")
        elif Station.objects.visible_to(actor).filter(pk__in=station_ids).count() != len(
            station_ids
        ):
            errors["stations"] = _("所选的服务站点不在您的管理范围内。")
    return errors


@transaction.atomic
def create_account(
    *, actor, username, full_name, role, password, district=None, street=None, stations=()
):
    """Create a login of `role` for someone `actor` looks after, with a temporary password.

    The system administrator creates bureau staff (of a `district`), audit administrators
    and system administrators; bureau staff create street managers (of a `street` of their
    district); street managers create advisors (serving `stations` of their street, at least
    one). Fields a role does not use are ignored. A role the actor may not create, a choice
    outside their scope, a username in use (in any letter case) or a password the
    validators refuse raise `ValidationError` and nothing is written. The login must change
    its password at its first login. Returns the new login.
    """
    if role not in creatable_roles(actor):
        raise ValidationError({"role": _("您无权创建该角色的账号。")})
    stations = list(stations) if role == Role.ADVISOR else []
    district = district if role == Role.BUREAU else None
    street = street if role == Role.STREET_MANAGER else None
    errors = _scope_errors(actor, role=role, district=district, street=street, stations=stations)
    if username and User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("该用户名已被使用,请换一个。")
    if errors:
        raise ValidationError(errors)

    account = User(
        username=username,
        full_name=full_name,
        role=role,
        district=street.district if street else district,
        street=street,
        created_by=actor,
        must_change_password=True,
    )
    _validate_password(password, account)
    account.set_password(password)
    account.full_clean()
    account.save()
    if stations:
        account.stations.set(stations)
    _ensure_in_scope(actor, account, stations)
    return account


@transaction.atomic
def update_account(*, actor, account, full_name, stations=None):
    """Change a login's name and, for an advisor, the stations of the actor's street it serves.

    Stations the advisor serves outside the actor's scope are kept as they are; of the
    actor's, at least one must stay (to stop an advisor's work, deactivate the login).
    Returns the saved login.
    """
    _ensure_manages(actor, account)
    account.full_name = full_name
    added = []
    if account.role == Role.ADVISOR and stations is not None:
        stations = list(stations)
        errors = _scope_errors(
            actor, role=Role.ADVISOR, district=None, street=None, stations=stations
        )
        if errors:
            raise ValidationError(errors)
        in_scope = Station.objects.visible_to(actor).values("pk")
        kept = list(account.stations.exclude(pk__in=in_scope))
        current = set(account.stations.values_list("pk", flat=True))
        added = [station for station in stations if station.pk not in current]
    account.full_clean()
    account.save(update_fields=["full_name"])
    if account.role == Role.ADVISOR and stations is not None:
        account.stations.set([*kept, *stations])
    _ensure_in_scope(actor, account, added)
    return account


@transaction.atomic
def reset_password(*, actor, account, password=None):
    """Give a login a temporary password, typed by its administrator or generated.

    The login must change it at its next login; its open sessions end (the session hash
    follows the password). A reset is how a person who forgot their password or lost their
    phone gets back in, so it also lifts a login lockout and removes the second-factor
    authenticators: a role that needs one binds a new one at the next login. A typed
    password the validators refuse raises `ValidationError`. Returns the temporary password,
    to be shown to the administrator once.
    """
    _ensure_manages(actor, account)
    if password is None:
        password = generate_temporary_password(account)
    else:
        _validate_password(password, account)
    account.set_password(password)
    account.must_change_password = True
    account.full_clean()
    account.save(update_fields=["password", "must_change_password"])
    _ensure_in_scope(actor, account)
    disable_second_factor(user=account)
    AxesProxyHandler.reset_attempts(username=account.get_username())
    return password


@transaction.atomic
def set_password_changed(*, user):
    """Record that `user` changed their own password: the forced change is done.

    The password itself was set by Django's password change form; this is the user acting
    on their own login, so their scope is their login.
    """
    user.must_change_password = False
    user.password_changed_at = timezone.now()
    changed = ["must_change_password", "password_changed_at"]
    # Only the changed fields: a login made by `createsuperuser` has no role, and that is
    # no reason to refuse its password change.
    user.full_clean(
        exclude=[field.name for field in User._meta.fields if field.name not in changed],
        validate_unique=False,
        validate_constraints=False,
    )
    user.save(update_fields=changed)
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        raise PermissionDenied(_("账号已停用。"))
    return user


@transaction.atomic
def deactivate_account(*, actor, account):
    """Stop a login: it can no longer log in; it stays, with everything recorded under it.

    Logins are never deleted. Deactivating one's own login, or one already deactivated,
    is refused.
    """
    _ensure_manages(actor, account)
    if not account.is_active:
        raise ValidationError(_("该账号已经停用。"))
    _deactivate(account)
    _ensure_in_scope(actor, account)
    return account


# Who keeps the advisor registry, and so stops the login of an advisor whose service ended.
ADVISOR_KEEPER_ROLES = (Role.STREET_MANAGER, Role.BUREAU)


@transaction.atomic
def deactivate_advisor_login(*, actor, account):
    """Stop the login of an advisor who left or whose filing was revoked (`advisors.services`).

    The same deactivation as `deactivate_account`, recorded the same way (`deactivated_at`,
    and the audit trail names the actor), by whoever ended the advisor's service: the street
    manager of their street or bureau staff of their district, for an advisor login in their
    account list. Bureau staff do not otherwise look after advisor logins; ending a person's
    service as an advisor is what lets them stop this one. A login already deactivated is
    left as it is.
    """
    if (
        acting_role(actor) not in ADVISOR_KEEPER_ROLES
        or account.role != Role.ADVISOR
        or not listed_accounts(actor).filter(pk=account.pk).exists()
    ):
        raise PermissionDenied(_("您无权停用该顾问的登录账号。"))
    if account.is_active:
        _deactivate(account)
    return account


def _deactivate(account):
    account.is_active = False
    account.deactivated_at = timezone.now()
    account.full_clean()
    account.save(update_fields=["is_active", "deactivated_at"])


@transaction.atomic
def reactivate_account(*, actor, account):
    """Let a deactivated login log in again, with the password it had."""
    _ensure_manages(actor, account)
    if account.is_active:
        raise ValidationError(_("该账号没有停用。"))
    account.is_active = True
    account.deactivated_at = None
    account.full_clean()
    account.save(update_fields=["is_active", "deactivated_at"])
    _ensure_in_scope(actor, account)
    return account


@transaction.atomic
def create_first_system_admin(*, username, full_name=""):
    """The first system administrator of a new installation (`manage.py create_system_admin`).

    Nobody is there yet to create one in 账号管理, so the command line does, once: with an
    active system administrator in the database it is refused, and further ones are created
    on the page, under the name of whoever created them. The rules of `create_account`
    hold: a username not in use in any letter case, a generated temporary password to be
    changed at the first login (and, as OTP_REQUIRED_ROLES has it by default, an
    authenticator to bind). A demo login's username is refused: its password is published
    and a production server refuses to start while such a login is active. Returns the login
    and its temporary password, to be shown once.
    """
    existing = list(
        User.objects.filter(is_active=True)
        .filter(Q(role=Role.SYSTEM_ADMIN) | Q(is_superuser=True, role=""))
        .order_by("username")
        .values_list("username", flat=True)
    )
    if existing:
        raise ValidationError(
            _("系统中已有启用的系统管理员(%(names)s),其他系统管理员请由其在“账号管理”中创建。")
            % {"names": "、".join(existing)}
        )
    username = (username or "").strip()
    if username.lower() in DEMO_USERNAMES or DEMO_USERNAME_PATTERN.match(username.lower()):
        raise ValidationError(
            {"username": _("%(name)s 是演示账号的用户名,请换一个。") % {"name": username}}
        )
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": _("该用户名已被使用,请换一个。")})
    account = User(
        username=username,
        full_name=full_name,
        role=Role.SYSTEM_ADMIN,
        must_change_password=True,
    )
    password = generate_temporary_password(account)
    account.set_password(password)
    account.full_clean()
    account.save()
    return account, password
