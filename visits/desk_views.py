"""The advisor's desk (走访工作台): the advisor's home page, and visits logged from it.

- `desk`: who is due this month and in what order (`visits.desk`), the month's figures, the
  open follow-ups, a search box and the quick visit form. `?scope=all` lists every
  current recipient the login sees instead of the advisor's own; `?q=` searches (the
  page works as a plain GET form without JavaScript); `?pick=<pk>` puts a person in the
  quick form.
- `desk_search`: the search results alone, fetched as the advisor types (static/js/desk.js).
- `desk_record`: the quick form's POST. Called by desk.js (header `X-Desk-Partial`) it
  answers the parts of the page that changed (the figures, the follow-ups, the list, the
  message) or the form's errors (400); a plain POST redirects back to the desk (PRG) or
  shows the desk again with the errors.
- The desk also lists the advisor's open leads (政策找人线索) and the 情况变化 of their
  people that other departments' lists brought (`visits.desk.desk_leads`,
  `desk_situation_changes`); `fact_acknowledge` is the 已核实 button's POST, from the desk
  and from the person's file alike (the person's advisor, or a keeper).

Only advisor logins have a desk; other roles get the Chinese 403 page. An advisor login
without an advisor record (not yet linked by the street) sees an explanation instead.
"""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from advisors.models import Advisor
from cases import leads as lead_services
from cases.models import Lead, LeadFact, Recipient
from cases.views.recipients import can_acknowledge_facts_of, search_q
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404
from visits import services
from visits.choices import FAILED_RESULTS, QUICK_CHECKS, CheckLevel, VisitMethod, VisitResult
from visits.desk import (
    DeskMonth,
    attach_follow_ups,
    desk_follow_ups,
    desk_leads,
    desk_rows,
    desk_situation_changes,
    desk_summary,
    mark_states,
    search_rows,
    situation_changes,
)
from visits.models import Visit, policy_for

# One page holds an advisor's whole charge; only a street station's "all" tab may need more.
PER_PAGE = 200
SCOPES = ("mine", "all")
PARTIAL_HEADER = "X-Desk-Partial"
MAX_PK = 2**31 - 1

CHECK_CHOICES = [("", gettext_lazy("未填")), *CheckLevel.choices]


