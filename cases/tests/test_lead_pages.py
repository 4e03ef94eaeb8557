"""The pages of the leads (政策找人线索), driven through the browser's requests: the list,
a lead's page, and the actions of its path, for two streets."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from audit.choices import AccessAction
from audit.models import AccessRecord
from cases.choices import LeadStatus, NeedCategory, Urgency
from cases.lead_models import Lead
from cases.models import AssistanceCategory, Need, Recipient
from cases.tests.factories import id_number
from cases.tests.lead_factories import make_source, upload_list
from changning_aid.sensitive.idnumbers import find_full_id_numbers
from changning_aid.sensitive.masking import mask_id_number
from stations.tests.factories import committee_point, make_two_streets
from visits.choices import VisitMethod, VisitResult
from visits.models import Visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
ACTIONS = ("lead_visit", "lead_enrol", "lead_close", "lead_assign", "lead_place")
COMMITTEE_A = "310105001001"  # 华一居委会, street A
COMMITTEE_A2 = "310105001002"  # 华二居委会, street A
COMMITTEE_B = "310105002001"  # 曹家堰居委会, street B


@pytest.fixture
def world():
    world = make_two_streets()
    world["gw_a"] = make_advisor(
        world["street_a"],
        [committee_point(world["committees_a"][0])],
        name="甲顾问",
        user=world["advisor_a"],
    )
    world["gw_b"] = make_advisor(
        world["street_b"],
        [committee_point(world["committees_b"][0])],
        name="乙顾问",
        user=world["advisor_b"],
    )
    world["source"] = make_source(world["district"], "区残联·残疾人证")
    return world


def row(name, number, code="", address="", note=""):
    return [name, number, code, address, note]


def add_leads(world, rows, *, source=None, today=None):
    upload_list(world["bureau"], source or world["source"], rows, today=today)


def lead_named(name):
    return Lead.objects.get(name=name)


def body(response):
    return response.content.decode()


def as_user(client, user):
    client.force_login(user)
    return client


def detail_url(lead):
    return reverse("cases:lead_detail", args=[lead.pk])


def action_url(name, lead):
    return reverse(f"cases:{name}", args=[lead.pk])


def visit_payload(result=VisitResult.COMPLETED, needs=(), **fields):
    data = {
        "visit-visited_on": TODAY.isoformat(),
        "visit-method": VisitMethod.HOME,
        "visit-result": result,
        "visit-findings": "",
        "needs-TOTAL_FORMS": "3",
        "needs-INITIAL_FORMS": "0",
        "needs-MIN_NUM_FORMS": "0",
        "needs-MAX_NUM_FORMS": "3",
    }
    for index, need in enumerate(needs):
        for key, value in need.items():
            data[f"needs-{index}-{key}"] = value
    data.update({f"visit-{key}": value for key, value in fields.items()})
    return data


def category(name="低保"):
    return AssistanceCategory.objects.get(name=name, district=None)


def radio_checked(text, name, value):
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*>', text)
    assert tag is not None, (name, value)
    return " checked" in tag.group(0)


def assert_no_full_id_number(response):
    assert find_full_id_numbers(body(response)) == []


# Scope ------------------------------------------------------------------------------------


def test_anonymous_users_are_sent_to_login(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    for url in (reverse("cases:leads"), detail_url(lead)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_advisor_of_street_a_sees_the_lead_of_their_committee(client, world):
    number = id_number()
    add_leads(
        world,
        [
            row("王新华", number, COMMITTEE_A, "华阳路1号", "二级肢体残疾"),
            row("江小兵", id_number(), COMMITTEE_B, "江苏路9号", "一级视力残疾"),
        ],
    )
    lead = lead_named("王新华")
    as_user(client, world["advisor_a"])

    listing = body(client.get(reverse("cases:leads")))
    assert "王新华" in listing
    assert lead.lead_number in listing
    assert f"后4位 {number[-4:]}" in listing
    assert "甲顾问" in listing
    assert "区残联·残疾人证" in listing
    assert "江小兵" not in listing
    assert "曹家堰" not in listing

    page = client.get(detail_url(lead))
    assert page.status_code == 200
    text = body(page)
    assert "王新华" in text
    assert mask_id_number(number) in text
    assert "华阳路1号" in text
    assert "情况说明:二级肢体残疾" in text
    assert "待核实 → 已走访 → 纳入 / 不符合 / 无法联系" in text
    assert "登记走访" in text
    # An advisor neither assigns nor places.
    assert action_url("lead_assign", lead) not in text
    assert action_url("lead_place", lead) not in text
    assert_no_full_id_number(page)


@pytest.mark.parametrize("user_key", ["manager_b", "advisor_b"])
def test_the_other_street_gets_404_on_the_lead_and_every_action(client, world, user_key):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world[user_key])
    assert "王新华" not in body(client.get(reverse("cases:leads")))
    assert client.get(detail_url(lead)).status_code == 404
    for name in ACTIONS:
        assert client.get(action_url(name, lead)).status_code == 404, name
    posts = {
        "lead_visit": visit_payload(advisor=world["gw_b"].pk),
        "lead_enrol": {"enrol-gender": "male", "enrol-categories": [category().pk]},
        "lead_close": {"close-status": LeadStatus.UNREACHABLE, "close-reason": "联系不上"},
        "lead_assign": {"assign-advisor": world["gw_b"].pk},
        "lead_place": {"place-committee": world["committees_b"][0].pk},
    }
    for name, data in posts.items():
        assert client.post(action_url(name, lead), data).status_code == 404, name
    lead.refresh_from_db()
    assert lead.status == LeadStatus.PENDING
    assert lead.committee == world["committees_a"][0]
    assert lead.advisor == world["gw_a"]
    assert not Visit.objects.filter(lead=lead).exists()
    assert not AccessRecord.objects.filter(user=world[user_key]).exists()


def test_a_system_administrator_sees_no_leads(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    as_user(client, world["sysadmin"])
    assert client.get(reverse("cases:leads")).status_code == 403
    assert client.get(detail_url(lead_named("王新华"))).status_code == 404


# The path --------------------------------------------------------------------------------


def test_the_whole_path_as_an_advisor_through_the_pages(client, world):
    number = id_number(male=True)
    add_leads(world, [row("王新华", number, COMMITTEE_A, "华阳路1号", "二级肢体残疾")])
    lead = lead_named("王新华")
    as_user(client, world["advisor_a"])

    # A failed attempt: recorded, the lead stays 待核实.
    response = client.post(
        action_url("lead_visit", lead), visit_payload(result=VisitResult.NOBODY_HOME)
    )
    assert response.status_code == 302 and response["Location"] == detail_url(lead)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.PENDING
    page = body(client.get(detail_url(lead)))
    assert "无人在家" in page
    assert "共 1 次走访" in page
    # Not yet visited: 纳入 is not offered.
    assert action_url("lead_enrol", lead) not in page

    # A visit with a need: 已走访, the need listed.
    response = client.post(
        action_url("lead_visit", lead),
        visit_payload(
            findings="独居,行动不便",
            living="attention",
            needs=[
                {
                    "category": NeedCategory.CARE,
                    "urgency": Urgency.SOON,
                    "description": "需要助餐服务",
                }
            ],
        ),
        follow=True,
    )
    assert "已登记走访" in body(response)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VISITED
    assert lead.first_visited_on == TODAY
    page = body(client.get(detail_url(lead)))
    assert "需要助餐服务" in page
    assert "独居,行动不便" in page
    assert "生活状况:需关注" in page
    assert "已走访" in page
    # The enrol form pre-selects the gender from the ID number (odd 17th digit: male).
    assert radio_checked(page, "enrol-gender", "male")
    assert not radio_checked(page, "enrol-gender", "female")
    assert find_full_id_numbers(page) == []

    # 纳入 with a category: a file with the lead's visits and need; the page goes there.
    response = client.post(
        action_url("lead_enrol", lead),
        {
            "enrol-gender": "male",
            "enrol-categories": [category().pk],
            "enrol-hardship_level": "medium",
            "enrol-household_size": "1",
            "enrol-phone": "13912345678",
            "enrol-address": "华阳路1号",
        },
    )
    recipient = Recipient.objects.get(name="王新华")
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:recipient_detail", args=[recipient.pk])
    assert recipient.plain_id_number() == number
    assert recipient.committee == world["committees_a"][0]
    assert recipient.advisor == world["gw_a"]
    assert list(recipient.categories.all()) == [category()]
    assert Visit.objects.filter(recipient=recipient).count() == 2
    assert recipient.needs.get().description == "需要助餐服务"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ENROLLED and lead.recipient == recipient
    file_page = body(client.get(response["Location"]))
    assert "已纳入" in file_page
    assert recipient.file_number in file_page
    # The lead's page now links to the file and offers no more actions.
    page = body(client.get(detail_url(lead)))
    assert reverse("cases:recipient_detail", args=[recipient.pk]) in page
    for name in ACTIONS:
        assert action_url(name, lead) not in page
    assert find_full_id_numbers(page) == []


def test_enrolling_needs_a_category_and_a_visit(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world["advisor_a"])
    payload = {"enrol-gender": "female", "enrol-hardship_level": "low", "enrol-household_size": "1"}
    # Before a successful visit: the service refuses, in Chinese.
    response = client.post(
        action_url("lead_enrol", lead), {**payload, "enrol-categories": [category().pk]}
    )
    assert response.status_code == 200
    assert "请先登记一次成功的走访" in body(response)
    client.post(action_url("lead_visit", lead), visit_payload())
    # Without a category: the form refuses, in Chinese, and nothing is registered.
    response = client.post(action_url("lead_enrol", lead), payload)
    assert response.status_code == 200
    assert "纳入时请至少选择一个救助类别。" in body(response)
    assert_no_full_id_number(response)
    assert not Recipient.objects.exists()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VISITED


def test_a_failed_attempt_cannot_raise_needs(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world["advisor_a"])
    response = client.post(
        action_url("lead_visit", lead),
        visit_payload(
            result=VisitResult.REFUSED,
            needs=[{"category": NeedCategory.CARE, "urgency": "normal", "description": "助餐"}],
        ),
    )
    assert response.status_code == 200
    assert "未成功的走访不能登记发现的需求。" in body(response)
    assert not Visit.objects.filter(lead=lead).exists()
    assert not Need.objects.filter(lead=lead).exists()


def test_closing_as_ineligible_needs_a_reason_and_a_visit(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world["advisor_a"])
    url = action_url("lead_close", lead)

    response = client.post(url, {"close-status": LeadStatus.INELIGIBLE, "close-reason": "收入超标"})
    assert response.status_code == 200
    assert "请先登记一次成功的走访,核实后再认定不符合。" in body(response)

    client.post(action_url("lead_visit", lead), visit_payload())
    response = client.post(url, {"close-status": LeadStatus.INELIGIBLE, "close-reason": "   "})
    assert response.status_code == 200
    text = body(response)
    assert "请填写原因。" in text
    assert "操作未完成" in text
    lead.refresh_from_db()
    assert lead.status == LeadStatus.VISITED and lead.closed_on is None

    response = client.post(
        url, {"close-status": LeadStatus.INELIGIBLE, "close-reason": "家庭收入超过低收入标准"}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.INELIGIBLE
    assert lead.close_reason == "家庭收入超过低收入标准"
    assert lead.closed_by == world["advisor_a"]
    page = body(client.get(detail_url(lead)))
    assert "原因:家庭收入超过低收入标准" in page
    assert action_url("lead_visit", lead) not in page
    # Closed leads leave the default list, and show with the closed filter.
    assert "王新华" not in body(client.get(reverse("cases:leads")))
    assert "王新华" in body(client.get(reverse("cases:leads"), {"status": "closed"}))


def test_unreachable_needs_an_attempt_first(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world["manager_a"])
    url = action_url("lead_close", lead)
    data = {"close-status": LeadStatus.UNREACHABLE, "close-reason": "电话停机"}
    response = client.post(url, data)
    assert response.status_code == 200
    assert "请先登记至少一次联系尝试" in body(response)
    client.post(
        action_url("lead_visit", lead),
        visit_payload(result=VisitResult.NOBODY_HOME, advisor=world["gw_a"].pk),
    )
    assert client.post(url, data).status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.UNREACHABLE


def test_the_bureau_places_an_unplaced_lead(client, world):
    add_leads(world, [row("无址者", id_number(), "", "天山路999号", "低收入")])
    lead = lead_named("无址者")
    assert lead.committee is None
    # Street managers never see an unplaced lead.
    as_user(client, world["manager_a"])
    assert "无址者" not in body(client.get(reverse("cases:leads")))
    assert client.get(detail_url(lead)).status_code == 404

    as_user(client, world["bureau"])
    listing = body(client.get(reverse("cases:leads"), {"placed": "no"}))
    assert "无址者" in listing
    assert "未定位" in listing
    page = body(client.get(detail_url(lead)))
    assert "定位居委" in page
    assert "<optgroup" in page and "华阳路街道" in page
    # No visit before the lead is placed.
    assert action_url("lead_visit", lead) not in page

    response = client.post(
        action_url("lead_place", lead), {"place-committee": world["committees_a"][0].pk}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.committee == world["committees_a"][0]
    assert lead.street == world["street_a"]
    assert lead.advisor == world["gw_a"]
    assert "无址者" not in body(client.get(reverse("cases:leads"), {"placed": "no"}))

    as_user(client, world["manager_a"])
    assert client.get(detail_url(lead)).status_code == 200
    # Placing is the bureau's: a street manager is refused with the 403 page.
    response = client.post(
        action_url("lead_place", lead), {"place-committee": world["committees_a"][1].pk}
    )
    assert response.status_code == 403
    assert "只有区民政局可以定位线索。" in body(response)
    lead.refresh_from_db()
    assert lead.committee == world["committees_a"][0]


def test_placing_refuses_a_committee_outside_the_district(client, world):
    from stations.tests.factories import make_committee, make_district, make_street

    other = make_committee(make_street(make_district("310104", "徐汇区"), "天平路街道"))
    add_leads(world, [row("无址者", id_number(), "", "天山路999号")])
    lead = lead_named("无址者")
    as_user(client, world["bureau"])
    response = client.post(action_url("lead_place", lead), {"place-committee": other.pk})
    assert response.status_code == 200
    assert "选择一个有效的选项" in body(response)
    lead.refresh_from_db()
    assert lead.committee is None


def test_the_street_manager_assigns_an_advisor(client, world):
    second = make_advisor(world["street_a"], [], name="丙顾问")
    add_leads(world, [row("李四", id_number(), COMMITTEE_A2)])
    lead = lead_named("李四")
    assert lead.advisor is None  # no advisor serves 华二居委会's point
    as_user(client, world["manager_a"])
    listing = body(client.get(reverse("cases:leads")))
    assert "未分派" in listing
    page = body(client.get(detail_url(lead)))
    assert "分派顾问" in page
    assert "丙顾问" in page and "乙顾问" not in page

    # An advisor of the other street is no choice.
    response = client.post(action_url("lead_assign", lead), {"assign-advisor": world["gw_b"].pk})
    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.advisor is None

    response = client.post(action_url("lead_assign", lead), {"assign-advisor": second.pk})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.advisor == second
    assert "丙顾问" in body(client.get(detail_url(lead)))

    # Assigning is the keepers': an advisor is refused with the 403 page.
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    mine = lead_named("王新华")
    as_user(client, world["advisor_a"])
    response = client.post(action_url("lead_assign", mine), {"assign-advisor": second.pk})
    assert response.status_code == 403
    mine.refresh_from_db()
    assert mine.advisor == world["gw_a"]


def test_a_keeper_records_a_visit_for_an_advisor_of_the_street(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world["manager_a"])
    response = client.post(action_url("lead_visit", lead), visit_payload())
    assert response.status_code == 200
    assert "这个字段是必填项。" in body(response)
    assert not Visit.objects.filter(lead=lead).exists()
    response = client.post(action_url("lead_visit", lead), visit_payload(advisor=world["gw_a"].pk))
    assert response.status_code == 302
    visit = Visit.objects.get(lead=lead)
    assert visit.advisor == world["gw_a"] and visit.recorded_by == world["manager_a"]


# The list ---------------------------------------------------------------------------------


def test_the_list_filters_and_searches(client, world):
    wang, li, zhao = id_number(), id_number(), id_number()
    medical = make_source(world["district"], "区医保局·高额医疗费用")
    add_leads(
        world,
        [
            row("王新华", wang, COMMITTEE_A, "", "二级"),
            row("李四", li, COMMITTEE_A2, "", "三级"),
            row("赵六", zhao, COMMITTEE_B, "", "四级"),
        ],
    )
    add_leads(world, [row("王新华", wang, "", "", "自付8万元")], source=medical)
    as_user(client, world["bureau"])
    url = reverse("cases:leads")

    def names(params=None):
        text = body(client.get(url, params or {}))
        return [name for name in ("王新华", "李四", "赵六") if f">{name}</a>" in text]

    # Most sources first, then by date found.
    assert names()[0] == "王新华"
    assert sorted(names()) == sorted(["王新华", "李四", "赵六"])
    assert "区医保局·高额医疗费用" in body(client.get(url))
    assert names({"q": "王新"}) == ["王新华"]
    assert names({"q": "wxh"}) == ["王新华"]
    assert names({"q": "LS"}) == ["李四"]
    assert names({"q": li[-4:]}) == ["李四"]
    assert names({"q": lead_named("赵六").lead_number}) == ["赵六"]
    assert names({"street": world["street_b"].code}) == ["赵六"]
    assert names({"committee": world["committees_a"][1].pk}) == ["李四"]
    assert names({"source": medical.pk}) == ["王新华"]
    # The status: open by default (also when asked for), closed ones on demand.
    Lead.objects.filter(name="赵六").update(
        status=LeadStatus.UNREACHABLE, closed_on=TODAY, close_reason="电话停机"
    )
    assert sorted(names()) == sorted(["王新华", "李四"])
    assert sorted(names({"status": "open"})) == sorted(["王新华", "李四"])
    assert names({"status": "closed"}) == ["赵六"]
    assert names({"status": LeadStatus.UNREACHABLE}) == ["赵六"]
    assert names({"status": LeadStatus.ENROLLED}) == []
    assert sorted(names({"status": "all"})) == sorted(["王新华", "李四", "赵六"])
    # The day found, as the figures link to it.
    Lead.objects.filter(name="李四").update(found_on=TODAY - datetime.timedelta(days=40))
    month_ago = (TODAY - datetime.timedelta(days=30)).isoformat()
    assert sorted(names({"found_from": month_ago})) == ["王新华"]
    assert names({"found_to": month_ago}) == ["李四"]
    assert names({"overdue": "1"}) == ["李四"]
    # Street managers have no street filter and see their street only.
    as_user(client, world["manager_a"])
    assert sorted(names()) == sorted(["王新华", "李四"])
    assert names({"q": zhao[-4:]}) == []
    assert names({"source": medical.pk}) == ["王新华"]


def test_overdue_leads_are_marked_red(client, world):
    old_day = TODAY - datetime.timedelta(days=20)
    add_leads(world, [row("老线索", id_number(), COMMITTEE_A)], today=old_day)
    add_leads(world, [row("新线索", id_number(), COMMITTEE_A)])
    as_user(client, world["manager_a"])
    url = reverse("cases:leads")
    text = body(client.get(url))
    old_row = text.split(">老线索</a>")[0].rsplit("<tr", 1)[1]
    new_row = text.split(">新线索</a>")[0].rsplit("<tr", 1)[1]
    assert 'class="order-overdue"' in old_row
    assert 'class="order-overdue"' not in new_row
    assert text.count('data-testid="lead-overdue"') == 1
    assert "1 条线索已超期未办结" in text
    assert "20 天" in text
    overdue_only = body(client.get(url, {"overdue": "on"}))
    assert ">老线索</a>" in overdue_only and ">新线索</a>" not in overdue_only
    page = body(client.get(detail_url(lead_named("老线索"))))
    assert "超期" in page and "已发现 20 天" in page


def test_every_view_of_a_lead_is_recorded_in_the_audit_trail(client, world):
    add_leads(world, [row("王新华", id_number(), COMMITTEE_A)])
    lead = lead_named("王新华")
    as_user(client, world["manager_a"])
    client.get(reverse("cases:leads"))
    assert not AccessRecord.objects.exists()
    for expected in (1, 2):
        client.get(detail_url(lead))
        records = AccessRecord.objects.filter(
            user=world["manager_a"], action=AccessAction.VIEW_SENSITIVE, object_id=str(lead.pk)
        )
        assert records.count() == expected
    record = records.first()
    assert record.detail == "查看政策找人线索"
    assert record.street == world["street_a"]


@pytest.mark.parametrize("user_key", ["bureau", "manager_a", "advisor_a"])
def test_the_list_runs_a_fixed_number_of_queries(client, world, user_key):
    medical = make_source(world["district"], "区医保局·高额医疗费用")

    def add(count, start):
        rows = [
            row(f"人员{start + n}", id_number(), COMMITTEE_A, "", f"情况{n}") for n in range(count)
        ]
        add_leads(world, rows)
        add_leads(world, rows[:2], source=medical)

    as_user(client, world[user_key])
    url = reverse("cases:leads")
    add(3, 0)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url)
    assert body(response).count('data-testid="lead-row"') == 3
    add(27, 100)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert body(response).count('data-testid="lead-row"') == 30
    assert len(many) == len(few)
    with CaptureQueriesContext(connection) as searched:
        client.get(url, {"q": "rywu", "source": medical.pk, "overdue": "on"})
    assert len(searched) <= len(few)


def test_no_lead_page_prints_a_full_id_number(client, world):
    numbers = [id_number(), id_number(male=True), id_number()]
    add_leads(
        world,
        [
            row("王新华", numbers[0], COMMITTEE_A, "华阳路1号", "二级"),
            row("李四", numbers[1], COMMITTEE_A2),
            row("无址者", numbers[2], "", "天山路999号"),
        ],
    )
    wang = lead_named("王新华")
    for user_key in ("bureau", "manager_a", "advisor_a"):
        as_user(client, world[user_key])
        responses = [client.get(reverse("cases:leads"), {"status": "all"})]
        for lead in Lead.objects.visible_to(world[user_key]):
            responses.append(client.get(detail_url(lead)))
        # A refused form shows the page again with what was typed.
        responses.append(client.post(action_url("lead_close", wang), {"close-status": "x"}))
        for response in responses:
            assert response.status_code == 200
            assert_no_full_id_number(response)
            for number in numbers:
                assert number not in body(response)
