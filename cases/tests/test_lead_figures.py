"""政策找人 in figures: the figures per source and per street on a built case, the figures
page (bureau staff, a street manager, advisors refused), rule P1 in the engine and in
`manage.py compliance --json`, the dashboards' panels, and fixed query counts."""

import datetime
import io
import json
import re
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases import lead_figures
from cases import leads as lead_services
from cases.choices import LeadStatus
from cases.lead_models import Lead, LeadUpload
from cases.models import AssistanceCategory
from cases.tests.factories import id_number, make_recipient
from cases.tests.lead_factories import make_source, upload_list
from stations.tests.factories import committee_point
from supervision import engine
from visits.choices import VisitMethod

D = datetime.date
DAY = datetime.timedelta(days=1)
FIGURES = reverse("cases:lead_figures")
DASHBOARD = reverse("supervision:dashboard")


def period_first():
    """The first day of a month well past (two months back): every lead of it is older
    than LEAD_VISIT_DAYS whatever day the tests run."""
    return (timezone.localdate().replace(day=1) - 40 * DAY).replace(day=1)


def at(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))


def row(name, number, code="", address="", note=""):
    return [name, number, code, address, note]


def bad_number():
    good = id_number()
    return good[:-1] + ("0" if good[-1] != "0" else "1")


def processed(upload, day):
    """The list as processed on `day` (the services stamp the real time)."""
    LeadUpload.objects.filter(pk=upload.pk).update(processed_at=at(day))
    return upload


def lead_named(name):
    return Lead.objects.get(name=name)


def visit(w, lead, advisor, day):
    lead_services.record_lead_visit(
        actor=w.bureau, lead=lead, advisor=advisor, visited_on=day, method=VisitMethod.HOME
    )


@pytest.fixture
def case(two_streets):
    """Period M (a month two months back), lists processed on its 2nd and 3rd days:

    区残联 (S1) on the 2nd: 甲 (华一, street A; also on S2's list, never visited), 乙 (华二, A;
    visited 3 days later), 丙 (曹家堰, B; visited 20 days later), 丁 (华一, A; visited 5 days
    later and enrolled), 戊 (no committee, an unknown address: not placed), a registered
    person of B (已在册) and a row with a wrong ID number (无效): 7 rows.
    区医保局 (S2) on the 3rd: 甲 again (并入) and 己 (曹家堰, B; never visited): 2 rows.
    Before the period (the month before), S1 brought 旧 (华一, A): not in the period.
    """
    w = two_streets
    first = period_first()
    w.first = first
    w.key = f"{first:%Y-%m}"
    day0, day1 = first + DAY, first + 2 * DAY
    w.adv_a = make_advisor(w.street_a, [committee_point(w.committees_a[0])])
    w.adv_b = make_advisor(w.street_b, [committee_point(w.committees_b[0])])
    w.s1 = make_source(w.district, "区残联·残疾人证")
    w.s2 = make_source(w.district, "区医保局·高额医疗费用")
    before = (first - DAY).replace(day=1)
    processed(
        upload_list(
            w.bureau,
            w.s1,
            [row("旧", id_number(), "310105001001")],
            received_on=before,
            today=before,
        ),
        before,
    )
    registered = make_recipient(w.committees_b[0])
    both = id_number()
    processed(
        upload_list(
            w.bureau,
            w.s1,
            [
                row("甲", both, "310105001001", "", "二级肢体残疾"),
                row("乙", id_number(), "310105001002"),
                row("丙", id_number(), "310105002001"),
                row("丁", id_number(), "310105001001"),
                row("戊", id_number(), "", "天山路999号"),
                row(registered.name, registered.plain_id_number(), "", "", "三级视力残疾"),
                row("错号", bad_number(), "310105001001"),
            ],
            received_on=day0,
            today=day0,
        ),
        day0,
    )
    processed(
        upload_list(
            w.bureau,
            w.s2,
            [row("甲", both, "", "", "自付8万元"), row("己", id_number(), "310105002001")],
            received_on=day1,
            today=day1,
        ),
        day1,
    )
    visit(w, lead_named("乙"), w.adv_a, day0 + 3 * DAY)
    visit(w, lead_named("丙"), w.adv_b, day0 + 20 * DAY)
    visit(w, lead_named("丁"), w.adv_a, day0 + 5 * DAY)
    category = AssistanceCategory.objects.filter(district__isnull=True).first()
    lead_services.enrol_lead(
        actor=w.bureau, lead=lead_named("丁"), gender="female", categories=[category]
    )
    return w