class QuickVisitForm(forms.Form):
    """The desk's quick visit: the person, the date, how, what was found, the quick checks."""

    recipient = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=MAX_PK
    )
    visited_on = forms.DateField(
        label=gettext_lazy("走访日期"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    method = forms.ChoiceField(label=gettext_lazy("走访方式"), choices=VisitMethod.choices)
    result = forms.ChoiceField(label=gettext_lazy("走访结果"), choices=VisitResult.choices)
    findings = forms.CharField(
        label=gettext_lazy("走访情况"),
        required=False,
        max_length=2000,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    living = forms.ChoiceField(
        label=gettext_lazy("生活状况"), choices=CHECK_CHOICES, required=False
    )
    health = forms.ChoiceField(
        label=gettext_lazy("健康状况"), choices=CHECK_CHOICES, required=False
    )
    housing = forms.ChoiceField(
        label=gettext_lazy("居住安全"), choices=CHECK_CHOICES, required=False
    )
    mood = forms.ChoiceField(label=gettext_lazy("心理状态"), choices=CHECK_CHOICES, required=False)
    follow_up_required = forms.BooleanField(label=gettext_lazy("需要跟进"), required=False)
    follow_up_by = forms.DateField(
        label=gettext_lazy("跟进期限"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    follow_up_note = forms.CharField(label=gettext_lazy("跟进事项"), required=False, max_length=200)

    def __init__(self, *args, today, method, window, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "visited_on": today,
                "method": method,
                "result": VisitResult.COMPLETED,
                **{name: CheckLevel.NORMAL for name, _label in QUICK_CHECKS},
            },
        )
        super().__init__(*args, **kwargs)
        earliest, latest = window
        attrs = self.fields["visited_on"].widget.attrs
        attrs["max"] = latest.isoformat()
        if earliest is not None:
            attrs["min"] = earliest.isoformat()
        self.fields["findings"].widget.attrs["placeholder"] = _("按 Enter 保存")

    @property
    def check_fields(self):
        return [self[name] for name, _label in QUICK_CHECKS]


def _scope(request):
    scope = request.GET.get("scope", "")
    return scope if scope in SCOPES else "mine"


def _desk_url(scope):
    url = reverse("visits:desk")
    return f"{url}?scope=all" if scope == "all" else url


def _is_partial(request):
    return request.headers.get(PARTIAL_HEADER) == "1"


def _refusal(request):
    """The 403 page for a login that has no desk (every role but the advisor)."""
    if request.user.is_advisor:
        return None
    return forbidden(
        request, _("走访工作台是社区救助顾问的页面,您的账号没有走访工作台。"), back_url=None
    )


def _own_advisor(user):
    """The advisor record of the login (with its street), or None when not linked yet."""
    return Advisor.objects.select_related("street").filter(user=user).first()


class Desk:
    """What every answer of the desk reads: the login, its advisor record, the month, the
    policy of the district and the people listed in the chosen tab."""

    def __init__(self, request, advisor, scope):
        self.request = request
        self.user = request.user
        self.advisor = advisor
        self.scope = scope
        self.today = timezone.localdate()
        self.month = DeskMonth.on(self.today)
        self.policy = policy_for(advisor.street.district_id)
        self.visible = Recipient.objects.visible_to(self.user)
        listed = self.visible.current_on(self.today)
        if scope == "mine":
            listed = listed.filter(advisor=advisor)
        self.listed = listed

    def window(self):
        return services.entry_window(self.user, self.policy, self.today)

    def form(self, data=None):
        return QuickVisitForm(
            data,
            today=self.today,
            method=services.last_method(self.advisor),
            window=self.window(),
        )

    def parts(self):
        """The context of the parts that change when a visit is logged."""
        page = Paginator(desk_rows(self.listed, self.month, self.policy), PER_PAGE).get_page(
            self.request.GET.get("page")
        )
        rows = mark_states(list(page.object_list), self.month)
        follow_ups = desk_follow_ups(Visit.objects.visible_to(self.user), self.listed, self.today)
        attach_follow_ups(rows, follow_ups)
        page.object_list = rows
        return {
            "advisor": self.advisor,
            "scope": self.scope,
            "month": self.month,
            "policy": self.policy,
            "page_obj": page,
            "rows": rows,
            "follow_ups": follow_ups,
            "summary": desk_summary(self.listed, self.month, self.policy),
            "desk_url": _desk_url(self.scope),
        }

    def search(self, text):
        """The people of the login's whole scope the search text finds (None for no search)."""
        text = (text or "").strip()[:50]
        if not text:
            return None
        return search_rows(self.visible, search_q(text), self.month, self.policy)

    def lead_panels(self):
        """The 政策找人 panels: the open leads the login sees and the 情况变化 to check (of
        the advisor's people on the "mine" tab, of everyone the login sees on "all")."""
        flagged = situation_changes(
            LeadFact.objects.visible_to(self.user),
            advisor=self.advisor if self.scope == "mine" else None,
        )
        return {
            "leads": desk_leads(Lead.objects.visible_to(self.user), self.today),
            "lead_visit_days": settings.LEAD_VISIT_DAYS,
            "situation": desk_situation_changes(flagged, self.user),
        }

    def page(self, *, form=None, picked=None, status=200):
        q = (self.request.GET.get("q") or "").strip()[:50]
        context = {
            **self.parts(),
            **self.lead_panels(),
            "form": form or self.form(),
            "picked": picked,
            "q": q,
            "results": self.search(q),
            "window": self.window(),
            "full_form_url": reverse("visits:create"),
        }
        return render(self.request, "visits/desk.html", context, status=status)


def _no_profile(request):
    return render(request, "visits/desk_no_profile.html")


@require_GET
def desk(request):
    """走访工作台: the advisor's month at a glance and the quick visit form."""
    refusal = _refusal(request)
    if refusal:
        return refusal
    advisor = _own_advisor(request.user)
    if advisor is None:
        return _no_profile(request)
    desk = Desk(request, advisor, _scope(request))
    picked = None
    pick = request.GET.get("pick")
    if pick:
        picked = scoped_get_or_404(
            Recipient.objects.select_related("committee"), request.user, pk=pick
        )
    return desk.page(picked=picked)


@require_GET
def desk_search(request):
    """The search results as a fragment of the desk (the listbox desk.js shows)."""
    refusal = _refusal(request)
    if refusal:
        return refusal
    advisor = _own_advisor(request.user)
    if advisor is None:
        return _no_profile(request)
    desk = Desk(request, advisor, _scope(request))
    q = (request.GET.get("q") or "").strip()[:50]
    return render(
        request,
        "visits/_desk_results.html",
        {"results": desk.search(q), "q": q, "scope": desk.scope},
    )


def _recorded_message(visit):
    day = _("%(month)d月%(day)d日") % {"month": visit.visited_on.month, "day": visit.visited_on.day}
    message = _("已记录:%(name)s %(date)s %(method)s") % {
        "name": visit.recipient.name,
        "date": day,
        "method": visit.get_method_display(),
    }
    if visit.result in FAILED_RESULTS:
        message += _("(%(result)s,不计入本月走访)") % {"result": visit.get_result_display()}
    return message


def _record(user, advisor, recipient, data):
    """Record the quick form's visit through the service."""
    return services.record_visit(
        actor=user,
        recipient=recipient,
        advisor=advisor,
        visited_on=data["visited_on"],
        method=data["method"],
        result=data["result"],
        findings=data["findings"],
        **{name: data[name] for name, _label in QUICK_CHECKS},
        follow_up_required=data["follow_up_required"],
        follow_up_by=data["follow_up_by"] if data["follow_up_required"] else None,
        follow_up_note=data["follow_up_note"] if data["follow_up_required"] else "",
    )


@require_POST
def desk_record(request):
    """Log a visit from the quick form (see the module for the answers)."""
    refusal = _refusal(request)
    if refusal:
        return refusal
    advisor = _own_advisor(request.user)
    if advisor is None:
        return forbidden(
            request,
            _("您的账号还没有关联社区救助顾问档案,不能登记走访。请联系街镇管理员。"),
            back_url=reverse("visits:desk"),
        )
    desk = Desk(request, advisor, _scope(request))
    form = desk.form(request.POST)
    valid = form.is_valid()
    recipient = None
    pk = form.cleaned_data.get("recipient")
    if pk:
        # Another area's person answers 404, the same as one that does not exist.
        recipient = scoped_get_or_404(
            Recipient.objects.select_related("committee", "street"), request.user, pk=pk
        )
    elif "recipient" not in form.errors:
        form.add_error("recipient", _("请先查找并选择走访对象。"))
        valid = False
    if valid:
        try:
            visit = _record(request.user, advisor, recipient, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            message = _recorded_message(visit)
            if _is_partial(request):
                return render(
                    request, "visits/_desk_parts.html", {**desk.parts(), "message": message}
                )
            messages.success(request, message)
            return redirect(_desk_url(desk.scope))
    if _is_partial(request):
        return render(request, "visits/_desk_errors.html", {"form": form}, status=400)
    return desk.page(form=form, picked=recipient)


# 情况变化 -----------------------------------------------------------------------------------


def _back_to(request, default):
    """Where the 已核实 button sends the user back: the page it was on, else `default`."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def fact_acknowledge(request, pk):
    """已核实: the person's advisor (or a keeper) has checked a 情况变化 on their file.

    A fact the login does not see answers 404; one they see but may not check (another
    advisor's person) the 403 page. Back to the desk or the file the button was on.
    """
    user = request.user
    fact = get_object_or_404(
        LeadFact.objects.visible_to(user).select_related("recipient__advisor", "source"), pk=pk
    )
    recipient = fact.recipient
    if request.method != "POST":
        # Asked by address: the fact is in scope (else 404 above); nothing to do but go back.
        return redirect(recipient.get_absolute_url() if recipient else reverse("visits:desk"))
    if user.is_advisor:
        default = reverse("visits:desk") + "#situation-changes"
    elif recipient is not None:
        default = recipient.get_absolute_url() + "#source-facts"
    else:
        default = reverse("home")
    back = _back_to(request, default)
    if recipient is None or not can_acknowledge_facts_of(user, recipient):
        return forbidden(
            request,
            _("只有该对象的责任顾问、街镇管理员或区民政局可以核实情况变化。"),
            back_url=back,
        )
    if recipient.is_anonymised:
        messages.error(request, _("该档案已匿名化,不能核实。"))
        return redirect(back)
    if fact.acknowledged_at is not None or not fact.changes_situation:
        messages.info(request, _("该情况已核实过,无需再次核实。"))
        return redirect(back)
    lead_services.acknowledge_fact(actor=user, fact=fact)
    messages.success(
        request,
        _("已核实:%(name)s 的“%(source)s”情况变化(名单日期 %(date)s)。")
        % {
            "name": recipient.name,
            "source": fact.source.name,
            "date": fact.received_on.isoformat(),
        },
    )
    return redirect(back)
