"""The network in the Django admin, scoped like every page (see changning_aid.admin)."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from changning_aid.admin import ScopedModelAdmin, ScopedRelatedFilter
from stations.models import Committee, District, DivisionImport, Station, Street


@admin.register(District)
class DistrictAdmin(ScopedModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "name"]


@admin.register(Street)
class StreetAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "kind", "district"]
    list_filter = ["kind", ("district", ScopedRelatedFilter)]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "name", "kind", "district"]
    list_select_related = ["district"]


@admin.register(Committee)
class CommitteeAdmin(ScopedModelAdmin):
    list_display = ["code", "name", "kind", "street"]
    list_filter = ["kind", ("street", ScopedRelatedFilter)]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "name", "kind", "street"]
    list_select_related = ["street"]


@admin.register(Station)
class StationAdmin(ScopedModelAdmin):
    """Bureau staff keep station details here as well as on the station page."""

    change_roles = (Role.BUREAU,)
    add_roles = (Role.BUREAU,)
    list_display = ["name", "kind", "status", "street", "phone", "has_unified_logo"]
    list_filter = ["kind", "status", "has_unified_logo", ("street", ScopedRelatedFilter)]
    search_fields = ["name", "address", "signboard_name", "committee__code", "street__code"]
    list_select_related = ["street", "district"]
    autocomplete_fields = ["street", "committee"]
    readonly_fields = ["name", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "district", "street", "committee", "status"]}),
        (
            _("对外信息"),
            {"fields": ["address", "phone", "opening_hours", "signboard_name", "has_unified_logo"]},
        ),
        (
            _("街镇服务站设施"),
            {
                "fields": [
                    "workspace_m2",
                    "desk_sets",
                    "computers",
                    "has_internet",
                    "has_consultation_zone",
                    "has_service_zone",
                ]
            },
        ),
        (_("专业服务点"), {"fields": ["organisation_name", "organisation_credit_code"]}),
        (_("记录"), {"fields": ["created_at", "updated_at"]}),
    ]


@admin.register(DivisionImport)
class DivisionImportAdmin(ScopedModelAdmin):
    """Uploaded division files: the system administrator's record of imports."""

    view_roles = (Role.SYSTEM_ADMIN,)
    list_display = ["file_name", "uploaded_by", "uploaded_at", "applied_at"]
    readonly_fields = ["file_name", "uploaded_by", "uploaded_at", "applied_at", "preview", "result"]
    exclude = ["content"]
