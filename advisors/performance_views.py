"""The advisor performance page (顾问考核) and the nominations for 救助顾问明星 and 业务骨干.

A street manager sees their street's advisors side by side and nominates from there; bureau
staff pick a street of their district (or the whole district) and confirm or decline the
nominations. Advisors have neither page (a 403 page in Chinese). Every row comes through
`visible_to(request.user)`; another area's advisor or nomination answers 404. The page runs
a fixed number of queries whatever the number of advisors (`advisors.performance`).
"""

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from advisors import performance as selectors
from advisors.models import Advisor, Nomination, NominationStatus, RecognitionTitle
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404
from stations.models import Street
from supervision.engine import parse_period

PER_PAGE = 50

SORT_COLUMNS = (
    ("name", gettext_lazy("顾问")),
    ("coverage", gettext_lazy("走访率")),
    ("services", gettext_lazy("服务次数")),
    ("resolved", gettext_lazy("解决需求")),
    ("days", gettext_lazy("平均办结天数")),
    ("satisfaction", gettext_lazy("满意率")),
)


def _can_see(user):
    return user.is_bureau or user.is_street_manager


class NominationForm(forms.Form):
    title = forms.ChoiceField(label=gettext_lazy("称号"), choices=RecognitionTitle.choices)
    year = forms.IntegerField(
        label=gettext_lazy("年度"),
        min_value=2000,
        max_value=2100,
        error_messages={
            "required": gettext_lazy("请填写年度。"),
            "invalid": gettext_lazy("年度应为四位数字,如 2026。"),
            "min_value": gettext_lazy("年度不能早于2000年。"),
            "max_value": gettext_lazy("年度不能晚于2100年。"),
        },
    )
    reason = forms.CharField(
        label=gettext_lazy("推荐理由"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": gettext_lazy("请填写推荐理由。")},
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("审核意见"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _period(request):
    """The period asked for (?period=2026-10 / 2026Q3 / 2026), else the current month; with
    the Chinese message of a period that could not be read."""
    text = request.GET.get("period", "").strip()
    default = f"{timezone.localdate():%Y-%m}"
    if text:
        try:
            return parse_period(text), None
        except ValueError as error:
            return parse_period(default), str(error)
    return parse_period(default), None


def performance(request):
    """顾问考核: each advisor's visit coverage, services, needs resolved and satisfaction."""
    user = request.user
    if not _can_see(user):
        return forbidden(request, _("只有街镇管理员和区民政局可以查看顾问考核。"))
    period, period_error = _period(request)
    if period_error:
        messages.error(request, period_error)
    streets = []
    if user.is_street_manager:
        street = user.street
        district_id = street.district_id
    else:
        district_id = user.district_id
        streets = list(Street.objects.visible_to(user).order_by("code"))
        code = request.GET.get("street", "").strip()
        street = None
        if code:
            street = next((item for item in streets if item.code == code), None)
            if street is None:
                raise Http404
    sort = selectors.clean_sort(request.GET.get("sort"))
    rows = selectors.advisor_figures(
        user, period, district_id=district_id, street=street, sort=sort
    )
    ids = [row.advisor.pk for row in rows]
    recognitions = {}
    for nomination in (
        Nomination.objects.visible_to(user).filter(advisor__in=ids).order_by("-year", "title")
    ):
        recognitions.setdefault(nomination.advisor_id, []).append(nomination)
    for row in rows:
        row.nominations = recognitions.get(row.advisor.pk, [])

    base = {"period": period.key}
    if street is not None and user.is_bureau:
        base["street"] = street.code
    columns = []
    for key, label in SORT_COLUMNS:
        next_sort = f"-{key}" if sort == key else key
        columns.append(
            {
                "label": label,
                "url": "?" + urlencode({**base, "sort": next_sort}),
                "active": sort.removeprefix("-") == key,
                "reversed": sort.startswith("-"),
            }
        )
    return render(
        request,
        "advisors/performance.html",
        {
            "period": period,
            "period_text": request.GET.get("period", "").strip() or period.key,
            "street": street,
            "streets": streets,
            "rows": rows,
            "columns": columns,
            "sort": sort,
            "can_nominate": selectors.can_nominate(user),
            "show_street": street is None,
        },
    )


def nominate(request, pk):
    """提名表彰: a street manager nominates an advisor of their street."""
    advisor = scoped_get_or_404(Advisor.objects.select_related("street"), request.user, pk=pk)
    if not selectors.can_nominate(request.user):
        return forbidden(
            request,
            _("只有街镇管理员可以提名救助顾问明星和业务骨干。"),
            back_url=reverse("advisors:detail", args=[advisor.pk]),
        )
    form = NominationForm(
        request.POST or None, initial={"year": timezone.localdate().year, "title": "star"}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            selectors.nominate(
                actor=request.user,
                advisor=advisor,
                title=data["title"],
                year=data["year"],
                reason=data["reason"],
            )
        except PermissionDenied as error:
            return forbidden(request, str(error))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已提名,等待区民政局确认。"))
            return redirect("advisors:nominations")
    if request.method == "POST" and form.errors:
        messages.error(request, _("提名未提交:请按提示修改后再提交。"))
    return render(request, "advisors/nomination_form.html", {"advisor": advisor, "form": form})


def nominations(request):
    """表彰提名: the nominations of the user's street or district, pending first."""
    user = request.user
    if not _can_see(user):
        return forbidden(request, _("只有街镇管理员和区民政局可以查看表彰提名。"))
    status = request.GET.get("status", "").strip()
    rows = Nomination.objects.visible_to(user).select_related(
        "advisor__street", "nominated_by", "decided_by"
    )
    if status in NominationStatus.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    rows = rows.order_by("-nominated_at", "-pk")
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "advisors/nominations.html",
        {
            "page_obj": page,
            "status": status,
            "statuses": NominationStatus.choices,
            "can_decide": selectors.can_decide(user),
            "decision_form": DecisionForm(),
        },
    )


def _decide(request, pk, run, success):
    nomination = scoped_get_or_404(
        Nomination.objects.select_related("advisor"), request.user, pk=pk
    )
    if request.method != "POST":
        return redirect("advisors:nominations")
    if not selectors.can_decide(request.user):
        return forbidden(
            request,
            _("只有区民政局可以确认或不予通过表彰提名。"),
            back_url=reverse("advisors:nominations"),
        )
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            run(nomination, form.cleaned_data["reason"])
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=reverse("advisors:nominations"))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, success % {"label": nomination.label})
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect("advisors:nominations")


def nomination_confirm(request, pk):
    return _decide(
        request,
        pk,
        lambda nomination, reason: selectors.confirm_nomination(
            actor=request.user, nomination=nomination, reason=reason
        ),
        _("已确认%(label)s。"),
    )


def nomination_decline(request, pk):
    return _decide(
        request,
        pk,
        lambda nomination, reason: selectors.decline_nomination(
            actor=request.user, nomination=nomination, reason=reason
        ),
        _("提名%(label)s未予通过。"),
    )
