"""Advisor performance (内部考核激励) and the nominations for 救助顾问明星 / 业务骨干."""

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from advisors import performance
from advisors.models import Advisor, Nomination, NominationStatus
from advisors.tests.factories import make_advisor
from cases.choices import ServiceItem, ServiceTask
from cases.models import Evaluation, ServiceRecord
from cases.tests.factories import make_need, make_recipient
from stations.tests.factories import committee_point, make_district, make_street, make_user
from supervision.engine import parse_period
from visits.tests.factories import make_visit

OCT = datetime.date(2026, 10, 1)
SHANGHAI = timezone.get_default_timezone()
YEAR = timezone.localdate().year


def body_of(response):
    return response.content.decode()


def make_service(advisor, station, recipient, date):
    return ServiceRecord.objects.create(
        date=date,
        advisor=advisor,
        station=station,
        recipient=recipient,
        item=ServiceItem.DISCOVERY,
        task=ServiceTask.HOME_VISIT,
        content="上门走访",
    )


def rate(service, rating, day):
    evaluation = Evaluation.objects.create(
        station=service.station, service=service, rating=rating, source="staff"
    )
    at = datetime.datetime.combine(day, datetime.time(10), tzinfo=SHANGHAI)
    Evaluation.objects.filter(pk=evaluation.pk).update(created_at=at)
    return evaluation


@pytest.fixture
def world(two_streets):
    w = two_streets
    point_a = committee_point(w.committees_a[0])
    point_b = committee_point(w.committees_b[0])
    w.point_a, w.point_b = point_a, point_b
    w.gw1 = make_advisor(w.street_a, [point_a], name="甲顾问")
    w.gw2 = make_advisor(w.street_a, [point_a], name="乙顾问")
    w.gw_b = make_advisor(w.street_b, [point_b], name="丙顾问")
    start = datetime.date(2026, 1, 1)

    def person(advisor, committee):
        return make_recipient(committee, advisor=advisor, current_from=start, charged_from=start)

    # Coverage in October: 甲 visited one of two people, 乙 their one person.
    r1 = person(w.gw1, w.committees_a[0])
    r2 = person(w.gw1, w.committees_a[0])
    r3 = person(w.gw2, w.committees_a[1])
    rb = person(w.gw_b, w.committees_b[0])
    make_visit(r1, w.gw1, datetime.date(2026, 10, 8))
    make_visit(r2, w.gw1, datetime.date(2026, 9, 8))  # September: not October
    make_visit(r3, w.gw2, datetime.date(2026, 10, 20))
    make_visit(rb, w.gw_b, datetime.date(2026, 10, 20))

    # Services: 甲 three in October (and one in September), 乙 one.
    s1 = make_service(w.gw1, point_a, r1, datetime.date(2026, 10, 2))
    s2 = make_service(w.gw1, point_a, r1, datetime.date(2026, 10, 15))
    s3 = make_service(w.gw1, point_a, r2, datetime.date(2026, 10, 31))
    s_sep = make_service(w.gw1, point_a, r2, datetime.date(2026, 9, 30))
    make_service(w.gw2, point_a, r3, datetime.date(2026, 10, 3))
    make_service(w.gw_b, point_b, rb, datetime.date(2026, 10, 3))

    # Needs: 甲 resolved two in October, in 3 and 5 days; others do not count.
    make_need(
        r1, status="resolved", found_on=datetime.date(2026, 10, 1), closed_on=OCT.replace(day=4)
    )
    make_need(
        r2, status="resolved", found_on=datetime.date(2026, 9, 28), closed_on=OCT.replace(day=3)
    )
    make_need(
        r1,
        status="resolved",
        found_on=datetime.date(2026, 9, 1),
        closed_on=datetime.date(2026, 9, 20),
    )
    make_need(
        r2, status="unresolvable", found_on=datetime.date(2026, 10, 1), closed_on=OCT.replace(day=9)
    )
    make_need(r2, status="linked", found_on=datetime.date(2026, 10, 1))

    # Ratings of 甲's services made in October: 满意, 基本满意, 不满意 (2 of 3); one in November.
    rate(s1, "satisfied", datetime.date(2026, 10, 3))
    rate(s2, "fairly_satisfied", datetime.date(2026, 10, 16))
    rate(s3, "dissatisfied", datetime.date(2026, 10, 31))
    rate(s_sep, "dissatisfied", datetime.date(2026, 11, 1))
    return w


