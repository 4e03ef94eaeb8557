"""The filter bar of the audit pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from audit import selectors
from audit.choices import AccessAction


class TrailFilterForm(forms.Form):
    """Narrow the trail by user, kind of object and object, street, dates and action.

    Built for one reader: the streets offered are the ones they may read, and a user is
    found by login name only among the logins their scope shows (the same answer, "找不到",
    for one that does not exist and one outside the scope).
    """

    user = forms.CharField(label=_("用户名"), required=False, max_length=150)
    model = forms.ChoiceField(label=_("对象类型"), required=False)
    object_id = forms.CharField(label=_("对象编号"), required=False, max_length=64)
    street = forms.ChoiceField(label=_("街镇"), required=False)
    date_from = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(label=_("操作"), required=False)

    def __init__(self, data=None, *, reader, access=False):
        super().__init__(data)
        self.reader = reader
        self.streets = {street.code: street for street in selectors.street_choices(reader)}
        self.fields["street"].choices = [("", _("全部街镇"))] + [
            (code, f"{street.district.name} · {street.name}")
            for code, street in self.streets.items()
        ]
        if access:
            models = selectors.access_object_types()
            actions = list(AccessAction.choices)
        else:
            models = [(t.key, t.verbose_name) for t in selectors.trackings_for(reader)]
            actions = list(selectors.ACTION_LABELS.items())
        self.fields["model"].choices = [("", _("全部类型"))] + sorted(models, key=str)
        self.fields["action"].choices = [("", _("全部操作"))] + actions

    def clean_user(self):
        username = self.cleaned_data["user"].strip()
        if not username:
            return None
        user = selectors.find_user(self.reader, username)
        if user is None:
            raise forms.ValidationError(_("找不到该用户。"))
        return user

    def clean(self):
        cleaned = super().clean()
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from and date_to and date_from > date_to:
            self.add_error("date_to", _("截止日期不能早于起始日期。"))
        return cleaned

    def filters(self):
        """The filters to apply, or None when the form is invalid (then nothing is listed)."""
        if not self.is_bound:
            return selectors.TrailFilters()
        if not self.is_valid():
            return None
        data = self.cleaned_data
        street = self.streets.get(data["street"])
        return selectors.TrailFilters(
            user_id=data["user"].pk if data["user"] else None,
            model_key=data["model"],
            object_id=data["object_id"].strip(),
            street_id=street.pk if street else None,
            date_from=data["date_from"],
            date_to=data["date_to"],
            action=data["action"],
        )

    @property
    def filtered(self):
        return self.is_bound and any(
            value for name, value in self.data.items() if name in self.fields
        )
