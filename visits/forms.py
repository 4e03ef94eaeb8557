"""Forms of the visit record pages: the list's filters, the visit form with the needs it
raised, and the withdrawal.

Forms check what the user typed and offer only rows of the user's scope; the views write
through `visits.services`, which check roles, scope and the entry window again and give the
domain's Chinese errors. A filter form never writes: an invalid filter leaves the list
unfiltered.
"""

import datetime
import re

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField
from advisors.models import Advisor
from cases.checklist_forms import AdvisorChoiceField, CommitteeChoiceField, StreetChoiceField
from cases.choices import NeedCategory, Urgency
from cases.models import Recipient
from stations.models import Committee, Street
from visits.choices import QUICK_CHECKS, CheckLevel, VisitMethod, VisitResult
from visits.coverage import month_label

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
# A text box rather than type="time": typed as 14:30 with the keyboard alone.
TIME_WIDGET = forms.TimeInput(
    attrs={"placeholder": "14:30", "inputmode": "numeric", "maxlength": 8, "size": 8},
    format="%H:%M",
)
# How many months back the list's month filter offers.
MONTH_CHOICES = 24
ALL = ("", _("全部"))
# The result filter's value for both kinds of failed attempt (无人在家, 拒访).
FAILED = "failed"
# Up to this many people, the visit form offers a select of the user's current recipients;
# beyond (a street or the district), it asks for the 档案号.
RECIPIENT_SELECT_LIMIT = 400
MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month_text(text):
    """The first day of a "YYYY-MM" month, or None."""
    match = MONTH_PATTERN.match((text or "").strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (2000 <= year <= 2100 and 1 <= month <= 12):
        return None
    return datetime.date(year, month, 1)


def month_last_day(first):
    following = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


class VisitFilterForm(forms.Form):
    """The visit list's filters and its search box; choices from the user's scope only."""

    RESULT_CHOICES = [
        ALL,
        (VisitResult.COMPLETED, VisitResult.COMPLETED.label),
        (FAILED, _("未成功(无人在家或拒访)")),
        (VisitResult.NOBODY_HOME, VisitResult.NOBODY_HOME.label),
        (VisitResult.REFUSED, VisitResult.REFUSED.label),
    ]

    q = forms.CharField(
        label=_("姓名、拼音首字母或身份证号后4位"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如 王秀英、wxy 或 123X")}),
    )
    month = forms.CharField(label=_("月份"), required=False, max_length=7, widget=forms.Select)
    date_from = forms.DateField(label=_("走访日期自"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("至"), required=False, widget=DATE_WIDGET)
    street = StreetChoiceField(label=_("街镇"), required=False, empty_label=_("全部"))
    committee = CommitteeChoiceField(
        label=_("居委"), queryset=Committee.objects.none(), required=False, empty_label=_("全部")
    )
    advisor = AdvisorChoiceField(
        label=_("走访顾问"), queryset=Advisor.objects.none(), required=False, empty_label=_("全部")
    )
    method = forms.ChoiceField(
        label=_("走访方式"), choices=[ALL, *VisitMethod.choices], required=False
    )
    result = forms.ChoiceField(label=_("走访结果"), choices=RESULT_CHOICES, required=False)
    recipient = ScopedChoiceField(
        label=_("走访对象"),
        queryset=Recipient.objects.none(),
        required=False,
        widget=forms.HiddenInput,
    )
    withdrawn = forms.BooleanField(label=_("含已撤销"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["month"].widget.choices = self._month_choices()
        if user.is_bureau:
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
        else:
            del self.fields["street"]
        committees = Committee.objects.visible_to(user).select_related("street")
        self.fields["committee"].queryset = committees.order_by("street__code", "code")
        self.fields["committee"].with_street = user.is_bureau
        self.fields["advisor"].queryset = (
            Advisor.objects.visible_to(user)
            .select_related("street")
            .order_by("street__code", "advisor_number")
        )
        self.fields["advisor"].with_street = user.is_bureau
        self.fields["recipient"].queryset = Recipient.objects.visible_to(user).select_related(
            "committee"
        )

    def _month_choices(self):
        """The last `MONTH_CHOICES` months, newest first (and a month asked for beyond)."""
        first = timezone.localdate().replace(day=1)
        months = []
        for _index in range(MONTH_CHOICES):
            months.append(first)
            first = (first - datetime.timedelta(days=1)).replace(day=1)
        asked = parse_month_text(self.data.get(self.add_prefix("month"))) if self.is_bound else None
        if asked is not None and asked not in months:
            months = sorted({*months, asked}, reverse=True)
        choices = [(f"{month:%Y-%m}", month_label(month)) for month in months]
        return [ALL, *choices]

    def clean_month(self):
        text = self.cleaned_data["month"].strip()
        if not text:
            return None
        first = parse_month_text(text)
        if first is None:
            raise forms.ValidationError(_("月份请写成 2026-03 的格式。"))
        return first

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return cleaned

    @property
    def filtered(self):
        return self.is_valid() and any(
            value not in ("", None, False) for value in self.cleaned_data.values()
        )

    def period(self):
        """The (first, last) days the filters ask for; either may be None."""
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        if data.get("month"):
            first = data["month"]
            start = max(filter(None, [start, first]))
            end = min(filter(None, [end, month_last_day(first)]))
        return start, end


def filter_visits(visits, form):
    """The visits matching a valid `VisitFilterForm` (a search on the person included)."""
    from cases.views.recipients import search_q

    data = form.cleaned_data
    if not data.get("withdrawn"):
        visits = visits.kept()
    if data["q"].strip():
        visits = visits.filter(recipient__in=Recipient.objects.filter(search_q(data["q"])))
    start, end = form.period()
    if start:
        visits = visits.filter(visited_on__gte=start)
    if end:
        visits = visits.filter(visited_on__lte=end)
    if data.get("street"):
        visits = visits.filter(recipient__street=data["street"])
    if data["committee"]:
        visits = visits.filter(recipient__committee=data["committee"])
    if data["advisor"]:
        visits = visits.filter(advisor=data["advisor"])
    if data["method"]:
        visits = visits.filter(method=data["method"])
    if data["result"] == FAILED:
        visits = visits.exclude(result=VisitResult.COMPLETED)
    elif data["result"]:
        visits = visits.filter(result=data["result"])
    if data["recipient"]:
        visits = visits.filter(recipient=data["recipient"])
    return visits


# The visit ---------------------------------------------------------------------------------


class RecipientLabelField(ScopedChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}({obj.file_number})· {obj.committee.name}"


class VisitAdvisorField(AdvisorChoiceField):
    def label_from_instance(self, obj):
        label = f"{obj.name}({obj.advisor_number})"
        if self.with_street:
            label = f"{obj.street.name} · {label}"
        return label


def _check_field(label):
    return forms.ChoiceField(
        label=label,
        choices=[("", _("未填")), *CheckLevel.choices],
        required=False,
        widget=forms.RadioSelect,
    )


class VisitForm(forms.Form):
    """A visit: the person, the advisor, when and how, what was found, the follow-up.

    - The person is fixed when the page was opened for one (`recipient`); otherwise a
      select of the user's current recipients, or the 档案号 when the user sees too many
      people for a select (a street, the district).
    - An advisor login records its own visits: the advisor is not a field. Keepers choose
      an active advisor of the person's street (the person's advisor first).
    - `visit` is the visit being edited: the person is then fixed too.
    """

    recipient = RecipientLabelField(
        label=_("走访对象"), queryset=Recipient.objects.none(), empty_label=_("请选择")
    )
    recipient_number = forms.CharField(
        label=_("走访对象档案号"),
        max_length=30,
        help_text=_("从困难人员档案进入可免填;也可在困难人员列表中查找档案号。"),
    )
    advisor = VisitAdvisorField(
        label=_("走访顾问"), queryset=Advisor.objects.none(), empty_label=_("请选择")
    )
    visited_on = forms.DateField(label=_("走访日期"), widget=DATE_WIDGET)
    visited_at = forms.TimeField(label=_("走访时间"), required=False, widget=TIME_WIDGET)
    method = forms.ChoiceField(label=_("走访方式"), choices=VisitMethod.choices)
    result = forms.ChoiceField(
        label=_("走访结果"),
        choices=VisitResult.choices,
        widget=forms.RadioSelect,
        help_text=_("无人在家、拒访记为未成功的走访,登记在案但不计入每月走访。"),
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
    follow_up_required = forms.BooleanField(label=_("需要跟进"), required=False)
    follow_up_by = forms.DateField(label=_("跟进期限"), required=False, widget=DATE_WIDGET)
    follow_up_note = forms.CharField(label=_("跟进事项"), required=False, max_length=200)

    CHECK_FIELDS = tuple(name for name, _label in QUICK_CHECKS)
    # The fields `record_visit` / `update_visit` take, besides the person and the advisor.
    VISIT_FIELDS = (
        "visited_on",
        "visited_at",
        "method",
        "result",
        "findings",
        *CHECK_FIELDS,
        "follow_up_required",
        "follow_up_by",
        "follow_up_note",
    )

    def __init__(
        self, *args, user, recipient=None, own_advisor=None, visit=None, method=None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.user = user
        self.fixed_recipient = recipient
        if visit is None:
            self.fields["visited_on"].initial = today
            self.fields["method"].initial = method or VisitMethod.HOME
            self.fields["result"].initial = VisitResult.COMPLETED
        if recipient is not None:
            del self.fields["recipient"]
            del self.fields["recipient_number"]
        else:
            people = (
                Recipient.objects.visible_to(user)
                .registered()
                .current_on(today)
                .select_related("committee")
                .order_by("committee__code", "name", "file_number")
            )
            if people[: RECIPIENT_SELECT_LIMIT + 1].count() <= RECIPIENT_SELECT_LIMIT:
                self.fields["recipient"].queryset = people
                del self.fields["recipient_number"]
            else:
                del self.fields["recipient"]
        if own_advisor is not None:
            del self.fields["advisor"]
        else:
            current = visit.advisor_id if visit is not None else None
            advisors = Advisor.objects.filter(
                Q(pk__in=Advisor.objects.visible_to(user).active(today).values("pk"))
                | Q(pk=current)
            )
            if recipient is not None:
                advisors = advisors.filter(street=recipient.street_id)
                if visit is None and recipient.advisor_id:
                    self.fields["advisor"].initial = recipient.advisor_id
            self.fields["advisor"].queryset = advisors.select_related("street").order_by(
                "street__code", "advisor_number"
            )
            self.fields["advisor"].with_street = user.is_bureau and recipient is None

    def clean_recipient_number(self):
        number = self.cleaned_data["recipient_number"].strip().upper()
        recipient = (
            Recipient.objects.visible_to(self.user)
            .filter(file_number=number)
            .select_related("street", "committee")
            .first()
        )
        if recipient is None:
            raise forms.ValidationError(
                _("找不到档案号为 %(number)s 的人员,或不在您的管理范围内。"),
                params={"number": number},
            )
        return recipient

    def clean_findings(self):
        return self.cleaned_data["findings"].strip()

    def clean_follow_up_note(self):
        return self.cleaned_data["follow_up_note"].strip()

    def clean_visited_on(self):
        day = self.cleaned_data["visited_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("走访日期不能晚于今天。"))
        return day

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("follow_up_required"):
            if "follow_up_by" in cleaned and not cleaned["follow_up_by"]:
                self.add_error("follow_up_by", _("需要跟进时请填写跟进期限。"))
        else:
            cleaned["follow_up_by"] = None
            cleaned["follow_up_note"] = ""
        day, until = cleaned.get("visited_on"), cleaned.get("follow_up_by")
        if day and until and until < day:
            self.add_error("follow_up_by", _("跟进期限不能早于走访日期。"))
        recipient, advisor = self.recipient_of(cleaned), cleaned.get("advisor")
        if recipient and advisor and advisor.street_id != recipient.street_id:
            self.add_error("advisor", _("走访顾问须是该对象所在街镇的顾问。"))
        return cleaned

    def recipient_of(self, cleaned=None):
        cleaned = self.cleaned_data if cleaned is None else cleaned
        if self.fixed_recipient is not None:
            return self.fixed_recipient
        return cleaned.get("recipient") or cleaned.get("recipient_number")

    def visit_values(self):
        return {name: self.cleaned_data[name] for name in self.VISIT_FIELDS}


class NeedRowForm(forms.Form):
    """One need found on the visit; a row left blank is ignored."""

    category = forms.ChoiceField(
        label=_("需求类别"), choices=[("", "—"), *NeedCategory.choices], required=False
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, required=False)
    description = forms.CharField(label=_("需求描述"), max_length=1000, required=False)

    def clean(self):
        cleaned = super().clean()
        category = cleaned.get("category")
        description = (cleaned.get("description") or "").strip()
        cleaned["description"] = description
        if category and not description:
            self.add_error("description", _("请填写需求描述。"))
        elif description and not category:
            self.add_error("category", _("请选择需求类别。"))
        return cleaned

    @property
    def is_blank(self):
        data = getattr(self, "cleaned_data", {})
        return not data.get("category") and not data.get("description")


class BaseNeedRows(forms.BaseFormSet):
    def needs(self):
        """The filled rows, as `record_visit(needs=...)` takes them."""
        return [
            {
                "category": row.cleaned_data["category"],
                "description": row.cleaned_data["description"],
                "urgency": row.cleaned_data.get("urgency") or Urgency.NORMAL,
            }
            for row in self.forms
            if not row.is_blank
        ]


MAX_NEED_ROWS = 3
NeedRows = forms.formset_factory(
    NeedRowForm,
    formset=BaseNeedRows,
    extra=MAX_NEED_ROWS,
    max_num=MAX_NEED_ROWS,
    absolute_max=MAX_NEED_ROWS,
    validate_max=True,
)


def need_rows(data=None):
    rows = NeedRows(data, prefix="needs", initial=None)
    for row in rows.forms:
        row.fields["urgency"].initial = Urgency.NORMAL
    return rows


class WithdrawForm(forms.Form):
    """撤销: the reason is required and kept with the visit."""

    reason = forms.CharField(
        label=_("撤销原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如 重复登记、登记错了对象")}),
    )

    def clean_reason(self):
        reason = " ".join(self.cleaned_data["reason"].split())
        if not reason:
            raise forms.ValidationError(_("请填写撤销原因。"))
        return reason
