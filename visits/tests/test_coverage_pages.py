"""The pages of the month rule (C9): figures, misses, matrix, reminders, settings.

What a user checks: the figures of a scope, the list one click away with as many names as
the figure says, the matrix's cells and totals agreeing with both, another street's people
never shown, and the bureau's settings changing the figures.
"""

import datetime
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from advisors.tests.factories import make_advisor
from cases.models import CurrentPeriod, Recipient
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point, make_user
from visits import coverage
from visits.choices import MonthState, VisitMethod, VisitResult
from visits.models import VisitPolicy, policy_for
from visits.tests.factories import make_visit

D = datetime.date
OCT = D(2025, 10, 1)
NOV = D(2025, 11, 1)
COVERAGE = reverse("visits:coverage")
MISSES = reverse("visits:misses")
MATRIX = reverse("visits:matrix")
DUE = reverse("visits:due")
POLICY = reverse("visits:policy")
STREET_A, STREET_B = "310105001", "310105002"
COMMITTEE_A1, COMMITTEE_B = "310105001001", "310105002001"


def html(response):
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def person(committee, advisor, *periods, name=None):
    """A person with the given current periods [(from, to or None)], in `advisor`'s charge."""
    recipient = make_recipient(committee, name=name, advisor=advisor, charged_from=D(2024, 1, 1))
    for starts, ends in periods:
        CurrentPeriod.objects.create(recipient=recipient, starts_on=starts, ends_on=ends)
    return recipient


@pytest.fixture
def world(two_streets):
    """Street A: two committees, two advisors, people in every C9 case of October 2025.
    Street B: one committee, one advisor, one person missed in October."""
    w = two_streets
    a1, a2 = w.committees_a
    w.jia = make_advisor(w.street_a, [committee_point(a1)], name="甲顾问")
    w.yi = make_advisor(w.street_a, [committee_point(a2)], name="乙顾问")
    w.bing = make_advisor(w.street_b, [committee_point(w.committees_b[0])], name="丙顾问")
    since = (D(2025, 1, 1), None)
    # The exact cases of the issue.
    w.edges = person(a1, w.jia, since, name="两头走访")  # visited on Oct 31 and Nov 1
    make_visit(w.edges, w.jia, D(2025, 10, 31))
    make_visit(w.edges, w.jia, D(2025, 11, 1))
    w.late = person(a1, w.jia, (D(2025, 10, 20), None), name="二十日在册")  # due from November
    w.left = person(a1, w.jia, (D(2025, 1, 1), D(2025, 10, 10)), name="十日退出")
    w.half = person(a1, w.jia, (D(2025, 10, 1), D(2025, 10, 16)), name="十六日退出")  # due, missed
    w.failed = person(a1, w.jia, since, name="无人在家")
    make_visit(w.failed, w.jia, D(2025, 10, 9), result=VisitResult.NOBODY_HOME)
    w.twice = person(a2, w.yi, since, name="走访两次")
    make_visit(w.twice, w.yi, D(2025, 10, 3))
    make_visit(w.twice, w.yi, D(2025, 10, 21), method=VisitMethod.PHONE)
    w.phoned = person(a2, w.yi, since, name="电话走访")
    make_visit(w.phoned, w.yi, D(2025, 10, 12), method=VisitMethod.PHONE)
    w.nobody = person(a2, None, since, name="无人负责")  # missed, nobody's
    w.other = person(w.committees_b[0], w.bing, since, name="江苏路对象")  # street B, missed
    # Street A in October 2025: due edges, half, failed, twice, phoned, nobody = 6;
    # visited edges, twice, phoned = 3; missed half, failed (甲) and nobody = 3.
    return w


def figure_of(response):
    return response.context["figure"]