def figures_by_name(user, key="2026-10", street=None, **kwargs):
    rows = performance.advisor_figures(
        user,
        parse_period(key),
        district_id=user.district_id or user.street.district_id,
        street=street,
        **kwargs,
    )
    return {row.name: row for row in rows}


# Figures ----------------------------------------------------------------------------------------


def test_figures_of_each_advisor_on_exact_cases(world):
    rows = figures_by_name(world.manager_a, street=world.street_a)
    assert set(rows) == {"甲顾问", "乙顾问"}
    first, second = rows["甲顾问"], rows["乙顾问"]
    assert (first.coverage.due, first.coverage.visited, first.coverage.rate) == (
        2,
        1,
        Decimal("50.0"),
    )
    assert (second.coverage.due, second.coverage.visited, second.coverage.rate) == (
        1,
        1,
        Decimal("100.0"),
    )
    assert (first.services, second.services) == (3, 1)
    assert first.resolved == 2 and first.average_days == Decimal("4.0")
    assert second.resolved == 0 and second.average_days is None
    assert first.ratings.total == 3 and first.satisfaction_rate == Decimal("66.7")
    assert second.satisfaction_rate is None


def test_a_quarter_and_a_year_add_up_the_months(world):
    rows = figures_by_name(world.manager_a, key="2026Q3", street=world.street_a)
    # September: 甲 visited r2 (one of two), one service, one need resolved in 19 days.
    first = rows["甲顾问"]
    assert (first.coverage.due, first.coverage.visited) == (6, 1)
    assert first.services == 1 and first.resolved == 1 and first.average_days == Decimal("19.0")
    year = figures_by_name(world.manager_a, key="2026", street=world.street_a)["甲顾问"]
    assert year.services == 4 and year.resolved == 3


def test_the_page_shows_the_street_side_by_side_and_sorts(world, login):
    client = login(world.manager_a)
    body = body_of(client.get(reverse("advisors:performance"), {"period": "2026-10"}))
    assert "甲顾问" in body and "乙顾问" in body and "丙顾问" not in body
    assert "2026年10月" in body and "66.7%" in body and "4.0" in body
    by_coverage = body_of(
        client.get(reverse("advisors:performance"), {"period": "2026-10", "sort": "coverage"})
    )
    assert by_coverage.index("乙顾问") < by_coverage.index("甲顾问")
    reversed_ = body_of(
        client.get(reverse("advisors:performance"), {"period": "2026-10", "sort": "-coverage"})
    )
    assert reversed_.index("甲顾问") < reversed_.index("乙顾问")
    by_services = body_of(
        client.get(reverse("advisors:performance"), {"period": "2026-10", "sort": "services"})
    )
    assert by_services.index("甲顾问") < by_services.index("乙顾问")


def test_a_bad_period_says_so_in_chinese(world, login):
    response = login(world.manager_a).get(reverse("advisors:performance"), {"period": "2026-13x"})
    assert response.status_code == 200
    assert "统计期应写作" in body_of(response)


def test_bureau_picks_a_street_or_the_whole_district(world, login):
    client = login(world.bureau)
    whole = body_of(client.get(reverse("advisors:performance"), {"period": "2026-10"}))
    assert "甲顾问" in whole and "丙顾问" in whole
    street_b = body_of(
        client.get(
            reverse("advisors:performance"),
            {"period": "2026-10", "street": world.street_b.code},
        )
    )
    assert "丙顾问" in street_b and "甲顾问" not in street_b
    other_district = make_street(make_district("310106", "静安区"), "静安寺街道", "310106001")
    response = client.get(reverse("advisors:performance"), {"street": other_district.code})
    assert response.status_code == 404


