"""Reads of the notifications app: who is told (the logins that answer for a street or a
district), and how many notifications a login has not read."""

from django.utils.functional import cached_property

from accounts.choices import Role
from accounts.models import User
from notifications.models import Notification


def street_managers(street_id):
    """The active street managers (街镇管理员) of the street."""
    return User.objects.filter(role=Role.STREET_MANAGER, street_id=street_id, is_active=True)


def bureau_staff(district_id):
    """The active bureau staff (区民政局) of the district."""
    return User.objects.filter(role=Role.BUREAU, district_id=district_id, is_active=True)


class UnreadCount:
    """The number of unread notifications of a login, counted on first use (one query)."""

    # More than this shows as "99+" in the header.
    SHOWN_MAX = 99

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self):
        return Notification.objects.visible_to(self.user).unread().count()

    @property
    def label(self):
        return f"{self.SHOWN_MAX}+" if self.count > self.SHOWN_MAX else str(self.count)