def query_count(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


# Who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("url", [COVERAGE, MISSES, MATRIX, DUE, POLICY])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", [COVERAGE, MISSES, MATRIX, DUE, POLICY])
def test_administrators_have_no_visit_pages(world, login, url):
    auditor = make_user("auditor_t", Role.AUDIT_ADMIN)
    for user in (world.sysadmin, auditor):
        response = login(user).get(url)
        assert response.status_code == 403
        assert "江苏路对象" not in response.content.decode()


def test_street_manager_sees_their_street_only(world, login):
    client = login(world.manager_a)
    page = html(client.get(COVERAGE, {"month": "2025-10"}))
    assert "华一居委会" in page and "华二居委会" in page
    assert "甲顾问" in page and "乙顾问" in page
    assert "曹家堰" not in page and "丙顾问" not in page and "江苏路" not in page
    misses = html(client.get(MISSES, {"month": "2025-10"}))
    assert "十六日退出" in misses
    assert "江苏路对象" not in misses


@pytest.mark.parametrize(
    "url, query",
    [
        (COVERAGE, {"street": STREET_B}),
        (COVERAGE, {"committee": COMMITTEE_B}),
        (MISSES, {"street": STREET_B, "month": "2025-10"}),
        (MISSES, {"committee": COMMITTEE_B, "month": "2025-10"}),
        (MATRIX, {"street": STREET_B}),
        (MATRIX, {"committee": COMMITTEE_B}),
        (DUE, {"street": STREET_B}),
        (COVERAGE, {"street": STREET_A, "committee": COMMITTEE_B}),
    ],
)
def test_another_streets_code_is_404(world, login, url, query):
    assert login(world.manager_a).get(url, query).status_code == 404


def test_another_streets_advisor_is_404_on_the_misses(world, login):
    client = login(world.manager_a)
    response = client.get(MISSES, {"month": "2025-10", "advisor": world.bing.pk})
    assert response.status_code == 404
    assert client.get(MISSES, {"advisor": "abc"}).status_code == 404


def test_advisor_sees_the_figures_of_the_people_they_see(world, login):
    client = login(world.advisor_a)  # serves 华一居委会's point
    response = client.get(COVERAGE, {"month": "2025-10"})
    page = html(response)
    # 华一: edges (visited), half and failed (missed).
    assert figure_of(response) == coverage.Figure(due=3, visited=1)
    assert "华二居委会" not in page and "曹家堰" not in page
    assert client.get(COVERAGE, {"street": STREET_B}).status_code == 404


def test_bureau_sees_every_street_of_the_district(world, login):
    client = login(world.bureau)
    response = client.get(COVERAGE, {"month": "2025-10"})
    page = html(response)
    assert "华阳路街道" in page and "江苏路街道" in page
    assert figure_of(response) == coverage.Figure(due=7, visited=3)
    rows = {row.code: row.figure for row in response.context["place_rows"]}
    assert rows == {
        STREET_A: coverage.Figure(due=6, visited=3),
        STREET_B: coverage.Figure(due=1, visited=0),
    }
    street = client.get(COVERAGE, {"month": "2025-10", "street": STREET_B})
    assert "曹家堰居委会" in html(street)
    assert figure_of(street) == coverage.Figure(due=1, visited=0)


# The figures agree with each other and with the list ----------------------------------------


def _matrix_column(response, first):
    months = [m["first"] for m in response.context["months"]]
    index = months.index(first)
    total = response.context["totals"][index]["figure"]
    states = [row.cells[index].state for row in response.context["page_obj"]]
    return total, states


@pytest.mark.parametrize(
    "who, query",
    [
        ("manager_a", {}),
        ("manager_a", {"committee": COMMITTEE_A1}),
        ("bureau", {"street": STREET_A}),
        ("bureau", {"street": STREET_B}),
    ],
)
def test_matrix_totals_figures_and_misses_agree(world, login, who, query):
    client = login(getattr(world, who))
    scope = Recipient.objects.visible_to(getattr(world, who))
    if "committee" in query:
        scope = scope.filter(committee__code=query["committee"])
    else:
        scope = scope.filter(street__code=query.get("street", STREET_A))
    expected = coverage.month_figures(scope, OCT, policy_for(world.district.pk))

    figures = figure_of(client.get(COVERAGE, {**query, "month": "2025-10"}))
    misses = client.get(MISSES, {**query, "month": "2025-10"})
    matrix = client.get(MATRIX, {**query, "end": "2025-12"})
    total, states = _matrix_column(matrix, OCT)

    assert figures == expected == total
    assert misses.context["page_obj"].paginator.count == expected.missed
    assert f"共 {expected.missed} 名" in html(misses)
    assert states.count(MonthState.MISSED) == expected.missed
    assert states.count(MonthState.VISITED) == expected.visited
    assert len(states) - states.count(MonthState.NOT_DUE) == expected.due


def test_figures_per_committee_and_advisor_add_up(world, login):
    response = login(world.manager_a).get(COVERAGE, {"month": "2025-10"})
    committees = {row.code: row.figure for row in response.context["place_rows"]}
    assert committees == {
        "310105001001": coverage.Figure(due=3, visited=1),
        "310105001002": coverage.Figure(due=3, visited=2),
    }
    advisors = {row.label: row.figure for row in response.context["advisor_rows"]}
    assert advisors == {
        "甲顾问": coverage.Figure(due=3, visited=1),
        "乙顾问": coverage.Figure(due=2, visited=2),
        "未指定责任顾问": coverage.Figure(due=1, visited=0),
    }
    total = coverage.Figure()
    for figure in advisors.values():
        total = total + figure
    assert total == figure_of(response)


def test_misses_list_names_the_responsible_advisor_and_filters_by_them(world, login):
    client = login(world.manager_a)
    page = html(client.get(MISSES, {"month": "2025-10"}))
    assert "十六日退出" in page and "无人在家" in page and "无人负责" in page
    assert "两头走访" not in page and "走访两次" not in page and "二十日在册" not in page
    assert "未指定责任顾问" in page

    mine = client.get(MISSES, {"month": "2025-10", "advisor": world.jia.pk})
    names = [row.name for row in mine.context["page_obj"]]
    assert sorted(names) == sorted(["十六日退出", "无人在家"])
    nobody = client.get(MISSES, {"month": "2025-10", "advisor": "none"})
    assert [row.name for row in nobody.context["page_obj"]] == ["无人负责"]


def test_the_miss_belongs_to_the_advisor_on_the_months_last_day(world, login):
    from cases.charges import record_charges

    # 无人负责 was handed to 乙顾问 on 31 October: October's miss is 乙's, not nobody's.
    record_charges([world.nobody.pk], world.yi.pk, on=D(2025, 10, 31))
    response = login(world.manager_a).get(MISSES, {"month": "2025-10", "advisor": world.yi.pk})
    assert [row.name for row in response.context["page_obj"]] == ["无人负责"]


def test_misses_page_shows_the_last_visit_before_the_month(world, login):
    make_visit(world.half, world.jia, D(2025, 9, 22))
    page = html(login(world.manager_a).get(MISSES, {"month": "2025-10"}))
    assert "2025-09-22" in page


# The matrix on the exact cases -----------------------------------------------------------------


def test_matrix_cells_on_the_exact_cases(world, login):
    response = login(world.manager_a).get(MATRIX, {"end": "2025-12"})
    page = html(response)
    months = [m["first"] for m in response.context["months"]]
    assert months[0] == D(2025, 1, 1) and months[-1] == D(2025, 12, 1)
    rows = {row.name: row.cells for row in response.context["page_obj"]}
    oct_, nov = months.index(OCT), months.index(NOV)

    def cell(name, index):
        return rows[name][index]

    assert cell("两头走访", oct_).state == MonthState.VISITED and cell("两头走访", oct_).day == 31
    assert cell("两头走访", nov).state == MonthState.VISITED and cell("两头走访", nov).day == 1
    assert cell("二十日在册", oct_).state == MonthState.NOT_DUE
    assert cell("二十日在册", nov).state == MonthState.MISSED
    assert cell("十日退出", oct_).state == MonthState.NOT_DUE
    assert cell("十日退出", months.index(D(2025, 9, 1))).state == MonthState.MISSED
    assert cell("十六日退出", oct_).state == MonthState.MISSED
    assert cell("十六日退出", nov).state == MonthState.NOT_DUE
    assert cell("无人在家", oct_).state == MonthState.MISSED
    assert cell("走访两次", oct_).state == MonthState.VISITED
    assert cell("走访两次", oct_).day == 3
    # Twice in October, counted once in the totals.
    assert response.context["totals"][oct_]["figure"] == coverage.Figure(due=6, visited=3)
    # Rendered: green with the day, red, grey; the other street's person absent.
    assert 'class="matrix-cell matrix-visited" title="2025年10月:2025-10-31 已走访"' in page
    assert "matrix-missed" in page and "matrix-not_due" in page
    assert "江苏路对象" not in page
    # Ordered by committee, then file number.
    committees = [row.committee.code for row in response.context["page_obj"]]
    assert committees == sorted(committees)


def test_matrix_shows_the_month_in_progress_as_pending(world, login):
    today = timezone.localdate()
    response = login(world.manager_a).get(MATRIX)
    months = [m["first"] for m in response.context["months"]]
    assert months[-1] == today.replace(day=1)
    rows = {row.name: row.cells for row in response.context["page_obj"]}
    assert rows["无人负责"][-1].state == MonthState.PENDING
    assert "matrix-pending" in html(response)


def test_matrix_is_printable(world, login):
    page = html(login(world.manager_a).get(MATRIX, {"end": "2025-12"}))
    assert "data-print" in page and "js/print.js" in page and "css/coverage.css" in page
    assert "onclick" not in page and "<script>" not in page
    css = Path(finders.find("css/coverage.css")).read_text(encoding="utf-8")
    assert "A4 landscape" in css and "@media print" in css


def test_bureau_chooses_a_street_for_the_matrix(world, login):
    response = login(world.bureau).get(MATRIX)
    page = html(response)
    assert "请选择街镇" in page and "华阳路街道" in page and "江苏路街道" in page
    assert "page_obj" not in response.context


# Months, periods and bad input ---------------------------------------------------------------


def test_month_navigation_and_in_progress_note(world, login):
    client = login(world.manager_a)
    page = html(client.get(COVERAGE, {"month": "2025-10"}))
    assert "month=2025-09" in page and "month=2025-11" in page
    assert "本月进行中" not in page
    current = html(client.get(COVERAGE))
    assert "本月进行中" in current
    assert 'data-testid="next-month"' not in current


@pytest.mark.parametrize(
    "month", ["2025-13", "abc", "9999-12", "0001-01", "2025-10-01", "' OR 1=1"]
)
def test_a_bad_month_is_explained_and_shows_this_month(world, login, month):
    client = login(world.manager_a)
    for url in (COVERAGE, MISSES):
        response = client.get(url, {"month": month})
        page = html(response)
        assert "下面显示的是本月" in page
    assert client.get(MATRIX, {"end": month}).status_code == 200


def test_quarter_and_year_add_up_the_months(world, login):
    client = login(world.manager_a)
    scope = Recipient.objects.filter(street=world.street_a)
    policy = policy_for(world.district.pk)
    quarter = client.get(COVERAGE, {"period": "2025Q4"})
    months = [D(2025, 10, 1), D(2025, 11, 1), D(2025, 12, 1)]
    expected = coverage.Figure()
    for first in months:
        expected = expected + coverage.month_figures(scope, first, policy)
    assert figure_of(quarter) == expected
    assert [row.figure for row in quarter.context["month_rows"]] == [
        coverage.month_figures(scope, first, policy) for first in months
    ]
    assert "2025年第4季度" in html(quarter)
    year = client.get(COVERAGE, {"period": "2025"})
    assert figure_of(year) == coverage.period_figures(
        scope, [D(2025, m, 1) for m in range(1, 13)], policy
    )
    assert "统计期应写作" in html(client.get(COVERAGE, {"period": "2025Q9"}))


# Reminders -----------------------------------------------------------------------------------


@pytest.fixture
def late_october(monkeypatch):
    """Today is 28 October 2025: four days left, within the default seven of the reminder."""
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 10, 28))
    return D(2025, 10, 28)


