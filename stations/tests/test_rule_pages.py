"""The staffing and training rules (C5-C8, C11) on the network pages, from exact cases.

Street A (华阳路街道): its street station has one advisor (C5 fails); point 华一 has two,
one of them 待备案 (C7) and one without a badge (C11); point 华二 has none (C6); its only
professional training was last year (C8 fails).
Street B (江苏路街道): its street station has two advisors, one of whom left last week
(C5 fails); point 曹家堰's only advisor is revoked (not active: C6 fails, and not counted
by C7); it held a professional training this year (C8 passes).
"""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.choices import FilingStatus
from advisors.tests.factories import make_advisor, make_training
from stations.models import Station
from stations.tests.factories import (
    committee_point,
    make_committee,
    make_district,
    make_street,
    street_station,
)

TODAY = timezone.localdate()
LAST_WEEK = TODAY - datetime.timedelta(days=7)
ISSUED = datetime.date(2023, 3, 1)
THIS_YEAR = datetime.date(TODAY.year, 1, 1)
LAST_YEAR = datetime.date(TODAY.year - 1, 6, 1)

STREET_A_ADVISORS = ("张一", "赵四", "孙六")
STREET_B_ADVISORS = ("王二", "李三", "钱五")


def page(response):
    return response.content.decode()


def by_testid(response, name):
    match = re.search(rf'data-testid="{name}">([^<]*)<', page(response))
    assert match, f"no data-testid={name} in the page"
    return match.group(1).strip()


def section(response, start, end):
    html = page(response)
    assert start in html, start
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


def offenders(response):
    return section(response, 'id="offenders"', "</section>")


def advisor(street, stations, name, **fields):
    fields.setdefault("uniform_issued_on", ISSUED)
    fields.setdefault("badge_issued_on", ISSUED)
    return make_advisor(street, stations, name=name, **fields)


@pytest.fixture
def staffed(two_streets):
    world = two_streets
    a, b = world.street_a, world.street_b
    hua_1, hua_2 = (committee_point(c) for c in world.committees_a)
    cao = committee_point(world.committees_b[0])
    world.people = {
        "张一": advisor(a, [street_station(a)], "张一"),
        "赵四": advisor(a, [hua_1], "赵四", badge_issued_on=None),
        "孙六": advisor(a, [hua_1], "孙六", filing_status=FilingStatus.PENDING),
        "王二": advisor(b, [street_station(b)], "王二", mobile="13812345678"),
        "李三": advisor(b, [street_station(b)], "李三", left_on=LAST_WEEK, leave_reason="调离"),
        "钱五": advisor(b, [cao], "钱五", filing_status=FilingStatus.REVOKED),
    }
    make_training(
        street=a, date=LAST_YEAR, attendees=[world.people["张一"]], title="去年的专业培训"
    )
    world.training_b = make_training(
        street=b, date=THIS_YEAR, attendees=[world.people["王二"]], title="江苏路年度专业培训"
    )
    world.hua_1, world.hua_2, world.cao = hua_1, hua_2, cao
    return world


def street_url(street, query=""):
    return reverse("stations:street_detail", args=[street.code]) + query


OVERVIEW = reverse("stations:overview")


# ---- Overview: the district's figures and each street's ---------------------------------


def test_overview_shows_the_districts_figures_of_each_rule(staffed, login):
    response = login(staffed.bureau).get(OVERVIEW)

    expected = {
        "C5": ("0 / 2", "0.0"),  # both street stations short
        "C6": ("1 / 3", "33.3"),  # 华一 staffed; 华二 and 曹家堰 (revoked only) not
        "C7": ("3 / 4", "75.0"),  # 张一 赵四 孙六 王二 active; 孙六 pending
        "C8": ("1 / 2", "50.0"),  # 江苏路 trained this year, 华阳路 last year only
        "C11": ("3 / 4", "75.0"),  # 赵四 has no badge
    }
    for rule_id, (ratio, percentage) in expected.items():
        assert by_testid(response, f"rule-{rule_id}-ratio") == ratio, rule_id
        assert by_testid(response, f"rule-{rule_id}-percentage") == percentage, rule_id
    cards = section(response, 'data-testid="staffing-rules"', 'class="card"')
    assert cards.count("verdict-fail") == 5
    assert "未达标" in cards
    assert 'href="?rule=C7#offenders"' in cards


