"""The pages of the month rule (C9): figures, misses, the matrix, reminders and the settings.

Every page reads `visits.coverage` (the one definition of C9) over the people the user may
see (`Recipient.objects.visible_to`), cut down to a street (`?street=<code>`) or a committee
(`?committee=<code>`) resolved in the user's scope: another area's code answers 404, like
one that does not exist. Each page runs a fixed number of queries whatever the number of
people (the figures are aggregates; the lists are one page of annotated rows).

Who sees what:
- bureau staff: their district, street by street, and they keep the district's settings;
- street managers: their street, committee by committee and advisor by advisor;
- advisors: the figures of the people they see (their committees' and those in their
  charge), which is what their desk is judged by — the same numbers the street sees;
- system and audit administrators: no personal data, so none of these pages (403).
"""

import datetime
import re
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _

from advisors.models import Advisor
from cases.models import AdvisorCharge, CurrentPeriod, Recipient
from changning_aid.db_router import report_reads
from changning_aid.pages import forbidden
from changning_aid.scoping import advisor_station_ids, scoped_get_or_404
from stations.models import Committee, Station, Street
from visits import coverage
from visits.choices import MonthState
from visits.models import Visit, VisitPolicy, policy_for
from visits.policy_forms import VisitPolicyForm

MISSES_PER_PAGE = 50
DUE_PER_PAGE = 100
MATRIX_PER_PAGE = 100
MATRIX_MONTHS = 12
NO_ADVISOR = "none"

