"""The 政务公开 directory: active stations for everyone, without login, and nothing personal."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stations.choices import SERVICE_ITEMS, StationStatus
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    street_station,
)

URL = reverse("public:directory")


def page(response):
    return response.content.decode()


def set_details(station, **fields):
    for name, value in fields.items():
        setattr(station, name, value)
    station.save()


@pytest.fixture
def directory(two_streets):
    """Street A's station and first point run; its second point is 筹建, street B's is 暂停."""
    set_details(
        street_station(two_streets.street_a),
        address="长宁区华阳路街道社区事务受理服务中心",
        phone="021-62510001",
        opening_hours="周一至周六 8:30-17:00",
    )
    set_details(
        committee_point(two_streets.committees_a[0]),
        address="华阳路112弄1号",
        phone="021-52300001",
        opening_hours="周一至周五 9:00-17:00",
    )
    set_details(
        committee_point(two_streets.committees_a[1]),
        status=StationStatus.PLANNING,
        address="华二居委会筹建地址",
    )
    set_details(
        committee_point(two_streets.committees_b[0]),
        status=StationStatus.SUSPENDED,
        address="曹家堰暂停地址",
    )
    for user in (two_streets.manager_a, two_streets.advisor_a):
        user.full_name = {"manager_a": "李建国", "advisor_a": "张敏"}[user.username]
        user.save()
    return two_streets


def test_anyone_can_read_the_directory_without_login(client, directory):
    response = client.get(URL)

    assert response.status_code == 200
    html = page(response)
    for text in (
        "长宁区华阳路街道社区救助顾问服务站",
        "长宁区华阳路街道社区事务受理服务中心",
        "021-62510001",
        "周一至周六 8:30-17:00",
        "华阳路街道华一居委社区救助顾问服务点",
        "华阳路112弄1号",
        "021-52300001",
        "周一至周五 9:00-17:00",
        "长宁区社区救助顾问区指导站",
        *SERVICE_ITEMS,
    ):
        assert str(text) in html, text
    assert "上门走访" in html  # a committee point's tasks


def test_stations_that_are_not_running_are_hidden(client, directory):
    html = page(client.get(URL))

    assert "华二居委" not in html
    assert "华二居委会筹建地址" not in html
    assert "曹家堰" not in html
    assert "曹家堰暂停地址" not in html
    assert "共 4 个正在服务的站点" in html  # guidance, two street stations, one point


def test_no_personal_data_is_shown(client, directory):
    html = page(client.get(URL))

    for person in ("李建国", "张敏", "manager_a", "advisor_a", "bureau_t", "sysadmin_t"):
        assert person not in html


def test_the_directory_filters_by_street(client, directory):
    html = page(client.get(URL, {"street": "310105002"}))

    assert "长宁区江苏路街道社区救助顾问服务站" in html
    assert "华阳路112弄1号" not in html
    assert "长宁区社区救助顾问区指导站" not in html


def test_the_directory_searches_names_and_addresses(client, directory):
    by_address = page(client.get(URL, {"q": "112弄"}))
    by_name = page(client.get(URL, {"q": "江苏路"}))
    nothing = page(client.get(URL, {"q": "不存在的地方"}))

    assert "华阳路街道华一居委社区救助顾问服务点" in by_address
    assert "长宁区华阳路街道社区救助顾问服务站" not in by_address
    assert "长宁区江苏路街道社区救助顾问服务站" in by_name
    assert "华一居委" not in by_name
    assert "没有找到符合条件的服务站点" in nothing


def test_a_logged_in_user_sees_the_same_directory(directory, login):
    html = page(login(directory.manager_b).get(URL))

    assert "华阳路112弄1号" in html  # public facts of other streets are public
    assert "曹家堰暂停地址" not in html


def test_the_directory_groups_by_district_and_paginates(client, db):
    changning = make_district()
    jingan = make_district("310106", "静安区")
    for n in range(1, 4):
        street = make_street(jingan, f"静安{n}街道", f"310106{n:03d}")
        for m in range(1, 21):
            make_committee(street, f"静安{n}-{m}居委会", f"{street.code}{m:03d}")
    make_street(changning, "华阳路街道", "310105001")

    first = page(client.get(URL))
    last = page(client.get(URL, {"page": 2}))

    assert "共 66 个正在服务的站点" in first
    assert first.index("长宁区") < first.index("静安区")
    assert "第 1–50 条,共 66 条" in first
    assert "第 51–66 条,共 66 条" in last
    assert "静安3-20居委" in last
    assert "静安3-20居委" not in first


def test_the_directory_runs_a_fixed_number_of_queries(client, directory):
    def queries(params):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, params).status_code == 200
        return len(captured)

    few = queries({}), queries({"street": "310105001", "q": "华"})
    district = directory.district
    for n in range(101, 113):
        street = make_street(district, f"扩展{n}街道", f"310105{n}")
        for m in range(1, 6):
            make_committee(street, f"扩展{n}-{m}居委会", f"{street.code}{m:03d}")
    many = queries({}), queries({"street": "310105001", "q": "华"})

    assert few == many
