"""Who reads the audit trail (三员分立): the audit administrator all of it, bureau staff their
district's part, nobody else anything (not even the system administrator).

Audit rows carry the district (and street, where there is one) of the object they are
about, so that bureau staff can be shown their district's rows; `visible_to` here replaces
the network's scoping (`changning_aid.scoping`), which gives the audit administrator nothing.
"""

from django.db.models import Q

from accounts.choices import Role


def can_read_audit(user):
    """The audit administrator and bureau staff (of a district) read the trail."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.role == Role.AUDIT_ADMIN or (user.role == Role.BUREAU and bool(user.district_id))


def is_audit_admin(user):
    return can_read_audit(user) and user.role == Role.AUDIT_ADMIN


def audit_scope(user, *, district_lookup="district"):
    """A Q for the audit rows `user` may read: all, their district's, or none."""
    if not can_read_audit(user):
        return Q(pk__in=[])
    if user.role == Role.AUDIT_ADMIN:
        return Q()
    return Q(**{district_lookup: user.district_id})
