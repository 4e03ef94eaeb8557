"""The Django admin as bureau staff and the system administrator use it: scoped like every page.

Access follows the role (`accounts.choices.Role`), not Django's `is_staff` and model
permissions: the admin site is open to bureau staff and the system administrator, and
every model admin reads its rows through `visible_to(user)`, offers only in-scope
choices in its filters and foreign keys, and checks after each save, in the request's
transaction, that the row is still inside the user's scope.
"""

import functools

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from changning_aid.scoping import ensure_still_visible

ADMIN_ROLES = (Role.SYSTEM_ADMIN, Role.BUREAU)


def is_system_admin(user):
    return user.is_active and (user.role == Role.SYSTEM_ADMIN or user.is_superuser)


class ChangningAdminSite(admin.AdminSite):
    site_header = _("长宁区社区救助顾问服务站点 · 后台管理")
    site_title = _("社区救助顾问后台")
    index_title = _("后台管理")

    def has_permission(self, request):
        user = request.user
        return user.is_active and (user.role in ADMIN_ROLES or user.is_superuser)

    def admin_view(self, view, cacheable=False):
        wrapped = super().admin_view(view, cacheable)

        @functools.wraps(wrapped)
        def guarded(request, *args, **kwargs):
            # A logged-in user without access gets the answer of a page that does not exist.
            if request.user.is_authenticated and not self.has_permission(request):
                raise Http404
            return wrapped(request, *args, **kwargs)

        return guarded

    def login(self, request, extra_context=None):
        # One login page for the whole application; a logged-in user without access to
        # the admin gets the same answer as for a page that does not exist.
        if request.user.is_authenticated:
            raise Http404
        return redirect_to_login(request.GET.get("next", request.get_full_path()))


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A related-field filter whose choices are only the related rows visible to the user."""

    def field_choices(self, field, request, model_admin):
        related = field.related_model._default_manager.visible_to(request.user)
        return [(obj.pk, str(obj)) for obj in related]


class ScopedModelAdmin(admin.ModelAdmin):
    """A model admin that shows, offers and accepts only rows inside the user's scope.

    `view_roles`, `change_roles`, `add_roles` and `delete_roles` say which roles may do
    what; nothing may be deleted unless a subclass says so, since history stays.
    """

    view_roles = ADMIN_ROLES
    change_roles = ()
    add_roles = ()
    delete_roles = ()

    def _role_in(self, request, roles):
        user = request.user
        if not user.is_active:
            return False
        role = Role.SYSTEM_ADMIN if (user.is_superuser and not user.role) else user.role
        return role in roles

    def has_module_permission(self, request):
        return self._role_in(request, self.view_roles)

    def has_view_permission(self, request, obj=None):
        return self._role_in(request, self.view_roles) and self._in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._role_in(request, self.change_roles) and self._in_scope(request, obj)

    def has_add_permission(self, request):
        return self._role_in(request, self.add_roles)

    def has_delete_permission(self, request, obj=None):
        return self._role_in(request, self.delete_roles) and self._in_scope(request, obj)

    def _in_scope(self, request, obj):
        if obj is None:
            return True
        return self.get_queryset(request).filter(pk=obj.pk).exists()

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    def _ensure_in_scope(self, request, object_id):
        # Checked before any permission, so that out of scope reads as "does not exist".
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._ensure_in_scope(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._ensure_in_scope(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._ensure_in_scope(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django's admin redirects with a message; out of scope is a 404 everywhere here.
        raise Http404

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        manager = db_field.related_model._default_manager
        if hasattr(manager.all(), "visible_to"):
            kwargs["queryset"] = manager.visible_to(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        manager = db_field.related_model._default_manager
        if hasattr(manager.all(), "visible_to"):
            kwargs["queryset"] = manager.visible_to(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        # Requests run in one transaction (ATOMIC_REQUESTS): a refusal rolls the save back.
        ensure_still_visible(obj, request.user)
