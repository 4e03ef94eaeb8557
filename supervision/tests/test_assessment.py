"""The annual assessment (绩效考核): scoring on exact cases, ranks, the plan and the manual
scores with their checks, the frozen snapshot, two streets' scope, the export and the
scorecard's fixed number of queries."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from advisors.tests.factories import make_advisor
from audit.models import AccessRecord
from cases.tests.factories import make_recipient
from stations.choices import StationStatus
from stations.models import Station
from stations.tests.factories import committee_point, make_committee, make_street, street_station
from supervision import assessment, engine
from supervision.models import (
    AssessmentManualItem,
    AssessmentManualScore,
    AssessmentPlan,
    AssessmentScoring,
    AssessmentSnapshot,
)
from visits.tests.factories import make_visit

D = datetime.date
RATE, YES_NO = AssessmentScoring.RATE, AssessmentScoring.YES_NO
OCT_END = D(2026, 10, 31)


def url(name, year=2026):
    return reverse(f"supervision:{name}", args=[year])


@pytest.fixture
def world(two_streets):
    """Street A: one person current all 2026, visited January–August, not September or
    October (C9 = 8 of 10 months judged on 31 October = 80%). Street B: its street station
    suspended (C1 fails), nobody to visit (C9 has nothing to judge)."""
    w = two_streets
    Station.objects.filter(pk=street_station(w.street_b).pk).update(status=StationStatus.SUSPENDED)
    w.adviser = make_advisor(w.street_a, [committee_point(w.committees_a[0])])
    w.person = make_recipient(w.committees_a[0], advisor=w.adviser, current_from=D(2026, 1, 1))
    for month in range(1, 9):
        make_visit(w.person, w.adviser, D(2026, month, 10))
    return w


def row_of(card, street):
    return next(row for row in card["streets"] if row["code"] == street.code)


# Scoring --------------------------------------------------------------------------------------


def test_a_rate_rule_scores_its_share_of_the_weight():
    assert assessment.rule_score(10, RATE, 8, 10, 100) == Decimal("8.00")
    assert assessment.rule_score(20, RATE, 1, 3, 100) == Decimal("6.67")


def test_a_rate_rule_is_capped_at_its_weight():
    # 90% against a target of 80% is above the target: the whole weight, never more.
    assert assessment.rule_score(10, RATE, 9, 10, 80) == Decimal("10.00")
    assert assessment.rule_score(10, RATE, 6, 10, 80) == Decimal("7.50")


def test_a_yes_no_rule_is_all_or_nothing():
    assert assessment.rule_score(10, YES_NO, 10, 10, 100) == Decimal("10.00")
    assert assessment.rule_score(10, YES_NO, 9, 10, 100) == Decimal("0.00")


def test_nothing_to_judge_gets_the_full_weight():
    assert assessment.rule_score(20, RATE, 0, 0, 100) == Decimal("20.00")
    assert assessment.rule_score(5, YES_NO, 0, 0, 100) == Decimal("5.00")


def test_equal_totals_share_a_rank():
    assert assessment.ranks([Decimal(90), Decimal(95), Decimal(90), Decimal(80)]) == [2, 1, 2, 4]


def test_the_default_plan_weighs_every_rule_but_the_advice():
    indicators = assessment.default_indicators()
    assert [i.rule_id for i in indicators] == [*(f"C{n}" for n in range(1, 13)), "P1"]
    by_id = {i.rule_id: i for i in indicators}
    assert by_id["P1"].weight == 0  # 政策找人 is weighed by the bureau's own plan
    assert by_id["C9"].weight == 20 and by_id["C1"].scoring == YES_NO
    assert by_id["C8"].scoring == YES_NO and by_id["C9"].scoring == RATE
    assert sum(i.weight for i in indicators) + sum(m for _n, m in assessment.DEFAULT_ITEMS) == 100


# The scorecard on a built case -----------------------------------------------------------------


def test_the_scorecard_scores_each_street_from_the_engine(world):
    plan = assessment.load_plan(world.district, 2026)
    card = assessment.compute(plan, today=OCT_END)
    a, b = row_of(card, world.street_a), row_of(card, world.street_b)

    assert a["rules"]["C9"]["value"] == "80.0"
    assert a["rules"]["C9"]["score"] == "16"  # 20 × 80%
    assert b["rules"]["C9"]["total"] == 0
    assert b["rules"]["C9"]["score"] == "20"  # nothing to judge
    assert a["rules"]["C1"]["score"] == "10"
    assert b["rules"]["C1"]["score"] == "0"  # yes/no rule failed
    # Every rule's score as the rule's figure says, the total their sum.
    evaluated = engine.evaluate(world.district, engine.parse_period("2026"), today=OCT_END)
    for street in evaluated.streets:
        row = row_of(card, street.street)
        for indicator in plan.indicators:
            outcome = street.outcomes[indicator.rule_id]
            expected = assessment.rule_score(
                indicator.weight,
                indicator.scoring,
                outcome.covered,
                outcome.total,
                indicator.rule.target,
            )
            assert Decimal(row["rules"][indicator.rule_id]["score"]) == expected
        assert Decimal(row["total"]) == sum(Decimal(r["score"]) for r in row["rules"].values())
    assert card["max_total"] == "100"


def test_ranks_follow_the_totals_and_ties_share_one(two_streets):
    w = two_streets
    card = assessment.compute(assessment.load_plan(w.district, 2026), today=OCT_END)
    assert [row["rank"] for row in card["streets"]] == [1, 1]  # two streets alike

    item = assessment.saved_plan(w.bureau, w.district, 2026).items.get(name="宣传")
    assessment.set_manual_scores(
        actor=w.bureau,
        district=w.district,
        year=2026,
        scores={(item.pk, w.street_b.pk): ("1.5", "宣传报道3篇")},
    )
    card = assessment.compute(assessment.load_plan(w.district, 2026), today=OCT_END)
    a, b = row_of(card, w.street_a), row_of(card, w.street_b)
    assert (b["rank"], a["rank"]) == (1, 2)
    assert Decimal(b["total"]) - Decimal(a["total"]) == Decimal("1.5")
    assert b["manual"][str(item.pk)] == {"score": "1.5", "note": "宣传报道3篇"}


def test_the_scorecard_page_links_each_figure_to_its_offenders(client, world):
    client.force_login(world.bureau)
    page = client.get(url("assessment_scorecard"))
    assert page.status_code == 200
    link = (
        reverse("supervision:compliance")
        + f"?period=2026&amp;rule=C9&amp;street={world.street_a.code}"
    )
    assert link in page.text
    assert world.street_a.name in page.text and world.street_b.name in page.text
    assert "考核进行中" in page.text


# The plan and the manual scores -------------------------------------------------------------------


def plan_post(plan, **changes):
    data = {}
    for indicator in plan.indicators:
        data[f"weight_{indicator.rule_id}"] = assessment.shown(indicator.weight)
        data[f"scoring_{indicator.rule_id}"] = indicator.scoring
    for item in plan.items:
        data[f"item_{item.pk}_name"] = item.name
        data[f"item_{item.pk}_max"] = assessment.shown(item.max_score)
    data.update(changes)
    return data


def test_the_bureau_sets_weights_modes_and_adds_a_manual_item(client, two_streets):
    w = two_streets
    client.force_login(w.bureau)
    assert client.get(url("assessment_plan")).status_code == 200
    plan = assessment.load_plan(w.district, 2026)

    response = client.post(
        url("assessment_plan"),
        plan_post(plan, weight_C9="30", scoring_C10=YES_NO, new_name="特色服务", new_max="3"),
    )

    assert response.status_code == 302
    plan = assessment.load_plan(w.district, 2026)
    by_id = {i.rule_id: i for i in plan.indicators}
    assert by_id["C9"].weight == 30 and by_id["C10"].scoring == YES_NO
    assert [i.name for i in plan.items] == ["宣传", "品牌", "创新", "特色服务"]
    assert plan.total == Decimal(113)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight_C9", "-1", "C9分值不能小于0。"),
        ("weight_C9", "abc", "C9分值应为数字。"),
        ("new_max", "-2", "新增项目满分不能小于0。"),
    ],
)
def test_a_wrong_weight_is_refused_in_chinese_and_nothing_changes(
    client, two_streets, field, value, message
):
    w = two_streets
    client.force_login(w.bureau)
    client.get(url("assessment_plan"))
    plan = assessment.load_plan(w.district, 2026)
    data = plan_post(
        plan, **{"weight_C1": "7", "new_name": "特色服务", "new_max": "3", field: value}
    )

    response = client.post(url("assessment_plan"), data)

    assert response.status_code == 200
    assert message in response.text
    again = assessment.load_plan(w.district, 2026)
    assert {i.rule_id: i.weight for i in again.indicators}["C1"] == 10
    assert not AssessmentManualItem.objects.filter(name="特色服务").exists()


def manual_data(plan, streets, **values):
    data = {}
    for item in plan.items:
        for street in streets:
            data[f"score_{item.pk}_{street.pk}"] = ""
            data[f"note_{item.pk}_{street.pk}"] = ""
    data.update(values)
    return data


def test_manual_scores_are_kept_with_their_note(client, two_streets):
    w = two_streets
    client.force_login(w.bureau)
    assert client.get(url("assessment_manual")).status_code == 200
    plan = assessment.load_plan(w.district, 2026)
    brand = next(i for i in plan.items if i.name == "品牌")
    data = manual_data(
        plan,
        [w.street_a, w.street_b],
        **{
            f"score_{brand.pk}_{w.street_a.pk}": "2",
            f"note_{brand.pk}_{w.street_a.pk}": "区级品牌",
        },
    )

    assert client.post(url("assessment_manual"), data).status_code == 302
    score = AssessmentManualScore.objects.get()
    assert (score.street, score.score, score.note, score.scored_by) == (
        w.street_a,
        Decimal(2),
        "区级品牌",
        w.bureau,
    )


@pytest.mark.parametrize(
    ("value", "message"), [("2.5", "不能超过满分2分"), ("-1", "不能小于0"), ("很好", "应为数字")]
)
def test_a_manual_score_outside_zero_to_max_is_refused(client, two_streets, value, message):
    w = two_streets
    client.force_login(w.bureau)
    client.get(url("assessment_manual"))
    plan = assessment.load_plan(w.district, 2026)
    brand = next(i for i in plan.items if i.name == "品牌")
    publicity = next(i for i in plan.items if i.name == "宣传")
    data = manual_data(
        plan,
        [w.street_a, w.street_b],
        **{
            f"score_{brand.pk}_{w.street_a.pk}": value,
            f"score_{publicity.pk}_{w.street_b.pk}": "1",
        },
    )

    response = client.post(url("assessment_manual"), data)

    assert response.status_code == 200
    assert message in response.text
    assert not AssessmentManualScore.objects.exists()


def test_only_the_bureau_manages_the_assessment(client, two_streets):
    w = two_streets
    for user in (w.manager_a, w.advisor_a, w.sysadmin):
        client.force_login(user)
        for name in ("assessment_plan", "assessment_manual", "assessment_close"):
            assert client.get(url(name)).status_code == 403, (user, name)
            assert client.post(url(name), {"confirm": "yes"}).status_code == 403, (user, name)
    with pytest.raises(Exception):  # noqa: B017 (PermissionDenied)
        assessment.close_year(actor=w.manager_a, district=w.district, year=2026)
    assert not AssessmentSnapshot.objects.exists()


def test_a_year_not_started_or_too_old_is_not_found(client, two_streets):
    client.force_login(two_streets.bureau)
    for year in (1999, timezone.localdate().year + 1):
        for name in ("assessment_scorecard", "assessment_plan", "assessment_close"):
            assert client.get(url(name, year)).status_code == 404


# Closing: the frozen snapshot --------------------------------------------------------------------


def scorecard_table(text):
    start = text.index('data-testid="scorecard"')
    return text[start : text.index("</table>", start)]


def test_a_closed_year_does_not_change_when_the_data_changes(client, world):
    w = world
    snapshot = assessment.close_year(actor=w.bureau, district=w.district, year=2026, today=OCT_END)
    frozen = row_of(snapshot.data, w.street_a)
    assert frozen["rules"]["C9"]["score"] == "16"
    client.force_login(w.bureau)
    before = scorecard_table(client.get(url("assessment_scorecard")).text)

    # Later: September's visit is entered late and B's street station reopens.
    make_visit(w.person, w.adviser, D(2026, 9, 12))
    Station.objects.filter(pk=street_station(w.street_b).pk).update(status=StationStatus.RUNNING)

    live = engine.evaluate(w.district, engine.parse_period("2026"), today=OCT_END)
    figures = {s.street.code: s.outcomes for s in live.streets}
    assert figures[w.street_a.code]["C9"].covered == 9  # the engine sees the change …
    assert figures[w.street_b.code]["C1"].passed
    snapshot.refresh_from_db()
    assert row_of(snapshot.data, w.street_a) == frozen  # … the published score does not
    assert row_of(snapshot.data, w.street_b)["rules"]["C1"]["score"] == "0"
    page = client.get(url("assessment_scorecard")).text
    assert scorecard_table(page) == before
    assert "已关闭公布" in page
    plan = assessment.load_plan(w.district, 2026)
    assert assessment.scorecard(plan) == snapshot.data


def test_a_closed_year_cannot_be_edited_or_closed_again(client, world):
    w = world
    client.force_login(w.bureau)
    page = client.get(url("assessment_close"))
    assert "关闭后不能重新打开" in page.text
    refused = client.post(url("assessment_close"))  # without confirming
    assert refused.status_code == 400 and "请勾选确认" in refused.text
    assert not AssessmentSnapshot.objects.exists()

    assert client.post(url("assessment_close"), {"confirm": "yes"}).status_code == 302
    snapshot = AssessmentSnapshot.objects.get()
    assert (snapshot.closed_by, snapshot.plan.year) == (w.bureau, 2026)

    assert client.get(url("assessment_plan")).status_code == 403
    assert client.get(url("assessment_manual")).status_code == 403
    with pytest.raises(ValidationError):
        assessment.close_year(actor=w.bureau, district=w.district, year=2026)
    with pytest.raises(ValidationError):
        assessment.set_manual_scores(actor=w.bureau, district=w.district, year=2026, scores={})
    assert AssessmentSnapshot.objects.count() == 1


# Two streets -----------------------------------------------------------------------------------


def test_a_street_manager_sees_nothing_before_the_year_is_published(client, world):
    client.force_login(world.manager_b)
    assert client.get(url("assessment_scorecard")).status_code == 404
    assert client.get(url("assessment_export")).status_code == 404
    listing = client.get(reverse("supervision:assessment"))
    assert listing.status_code == 200 and "2026年度" not in listing.text


def test_a_street_manager_reads_only_their_own_published_row(client, world):
    w = world
    assessment.close_year(actor=w.bureau, district=w.district, year=2026, today=OCT_END)
    client.force_login(w.manager_b)

    listing = client.get(reverse("supervision:assessment"))
    page = client.get(url("assessment_scorecard"))

    assert "2026年度" in listing.text
    assert page.status_code == 200
    assert w.street_b.name in page.text
    assert w.street_a.name not in page.text
    assert f'data-street="{w.street_a.code}"' not in page.text
    assert "人工评分" in page.text and "关闭并公布" not in page.text


def test_other_roles_have_no_assessment_pages(client, two_streets):
    for user in (two_streets.advisor_a, two_streets.sysadmin):
        client.force_login(user)
        assert client.get(reverse("supervision:assessment")).status_code == 403
        assert client.get(url("assessment_scorecard")).status_code == 403


# Export ----------------------------------------------------------------------------------------


def workbook_rows(response):
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_export_holds_the_scorecard_with_the_banner(client, world):
    w = world
    snapshot = assessment.close_year(actor=w.bureau, district=w.district, year=2026, today=OCT_END)
    client.force_login(w.bureau)
    form = client.get(url("assessment_export"))
    assert form.status_code == 200 and "导出用途" in form.text

    response = client.get(url("assessment_export"), {"purpose": "年度考核通报", "format": "xlsx"})

    assert response.status_code == 200
    rows = workbook_rows(response)
    assert rows[0][0].startswith("导出人:") and "年度考核通报" in rows[0][0]
    header = rows[1]
    assert header[:3] == ["名次", "街镇代码", "街镇"]
    assert "C9 得分(满分20)" in header
    data = {row[1]: dict(zip(header, row, strict=False)) for row in rows[2:]}
    assert set(data) == {w.street_a.code, w.street_b.code}
    a = data[w.street_a.code]
    assert a["C9 得分(满分20)"] == 16
    assert a["C9 每月走访 指标值(%)"] == 80
    total_header = next(h for h in header if h.startswith("总分"))
    for row in snapshot.data["streets"]:
        assert data[row["code"]][total_header] == float(row["total"])
        assert data[row["code"]]["名次"] == row["rank"]
    record = AccessRecord.objects.get()
    assert record.user == w.bureau and "年度考核通报" in record.detail


def test_a_street_manager_exports_their_own_row_only(client, world):
    w = world
    assessment.close_year(actor=w.bureau, district=w.district, year=2026, today=OCT_END)
    client.force_login(w.manager_a)

    response = client.get(url("assessment_export"), {"purpose": "本街镇考核", "format": "xlsx"})

    rows = workbook_rows(response)
    assert [row[1] for row in rows[2:]] == [w.street_a.code]
    assert w.street_b.name not in str(rows)
    assert AccessRecord.objects.get().street == w.street_a


# Fixed queries -----------------------------------------------------------------------------------


def add_street(district, n):
    street = make_street(district, f"测试{n}街道")
    committee = make_committee(street, f"测试{n}居委会")
    advisor = make_advisor(street, [committee_point(committee)])
    for _ in range(3):
        person = make_recipient(committee, advisor=advisor, current_from=D(2026, 1, 1))
        make_visit(person, advisor, D(2026, 2, 3))
    return street


def count_queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return len(captured)


def test_the_scorecard_runs_the_same_queries_at_two_sizes(client, world):
    w = world
    client.force_login(w.bureau)
    client.get(url("assessment_manual"))  # the plan is written
    path = url("assessment_scorecard")
    client.get(path)
    small = count_queries(client, path)
    for n in range(3):
        add_street(w.district, n)
    big = count_queries(client, path)
    assert small == big
    assert "测试2街道" in client.get(path).text


def test_the_published_scorecard_runs_the_same_queries_at_two_sizes(client, world):
    w = world
    assessment.close_year(actor=w.bureau, district=w.district, year=2026, today=OCT_END)
    client.force_login(w.manager_a)
    path = url("assessment_scorecard")
    client.get(path)
    small = count_queries(client, path)
    for n in range(3):
        add_street(w.district, n)
    AssessmentSnapshot.objects.all().delete()
    AssessmentPlan.objects.all().delete()
    assessment.close_year(actor=w.bureau, district=w.district, year=2026, today=OCT_END)
    assert count_queries(client, path) == small


def test_the_bureau_lists_its_years_open_and_closed(client, world):
    w = world
    client.force_login(w.bureau)
    year = timezone.localdate().year
    listing = client.get(reverse("supervision:assessment"))
    assert listing.status_code == 200
    assert f"{year}年度" in listing.text and f"{year - 1}年度" in listing.text
    assert "已关闭公布" not in listing.text

    assessment.close_year(actor=w.bureau, district=w.district, year=year - 1)

    assert "已关闭公布" in client.get(reverse("supervision:assessment")).text