def test_due_page_lists_who_is_not_yet_visited_by_advisor(world, login, late_october):
    client = login(world.manager_a)
    response = client.get(DUE)
    page = html(response)
    names = [row.name for row in response.context["page_obj"]]
    # edges is visited only on the 31st (not yet, on the 28th... but recorded already);
    # the list is of people due and without a counting visit in October so far.
    assert sorted(names) == sorted(["十六日退出", "无人在家", "无人负责"])
    assert "本月还剩 4 天" in page and "月底将至" in page
    assert "已不在册" in page  # 十六日退出 left on the 16th but is due this month
    mine = client.get(DUE, {"advisor": world.jia.pk})
    assert sorted(row.name for row in mine.context["page_obj"]) == ["十六日退出", "无人在家"]
    assert "江苏路对象" not in page


def test_street_page_panel_reminds_and_lists_last_months_misses(world, login, late_october):
    make_visit(world.edges, world.jia, D(2025, 9, 5))
    client = login(world.manager_a)
    page = html(client.get(reverse("stations:street_detail", args=[STREET_A])))
    assert "本月走访" in page
    assert 'data-testid="month-reminder"' in page
    assert "本月还剩 4 天,3 名应走访对象尚未走访" in page
    assert DUE in page
    # September 2025: everyone current since January is due; only edges was visited.
    # 甲: late is not yet current, left (until Oct 10) and half (from Oct) → left, failed missed.
    assert "2025年9月漏访" in page
    assert f"{MISSES}?month=2025-09&amp;advisor={world.jia.pk}" in page
    assert "曹家堰" not in page


