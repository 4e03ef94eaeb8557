"""政策找人 where it meets the rest: the person's file (部门名单情况 and 已核实), the nightly
jobs (anonymisation, overdue reminders), the hand-over and the navigation."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from advisors.models import Advisor
from advisors.tests.factories import make_advisor
from cases import jobs, services
from cases import leads as lead_services
from cases.choices import Gender, LeadStatus
from cases.lead_models import Lead, LeadFact
from cases.models import AssistanceCategory
from cases.tests.factories import id_number, make_recipient
from cases.tests.lead_factories import make_source, upload_list
from changning_aid.context_processors import navigation
from notifications.models import Notification
from stations.tests.factories import committee_point, make_two_streets, make_user
from visits.choices import VisitMethod

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def days_ago(days):
    return TODAY - datetime.timedelta(days=days)


@pytest.fixture
def world():
    w = make_two_streets()
    w["point_a"] = committee_point(w["committees_a"][0])
    w["gw_a"] = make_advisor(w["street_a"], [w["point_a"]], name="甲顾问", user=w["advisor_a"])
    w["colleague"] = make_advisor(w["street_a"], [w["point_a"]], name="乙顾问")
    w["colleague_login"] = make_user("advisor_c", Role.ADVISOR, stations=[w["point_a"]])
    Advisor.objects.filter(pk=w["colleague"].pk).update(user=w["colleague_login"])
    # Street B's point advisor has no login: street B's manager hears of its leads.
    w["gw_b"] = make_advisor(w["street_b"], [committee_point(w["committees_b"][0])], name="丙顾问")
    w["source"] = make_source(w["district"], "区残联·残疾人证")
    return w


def body_of(response):
    return response.content.decode()


def new_leads(world, rows, days, source=None):
    """Leads of `rows` ([name, committee]), found `days` days ago."""
    day = days_ago(days)
    upload_list(
        world["bureau"],
        source or world["source"],
        [
            [name, id_number(datetime.date(1950, 6, 1)), c.code, "", "二级肢体残疾"]
            for name, c in rows
        ],
        received_on=day,
        today=day,
    )
    return [Lead.objects.get(name=name) for name, _committee in rows]


def flag(world, person, note, days=2):
    """A list names `person`, on the register: a 情况变化 on their file."""
    upload_list(
        world["bureau"],
        world["source"],
        [[person.name, person.plain_id_number(), "", "", note]],
        received_on=days_ago(days),
        today=days_ago(days),
    )
    return LeadFact.objects.filter(recipient=person).order_by("-pk").first()


def visit(world, lead, advisor, day):
    return lead_services.record_lead_visit(
        actor=world["manager_a"] if lead.street == world["street_a"] else world["manager_b"],
        lead=lead,
        advisor=advisor,
        visited_on=day,
        method=VisitMethod.HOME,
    )


# The person's file ------------------------------------------------------------------------------


def file_url(person):
    return reverse("cases:recipient_detail", args=[person.pk])


def test_the_file_shows_the_departments_facts_with_the_change_to_check(client, world):
    person = make_recipient(world["committees_a"][0], name="周阿姨", advisor=world["gw_a"])
    old = flag(world, person, "新办残疾人证,肢体二级", days=40)
    lead_services.acknowledge_fact(actor=world["manager_a"], fact=old)
    new = flag(world, person, "残疾等级调整为一级")
    client.force_login(world["advisor_a"])

    html = body_of(client.get(file_url(person)))

    facts = html[html.index('id="source-facts"') :]
    facts = facts[: facts.index("</section>")]
    assert "部门名单情况" in facts and "1 条情况变化待核实" in facts
    assert "区残联·残疾人证" in facts
    assert "情况说明:残疾等级调整为一级" in facts and "情况说明:新办残疾人证,肢体二级" in facts
    assert days_ago(2).isoformat() in facts and days_ago(40).isoformat() in facts
    assert facts.count('data-testid="situation-changed"') == 1
    assert f"manager_a {TODAY.isoformat()} 已核实" in facts
    acknowledge = reverse("visits:fact_acknowledge", args=[new.pk])
    assert f'action="{acknowledge}"' in facts
    assert reverse("visits:fact_acknowledge", args=[old.pk]) not in facts


def test_who_may_check_a_change_on_the_file(client, world):
    person = make_recipient(world["committees_a"][0], name="周阿姨", advisor=world["gw_a"])
    fact = flag(world, person, "确诊恶性肿瘤")
    acknowledge = reverse("visits:fact_acknowledge", args=[fact.pk])
    for who, shown in (("advisor_a", True), ("manager_a", True), ("bureau", True)):
        client.force_login(world[who])
        html = body_of(client.get(file_url(person)))
        assert "确诊恶性肿瘤" in html
        assert (f'action="{acknowledge}"' in html) is shown, who
    # The other advisor of the point reads the change but leaves it to the one in charge.
    client.force_login(world["colleague_login"])
    html = body_of(client.get(file_url(person)))
    assert "确诊恶性肿瘤" in html and f'action="{acknowledge}"' not in html
    assert client.post(acknowledge).status_code == 403
    # Street B sees neither the file nor the fact.
    client.force_login(world["manager_b"])
    assert client.get(file_url(person)).status_code == 404
    assert client.post(acknowledge).status_code == 404
    fact.refresh_from_db()
    assert fact.acknowledged_at is None


def test_a_keeper_checks_a_change_from_the_file_and_comes_back_to_it(client, world):
    person = make_recipient(world["committees_a"][0], name="周阿姨", advisor=world["gw_a"])
    fact = flag(world, person, "确诊恶性肿瘤")
    client.force_login(world["manager_a"])
    back = f"{file_url(person)}#source-facts"

    response = client.post(
        reverse("visits:fact_acknowledge", args=[fact.pk]), {"next": back}, follow=True
    )

    assert response.redirect_chain == [(back, 302)]
    html = body_of(response)
    assert "已核实:周阿姨 的“区残联·残疾人证”情况变化" in html
    assert "情况变化待核实" not in html
    fact.refresh_from_db()
    assert fact.acknowledged_by == world["manager_a"]
    # Twice is harmless.
    again = client.post(reverse("visits:fact_acknowledge", args=[fact.pk]), {"next": back})
    assert again.status_code == 302
    assert LeadFact.objects.get(pk=fact.pk).acknowledged_at == fact.acknowledged_at


def test_a_file_without_facts_has_no_such_section(client, world):
    person = make_recipient(world["committees_a"][0], advisor=world["gw_a"])
    client.force_login(world["advisor_a"])
    assert 'id="source-facts"' not in body_of(client.get(file_url(person)))


def test_the_file_runs_the_same_queries_for_1_and_12_facts(client, world):
    person = make_recipient(world["committees_a"][0], advisor=world["gw_a"])
    flag(world, person, "情况0")
    client.force_login(world["advisor_a"])

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(file_url(person))
        assert response.status_code == 200
        return len(queries), body_of(response)

    small, html = count()
    assert html.count('data-testid="source-fact"') == 1
    for number in range(1, 12):
        source = make_source(world["district"], f"来源{number}")
        upload_list(
            world["bureau"],
            source,
            [[person.name, person.plain_id_number(), "", "", f"情况{number}"]],
            received_on=days_ago(number),
            today=days_ago(number),
        )
    large, html = count()
    assert html.count('data-testid="source-fact"') == 12
    assert small == large


# Anonymisation ----------------------------------------------------------------------------------


def closed(world, name, closed_days_ago, status=LeadStatus.INELIGIBLE):
    [lead] = new_leads(world, [(name, world["committees_a"][0])], closed_days_ago + 20)
    visit(world, lead, world["gw_a"], lead.found_on + datetime.timedelta(days=1))
    return lead_services.close_lead(
        actor=world["manager_a"],
        lead=lead,
        status=status,
        reason="家庭收入超过标准",
        on=days_ago(closed_days_ago),
    )


def test_leads_closed_more_than_a_year_ago_are_anonymised_once(world):
    old = closed(world, "王早办", 400)
    recent = closed(world, "李近办", 100)
    [enrolled] = new_leads(world, [("赵纳入", world["committees_a"][0])], 500)
    visit(world, enrolled, world["gw_a"], enrolled.found_on + datetime.timedelta(days=1))
    lead_services.enrol_lead(
        actor=world["manager_a"],
        lead=enrolled,
        gender=Gender.FEMALE,
        categories=[AssistanceCategory.objects.filter(district__isnull=True).first()],
    )
    Lead.objects.filter(pk=enrolled.pk).update(closed_on=days_ago(450))

    summary = jobs.anonymise_leads(TODAY)

    assert "已将 1 条办结" in summary
    old.refresh_from_db()
    assert old.name == "(已匿名)" and old.is_anonymised
    assert old.plain_id_number() == "" and old.id_tail == "" and old.name_initials == ""
    assert old.address == "" and old.phone == "" and old.close_reason == ""
    assert old.facts.get().facts == {}
    assert old.lead_number.startswith("XS") and old.status == LeadStatus.INELIGIBLE
    recent.refresh_from_db()
    assert recent.name == "李近办" and recent.plain_id_number()
    assert recent.facts.get().facts == {"情况说明": "二级肢体残疾"}
    enrolled.refresh_from_db()
    assert enrolled.name == "赵纳入" and not enrolled.is_anonymised
    assert enrolled.recipient.source_facts.get().facts == {"情况说明": "二级肢体残疾"}

    assert "没有需要匿名化的政策找人线索" in jobs.anonymise_leads(TODAY)
    old.refresh_from_db()
    assert old.name == "(已匿名)"


def test_run_scheduled_runs_the_lead_jobs(world):
    closed(world, "王早办", 400, status=LeadStatus.UNREACHABLE)
    new_leads(world, [("刘逾期", world["committees_a"][0])], 20)
    out = io.StringIO()

    call_command("run_scheduled", stdout=out)

    output = out.getvalue()
    assert "[anonymise_leads]" in output and "已将 1 条办结" in output
    assert "[lead_overdue]" in output and "新发提醒 1 条" in output
    assert Lead.objects.filter(name="(已匿名)").count() == 1
    assert (
        Notification.objects.filter(
            recipient=world["advisor_a"], dedupe_key__startswith="lead-overdue-"
        ).count()
        == 1
    )


# Overdue reminders ------------------------------------------------------------------------------


def test_an_overdue_lead_reminds_its_advisor_once(world):
    overdue, fresh = new_leads(world, [("王逾期", world["committees_a"][0])], 20) + new_leads(
        world, [("李新线", world["committees_a"][0])], 5
    )
    # 华二居委 has no advisor: its street's manager hears of it.
    [unassigned] = new_leads(world, [("赵无人", world["committees_a"][1])], 16)
    [street_b] = new_leads(world, [("曹乙街", world["committees_b"][0])], 30)
    done = closed(world, "钱办结", 1)

    summary = jobs.notify_overdue_leads(TODAY)

    assert "超过 15 天未办结的政策找人线索 3 条,新发提醒 3 条" in summary
    note = Notification.objects.get(recipient=world["advisor_a"])
    assert note.dedupe_key == f"lead-overdue-{overdue.pk}"
    assert note.url == reverse("cases:lead_detail", args=[overdue.pk])
    assert note.title == f"政策找人线索 {overdue.lead_number} 已超过 15 天未办结"
    assert "已 20 天" in note.body
    # No personal data: notifications travel by e-mail.
    assert "王逾期" not in note.title + note.body
    assert Notification.objects.get(recipient=world["manager_a"]).dedupe_key == (
        f"lead-overdue-{unassigned.pk}"
    )
    assert Notification.objects.get(recipient=world["manager_b"]).dedupe_key == (
        f"lead-overdue-{street_b.pk}"
    )
    assert not Notification.objects.filter(dedupe_key=f"lead-overdue-{fresh.pk}").exists()
    assert not Notification.objects.filter(dedupe_key=f"lead-overdue-{done.pk}").exists()
    assert not Notification.objects.filter(recipient=world["colleague_login"]).exists()

    assert "新发提醒 0 条" in jobs.notify_overdue_leads(TODAY)
    assert Notification.objects.filter(dedupe_key__startswith="lead-overdue-").count() == 3


def test_reminders_run_the_same_queries_for_3_and_30_overdue_leads(world):
    def run():
        with CaptureQueriesContext(connection) as queries:
            jobs.notify_overdue_leads(TODAY)
        return len(queries)

    committees = world["committees_a"]
    new_leads(world, [(f"线索{n}", committees[n % 2]) for n in range(3)], 20)
    small = run()
    new_leads(world, [(f"线索{n}", committees[n % 2]) for n in range(3, 30)], 20)
    large = run()

    assert small == large
    assert Notification.objects.filter(dedupe_key__startswith="lead-overdue-").count() == 30


# The hand-over ----------------------------------------------------------------------------------


def test_hand_over_moves_open_leads_and_not_closed_ones(client, world):
    leaving = make_advisor(world["street_a"], [world["point_a"]], name="离岗顾问")
    taking = make_advisor(world["street_a"], [world["point_a"]], name="接手顾问")
    pending, visited = new_leads(
        world, [("王待核", world["committees_a"][0]), ("李已访", world["committees_a"][0])], 3
    )
    done = closed(world, "钱办结", 1)
    Lead.objects.filter(pk__in=[pending.pk, visited.pk, done.pk]).update(advisor=leaving)
    visit(world, visited, leaving, TODAY)
    Advisor.objects.filter(pk=leaving.pk).update(
        left_on=TODAY - datetime.timedelta(days=1), leave_reason="调离"
    )
    client.force_login(world["manager_a"])

    # An advisor with open leads only is waiting to be handed over.
    waiting = body_of(client.get(reverse("cases:handover")))
    assert f'{reverse("cases:handover")}?from_advisor={leaving.pk}"' in waiting
    assert services.hand_over_counts(leaving)["leads"] == 2
    preview = body_of(
        client.get(reverse("cases:handover"), {"from_advisor": leaving.pk, "to_advisor": taking.pk})
    )
    assert "<strong>2</strong> 条未办结的政策找人线索移交给 接手顾问" in preview
    assert Lead.objects.filter(advisor=leaving).count() == 3  # nothing moved yet

    response = client.post(
        reverse("cases:handover"),
        {"from_advisor": leaving.pk, "to_advisor": taking.pk},
        follow=True,
    )

    assert "和 2 条未办结的政策找人线索移交给 接手顾问" in body_of(response)
    assert set(Lead.objects.filter(advisor=taking)) == {pending, visited}
    assert list(Lead.objects.filter(advisor=leaving)) == [done]


def test_hand_over_without_leads_keeps_its_message(client, world):
    leaving = make_advisor(world["street_a"], [world["point_a"]], name="离岗顾问")
    taking = make_advisor(world["street_a"], [world["point_a"]], name="接手顾问")
    make_recipient(world["committees_a"][0], advisor=leaving)
    client.force_login(world["manager_a"])

    preview = body_of(
        client.get(reverse("cases:handover"), {"from_advisor": leaving.pk, "to_advisor": taking.pk})
    )
    response = client.post(
        reverse("cases:handover"),
        {"from_advisor": leaving.pk, "to_advisor": taking.pk},
        follow=True,
    )

    assert "政策找人" not in preview.split('class="page"')[1].split("</main>")[0]
    assert "已将 离岗顾问 负责的 1 名困难人员和 0 项未办结需求移交给 接手顾问" in body_of(response)


# Navigation -------------------------------------------------------------------------------------


def nav(user, path):
    request = RequestFactory().get(path)
    request.user = user
    return {item.label: item for item in navigation(request)["nav_items"]}


@pytest.mark.parametrize("who", ["bureau", "manager_a", "advisor_a"])
def test_the_navigation_has_policy_outreach_for_the_three_roles(world, who):
    leads_url = reverse("cases:leads")
    items = nav(world[who], leads_url + "lists/")
    assert items["政策找人"].url == leads_url
    assert items["政策找人"].active and not items["困难人员"].active
    items = nav(world[who], reverse("cases:recipients"))
    assert items["困难人员"].active and not items["政策找人"].active


def test_the_system_administrator_has_no_policy_outreach(world):
    assert "政策找人" not in nav(world["sysadmin"], "/")
