"""Service evaluation (服务评议): the public rating page, the stations' QR codes, satisfaction.

- `public_evaluate` (/public/evaluate/<station>/, no login): a passer-by rates a running
  station 满意 / 基本满意 / 不满意 with an optional comment, on a phone. It keeps nothing
  personal beyond the comment: no address in the rating, none in its audit record either;
  floods are refused by `cases.throttle` (HTTP 429, nothing saved).
- `evaluation_qr`: a printable poster (A4 or A5) with the QR code of a station's public
  page, for the staff who see the station (`Station.objects.visible_to`).
- `satisfaction`: (满意 + 基本满意) / all per street and station, for bureau staff (their
  district, each street one click away) and street managers (their street), over a period.

Staff pages read their rows through `visible_to(request.user)`; a station or street out of
scope answers 404 like one that does not exist. They run a fixed number of queries.
"""

import ipaddress

import segno
from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from audit.context import audit_context
from cases import satisfaction as figures
from cases import services, throttle
from cases.choices import Rating
from cases.evaluation_forms import PeriodForm, PublicEvaluationForm, mask_id_numbers
from cases.models import Evaluation
from changning_aid.pages import forbidden
from changning_aid.scoping import scoped_get_or_404
from stations.choices import StationKind, StationStatus
from stations.models import Station, Street

RECENT_COMMENTS = 20
POSTER_SIZES = ("a4", "a5")
# The order stations are listed in within a street.
KIND_ORDER = {
    StationKind.GUIDANCE: 0,
    StationKind.STREET: 1,
    StationKind.COMMITTEE: 2,
    StationKind.PROFESSIONAL: 3,
}


# The public page ------------------------------------------------------------------------------


def public_evaluation_url(request, station):
    """The absolute address of `station`'s public evaluation page, as its QR code carries it.

    `PUBLIC_BASE_URL` when set (staff open the poster on the intranet, whose address the
    public may not reach), else the address the request came to.
    """
    path = reverse("public_evaluation:evaluate", args=[station.pk])
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    return request.build_absolute_uri(path)


@login_not_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def public_evaluate(request, pk):
    """The public rating form of a running station, and its thank-you page (?done=1).

    Not cached anywhere (in-app browsers keep pages long): each form gets a fresh CSRF token.
    """
    station = get_object_or_404(Station.objects.active(), pk=pk)
    page_url = reverse("public_evaluation:evaluate", args=[station.pk])
    if request.method != "POST" and request.GET.get("done"):
        return render(request, "public/evaluate_thanks.html", {"station": station})

    form = PublicEvaluationForm(request.POST if request.method == "POST" else None)
    refusal = None
    if form.is_bound and form.is_valid():
        if form.is_robot():
            return redirect(f"{page_url}?done=1")
        refusal = throttle.check_public_evaluation(request, station.pk)
        if refusal is None:
            try:
                # The request's audit context carries the client's address; a public
                # rating records none.
                with audit_context(ip=None):
                    services.public_evaluation(
                        station=station,
                        rating=form.cleaned_data["rating"],
                        comment=form.cleaned_data["comment"],
                    )
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                return redirect(f"{page_url}?done=1")

    response = render(
        request,
        "public/evaluate.html",
        {"station": station, "form": form, "refusal": refusal, "ratings": Rating},
        status=429 if refusal else 200,
    )
    if refusal:
        response["Retry-After"] = str(refusal.retry_after)
    return response


# The QR code poster ---------------------------------------------------------------------------


