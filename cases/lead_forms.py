"""Forms of the lead pages (政策找人): the list's filters and the actions of a lead's path.

Forms check what the user typed and offer only rows of the user's scope; the views write
through `cases.leads`, which check roles, scope and the path again and give the domain's
Chinese errors. A filter form never writes: an invalid filter leaves the list as by default.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField, is_row_id
from advisors.models import Advisor
from cases.checklist_forms import CommitteeChoiceField, StreetChoiceField
from cases.choices import Gender, HardshipLevel, LeadStatus
from cases.forms import VocabularyChoiceField, phone_validator
from cases.lead_models import Lead, LeadFact, LeadSource
from cases.leads import CLOSING_STATUSES
from cases.models import AssistanceCategory, KeyGroup
from stations.models import Committee, Street
from visits.choices import QUICK_CHECKS, CheckLevel, VisitMethod, VisitResult
from visits.forms import DATE_WIDGET, TIME_WIDGET

ALL = ("", _("全部"))

# The status filter: the open leads (未办结) by default, also when the filter is left out.
OPEN = "open"
CLOSED = "closed"
EVERY = "all"
STATUS_FILTER_CHOICES = [
    (OPEN, _("未办结(待核实、已走访)")),
    *LeadStatus.choices,
    (CLOSED, _("已办结(纳入、不符合、无法联系)")),
    (EVERY, _("全部")),
]


class LeadAdvisorField(ScopedChoiceField):
    """An advisor of the lead's street, named with their number."""

    def label_from_instance(self, obj):
        return f"{obj.name}({obj.advisor_number})"


def street_advisors(user, lead, today=None):
    """The active advisors of the lead's street the user may choose (for a visit, an assignment)."""
    today = today or timezone.localdate()
    return (
        Advisor.objects.visible_to(user)
        .active(today)
        .filter(street=lead.street_id)
        .order_by("advisor_number")
    )


def sources_for(user):
    """The sources a user may filter by: bureau staff all their district's; street users
    and advisors those that named a lead they see (sources belong to the district)."""
    if user.is_bureau:
        sources = LeadSource.objects.visible_to(user)
    else:
        named = LeadFact.objects.filter(lead__in=Lead.objects.visible_to(user)).values("source")
        sources = LeadSource.objects.filter(pk__in=named)
    return sources.order_by("name")


