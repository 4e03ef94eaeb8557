from django.contrib import admin

from accounts.choices import Role
from changning_aid.admin import ScopedModelAdmin
from changning_aid.sensitive.masking import mask_phone
from tests.sensitive_app.models import Person


@admin.register(Person)
class PersonAdmin(ScopedModelAdmin):
    """Bureau staff keep test persons in the admin: ID numbers and phones masked."""

    change_roles = (Role.BUREAU,)
    add_roles = (Role.BUREAU,)
    list_display = ["file_number", "name", "id_number", "masked_phone", "street"]
    fields = ["street", "station", "file_number", "name", "id_number", "phone", "note"]

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return mask_phone(obj.phone)
