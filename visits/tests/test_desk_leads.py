"""政策找人 on the advisor's desk: the open leads to visit and the 情况变化 of their people to
check, with the 已核实 button — seen as the advisor of street A, never street B's."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases import leads as lead_services
from cases.choices import LeadStatus
from cases.lead_models import Lead, LeadFact
from cases.tests.factories import id_number, make_recipient
from cases.tests.lead_factories import make_source, upload_list
from stations.tests.factories import committee_point
from visits.choices import VisitMethod

D = datetime.date
TODAY = D(2026, 11, 20)
DESK = reverse("visits:desk")


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    return TODAY


@pytest.fixture
def world(two_streets, today):
    """甲顾问 (advisor_a's login) and 乙顾问 serve 华一居委; 丙顾问 (advisor_b's login) 曹家堰."""
    w = two_streets
    w.committee = w.committees_a[0]
    w.advisor = make_advisor(
        w.street_a, [committee_point(w.committee)], name="甲顾问", user=w.advisor_a
    )
    w.colleague = make_advisor(w.street_a, [committee_point(w.committee)], name="乙顾问")
    w.advisor_of_b = make_advisor(
        w.street_b, [committee_point(w.committees_b[0])], name="丙顾问", user=w.advisor_b
    )
    w.source = make_source(w.district, "区残联·残疾人证")
    return w


BORN = D(1948, 3, 9)


def lead_row(name, committee, note="二级肢体残疾", birth=BORN):
    return [name, id_number(birth), committee.code, "", note]


def found(world, rows, days_ago, source=None):
    """Leads of `rows`, found `days_ago` days before today (the list processed that day)."""
    day = TODAY - datetime.timedelta(days=days_ago)
    upload_list(world.bureau, source or world.source, rows, received_on=day, today=day)


def body(response):
    return response.content.decode()


def section(response, testid):
    html = body(response)
    start = html.index(f'data-testid="{testid}"')
    return html[start : html.index("</section>", start)]


def lead_names(html):
    return re.findall(
        r'data-testid="desk-lead" data-lead="\d+">\s*<th scope="row">\s*'
        r'<a href="[^"]+">([^<]+)</a>',
        html,
    )


def row_of(html, lead):
    at = html.index(f'data-lead="{lead.pk}"')
    return html[html.rindex("<tr", 0, at) : html.index("</tr>", at)]


def flag(world, person, note):
    """A list names `person`, on the register: a 情况变化 on their file."""
    upload_list(
        world.bureau,
        world.source,
        [[person.name, person.plain_id_number(), "", "", note]],
        received_on=TODAY - datetime.timedelta(days=3),
        today=TODAY - datetime.timedelta(days=2),
    )
    return LeadFact.objects.filter(recipient=person).order_by("-pk").first()


# The leads panel ----------------------------------------------------------------------------


def test_the_desk_lists_open_leads_new_first_and_overdue_in_red(world, login):
    found(world, [lead_row("王逾期", world.committee)], days_ago=20)
    found(world, [lead_row("李新线", world.committee)], days_ago=2)
    found(world, [lead_row("赵已访", world.committees_a[1])], days_ago=4)
    found(world, [lead_row("钱办结", world.committee)], days_ago=30)
    found(world, [lead_row("曹外街", world.committees_b[0])], days_ago=25)
    visited = Lead.objects.get(name="赵已访")
    # Not in a committee 甲顾问 serves, but in their charge.
    Lead.objects.filter(pk=visited.pk).update(advisor=world.advisor)
    lead_services.record_lead_visit(
        actor=world.manager_a,
        lead=visited,
        advisor=world.advisor,
        visited_on=TODAY,
        method=VisitMethod.HOME,
    )
    closed = Lead.objects.get(name="钱办结")
    lead_services.record_lead_visit(
        actor=world.manager_a,
        lead=closed,
        advisor=world.colleague,
        visited_on=TODAY - datetime.timedelta(days=10),
        method=VisitMethod.HOME,
    )
    lead_services.close_lead(
        actor=world.manager_a, lead=closed, status=LeadStatus.INELIGIBLE, reason="收入超标"
    )

    response = login(world.advisor_a).get(DESK)

    assert response.status_code == 200
    panel = section(response, "desk-leads")
    assert lead_names(panel) == ["王逾期", "李新线", "赵已访"]
    assert 'data-testid="desk-lead-count">3<' in panel
    assert "待核实 2 条,超过 15 天未办结 1 条" in panel
    overdue = Lead.objects.get(name="王逾期")
    row = row_of(panel, overdue)
    assert 'class="desk-overdue"' in row and "已 20 天,逾期" in row
    assert reverse("cases:lead_detail", args=[overdue.pk]) in row
    fresh_row = row_of(panel, Lead.objects.get(name="李新线"))
    assert "desk-overdue" not in fresh_row and "已 2 天" in fresh_row
    assert "已走访" in panel and "甲顾问" in panel
    # Closed leads and the other street's never.
    assert "钱办结" not in body(response)
    assert "曹外街" not in body(response)
    assert f'href="{reverse("cases:leads")}"' in panel


def test_street_b_advisor_sees_only_street_b_leads(world, login):
    found(world, [lead_row("王甲街", world.committee)], days_ago=1)
    found(world, [lead_row("曹乙街", world.committees_b[0])], days_ago=1)

    html = body(login(world.advisor_b).get(DESK))

    assert lead_names(html) == ["曹乙街"]
    assert "王甲街" not in html


def test_no_leads_no_panel(world, login):
    html = body(login(world.advisor_a).get(DESK))
    assert 'data-testid="desk-leads"' not in html
    assert 'data-testid="desk-situation"' not in html
    # The keyboard flow's parts are all there, the search box first.
    assert 'data-testid="desk-search"' in html and "autofocus" in html


def test_the_panel_lists_twenty_and_says_how_many_more(world, login):
    found(
        world,
        [lead_row(f"线索{n:02d}", world.committee, birth=D(1950, 1, 1 + n)) for n in range(23)],
        days_ago=1,
    )

    panel = section(login(world.advisor_a).get(DESK), "desk-leads")

    assert len(lead_names(panel)) == 20
    assert 'data-testid="desk-lead-count">23<' in panel
    assert "另有 3 条未列出" in panel


# 情况变化 -------------------------------------------------------------------------------------


def test_situation_changes_of_my_people_and_the_acknowledge_button(world, login):
    mine = make_recipient(world.committee, name="周本人", advisor=world.advisor)
    colleagues = make_recipient(world.committee, name="吴同事的", advisor=world.colleague)
    other_street = make_recipient(world.committees_b[0], name="郑外街", advisor=world.advisor_of_b)
    fact = flag(world, mine, "新办残疾人证,肢体二级")
    flag(world, colleagues, "新办残疾人证,视力一级")
    flag(world, other_street, "新办残疾人证,听力三级")
    client = login(world.advisor_a)

    panel = section(client.get(DESK), "desk-situation")

    assert 'id="situation-changes"' in body(client.get(DESK))
    assert "周本人" in panel and "区残联·残疾人证" in panel and "2026-11-17" in panel
    assert "情况说明:新办残疾人证,肢体二级" in panel
    assert mine.get_absolute_url() + "#source-facts" in panel
    assert 'data-testid="desk-situation-count">1<' in panel
    assert "吴同事的" not in panel and "郑外街" not in panel
    action = reverse("visits:fact_acknowledge", args=[fact.pk])
    assert f'action="{action}"' in panel

    # Everyone of the point: the colleague's person too, checked by the colleague.
    everyone = section(client.get(DESK, {"scope": "all"}), "desk-situation")
    assert "周本人" in everyone and "吴同事的" in everyone and "由 乙顾问 核实" in everyone
    assert everyone.count('data-testid="acknowledge"') == 1
    assert "郑外街" not in everyone

    response = client.post(action, {"next": f"{DESK}#situation-changes"})

    assert response.status_code == 302
    assert response["Location"] == f"{DESK}#situation-changes"
    fact.refresh_from_db()
    assert fact.acknowledged_at is not None and fact.acknowledged_by == world.advisor_a
    after = client.get(DESK)
    assert "已核实:周本人 的“区残联·残疾人证”情况变化" in body(after)
    assert 'data-testid="desk-situation"' not in body(after)


def test_another_streets_fact_answers_404_and_another_advisors_person_403(world, login):
    other_street = make_recipient(world.committees_b[0], name="郑外街", advisor=world.advisor_of_b)
    colleagues = make_recipient(world.committee, name="吴同事的", advisor=world.colleague)
    foreign = flag(world, other_street, "确诊恶性肿瘤")
    not_mine = flag(world, colleagues, "确诊尿毒症")
    client = login(world.advisor_a)

    missing = client.post(reverse("visits:fact_acknowledge", args=[foreign.pk]))
    refused = client.post(reverse("visits:fact_acknowledge", args=[not_mine.pk]))
    not_a_post = client.get(reverse("visits:fact_acknowledge", args=[not_mine.pk]))

    assert missing.status_code == 404
    assert refused.status_code == 403
    assert "只有该对象的责任顾问、街镇管理员或区民政局可以核实情况变化" in body(refused)
    # Asked by address, it acknowledges nothing and goes back to the person's file.
    assert not_a_post.status_code == 302
    assert not_a_post["Location"] == not_mine.recipient.get_absolute_url()
    assert not LeadFact.objects.filter(acknowledged_at__isnull=False).exists()
    # The other street's manager does not see street A's fact either.
    manager_b = login(world.manager_b).post(reverse("visits:fact_acknowledge", args=[not_mine.pk]))
    assert manager_b.status_code == 404


def test_acknowledge_does_not_follow_a_link_to_another_site(world, login):
    mine = make_recipient(world.committee, name="周本人", advisor=world.advisor)
    fact = flag(world, mine, "新办残疾人证")

    response = login(world.advisor_a).post(
        reverse("visits:fact_acknowledge", args=[fact.pk]), {"next": "https://example.com/"}
    )

    assert response["Location"] == f"{DESK}#situation-changes"


def test_anonymous_users_are_sent_to_log_in(world, client):
    mine = make_recipient(world.committee, advisor=world.advisor)
    fact = flag(world, mine, "新办残疾人证")
    response = client.post(reverse("visits:fact_acknowledge", args=[fact.pk]))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    fact.refresh_from_db()
    assert fact.acknowledged_at is None


# Fixed number of queries ------------------------------------------------------------------


def populate(world, count, offset):
    rows = [
        lead_row(f"线索{offset + n}", world.committee, birth=D(1940 + n % 30, 2, 1 + offset % 27))
        for n in range(count)
    ]
    found(world, rows[: count // 2], days_ago=20)
    found(world, rows[count // 2 :], days_ago=3)
    people = [
        make_recipient(world.committee, name=f"对象{offset + n}", advisor=world.advisor)
        for n in range(count)
    ]
    upload_list(
        world.bureau,
        make_source(world.district, f"来源{offset}"),
        [[p.name, p.plain_id_number(), "", "", f"情况{n}"] for n, p in enumerate(people)],
        received_on=TODAY,
        today=TODAY,
    )


def desk_queries(client, params=None):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(DESK, params or {})
    assert response.status_code == 200
    return len(queries), response


@pytest.mark.parametrize("scope", ["mine", "all"])
def test_the_panels_run_the_same_queries_for_3_and_30_leads_and_changes(world, login, scope):
    client = login(world.advisor_a)
    populate(world, 3, 0)
    small, response = desk_queries(client, {"scope": scope})
    assert 'data-testid="desk-situation-count">3<' in body(response)
    assert 'data-testid="desk-lead-count">3<' in body(response)
    populate(world, 27, 100)
    large, response = desk_queries(client, {"scope": scope})
    assert 'data-testid="desk-situation-count">30<' in body(response)
    assert 'data-testid="desk-lead-count">30<' in body(response)
    assert small == large
