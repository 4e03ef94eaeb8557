"""Bulletins (通报): generated from the engine for a period, frozen, edited as a draft,
published to the street managers, printed and exported to .docx whose table is the same as
`compliance --json`."""

import datetime
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from docx import Document

from accounts.choices import Role
from advisors.models import Nomination, NominationStatus
from stations.tests.factories import make_district, make_street, make_user
from supervision.bulletins import TABLE_RULES
from supervision.models import Bulletin, BulletinStatus
from supervision.tests.test_engine import OCT, run_json, world  # noqa: F401
from visits.tests.factories import make_visit

D = datetime.date


def generate(client, period=OCT):
    return client.post(reverse("supervision:bulletin_generate"), {"period": period})


def docx_rows(content):
    """The per-street table of a .docx: {street name: {rule: (value, passed)}}."""
    document = Document(io.BytesIO(content))
    grid = document.tables[0]
    headers = [cell.text for cell in grid.rows[0].cells]
    assert headers[0] == "街镇"
    rules = [header.split(" ")[0] for header in headers[1:]]
    rows = {}
    for row in grid.rows[1:]:
        cells = [cell.text for cell in row.cells]
        figures = {}
        for rule, text in zip(rules, cells[1:], strict=True):
            value, verdict = text.split(" ")
            figures[rule] = (
                None if value == "—" else float(value.rstrip("%")),
                verdict == "达标",
            )
        rows[cells[0]] = figures
    return document, rows


def expected(rules):
    return {rid: (rules[rid]["value"], rules[rid]["passed"]) for rid in TABLE_RULES}