def test_street_page_panel_without_reminder_early_in_the_month(world, login, monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: D(2025, 10, 3))
    page = html(login(world.manager_a).get(reverse("stations:street_detail", args=[STREET_A])))
    assert "本月走访" in page
    assert 'data-testid="month-reminder"' not in page


def test_advisors_street_page_has_no_panel(world, login):
    page = html(login(world.advisor_a).get(reverse("stations:street_detail", args=[STREET_A])))
    assert 'data-testid="month-panel"' not in page


# The bureau's settings -----------------------------------------------------------------------


def test_policy_edit_changes_the_figures(world, login):
    client = login(world.bureau)
    # 十四日在册: current from 14 October 2025 (18 days): due at 15 days, not at 20.
    person(world.committees_a[0], world.jia, (D(2025, 10, 14), None), name="十四日在册")
    before = figure_of(client.get(COVERAGE, {"month": "2025-10", "street": STREET_A}))
    assert before == coverage.Figure(due=7, visited=3)
    assert "当月为现有救助对象满15天的应走访" in html(client.get(POLICY))

    response = client.post(
        POLICY,
        {
            "due_days": "20",
            "excluded_methods": ["phone"],
            "late_entry_day": "3",
            "reminder_days": "5",
        },
    )
    assert response.status_code == 302
    policy = VisitPolicy.objects.get(district=world.district)
    assert (
        policy.due_days,
        policy.excluded_methods,
        policy.late_entry_day,
        policy.reminder_days,
    ) == (
        20,
        ["phone"],
        3,
        5,
    )
    assert policy.updated_by == world.bureau

    after = client.get(COVERAGE, {"month": "2025-10", "street": STREET_A})
    # 十四日在册 (18 days) and 十六日退出 (16 days) no longer due; 电话走访 no longer counts
    # (走访两次 still has a home visit).
    assert figure_of(after) == coverage.Figure(due=5, visited=2)
    page = html(after)
    assert "当月为现有救助对象满20天的应走访" in page and "电话走访不计入" in page
    # The street manager sees the same settings on their pages.
    manager = html(login(world.manager_a).get(COVERAGE, {"month": "2025-10"}))
    assert "电话走访不计入" in manager


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"due_days": "40"}, "due_days", "请填写 1 到 28 之间的整数。"),
        ({"due_days": "0"}, "due_days", "请填写 1 到 28 之间的整数。"),
        ({"due_days": "abc"}, "due_days", "请填写 1 到 28 之间的整数。"),
        ({"due_days": ""}, "due_days", "请填写应走访的在册天数。"),
        ({"reminder_days": "-1"}, "reminder_days", "请填写 1 到 28 之间的整数。"),
        ({"late_entry_day": "29"}, "late_entry_day", "请填写 0 到 28 之间的整数。"),
        (
            {"excluded_methods": ["home", "phone", "station", "video"]},
            "excluded_methods",
            "不能排除全部走访方式",
        ),
        ({"excluded_methods": ["teleport"]}, "excluded_methods", "未知的走访方式"),
    ],
)
def test_bad_policy_input_is_explained_and_saves_nothing(world, login, data, field, message):
    client = login(world.bureau)
    values = {"due_days": "15", "late_entry_day": "5", "reminder_days": "7", **data}
    response = client.post(POLICY, values)
    page = html(response)
    assert message in page
    assert "设置没有保存" in page
    assert response.context["form"].errors[field]
    assert not VisitPolicy.objects.exists()


