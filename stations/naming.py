"""Standard station names (rule N1 of DOMAIN.md), generated from the divisions.

The notice fixes the names: "长宁区XX街道(镇)社区救助顾问服务站" and
"XX街道(镇)XX居委社区救助顾问服务点", with 居委会 shortened to 居委 and 村委会 to 村委.
Names are never typed; they follow the divisions when those are renamed.
"""

from stations.choices import CommitteeKind, StationKind, StreetKind

# Longest suffix first, so that 民族乡 is not mistaken for something else.
_STREET_SUFFIXES = (
    ("街道办事处", StreetKind.SUBDISTRICT),
    ("街道", StreetKind.SUBDISTRICT),
    ("民族乡", StreetKind.TOWNSHIP),
    ("镇", StreetKind.TOWN),
    ("乡", StreetKind.TOWNSHIP),
    ("苏木", StreetKind.TOWNSHIP),
)

# Full forms and their short forms used in station names.
_COMMITTEE_SUFFIXES = (
    ("居民委员会", "居委", CommitteeKind.RESIDENTS),
    ("村民委员会", "村委", CommitteeKind.VILLAGE),
    ("居委会", "居委", CommitteeKind.RESIDENTS),
    ("村委会", "村委", CommitteeKind.VILLAGE),
)


def street_kind_for(name: str) -> str:
    """街道, 镇 or 乡 by the name's ending; anything else (开发区, 工业区, 农场...) is 其他."""
    for suffix, kind in _STREET_SUFFIXES:
        if name.endswith(suffix):
            return kind
    return StreetKind.OTHER


def committee_kind_for(name: str) -> str:
    """居委会 or 村委会 by the name's ending; 虚拟社区, 虚拟生活区 and the like are 其他."""
    for suffix, _short, kind in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix):
            return kind
    return CommitteeKind.OTHER


def committee_short_name(name: str) -> str:
    """华一居委会 → 华一居委; 某某村委会 → 某某村委; other names are kept whole."""
    for suffix, short, _kind in _COMMITTEE_SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)] + short
    return name


def guidance_station_name(district_name: str) -> str:
    return f"{district_name}社区救助顾问区指导站"


def street_station_name(district_name: str, street_name: str) -> str:
    return f"{district_name}{street_name}社区救助顾问服务站"


def committee_station_name(street_name: str, committee_name: str) -> str:
    """`<street><committee>社区救助顾问服务点`, the committee shortened to 居委/村委.

    Decision: the 虚拟社区 of a 开发区 or 农场 is named after it (张江高科技园区虚拟社区
    in 张江高科技园区); its name is not repeated (张江高科技园区虚拟社区社区救助顾问服务点,
    not 张江高科技园区张江高科技园区虚拟社区...), which no plaque would say.
    """
    short = committee_short_name(committee_name)
    if short.startswith(street_name) and len(short) > len(street_name):
        return f"{short}社区救助顾问服务点"
    return f"{street_name}{short}社区救助顾问服务点"


def professional_station_name(street_name: str, organisation_name: str) -> str:
    return f"{street_name}{organisation_name}社区救助顾问专业服务点"


def standard_name(*, kind, district_name, street_name="", committee_name="", organisation_name=""):
    """The N1 name of a station of `kind` at the given divisions."""
    if kind == StationKind.GUIDANCE:
        return guidance_station_name(district_name)
    if kind == StationKind.STREET:
        return street_station_name(district_name, street_name)
    if kind == StationKind.COMMITTEE:
        return committee_station_name(street_name, committee_name)
    return professional_station_name(street_name, organisation_name)
