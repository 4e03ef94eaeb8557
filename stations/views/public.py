"""The 政务公开 directory: every active station of every district, open to the public.

It is the one page read without a login, so it is not scoped to a user: it shows what is
public by nature (active stations, their addresses, phones, hours and service items) and,
of people, only the names of the advisors on duty at each station today: never a left or
revoked advisor, never a personal phone number (the station's phone is the contact);
with each name the recognitions the bureau confirmed (2026年度救助顾问明星), title and
year only.
"""

from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import render
from django.utils import timezone

from advisors.models import Nomination
from stations import selectors
from stations.choices import SERVICE_ITEMS, STATION_TASKS
from stations.models import District, Street

STATIONS_PER_PAGE = 50
SEARCH_MAX_LENGTH = 50


@login_not_required
def directory(request):
    """Active stations grouped by district and street; filter by district, street or text."""
    district_code = request.GET.get("district", "").strip()
    street_code = request.GET.get("street", "").strip()
    text = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]

    stations = selectors.active_public_stations(
        on=timezone.localdate(), district_code=district_code, street_code=street_code, text=text
    )
    page = Paginator(stations, STATIONS_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    for station in page.object_list:
        station.tasks = STATION_TASKS.get(station.kind, ())
    # The recognitions the bureau confirmed (救助顾问明星, 业务骨干), title and year only:
    # one more query for the page.
    prefetch_related_objects(
        [advisor for station in page.object_list for advisor in station.advisors_on_duty],
        Prefetch(
            "nominations",
            queryset=Nomination.objects.confirmed().only("pk", "advisor", "title", "year"),
            to_attr="public_recognitions",
        ),
    )

    districts = list(District.objects.order_by("code"))
    streets = Street.objects.select_related("district").order_by("district__code", "code")
    if district_code:
        streets = streets.filter(district__code=district_code)

    return render(
        request,
        "public/directory.html",
        {
            "page_obj": page,
            "districts": districts,
            "streets": list(streets),
            "district_code": district_code,
            "street_code": street_code,
            "text": text,
            "filtered": bool(district_code or street_code or text),
            "service_items": SERVICE_ITEMS,
            "show_district_filter": len(districts) > 1,
        },
    )
