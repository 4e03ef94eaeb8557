"""Forms of the volunteer pages: the list's filters, a volunteer's details, the end of service.

Forms offer only choices inside the user's scope and validate what they can; the views
write through `advisors.services`, which check scope, roles and values again.
"""

from django import forms
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField
from advisors.services import check_phone
from changning_aid.sensitive.masking import PHONE, mask_phone, resolve_masked
from stations.models import Station, Street

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VolunteerFilterForm(forms.Form):
    """The list's filters; the stations offered are the user's own."""

    ACTIVE = "active"
    ENDED = "ended"
    STATE_CHOICES = [("", _("全部")), (ACTIVE, _("在册")), (ENDED, _("已结束服务"))]

    q = forms.CharField(label=_("姓名"), required=False, max_length=50)
    station = ScopedChoiceField(
        label=_("服务站点"), queryset=Station.objects.none(), required=False, empty_label=_("全部")
    )
    state = forms.ChoiceField(label=_("服务状态"), choices=STATE_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = Station.objects.visible_to(user).order_by("pk")


class VolunteerForm(forms.Form):
    """A volunteer's details.

    Bureau staff choose the street of a new volunteer; a street manager's volunteers are
    of their own street, and a volunteer's street never changes. A stored phone is shown
    masked and kept when its mask comes back unchanged.
    """

    street = ScopedChoiceField(label=_("街镇"), queryset=Street.objects.none())
    name = forms.CharField(label=_("姓名"), max_length=50)
    phone = forms.CharField(
        label=_("联系电话"),
        max_length=30,
        required=False,
        help_text=_("已登记的号码以遮盖形式显示,不修改时保持原样。"),
    )
    skills = forms.CharField(
        label=_("特长"),
        max_length=200,
        required=False,
        help_text=_("如:法律咨询、心理疏导、助老助残、政策宣讲。"),
    )
    station = ScopedChoiceField(
        label=_("服务站点"),
        queryset=Station.objects.none(),
        required=False,
        empty_label=_("不指定(街镇统筹)"),
    )
    active_from = forms.DateField(label=_("服务开始日期"), widget=DATE_WIDGET)

    def __init__(self, *args, user, volunteer=None, **kwargs):
        self.volunteer = volunteer
        if volunteer is not None:
            kwargs.setdefault(
                "initial",
                {
                    "name": volunteer.name,
                    "phone": mask_phone(volunteer.phone),
                    "skills": volunteer.skills,
                    "station": volunteer.station_id,
                    "active_from": volunteer.active_from,
                },
            )
        super().__init__(*args, **kwargs)
        stations = Station.objects.visible_to(user).exclude(street=None)
        if volunteer is not None:
            del self.fields["street"]
            stations = stations.filter(street=volunteer.street_id)
        elif user.is_bureau:
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
        else:
            del self.fields["street"]
        # The street station first, then the committee points in code order.
        self.fields["station"].queryset = stations.order_by(
            "street__code", F("committee__code").asc(nulls_first=True), "pk"
        )

    def clean_phone(self):
        phone = self.cleaned_data["phone"]
        stored = self.volunteer.phone if self.volunteer is not None else ""
        phone = resolve_masked(PHONE, stored=stored, incoming=phone)
        if "*" in phone:
            raise forms.ValidationError(_("请填写完整的电话号码。"))
        check_phone(phone)
        return phone

    def clean(self):
        cleaned = super().clean()
        street = cleaned.get("street")
        station = cleaned.get("station")
        if street is not None and station is not None and station.street_id != street.pk:
            self.add_error("station", _("服务站点必须在志愿者所属的街镇内。"))
        return cleaned


class EndServiceForm(forms.Form):
    active_to = forms.DateField(label=_("服务结束日期"), widget=DATE_WIDGET)