def _looks_internal(host):
    """Whether `host` (without port) is an address the public probably cannot reach."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.strip("[]")
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return name == "localhost" or "." not in name or name.endswith((".local", ".lan"))
    return address.is_private or address.is_loopback or address.is_link_local


def qr_svg(url):
    """The QR code of `url` as an inline SVG (no style attributes: the CSP forbids them).

    Error correction M, raised as far as the symbol's size allows (segno's `boost_error`),
    so a worn poster still scans; a quiet zone of 4 modules as the standard asks.
    """
    code = segno.make_qr(url, error="m")
    return code.svg_inline(
        omitsize=True,
        border=4,
        dark="#000",
        light="#fff",
        svgclass="qr-poster__svg",
        lineclass="qr-poster__modules",
    )


def evaluation_qr(request, pk):
    """The printable QR code poster of a station's public evaluation page (A4, or ?size=a5)."""
    user = request.user
    if not (user.is_bureau or user.is_street_manager or user.is_advisor):
        return forbidden(request, _("您的账号不能打印站点的服务评议二维码。"))
    station = scoped_get_or_404(
        Station.objects.select_related("district", "street", "committee"), user, pk=pk
    )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    size = request.GET.get("size", "")
    size = size if size in POSTER_SIZES else POSTER_SIZES[0]
    url = public_evaluation_url(request, station)
    return render(
        request,
        "cases/evaluation_qr.html",
        {
            "station": station,
            "public_url": url,
            # segno's markup of the URL we built: path data only, nothing the user typed.
            "qr_svg": mark_safe(qr_svg(url)),
            "size": size,
            "sizes": POSTER_SIZES,
            "is_running": station.status == StationStatus.RUNNING,
            "host_warning": not settings.PUBLIC_BASE_URL and _looks_internal(request.get_host()),
        },
    )


# Satisfaction ---------------------------------------------------------------------------------


def _period_choices(period):
    """The picker's options by kind, with the chosen period among them."""
    choices = figures.recent_periods()
    if period not in choices[period.kind]:
        choices[period.kind] = [period, *choices[period.kind]]
    return [
        (_("月度"), choices[figures.MONTH]),
        (_("季度"), choices[figures.QUARTER]),
        (_("年度"), choices[figures.YEAR]),
    ]


def _station_rows(stations, breakdown):
    """A street's stations with their figures: running ones, and any other that was rated."""
    rows = []
    for station in stations:
        figure = breakdown.for_station(station.pk)
        if station.status == StationStatus.RUNNING or figure.total:
            rows.append({"station": station, "figure": figure})
    rows.sort(
        key=lambda row: (
            KIND_ORDER.get(row["station"].kind, 9),
            row["station"].committee.code if row["station"].committee_id else "",
            row["station"].name,
        )
    )
    return rows


def satisfaction(request):
    """服务满意率 for a period: the district per street (bureau), a street per station."""
    user = request.user
    if not (user.is_bureau or user.is_street_manager):
        return forbidden(request, _("只有区民政局和街镇管理员可以查看服务满意率。"))

    form = PeriodForm(request.GET or None)
    period = figures.current_month()
    if form.is_valid() and form.cleaned_data["period"] is not None:
        period = form.cleaned_data["period"]

    street_code = request.GET.get("street", "").strip()
    street = None
    if street_code:
        street = scoped_get_or_404(
            Street.objects.select_related("district"), user, code=street_code
        )
    elif user.is_street_manager:
        street = scoped_get_or_404(
            Street.objects.select_related("district"), user, pk=user.street_id
        )

    evaluations = Evaluation.objects.visible_to(user)
    if street is not None:
        evaluations = evaluations.filter(station__street=street)
    breakdown = figures.breakdown(evaluations, period)

    context = {
        "form": form,
        "period": period,
        "period_choices": _period_choices(period),
        "street": street,
        "total": breakdown.total,
        "can_choose_street": user.is_bureau,
    }
    if street is not None:
        stations = (
            Station.objects.visible_to(user).filter(street=street).select_related("committee")
        )
        context["station_rows"] = _station_rows(stations, breakdown)
    else:
        streets = Street.objects.visible_to(user).order_by("code")
        context["street_rows"] = [
            {"street": each, "figure": breakdown.for_street(each.pk)} for each in streets
        ]
        district_stations = (
            Station.objects.visible_to(user).filter(street__isnull=True).order_by("kind", "pk")
        )
        context["district_station_rows"] = _station_rows(district_stations, breakdown)

    comments = (
        figures.in_period(evaluations, period)
        .exclude(comment="")
        .select_related("station")
        .order_by("-created_at", "-pk")[:RECENT_COMMENTS]
    )
    context["comments"] = [
        {"evaluation": each, "text": mask_id_numbers(each.comment)} for each in comments
    ]
    return render(request, "cases/evaluation_satisfaction.html", context)
