"""The station network pages: the district overview, a street, a station and its upkeep.

Every row comes through `Model.objects.visible_to(request.user)`; an object outside the
user's scope answers 404 exactly like one that does not exist. Each page runs a fixed
number of queries whatever the number of streets, committees or stations.
"""

import copy
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors.models import AdvisorStation, active_q
from changning_aid.pages import forbidden
from changning_aid.scoping import scoped_get_or_404
from stations import selectors
from stations.choices import SERVICE_ITEMS, STATION_TASKS, StationKind
from stations.forms import StationForm
from stations.models import Committee, Station, Street
from stations.services import station_update
from supervision import registry
from supervision.inspections import can_record as can_record_inspection
from supervision.rules import C2, RuleResult
from supervision.staffing_rules import (
    STAFFING_MINIMUM,
    STAFFING_RULES,
    active_advisor_count,
    street_trainings,
)

OFFENDERS_PER_PAGE = 50

# Where a street's page shows each rule's offending rows; other rules list them in the
# page's offender list (`?rule=<id>#offenders`).
STREET_PAGE_PLACES = {
    "C1": "#street-station",
    "C2": "?rule=C2#committees",
    "C8": "#trainings",
}


@dataclass(frozen=True)
class RuleFigure:
    """A rule's figure as a page shows it, with the link to its offending rows."""

    result: RuleResult
    link: str


def street_rule_link(street, rule_id):
    """The link to `rule_id`'s offending rows on `street`'s page."""
    place = STREET_PAGE_PLACES.get(rule_id, f"?rule={rule_id}#offenders")
    return street.get_absolute_url() + place


def offenders_page(request, result):
    """One page of a rule's offending rows, ready for the offender table (two queries)."""
    rule = result.rule
    page = Paginator(
        registry.listed_offenders(rule, result.offenders), OFFENDERS_PER_PAGE
    ).get_page(request.GET.get("page"))
    page.object_list = registry.label_offenders(rule, page.object_list)
    return page


def can_keep_station(user):
    """Who keeps station details: bureau staff and street managers (each within their scope)."""
    return user.is_bureau or user.is_street_manager


def overview(request):
    """The network of the bureau's district (every district for the system administrator).

    Street managers are sent to their street and advisors to their stations: the overview
    is the district's view. Each rule's district figure links to its offending rows
    (`?rule=C5`), and the table of streets gives each street's figure of the staffing and
    training rules, linking to that street's offending rows.
    """
    user = request.user
    if user.is_street_manager:
        return redirect("stations:street_detail", code=user.street.code)
    if user.is_advisor:
        return redirect("stations:my_stations")
    if not (user.is_bureau or user.is_system_admin):
        return forbidden(request, _("您的账号无权查看服务网络。"))

    today = timezone.localdate()
    districts, totals = selectors.network_overview(Street.objects.visible_to(user))
    # Each row's coverage is C2 judged on that row's counts (one point per committee).
    for block in districts:
        for street in block.streets:
            street.coverage = C2.judge(street.active_point_count, street.committee_count)
        block.totals.coverage = C2.judge(block.totals.active_points, block.totals.committees)
    totals.coverage = C2.judge(totals.active_points, totals.committees)

    results = {
        rule.id: registry.evaluate(rule, rule.scope_for(user), today)
        for rule in registry.rules_shown_to(user)
    }
    # One grouped query per rule, whatever the number of streets.
    table_rules = registry.rules_shown_to(user, registry.STREET_TABLE_RULE_IDS)
    by_street = {
        rule.id: registry.evaluate_by_street(rule, rule.scope_for(user), today)
        for rule in table_rules
    }
    for block in districts:
        for street in block.streets:
            street.rule_figures = [
                RuleFigure(
                    result=by_street[rule.id].get(street.pk) or rule.judge(0, 0),
                    link=street_rule_link(street, rule.id),
                )
                for rule in table_rules
            ]

    selected_result = results.get(request.GET.get("rule", "").upper())
    return render(
        request,
        "stations/network_overview.html",
        {
            "districts": districts,
            "totals": totals,
            "show_districts": user.is_system_admin,
            "network_results": [results[rule_id] for rule_id in ("C1", "C2")],
            "staffing_results": [
                result for rule_id, result in results.items() if rule_id not in ("C1", "C2")
            ],
            "table_rules": table_rules,
            "table_totals": [
                RuleFigure(result=results[rule.id], link=f"?rule={rule.id}#offenders")
                for rule in table_rules
            ],
            "selected_rule": selected_result.rule.id if selected_result else "",
            "selected_result": selected_result,
            "offenders_page": offenders_page(request, selected_result) if selected_result else None,
        },
    )