def test_overview_table_gives_each_streets_figures_linking_to_its_offenders(staffed, login):
    response = login(staffed.bureau).get(OVERVIEW)

    row_a = section(response, 'data-testid="street-rules-310105001"', "</tr>")
    row_b = section(response, 'data-testid="street-rules-310105002"', "</tr>")
    cells_a = re.findall(r'rule-cell__ratio">([^<]*)<', row_a)
    cells_b = re.findall(r'rule-cell__ratio">([^<]*)<', row_b)
    # C5, C6, C7, C8, C11
    assert cells_a == ["0/1", "1/2", "2/3", "0/1", "2/3"]
    assert cells_b == ["0/1", "0/1", "1/1", "1/1", "1/1"]
    assert "rule-cell-fail" in row_a and "rule-cell-pass" in row_b
    street_a = street_url(staffed.street_a)
    assert f'href="{street_a}?rule=C7#offenders"' in row_a
    assert f'href="{street_a}?rule=C6#offenders"' in row_a
    assert f'href="{street_a}#trainings"' in row_a


@pytest.mark.parametrize(
    ("rule_id", "listed", "absent"),
    [
        (
            "C5",
            ("长宁区华阳路街道社区救助顾问服务站", "长宁区江苏路街道社区救助顾问服务站"),
            ("华一居委",),
        ),
        ("C6", ("华阳路街道华二居委", "江苏路街道曹家堰居委"), ("华阳路街道华一居委",)),
        ("C7", ("孙六",), ("张一", "赵四", "王二", "李三", "钱五")),
        ("C8", ("华阳路街道",), ("江苏路街道",)),
        ("C11", ("赵四",), ("张一", "孙六", "王二", "李三", "钱五")),
    ],
)
def test_each_rules_offenders_are_one_click_from_the_overview(
    staffed, login, rule_id, listed, absent
):
    response = login(staffed.bureau).get(OVERVIEW + f"?rule={rule_id}")

    rows = offenders(response)
    for text in listed:
        assert text in rows, text
    for text in absent:
        assert text not in rows, text
    assert f"共 {len(listed)} 条" in rows


def test_offending_advisors_link_to_their_page(staffed, login):
    rows = offenders(login(staffed.bureau).get(OVERVIEW + "?rule=C11"))

    zhao = staffed.people["赵四"]
    assert f'href="{reverse("advisors:detail", args=[zhao.pk])}"' in rows
    assert "未发放" in rows


def test_offending_stations_show_their_active_advisors_against_the_minimum(staffed, login):
    rows = offenders(login(staffed.bureau).get(OVERVIEW + "?rule=C5"))

    station_b = street_station(staffed.street_b)
    row_b = rows[rows.index(station_b.get_absolute_url()) :]
    assert re.findall(r'class="num">(?:<span[^>]*>)?(\d+)<', row_b)[:2] == ["1", "2"]


def test_an_unknown_rule_lists_nothing(staffed, login):
    response = login(staffed.bureau).get(OVERVIEW + "?rule=C99")

    assert response.status_code == 200
    assert 'id="offenders"' not in page(response)


def test_the_system_administrator_sees_no_rule_counting_people(staffed, login):
    response = login(staffed.sysadmin).get(OVERVIEW)

    html = page(response)
    assert 'data-testid="rule-C5"' in html
    assert 'data-testid="rule-C7"' not in html
    assert 'data-testid="rule-C11"' not in html
    assert "孙六" not in page(login(staffed.sysadmin).get(OVERVIEW + "?rule=C7"))


# ---- Street page -----------------------------------------------------------------------


def test_street_page_shows_the_streets_figures(staffed, login):
    response = login(staffed.manager_a).get(street_url(staffed.street_a))

    expected = {"C5": "0 / 1", "C6": "1 / 2", "C7": "2 / 3", "C8": "0 / 1", "C11": "2 / 3"}
    for rule_id, ratio in expected.items():
        assert by_testid(response, f"rule-{rule_id}-ratio") == ratio, rule_id
    assert "1 名(至少 2 名)" in by_testid_block(response, "street-station-advisors")
    assert "顾问不足" in by_testid_block(response, "street-station-advisors")
    for name in STREET_B_ADVISORS:
        assert name not in page(response)


def by_testid_block(response, name):
    return section(response, f'data-testid="{name}"', "</dd>")


