"""The bureau's dashboard (its staff's home page, a street manager's for their street) and the
compliance page: every rule's figure for the user's scope and a period, and a rule's
offenders. The dashboard also shows 政策找人: the period's figures per street for bureau
staff, a street's overdue leads for its manager.

The scope always comes from the user (their district, or their street): a street in the
query string only narrows a bureau user's district, and a street manager asking for another
street gets 404. Both pages run a fixed number of queries whatever the size of the data.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from changning_aid.db_router import report_reads
from changning_aid.pages import forbidden
from stations.models import Street
from supervision import charts, dashboard, engine
from visits import coverage


def _scope_or_forbidden(request):
    scope = dashboard.scope_for(request.user)
    if scope is None:
        return None, forbidden(request, _("您的账号无权查看督导考核看板。"))
    return scope, None


def _period(request, today):
    """The requested period, or this month with the error message (Chinese) to show."""
    try:
        return dashboard.period_from(request.GET.get("period"), today), ""
    except dashboard.PeriodError as error:
        return dashboard.period_from("", today), str(error)


@report_reads
def dashboard_view(request):
    """Where the district (or the manager's street) stands in the period, this month by default."""
    scope, refusal = _scope_or_forbidden(request)
    if refusal:
        return refusal
    today = timezone.localdate()
    period, period_error = _period(request, today)
    compliance = dashboard.evaluate(scope, period, today)
    trend = dashboard.trends(scope, period.judging_day(today), today)
    labels = [f"{first.month}月" for first in trend.months]
    coverage_chart = charts.line_chart(
        _("走访覆盖率(C9)"),
        labels,
        [("C9", _("每月走访覆盖率"), "series-visits", trend.series["C9"])],
    )
    staffing_chart = charts.line_chart(
        _("顾问配备达标率(C5、C6)"),
        labels,
        [
            ("C5", _("街镇服务站配备≥2名"), "series-street", trend.series["C5"]),
            ("C6", _("居委服务点配备≥1名"), "series-point", trend.series["C6"]),
        ],
    )
    orders = dashboard.open_orders(request.user, scope)
    context = {
        "scope": scope,
        "period": period,
        "period_error": period_error,
        "period_choices": dashboard.period_choices(today),
        "judged_on": compliance.judged_on,
        "rules": [engine.ENGINE_RULES[rule_id] for rule_id in dashboard.RULE_IDS],
        "rows": dashboard.rule_table(compliance, period),
        "scope_cells": dashboard.scope_cells(compliance, period, scope.street),
        "coverage_chart": coverage_chart,
        "staffing_chart": staffing_chart,
        "trend_first": coverage.month_label(trend.months[0]),
        "trend_last": coverage.month_label(trend.months[-1]),
        "orders": orders,
        "overdue_orders": [order for order in orders if order.is_overdue_on(today)],
        "inspections": dashboard.inspections_in(request.user, scope, period.first, period.last),
        "today": today,
    }
    if scope.is_street:
        context["fix_first"] = dashboard.failing_rules(compliance, period, scope.street)
        count, leads = dashboard.overdue_leads(request.user, scope, today)
        context["overdue_lead_count"] = count
        context["overdue_leads"] = leads
        context["overdue_leads_url"] = dashboard.overdue_leads_url(scope)
    else:
        context["lead_rows"], context["lead_total"] = dashboard.lead_streets(
            request.user, scope, period, today
        )
    context["lead_figures_url"] = dashboard.lead_figures_url(period)
    context["lead_visit_days"] = settings.LEAD_VISIT_DAYS
    return render(request, "supervision/dashboard.html", context)


@report_reads
def compliance_view(request):
    """Every rule for the scope and the period (?period=, ?street=); with ?rule=, its offenders."""
    scope, refusal = _scope_or_forbidden(request)
    if refusal:
        return refusal
    today = timezone.localdate()
    period, period_error = _period(request, today)
    code = (request.GET.get("street") or "").strip()
    if scope.is_street:
        if code and code != scope.street.code:
            raise Http404(_("没有找到该街镇。"))
    elif code:
        street = Street.objects.filter(district=scope.district, code=code).first()
        if street is None:
            raise Http404(_("没有找到该街镇。"))
        scope = dashboard.Scope(district=scope.district, street=street)
    compliance = engine.evaluate(
        scope.district,
        period,
        street=scope.street,
        today=today,
        street_offenders=False,
        rule_ids=dashboard.RULE_IDS,
    )
    rule_id = (request.GET.get("rule") or "").strip().upper()
    selected = compliance.outcomes.get(rule_id)
    context = {
        "scope": scope,
        "period": period,
        "period_error": period_error,
        "period_choices": dashboard.period_choices(today),
        "judged_on": compliance.judged_on,
        "cells": dashboard.scope_cells(compliance, period, scope.street),
        "clauses": engine.CLAUSES,
        "selected": selected,
        "rule_error": _("没有规则 %(rule)s。") % {"rule": rule_id[:10]}
        if rule_id and selected is None
        else "",
        "streets": Street.objects.filter(district=scope.district).order_by("code")
        if not request.user.is_street_manager
        else [],
    }
    if selected is not None:
        context["offenders"] = dashboard.offenders_page(
            scope, period, rule_id, request.GET.get("page"), today
        )
    return render(request, "supervision/compliance.html", context)
