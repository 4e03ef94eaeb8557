"""Logins in the Django admin: the system administrator manages accounts (三员分立)."""

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import User
from changning_aid.admin import ScopedModelAdmin, ScopedRelatedFilter


@admin.register(User)
class UserAdmin(ScopedModelAdmin, DjangoUserAdmin):
    """Read-only here: accounts are created, reset and deactivated on the 账号管理 pages,
    through `accounts.services`, so that the forced password change, `created_by` and the
    scope check hold whichever door is used."""

    view_roles = (Role.SYSTEM_ADMIN, Role.BUREAU)
    change_roles = ()
    add_roles = ()
    list_display = ["username", "full_name", "role", "district", "street", "is_active"]
    list_filter = ["role", "is_active", ("street", ScopedRelatedFilter)]
    search_fields = ["username", "full_name"]
    list_select_related = ["district", "street"]
    filter_horizontal = ["stations"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("身份"), {"fields": ["full_name", "role", "district", "street", "stations"]}),
        (_("状态"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "username",
                    "full_name",
                    "role",
                    "district",
                    "street",
                    "password1",
                    "password2",
                ],
            },
        ),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def user_change_password(self, request, id, form_url=""):
        # Out of scope is a 404 before any permission question is asked.
        if not self.get_queryset(request).filter(pk=unquote(id)).exists():
            raise Http404
        return super().user_change_password(request, id, form_url)


# Permission groups are not how access works here (roles are); keep them out of the admin.
admin.site.unregister(Group)