def test_another_streets_manager_does_not_see_the_advisors(world, login):
    client = login(world.manager_b)
    body = body_of(client.get(reverse("advisors:performance"), {"period": "2026-10"}))
    assert "丙顾问" in body and "甲顾问" not in body and "乙顾问" not in body
    assert client.get(reverse("advisors:nominate", args=[world.gw1.pk])).status_code == 404
    response = client.post(
        reverse("advisors:nominate", args=[world.gw1.pk]),
        {"title": "star", "year": YEAR, "reason": "越权"},
    )
    assert response.status_code == 404
    assert not Nomination.objects.exists()


def test_advisors_have_no_performance_page_and_cannot_nominate(world, login):
    client = login(world.advisor_a)
    response = client.get(reverse("advisors:performance"))
    assert response.status_code == 403 and "只有街镇管理员和区民政局" in body_of(response)
    response = client.post(
        reverse("advisors:nominate", args=[world.gw1.pk]),
        {"title": "star", "year": YEAR, "reason": "自荐"},
    )
    assert response.status_code == 403 and "只有街镇管理员可以提名" in body_of(response)
    assert not Nomination.objects.exists()
    assert client.get(reverse("advisors:nominations")).status_code == 403


def _world_of_size(count):
    district = make_district()
    street = make_street(district, "华阳路街道", "310105001")
    from stations.tests.factories import make_committee

    committee = make_committee(street, "华一居委会", "310105001001")
    point = committee_point(committee)
    manager = make_user("size_manager", Role.STREET_MANAGER, street=street)
    start = datetime.date(2026, 1, 1)
    for index in range(count):
        advisor = make_advisor(street, [point])
        person = make_recipient(committee, advisor=advisor, current_from=start, charged_from=start)
        make_visit(person, advisor, datetime.date(2026, 10, 5))
        service = make_service(advisor, point, person, datetime.date(2026, 10, 6))
        rate(service, "satisfied", datetime.date(2026, 10, 7))
        make_need(person, status="resolved", found_on=OCT, closed_on=OCT.replace(day=2 + index))
        if index % 2:
            Nomination.objects.create(
                advisor=advisor, title="star", year=YEAR, reason="好", nominated_by=manager
            )
    return manager


def _count_queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("advisors:performance"), params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params", [{"period": "2026-10", "sort": "satisfaction"}, {"period": "2026Q3"}]
)
def test_the_page_runs_the_same_queries_for_few_and_many_advisors(client, params):
    small_manager = _world_of_size(1)
    client.force_login(small_manager)
    small = _count_queries(client, params)
    # The same page with five more advisors in the same street.
    from stations.models import Street

    street = Street.objects.get()
    point = committee_point(street.committees.get())
    start = datetime.date(2026, 1, 1)
    for _index in range(5):
        advisor = make_advisor(street, [point])
        person = make_recipient(
            street.committees.get(), advisor=advisor, current_from=start, charged_from=start
        )
        make_visit(person, advisor, datetime.date(2026, 10, 5))
        service = make_service(advisor, point, person, datetime.date(2026, 10, 6))
        rate(service, "fairly_satisfied", datetime.date(2026, 10, 7))
        make_need(person, status="resolved", found_on=OCT, closed_on=OCT.replace(day=9))
        Nomination.objects.create(
            advisor=advisor, title="backbone", year=YEAR, reason="好", nominated_by=small_manager
        )
    large = _count_queries(client, params)
    assert Advisor.objects.count() == 6
    assert small == large


# Nominations ------------------------------------------------------------------------------------


def _nominate(client, advisor, title="star", year=YEAR, reason="全年走访率100%,群众满意"):
    return client.post(
        reverse("advisors:nominate", args=[advisor.pk]),
        {"title": title, "year": year, "reason": reason},
    )


