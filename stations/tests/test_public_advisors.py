"""The 政务公开 directory names each station's advisors on duty today, and nothing more."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_street,
    street_station,
)

URL = reverse("public:directory")
TODAY = timezone.localdate()
MOBILE = "13912345678"


def page(response):
    return response.content.decode()


def row_of(html, station_name):
    start = html.index(station_name)
    return html[start : html.index("</tr>", start)]


@pytest.fixture
def on_duty(two_streets):
    station_a = street_station(two_streets.street_a)
    point_a = committee_point(two_streets.committees_a[0])
    make_advisor(two_streets.street_a, [station_a, point_a], name="周敏", mobile=MOBILE)
    make_advisor(two_streets.street_a, [station_a], name="吴刚", mobile="13700001111")
    make_advisor(
        two_streets.street_a,
        [station_a],
        name="郑离岗",
        mobile="13600002222",
        left_on=TODAY - datetime.timedelta(days=3),
        leave_reason="调离",
    )
    make_advisor(two_streets.street_a, [point_a], name="冯注销", filing_status=FilingStatus.REVOKED)
    make_advisor(
        two_streets.street_a,
        [point_a],
        name="陈待岗",
        started_on=TODAY + datetime.timedelta(days=10),
    )
    make_advisor(
        two_streets.street_a, [point_a], name="褚待备案", filing_status=FilingStatus.PENDING
    )
    return two_streets


def test_each_station_lists_its_active_advisors_by_name(client, on_duty):
    html = page(client.get(URL))

    street_row = row_of(html, "长宁区华阳路街道社区救助顾问服务站")
    point_row = row_of(html, "华阳路街道华一居委社区救助顾问服务点")
    assert "周敏、吴刚" in street_row
    assert "周敏" in point_row and "褚待备案" in point_row
    # Street B's station has no advisor on duty.
    assert "—" in row_of(html, "长宁区江苏路街道社区救助顾问服务站")


def test_left_revoked_and_future_advisors_never_appear(client, on_duty):
    html = page(client.get(URL))

    for name in ("郑离岗", "冯注销", "陈待岗"):
        assert name not in html


def test_no_advisors_phone_number_appears(client, on_duty):
    html = page(client.get(URL))

    for phone in (MOBILE, "139****5678", "13700001111", "137****1111", "13600002222"):
        assert phone not in html


def test_the_directory_with_advisors_runs_a_fixed_number_of_queries(client, on_duty):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    few = queries()
    for n in range(101, 109):
        street = make_street(on_duty.district, f"扩展{n}街道", f"310105{n}")
        point = committee_point(make_committee(street, f"扩展{n}居委会", f"{street.code}001"))
        for _ in range(5):
            make_advisor(street, [street_station(street), point])
        make_advisor(street, [point], left_on=TODAY, leave_reason="调离")
    many = queries()

    assert few == many
    assert "扩展108街道" in page(client.get(URL))