@pytest.mark.parametrize(
    ("rule_id", "listed", "absent"),
    [
        ("C5", ("长宁区华阳路街道社区救助顾问服务站",), ("江苏路",)),
        ("C6", ("华阳路街道华二居委社区救助顾问服务点",), ("华一居委社区", "曹家堰")),
        ("C7", ("孙六",), ("张一", "赵四", "王二")),
        ("C11", ("赵四",), ("张一", "孙六", "王二")),
    ],
)
def test_street_page_lists_each_rules_offenders(staffed, login, rule_id, listed, absent):
    response = login(staffed.manager_a).get(street_url(staffed.street_a, f"?rule={rule_id}"))

    rows = offenders(response)
    for text in listed:
        assert text in rows, text
    for text in absent:
        assert text not in rows, text


def test_street_page_of_a_street_without_offenders_says_so(staffed, login):
    response = login(staffed.manager_b).get(street_url(staffed.street_b, "?rule=C7"))

    assert "已全部达标" in offenders(response)
    assert "王二" not in offenders(response)


def test_street_page_shows_this_years_trainings_counted_for_c8(staffed, login):
    response_b = login(staffed.manager_b).get(street_url(staffed.street_b))
    trainings_b = section(response_b, 'id="trainings"', "</section>")
    assert "江苏路年度专业培训" in trainings_b
    assert reverse("advisors:training_detail", args=[staffed.training_b.pk]) in trainings_b
    assert reverse("advisors:trainings") in trainings_b

    response_a = login(staffed.manager_a).get(street_url(staffed.street_a))
    trainings_a = section(response_a, 'id="trainings"', "</section>")
    assert "本年度尚未开展专业培训" in trainings_a
    assert "去年的专业培训" not in trainings_a
    assert "江苏路年度专业培训" not in trainings_a


def test_committee_rows_show_each_points_active_advisors(staffed, login):
    response = login(staffed.manager_a).get(street_url(staffed.street_a))

    committees = section(response, 'id="committees"', "</table>")
    row_1 = committees[committees.index("华一居委会") :]
    row_2 = committees[committees.index("华二居委会") :]
    assert re.search(r'class="num">(\d+)<', row_1).group(1) == "2"
    assert re.search(r'class="num">(\d+)<', row_2).group(1) == "0"


def test_another_streets_page_is_404_for_a_street_manager(staffed, login):
    client = login(staffed.manager_a)

    for rule_id in ("", "C5", "C7", "C11"):
        query = f"?rule={rule_id}" if rule_id else ""
        assert client.get(street_url(staffed.street_b, query)).status_code == 404


def test_advisors_see_no_street_figures(staffed, login):
    response = login(staffed.advisor_a).get(street_url(staffed.street_a, "?rule=C7"))

    html = page(response)
    assert response.status_code == 200
    assert 'data-testid="rule-C7"' not in html
    assert 'id="offenders"' not in html
    assert 'id="trainings"' not in html
    assert "孙六" not in html


# ---- Station page ----------------------------------------------------------------------


def test_station_page_lists_its_active_advisors_and_flags_a_shortfall(staffed, login):
    station = street_station(staffed.street_b)

    response = login(staffed.manager_b).get(station.get_absolute_url())

    assert by_testid(response, "active-advisor-count") == "1"
    assert by_testid(response, "staffing-minimum") == "2"
    assert "还差 1 名" in by_testid(response, "staffing-short")
    advisors = section(response, 'data-testid="station-advisors"', "</table>")
    assert "王二" in advisors
    assert reverse("advisors:detail", args=[staffed.people["王二"].pk]) in advisors
    assert "李三" not in page(response)  # left last week
    assert "13812345678" not in page(response)


def test_a_staffed_point_is_not_flagged(staffed, login):
    response = login(staffed.manager_a).get(staffed.hua_1.get_absolute_url())

    assert by_testid(response, "active-advisor-count") == "2"
    assert by_testid(response, "staffing-minimum") == "1"
    assert 'data-testid="staffing-short"' not in page(response)
    assert "配备达标" in page(response)
    advisors = section(response, 'data-testid="station-advisors"', "</table>")
    assert "赵四" in advisors and "孙六" in advisors


def test_a_point_with_only_a_revoked_advisor_is_short(staffed, login):
    response = login(staffed.bureau).get(staffed.cao.get_absolute_url())

    assert by_testid(response, "active-advisor-count") == "0"
    assert "还差 1 名" in by_testid(response, "staffing-short")
    assert "钱五" not in page(response)
    assert "本站点目前没有在岗顾问" in page(response)


