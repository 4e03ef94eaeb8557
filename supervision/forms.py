"""Forms of the inspection and rectification pages.

Forms check what the user typed and offer only rows of the user's scope; the views write
through `supervision.inspections` and `supervision.rectification`, which check role and
scope again and give the domain's Chinese errors. Filter forms never write: an invalid
filter leaves the list unfiltered.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField
from stations.models import Station, Street
from supervision.attachments import AttachmentsField
from supervision.models import (
    CHECK_ITEM_GUIDANCE,
    ITEM_MAX_SCORE,
    CheckItem,
    OrderStatus,
    Severity,
)

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ALL = ("", _("全部"))


def _date_field(label, **kwargs):
    kwargs.setdefault("widget", DATE_WIDGET)
    kwargs.setdefault("error_messages", {"invalid": _("请输入有效日期,如 2026-03-15。")})
    return forms.DateField(label=label, **kwargs)


class StreetChoiceField(ScopedChoiceField):
    """A street of the user's scope, by its code (`?street=310105001`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Street.objects.none())
        kwargs.setdefault("to_field_name", "code")
        super().__init__(**kwargs)


class StationField(ScopedChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.street.name} · {obj.name}"


def visible_streets(user):
    return Street.objects.visible_to(user).order_by("code")


def _street_filter(form, user):
    """Keep the street filter for users who see more than one street (bureau staff)."""
    if user.is_bureau:
        form.fields["street"].queryset = visible_streets(user)
    else:
        del form.fields["street"]


# Inspections ----------------------------------------------------------------------------------