@pytest.mark.parametrize("who", ["manager_a", "advisor_a"])
def test_only_bureau_staff_change_the_policy(world, login, who):
    client = login(getattr(world, who))
    assert client.get(POLICY).status_code == 403
    response = client.post(POLICY, {"due_days": "20", "late_entry_day": "5", "reminder_days": "7"})
    assert response.status_code == 403
    assert "走访规则由区民政局设置" in response.content.decode()
    assert not VisitPolicy.objects.exists()


# Queries: a fixed number whatever the number of people ------------------------------------------


def _grow(world, count):
    """`count` more people in street A (half visited in October 2025, some failed attempts)."""
    committees = world.committees_a
    for index in range(count):
        advisor = world.jia if index % 3 else world.yi
        someone = person(
            committees[index % 2], advisor, (D(2025, 1, 1 + index % 20), None), name=f"增加{index}"
        )
        if index % 2:
            make_visit(someone, advisor, D(2025, 10, 1 + index % 28))
        elif index % 5 == 0:
            make_visit(someone, advisor, D(2025, 10, 2), result=VisitResult.REFUSED)


@pytest.mark.parametrize(
    "url",
    [
        COVERAGE + "?month=2025-10",
        COVERAGE + "?period=2025Q4",
        MISSES + "?month=2025-10",
        MATRIX + "?end=2025-12",
        DUE,
    ],
)
def test_pages_run_the_same_number_of_queries_for_20_and_200_people(world, login, url):
    client = login(world.manager_a)
    _grow(world, 12)  # about 20 people in street A
    few = query_count(client, url)
    _grow(world, 180)  # about 200
    many = query_count(client, url)
    assert few == many
    if url.startswith(MATRIX):
        response = client.get(url)
        assert response.context["page_obj"].paginator.count > 100  # two pages
        assert len(response.context["page_obj"].object_list) == 100


def test_bureau_pages_run_a_fixed_number_of_queries(world, login):
    client = login(world.bureau)
    urls = [COVERAGE + "?month=2025-10", COVERAGE + f"?month=2025-10&street={STREET_A}"]
    _grow(world, 10)
    few = [query_count(client, url) for url in urls]
    _grow(world, 100)
    many = [query_count(client, url) for url in urls]
    assert few == many


def test_street_page_runs_a_fixed_number_of_queries_with_the_panel(world, login):
    client = login(world.manager_a)
    url = reverse("stations:street_detail", args=[STREET_A])
    _grow(world, 10)
    few = query_count(client, url)
    _grow(world, 60)
    many = query_count(client, url)
    assert few == many


def test_misses_page_is_paginated_and_counts_all(world, login):
    _grow(world, 120)
    client = login(world.manager_a)
    response = client.get(MISSES, {"month": "2025-10"})
    expected = coverage.month_figures(
        Recipient.objects.filter(street=world.street_a), OCT, policy_for(world.district.pk)
    )
    assert response.context["page_obj"].paginator.count == expected.missed
    assert expected.missed > 50
    assert len(response.context["page_obj"].object_list) == 50
    assert re.search(rf"共 {expected.missed} 名", html(response))