def test_guidance_station_has_no_minimum(staffed, login):
    guidance = Station.objects.get(kind="guidance", district=staffed.district)

    response = login(staffed.bureau).get(guidance.get_absolute_url())

    assert "本类站点不设最低配备要求" in page(response)
    assert 'data-testid="staffing-minimum"' not in page(response)


def test_an_advisor_sees_the_colleagues_of_their_station(staffed, login):
    response = login(staffed.advisor_a).get(staffed.hua_1.get_absolute_url())

    advisors = section(response, 'data-testid="station-advisors"', "</table>")
    assert "赵四" in advisors and "孙六" in advisors
    assert reverse("advisors:detail", args=[staffed.people["赵四"].pk]) in advisors
    assert login(staffed.advisor_a).get(staffed.cao.get_absolute_url()).status_code == 404


def test_the_system_administrator_sees_the_count_but_no_names(staffed, login):
    response = login(staffed.sysadmin).get(staffed.hua_1.get_absolute_url())

    assert by_testid(response, "active-advisor-count") == "2"
    assert "赵四" not in page(response)
    assert "顾问个人信息不在系统管理员的查看范围内" in page(response)


# ---- Query counts at two sizes ---------------------------------------------------------


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries)


def grow(world, streets, advisors_each):
    """More streets with committees, advisors and trainings; and more advisors in street A.

    Each offender list keeps at least one row, so that both sizes read a page of rows.
    """
    for n in range(streets):
        number = 101 + n
        street = make_street(world.district, f"扩展{number}街道", f"310105{number}")
        point = committee_point(make_committee(street, f"扩展{number}居委会", f"{street.code}001"))
        people = [
            make_advisor(
                street,
                [street_station(street), point],
                filing_status=FilingStatus.PENDING if i % 2 else FilingStatus.FILED,
            )
            for i in range(advisors_each)
        ]
        make_training(street=street, date=THIS_YEAR, attendees=people[:2])
    # At 华一 only: the street station stays short, so the C5 list keeps its one row.
    for i in range(advisors_each * 3):
        make_advisor(
            world.street_a,
            [world.hua_1],
            filing_status=FilingStatus.PENDING if i % 2 else FilingStatus.FILED,
        )


def page_urls(world):
    street_a = street_url(world.street_a)
    return [
        OVERVIEW,
        *(OVERVIEW + f"?rule={rule_id}" for rule_id in ("C5", "C6", "C7", "C8", "C11")),
        street_a,
        *(street_a + f"?rule={rule_id}" for rule_id in ("C2", "C5", "C6", "C7", "C11")),
        street_station(world.street_a).get_absolute_url(),
        world.hua_1.get_absolute_url(),
    ]


def test_the_pages_run_the_same_queries_at_two_sizes(staffed, login):
    client = login(staffed.bureau)
    few = [count_queries(client, url) for url in page_urls(staffed)]

    grow(staffed, streets=4, advisors_each=12)
    many = [count_queries(client, url) for url in page_urls(staffed)]

    assert few == many
    # The offender pages were really filled: half the 36 + 4 × 12 new advisors are pending.
    assert "共 43 条" in offenders(client.get(OVERVIEW + "?rule=C7"))


def test_a_street_managers_pages_run_the_same_queries_at_two_sizes(staffed, login):
    client = login(staffed.manager_a)
    urls = page_urls(staffed)[6:]
    few = [count_queries(client, url) for url in urls]

    grow(staffed, streets=2, advisors_each=20)
    many = [count_queries(client, url) for url in urls]

    assert few == many


def test_long_offender_lists_are_paginated(staffed, login):
    for _ in range(55):
        make_advisor(staffed.street_a, [staffed.hua_1], filing_status=FilingStatus.PENDING)
    client = login(staffed.bureau)

    first = offenders(client.get(OVERVIEW + "?rule=C7"))
    second = offenders(client.get(OVERVIEW + "?rule=C7&page=2"))

    assert "共 56 条" in first
    assert "第 1–50 条,共 56 条" in first
    assert "第 51–56 条,共 56 条" in second


def test_another_districts_advisors_are_not_counted_for_the_bureau(staffed, login):
    other = make_street(make_district("310106", "静安区"), "江宁路街道", "310106001")
    make_advisor(
        other, [street_station(other)], name="外区顾问", filing_status=FilingStatus.PENDING
    )

    response = login(staffed.bureau).get(OVERVIEW + "?rule=C7")

    assert by_testid(response, "rule-C7-ratio") == "3 / 4"
    assert "外区顾问" not in page(response)
    assert "江宁路街道" not in page(response)