def street_detail(request, code):
    """A street/town: its stations, committees and points, its rules and their offenders.

    `?rule=C2` keeps only the committees without an active point; `?rule=C5` (C6, C7, C11)
    lists the rule's offending stations or advisors of the street. An advisor sees only
    the stations they serve here, without the street's figures (which count stations and
    people they cannot see).
    """
    user = request.user
    street = scoped_get_or_404(Street.objects.select_related("district"), user, code=code)
    today = timezone.localdate()
    committees = Committee.objects.visible_to(user).filter(street=street)
    stations = list(
        Station.objects.visible_to(user)
        .filter(street=street)
        .exclude(kind=StationKind.COMMITTEE)
        .annotate(active_advisors=active_advisor_count(today))
        .order_by(selectors.KIND_ORDER, "pk")
    )
    stations = selectors.add_status_labels(stations)
    street_station = next((s for s in stations if s.kind == StationKind.STREET), None)
    if street_station is not None:
        street_station.staffing_minimum = STAFFING_MINIMUM[StationKind.STREET]

    show_rules = not user.is_advisor
    results = {}
    if show_rules:
        results = {
            rule.id: registry.evaluate(rule, rule.scope_for(user, street), today)
            for rule in registry.rules_shown_to(user)
        }

    committee_rows = _committee_rows(committees, today)
    selected_id = request.GET.get("rule", "").upper()
    only_offenders = selected_id == "C2" and "C2" in results
    listed = _committee_rows(results["C2"].offenders, today) if only_offenders else committee_rows
    selected_result = None
    if selected_id in results and selected_id not in STREET_PAGE_PLACES:
        selected_result = results[selected_id]

    show_trainings = show_rules and (user.is_bureau or user.is_street_manager)
    trainings = []
    if show_trainings:
        trainings = list(
            street_trainings(street, today).visible_to(user).select_related("street", "district")
        )
    c2 = results.get("C2")
    month_panel = None
    if user.is_bureau or user.is_street_manager:
        # The month rule (C9) of the street: this month so far and last month's misses.
        from visits.coverage_views import street_month_panel

        month_panel = street_month_panel(user, street, today)
    return render(
        request,
        "stations/street_detail.html",
        {
            "street": street,
            "unassigned_count": _unassigned_count(user, street, today),
            "street_station": street_station,
            "professional_points": [s for s in stations if s.kind == StationKind.PROFESSIONAL],
            "committee_rows": listed,
            "only_offenders": only_offenders,
            "committee_count": c2.total if c2 else None,
            "point_count": sum(1 for row in committee_rows if row.point_pk),
            "active_point_count": c2.covered if c2 else None,
            "network_figures": [
                RuleFigure(result=result, link=street_rule_link(street, rule_id))
                for rule_id, result in results.items()
                if rule_id in ("C1", "C2")
            ],
            "staffing_figures": [
                RuleFigure(result=result, link=street_rule_link(street, rule_id))
                for rule_id, result in results.items()
                if rule_id not in ("C1", "C2")
            ],
            "street_station_short": bool(
                "C5" in results and results["C5"].total and not results["C5"].passed
            ),
            "c2": c2,
            "show_coverage": show_rules,
            "selected_rule": selected_result.rule.id if selected_result else "",
            "selected_result": selected_result,
            "offenders_page": offenders_page(request, selected_result) if selected_result else None,
            "show_trainings": show_trainings,
            "trainings": trainings,
            "c8": results.get("C8"),
            "year": today.year,
            "can_edit": can_keep_station(user),
            "month_panel": month_panel,
        },
    )


def _unassigned_count(user, street, today):
    """How many current recipients of the street have no active responsible advisor (keepers)."""
    if not (user.is_bureau or user.is_street_manager):
        return 0
    from cases.models import Recipient
    from cases.services import unassigned_current

    people = Recipient.objects.visible_to(user).filter(street=street)
    return unassigned_current(people, today).count()


