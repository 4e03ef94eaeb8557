"""The advisors in the Django admin: bureau staff can view their district's, scoped like every page.

Changes go through the pages and `advisors.services`, which keep the filing steps.
"""

from django.contrib import admin

from advisors.models import (
    Advisor,
    AdvisorStation,
    FilingEvent,
    Training,
    TrainingAttendance,
    Volunteer,
)
from changning_aid.admin import ScopedModelAdmin, ScopedRelatedFilter


class AdvisorStationInline(admin.TabularInline):
    model = AdvisorStation
    extra = 0
    can_delete = False
    fields = ["station", "is_primary"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Advisor)
class AdvisorAdmin(ScopedModelAdmin):
    list_display = ["advisor_number", "name", "street", "background", "filing_status", "left_on"]
    list_filter = ["filing_status", "background", ("street", ScopedRelatedFilter)]
    search_fields = ["advisor_number", "name"]
    list_select_related = ["street"]
    inlines = [AdvisorStationInline]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(FilingEvent)
class FilingEventAdmin(ScopedModelAdmin):
    list_display = ["advisor", "action", "by", "at", "filing_number"]
    list_filter = ["action"]
    list_select_related = ["advisor", "by"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Volunteer)
class VolunteerAdmin(ScopedModelAdmin):
    list_display = ["name", "street", "station", "active_from", "active_to"]
    list_filter = [("street", ScopedRelatedFilter)]
    search_fields = ["name"]
    list_select_related = ["street", "station"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(Training)
class TrainingAdmin(ScopedModelAdmin):
    list_display = ["date", "title", "organiser_level", "street", "kind", "hours"]
    list_filter = ["organiser_level", "kind"]
    search_fields = ["title"]
    list_select_related = ["street"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.register(TrainingAttendance)
class TrainingAttendanceAdmin(ScopedModelAdmin):
    list_display = ["training", "advisor", "attended", "score"]
    list_filter = ["attended"]
    list_select_related = ["training", "advisor"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
