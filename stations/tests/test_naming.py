"""Rule N1: standard station names are generated from the divisions, exactly as the notice says."""

import pytest

from stations.choices import CommitteeKind, StationKind, StreetKind
from stations.naming import (
    committee_kind_for,
    committee_short_name,
    standard_name,
    street_kind_for,
)


@pytest.mark.parametrize(
    ("kind", "names", "expected"),
    [
        (
            StationKind.STREET,
            {"district_name": "长宁区", "street_name": "新泾镇"},
            "长宁区新泾镇社区救助顾问服务站",
        ),
        (
            StationKind.STREET,
            {"district_name": "长宁区", "street_name": "华阳路街道"},
            "长宁区华阳路街道社区救助顾问服务站",
        ),
        (
            StationKind.COMMITTEE,
            {
                "district_name": "长宁区",
                "street_name": "华阳路街道",
                "committee_name": "华一居委会",
            },
            "华阳路街道华一居委社区救助顾问服务点",
        ),
        (
            StationKind.COMMITTEE,
            {"district_name": "崇明区", "street_name": "城桥镇", "committee_name": "鳌山村委会"},
            "城桥镇鳌山村委社区救助顾问服务点",
        ),
        (
            StationKind.COMMITTEE,
            {
                "district_name": "浦东新区",
                "street_name": "张江镇",
                "committee_name": "长泰虚拟社区",
            },
            "张江镇长泰虚拟社区社区救助顾问服务点",
        ),
        (
            StationKind.GUIDANCE,
            {"district_name": "长宁区"},
            "长宁区社区救助顾问区指导站",
        ),
        (
            StationKind.PROFESSIONAL,
            {
                "district_name": "长宁区",
                "street_name": "华阳路街道",
                "organisation_name": "乐群社工服务社",
            },
            "华阳路街道乐群社工服务社社区救助顾问专业服务点",
        ),
    ],
)
def test_standard_names_follow_n1(kind, names, expected):
    assert standard_name(kind=kind, **names) == expected


@pytest.mark.parametrize(
    ("name", "short"),
    [
        ("华一居委会", "华一居委"),
        ("鳌山村委会", "鳌山村委"),
        ("新泾六村居委会", "新泾六村居委"),  # 村 inside a 居委会 name stays
        ("某某居民委员会", "某某居委"),
        ("某某村民委员会", "某某村委"),
        ("虹桥临空经济示范区虚拟社区", "虹桥临空经济示范区虚拟社区"),
    ],
)
def test_committee_names_are_shortened_only_at_the_end(name, short):
    assert committee_short_name(name) == short


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("华阳路街道", StreetKind.SUBDISTRICT),
        ("新泾镇", StreetKind.TOWN),
        ("某某乡", StreetKind.TOWNSHIP),
        ("漕河泾新兴技术开发区", StreetKind.OTHER),
        ("光明农场", StreetKind.OTHER),
    ],
)
def test_street_kind_follows_the_name(name, kind):
    assert street_kind_for(name) == kind


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("华一居委会", CommitteeKind.RESIDENTS),
        ("鳌山村委会", CommitteeKind.VILLAGE),
        ("某某虚拟生活区", CommitteeKind.OTHER),
    ],
)
def test_committee_kind_follows_the_name(name, kind):
    assert committee_kind_for(name) == kind