def _committee_rows(committees, today):
    """`committees` with their point and its number of advisors active `today`, as a list."""
    return selectors.add_status_labels(
        selectors.with_committee_point(committees).annotate(
            active_advisors=active_advisor_count(today, "station__committee")
        )
    )


def station_detail(request, pk):
    """Everything recorded about one station, what it offers and who serves there today.

    The number of advisors active today is a fact of the network that everyone who may
    see the station sees; their names are listed to those who may see advisors (not the
    system administrator, who keeps the network without personal data).
    """
    user = request.user
    today = timezone.localdate()
    station = scoped_get_or_404(
        Station.objects.select_related("district", "street", "committee").annotate(
            active_advisors=active_advisor_count(today)
        ),
        user,
        pk=pk,
    )
    staffing_rule = STAFFING_RULES.get(station.kind)
    staffing = None
    if staffing_rule is not None:
        staffing = staffing_rule.evaluate(Station.objects.filter(pk=station.pk), today)
    minimum = STAFFING_MINIMUM.get(station.kind)
    can_see_advisors = not user.is_system_admin
    advisor_links = []
    if can_see_advisors:
        advisor_links = list(
            AdvisorStation.objects.visible_to(user)
            .filter(active_q(today, "advisor__"), station=station)
            .select_related("advisor")
            .order_by("-is_primary", "advisor__advisor_number")
        )
    signboard = station.signboard_name.strip()
    return render(
        request,
        "stations/station_detail.html",
        {
            "station": station,
            "status_label": station.get_status_display(),
            "signboard_recorded": bool(signboard),
            "signboard_matches": signboard == station.name,
            "service_items": SERVICE_ITEMS,
            "station_tasks": STATION_TASKS.get(station.kind, ()),
            "is_street_station": station.kind == StationKind.STREET,
            "is_professional": station.kind == StationKind.PROFESSIONAL,
            "can_edit": can_keep_station(user),
            "can_inspect": can_record_inspection(user) and station.street_id is not None,
            "staffing_minimum": minimum,
            "staffing_missing": max((minimum or 0) - station.active_advisors, 0),
            "staffing": staffing,
            "staffing_short": bool(staffing and staffing.total and not staffing.passed),
            "can_see_advisors": can_see_advisors,
            "advisor_links": advisor_links,
            "today": today,
        },
    )


def station_edit(request, pk):
    """Keep a station's details; the street manager of its street or the bureau may."""
    station = scoped_get_or_404(
        Station.objects.select_related("district", "street", "committee"), request.user, pk=pk
    )
    if not can_keep_station(request.user):
        return forbidden(
            request,
            _("您可以查看该站点,但只有街镇管理员和区民政局可以修改站点信息。"),
            back_url=station.get_absolute_url(),
        )

    # The form works on a copy, so that the page's heading keeps the saved values while
    # a rejected submission is shown back.
    form = StationForm(request.POST or None, instance=copy.copy(station))
    if request.method == "POST" and form.is_valid():
        try:
            station_update(
                station=Station.objects.select_for_update().get(pk=station.pk),
                **{name: form.cleaned_data[name] for name in form.fields},
            )
        except ValidationError as error:
            for field, field_errors in error.message_dict.items():
                form.add_error(field if field in form.fields else None, field_errors)
        else:
            messages.success(request, _("站点信息已保存。"))
            return redirect(station)
    if request.method == "POST" and form.errors:
        messages.error(request, _("站点信息未保存:请按提示修改后再提交。"))

    return render(
        request,
        "stations/station_form.html",
        {
            "station": station,
            "status_label": station.get_status_display(),
            "form": form,
        },
    )


def my_stations(request):
    """The stations an advisor serves; other roles start from their own page."""
    user = request.user
    if not user.is_advisor:
        return redirect("home")
    stations = list(
        Station.objects.visible_to(user)
        .select_related("district", "street", "committee")
        .order_by("district__code", "street__code", selectors.KIND_ORDER, "committee__code")
    )
    stations = selectors.add_status_labels(stations)
    return render(request, "stations/my_stations.html", {"stations": stations})
