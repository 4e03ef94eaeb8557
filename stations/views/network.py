"""The station network pages: the district overview, a street, a station and its upkeep.

Every row comes through `Model.objects.visible_to(request.user)`; an object outside the
user's scope answers 404 exactly like one that does not exist. Each page runs a fixed
number of queries whatever the number of streets, committees or stations.
"""

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from changning_aid.scoping import scoped_get_or_404
from stations import selectors
from stations.choices import SERVICE_ITEMS, STATION_TASKS, StationKind
from stations.forms import StationForm
from stations.models import Committee, Station, Street
from stations.services import station_update
from supervision.rules import C1, C2, RULES

OFFENDERS_PER_PAGE = 50


def can_keep_station(user):
    """Who keeps station details: bureau staff and street managers (each within their scope)."""
    return user.is_bureau or user.is_street_manager


def _forbidden(request, message, *, back_url=None):
    """A 403 page in Chinese for a user who may see a page's object but not change it."""
    return render(
        request,
        "stations/forbidden.html",
        {"message": message, "back_url": back_url},
        status=403,
    )


def overview(request):
    """The network of the bureau's district (every district for the system administrator).

    Street managers are sent to their street and advisors to their stations: the overview
    is the district's view. `?rule=C1` or `?rule=C2` lists the rule's offending rows.
    """
    user = request.user
    if user.is_street_manager:
        return redirect("stations:street_detail", code=user.street.code)
    if user.is_advisor:
        return redirect("stations:my_stations")
    if not (user.is_bureau or user.is_system_admin):
        return _forbidden(request, _("您的账号无权查看服务网络。"))

    streets = Street.objects.visible_to(user)
    committees = Committee.objects.visible_to(user)
    districts, totals = selectors.network_overview(streets)
    # Each row's coverage is C2 judged on that row's counts (one point per committee).
    for block in districts:
        for street in block.streets:
            street.coverage = C2.judge(street.active_point_count, street.committee_count)
        block.totals.coverage = C2.judge(block.totals.active_points, block.totals.committees)
    totals.coverage = C2.judge(totals.active_points, totals.committees)
    results = {"C1": C1.evaluate(streets), "C2": C2.evaluate(committees)}

    selected_rule = request.GET.get("rule", "").upper()
    offenders_page = None
    if selected_rule in RULES:
        offenders = results[selected_rule].offenders
        if selected_rule == "C1":
            offenders = selectors.with_street_station(offenders)
        else:
            offenders = selectors.with_committee_point(offenders)
        offenders_page = Paginator(offenders, OFFENDERS_PER_PAGE).get_page(request.GET.get("page"))
        offenders_page.object_list = selectors.add_status_labels(offenders_page.object_list)
    else:
        selected_rule = ""

    return render(
        request,
        "stations/network_overview.html",
        {
            "districts": districts,
            "totals": totals,
            "show_districts": user.is_system_admin,
            "rule_results": [results["C1"], results["C2"]],
            "selected_rule": selected_rule,
            "selected_result": results.get(selected_rule),
            "offenders_page": offenders_page,
        },
    )


def street_detail(request, code):
    """A street/town: its street station, its committees and their points, its coverage.

    `?rule=C2` keeps only the committees without an active point. An advisor sees only the
    stations they serve here, without the street's coverage figures (which count stations
    they cannot see).
    """
    user = request.user
    street = scoped_get_or_404(Street.objects.select_related("district"), user, code=code)
    committees = Committee.objects.visible_to(user).filter(street=street)
    stations = list(
        Station.objects.visible_to(user)
        .filter(street=street)
        .exclude(kind=StationKind.COMMITTEE)
        .order_by(selectors.KIND_ORDER, "pk")
    )
    stations = selectors.add_status_labels(stations)
    c1 = C1.evaluate(Street.objects.visible_to(user).filter(pk=street.pk))
    c2 = C2.evaluate(committees)

    committee_rows = selectors.add_status_labels(selectors.with_committee_point(committees))
    only_offenders = request.GET.get("rule", "").upper() == "C2"
    if only_offenders:
        listed = selectors.add_status_labels(selectors.with_committee_point(c2.offenders))
    else:
        listed = committee_rows

    return render(
        request,
        "stations/street_detail.html",
        {
            "street": street,
            "street_station": next((s for s in stations if s.kind == StationKind.STREET), None),
            "professional_points": [s for s in stations if s.kind == StationKind.PROFESSIONAL],
            "committee_rows": listed,
            "only_offenders": only_offenders,
            "committee_count": c2.total,
            "point_count": sum(1 for row in committee_rows if row.point_pk),
            "active_point_count": c2.covered,
            "rule_results": [c1, c2],
            "c2": c2,
            "show_coverage": not user.is_advisor,
            "can_edit": can_keep_station(user),
        },
    )


def station_detail(request, pk):
    """Everything recorded about one station, and what it offers."""
    station = scoped_get_or_404(
        Station.objects.select_related("district", "street", "committee"), request.user, pk=pk
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
            "can_edit": can_keep_station(request.user),
        },
    )


def station_edit(request, pk):
    """Keep a station's details; the street manager of its street or the bureau may."""
    station = scoped_get_or_404(
        Station.objects.select_related("district", "street", "committee"), request.user, pk=pk
    )
    if not can_keep_station(request.user):
        return _forbidden(
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