def numbers(figures):
    return {
        "rows": figures.rows,
        "matched": figures.matched,
        "new": figures.new,
        "visited_in_time": figures.visited_in_time,
        "enrolled": figures.enrolled,
        "open": figures.open,
        "overdue": figures.overdue,
        "average_days": figures.average_days,
    }


def expect(rows, matched, new, in_time, enrolled, open_, overdue, average):
    return {
        "rows": rows,
        "matched": matched,
        "new": new,
        "visited_in_time": in_time,
        "enrolled": enrolled,
        "open": open_,
        "overdue": overdue,
        "average_days": None if average is None else Decimal(average),
    }


def last_of(first):
    return engine.parse_period(f"{first:%Y-%m}").last


# The figures --------------------------------------------------------------------------------


def test_figures_per_source_count_a_lead_for_each_source_and_once_in_the_total(case):
    today = timezone.localdate()
    rows, total = lead_figures.source_figures(
        case.district.pk, case.first, last_of(case.first), today
    )
    by_source = {row.label: numbers(row.figures) for row in rows}
    # S1: 7 rows (one on the register, one invalid); 甲 乙 丙 丁 戊 found; 乙 (3 days) and
    # 丁 (5 days) visited in time, 丙 after 20 days; 丁 enrolled; the other four still open
    # and older than 15 days; (3 + 20 + 5) / 3 days on average.
    assert by_source["区残联·残疾人证"] == expect(7, 1, 5, 2, 1, 4, 4, "9.3")
    # S2: 甲 (named by both) and 己, neither visited.
    assert by_source["区医保局·高额医疗费用"] == expect(2, 0, 2, 0, 0, 2, 2, None)
    # 甲 once: six leads found in the period; 旧 (the month before) is not among them.
    assert numbers(total) == expect(9, 1, 6, 2, 1, 5, 5, "9.3")


def test_figures_per_street_place_the_facts_and_the_leads(case):
    today = timezone.localdate()
    rows, total = lead_figures.street_figures(
        case.district.pk, case.first, last_of(case.first), today
    )
    by_street = {row.key: numbers(row.figures) for row in rows}
    # A: facts of 甲 (from both sources), 乙, 丁; leads 甲 乙 丁.
    assert by_street[case.street_a.pk] == expect(4, 0, 3, 2, 1, 2, 2, "4.0")
    # B: facts of 丙, 己 and of the registered person (已在册); leads 丙 and 己.
    assert by_street[case.street_b.pk] == expect(3, 1, 2, 0, 0, 2, 2, "20.0")
    # 戊 is not placed yet: its own row.
    assert by_street[lead_figures.UNPLACED] == expect(1, 0, 1, 0, 0, 1, 1, None)
    # The leads add up to the same total as per source; the rows leave out the invalid one.
    assert numbers(total) == expect(8, 1, 6, 2, 1, 5, 5, "9.3")


def test_figures_within_one_street_per_source(case):
    today = timezone.localdate()
    rows, total = lead_figures.source_figures(
        case.district.pk, case.first, last_of(case.first), today, street_id=case.street_a.pk
    )
    by_source = {row.label: numbers(row.figures) for row in rows}
    assert by_source == {
        "区残联·残疾人证": expect(3, 0, 3, 2, 1, 2, 2, "4.0"),
        "区医保局·高额医疗费用": expect(1, 0, 1, 0, 0, 1, 1, None),
    }
    assert numbers(total) == expect(4, 0, 3, 2, 1, 2, 2, "4.0")
    streets, _total = lead_figures.street_figures(
        case.district.pk, case.first, last_of(case.first), today, street_id=case.street_a.pk
    )
    assert [row.key for row in streets] == [case.street_a.pk]


