"""Forms of the checklist pages: needs, resources, services, evaluations and list reviews.

Forms validate what the user typed and offer only rows of the user's scope; the views write
through `cases.services`, which check scope and roles again and give the domain's Chinese
errors. Filter forms of the lists never write: an invalid filter leaves the list unfiltered.
"""

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.forms import ScopedChoiceField
from advisors.models import Advisor
from cases.choices import (
    COMMITTEE_POINT_TASKS,
    NEED_TRANSITIONS,
    STREET_STATION_TASKS,
    AreaLevel,
    Checklist,
    NeedCategory,
    NeedSource,
    NeedStatus,
    Rating,
    ResourceType,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from cases.models import Need, Recipient, Resource
from cases.services import street_list_q
from stations.choices import StationKind
from stations.models import Committee, Station, Street

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
ALL = ("", _("全部"))


def _with_all(choices):
    return [ALL, *choices]


class StreetChoiceField(ScopedChoiceField):
    """A street of the user's scope, by its code in the address (`?street=310105001`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", Street.objects.none())
        kwargs.setdefault("to_field_name", "code")
        super().__init__(**kwargs)


class AdvisorChoiceField(ScopedChoiceField):
    """An advisor, shown with their street when several streets are offered."""

    with_street = False

    def label_from_instance(self, obj):
        if self.with_street:
            return f"{obj.name}({obj.street.name})"
        return obj.name


class CommitteeChoiceField(ScopedChoiceField):
    with_street = False

    def label_from_instance(self, obj):
        if self.with_street:
            return f"{obj.street.name} · {obj.name}"
        return obj.name


class ResourceChoiceField(ScopedChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}({obj.get_resource_type_display()} · {obj.resource_number})"


class NeedChoiceField(ScopedChoiceField):
    def label_from_instance(self, obj):
        return (
            f"{obj.need_number} {obj.get_category_display()} · {obj.get_status_display()}"
            f" · {obj.description[:20]}"
        )


def _streets_filter(form, user):
    """Keep the street filter for users who see more than one street (bureau staff)."""
    if user.is_bureau:
        form.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
    else:
        del form.fields["street"]


def _advisor_choices(field, advisors, user):
    field.queryset = advisors.select_related("street").order_by("street__code", "advisor_number")
    field.with_street = user.is_bureau


# Lists ----------------------------------------------------------------------------------------


class NeedFilterForm(forms.Form):
    """The needs list's filters (checklist 2); choices come from the user's scope only."""

    STATE_CHOICES = [ALL, ("open", _("未办结")), ("closed", _("已办结"))]

    q = forms.CharField(
        label=_("姓名、拼音首字母或档案号"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如 张三、zs 或档案号")}),
    )
    street = StreetChoiceField(label=_("街镇"), required=False, empty_label=_("全部"))
    committee = CommitteeChoiceField(
        label=_("居委"), queryset=Committee.objects.none(), required=False, empty_label=_("全部")
    )
    category = forms.ChoiceField(
        label=_("需求类别"), choices=_with_all(NeedCategory.choices), required=False
    )
    status = forms.ChoiceField(
        label=_("状态"), choices=_with_all(NeedStatus.choices), required=False
    )
    state = forms.ChoiceField(label=_("办结情况"), choices=STATE_CHOICES, required=False)
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=_with_all(Urgency.choices), required=False
    )
    source = forms.ChoiceField(
        label=_("发现方式"), choices=_with_all(NeedSource.choices), required=False
    )
    advisor = AdvisorChoiceField(
        label=_("责任顾问"), queryset=Advisor.objects.none(), required=False, empty_label=_("全部")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _streets_filter(self, user)
        committees = Committee.objects.visible_to(user).select_related("street")
        self.fields["committee"].queryset = committees.order_by("street__code", "code")
        self.fields["committee"].with_street = user.is_bureau
        _advisor_choices(self.fields["advisor"], Advisor.objects.visible_to(user), user)


class ResourceFilterForm(forms.Form):
    """The resource list's filters (checklist 3)."""

    VALIDITY_CHOICES = [ALL, ("valid", _("今日有效")), ("invalid", _("已过期或未生效"))]

    q = forms.CharField(
        label=_("名称、提供方或提供内容"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如 临时救助、慈善超市")}),
    )
    street = StreetChoiceField(
        label=_("街镇清单"),
        required=False,
        empty_label=_("全部"),
        help_text=_("该街镇自己的资源和全区资源。"),
    )
    resource_type = forms.ChoiceField(
        label=_("资源类型"), choices=_with_all(ResourceType.choices), required=False
    )
    area_level = forms.ChoiceField(
        label=_("覆盖范围"), choices=_with_all(AreaLevel.choices), required=False
    )
    validity = forms.ChoiceField(label=_("有效期"), choices=VALIDITY_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _streets_filter(self, user)


class ServiceFilterForm(forms.Form):
    """The service list's filters (checklist 4)."""

    q = forms.CharField(
        label=_("服务对象姓名、拼音首字母或档案号"),
        required=False,
        max_length=50,
        widget=forms.TextInput(attrs={"placeholder": _("如 张三、zs 或档案号")}),
    )
    street = StreetChoiceField(label=_("街镇"), required=False, empty_label=_("全部"))
    station = ScopedChoiceField(
        label=_("服务站点"), queryset=Station.objects.none(), required=False, empty_label=_("全部")
    )
    advisor = AdvisorChoiceField(
        label=_("服务顾问"), queryset=Advisor.objects.none(), required=False, empty_label=_("全部")
    )
    item = forms.ChoiceField(
        label=_("服务事项"), choices=_with_all(ServiceItem.choices), required=False
    )
    task = forms.ChoiceField(
        label=_("服务任务"), choices=_with_all(ServiceTask.choices), required=False
    )
    step = forms.TypedChoiceField(
        label=_("服务流程环节"),
        choices=_with_all(ServiceStep.choices),
        required=False,
        coerce=int,
        empty_value=None,
    )
    date_from = forms.DateField(label=_("服务日期自"), required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label=_("服务日期至"), required=False, widget=DATE_WIDGET)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        _streets_filter(self, user)
        self.fields["station"].queryset = (
            Station.objects.visible_to(user).exclude(kind=StationKind.GUIDANCE).order_by("pk")
        )
        _advisor_choices(self.fields["advisor"], Advisor.objects.visible_to(user), user)

    def clean(self):
        cleaned = super().clean()
        first, last = cleaned.get("date_from"), cleaned.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return cleaned


# Needs ----------------------------------------------------------------------------------------


class NeedForm(forms.Form):
    """A need of a person (checklist 2); the person's advisor is responsible by default."""

    category = forms.ChoiceField(label=_("需求类别"), choices=NeedCategory.choices)
    description = forms.CharField(
        label=_("需求描述"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    source = forms.ChoiceField(label=_("发现方式"), choices=NeedSource.choices)
    found_on = forms.DateField(label=_("发现日期"), widget=DATE_WIDGET)
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=Urgency.choices, widget=forms.RadioSelect
    )
    advisor = AdvisorChoiceField(
        label=_("责任顾问"),
        queryset=Advisor.objects.none(),
        required=False,
        empty_label=_("暂不指定"),
    )

    def __init__(self, *args, user, recipient, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["found_on"].initial = today
        self.fields["urgency"].initial = Urgency.NORMAL
        self.fields["advisor"].initial = recipient.advisor_id
        # The street's active advisors the user sees, and the person's own advisor.
        advisors = Advisor.objects.filter(
            Q(pk__in=Advisor.objects.visible_to(user).active(today).values("pk"))
            | Q(pk=recipient.advisor_id),
            street=recipient.street_id,
        )
        self.fields["advisor"].queryset = advisors.order_by("advisor_number")

    def clean_description(self):
        description = self.cleaned_data["description"].strip()
        if not description:
            raise forms.ValidationError(_("请填写需求描述。"))
        return description

    def clean_found_on(self):
        found_on = self.cleaned_data["found_on"]
        if found_on > timezone.localdate():
            raise forms.ValidationError(_("发现日期不能晚于今天。"))
        return found_on


class NeedStatusForm(forms.Form):
    """The next status of a need: only the steps `NEED_TRANSITIONS` allows from its status."""

    status = forms.ChoiceField(label=_("变更为"), choices=())
    on = forms.DateField(
        label=_("办结日期"),
        required=False,
        widget=DATE_WIDGET,
        help_text=_("办结(已解决、无法解决)时填写,默认今天。"),
    )
    outcome = forms.CharField(
        label=_("办结情况或原因"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("无法解决时必须说明原因。"),
    )

    def __init__(self, *args, need, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = NEED_TRANSITIONS[NeedStatus(need.status)]
        self.fields["status"].choices = [(status.value, status.label) for status in allowed]
        self.found_on = need.found_on

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("status")
        outcome = (cleaned.get("outcome") or "").strip()
        cleaned["outcome"] = outcome
        if status == NeedStatus.UNRESOLVABLE and not outcome:
            self.add_error("outcome", _("无法解决时请说明原因。"))
        on = cleaned.get("on")
        if on and on > timezone.localdate():
            self.add_error("on", _("办结日期不能晚于今天。"))
        elif on and on < self.found_on:
            self.add_error("on", _("办结日期不能早于发现日期。"))
        return cleaned


class LinkResourceForm(forms.Form):
    """A resource to link to a need: visible to the user, valid today, not linked yet."""

    resource = ResourceChoiceField(label=_("对接资源"), queryset=Resource.objects.none())

    def __init__(self, *args, user, need, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = (
            Resource.objects.visible_to(user)
            .valid_on(timezone.localdate())
            .filter(street_list_q(need.recipient.street))
            .exclude(pk__in=need.resource_links.values("resource"))
            .order_by("resource_type", "name", "pk")
        )


# Resources ------------------------------------------------------------------------------------

RESOURCE_FORM_FIELDS = (
    "name",
    "resource_type",
    "provider",
    "contact",
    "offers",
    "eligibility",
    "capacity",
    "valid_from",
    "valid_to",
    "legal_basis",
)


class ResourceForm(forms.ModelForm):
    """A resource of the list (checklist 3).

    Creating, bureau staff choose the area: the whole district, a street or a committee of
    their district; a street manager a resource of their street or of one of its committees.
    The area never changes afterwards (`area=False`): edit forms carry the details only.
    """

    area_level = forms.ChoiceField(label=_("覆盖范围"), choices=AreaLevel.choices)
    street = ScopedChoiceField(
        label=_("街镇"),
        queryset=Street.objects.none(),
        required=False,
        help_text=_("街镇资源填写;居委资源可只选居委。"),
    )
    committee = CommitteeChoiceField(
        label=_("居委"),
        queryset=Committee.objects.none(),
        required=False,
        help_text=_("居委资源填写。"),
    )

    class Meta:
        model = Resource
        fields = RESOURCE_FORM_FIELDS
        widgets = {
            "valid_from": DATE_WIDGET,
            "valid_to": DATE_WIDGET,
            "offers": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, user, area=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not area:
            for name in ("area_level", "street", "committee"):
                del self.fields[name]
            return
        committees = Committee.objects.visible_to(user).select_related("street")
        self.fields["committee"].queryset = committees.order_by("street__code", "code")
        if user.is_bureau:
            self.fields["street"].queryset = Street.objects.visible_to(user).order_by("code")
            self.fields["committee"].with_street = True
        else:
            # A street manager's resources are of their street or its committees.
            del self.fields["street"]
            self.fields["area_level"].choices = [
                (value, label) for value, label in AreaLevel.choices if value != AreaLevel.DISTRICT
            ]
            self.fields["area_level"].initial = AreaLevel.STREET

    def clean(self):
        cleaned = super().clean()
        level = cleaned.get("area_level")
        if level == AreaLevel.DISTRICT:
            if cleaned.get("street") or cleaned.get("committee"):
                self.add_error("area_level", _("全区资源不填写街镇和居委。"))
        elif level == AreaLevel.STREET:
            if "street" in self.fields and not cleaned.get("street"):
                self.add_error("street", _("街镇资源须填写街镇。"))
            if cleaned.get("committee"):
                self.add_error("committee", _("街镇资源不填写居委。"))
        elif (
            level == AreaLevel.COMMITTEE
            and not cleaned.get("committee")
            and "committee" not in self.errors
        ):
            self.add_error("committee", _("居委资源须填写居委。"))
        return cleaned

    def _post_clean(self):
        # The model is validated whole by the services, with the area they set.
        pass


# Services -------------------------------------------------------------------------------------


def task_choices(kinds):
    """The tasks offered for stations of `kinds`: grouped by kind when there are several.

    A street station offers 政策解答、申请受理、资源链接, a committee point 上门走访、需求排摸、
    政策引导、代办申请、资源链接、日常联系; a professional point any of them.
    """
    by_kind = {
        StationKind.STREET: STREET_STATION_TASKS,
        StationKind.COMMITTEE: COMMITTEE_POINT_TASKS,
    }
    groups = []
    for kind in (StationKind.STREET, StationKind.COMMITTEE, StationKind.PROFESSIONAL):
        if kind in kinds:
            tasks = by_kind.get(kind, tuple(ServiceTask))
            groups.append((StationKind(kind).label, [(t.value, t.label) for t in tasks]))
    if len(groups) == 1:
        return groups[0][1]
    if not groups:
        return list(ServiceTask.choices)
    return groups


class ServiceForm(forms.Form):
    """A service delivered (checklist 4), to a person (档案号) or to a group (head count).

    An advisor login records its own services: the advisor is theirs and is not a field,
    the stations are the ones they serve. Keepers choose among the street's active advisors
    and its stations (of the person's street when the person is known). The need offered
    are the person's; the resources, those visible to the user and valid today.
    """

    date = forms.DateField(label=_("服务日期"), widget=DATE_WIDGET)
    advisor = AdvisorChoiceField(label=_("服务顾问"), queryset=Advisor.objects.none())
    station = ScopedChoiceField(label=_("服务站点"), queryset=Station.objects.none())
    recipient = forms.CharField(
        label=_("服务对象档案号"),
        required=False,
        max_length=30,
        help_text=_("个人服务填写档案号;集体活动不填,改填参加人数。"),
    )
    head_count = forms.IntegerField(
        label=_("参加人数"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=_("仅集体活动填写。"),
    )
    item = forms.ChoiceField(label=_("服务事项"), choices=ServiceItem.choices)
    task = forms.ChoiceField(label=_("服务任务"), choices=ServiceTask.choices)
    content = forms.CharField(
        label=_("服务内容"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    outcome = forms.CharField(label=_("服务结果"), max_length=500, required=False)
    need = NeedChoiceField(
        label=_("相关需求"), queryset=Need.objects.none(), required=False, empty_label=_("无")
    )
    resource = ResourceChoiceField(
        label=_("相关资源"),
        queryset=Resource.objects.none(),
        required=False,
        empty_label=_("无"),
    )
    step = forms.TypedChoiceField(label=_("服务流程环节"), choices=ServiceStep.choices, coerce=int)

    def __init__(self, *args, user, own_advisor=None, recipient=None, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.user = user
        self.fields["date"].initial = today
        stations = Station.objects.visible_to(user).exclude(kind=StationKind.GUIDANCE)
        if own_advisor is not None:
            del self.fields["advisor"]
            stations = stations.filter(advisor_links__advisor=own_advisor)
        else:
            advisors = Advisor.objects.visible_to(user).active(today)
            if recipient is not None:
                advisors = advisors.filter(street=recipient.street_id)
                stations = stations.filter(street=recipient.street_id)
            stations = stations.filter(advisor_links__isnull=False).distinct()
            _advisor_choices(self.fields["advisor"], advisors, user)
            if recipient is not None and recipient.advisor_id:
                self.fields["advisor"].initial = recipient.advisor_id
        stations = stations.order_by("street__code", "kind", "committee__code", "pk")
        self.fields["station"].queryset = stations
        self.fields["task"].choices = task_choices(set(stations.values_list("kind", flat=True)))
        if own_advisor is not None:
            primary = own_advisor.station_links.filter(is_primary=True).first()
            if primary is not None:
                self.fields["station"].initial = primary.station_id
        # The person is known from the address (?recipient=, ?need=) or from what was typed.
        if recipient is None and self.is_bound:
            recipient = self._find_recipient(self.data.get(self.add_prefix("recipient")))
        self.recipient = recipient
        if recipient is not None:
            self.fields["recipient"].initial = recipient.file_number
            needs = Need.objects.visible_to(user).filter(recipient=recipient)
        else:
            needs = Need.objects.none()
        self.fields["need"].queryset = needs.order_by("-found_on", "-pk")
        resources = Resource.objects.visible_to(user).valid_on(today)
        if recipient is not None:
            resources = resources.filter(street_list_q(recipient.street))
        self.fields["resource"].queryset = resources.order_by("resource_type", "name", "pk")

    def _find_recipient(self, file_number):
        file_number = (file_number or "").strip().upper()
        # A file number is DA + digits: anything else (a NUL character PostgreSQL refuses,
        # say) finds nobody without asking the database.
        if not file_number or len(file_number) > 30 or not file_number.isascii():
            return None
        if not file_number.isalnum():
            return None
        return (
            Recipient.objects.visible_to(self.user)
            .filter(file_number=file_number)
            .select_related("street")
            .first()
        )

    def clean_recipient(self):
        file_number = self.cleaned_data["recipient"].strip()
        if not file_number:
            return None
        recipient = self._find_recipient(file_number)
        if recipient is None:
            raise forms.ValidationError(
                _("找不到档案号为 %(number)s 的人员。"), params={"number": file_number}
            )
        return recipient

    def clean_content(self):
        content = self.cleaned_data["content"].strip()
        if not content:
            raise forms.ValidationError(_("请填写服务内容。"))
        return content

    def clean(self):
        cleaned = super().clean()
        if "recipient" in cleaned and "head_count" in cleaned:
            recipient, head_count = cleaned["recipient"], cleaned["head_count"]
            if recipient is None and not head_count:
                self.add_error(
                    "head_count", _("集体活动请填写参加人数;个人服务请填写服务对象档案号。")
                )
            elif recipient is not None and head_count:
                self.add_error("head_count", _("个人服务不填写参加人数。"))
        return cleaned


class EvaluationForm(forms.Form):
    """The served person's rating of a service, entered by staff after it (服务评议)."""

    rating = forms.ChoiceField(label=_("评价"), choices=Rating.choices, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("意见建议"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReviewForm(forms.Form):
    """A review (复核) of one of a street's four lists, dated today."""

    checklist = forms.ChoiceField(
        label=_("清单"), choices=Checklist.choices, widget=forms.HiddenInput
    )
    note = forms.CharField(label=_("复核说明"), required=False, max_length=500)
