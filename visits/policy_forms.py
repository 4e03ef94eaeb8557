"""The bureau's settings of the monthly visit rule (C9), as a form.

Bounds are the model's; the messages say in Chinese what is allowed. Days are kept within
28 so that a setting means the same in February as in any other month.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from visits.choices import VisitMethod
from visits.models import VisitPolicy


def _days_field(label, minimum, help_text):
    message = _("请填写 %(min)d 到 28 之间的整数。") % {"min": minimum}
    return forms.IntegerField(
        label=label,
        min_value=minimum,
        max_value=28,
        help_text=help_text,
        error_messages={
            "required": _("请填写%(label)s。") % {"label": label},
            "invalid": message,
            "min_value": message,
            "max_value": message,
        },
        widget=forms.NumberInput(attrs={"min": minimum, "max": 28, "step": 1}),
    )


class VisitPolicyForm(forms.ModelForm):
    """due_days, excluded methods, late-entry day and reminder days of a district."""

    due_days = _days_field(
        _("应走访的在册天数"),
        1,
        _("当月作为现有救助对象满此天数的,当月应走访(默认 15 天)。"),
    )
    excluded_methods = forms.MultipleChoiceField(
        label=_("不计入的走访方式"),
        choices=VisitMethod.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("勾选的方式照常登记,但不计入每月走访。不能全部勾选。"),
        error_messages={"invalid_choice": _("未知的走访方式。")},
    )
    late_entry_day = _days_field(
        _("上月补录截止日"),
        0,
        _("顾问可在本月此日(含)之前补录上月的走访;0 表示不能补录。更早的记录须由街镇管理员录入。"),
    )
    reminder_days = _days_field(
        _("月底提醒天数"),
        1,
        _("本月剩余天数(含当天)不超过此数时,提醒尚未走访的对象。"),
    )

    class Meta:
        model = VisitPolicy
        fields = ["due_days", "excluded_methods", "late_entry_day", "reminder_days"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean_excluded_methods(self):
        methods = self.cleaned_data["excluded_methods"]
        if set(methods) >= set(VisitMethod.values):
            raise forms.ValidationError(_("不能排除全部走访方式,至少保留一种计入的方式。"))
        # Stored in the order the choices list them, whatever the order they came in.
        return [value for value in VisitMethod.values if value in methods]

    def save(self, commit=True):
        """Save the district's settings, recording who changed them (call in a transaction)."""
        policy = super().save(commit=False)
        policy.updated_by = self.actor
        if commit:
            policy.full_clean()
            policy.save()
        return policy
