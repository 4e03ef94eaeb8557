"""Forms of the cases pages.

Forms validate what the user typed and offer only choices within the user's scope; the
views write through `cases.services`, which check scope and roles again and give the
Chinese errors of the domain (ID numbers, duplicates, advisors in charge).
"""

from django import forms
from django.core.validators import RegexValidator
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField, is_row_id
from advisors.models import Advisor
from cases.choices import Gender, HardshipLevel, RecipientStatus
from cases.models import AssistanceCategory, KeyGroup
from changning_aid.sensitive.fields import IdNumberFormField
from stations.models import Committee, Street

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# Recipients (困难人员) ---------------------------------------------------------------------------


class AdvisorChoiceField(ScopedChoiceField):
    """An advisor, named with their number (and street, when the user sees several)."""

    def __init__(self, *args, with_street=False, **kwargs):
        self.with_street = with_street
        super().__init__(*args, **kwargs)

    def label_from_instance(self, obj):
        label = f"{obj.name}({obj.advisor_number})"
        if self.with_street:
            label = f"{obj.street.name} · {label}"
        if getattr(obj, "left_on", None) and obj.left_on <= timezone.localdate():
            label += _("(已离岗)")
        return label


class VocabularyChoiceField(forms.ModelMultipleChoiceField):
    """Assistance categories or key groups as checkboxes."""

    widget = forms.CheckboxSelectMultiple

    def _check_values(self, value):
        for pk in value:
            if not is_row_id(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


def _advisors(user):
    return (
        Advisor.objects.visible_to(user)
        .select_related("street")
        .order_by("street__code", "advisor_number")
    )


def _sees_several_streets(user):
    return user.is_bureau


class RecipientFilterForm(forms.Form):
    """The recipient list's filters and its one search box; choices from the user's scope."""

    YES_NO = [("", _("全部")), ("yes", _("是")), ("no", _("否"))]

    q = forms.CharField(
        label=_("姓名、拼音首字母或身份证号后4位"),
        required=False,
        max_length=50,
        # Initials: wxy finds 王秀英; a 多音字 by each of its readings (曾: zeng and ceng).
        widget=forms.TextInput(attrs={"placeholder": _("如 王秀英、wxy 或 123X")}),
    )
    street = ScopedChoiceField(
        label=_("街镇"), queryset=Street.objects.none(), required=False, empty_label=_("全部")
    )
    committee = ScopedChoiceField(
        label=_("居委"), queryset=Committee.objects.none(), required=False, empty_label=_("全部")
    )
    category = ScopedChoiceField(
        label=_("救助类别"),
        queryset=AssistanceCategory.objects.none(),
        required=False,
        empty_label=_("全部"),
    )
    key_group = ScopedChoiceField(
        label=_("重点人群"), queryset=KeyGroup.objects.none(), required=False, empty_label=_("全部")
    )
    hardship = forms.ChoiceField(
        label=_("困难程度"), choices=[("", _("全部")), *HardshipLevel.choices], required=False
    )
    current = forms.ChoiceField(label=_("今日现有救助对象"), choices=YES_NO, required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部")), *RecipientStatus.choices], required=False
    )
    advisor = AdvisorChoiceField(
        label=_("责任顾问"), queryset=Advisor.objects.none(), required=False, empty_label=_("全部")
    )
    unassigned = forms.BooleanField(label=_("无在岗责任顾问"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        if _sees_several_streets(user):
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
        else:
            del self.fields["street"]
        self.fields["committee"].queryset = (
            Committee.objects.visible_to(user).select_related("street").order_by("code")
        )
        self.fields["category"].queryset = AssistanceCategory.objects.visible_to(user)
        self.fields["key_group"].queryset = KeyGroup.objects.visible_to(user)
        self.fields["advisor"].queryset = _advisors(user)
        self.fields["advisor"].with_street = _sees_several_streets(user)

    @property
    def filtered(self):
        return self.is_valid() and any(
            value not in ("", None, False) for value in self.cleaned_data.values()
        )


phone_validator = RegexValidator(
    r"^[0-9+\-() ]*$", _("联系电话只能包含数字、空格和 + - ( )。"), code="invalid_phone"
)


class RecipientForm(forms.Form):
    """A person's details for registering (`register_recipient`) or editing them.

    `id_number` shows a stored number masked; the mask sent back unchanged keeps the
    number (`IdNumberFormField.has_changed`). `current_from` is for keepers registering a
    person who is a current recipient already.
    """

    committee = ScopedChoiceField(
        label=_("居委"), queryset=Committee.objects.none(), empty_label=_("请选择居委")
    )
    name = forms.CharField(label=_("姓名"), max_length=50)
    gender = forms.ChoiceField(label=_("性别"), choices=Gender.choices, widget=forms.RadioSelect)
    id_number = IdNumberFormField(label=_("身份证号"))
    phone = forms.CharField(
        label=_("联系电话"), max_length=30, required=False, validators=[phone_validator]
    )
    address = forms.CharField(label=_("居住地址"), max_length=200, required=False)
    household_size = forms.IntegerField(label=_("家庭人口"), min_value=1, max_value=30, initial=1)
    categories = VocabularyChoiceField(
        label=_("救助类别"), queryset=AssistanceCategory.objects.none(), required=False
    )
    key_groups = VocabularyChoiceField(
        label=_("重点人群"), queryset=KeyGroup.objects.none(), required=False
    )
    hardship_level = forms.ChoiceField(
        label=_("困难程度"), choices=HardshipLevel.choices, initial=HardshipLevel.MEDIUM
    )
    advisor = AdvisorChoiceField(
        label=_("责任顾问"),
        queryset=Advisor.objects.none(),
        required=False,
        empty_label=_("暂不指定"),
        help_text=_("本街镇的在岗顾问。"),
    )
    current_from = forms.DateField(
        label=_("现有救助对象起始日期"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("已认定为现有救助对象(每月走访)的,填写起始日期;否则留空。"),
    )

    # The fields `update_recipient` takes as they are.
    DETAIL_FIELDS = (
        "committee",
        "name",
        "gender",
        "phone",
        "address",
        "household_size",
        "hardship_level",
        "advisor",
    )

    def __init__(self, *args, user, recipient=None, **kwargs):
        if recipient is not None:
            initial = {name: getattr(recipient, name) for name in self.DETAIL_FIELDS}
            initial["id_number"] = recipient.id_number
            initial["categories"] = [c.pk for c in recipient.categories.all()]
            initial["key_groups"] = [g.pk for g in recipient.key_groups.all()]
            kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.recipient = recipient
        today = timezone.localdate()
        committees = Committee.objects.visible_to(user)
        if recipient is not None:
            # The person's own committee stays selectable as it is (a person in an
            # advisor's charge may live in a committee the advisor does not serve).
            committees = Committee.objects.filter(
                Q(pk__in=committees.values("pk")) | Q(pk=recipient.committee_id)
            )
        committees = committees.select_related("street").order_by("code")
        advisors = _advisors(user).active(today)
        if recipient is not None:
            # A person's advisor is of their street; keep a departed one selectable as it is.
            advisors = (
                Advisor.objects.filter(
                    Q(pk__in=advisors.filter(street=recipient.street_id).values("pk"))
                    | Q(pk=recipient.advisor_id)
                )
                .select_related("street")
                .order_by("advisor_number")
            )
            del self.fields["current_from"]
        elif not (user.is_bureau or user.is_street_manager):
            del self.fields["current_from"]
        self.fields["committee"].queryset = committees
        self.fields["committee"].label_from_instance = (
            (lambda c: f"{c.street.name} · {c.name}") if user.is_bureau else (lambda c: c.name)
        )
        self.fields["advisor"].queryset = advisors
        self.fields["advisor"].with_street = _sees_several_streets(user) and recipient is None
        self.fields["categories"].queryset = AssistanceCategory.objects.visible_to(user).in_use()
        self.fields["key_groups"].queryset = KeyGroup.objects.visible_to(user).in_use()

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("请填写姓名。"))
        return name

    def clean_current_from(self):
        day = self.cleaned_data.get("current_from")
        if day and day > timezone.localdate():
            raise forms.ValidationError(_("起始日期不能晚于今天。"))
        return day

    def clean(self):
        cleaned = super().clean()
        committee, advisor = cleaned.get("committee"), cleaned.get("advisor")
        if committee and advisor and advisor.street_id != committee.street_id:
            self.add_error("advisor", _("责任顾问必须是该居委所在街镇的顾问。"))
        return cleaned

    def id_number_changed(self):
        """Whether the ID number was typed anew (not the stored one's mask sent back)."""
        return "id_number" in self.changed_data


class StartCurrentForm(forms.Form):
    """认定为现有救助对象 from a day on."""

    starts_on = forms.DateField(label=_("起始日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def clean_starts_on(self):
        day = self.cleaned_data["starts_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("起始日期不能晚于今天。"))
        return day


class EndCurrentForm(forms.Form):
    """不再是现有救助对象 after a day."""

    ends_on = forms.DateField(label=_("结束日期"), widget=DATE_WIDGET)
    note = forms.CharField(label=_("说明"), max_length=200, required=False)


class ExitForm(forms.Form):
    """退出登记 with a date and a reason."""

    exited_on = forms.DateField(label=_("退出日期"), widget=DATE_WIDGET)
    reason = forms.CharField(label=_("退出原因"), max_length=200)

    def clean_exited_on(self):
        day = self.cleaned_data["exited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("退出日期不能晚于今天。"))
        return day

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("请填写退出原因。"))
        return reason


class HandoverForm(forms.Form):
    """移交: the advisor who leaves (or left), and an active advisor of the street to take over."""

    from_advisor = AdvisorChoiceField(
        label=_("移交顾问"),
        queryset=Advisor.objects.none(),
        empty_label=_("请选择"),
        help_text=_("离岗或调整的顾问:其负责的困难人员和未办结需求将一并移交。"),
    )
    to_advisor = AdvisorChoiceField(
        label=_("接手顾问"),
        queryset=Advisor.objects.none(),
        empty_label=_("请选择"),
        help_text=_("同一街镇的在岗顾问。"),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        several = _sees_several_streets(user)
        self.fields["from_advisor"].queryset = _advisors(user)
        self.fields["from_advisor"].with_street = several
        self.fields["to_advisor"].queryset = _advisors(user).active(timezone.localdate())
        self.fields["to_advisor"].with_street = several

    def clean(self):
        cleaned = super().clean()
        leaving, taking = cleaned.get("from_advisor"), cleaned.get("to_advisor")
        if leaving and taking:
            if leaving.pk == taking.pk:
                self.add_error("to_advisor", _("请选择另一名顾问接手。"))
            elif leaving.street_id != taking.street_id:
                self.add_error("to_advisor", _("接手顾问必须是同一街镇的顾问。"))
        return cleaned


class VocabularyEntryForm(forms.Form):
    """A new entry of an assistance category or key group list."""

    name = forms.CharField(label=_("名称"), max_length=30)
    order = forms.IntegerField(
        label=_("排序"), min_value=0, max_value=32767, initial=100, help_text=_("小的排在前面。")
    )
