"""Forms of the advisor pages: the roster's filters, the registry, filing, leaving, training.

Forms validate what the user typed; the views write through `advisors.services`, which
check scope and roles again and give the Chinese errors of the domain.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField, StationChoiceField
from advisors.choices import Background, FilingStatus, Skill, SocialWorkLevel, TrainingKind
from advisors.models import Advisor
from changning_aid.uploads import ImportFileField
from stations.models import Station, Street

ADVISOR_FORM_FIELDS = [
    "name",
    "gender",
    "mobile",
    "background",
    "social_work_level",
    "certificate_number",
    "skills",
    "uniform_issued_on",
    "badge_issued_on",
    "star_year",
    "backbone_year",
    "started_on",
]

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AdvisorFilterForm(forms.Form):
    """The roster's filters; choices come from the user's scope only."""

    STATE_CHOICES = [("", _("全部")), ("active", _("在岗")), ("left", _("已离岗"))]

    q = forms.CharField(
        label=_("姓名、拼音首字母或手机号"),
        required=False,
        max_length=50,
        # Initials: zxm finds 张晓明; a 多音字 is found by each of its readings.
        widget=forms.TextInput(attrs={"placeholder": _("如 张晓明、zxm 或 1381234")}),
    )
    station = ScopedChoiceField(
        label=_("服务站点"), queryset=Station.objects.none(), required=False, empty_label=_("全部")
    )
    background = forms.ChoiceField(
        label=_("人员类别"), choices=[("", _("全部")), *Background.choices], required=False
    )
    filing_status = forms.ChoiceField(
        label=_("备案状态"), choices=[("", _("全部")), *FilingStatus.choices], required=False
    )
    qualification = forms.ChoiceField(
        label=_("社会工作职业资格"),
        choices=[("", _("全部")), *SocialWorkLevel.choices],
        required=False,
    )
    state = forms.ChoiceField(label=_("在岗情况"), choices=STATE_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["station"].queryset = Station.objects.visible_to(user).order_by("pk")


class AdvisorForm(forms.ModelForm):
    """An advisor's details, the stations served and the primary one.

    `street` is a field for bureau staff registering an advisor; a street manager's
    advisors are of their own street, and an advisor's street never changes.
    """

    skills = forms.MultipleChoiceField(
        label=_("技能"), choices=Skill.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    street = ScopedChoiceField(label=_("街镇"), queryset=Street.objects.none())
    stations = StationChoiceField(
        label=_("服务站点"),
        queryset=Station.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个服务站点。")},
    )
    primary = ScopedChoiceField(
        label=_("主要服务站点"),
        queryset=Station.objects.none(),
        error_messages={"required": _("请选择主要服务站点。")},
    )

    class Meta:
        model = Advisor
        fields = ADVISOR_FORM_FIELDS
        widgets = {
            "uniform_issued_on": DATE_WIDGET,
            "badge_issued_on": DATE_WIDGET,
            "started_on": DATE_WIDGET,
            "gender": forms.RadioSelect,
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        stations = Station.objects.visible_to(user).select_related("street").order_by("pk")
        if self.instance.pk:
            stations = stations.filter(street=self.instance.street_id)
            del self.fields["street"]
            links = list(self.instance.station_links.all())
            self.initial.setdefault("stations", [link.station_id for link in links])
            primary = next((link.station_id for link in links if link.is_primary), None)
            self.initial.setdefault("primary", primary)
        elif user.is_street_manager:
            del self.fields["street"]
        else:
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
        self.fields["stations"].queryset = stations
        self.fields["primary"].queryset = stations

    def clean(self):
        cleaned = super().clean()
        stations = cleaned.get("stations")
        primary = cleaned.get("primary")
        if stations is not None and primary is not None and primary not in stations:
            self.add_error("primary", _("主要服务站点必须是所选站点之一。"))
        return cleaned

    def _post_clean(self):
        # The model is validated by the services, with the street they set.
        pass


class FileForm(forms.Form):
    filing_number = forms.CharField(label=_("备案编号"), max_length=50)
    filed_on = forms.DateField(label=_("备案日期"), widget=DATE_WIDGET)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("原因"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写原因。"))
        return reason


class LeaveForm(forms.Form):
    left_on = forms.DateField(label=_("离岗日期"), widget=DATE_WIDGET)
    reason = forms.CharField(label=_("离岗原因"), max_length=200)


class TrainingForm(forms.Form):
    """A training; bureau staff choose a street, or none for a district training."""

    date = forms.DateField(label=_("培训日期"), widget=DATE_WIDGET)
    title = forms.CharField(label=_("培训主题"), max_length=200)
    hours = forms.DecimalField(
        label=_("学时"), max_digits=5, decimal_places=1, min_value=0.1, max_value=999
    )
    kind = forms.ChoiceField(label=_("培训类型"), choices=TrainingKind.choices)
    trainer = forms.CharField(label=_("授课人"), max_length=100, required=False)
    place = forms.CharField(label=_("培训地点"), max_length=200, required=False)
    street = ScopedChoiceField(
        label=_("组织街镇"),
        queryset=Street.objects.none(),
        required=False,
        empty_label=_("区级培训(各街镇共享)"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_bureau:
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
        else:
            del self.fields["street"]


class AttendanceForm(forms.Form):
    advisor = ScopedChoiceField(label=_("顾问"), queryset=Advisor.objects.none())
    attended = forms.BooleanField(label=_("出席"), required=False, initial=True)
    remark = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args, user, training, **kwargs):
        super().__init__(*args, **kwargs)
        advisors = Advisor.objects.visible_to(user).filter(street__district=training.district_id)
        if training.street_id:
            advisors = advisors.filter(street=training.street_id)
        self.fields["advisor"].queryset = advisors.select_related("street").order_by(
            "street__code", "advisor_number"
        )


class RosterImportForm(forms.Form):
    """The roster file to import: the exported list or the template, as .xlsx or CSV."""

    file = ImportFileField(label=_("人员清单文件"))


class ImportConfirmForm(forms.Form):
    """Confirms the preview the user saw: its fingerprint (`RosterPlan.digest`)."""

    digest = forms.RegexField(regex=r"^[0-9a-f]{64}$", widget=forms.HiddenInput)