def test_nominate_confirm_shows_on_the_record_and_the_public_directory(world, login, client):
    manager = login(world.manager_a)
    response = _nominate(manager, world.gw1)
    assert response.status_code == 302
    nomination = Nomination.objects.get()
    assert nomination.status == NominationStatus.PENDING
    assert nomination.nominated_by == world.manager_a
    label = f"{YEAR}年度救助顾问明星"
    assert label in body_of(manager.get(reverse("advisors:nominations")))
    # Not public before the bureau confirms.
    client.logout()
    assert label not in body_of(client.get(reverse("public:directory")))

    bureau = login(world.bureau)
    response = bureau.post(
        reverse("advisors:nomination_confirm", args=[nomination.pk]), {"reason": ""}
    )
    assert response.status_code == 302
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.CONFIRMED
    assert nomination.decided_by == world.bureau and nomination.decided_at is not None
    world.gw1.refresh_from_db()
    assert world.gw1.star_year == YEAR

    record = body_of(login(world.manager_a).get(reverse("advisors:detail", args=[world.gw1.pk])))
    assert label in record
    client.logout()
    public = body_of(client.get(reverse("public:directory")))
    assert re.search(r"甲顾问<span[^>]*>" + label, public)
    # Nothing else of the nomination is public.
    assert "全年走访率100%" not in public and "乙顾问<span" not in public

    # A decided nomination is not decided again.
    bureau = login(world.bureau)
    bureau.post(reverse("advisors:nomination_decline", args=[nomination.pk]), {"reason": "重复"})
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.CONFIRMED


def test_a_declined_nomination_shows_nowhere(world, login, client):
    _nominate(login(world.manager_a), world.gw2, title="backbone")
    nomination = Nomination.objects.get()
    bureau = login(world.bureau)
    bureau.post(reverse("advisors:nomination_decline", args=[nomination.pk]), {"reason": ""})
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.PENDING  # a decline needs its reason
    response = bureau.post(
        reverse("advisors:nomination_decline", args=[nomination.pk]),
        {"reason": "服务记录不足"},
        follow=True,
    )
    assert "未予通过" in body_of(response)
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.DECLINED
    assert nomination.decision_reason == "服务记录不足"
    world.gw2.refresh_from_db()
    assert world.gw2.backbone_year is None
    label = f"{YEAR}年度业务骨干"
    record = body_of(login(world.manager_a).get(reverse("advisors:detail", args=[world.gw2.pk])))
    assert label not in record
    client.logout()
    assert label not in body_of(client.get(reverse("public:directory")))


def test_a_second_nomination_for_the_same_title_and_year_is_refused_in_chinese(world, login):
    client = login(world.manager_a)
    _nominate(client, world.gw1)
    response = _nominate(client, world.gw1, reason="再次提名")
    assert response.status_code == 200
    assert "同一称号每年只能提名一次" in body_of(response)
    assert Nomination.objects.count() == 1
    # Another title, or another year, is a nomination of its own.
    assert _nominate(client, world.gw1, title="backbone").status_code == 302
    assert _nominate(client, world.gw1, year=YEAR - 1).status_code == 302
    assert Nomination.objects.count() == 3


def test_bad_nominations_are_refused_in_chinese(world, login):
    client = login(world.manager_a)
    response = _nominate(client, world.gw1, reason="   ")
    assert "请填写推荐理由" in body_of(response)
    response = _nominate(client, world.gw1, year=YEAR + 1)
    assert "年度应在" in body_of(response)
    assert not Nomination.objects.exists()


def test_only_the_districts_bureau_decides(world, login):
    _nominate(login(world.manager_a), world.gw1)
    nomination = Nomination.objects.get()
    response = login(world.manager_a).post(
        reverse("advisors:nomination_confirm", args=[nomination.pk])
    )
    assert response.status_code == 403 and "只有区民政局" in body_of(response)
    response = login(world.manager_b).post(
        reverse("advisors:nomination_confirm", args=[nomination.pk])
    )
    assert response.status_code == 404
    other_district = make_district("310106", "静安区")
    other_bureau = make_user("bureau_other", Role.BUREAU, district=other_district)
    response = login(other_bureau).post(
        reverse("advisors:nomination_confirm", args=[nomination.pk])
    )
    assert response.status_code == 404
    assert "甲顾问" not in body_of(login(world.manager_b).get(reverse("advisors:nominations")))
    nomination.refresh_from_db()
    assert nomination.status == NominationStatus.PENDING