def test_a_visit_on_the_last_allowed_day_is_in_time(case):
    lead = lead_named("己")
    found = lead.found_on
    Lead.objects.filter(pk=lead.pk).update(
        first_visited_on=found + 15 * DAY, status=LeadStatus.VISITED
    )
    late = lead_named("甲")
    Lead.objects.filter(pk=late.pk).update(
        first_visited_on=late.found_on + 16 * DAY, status=LeadStatus.VISITED
    )
    rows, total = lead_figures.street_figures(
        case.district.pk, case.first, last_of(case.first), timezone.localdate()
    )
    assert total.visited_in_time == 3  # 乙, 丁 and 己 (day 15); 甲 on day 16 is late
    assert {row.key: row.figures.visited_in_time for row in rows}[case.street_b.pk] == 1


# The page -----------------------------------------------------------------------------------


def table_row(html, key):
    match = re.search(rf'<tr[^>]*data-row="{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, key
    cells = re.findall(r'<td class="num" data-figure="(\w+)">(.*?)</td>', match.group(1), re.S)
    return {name: re.sub(r"<[^>]+>", "", value).strip() for name, value in cells}, match.group(1)


def shown(rows, matched, new, in_time, enrolled, open_, overdue, average):
    return {
        "rows": str(rows),
        "matched": str(matched),
        "new": str(new),
        "visited_in_time": str(in_time),
        "enrolled": str(enrolled),
        "open": str(open_),
        "overdue": str(overdue),
        "average_days": average,
    }


def test_bureau_sees_every_source_and_street_with_links_to_the_list(case, login):
    client = login(case.bureau)
    response = client.get(FIGURES, {"period": case.key})
    assert response.status_code == 200
    html = response.content.decode()
    s1, s1_html = table_row(html, f"source-{case.s1.pk}")
    assert s1 == shown(7, 1, 5, 2, 1, 4, 4, "9.3")
    assert table_row(html, f"source-{case.s2.pk}")[0] == shown(2, 0, 2, 0, 0, 2, 2, "—")
    assert table_row(html, "source-total")[0] == shown(9, 1, 6, 2, 1, 5, 5, "9.3")
    assert table_row(html, f"street-{case.street_a.code}")[0] == shown(4, 0, 3, 2, 1, 2, 2, "4.0")
    b, b_html = table_row(html, f"street-{case.street_b.code}")
    assert b == shown(3, 1, 2, 0, 0, 2, 2, "20.0")
    unplaced, unplaced_html = table_row(html, "unplaced")
    assert unplaced == shown(1, 0, 1, 0, 0, 1, 1, "—")
    assert table_row(html, "street-total")[0] == shown(8, 1, 6, 2, 1, 5, 5, "9.3")
    # Each figure opens the leads list filtered to it.
    leads = reverse("cases:leads")
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', s1_html)]
    assert links[0].startswith(f"{leads}?source={case.s1.pk}&")
    assert "status=all" in links[0]
    assert any("status=enrolled" in link and f"source={case.s1.pk}" in link for link in links)
    assert any("status=open" in link for link in links)
    b_links = [link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', b_html)]
    assert any(f"street={case.street_b.code}" in link and "overdue=1" in link for link in b_links)
    assert "placed=no" in unplaced_html
    assert f"found_from={case.first.isoformat()}" in links[0]
    assert case.key in html and 'name="period"' in html
    # Followed, a link lists the leads it counts.
    listed = client.get(links[0]).content.decode()
    for name in ("甲", "乙", "丙", "丁", "戊"):
        assert lead_named(name).lead_number in listed
    for name in ("己", "旧"):
        assert lead_named(name).lead_number not in listed
    overdue_b = next(link for link in b_links if "overdue=1" in link)
    listed = client.get(overdue_b).content.decode()
    assert lead_named("丙").lead_number in listed and lead_named("己").lead_number in listed
    assert lead_named("甲").lead_number not in listed


def test_street_manager_sees_their_street_only(case, login):
    client = login(case.manager_a)
    html = client.get(FIGURES, {"period": case.key}).content.decode()
    assert case.street_a.name in html
    assert case.street_b.name not in html
    assert 'data-row="unplaced"' not in html
    assert f'data-row="street-{case.street_b.code}"' not in html
    # Per source within street A: 甲 for both sources, 乙 and 丁 for S1.
    assert table_row(html, f"source-{case.s1.pk}")[0] == shown(3, 0, 3, 2, 1, 2, 2, "4.0")
    assert table_row(html, f"source-{case.s2.pk}")[0] == shown(1, 0, 1, 0, 0, 1, 1, "—")
    assert table_row(html, f"street-{case.street_a.code}")[0] == shown(4, 0, 3, 2, 1, 2, 2, "4.0")
    # The other street's manager sees none of A's leads; S1 counts 丙 only there.
    other = login(case.manager_b).get(FIGURES, {"period": case.key}).content.decode()
    assert case.street_a.name not in other
    assert table_row(other, f"source-{case.s1.pk}")[0] == shown(2, 1, 1, 0, 0, 1, 1, "20.0")


def test_the_period_picker(case, login):
    client = login(case.bureau)
    this_month = client.get(FIGURES).content.decode()
    # This month by default: nothing of period M.
    assert table_row(this_month, "street-total")[0]["new"] == "0"
    quarter = f"{case.first.year}Q{(case.first.month - 1) // 3 + 1}"
    page = client.get(FIGURES, {"period": quarter}).content.decode()
    assert "季度" in page
    assert int(table_row(page, "street-total")[0]["new"]) >= 6
    year = client.get(FIGURES, {"period": str(case.first.year)}).content.decode()
    assert int(table_row(year, "street-total")[0]["new"]) >= 6
    bad = client.get(FIGURES, {"period": "2026-13"})
    assert bad.status_code == 200 and "统计期应写作" in bad.content.decode()
    assert "尚未开始" in client.get(FIGURES, {"period": "2099"}).content.decode()


def test_advisors_are_refused(case, login):
    for user in (case.advisor_a, case.sysadmin):
        response = login(user).get(FIGURES, {"period": case.key})
        assert response.status_code == 403
        assert "无权" in response.content.decode()


def grow_leads(w, n):
    """`n` more leads found on day 5 of the period in both streets (some visited), from a
    new source, and a new street's worth of nothing."""
    source = make_source(w.district, f"区卫健委·大病{n}")
    day = w.first + 4 * DAY
    codes = ["310105001001", "310105001002", "310105002001"]
    upload = upload_list(
        w.bureau,
        source,
        [row(f"增{index}", id_number(), codes[index % 3]) for index in range(n)],
        received_on=day,
        today=day,
    )
    processed(upload, day)
    for index, lead in enumerate(Lead.objects.filter(first_upload=upload).order_by("pk")):
        if index % 2:
            Lead.objects.filter(pk=lead.pk).update(
                first_visited_on=day + (index % 20) * DAY, status=LeadStatus.VISITED
            )


def count_queries(client, url, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["bureau", "manager_a"])
def test_the_page_runs_the_same_queries_at_two_sizes(case, client, who):
    client.force_login(getattr(case, who))
    params = {"period": case.key}
    grow_leads(case, 3)
    client.get(FIGURES, params)
    small = count_queries(client, FIGURES, params)
    grow_leads(case, 30)
    assert count_queries(client, FIGURES, params) == small


# Rule P1 ------------------------------------------------------------------------------------


def test_p1_in_the_engine_per_street_and_for_the_district(case):
    result = engine.evaluate(case.district, engine.parse_period(case.key))
    p1 = result.outcomes["P1"]
    # Counted: the placed leads 甲 乙 丙 丁 己 (戊 is not placed); in time: 乙 and 丁.
    assert (p1.covered, p1.total) == (2, 5)
    assert not p1.passed and p1.rule.target == 90
    streets = {row.street.pk: row.outcomes["P1"] for row in result.streets}
    assert (streets[case.street_a.pk].covered, streets[case.street_a.pk].total) == (2, 3)
    assert (streets[case.street_b.pk].covered, streets[case.street_b.pk].total) == (0, 2)
    late = [row["lead_number"] for row in p1.offender_rows()]
    assert late == [lead_named(name).lead_number for name in ("甲", "丙", "己")]
    slow = p1.offender_rows()[1]
    assert slow["street"] == case.street_b.code
    assert slow["first_visited_on"] == (case.first + 21 * DAY).isoformat()
    assert p1.offender_rows()[0]["first_visited_on"] is None
    assert [r["lead_number"] for r in streets[case.street_a.pk].offender_rows()] == [
        lead_named("甲").lead_number
    ]
    assert "甲" not in json.dumps(p1.offender_rows(), ensure_ascii=False)


def test_p1_in_compliance_json(case):
    out = io.StringIO()
    call_command("compliance", "--period", case.key, "--json", stdout=out)
    data = json.loads(out.getvalue())
    district = data["district"]["rules"]["P1"]
    assert (district["covered"], district["total"], district["value"]) == (2, 5, 40.0)
    assert district["target"] == 90 and district["passed"] is False
    streets = {street["code"]: street["rules"]["P1"] for street in data["streets"]}
    a, b = streets[case.street_a.code], streets[case.street_b.code]
    assert (a["covered"], a["total"]) == (2, 3)
    assert (b["covered"], b["total"]) == (0, 2)
    assert [row["lead_number"] for row in b["offenders"]] == [
        lead_named("丙").lead_number,
        lead_named("己").lead_number,
    ]
    assert set(b["offenders"][0]) == {"lead_number", "street", "found_on", "first_visited_on"}


def test_p1_does_not_count_a_lead_not_late_yet(two_streets):
    """Judged on 20 October: a lead found on the 10th and not visited is not late yet."""
    w = two_streets
    source = make_source(w.district)
    found = {}
    for day, name in ((1, "早"), (2, "准"), (3, "迟"), (10, "新"), (12, "快"), (15, "后")):
        upload_list(
            w.bureau,
            source,
            [row(name, id_number(), "310105001001")],
            received_on=D(2026, 10, day),
            today=D(2026, 10, day),
        )
        found[name] = lead_named(name)
    visits = {"准": D(2026, 10, 17), "迟": D(2026, 10, 19), "快": D(2026, 10, 14)}
    visits["后"] = D(2026, 10, 25)  # recorded after the judging day: not known on the 20th
    for name, day in visits.items():
        Lead.objects.filter(pk=found[name].pk).update(
            first_visited_on=day, status=LeadStatus.VISITED
        )
    october = engine.parse_period("2026-10")
    p1 = engine.evaluate(w.district, october, today=D(2026, 10, 20)).outcomes["P1"]
    # 早 (19 days, not visited) and 迟 (16 days) late; 准 (15 days) and 快 in time; 新 and 后
    # not counted yet.
    assert (p1.covered, p1.total) == (2, 4)
    assert [r["lead_number"] for r in p1.offender_rows()] == [
        found["早"].lead_number,
        found["迟"].lead_number,
    ]
    # Once October is over, 新 is late too, and 后 was visited after 10 days: in time.
    p1 = engine.evaluate(w.district, october, today=D(2026, 11, 30)).outcomes["P1"]
    assert (p1.covered, p1.total) == (3, 6)


def test_p1_has_no_default_weight_in_the_assessment():
    from supervision import assessment

    by_id = {i.rule_id: i for i in assessment.default_indicators()}
    assert by_id["P1"].weight == 0
    assert engine.CLAUSES["P1"].startswith("一:")


# The dashboards -----------------------------------------------------------------------------


def lead_panel_row(html, key):
    match = re.search(rf'<tr[^>]*data-lead-row="{key}"[^>]*>(.*?)</tr>', html, re.S)
    assert match, key
    return [
        re.sub(r"<[^>]+>", "", cell).strip()
        for cell in re.findall(r"<td[^>]*>(.*?)</td>", match.group(1), re.S)
    ]


def test_bureau_dashboard_shows_the_figures_per_street(case, login):
    html = login(case.bureau).get(DASHBOARD, {"period": case.key}).content.decode()
    panel = re.search(r'data-testid="lead-panel".*?</section>', html, re.S).group(0)
    # new, visited in time, enrolled, overdue open
    assert lead_panel_row(panel, case.street_a.code) == ["3", "2", "1", "2"]
    assert lead_panel_row(panel, case.street_b.code) == ["2", "0", "0", "2"]
    assert lead_panel_row(panel, "unplaced") == ["1", "0", "0", "1"]
    assert lead_panel_row(panel, "total") == ["6", "2", "1", "5"]
    assert f"{FIGURES}?period={case.key}" in panel
    # P1 in the rule table: A 2 of 3.
    street_row = re.search(rf'<tr data-street="{case.street_a.code}">(.*?)</tr>', html, re.S)
    assert 'data-testid="cell-P1"' in street_row.group(1) and "2/3" in street_row.group(1)
    assert 'data-testid="overdue-leads"' not in html


def test_street_manager_dashboard_lists_the_street_overdue_leads(case, login):
    html = login(case.manager_a).get(DASHBOARD).content.decode()
    panel = re.search(r'data-testid="overdue-leads".*?</section>', html, re.S).group(0)
    # A's open leads older than 15 days: 旧 (the month before), 甲 and 乙 (丁 is enrolled);
    # never B's or 戊.
    for name in ("旧", "甲", "乙"):
        lead = lead_named(name)
        assert lead.lead_number in panel
        assert reverse("cases:lead_detail", args=[lead.pk]) in panel
    for name in ("丙", "己", "戊", "丁"):
        assert lead_named(name).lead_number not in panel
    assert panel.count('data-testid="overdue-lead"') == 3
    assert case.committees_a[0].name in panel and case.adv_a.name in panel
    days = (timezone.localdate() - lead_named("甲").found_on).days
    assert f'<td class="num">{days}</td>' in panel
    assert 'data-testid="lead-panel"' not in html
    other = login(case.manager_b).get(DASHBOARD).content.decode()
    other_panel = re.search(r'data-testid="overdue-leads".*?</section>', other, re.S).group(0)
    assert lead_named("丙").lead_number in other_panel
    assert lead_named("甲").lead_number not in other
    assert lead_named("乙").name not in other


def test_the_street_panel_lists_ten_and_links_to_the_rest(case, login):
    grow_leads(case, 30)  # 20 of them in street A, half never visited: all open, overdue
    client = login(case.manager_a)
    html = client.get(DASHBOARD).content.decode()
    panel = re.search(r'data-testid="overdue-leads".*?</section>', html, re.S).group(0)
    overdue = Lead.objects.filter(street=case.street_a, status__in=("pending", "visited"))
    assert panel.count('data-testid="overdue-lead"') == 10
    assert f'data-testid="overdue-lead-count">{overdue.count()}<' in panel
    link = re.search(r'href="([^"]+)" data-testid="overdue-leads-all"', panel).group(1)
    assert link.replace("&amp;", "&") == (
        f"{reverse('cases:leads')}?overdue=1&street={case.street_a.code}"
    )
    # The longest waiting first.
    first_listed = re.search(
        r'data-testid="overdue-lead">\s*<td class="code"><a[^>]*>(\w+)<', panel
    )
    assert first_listed.group(1) == lead_named("旧").lead_number


@pytest.mark.parametrize("who", ["bureau", "manager_a"])
def test_dashboard_runs_the_same_queries_at_two_sizes(case, client, who):
    client.force_login(getattr(case, who))
    params = {"period": case.key}
    grow_leads(case, 3)
    client.get(DASHBOARD, params)
    small = count_queries(client, DASHBOARD, params)
    grow_leads(case, 30)
    assert count_queries(client, DASHBOARD, params) == small
    compliance = reverse("supervision:compliance")
    p1 = {"period": case.key, "rule": "P1"}
    small = count_queries(client, compliance, p1)
    grow_leads(case, 12)
    assert count_queries(client, compliance, p1) == small


def test_p1_offenders_on_the_compliance_page_link_to_the_late_leads(case, login):
    client = login(case.bureau)
    response = client.get(reverse("supervision:compliance"), {"period": case.key, "rule": "P1"})
    html = response.content.decode()
    assert response.status_code == 200
    for name in ("甲", "丙", "己"):
        lead = lead_named(name)
        assert reverse("cases:lead_detail", args=[lead.pk]) in html
        assert lead.lead_number in html
    assert lead_named("乙").lead_number not in html
    assert html.count('data-testid="offender"') == 3
