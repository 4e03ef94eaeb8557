"""Forms of the station network pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from stations.models import Station
from stations.services import (
    COMMON_FIELDS,
    FACILITY_FIELDS,
    ORGANISATION_FIELDS,
    editable_station_fields,
)


class StationForm(forms.ModelForm):
    """A station's details as its street manager or the bureau keeps them.

    The fields follow the station's kind: facilities for a 街镇服务站, the social organisation
    for a 专业服务点. The standard name is not a field: it is generated (rule N1). The form
    validates; the view saves through `stations.services.station_update`.
    """

    class Meta:
        model = Station
        fields = COMMON_FIELDS + FACILITY_FIELDS + ORGANISATION_FIELDS
        widgets = {
            "status": forms.RadioSelect,
            "address": forms.TextInput(attrs={"placeholder": _("如:长宁区XX路XX号")}),
            "phone": forms.TextInput(attrs={"placeholder": _("如:021-12345678")}),
            "opening_hours": forms.TextInput(attrs={"placeholder": _("如:周一至周五 9:00-17:00")}),
            "organisation_credit_code": forms.TextInput(
                attrs={"autocomplete": "off", "spellcheck": "false", "maxlength": 18}
            ),
        }
        help_texts = {
            "signboard_name": _("服务站点门口标牌上实际书写的名称。"),
            "has_unified_logo": _("标牌是否使用全市统一的社区救助顾问标识。"),
            "organisation_credit_code": _("18位,由数字和大写字母组成,最后一位为校验位。"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = editable_station_fields(self.instance.kind)
        for name in list(self.fields):
            if name not in allowed:
                del self.fields[name]
        if "organisation_name" in self.fields:
            self.fields["organisation_name"].required = True
        if "organisation_credit_code" in self.fields:
            self.fields["organisation_credit_code"].required = True

    def clean_organisation_credit_code(self):
        return self.cleaned_data["organisation_credit_code"].strip().upper()

    @property
    def facility_fields(self):
        return [self[name] for name in FACILITY_FIELDS if name in self.fields]

    @property
    def organisation_fields(self):
        return [self[name] for name in ORGANISATION_FIELDS if name in self.fields]

    @property
    def common_fields(self):
        return [self[name] for name in COMMON_FIELDS if name in self.fields]