class InspectionFilterForm(forms.Form):
    ANNOUNCED_CHOICES = [ALL, ("no", _("不定期(暗访)")), ("yes", _("事先通知"))]

    street = StreetChoiceField(label=_("街镇"), required=False, empty_label=_("全部"))
    date_from = _date_field(_("检查日期从"), required=False)
    date_to = _date_field(_("至"), required=False)
    announced = forms.ChoiceField(label=_("检查方式"), choices=ANNOUNCED_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _street_filter(self, user)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return data


class InspectionForm(forms.Form):
    """A new 督导检查: where, when, who, announced or not, and the checklist's scores."""

    street = ScopedChoiceField(label=_("检查街镇"), queryset=Street.objects.none())
    station = StationField(
        label=_("检查站点"),
        queryset=Station.objects.none(),
        required=False,
        empty_label=_("(整个街镇)"),
        help_text=_("只检查某个站点时选择;须是所选街镇的站点。"),
    )
    inspected_on = _date_field(_("检查日期"))
    inspectors = forms.CharField(
        label=_("检查人员"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如 张伟、李娜")}),
    )
    announced = forms.BooleanField(
        label=_("事先通知"),
        required=False,
        help_text=_("不勾选表示不定期检查(暗访)。"),
    )
    summary = forms.CharField(
        label=_("检查情况"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["street"].queryset = visible_streets(user)
        self.fields["station"].queryset = (
            Station.objects.visible_to(user)
            .filter(street__isnull=False)
            .select_related("street")
            .order_by("street__code", "kind", "committee__code", "pk")
        )
        self.fields["inspected_on"].initial = timezone.localdate()
        for item in CheckItem:
            self.fields[f"score_{item.value}"] = forms.IntegerField(
                label=item.label,
                required=False,
                min_value=0,
                max_value=ITEM_MAX_SCORE,
                help_text=CHECK_ITEM_GUIDANCE[item],
                widget=forms.NumberInput(attrs={"min": 0, "max": ITEM_MAX_SCORE, "step": 1}),
                error_messages={
                    "invalid": _("请输入 0 到 %(max)s 的整数。") % {"max": ITEM_MAX_SCORE},
                    "min_value": _("得分不能低于 0 分。"),
                    "max_value": _("得分不能高于 %(max)s 分。") % {"max": ITEM_MAX_SCORE},
                },
            )
            self.fields[f"remark_{item.value}"] = forms.CharField(
                label=_("%(item)s说明") % {"item": item.label}, required=False, max_length=500
            )

    def item_rows(self):
        """(item label, guidance, score field, remark field) for the checklist table."""
        return [
            (
                item.label,
                CHECK_ITEM_GUIDANCE[item],
                self[f"score_{item.value}"],
                self[f"remark_{item.value}"],
            )
            for item in CheckItem
        ]

    def scores(self):
        """The cleaned checklist as the service takes it: {item: {"score", "remark"}}."""
        data = self.cleaned_data
        return {
            item.value: {
                "score": data.get(f"score_{item.value}"),
                "remark": data.get(f"remark_{item.value}", ""),
            }
            for item in CheckItem
            if data.get(f"score_{item.value}") is not None or data.get(f"remark_{item.value}")
        }


class FindingForm(forms.Form):
    """A problem an inspection found, with photos or files."""

    item = forms.ChoiceField(
        label=_("检查项目"), choices=[("", _("(不限)")), *CheckItem.choices], required=False
    )
    severity = forms.ChoiceField(
        label=_("严重程度"), choices=Severity.choices, initial=Severity.GENERAL
    )
    description = forms.CharField(
        label=_("问题描述"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    files = AttachmentsField(label=_("照片或文件"), purpose=_("现场照片或检查记录"))


# Rectification orders -------------------------------------------------------------------------


class OrderFilterForm(forms.Form):
    STATUS_CHOICES = [
        ALL,
        ("unclosed", _("未办结")),
        (OrderStatus.OPEN, OrderStatus.OPEN.label),
        (OrderStatus.ANSWERED, OrderStatus.ANSWERED.label),
        (OrderStatus.CLOSED, OrderStatus.CLOSED.label),
    ]

    status = forms.ChoiceField(label=_("状态"), choices=STATUS_CHOICES, required=False)
    overdue = forms.BooleanField(label=_("只看逾期"), required=False)
    street = StreetChoiceField(label=_("责任街镇"), required=False, empty_label=_("全部"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _street_filter(self, user)


class OrderForm(forms.Form):
    """A new 整改通知: to which street, what is wrong, what to do, and by when."""

    street = ScopedChoiceField(label=_("责任街镇"), queryset=Street.objects.none())
    problem = forms.CharField(
        label=_("存在问题"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    requirement = forms.CharField(
        label=_("整改要求"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    deadline = _date_field(
        _("整改期限"),
        error_messages={
            "required": _("请填写整改期限。"),
            "invalid": _("请输入有效日期,如 2026-03-15。"),
        },
    )

    def __init__(self, *args, user, finding=None, **kwargs):
        super().__init__(*args, **kwargs)
        if finding is not None:
            # The street is the one the finding's inspection checked.
            del self.fields["street"]
        else:
            self.fields["street"].queryset = visible_streets(user)
        self.fields["problem"].error_messages["required"] = _("请填写存在的问题。")

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline < timezone.localdate():
            raise forms.ValidationError(_("整改期限不能早于今天。"))
        return deadline


class AnswerForm(forms.Form):
    comment = forms.CharField(
        label=_("整改情况"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写整改情况。")},
    )
    files = AttachmentsField(label=_("佐证材料"), purpose=_("整改后的照片或文件"))


class VerifyForm(forms.Form):
    closed_on = _date_field(_("办结日期"), help_text=_("默认今天;可追溯到街镇提交整改情况的日期。"))
    comment = forms.CharField(
        label=_("验收意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["closed_on"].initial = timezone.localdate()
        self.fields["closed_on"].error_messages["required"] = _("请填写办结日期。")


class SendBackForm(forms.Form):
    reason = forms.CharField(
        label=_("退回原因"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写退回原因。")},
    )


class ExtendForm(forms.Form):
    new_deadline = _date_field(
        _("新的整改期限"),
        error_messages={
            "required": _("请填写新的整改期限。"),
            "invalid": _("请输入有效日期,如 2026-03-15。"),
        },
    )
    reason = forms.CharField(
        label=_("延期原因"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写延期原因。")},
    )
