"""The advisor's desk (走访工作台): who is due, in what order, found how, and visits logged
from it — through the pages, as the advisor (and the other roles) would use them."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases.choices import HardshipLevel
from cases.models import CurrentPeriod
from cases.tests.factories import make_need, make_recipient
from stations.tests.factories import committee_point
from visits.choices import VisitMethod, VisitResult
from visits.models import Visit
from visits.tests.factories import make_visit

D = datetime.date
# A Friday in November: 11 days left (today included); October closed for advisors.
TODAY = D(2026, 11, 20)
THIS_YEAR = D(2026, 1, 1)

DESK = reverse("visits:desk")
SEARCH = reverse("visits:desk_search")
RECORD = reverse("visits:desk_record")
PARTIAL = {"headers": {"X-Desk-Partial": "1"}}

ROW = re.compile(
    r'<tr class="desk-row desk-row--(?P<state>\w+)" data-testid="desk-row" '
    r'data-recipient="(?P<pk>\d+)"'
)


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def world(two_streets, today):
    """advisor_a's login is the advisor 甲顾问 of 华一居委; advisor_b's login has no record."""
    w = two_streets
    w.committee = w.committees_a[0]
    w.advisor = make_advisor(
        w.street_a, [committee_point(w.committee)], name="甲顾问", user=w.advisor_a
    )
    w.colleague = make_advisor(w.street_a, [committee_point(w.committee)], name="乙顾问")
    w.advisor_other_street = make_advisor(w.street_b, [committee_point(w.committees_b[0])])
    return w


def person(world, name, *, since=THIS_YEAR, advisor=None, **fields):
    advisor = advisor if advisor is not None else world.advisor
    return make_recipient(world.committee, name=name, advisor=advisor, current_from=since, **fields)


def body(response):
    return response.content.decode()


def rows(response):
    """[(recipient pk, state)] of the desk's list, in the page's order."""
    return [(int(m["pk"]), m["state"]) for m in ROW.finditer(body(response))]


def row_html(response, recipient):
    html = body(response)
    start = html.index(f'data-recipient="{recipient.pk}"')
    return html[start : html.index("</tr>", start)]


def by_testid(response, name):
    match = re.search(rf'data-testid="{name}">([^<]*)<', body(response))
    assert match, f"no data-testid={name}"
    return match.group(1).strip()


def quick(someone, **fields):
    data = {
        "recipient": someone.pk if someone is not None else "",
        "visited_on": TODAY.isoformat(),
        "method": VisitMethod.HOME,
        "result": VisitResult.COMPLETED,
        "findings": "身体尚可,生活平稳",
        "living": "normal",
        "health": "normal",
        "housing": "normal",
        "mood": "normal",
    }
    data.update(fields)
    return data


# What the desk shows ------------------------------------------------------------------------------


def test_each_person_shows_this_months_state_and_last_months_miss(world, login):
    visited = person(world, "刘已访")
    make_visit(visited, world.advisor, D(2026, 11, 3))
    make_visit(visited, world.advisor, D(2026, 10, 9))
    pending = person(world, "陈未访")
    make_visit(pending, world.colleague, D(2026, 10, 12), method=VisitMethod.PHONE)
    missed = person(world, "赵漏访")
    make_visit(missed, world.advisor, D(2026, 9, 30))
    make_visit(missed, world.advisor, D(2026, 10, 15), result=VisitResult.NOBODY_HOME)
    newcomer = person(world, "孙新进", since=D(2026, 11, 18))  # 13 days of November
    not_current = make_recipient(world.committee, name="钱不在册", advisor=world.advisor)

    response = login(world.advisor_a).get(DESK)

    assert response.status_code == 200
    states = dict(rows(response))
    assert states == {
        visited.pk: "visited",
        pending.pk: "pending",
        missed.pk: "pending",
        newcomer.pk: "not_due",
    }
    assert not_current.pk not in states
    visited_row = row_html(response, visited)
    assert "已走访" in visited_row and "11月3日" in visited_row
    assert "上月漏访" not in visited_row
    pending_row = row_html(response, pending)
    assert "未走访" in pending_row and "还剩 11 天" in pending_row
    # The last visit is the last that counts, with its method.
    assert "2026-10-12" in pending_row and "电话" in pending_row
    assert "上月漏访" not in pending_row
    missed_row = row_html(response, missed)
    assert "上月漏访" in missed_row and "2026-09-30" in missed_row
    assert "本月不需走访" in row_html(response, newcomer)
    # The figures: 3 due (the newcomer is not), 1 visited, 2 to go, 1 missed in October.
    assert by_testid(response, "summary-due") == "3"
    assert by_testid(response, "summary-visited") == "1"
    assert by_testid(response, "summary-remaining") == "2"
    assert by_testid(response, "summary-days-left") == "11"
    assert by_testid(response, "summary-missed-last") == "1"
    assert 'data-testid="desk-reminder"' not in body(response)  # 11 days left > 7


def test_the_reminder_shows_in_the_last_days_with_people_left(world, login, monkeypatch):
    person(world, "周未访")
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2026, 11, 25))

    response = login(world.advisor_a).get(DESK)

    assert "本月还剩 6 天,还有 1 人未走访。" in body(response)


def test_open_needs_and_follow_ups_show_overdue_in_red(world, login):
    someone = person(world, "吴跟进")
    make_need(someone, found_on=D(2026, 10, 2))
    make_need(someone, found_on=D(2026, 10, 3))
    make_need(someone, status="resolved", found_on=D(2026, 10, 1))
    make_visit(
        someone,
        world.advisor,
        D(2026, 10, 2),
        follow_up_required=True,
        follow_up_by=D(2026, 11, 10),
        follow_up_note="复查药费报销",
    )

    response = login(world.advisor_a).get(DESK)

    row = row_html(response, someone)
    assert re.search(r'class="num"><a href="[^"]+#needs">2</a>', row)
    assert "2026-11-10 前" in row and "desk-overdue" in row
    panel = body(response).split('data-testid="desk-follow-ups"')[1].split("</section>")[0]
    assert "吴跟进" in panel and "复查药费报销" in panel and "已逾期" in panel


def test_the_list_is_sorted_by_urgency(world, login):
    visited = person(world, "甲已访", hardship_level=HardshipLevel.HIGH)
    make_visit(visited, world.advisor, D(2026, 11, 2))
    not_due = person(world, "乙不需", since=D(2026, 11, 19))
    late_oct = person(world, "丙十月底")
    make_visit(late_oct, world.advisor, D(2026, 10, 20))
    early_oct = person(world, "丁十月初")
    make_visit(early_oct, world.advisor, D(2026, 10, 1))
    never = person(world, "戊从未", since=D(2026, 10, 20))  # not due in October: no miss
    high = person(world, "己困难", hardship_level=HardshipLevel.HIGH)
    make_visit(high, world.advisor, D(2026, 10, 10))
    missed = person(world, "庚漏访", hardship_level=HardshipLevel.LOW)

    response = login(world.advisor_a).get(DESK)

    assert [pk for pk, _state in rows(response)] == [
        missed.pk,  # missed last month comes first, even with a low hardship
        high.pk,  # then high hardship
        never.pk,  # then the longest since the last visit: never visited first
        early_oct.pk,
        late_oct.pk,
        not_due.pk,  # not due this month
        visited.pk,  # visited last
    ]


def test_my_tab_lists_my_people_and_the_all_tab_everyone_of_my_stations(world, login):
    mine = person(world, "我的人")
    colleagues = person(world, "同事的人", advisor=world.colleague)
    stranger = make_recipient(
        world.committees_b[0],
        name="外街的人",
        advisor=world.advisor_other_street,
        current_from=D(2026, 1, 1),
    )
    client = login(world.advisor_a)

    assert [pk for pk, _ in rows(client.get(DESK))] == [mine.pk]
    everyone = client.get(DESK, {"scope": "all"})
    assert {pk for pk, _ in rows(everyone)} == {mine.pk, colleagues.pk}
    assert "外街的人" not in body(everyone) and stranger.pk not in dict(rows(everyone))
    assert by_testid(everyone, "summary-due") == "2"


# Search ----------------------------------------------------------------------------------------


@pytest.fixture
def searchable(world):
    wang = person(world, "王秀英")
    other = person(world, "李建国", advisor=world.colleague)
    stranger = make_recipient(
        world.committees_b[0],
        name="王秀兰",
        advisor=world.advisor_other_street,
        current_from=D(2026, 1, 1),
    )
    return wang, other, stranger


def found(response):
    return [int(pk) for pk in re.findall(r'role="option" id="desk-option-(\d+)"', body(response))]


def test_search_finds_a_person_by_name_initials_or_id_tail(world, login, searchable):
    wang, other, stranger = searchable
    client = login(world.advisor_a)

    for text in ("王秀", "wxy", "WXY", wang.id_tail):
        response = client.get(SEARCH, {"q": text}, **PARTIAL)
        assert response.status_code == 200
        assert found(response) == [wang.pk], text
    # Anyone the login sees, not only the advisor's own people.
    assert found(client.get(SEARCH, {"q": "ljg"}, **PARTIAL)) == [other.pk]
    # Another street's person is never found, by any key.
    for text in ("王秀兰", "wxl", stranger.id_tail):
        assert stranger.pk not in found(client.get(SEARCH, {"q": text}, **PARTIAL)), text
    assert "没有找到" in body(client.get(SEARCH, {"q": "zzzz"}, **PARTIAL))


def test_search_works_without_javascript_and_a_pick_fills_the_form(world, login, searchable):
    wang, _other, stranger = searchable
    client = login(world.advisor_a)

    response = client.get(DESK, {"q": "wxy"})
    assert found(response) == [wang.pk]
    assert f"?pick={wang.pk}" in body(response)

    picked = client.get(DESK, {"pick": wang.pk})
    assert f'name="recipient" value="{wang.pk}"' in body(picked)
    assert "<strong data-desk-picked-name>王秀英</strong>" in body(picked)
    assert client.get(DESK, {"pick": stranger.pk}).status_code == 404
    for nonsense in ("9" * 40, "abc", "-1"):
        assert client.get(DESK, {"pick": nonsense}).status_code == 404


# The quick visit -----------------------------------------------------------------------------


def test_a_quick_visit_is_recorded_and_the_parts_come_back_updated(world, login):
    wang = person(world, "王秀英")
    other = person(world, "李建国")
    client = login(world.advisor_a)
    assert by_testid(client.get(DESK), "summary-visited") == "0"

    response = client.post(RECORD, quick(wang, findings="老人精神不错"), **PARTIAL)

    assert response.status_code == 200
    visit = Visit.objects.get(recipient=wang)
    assert visit.advisor == world.advisor and visit.visited_on == TODAY
    assert visit.method == VisitMethod.HOME and visit.result == VisitResult.COMPLETED
    assert visit.findings == "老人精神不错" and visit.living == "normal"
    assert visit.recorded_by == world.advisor_a
    html = body(response)
    assert "已记录:王秀英 11月20日 上门走访" in html
    assert dict(rows(response)) == {wang.pk: "visited", other.pk: "pending"}
    assert by_testid(response, "summary-visited") == "1"
    assert by_testid(response, "summary-remaining") == "1"
    # The desk, asked again, says the same.
    assert dict(rows(client.get(DESK)))[wang.pk] == "visited"


def test_without_javascript_the_form_posts_and_comes_back(world, login):
    wang = person(world, "王秀英")
    client = login(world.advisor_a)

    response = client.post(RECORD, quick(wang, method=VisitMethod.PHONE))
    assert response.status_code == 302 and response["Location"] == DESK
    page = client.get(response["Location"])
    assert "已记录:王秀英 11月20日 电话" in body(page)
    assert dict(rows(page))[wang.pk] == "visited"
    # The method used last is the next visit's default.
    assert re.search(r'<option value="phone" selected>', body(page))

    all_tab = client.post(RECORD + "?scope=all", quick(wang))
    assert all_tab["Location"] == DESK + "?scope=all"


def test_a_failed_attempt_is_recorded_but_the_person_stays_due(world, login):
    wang = person(world, "王秀英")
    client = login(world.advisor_a)

    response = client.post(RECORD, quick(wang, result=VisitResult.NOBODY_HOME), **PARTIAL)

    assert "已记录:王秀英 11月20日 上门走访(无人在家,不计入本月走访)" in body(response)
    assert Visit.objects.filter(recipient=wang).count() == 1
    assert dict(rows(response))[wang.pk] == "pending"
    assert "11月20日 无人在家" in row_html(response, wang)


def test_a_date_outside_the_window_is_refused_in_chinese_and_nothing_is_saved(world, login):
    wang = person(world, "王秀英")
    client = login(world.advisor_a)

    for day, words in (
        (D(2026, 10, 31), "顾问只能登记 2026-11-01 以后的走访"),
        (D(2026, 11, 21), "走访日期不能晚于今天"),
    ):
        fields = quick(wang, visited_on=day.isoformat(), findings="补录十月")
        partial = client.post(RECORD, fields, **PARTIAL)
        assert partial.status_code == 400
        assert words in body(partial) and "走访日期" in body(partial)

        page = client.post(RECORD, fields)
        assert page.status_code == 200
        assert words in body(page)
        # What was typed is still there.
        assert 'value="补录十月"' in body(page)
        assert f'value="{day.isoformat()}"' in body(page)
        assert f'name="recipient" value="{wang.pk}"' in body(page)
    assert not Visit.objects.exists()


def test_no_person_or_bad_input_is_refused_in_chinese(world, login):
    client = login(world.advisor_a)
    wang = person(world, "王秀英")

    response = client.post(RECORD, quick(None), **PARTIAL)
    assert response.status_code == 400 and "请先查找并选择走访对象" in body(response)
    response = client.post(RECORD, quick(wang, visited_on="2026-02-30", method="fax"), **PARTIAL)
    assert response.status_code == 400
    assert "走访日期" in body(response) and "走访方式" in body(response)
    response = client.post(RECORD, quick(wang, recipient="9" * 40))
    assert response.status_code == 200 and "请先查找并选择走访对象" not in body(response)
    assert not Visit.objects.exists()


def test_another_streets_person_cannot_be_recorded(world, login):
    stranger = make_recipient(
        world.committees_b[0],
        name="外街的人",
        advisor=world.advisor_other_street,
        current_from=D(2026, 1, 1),
    )
    client = login(world.advisor_a)

    assert client.post(RECORD, quick(stranger), **PARTIAL).status_code == 404
    assert client.post(RECORD, quick(stranger)).status_code == 404
    assert not Visit.objects.exists()
    assert "外街的人" not in body(client.get(DESK, {"scope": "all", "q": "外街"}))


def test_follow_up_from_the_quick_form(world, login):
    wang = person(world, "王秀英")
    client = login(world.advisor_a)
    fields = quick(wang, follow_up_required="on", follow_up_by="2026-11-27", follow_up_note="送药")

    response = client.post(RECORD, fields, **PARTIAL)

    visit = Visit.objects.get(recipient=wang)
    assert visit.follow_up_required and visit.follow_up_by == D(2026, 11, 27)
    assert "送药" in body(response) and "2026-11-27 前" in row_html(response, wang)
    refused = client.post(RECORD, {**fields, "follow_up_by": ""}, **PARTIAL)
    assert refused.status_code == 400 and "需要跟进时请填写跟进期限" in body(refused)
    assert Visit.objects.count() == 1


# Speed ------------------------------------------------------------------------------------------


def populate(world, count):
    """`count` current recipients of the advisor, with visits, needs and follow-ups."""
    committee = world.committee
    for index in range(count):
        someone = person(world, f"对象{index}", hardship_level=HardshipLevel.values[index % 3])
        if index % 2:
            make_visit(someone, world.advisor, D(2026, 11, 1 + index % 19))
        if index % 3:
            make_visit(
                someone,
                world.colleague,
                D(2026, 10, 1 + index % 30),
                follow_up_required=index % 4 == 0,
                follow_up_by=D(2026, 11, 15) if index % 4 == 0 else None,
            )
        if index % 5 == 0:
            make_need(someone, found_on=D(2026, 10, 1))
        if index % 7 == 0:
            CurrentPeriod.objects.create(
                recipient=make_recipient(committee, advisor=world.advisor),
                starts_on=D(2026, 11, 19),
            )


def desk_queries(client, url, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("scope", ["mine", "all"])
def test_the_desk_runs_the_same_queries_for_20_and_200_people(world, login, scope):
    client = login(world.advisor_a)
    populate(world, 20)
    small, response = desk_queries(client, DESK, {"scope": scope})
    assert len(rows(response)) >= 20
    populate(world, 180)
    large, response = desk_queries(client, DESK, {"scope": scope})
    assert len(rows(response)) >= 200
    assert small == large
    search_small, _response = desk_queries(client, SEARCH, {"q": "dx"})
    populate(world, 30)
    search_large, _response = desk_queries(client, SEARCH, {"q": "dx"})
    assert search_small == search_large


# Who has a desk -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["bureau", "manager_a", "sysadmin"])
def test_other_roles_get_the_chinese_forbidden_page(world, login, who):
    client = login(getattr(world, who))

    for response in (client.get(DESK), client.get(SEARCH, {"q": "王"})):
        assert response.status_code == 403
        assert "走访工作台是社区救助顾问的页面" in body(response)
        assert f'href="{reverse("home")}"' in body(response)
    response = client.post(RECORD, quick(person(world, "王秀英")))
    assert response.status_code == 403 and not Visit.objects.exists()


def test_an_advisor_login_without_an_advisor_record_is_told_why(world, login):
    client = login(world.advisor_b)

    response = client.get(DESK)

    assert response.status_code == 200
    assert 'data-testid="desk-no-profile"' in body(response)
    assert "还没有关联社区救助顾问档案" in body(response)
    refused = client.post(RECORD, quick(person(world, "王秀英")))
    assert refused.status_code == 403 and not Visit.objects.exists()


def test_anonymous_users_are_sent_to_log_in(client):
    for url in (DESK, SEARCH):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_home_sends_an_advisor_to_the_desk_and_the_navigation_has_it_first(world, login):
    client = login(world.advisor_a)

    response = client.get(reverse("home"))

    assert response["Location"] == DESK
    nav = body(client.get(DESK)).split('class="site-nav__list"')[1].split("</ul>")[0]
    links = re.findall(r'href="([^"]+)"', nav)
    assert links[0] == DESK
    assert 'aria-current="page">走访工作台' in nav


def test_keepers_have_a_visits_entry_in_the_navigation(world, login):
    for who in ("bureau", "manager_a"):
        client = login(getattr(world, who))
        html = body(client.get(reverse("home"), follow=True))
        assert f'href="{reverse("visits:coverage")}"' in html and ">走访</a>" in html