class LeadFilterForm(forms.Form):
    """The lead list's filters and its one search box; choices from the user's scope only."""

    PLACED_CHOICES = [ALL, ("yes", _("已定位")), ("no", _("未定位(待区民政局分派)"))]

    q = forms.CharField(
        label=_("姓名、拼音首字母、身份证号后4位或线索编号"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如 王秀英、wxy 或 123X")}),
    )
    status = forms.ChoiceField(label=_("状态"), choices=STATUS_FILTER_CHOICES, required=False)
    street = StreetChoiceField(label=_("街镇"), required=False, empty_label=_("全部"))
    committee = CommitteeChoiceField(
        label=_("居委"), queryset=Committee.objects.none(), required=False, empty_label=_("全部")
    )
    source = ScopedChoiceField(
        label=_("来源"), queryset=LeadSource.objects.none(), required=False, empty_label=_("全部")
    )
    placed = forms.ChoiceField(label=_("定位"), choices=PLACED_CHOICES, required=False)
    found_from = forms.DateField(label=_("发现日期自"), required=False, widget=DATE_WIDGET)
    found_to = forms.DateField(label=_("至"), required=False, widget=DATE_WIDGET)
    overdue = forms.BooleanField(label=_("只看超期"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if user.is_bureau:
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
        else:
            # Street managers and advisors see one street, and never an unplaced lead.
            del self.fields["street"]
            del self.fields["placed"]
        committees = Committee.objects.visible_to(user).select_related("street")
        self.fields["committee"].queryset = committees.order_by("street__code", "code")
        self.fields["committee"].with_street = user.is_bureau
        self.fields["source"].queryset = sources_for(user)

    def clean_status(self):
        return self.cleaned_data["status"] or OPEN

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("found_from"), cleaned.get("found_to")
        if start and end and start > end:
            self.add_error("found_to", _("结束日期不能早于开始日期。"))
        return cleaned

    @property
    def filtered(self):
        """Whether the list is filtered beyond its default (the open leads)."""
        return self.is_valid() and any(
            value not in ("", None, False, OPEN) for value in self.cleaned_data.values()
        )


# The actions of a lead's path ----------------------------------------------------------------


def _check_field(label):
    return forms.ChoiceField(
        label=label,
        choices=[("", _("未填")), *CheckLevel.choices],
        required=False,
        widget=forms.RadioSelect,
    )


class LeadVisitForm(forms.Form):
    """登记走访 of a lead: as the visit form, without the follow-up (the lead's path is the
    follow-up). Advisor logins record their own visits; keepers choose an active advisor of
    the lead's street (the lead's advisor first)."""

    advisor = LeadAdvisorField(
        label=_("走访顾问"), queryset=Advisor.objects.none(), empty_label=_("请选择")
    )
    visited_on = forms.DateField(label=_("走访日期"), widget=DATE_WIDGET)
    visited_at = forms.TimeField(label=_("走访时间"), required=False, widget=TIME_WIDGET)
    method = forms.ChoiceField(label=_("走访方式"), choices=VisitMethod.choices)
    result = forms.ChoiceField(
        label=_("走访结果"),
        choices=VisitResult.choices,
        widget=forms.RadioSelect,
        help_text=_("无人在家、拒访记为一次联系尝试,线索仍为待核实。"),
    )
    findings = forms.CharField(
        label=_("走访情况"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    living = _check_field(_("生活状况"))
    health = _check_field(_("健康状况"))
    housing = _check_field(_("居住安全"))
    mood = _check_field(_("心理状态"))

    CHECK_FIELDS = tuple(name for name, _label in QUICK_CHECKS)
    # What `record_lead_visit` takes besides the lead, the advisor and the needs.
    VISIT_FIELDS = ("visited_on", "visited_at", "method", "result", "findings", *CHECK_FIELDS)

    def __init__(self, *args, user, lead, own_advisor=None, **kwargs):
        kwargs.setdefault("prefix", "visit")
        super().__init__(*args, **kwargs)
        self.fields["visited_on"].initial = timezone.localdate()
        self.fields["method"].initial = VisitMethod.HOME
        self.fields["result"].initial = VisitResult.COMPLETED
        if own_advisor is not None:
            del self.fields["advisor"]
        else:
            self.fields["advisor"].queryset = street_advisors(user, lead)
            self.fields["advisor"].initial = lead.advisor_id

    def clean_findings(self):
        return self.cleaned_data["findings"].strip()

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("走访日期不能晚于今天。"))
        return day

    def visit_values(self):
        return {name: self.cleaned_data[name] for name in self.VISIT_FIELDS}


def gender_from_id_number(number):
    """The gender the 17th character of an ID number gives (odd: male), or None."""
    if number and len(number) == 18 and number[16].isdigit():
        return Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
    return None


class LeadEnrolForm(forms.Form):
    """纳入: the lead's person on the register, with at least one assistance category.

    The name, the ID number and the committee come from the lead. `current_from` is for
    keepers enrolling a person who is a current recipient already.
    """

    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices, widget=forms.RadioSelect)
    categories = VocabularyChoiceField(
        label=_("救助类别"),
        queryset=AssistanceCategory.objects.none(),
        error_messages={"required": _("纳入时请至少选择一个救助类别。")},
    )
    key_groups = VocabularyChoiceField(
        label=_("重点人群"), queryset=KeyGroup.objects.none(), required=False
    )
    hardship_level = forms.ChoiceField(
        label=_("困难程度"), choices=HardshipLevel.choices, initial=HardshipLevel.MEDIUM
    )
    household_size = forms.IntegerField(label=_("家庭人口"), min_value=1, max_value=30, initial=1)
    phone = forms.CharField(
        label=_("联系电话"), max_length=30, required=False, validators=[phone_validator]
    )
    address = forms.CharField(label=_("居住地址"), max_length=200, required=False)
    current_from = forms.DateField(
        label=_("现有救助对象起始日期"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("已认定为现有救助对象(每月走访)的,填写起始日期;否则留空。"),
    )

    # What `enrol_lead` takes as they are.
    RECIPIENT_FIELDS = ("hardship_level", "household_size", "phone", "address")

    def __init__(self, *args, user, lead, **kwargs):
        kwargs.setdefault("prefix", "enrol")
        initial = {
            "phone": lead.phone or "",
            "address": lead.address,
            # Read server-side to pre-select the gender; the number itself is never printed.
            "gender": gender_from_id_number(lead.plain_id_number()),
        }
        kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.fields["categories"].queryset = AssistanceCategory.objects.visible_to(user).in_use()
        self.fields["key_groups"].queryset = KeyGroup.objects.visible_to(user).in_use()
        if not (user.is_bureau or user.is_street_manager):
            del self.fields["current_from"]

    def clean_phone(self):
        return self.cleaned_data["phone"].strip()

    def clean_address(self):
        return self.cleaned_data["address"].strip()

    def clean_current_from(self):
        day = self.cleaned_data.get("current_from")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("起始日期不能晚于今天。"))
        return day

    def recipient_values(self):
        return {name: self.cleaned_data[name] for name in self.RECIPIENT_FIELDS}


class LeadCloseForm(forms.Form):
    """不符合 / 无法联系, with the reason kept on the lead."""

    status = forms.ChoiceField(
        label=_("办结结果"),
        choices=[(status.value, status.label) for status in CLOSING_STATUSES],
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择“不符合”或“无法联系”。")},
    )
    reason = forms.CharField(
        label=_("原因"),
        max_length=300,
        widget=forms.TextInput(
            attrs={"placeholder": _("如 家庭收入超过低收入标准;多次上门无人,电话停机")}
        ),
        error_messages={"required": _("请填写原因。")},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "close")
        super().__init__(*args, **kwargs)

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(_("请填写原因。"))
        return reason


class LeadAssignForm(forms.Form):
    """分派顾问: an active advisor of the lead's street (street managers, bureau staff)."""

    advisor = LeadAdvisorField(
        label=_("核实顾问"),
        queryset=Advisor.objects.none(),
        empty_label=_("请选择"),
        error_messages={"required": _("请选择顾问。")},
    )

    def __init__(self, *args, user, lead, **kwargs):
        kwargs.setdefault("prefix", "assign")
        super().__init__(*args, **kwargs)
        self.fields["advisor"].queryset = street_advisors(user, lead)
        self.fields["advisor"].initial = lead.advisor_id


class LeadPlaceForm(forms.Form):
    """定位居委 (bureau staff): a committee of the district, grouped by street."""

    committee = forms.ChoiceField(label=_("居委"), error_messages={"required": _("请选择居委。")})

    def __init__(self, *args, user, lead, **kwargs):
        kwargs.setdefault("prefix", "place")
        super().__init__(*args, **kwargs)
        self.committees = Committee.objects.visible_to(user).select_related("street")
        groups = {}
        for committee in self.committees.order_by("street__code", "code"):
            groups.setdefault(committee.street.name, []).append((committee.pk, committee.name))
        self.fields["committee"].choices = [("", _("请选择居委")), *groups.items()]
        self.fields["committee"].initial = lead.committee_id

    def clean_committee(self):
        value = self.cleaned_data["committee"]
        if not is_row_id(value):
            raise forms.ValidationError(_("请选择居委。"))
        committee = self.committees.filter(pk=value).first()
        if committee is None:
            raise forms.ValidationError(_("该居委不在本区。"))
        return committee
