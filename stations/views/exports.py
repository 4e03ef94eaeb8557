"""The network's export: the stations of the user's scope, through the one export path."""

import re

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from changning_aid.exports import Column, ExportSpec, export_page, export_view, field_columns
from stations.choices import StationKind
from stations.models import Station, Street


def station_code(station):
    """A station's stable key in exports: the code of the division it serves.

    The district's code for the 区指导站, the street's for a 街镇服务站, the committee's for
    a 居委服务点; a 专业服务点 adds its organisation's 统一社会信用代码 to its street's code.
    """
    if station.kind == StationKind.GUIDANCE:
        return station.district.code
    if station.kind == StationKind.COMMITTEE:
        return station.committee.code
    if station.kind == StationKind.PROFESSIONAL:
        return f"{station.street.code}-{station.organisation_credit_code}"
    return station.street.code


STATION_EXPORT = ExportSpec(
    model=Station,
    name=gettext_lazy("服务站点"),
    key=Column(gettext_lazy("站点代码"), station_code),
    columns=[
        Column(gettext_lazy("标准名称"), "name"),
        Column(gettext_lazy("站点类型"), "kind"),
        Column(gettext_lazy("区"), "district.name"),
        Column(gettext_lazy("街镇"), "street.name"),
        Column(gettext_lazy("居村委"), "committee.name"),
        *field_columns(
            Station,
            "status",
            "address",
            "phone",  # a station's phone is public: never masked
            "opening_hours",
            "signboard_name",
            "has_unified_logo",
            "workspace_m2",
            "desk_sets",
            "computers",
            "has_internet",
            "has_consultation_zone",
            "has_service_zone",
            "organisation_name",
            "organisation_credit_code",
            "updated_at",
        ),
    ],
    related=["district", "street", "committee"],
)


def _back_url(user):
    if user.is_street_manager and user.street_id:
        return reverse("stations:street_detail", args=[user.street.code])
    if user.is_advisor:
        return reverse("stations:my_stations")
    return reverse("stations:overview")


@export_view
def station_export(request):
    """Export the stations of the user's scope (`?street=<code>` for one street's)."""
    user = request.user
    if not (user.is_bureau or user.is_system_admin or user.is_street_manager or user.is_advisor):
        raise Http404
    stations = Station.objects.all()
    street = None
    code = request.GET.get("street", "")
    if code:
        # Street codes are 9 ASCII digits; anything else (NUL bytes included) finds nothing.
        if re.fullmatch(r"[0-9]{9}", code):
            street = Street.objects.visible_to(user).filter(code=code).first()
        stations = stations.filter(street=street) if street else stations.none()
    title = _("导出服务站点")
    if street is not None:
        title = _("导出%(street)s的服务站点") % {"street": street.name}
    return export_page(
        request,
        queryset=stations,
        spec=STATION_EXPORT,
        title=title,
        back_url=_back_url(user),
        street=street,
        extra_context={"hidden_fields": {"street": street.code} if street else {}},
    )
