"""政策找人 in figures (/cases/leads/figures/): per source and per street over a period.

Bureau staff see every source and every street of their district (and the leads not placed
yet); a street manager sees their street only, per source within it; other roles are
refused (403). The period is picked like on the compliance page (a month, a quarter or a
year; this month by default). Every figure that the leads list can show links to it,
filtered (`cases:leads` with `source`, `street`, `status`, `overdue`, `placed`, and the
period as `found_from` / `found_to`). The page runs a fixed number of queries whatever the
number of sources, streets and leads (`cases.lead_figures`).
"""

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from cases import lead_figures as figures
from changning_aid.pages import forbidden
from supervision import dashboard

# The figures the leads list can show, and how it is filtered for each (the list shows the
# open leads unless told otherwise).
LINKED = {
    "new": {"status": "all"},
    "enrolled": {"status": "enrolled"},
    "open": {"status": "open"},
    "overdue": {"overdue": "1"},
}


def list_links(period, *, source=None, street=None, unplaced=False):
    """{figure: the leads list filtered to it} for one row of the tables."""
    base = reverse("cases:leads")
    scope = {}
    if source is not None:
        scope["source"] = source
    if street is not None:
        scope["street"] = street.code
    if unplaced:
        scope["placed"] = "no"
    scope["found_from"] = period.first.isoformat()
    scope["found_to"] = period.last.isoformat()
    return {name: f"{base}?{urlencode({**scope, **params})}" for name, params in LINKED.items()}


def lead_figures(request):
    """The figures of 政策找人 for the user's district (or street) and the period."""
    scope = dashboard.scope_for(request.user)
    if scope is None:
        return forbidden(request, _("您的账号无权查看政策找人统计。"))
    today = timezone.localdate()
    try:
        period, period_error = dashboard.period_from(request.GET.get("period"), today), ""
    except dashboard.PeriodError as error:
        period, period_error = dashboard.period_from("", today), str(error)
    street = scope.street
    street_id = street.pk if street is not None else None
    district_id = scope.district.pk
    source_rows, source_total = figures.source_figures(
        district_id, period.first, period.last, today, street_id=street_id, user=request.user
    )
    street_rows, street_total = figures.street_figures(
        district_id, period.first, period.last, today, street_id=street_id, user=request.user
    )
    for row in source_rows:
        row.links = list_links(period, source=row.key, street=street)
    for row in street_rows:
        row.links = list_links(period, street=row.street, unplaced=row.is_unplaced)
    context = {
        "scope": scope,
        "period": period,
        "period_error": period_error,
        "period_choices": dashboard.period_choices(today),
        "today": today,
        "visit_days": figures.visit_days().days,
        "source_rows": source_rows,
        "source_total": source_total,
        "source_total_links": list_links(period, street=street),
        "street_rows": street_rows,
        "street_total": street_total,
        "street_total_links": list_links(period, street=street),
    }
    return render(request, "cases/leads/figures.html", context)