_QUARTER = re.compile(r"^(\d{4})[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def can_view_coverage(user):
    """Bureau staff, street managers and advisors; the administrators keep no personal data."""
    return user.is_bureau or user.is_street_manager or user.is_advisor


def _refuse(request):
    return forbidden(
        request,
        _("走访统计只对区民政局、街镇管理员和社区救助顾问开放。"),
        back_url=reverse("home"),
    )


# The scope of a page -----------------------------------------------------------------------


@dataclass
class Scope:
    """The people a page counts: the user's, cut down to a street or a committee."""

    user: object
    recipients: QuerySet
    street: Street | None = None
    committee: Committee | None = None
    policy: VisitPolicy | None = None

    @property
    def level(self):
        """committee, street, district (bureau staff without a street) or own (an advisor's)."""
        if self.committee is not None:
            return "committee"
        if self.street is not None:
            return "street"
        return "district" if self.user.is_bureau else "own"

    @property
    def params(self):
        """The query parameters that name this scope (for links to the other pages)."""
        if self.committee is not None:
            return {"committee": self.committee.code}
        if self.street is not None and not self.user.is_street_manager:
            return {"street": self.street.code}
        return {}

    def query(self, **extra):
        """A query string (without '?') for this scope plus `extra` (None values left out)."""
        values = {**self.params, **{k: v for k, v in extra.items() if v not in (None, "")}}
        return urlencode(values)

    @property
    def name(self):
        if self.committee is not None:
            return f"{self.committee.street.name} · {self.committee.name}"
        if self.street is not None:
            return self.street.name
        if self.user.is_bureau and self.user.district_id:
            return self.user.district.name
        return _("我服务的对象")


def resolve_scope(request):
    """The scope of `?street=` / `?committee=` within the user's (404 outside it)."""
    user = request.user
    recipients = Recipient.objects.visible_to(user)
    street = committee = None
    committee_code = request.GET.get("committee", "").strip()
    street_code = request.GET.get("street", "").strip()
    if committee_code:
        committee = scoped_get_or_404(
            Committee.objects.select_related("street__district"), user, code=committee_code
        )
        street = committee.street
        if street_code and street_code != street.code:
            raise Http404
    elif street_code:
        street = scoped_get_or_404(
            Street.objects.select_related("district"), user, code=street_code
        )
    elif user.is_street_manager and user.street_id:
        street = user.street
    if committee is not None:
        recipients = recipients.filter(committee=committee)
    elif street is not None:
        recipients = recipients.filter(street=street)
    return Scope(
        user=user,
        recipients=recipients,
        street=street,
        committee=committee,
        policy=policy_for(_district_id(user, street)),
    )


def _district_id(user, street):
    if user.is_bureau:
        return user.district_id
    if street is not None:
        return street.district_id
    if user.is_advisor:
        return (
            Station.objects.filter(pk__in=advisor_station_ids(user))
            .values_list("district_id", flat=True)
            .first()
        )
    return None


def policy_note(policy):
    """The district's settings in one sentence, shown beside the figures."""
    parts = [_("当月为现有救助对象满%(days)d天的应走访") % {"days": policy.due_days}]
    excluded = policy.excluded_method_labels()
    if excluded:
        parts.append(_("%(methods)s走访不计入") % {"methods": "、".join(str(m) for m in excluded)})
    parts.append(_("无人在家、拒访不计入"))
    parts.append(_("一个月内多次走访只计一次"))
    return ";".join(parts) + "。"


# Months and periods -----------------------------------------------------------------------


@dataclass
class Period:
    """The month (or quarter, or year) a page shows, with its navigation."""

    months: list
    label: str
    kind: str  # month, quarter, year
    key: str  # the value of ?month= or ?period=
    today: datetime.date
    error: str = ""
    prev_key: str = ""
    next_key: str = ""

    @property
    def first(self):
        return self.months[0]

    @property
    def last_month(self):
        return self.months[-1]

    @property
    def in_progress(self):
        return coverage.current_month(self.today) in self.months

    @property
    def param(self):
        return {"month": self.key} if self.kind == "month" else {"period": self.key}


def month_period(first, today, error=""):
    current = coverage.current_month(today)
    prev_first = coverage.shift_month(first, -1)
    next_first = coverage.shift_month(first, 1)
    return Period(
        months=[first],
        label=coverage.month_label(first),
        kind="month",
        key=coverage.month_key(first),
        today=today,
        error=error,
        prev_key=coverage.month_key(prev_first) if prev_first.year >= 2000 else "",
        next_key=coverage.month_key(next_first) if next_first <= current else "",
    )


def parse_month_param(text, today):
    """The first day of the month asked for (the current month when none), and an error."""
    current = coverage.current_month(today)
    text = (text or "").strip()
    if not text:
        return current, ""
    try:
        first = coverage.parse_month(text)
    except ValueError:
        return current, _("月份应写作“2026-10”这样的年-月,下面显示的是本月。")
    if first > current:
        return current, _("所选月份尚未开始,下面显示的是本月。")
    return first, ""


def parse_period(request, today):
    """`?period=2026Q3` (a quarter) or `?period=2026` (a year), else `?month=2026-10`."""
    text = request.GET.get("period", "").strip()
    if text:
        period = quarter_or_year(text, today)
        if period is not None:
            return period
        first, _error = parse_month_param(request.GET.get("month"), today)
        return month_period(
            first, today, _("统计期应写作“2026Q3”(季度)或“2026”(年度),且不能尚未开始。")
        )
    first, error = parse_month_param(request.GET.get("month"), today)
    return month_period(first, today, error)


def quarter_or_year(text, today):
    """The quarter `2026Q3` or the year `2026` as a Period, None when `text` is neither or
    has not begun. Months that have not begun are left out of a quarter or a year."""
    quarter, year = _QUARTER.match(text), _YEAR.match(text)
    if not (quarter or year):
        return None
    number = int((quarter or year)[1])
    if not 2000 <= number <= today.year:
        return None
    if quarter:
        q = int(quarter[2])
        months = [datetime.date(number, 3 * q - 2 + i, 1) for i in range(3)]
        label = _("%(year)d年第%(quarter)d季度") % {"year": number, "quarter": q}
        key, kind = f"{number}Q{q}", "quarter"
    else:
        months = [datetime.date(number, m, 1) for m in range(1, 13)]
        label = _("%(year)d年") % {"year": number}
        key, kind = str(number), "year"
    current = coverage.current_month(today)
    months = [m for m in months if m <= current]
    if not months:
        return None
    return Period(months=months, label=label, kind=kind, key=key, today=today)


def period_choices(today):
    """The quarters and years offered by the period selector (this year and last)."""
    choices = []
    for year in (today.year, today.year - 1):
        last_quarter = (today.month - 1) // 3 + 1 if year == today.year else 4
        for q in range(last_quarter, 0, -1):
            choices.append(
                (f"{year}Q{q}", _("%(year)d年第%(quarter)d季度") % {"year": year, "quarter": q})
            )
        choices.append((str(year), _("%(year)d年全年") % {"year": year}))
    return choices


def days_left(today):
    """Days left in the month of `today`, today included (on the last day: 1)."""
    return (coverage.month_bounds(today)[1] - today).days + 1


# Rows of the figure tables ------------------------------------------------------------------


@dataclass
class FigureRow:
    """One line of a figures table: who, the figure, where its misses and its details are."""

    label: str
    figure: coverage.Figure
    misses_url: str = ""
    detail_url: str = ""
    code: str = ""


def _advisor_rows(figures, scope, period, base):
    """The figures per responsible advisor (on the month's last day), named, nobody last."""
    names = dict(
        Advisor.objects.filter(pk__in=[k for k in figures if k is not None]).values_list(
            "pk", "name"
        )
    )
    rows = []
    for key, figure in figures.items():
        if not figure.due:
            continue
        label = names.get(key, _("顾问")) if key is not None else _("未指定责任顾问")
        misses_url = ""
        if period.kind == "month" and figure.missed:
            misses_url = base + "?" + scope.query(**period.param, advisor=key or NO_ADVISOR)
        rows.append(
            FigureRow(label=label, figure=figure, misses_url=misses_url, code=str(key or ""))
        )
    rows.sort(key=lambda row: (row.code == "", -row.figure.missed, row.label))
    return rows


def _month_rows(scope, period):
    """In a quarter or a year: each month's figure, with its list of misses."""
    misses = reverse("visits:misses")
    rows = []
    for first in period.months:
        figure = coverage.month_figures(scope.recipients, first, scope.policy)
        key = coverage.month_key(first)
        rows.append(
            FigureRow(
                label=coverage.month_label(first),
                figure=figure,
                misses_url=misses + "?" + scope.query(month=key) if figure.missed else "",
                detail_url=reverse("visits:coverage") + "?" + scope.query(month=key),
                code=key,
            )
        )
    return rows


def _place_rows(scope, period, figures, places, param):
    """One row per street (or committee) of the scope, with its figure (empty when none due)."""
    coverage_url = reverse("visits:coverage")
    misses_url = reverse("visits:misses")
    matrix_url = reverse("visits:matrix")
    rows = []
    for place in places:
        figure = figures.get(place.pk, coverage.Figure())
        own = {param: place.code}
        if period.kind == "month":
            misses = misses_url + "?" + urlencode({**own, **period.param}) if figure.missed else ""
        else:
            # Misses are listed month by month: a quarter's drill down is the matrix.
            end = coverage.month_key(period.last_month)
            misses = matrix_url + "?" + urlencode({**own, "end": end}) if figure.missed else ""
        rows.append(
            FigureRow(
                label=place.name,
                figure=figure,
                misses_url=misses,
                detail_url=coverage_url + "?" + urlencode({**own, **period.param}),
                code=place.code,
            )
        )
    return rows


# Pages --------------------------------------------------------------------------------------


@report_reads
def coverage_page(request):
    """每月走访情况: due, visited, missed and rate for the scope, then place by place."""
    user = request.user
    if not can_view_coverage(user):
        return _refuse(request)
    scope = resolve_scope(request)
    today = timezone.localdate()
    period = parse_period(request, today)
    recipients, policy, months = scope.recipients, scope.policy, period.months

    # The scope's figure is the sum of its streets' (or committees'): every person has one
    # street and one committee, and a year of the district costs one aggregate less so.
    by_place = coverage.period_figures(
        recipients, months, policy, by="street" if scope.level == "district" else "committee"
    )
    figure = sum(by_place.values(), coverage.Figure())
    place_rows, place_kind = [], ""
    if scope.level == "district":
        streets = Street.objects.visible_to(user).order_by("code")
        place_rows, place_kind = _place_rows(scope, period, by_place, streets, "street"), "street"
    elif scope.level in ("street", "own"):
        by_committee = by_place
        committees = Committee.objects.visible_to(user)
        if scope.street is not None:
            committees = committees.filter(street=scope.street)
        committees = Committee.objects.filter(
            Q(pk__in=committees.values("pk")) | Q(pk__in=[k for k in by_committee if k is not None])
        ).order_by("code")
        place_rows = _place_rows(scope, period, by_committee, committees, "committee")
        place_kind = "committee"
    advisor_rows = []
    if scope.level != "district":
        by_advisor = coverage.period_figures(recipients, months, policy, by="advisor")
        advisor_rows = _advisor_rows(by_advisor, scope, period, reverse("visits:misses"))
    month_rows = _month_rows(scope, period) if period.kind != "month" else []

    misses_url = ""
    if period.kind == "month" and figure.missed:
        misses_url = reverse("visits:misses") + "?" + scope.query(**period.param)
    # A district's matrix starts by choosing a street (see `matrix_page`).
    end = coverage.month_key(period.last_month)
    matrix_url = reverse("visits:matrix") + "?" + scope.query(end=end)
    return render(
        request,
        "visits/coverage.html",
        {
            "scope": scope,
            "period": period,
            "figure": figure,
            "place_rows": place_rows,
            "place_kind": place_kind,
            "place_total": sum((row.figure for row in place_rows), coverage.Figure()),
            "advisor_rows": advisor_rows,
            "month_rows": month_rows,
            "misses_url": misses_url,
            "matrix_url": matrix_url,
            "due_url": reverse("visits:due") + ("?" + scope.query() if scope.query() else ""),
            "scope_query": scope.query(),
            "policy": policy,
            "policy_note": policy_note(policy),
            "can_edit_policy": user.is_bureau and bool(user.district_id),
            "period_choices": period_choices(today),
            "month_value": coverage.month_key(period.first) if period.kind == "month" else "",
        },
    )


def _last_visit_before(first, policy):
    """A subquery: the date of the outer person's last counted visit before `first`."""
    visits = (
        Visit.objects.counted(policy)
        .filter(recipient=OuterRef("pk"), visited_on__lt=first)
        .order_by("-visited_on")
        .values("visited_on")[:1]
    )
    return Subquery(visits)


def _advisor_filter(request, scope):
    """`?advisor=<pk>` or `?advisor=none`: (a Q over `m_advisor`, the advisor's name, the key).

    Only an advisor who was ever responsible for someone of the scope is named (else 404),
    so that the page tells nothing of other streets' advisors.
    """
    text = request.GET.get("advisor", "").strip()
    if not text:
        return None, "", ""
    if text == NO_ADVISOR:
        return Q(m_advisor__isnull=True), _("未指定责任顾问"), NO_ADVISOR
    if not text.isdigit() or len(text) > 12:
        raise Http404
    charges = AdvisorCharge.objects.filter(recipient__in=scope.recipients.values("pk"))
    advisor = (
        Advisor.objects.filter(pk=int(text), pk__in=charges.values("advisor"))
        .only("pk", "name")
        .first()
    )
    if advisor is None:
        raise Http404
    return Q(m_advisor=advisor.pk), advisor.name, str(advisor.pk)


def _advisor_chips(scope, first, selected, base, extra):
    """Per responsible advisor: how many are missed (filter links), nobody last."""
    figures = coverage.month_figures(scope.recipients, first, scope.policy, by="advisor")
    names = dict(
        Advisor.objects.filter(pk__in=[k for k in figures if k is not None]).values_list(
            "pk", "name"
        )
    )
    chips = []
    for key, figure in figures.items():
        if not figure.missed:
            continue
        value = str(key) if key is not None else NO_ADVISOR
        chips.append(
            {
                "label": names.get(key, _("顾问")) if key is not None else _("未指定责任顾问"),
                "count": figure.missed,
                "url": base + "?" + scope.query(**extra, advisor=value),
                "active": value == selected,
                "nobody": key is None,
            }
        )
    chips.sort(key=lambda chip: (chip["nobody"], -chip["count"], chip["label"]))
    return chips, names


@report_reads
def misses_page(request):
    """漏访名单: the people due in the month and not visited, with who was responsible."""
    user = request.user
    if not can_view_coverage(user):
        return _refuse(request)
    scope = resolve_scope(request)
    today = timezone.localdate()
    first, error = parse_month_param(request.GET.get("month"), today)
    period = month_period(first, today, error)
    advisor_q, advisor_name, advisor_key = _advisor_filter(request, scope)

    rows = coverage.misses(scope.recipients, first, scope.policy).annotate(
        last_visit=_last_visit_before(first, scope.policy)
    )
    if advisor_q is not None:
        rows = rows.filter(advisor_q)
    rows = rows.select_related("committee")
    page = Paginator(rows, MISSES_PER_PAGE).get_page(request.GET.get("page"))
    base = reverse("visits:misses")
    chips, names = _advisor_chips(scope, first, advisor_key, base, period.param)
    missing = [r.m_advisor for r in page.object_list if r.m_advisor and r.m_advisor not in names]
    if missing:
        names.update(Advisor.objects.filter(pk__in=missing).values_list("pk", "name"))
    for row in page.object_list:
        row.responsible_name = names.get(row.m_advisor, "") if row.m_advisor else ""
    return render(
        request,
        "visits/misses.html",
        {
            "scope": scope,
            "period": period,
            "page_obj": page,
            "advisor_name": advisor_name,
            "advisor_key": advisor_key,
            "chips": chips,
            "all_url": base + "?" + scope.query(**period.param),
            "coverage_url": reverse("visits:coverage") + "?" + scope.query(**period.param),
            "policy_note": policy_note(scope.policy),
            "month_value": coverage.month_key(first),
        },
    )


def due_page(request):
    """本月待走访: the people due this month and not yet visited, by advisor, with days left."""
    user = request.user
    if not can_view_coverage(user):
        return _refuse(request)
    scope = resolve_scope(request)
    today = timezone.localdate()
    first = coverage.current_month(today)
    advisor_q, advisor_name, advisor_key = _advisor_filter(request, scope)
    rows = coverage.misses(scope.recipients, first, scope.policy).annotate(
        last_visit=_last_visit_before(first, scope.policy),
        current_today=Exists(
            CurrentPeriod.objects.covering(today).filter(recipient=OuterRef("pk"))
        ),
    )
    if advisor_q is not None:
        rows = rows.filter(advisor_q)
    rows = rows.select_related("committee").order_by(
        F("m_advisor").asc(nulls_last=True), "committee__code", "file_number"
    )
    page = Paginator(rows, DUE_PER_PAGE).get_page(request.GET.get("page"))
    base = reverse("visits:due")
    chips, names = _advisor_chips(scope, first, advisor_key, base, {})
    missing = [r.m_advisor for r in page.object_list if r.m_advisor and r.m_advisor not in names]
    if missing:
        names.update(Advisor.objects.filter(pk__in=missing).values_list("pk", "name"))
    for row in page.object_list:
        row.responsible_name = names.get(row.m_advisor, "") if row.m_advisor else ""
    left = days_left(today)
    return render(
        request,
        "visits/due.html",
        {
            "scope": scope,
            "page_obj": page,
            "month_label": coverage.month_label(first),
            "last_day": coverage.month_bounds(first)[1],
            "days_left": left,
            "reminding": left <= scope.policy.reminder_days,
            "advisor_name": advisor_name,
            "advisor_key": advisor_key,
            "chips": chips,
            "all_url": base + ("?" + scope.query() if scope.query() else ""),
            "coverage_url": reverse("visits:coverage")
            + ("?" + scope.query() if scope.query() else ""),
            "policy": scope.policy,
            "policy_note": policy_note(scope.policy),
        },
    )


@dataclass
class MatrixCell:
    state: str
    label: str
    day: int | None
    title: str

    @property
    def html(self):
        """The cell's <td>, built here: a page has 600 of them, and the template language
        took longer to render them than the page's queries took to run."""
        marks = {MonthState.MISSED: "✕", MonthState.PENDING: "…"}
        mark = self.day or marks.get(self.state, "")
        return format_html(
            '<td class="matrix-cell matrix-{}" title="{}" data-state="{}">{}'
            '<span class="visually-hidden">{}</span></td>',
            self.state,
            self.title,
            self.state,
            mark,
            self.label,
        )


def _cells(row, months, today):
    cells = []
    for first, state, visit in coverage.row_states(row, months, today):
        month = coverage.month_label(first)
        if state == MonthState.VISITED:
            title = _("%(month)s:%(date)s 已走访") % {"month": month, "date": f"{visit:%Y-%m-%d}"}
            day = visit.day
        else:
            title = f"{month}:{MonthState(state).label}"
            day = None
        cells.append(MatrixCell(state=state, label=MonthState(state).label, day=day, title=title))
    return cells


@report_reads
def matrix_page(request):
    """走访矩阵: 12 months of a street or a committee, one row per person due in any of them."""
    user = request.user
    if not can_view_coverage(user):
        return _refuse(request)
    scope = resolve_scope(request)
    today = timezone.localdate()
    end, error = parse_month_param(request.GET.get("end"), today)
    months = coverage.months_ending(end, MATRIX_MONTHS)
    context = {
        "scope": scope,
        "error": error,
        "end_value": coverage.month_key(end),
        "months": [
            {
                "first": first,
                "label": coverage.month_label(first),
                "short": f"{first:%y}.{first.month}",
            }
            for first in months
        ],
        "policy_note": policy_note(scope.policy),
        "today": today,
    }
    if scope.level == "district":
        # A district's matrix would run to thousands of rows: choose a street first.
        context["choose_street"] = True
        context["streets"] = Street.objects.visible_to(user).order_by("code")
        return render(request, "visits/matrix.html", context)
    rows = coverage.matrix(scope.recipients, months, scope.policy).select_related("committee")
    page = Paginator(rows, MATRIX_PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:
        row.cells = _cells(row, months, today)
    coverage_url = reverse("visits:coverage")
    misses_url = reverse("visits:misses")
    totals = []
    by_month = coverage.period_figures(scope.recipients, months, scope.policy, by="month")
    for first in months:
        figure = by_month.get(first, coverage.Figure())
        key = coverage.month_key(first)
        totals.append(
            {
                "figure": figure,
                "coverage_url": coverage_url + "?" + scope.query(month=key),
                "misses_url": misses_url + "?" + scope.query(month=key) if figure.missed else "",
                "in_progress": first == coverage.current_month(today),
            }
        )
    prev_end = coverage.shift_month(end, -MATRIX_MONTHS)
    next_end = coverage.shift_month(end, MATRIX_MONTHS)
    current = coverage.current_month(today)
    context.update(
        {
            "page_obj": page,
            "totals": totals,
            "prev_url": "?" + scope.query(end=coverage.month_key(prev_end))
            if prev_end.year >= 2000
            else "",
            "next_url": "?" + scope.query(end=coverage.month_key(min(next_end, current)))
            if end < current
            else "",
            "scope_query": scope.query(),
        }
    )
    return render(request, "visits/matrix.html", context)


def policy_page(request):
    """走访规则设置: bureau staff set their district's C9 settings."""
    user = request.user
    if not (user.is_bureau and user.district_id):
        return forbidden(
            request,
            _("走访规则由区民政局设置。"),
            back_url=reverse("visits:coverage") if can_view_coverage(user) else reverse("home"),
        )
    policy = policy_for(user.district_id)
    if request.method == "POST":
        form = VisitPolicyForm(request.POST, instance=policy, actor=user)
        if form.is_valid():
            with transaction.atomic():
                form.save()
            messages.success(request, _("走访规则已保存,各项统计按新规则计算。"))
            return redirect("visits:policy")
    else:
        form = VisitPolicyForm(instance=policy, actor=user)
    return render(
        request,
        "visits/policy.html",
        {"form": form, "policy": policy, "policy_note": policy_note(policy)},
    )


# The street page's panel --------------------------------------------------------------------


def street_month_panel(user, street, today=None):
    """What the street page shows of the month rule (bureau staff and street managers).

    This month so far (due, visited, not yet visited, rate, days left, the reminder once
    the month's end is near) and last month's misses per responsible advisor, in a fixed
    number of queries (4). `street` is already resolved in the user's scope.
    """
    today = today or timezone.localdate()
    first = coverage.current_month(today)
    last_month = coverage.shift_month(first, -1)
    policy = policy_for(street.district_id)
    recipients = Recipient.objects.visible_to(user).filter(street=street)
    figure = coverage.month_figures(recipients, first, policy)
    by_advisor = coverage.month_figures(recipients, last_month, policy, by="advisor")
    names = dict(
        Advisor.objects.filter(pk__in=[k for k in by_advisor if k is not None]).values_list(
            "pk", "name"
        )
    )
    query = {} if user.is_street_manager else {"street": street.code}
    misses = reverse("visits:misses")
    last_key = coverage.month_key(last_month)
    missed_rows = [
        {
            "label": names.get(key, _("顾问")) if key is not None else _("未指定责任顾问"),
            "figure": fig,
            "url": misses
            + "?"
            + urlencode({**query, "month": last_key, "advisor": key or NO_ADVISOR}),
            "nobody": key is None,
        }
        for key, fig in by_advisor.items()
        if fig.missed
    ]
    missed_rows.sort(key=lambda row: (row["nobody"], -row["figure"].missed, row["label"]))
    left = days_left(today)
    suffix = ("?" + urlencode(query)) if query else ""
    return {
        "month_label": coverage.month_label(first),
        "last_month_label": coverage.month_label(last_month),
        "figure": figure,
        "days_left": left,
        "reminding": left <= policy.reminder_days and figure.missed > 0,
        "due_url": reverse("visits:due") + suffix,
        "coverage_url": reverse("visits:coverage") + suffix,
        "last_month_missed": sum(row["figure"].missed for row in missed_rows),
        "last_month_url": misses + "?" + urlencode({**query, "month": last_key}),
        "missed_rows": missed_rows,
    }
