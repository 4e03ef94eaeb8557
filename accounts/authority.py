"""Who looks after whose login (账号管理), and which logins each role sees in its account pages.

- the system administrator creates and looks after bureau staff, audit administrators and
  other system administrators, and sees every login;
- bureau staff create and look after the street managers of their district, and see the
  district's street managers and advisors;
- a street manager creates and looks after the advisor logins of their street, and sees them;
- the audit administrator and advisors manage no accounts (三员分立: the audit administrator
  reads the audit trail and nothing else).

Every list starts from `User.objects.visible_to(user)`, so the role rule can only narrow the
user's scope, never widen it. Nobody looks after their own login here: they change their
own password on the password change page.
"""

from accounts.choices import Role
from accounts.models import User

# The roles whose logins each role creates, resets, deactivates and reactivates.
MANAGED_ROLES = {
    Role.SYSTEM_ADMIN: (Role.BUREAU, Role.AUDIT_ADMIN, Role.SYSTEM_ADMIN),
    Role.BUREAU: (Role.STREET_MANAGER,),
    Role.STREET_MANAGER: (Role.ADVISOR,),
}

# The roles whose logins each role's account pages list; None lists every login in scope.
LISTED_ROLES = {
    Role.SYSTEM_ADMIN: None,
    Role.BUREAU: (Role.STREET_MANAGER, Role.ADVISOR),
    Role.STREET_MANAGER: (Role.ADVISOR,),
}


def acting_role(user):
    """The role `user` acts in: a superuser without a role acts as system administrator."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_system_admin:
        return Role.SYSTEM_ADMIN
    return user.role


def manages_accounts(user):
    """Whether `user` has account pages at all."""
    return acting_role(user) in MANAGED_ROLES


def creatable_roles(user):
    """The roles of the logins `user` may create (an empty tuple for most roles)."""
    return MANAGED_ROLES.get(acting_role(user), ())


def listed_roles(user):
    """The roles `user`'s account list shows, in `Role` order."""
    role = acting_role(user)
    if role not in LISTED_ROLES:
        return ()
    shown = LISTED_ROLES[role]
    return tuple(Role) if shown is None else shown


def listed_accounts(user):
    """The logins `user` sees in the account pages: their scope, cut down by the role rule."""
    role = acting_role(user)
    if role not in LISTED_ROLES:
        return User.objects.none()
    accounts = User.objects.visible_to(user)
    if LISTED_ROLES[role] is not None:
        accounts = accounts.filter(role__in=LISTED_ROLES[role])
    return accounts


def managed_accounts(user):
    """The logins `user` looks after: listed, of a role they create, and not their own."""
    return listed_accounts(user).filter(role__in=creatable_roles(user)).exclude(pk=user.pk)


def can_manage(user, account):
    """Whether `user` may reset, edit, deactivate or reactivate `account`."""
    return managed_accounts(user).filter(pk=account.pk).exists()