def test_the_docx_table_equals_compliance_json(world, login):  # noqa: F811
    client = login(world.bureau)
    response = generate(client)
    bulletin = Bulletin.objects.get()
    assert response.status_code == 302 and response["Location"] == bulletin.get_absolute_url()
    assert bulletin.title == "长宁区社区救助顾问服务站点建设工作通报(2026年10月)"
    assert bulletin.status == BulletinStatus.DRAFT

    response = client.get(reverse("supervision:bulletin_export", args=[bulletin.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    document, rows = docx_rows(response.content)
    data = run_json("--period", OCT)
    assert list(rows) == [s["name"] for s in data["streets"]] + ["全区合计"]
    for street in data["streets"]:
        assert rows[street["name"]] == expected(street["rules"])
    assert rows["全区合计"] == expected(data["district"]["rules"])
    # The title, the introduction, commendations and criticisms are in the document.
    text = "\n".join(p.text for p in document.paragraphs)
    assert bulletin.title in text and "现将有关情况通报如下" in text
    assert "表彰" in text and "通报批评" in text
    # Street B: nobody visited (0.0%) and an order past its deadline.
    assert f"{world.street_b.name}:每月走访完成率0.0%,低于90%;1件限期整改逾期未办结" in text


def test_commendations_and_criticisms_are_proposed_and_editable(world, login):  # noqa: F811
    adv1 = world.advisors[0]
    Nomination.objects.create(
        advisor=adv1,
        title="star",
        year=2026,
        reason="走访认真",
        nominated_by=world.manager_a,
        status=NominationStatus.CONFIRMED,
        decided_by=world.bureau,
        decided_at=timezone.now(),
    )
    Nomination.objects.create(
        advisor=world.advisors[1],
        title="star",
        year=2026,
        reason="待定",
        nominated_by=world.manager_a,
    )
    client = login(world.bureau)
    generate(client)
    bulletin = Bulletin.objects.get()
    assert bulletin.commendations == [
        f"{world.street_a.name}社区救助顾问{adv1.name}:2026年度救助顾问明星。"
    ]
    assert any(line.startswith(world.street_b.name) for line in bulletin.criticisms)

    url = reverse("supervision:bulletin_edit", args=[bulletin.pk])
    response = client.post(
        url,
        {
            "title": "十月通报",
            "introduction": "导语",
            "commendations": "甲\n\n 乙 ",
            "criticisms": "",
        },
    )
    assert response.status_code == 302
    bulletin.refresh_from_db()
    assert (bulletin.title, bulletin.commendations, bulletin.criticisms) == (
        "十月通报",
        ["甲", "乙"],
        [],
    )
    page = client.get(bulletin.get_absolute_url()).content.decode()
    assert "十月通报" in page and "<li>乙</li>" in page and "打印" in page
    # An empty title is refused in Chinese, nothing changed.
    response = client.post(url, {"title": " ", "commendations": "丙"})
    assert response.status_code == 400 and "这个字段是必填项" in response.content.decode()
    bulletin.refresh_from_db()
    assert bulletin.commendations == ["甲", "乙"]


def test_a_street_below_the_visit_limit_is_criticised(world, login):  # noqa: F811
    client = login(world.bureau)
    generate(client)
    criticised = Bulletin.objects.get().criticisms
    assert [line.split(":")[0] for line in criticised] == [
        world.street_a.name,
        world.street_b.name,
    ]
    assert "50.0%" in criticised[0] and "逾期" not in criticised[0]


def test_publishing_freezes_the_bulletin(world, login):  # noqa: F811
    client = login(world.bureau)
    generate(client)
    bulletin = Bulletin.objects.get()
    response = client.post(reverse("supervision:bulletin_publish", args=[bulletin.pk]))
    assert response.status_code == 302
    bulletin.refresh_from_db()
    assert bulletin.status == BulletinStatus.PUBLISHED
    assert bulletin.published_by == world.bureau and bulletin.published_at is not None
    frozen = (bulletin.data, bulletin.title, bulletin.commendations, bulletin.criticisms)
    export = reverse("supervision:bulletin_export", args=[bulletin.pk])
    _doc, before = docx_rows(client.get(export).content)

    # The missed person is visited afterwards: the engine changes, the bulletin does not.
    make_visit(world.people[1], world.advisors[0], D(2026, 10, 20))
    live = run_json("--period", OCT)
    a_live = next(s for s in live["streets"] if s["code"] == world.street_a.code)
    assert a_live["rules"]["C9"]["value"] == 100.0
    _doc, after = docx_rows(client.get(export).content)
    assert after == before and after[world.street_a.name]["C9"] == (50.0, False)
    page = client.get(bulletin.get_absolute_url()).content.decode()
    assert "50.0% 未达标" in page

    # No edits, no second publishing after publishing.
    edit = client.post(
        reverse("supervision:bulletin_edit", args=[bulletin.pk]),
        {"title": "改", "introduction": "", "commendations": "", "criticisms": ""},
    )
    assert edit.status_code == 403 and "已发布" in edit.content.decode()
    again = client.post(reverse("supervision:bulletin_publish", args=[bulletin.pk]))
    assert again.status_code == 403
    bulletin.refresh_from_db()
    assert (bulletin.data, bulletin.title, bulletin.commendations, bulletin.criticisms) == frozen


def test_street_managers_read_only_published_bulletins(world, client, login):  # noqa: F811
    generate(login(world.bureau))
    bulletin = Bulletin.objects.get()
    detail = reverse("supervision:bulletin_detail", args=[bulletin.pk])
    client.force_login(world.manager_a)
    listing = client.get(reverse("supervision:bulletins"))
    assert listing.status_code == 200 and bulletin.title not in listing.content.decode()
    assert client.get(detail).status_code == 404
    assert client.get(reverse("supervision:bulletin_export", args=[bulletin.pk])).status_code == 404

    client.force_login(world.bureau)
    client.post(reverse("supervision:bulletin_publish", args=[bulletin.pk]))
    client.force_login(world.manager_a)
    assert bulletin.title in client.get(reverse("supervision:bulletins")).content.decode()
    page = client.get(detail)
    assert page.status_code == 200 and "发布" in page.content.decode()
    assert reverse("supervision:bulletin_edit", args=[bulletin.pk]) not in page.content.decode()
    # Read-only: the bureau's pages answer the 403 page.
    for name in ("bulletin_edit", "bulletin_publish"):
        assert client.post(reverse(f"supervision:{name}", args=[bulletin.pk])).status_code == 403
    assert client.post(reverse("supervision:bulletin_generate"), {"period": OCT}).status_code == 403
    assert Bulletin.objects.count() == 1
    # Advisors have no bulletins at all.
    client.force_login(world.advisor_a)
    assert client.get(reverse("supervision:bulletins")).status_code == 403
    assert client.get(reverse("supervision:bulletin_generate")).status_code == 403
    assert client.get(detail).status_code == 404  # nothing of them is in an advisor's scope


def test_another_districts_bulletin_answers_404(world, client, login):  # noqa: F811
    other = make_district("310104", "徐汇区")
    make_street(other, "天平路街道", "310104003")
    other_bureau = make_user("bureau_xh", Role.BUREAU, district=other)
    generate(login(other_bureau))
    foreign = Bulletin.objects.get(district=other)
    assert foreign.data["streets"][0]["name"] == "天平路街道"
    Bulletin.objects.filter(pk=foreign.pk).update(
        status=BulletinStatus.PUBLISHED, published_by=other_bureau, published_at=timezone.now()
    )
    for user in (world.bureau, world.manager_a, world.manager_b):
        client.force_login(user)
        for name in ("bulletin_detail", "bulletin_export", "bulletin_edit"):
            response = client.get(reverse(f"supervision:{name}", args=[foreign.pk]))
            assert response.status_code in (404, 403), (user, name)
            assert "天平路街道" not in response.content.decode()
        assert "徐汇区" not in client.get(reverse("supervision:bulletins")).content.decode()
    client.force_login(world.bureau)
    assert client.get(reverse("supervision:bulletin_detail", args=[foreign.pk])).status_code == 404
    assert (
        client.post(reverse("supervision:bulletin_publish", args=[foreign.pk])).status_code == 404
    )
    # Each district has its own bulletin of the same period.
    assert generate(client).status_code == 302
    assert Bulletin.objects.count() == 2


@pytest.mark.parametrize(
    "period, message",
    [
        ("2026-13", "统计期应写作"),
        ("十月", "统计期应写作"),
        ("2026Q5", "统计期应写作"),
        ("", "这个字段是必填项"),
        (f"{timezone.localdate().year + 1}", "统计期尚未开始"),
    ],
)
def test_a_bad_period_is_refused_in_chinese(two_streets, login, period, message):
    response = generate(login(two_streets.bureau), period)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Bulletin.objects.exists()


def test_a_period_has_one_bulletin(two_streets, login):
    client = login(two_streets.bureau)
    assert generate(client, "2026Q3").status_code == 302
    response = generate(client, "2026q3")
    assert response.status_code == 400 and "已经生成" in response.content.decode()
    assert Bulletin.objects.count() == 1 and Bulletin.objects.get().period == "2026Q3"


def test_the_list_runs_the_same_queries_at_two_sizes(two_streets, login):
    client = login(two_streets.bureau)
    url = reverse("supervision:bulletins")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    generate(client, "2026-01")
    small = count()
    for period in ("2026-02", "2026-03", "2026Q1", "2025"):
        generate(client, period)
    Bulletin.objects.filter(period="2025").update(
        status=BulletinStatus.PUBLISHED,
        published_by=two_streets.bureau,
        published_at=timezone.now(),
    )
    assert Bulletin.objects.count() == 5
    assert count() == small
