"""The station rules C3 (signboard and logo) and C4 (a street station's facilities).

Status rules like C1 and C2 (`supervision.rules`), judged on the stations as they are now:
the register keeps no history of a station's plaque or furniture.

Decisions:
- C3 counts every running station of the four kinds (guidance, street, committee,
  professional): each must show its N1 standard name on its plaque (the signboard name
  recorded equals the standard name) and carry the city's unified logo.
- C4 counts running street stations (the notice sets the facilities of 街镇服务站): a
  workspace of at least STATION_MIN_WORKSPACE_M2 m² (20), STATION_MIN_DESK_SETS desk-and-
  chair sets (2), STATION_MIN_COMPUTERS computers (1) and internet. A facility not recorded
  (empty) fails.
"""

from django.conf import settings
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from stations.choices import StationKind, StationStatus
from stations.models import Station
from supervision.rules import Rule, Share

STATION_ORDERING = ("district__code", "street__code", "committee__code", "kind", "pk")


def standard_signboards(stations):
    """C3 over a queryset of stations: running stations with the standard plaque pass."""
    return Share(
        rows=stations.filter(status=StationStatus.RUNNING),
        passes=Q(signboard_name=F("name"), has_unified_logo=True),
        ordering=STATION_ORDERING,
    )


def facilities_q():
    return Q(
        workspace_m2__gte=settings.STATION_MIN_WORKSPACE_M2,
        desk_sets__gte=settings.STATION_MIN_DESK_SETS,
        computers__gte=settings.STATION_MIN_COMPUTERS,
        has_internet=True,
    )


def street_station_facilities(stations):
    """C4 over a queryset of stations: running street stations with the facilities pass."""
    return Share(
        rows=stations.filter(kind=StationKind.STREET, status=StationStatus.RUNNING),
        passes=facilities_q(),
        ordering=STATION_ORDERING,
    )


C3 = Rule(
    id="C3",
    title=_("名称与标识规范"),
    description=_("站点标牌使用规范名称,并使用全市统一标识"),
    counts=_("运行中的站点"),
    unit=_("个"),
    offender_label=_("标牌名称不规范或未使用统一标识"),
    target=100,
    counted_model=Station,
    street_field="street",
    share=standard_signboards,
)

C4 = Rule(
    id="C4",
    title=_("街镇服务站设施"),
    description=_("街镇服务站有工作场所、桌椅、电脑和互联网"),
    counts=_("运行中的街镇服务站"),
    unit=_("个"),
    offender_label=_("工作面积、桌椅、电脑或网络不达标"),
    target=100,
    counted_model=Station,
    street_field="street",
    share=street_station_facilities,
)
