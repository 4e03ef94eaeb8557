"""The bureau's dashboard and the compliance page: what bureau staff and a street manager see,
the colours of the rule table, its links to the offenders, the charts, the period selector,
the scope (another street is never shown, its code answers 404) and fixed query counts."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases.tests.factories import make_recipient
from stations.choices import StationStatus
from stations.models import Station
from stations.tests.factories import committee_point, make_committee, make_user, street_station
from supervision import charts
from supervision.tests.inspection_factories import make_inspection, make_order
from visits.tests.factories import make_visit

DASHBOARD = reverse("supervision:dashboard")
COMPLIANCE = reverse("supervision:compliance")
D = datetime.timedelta


def this_month():
    return timezone.localdate().replace(day=1)


def month_key(day):
    return f"{day:%Y-%m}"


@pytest.fixture
def world(two_streets):
    """Street A runs its street station with two advisors and has a point per committee with an
    advisor; street B's street station is paused (C1 red), it has an order past its deadline
    and an order still in time, and a person due this month and not visited."""
    w = two_streets
    today = timezone.localdate()
    a_station = street_station(w.street_a)
    a_points = [committee_point(c) for c in w.committees_a]
    b_point = committee_point(w.committees_b[0])
    Station.objects.filter(pk=street_station(w.street_b).pk).update(status=StationStatus.SUSPENDED)
    w.adv_a = make_advisor(w.street_a, [a_station, a_points[0]])
    make_advisor(w.street_a, [a_station, a_points[1]])
    w.adv_b = make_advisor(w.street_b, [b_point])
    start = this_month() - D(days=400)
    w.person_a = make_recipient(w.committees_a[0], advisor=w.adv_a, current_from=start)
    make_visit(w.person_a, w.adv_a, today.replace(day=1))
    w.person_b = make_recipient(w.committees_b[0], advisor=w.adv_b, current_from=start)
    w.late_order = make_order(w.street_b, by=w.bureau, deadline=today - D(days=3))
    w.open_order = make_order(w.street_b, by=w.bureau, deadline=today + D(days=20))
    w.inspection = make_inspection(w.street_b, by=w.bureau, inspected_on=today)
    return w


def cell(html, street_code, rule_id):
    """The <a> or <span> of `rule_id` in the row of `street_code` (or "district")."""
    row = re.search(rf'<tr data-street="{street_code}">(.*?)</tr>', html, re.S)
    assert row, street_code
    match = re.search(rf'<(?:a|span)[^>]*data-testid="cell-{rule_id}"[^>]*>', row.group(1))
    assert match, rule_id
    return match.group(0)


def test_bureau_sees_each_street_coloured_by_verdict(world, login):
    response = login(world.bureau).get(DASHBOARD)
    assert response.status_code == 200
    html = response.content.decode()
    assert world.street_a.name in html and world.street_b.name in html
    # B's street station is paused: C1 is red for B, green for A.
    assert "rule-cell-fail" in cell(html, world.street_b.code, "C1")
    assert "rule-cell-pass" in cell(html, world.street_a.code, "C1")
    # C9 this month: A's person visited (green), B's not (red); the district is 1 of 2.
    assert "rule-cell-pass" in cell(html, world.street_a.code, "C9")
    assert "rule-cell-fail" in cell(html, world.street_b.code, "C9")
    assert "1/2" in re.search(r'<tr data-street="district">.*?</tr>', html, re.S).group(0)
    # Open orders by deadline, the overdue one red; this month's inspection.
    orders = re.search(r'data-testid="open-orders".*?</section>', html, re.S).group(0)
    assert orders.index(world.late_order.number) < orders.index(world.open_order.number)
    assert 'data-overdue="1"' in orders
    assert reverse("supervision:order_detail", args=[world.late_order.pk]) in orders
    assert reverse("supervision:inspection_detail", args=[world.inspection.pk]) in html


def test_cell_links_to_the_rule_offenders_of_that_street(world, login):
    client = login(world.bureau)
    html = client.get(DASHBOARD).content.decode()
    link = re.search(r'href="([^"]+)"', cell(html, world.street_b.code, "C1")).group(1)
    link = link.replace("&amp;", "&")
    assert f"street={world.street_b.code}" in link and "rule=C1" in link
    page = client.get(link)
    assert page.status_code == 200
    offenders = re.search(r'data-testid="offenders".*?</section>', page.content.decode(), re.S)
    assert world.street_b.name in offenders.group(0)
    # C9 lists the person not visited, linked to their file.
    page = client.get(COMPLIANCE, {"street": world.street_b.code, "rule": "C9"}).content.decode()
    assert world.person_b.file_number in page
    assert reverse("cases:recipient_detail", args=[world.person_b.pk]) in page
    assert world.person_a.file_number not in page


def test_manager_sees_their_street_alone(world, login):
    client = login(world.manager_a)
    html = client.get(DASHBOARD).content.decode()
    assert world.street_a.name in html
    assert world.street_b.name not in html
    assert world.late_order.number not in html
    assert world.person_b.file_number not in html
    page = client.get(COMPLIANCE, {"rule": "C9"}).content.decode()
    assert world.street_b.name not in page
    assert world.person_b.file_number not in page
    assert client.get(COMPLIANCE, {"street": world.street_b.code}).status_code == 404
    assert client.get(COMPLIANCE, {"street": world.street_a.code}).status_code == 200
    # Bureau staff of another district do not reach this district's street either.
    from stations.tests.factories import make_district

    other = make_user("bureau_other", "bureau", district=make_district("310106", "静安区"))
    assert login(other).get(COMPLIANCE, {"street": world.street_a.code}).status_code == 404


def test_manager_sees_overdue_order_first_then_red_rules(world, login):
    html = login(world.manager_b).get(DASHBOARD).content.decode()
    fix = re.search(r'data-testid="fix-first".*?</section>', html, re.S).group(0)
    items = re.findall(r'<li class="dash-fix-item([^"]*)" data-testid="fix-(order|rule)"', fix)
    assert items[0] == (" dash-overdue", "order")
    assert fix.index(world.late_order.number) < fix.index(world.open_order.number)
    kinds = [kind for _css, kind in items]
    assert kinds == sorted(kinds)  # orders before rules
    rules = [css for css, kind in items if kind == "rule"]
    assert rules and rules[0] == " dash-fix-fail"
    assert "C1" in fix


def test_charts_draw_twelve_months(world, login):
    html = login(world.bureau).get(DASHBOARD).content.decode()
    staffing = re.search(r'data-testid="chart-staffing".*?</figure>', html, re.S).group(0)
    assert staffing.count('data-testid="point-C5"') == 12
    assert staffing.count('data-testid="point-C6"') == 12
    visits = re.search(r'data-testid="chart-coverage".*?</figure>', html, re.S).group(0)
    assert visits.count('data-testid="point-C9"') == 12
    assert "<svg" in visits and "<polyline" in visits


def test_chart_breaks_at_a_month_without_figure():
    chart = charts.line_chart("t", ["1月", "2月", "3月"], [("x", "x", "c", [100, None, 0])])
    series = chart.series[0]
    assert len(series.points) == 2 and len(series.segments) == 2
    assert series.points[0].y < series.points[1].y  # 100% is drawn above 0%


def test_period_selector(world, login):
    client = login(world.bureau)
    assert "年第" in client.get(DASHBOARD, {"period": f"{this_month().year}Q1"}).content.decode()
    bad = client.get(DASHBOARD, {"period": "2026-13"})
    assert bad.status_code == 200
    assert "统计期应写作" in bad.content.decode()
    future = client.get(COMPLIANCE, {"period": "2099"}).content.decode()
    assert "尚未开始" in future
    assert 'data-testid="period-error"' in future


def test_roles_without_the_dashboard_are_refused(world, login):
    for user in (world.advisor_a, world.sysadmin):
        for url in (DASHBOARD, COMPLIANCE):
            response = login(user).get(url)
            assert response.status_code == 403
            assert "无权" in response.content.decode()


def test_home_sends_bureau_and_managers_to_the_dashboard(world, login):
    assert login(world.bureau).get("/")["Location"] == DASHBOARD
    assert login(world.manager_a).get("/")["Location"] == DASHBOARD


def grow(w, n=20):
    """n more people (two in three visited this month), advisors, orders and inspections,
    in both streets."""
    today = timezone.localdate()
    for i in range(n):
        street = w.street_a if i % 2 else w.street_b
        committee = make_committee(street)
        advisor = make_advisor(street, [committee_point(committee)])
        person = make_recipient(committee, advisor=advisor, current_from=today - D(days=400))
        if i % 3:
            make_visit(person, advisor, today.replace(day=1))
        make_order(street, by=w.bureau, deadline=today - D(days=i % 5))
        make_inspection(street, by=w.bureau, inspected_on=today)


def count_queries(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    "url,params",
    [
        (DASHBOARD, {}),
        (DASHBOARD, {"period": "QUARTER"}),
        (COMPLIANCE, {"rule": "C9"}),
        (COMPLIANCE, {"rule": "C6"}),
        (COMPLIANCE, {"rule": "C12"}),
        (COMPLIANCE, {"rule": "P1"}),
        (COMPLIANCE, {"rule": "L1"}),
    ],
)
@pytest.mark.parametrize("who", ["bureau", "manager_a"])
def test_same_queries_at_two_sizes(world, client, url, params, who):
    if params.get("period") == "QUARTER":
        params = {"period": f"{this_month().year}Q{(this_month().month - 1) // 3 + 1}"}
    grow(world, 2)  # a row of every list in both streets, so no list is empty at either size
    user = getattr(world, who)
    client.force_login(user)
    client.get(url, params)  # warm the session and caches
    small = count_queries(client, url, params)
    grow(world)
    assert count_queries(client, url, params) == small
