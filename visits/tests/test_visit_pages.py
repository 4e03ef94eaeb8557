"""The visit record pages, driven through the browser's requests: the list and its filters,
the full visit form with the needs it raised, a visit's page, changing and withdrawing a
visit, the person's file, two streets' scope and fixed query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases.choices import NeedCategory, NeedSource, NeedStatus, Urgency
from cases.models import Need, Recipient
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point, make_two_streets, make_user
from visits import coverage
from visits.choices import CheckLevel, VisitMethod, VisitResult
from visits.models import Visit, VisitNeed, policy_for
from visits.tests.factories import make_visit

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
FIRST = TODAY.replace(day=1)
LIST_URL = reverse("visits:list")
CREATE_URL = reverse("visits:create")


@pytest.fixture
def world():
    """Two streets. Street A: advisors 甲顾问 (the login advisor_a) and 丁顾问, the person
    王秀英; street B: 乙顾问 (advisor_b) and 赵美兰. Everyone is current since 2025."""
    w = make_two_streets()
    w["point_a"] = committee_point(w["committees_a"][0])
    w["point_b"] = committee_point(w["committees_b"][0])
    w["gw_a"] = make_advisor(w["street_a"], [w["point_a"]], name="甲顾问", user=w["advisor_a"])
    w["gw_a2"] = make_advisor(w["street_a"], [w["point_a"]], name="丁顾问")
    w["gw_b"] = make_advisor(w["street_b"], [w["point_b"]], name="乙顾问", user=w["advisor_b"])
    since = datetime.date(2025, 1, 1)
    w["wang"] = make_recipient(
        w["committees_a"][0], name="王秀英", advisor=w["gw_a"], current_from=since
    )
    w["zhao"] = make_recipient(
        w["committees_b"][0], name="赵美兰", advisor=w["gw_b"], current_from=since
    )
    return w


def body(response):
    return response.content.decode()


def visit_payload(**overrides):
    data = {
        "visited_on": TODAY.isoformat(),
        "visited_at": "09:30",
        "method": VisitMethod.HOME,
        "result": VisitResult.COMPLETED,
        "findings": "老人身体尚可,独自在家",
        "living": CheckLevel.NORMAL,
        "health": CheckLevel.ATTENTION,
        "housing": "",
        "mood": "",
        "follow_up_note": "",
        "needs-TOTAL_FORMS": "3",
        "needs-INITIAL_FORMS": "0",
        "needs-MIN_NUM_FORMS": "0",
        "needs-MAX_NUM_FORMS": "3",
    }
    for index in range(3):
        data[f"needs-{index}-category"] = ""
        data[f"needs-{index}-urgency"] = Urgency.NORMAL
        data[f"needs-{index}-description"] = ""
    data.update(overrides)
    return data


def create_url(person, **params):
    from urllib.parse import urlencode

    return f"{CREATE_URL}?{urlencode({'recipient': person.pk, **params})}"


# Who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["advisor_a", "manager_a", "bureau"])
def test_the_list_shows_the_visits_of_the_users_scope_only(client, world, who):
    make_visit(world["wang"], world["gw_a"], TODAY, findings="王的走访")
    make_visit(world["zhao"], world["gw_b"], TODAY, findings="赵的走访")
    client.force_login(world[who])

    response = client.get(LIST_URL)

    assert response.status_code == 200
    page = body(response)
    assert "王秀英" in page
    if who == "bureau":
        assert "赵美兰" in page
    else:
        assert "赵美兰" not in page and "江苏路" not in page


def test_another_streets_visit_answers_404_on_every_page(client, world):
    theirs = make_visit(world["zhao"], world["gw_b"], TODAY)
    for who in ("advisor_a", "manager_a"):
        client.force_login(world[who])
        for name in ("detail", "edit", "withdraw"):
            url = reverse(f"visits:{name}", args=[theirs.pk])
            assert client.get(url).status_code == 404, (who, name)
            assert client.post(url, {"reason": "错了"}).status_code == 404, (who, name)
    assert client.get(create_url(world["zhao"])).status_code == 404
    theirs.refresh_from_db()
    assert theirs.withdrawn_at is None


def test_roles_without_visits_get_a_chinese_403(client, world):
    client.force_login(world["sysadmin"])

    response = client.get(LIST_URL)

    assert response.status_code == 403
    assert "无权查看走访记录" in body(response)


def test_an_advisor_login_without_its_roster_record_cannot_record(client, world):
    lone = make_user("advisor_lone", "advisor", stations=[world["point_a"]])
    client.force_login(lone)

    response = client.get(create_url(world["wang"]))

    assert response.status_code == 403
    assert "尚未关联顾问档案" in body(response)


# The list -------------------------------------------------------------------------------------


def test_the_list_filters_by_result_person_month_search_and_withdrawn(client, world):
    wang, gw = world["wang"], world["gw_a"]
    li = make_recipient(world["committees_a"][1], name="李建国", advisor=gw)
    done = make_visit(wang, gw, TODAY, findings="完成")
    failed = make_visit(li, gw, TODAY, result=VisitResult.NOBODY_HOME)
    old = make_visit(wang, gw, datetime.date(2025, 3, 10))
    gone = make_visit(wang, gw, TODAY, method=VisitMethod.PHONE)
    Visit.objects.filter(pk=gone.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=world["manager_a"], withdraw_reason="重复登记"
    )
    client.force_login(world["manager_a"])

    def shown(**params):
        response = client.get(LIST_URL, params)
        assert response.status_code == 200
        return {visit.pk for visit in response.context["page_obj"]}

    assert shown() == {done.pk, failed.pk, old.pk}
    assert shown(result="failed") == {failed.pk}
    assert shown(result="completed") == {done.pk, old.pk}
    assert shown(recipient=wang.pk) == {done.pk, old.pk}
    assert shown(month="2025-03") == {old.pk}
    assert shown(date_from="2025-03-01", date_to="2025-03-31") == {old.pk}
    assert shown(q="ljg") == {failed.pk}
    assert shown(q=wang.id_tail) == {done.pk, old.pk}
    assert shown(withdrawn="on") == {done.pk, failed.pk, old.pk, gone.pk}
    assert shown(method=VisitMethod.PHONE, withdrawn="on") == {gone.pk}
    page = body(client.get(LIST_URL, {"result": "failed"}))
    assert "chip-warning" in page and "无人在家" in page


def test_a_bad_filter_leaves_the_list_whole_and_says_so(client, world):
    make_visit(world["wang"], world["gw_a"], TODAY)
    client.force_login(world["manager_a"])

    response = client.get(LIST_URL, {"month": "2026-13", "recipient": "abc"})

    assert response.status_code == 200
    assert response.context["page_obj"].paginator.count == 1
    assert "月份请写成 2026-03 的格式" in body(response)


def test_the_list_shows_needs_and_follow_up_states(client, world):
    wang, gw = world["wang"], world["gw_a"]
    asked = make_visit(wang, gw, TODAY, follow_up_required=True, follow_up_by=TODAY)
    VisitNeed.objects.create(
        visit=asked,
        need=Need.objects.create(
            recipient=wang,
            category=NeedCategory.MEDICAL,
            description="看病",
            source=NeedSource.VISIT,
            found_on=TODAY,
            urgency=Urgency.NORMAL,
        ),
    )
    client.force_login(world["manager_a"])

    response = client.get(LIST_URL)

    row = response.context["page_obj"][0]
    assert row.need_count == 1
    assert "待跟进" in body(response)


def _bulk_visits(world, start, count):
    people = [
        make_recipient(
            world["committees_a"][index % 2], name=f"批量{start + index}", advisor=world["gw_a"]
        )
        for index in range(count)
    ]
    Visit.objects.bulk_create(
        Visit(
            visit_number=f"ZF{world['street_a'].code}{start + index:07d}",
            recipient=person,
            advisor=world["gw_a"],
            visited_on=TODAY - datetime.timedelta(days=index % 20),
            method=VisitMethod.HOME,
            result=VisitResult.NOBODY_HOME if index % 3 else VisitResult.COMPLETED,
            follow_up_required=index % 2 == 0,
            follow_up_by=TODAY if index % 2 == 0 else None,
        )
        for index, person in enumerate(people)
    )


@pytest.mark.parametrize("who", ["manager_a", "bureau", "advisor_a"])
def test_the_list_runs_the_same_queries_for_5_and_60_visits(client, world, who):
    client.force_login(world[who])
    _bulk_visits(world, 0, 5)
    params = {"q": "批量"} if who != "advisor_a" else {}
    client.get(LIST_URL, params)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(LIST_URL, params).status_code == 200
    _bulk_visits(world, 5, 55)
    with CaptureQueriesContext(connection) as large:
        response = client.get(LIST_URL, params)
    assert response.context["page_obj"].paginator.count == 60
    assert len(response.context["page_obj"]) == 50
    assert len(small) == len(large), [q["sql"] for q in large]


# Recording ---------------------------------------------------------------------------------


def test_an_advisor_records_a_visit_with_two_needs_in_one_step(client, world):
    wang = world["wang"]
    client.force_login(world["advisor_a"])
    page = client.get(create_url(wang))
    assert page.status_code == 200
    assert "走访顾问" not in [field.label for field in page.context["form"]]  # themselves

    response = client.post(
        create_url(wang),
        visit_payload(
            **{
                "needs-0-category": NeedCategory.MEDICAL,
                "needs-0-urgency": Urgency.URGENT,
                "needs-0-description": "需要陪同就医",
                "needs-2-category": NeedCategory.LIVING,
                "needs-2-description": "冬季取暖",
            }
        ),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == wang.get_absolute_url()
    assert "已登记走访" in body(response)
    visit = Visit.objects.get()
    assert (visit.recipient, visit.advisor, visit.visited_on) == (wang, world["gw_a"], TODAY)
    assert visit.visited_at == datetime.time(9, 30)
    assert (visit.living, visit.health, visit.housing) == ("normal", "attention", "")
    assert visit.recorded_by == world["advisor_a"]
    needs = Need.objects.filter(raised_in_visits=visit).order_by("description")
    assert [(n.category, n.urgency, n.source, n.found_on, n.status) for n in needs] == [
        (NeedCategory.LIVING, Urgency.NORMAL, NeedSource.VISIT, TODAY, NeedStatus.TO_ASSESS),
        (NeedCategory.MEDICAL, Urgency.URGENT, NeedSource.VISIT, TODAY, NeedStatus.TO_ASSESS),
    ]
    assert visit.get_absolute_url() in body(response)


def test_the_method_defaults_to_the_advisors_last_one_and_next_leads_back(client, world):
    wang = world["wang"]
    make_visit(wang, world["gw_a"], TODAY, method=VisitMethod.PHONE)
    client.force_login(world["advisor_a"])

    page = client.get(create_url(wang, next="/visits/desk/"))
    assert page.context["form"]["method"].value() == VisitMethod.PHONE
    assert page.context["form"]["visited_on"].value() == TODAY

    response = client.post(
        create_url(wang), visit_payload(method=VisitMethod.PHONE, next="/visits/desk/")
    )
    assert response.status_code == 302 and response["Location"] == "/visits/desk/"
    hostile = client.post(
        create_url(wang), visit_payload(method=VisitMethod.VIDEO, next="https://evil.example/")
    )
    assert hostile["Location"] == wang.get_absolute_url()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"visited_on": (TODAY + datetime.timedelta(days=1)).isoformat()}, "不能晚于今天"),
        ({"visited_on": "2025-01-05"}, "更早的走访请由街镇管理员补录"),
        ({"follow_up_required": "on", "follow_up_by": ""}, "需要跟进时请填写跟进期限"),
        ({"needs-0-category": NeedCategory.MEDICAL}, "请填写需求描述"),
        ({"needs-1-description": "只写了描述"}, "请选择需求类别"),
        (
            {
                "result": VisitResult.REFUSED,
                "needs-0-category": NeedCategory.MEDICAL,
                "needs-0-description": "看病",
            },
            "未成功的走访不能登记发现的需求",
        ),
        ({"method": "teleport"}, "选择一个有效的选项"),
    ],
)
def test_a_refused_visit_says_why_in_chinese_and_writes_nothing(client, world, overrides, message):
    client.force_login(world["advisor_a"])

    response = client.post(create_url(world["wang"]), visit_payload(**overrides))

    assert response.status_code == 200
    assert message in body(response)
    assert "走访未登记" in body(response)
    assert not Visit.objects.exists()
    assert not Need.objects.exists()


def test_a_street_manager_records_a_paper_visit_for_an_advisor_of_the_street(client, world):
    wang = world["wang"]
    client.force_login(world["manager_a"])
    page = client.get(create_url(wang))
    offered = {advisor.name for advisor in page.context["form"].fields["advisor"].queryset}
    assert offered == {"甲顾问", "丁顾问"}  # the street's active advisors, nobody of B

    long_ago = datetime.date(2025, 2, 3)
    response = client.post(
        create_url(wang), visit_payload(advisor=world["gw_a2"].pk, visited_on=long_ago.isoformat())
    )

    assert response.status_code == 302
    visit = Visit.objects.get()
    assert (visit.advisor, visit.visited_on, visit.recorded_by) == (
        world["gw_a2"],
        long_ago,
        world["manager_a"],
    )
    refused = client.post(create_url(wang), visit_payload(advisor=world["gw_b"].pk))
    assert refused.status_code == 200
    assert Visit.objects.count() == 1


def test_without_a_person_the_form_offers_the_users_current_recipients(client, world):
    client.force_login(world["advisor_a"])
    page = client.get(CREATE_URL)
    offered = list(page.context["form"].fields["recipient"].queryset)
    assert offered == [world["wang"]]

    response = client.post(CREATE_URL, visit_payload(recipient=world["wang"].pk))
    assert response.status_code == 302
    outsider = client.post(CREATE_URL, visit_payload(recipient=world["zhao"].pk))
    assert outsider.status_code == 200
    assert Visit.objects.count() == 1


def test_beyond_a_select_the_form_asks_for_the_file_number(client, world, monkeypatch):
    monkeypatch.setattr("visits.forms.RECIPIENT_SELECT_LIMIT", 0)
    client.force_login(world["bureau"])
    page = client.get(CREATE_URL)
    assert "recipient_number" in page.context["form"].fields
    assert "recipient" not in page.context["form"].fields

    unknown = client.post(
        CREATE_URL, visit_payload(recipient_number="DA999", advisor=world["gw_a"].pk)
    )
    assert unknown.status_code == 200 and "找不到档案号为 DA999 的人员" in body(unknown)
    wrong_street = client.post(
        CREATE_URL,
        visit_payload(recipient_number=world["wang"].file_number, advisor=world["gw_b"].pk),
    )
    assert "走访顾问须是该对象所在街镇的顾问" in body(wrong_street)
    assert not Visit.objects.exists()
    done = client.post(
        CREATE_URL,
        visit_payload(recipient_number=world["wang"].file_number.lower(), advisor=world["gw_a"].pk),
    )
    assert done.status_code == 302
    assert Visit.objects.get().recipient == world["wang"]


def test_a_successful_visit_completes_an_earlier_follow_up(client, world):
    wang = world["wang"]
    asked = make_visit(
        wang,
        world["gw_a"],
        TODAY,
        follow_up_required=True,
        follow_up_by=TODAY,
        follow_up_note="复查",
    )
    client.force_login(world["advisor_a"])

    client.post(create_url(wang), visit_payload())

    later = Visit.objects.exclude(pk=asked.pk).get()
    asked.refresh_from_db()
    assert asked.followed_up_by == later
    detail = body(client.get(asked.get_absolute_url()))
    assert "已跟进" in detail and later.get_absolute_url() in detail
    assert asked.get_absolute_url() in body(client.get(later.get_absolute_url()))


# A visit --------------------------------------------------------------------------------------


def test_the_visit_page_shows_needs_a_late_entry_and_who_recorded_it(client, world):
    wang = world["wang"]
    visit = make_visit(
        wang,
        world["gw_a"],
        TODAY - datetime.timedelta(days=9),
        recorded_by=world["manager_a"],
        findings="屋顶漏水",
        housing=CheckLevel.RISK,
    )
    need = Need.objects.create(
        recipient=wang,
        category=NeedCategory.HOUSING,
        description="修缮屋顶",
        source=NeedSource.VISIT,
        found_on=visit.visited_on,
        urgency=Urgency.SOON,
    )
    VisitNeed.objects.create(visit=visit, need=need)
    client.force_login(world["manager_a"])

    page = body(client.get(visit.get_absolute_url()))

    assert "屋顶漏水" in page and "有风险" in page
    assert reverse("cases:need_detail", args=[need.pk]) in page
    assert "补录" in page and "走访后 9 天录入" in page
    assert "manager_a" in page
    assert 'data-testid="visit-edit"' in page


def test_an_advisor_sees_no_buttons_on_another_advisors_visit_and_cannot_change_it(client, world):
    theirs = make_visit(world["wang"], world["gw_a2"], TODAY)
    client.force_login(world["advisor_a"])

    page = body(client.get(theirs.get_absolute_url()))
    assert 'data-testid="visit-edit"' not in page and 'data-testid="visit-withdraw"' not in page
    edit = client.post(reverse("visits:edit", args=[theirs.pk]), visit_payload(findings="改一下"))
    withdraw = client.post(reverse("visits:withdraw", args=[theirs.pk]), {"reason": "错了"})

    assert edit.status_code == 403 and withdraw.status_code == 403
    assert "本人在补录期限内" in body(edit)
    theirs.refresh_from_db()
    assert theirs.findings == "" and theirs.withdrawn_at is None


def test_an_advisor_changes_their_own_visit(client, world):
    visit = make_visit(world["wang"], world["gw_a"], TODAY, findings="初记")
    client.force_login(world["advisor_a"])
    url = reverse("visits:edit", args=[visit.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"]["findings"].value() == "初记"
    assert "need_rows" not in page.context

    response = client.post(
        url,
        visit_payload(
            findings="补充:需要复查",
            follow_up_required="on",
            follow_up_by=(TODAY + datetime.timedelta(days=7)).isoformat(),
            follow_up_note="复查血压",
        ),
    )

    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.findings == "补充:需要复查"
    assert (visit.follow_up_required, visit.follow_up_note) == (True, "复查血压")
    refused = client.post(url, visit_payload(follow_up_required="on", follow_up_by=""))
    assert refused.status_code == 200 and "需要跟进时请填写跟进期限" in body(refused)
    visit.refresh_from_db()
    assert visit.follow_up_note == "复查血压"


def test_withdrawing_keeps_the_row_and_takes_it_out_of_the_list_and_the_month(client, world):
    wang = world["wang"]
    visit = make_visit(wang, world["gw_a"], TODAY)
    people = Recipient.objects.filter(pk=wang.pk)
    policy = policy_for(wang.street.district_id)
    assert coverage.month_figures(people, FIRST, policy).visited == 1
    client.force_login(world["advisor_a"])
    url = reverse("visits:withdraw", args=[visit.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200 and "撤销原因" in body(confirm)
    refused = client.post(url, {"reason": "   "})
    assert refused.status_code == 200 and "撤销原因" in body(refused)
    visit.refresh_from_db()
    assert visit.withdrawn_at is None

    response = client.post(url, {"reason": "重复登记"}, follow=True)

    visit.refresh_from_db()
    assert visit.withdrawn_at is not None
    assert (visit.withdrawn_by, visit.withdraw_reason) == (world["advisor_a"], "重复登记")
    assert "已撤销走访记录" in body(response)
    assert "重复登记" in body(response) and "不计入每月走访" in body(response)
    assert coverage.month_figures(people, FIRST, policy).visited == 0
    assert client.get(LIST_URL).context["page_obj"].paginator.count == 0
    listed = client.get(LIST_URL, {"withdrawn": "on"})
    assert listed.context["page_obj"].paginator.count == 1
    assert "已撤销" in body(listed)
    again = client.get(reverse("visits:edit", args=[visit.pk]))
    assert again.status_code == 403


# The person's file -----------------------------------------------------------------------


def test_the_file_lists_the_newest_visits_marks_withdrawn_ones_and_offers_to_record(client, world):
    wang = world["wang"]
    kept = make_visit(wang, world["gw_a"], TODAY, findings="最近一次")
    gone = make_visit(wang, world["gw_a"], TODAY)
    Visit.objects.filter(pk=gone.pk).update(
        withdrawn_at=timezone.now(), withdrawn_by=world["manager_a"], withdraw_reason="错了"
    )
    client.force_login(world["advisor_a"])

    page = body(client.get(wang.get_absolute_url()))

    assert kept.get_absolute_url() in page and gone.get_absolute_url() in page
    assert "已撤销" in page
    assert "共 1 次走访" in page
    assert f"{LIST_URL}?recipient={wang.pk}" in page
    assert f"{CREATE_URL}?recipient={wang.pk}" in page


def test_the_file_runs_the_same_queries_for_3_and_30_visits(client, world):
    wang = world["wang"]
    client.force_login(world["manager_a"])

    def add(count):
        for index in range(count):
            make_visit(
                wang,
                world["gw_a"],
                TODAY - datetime.timedelta(days=index),
                method=VisitMethod.PHONE,
            )

    add(3)
    url = wang.get_absolute_url()
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add(27)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert "共 30 次走访" in body(response)
    assert len(response.context["visits"]) == 10
    assert len(small) == len(large), [q["sql"] for q in large]


@pytest.mark.postgres
def test_the_visit_page_shows_who_changed_what(client, world):
    visit = make_visit(world["wang"], world["gw_a"], TODAY, findings="保密的情况")
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("visits:edit", args=[visit.pk]),
        visit_payload(advisor=world["gw_a"].pk, method=VisitMethod.PHONE, findings="新的情况"),
    )
    assert response.status_code == 302

    page = body(client.get(visit.get_absolute_url()))

    history = page[page.index('id="history"') :]
    assert 'data-testid="history-event"' in history
    assert "走访方式" in history and "manager_a" in history
    assert "保密的情况" not in history and "新的情况" not in history  # findings are masked


def test_the_visit_page_says_what_trail_the_database_keeps(client, world):
    visit = make_visit(world["wang"], world["gw_a"], TODAY)
    client.force_login(world["manager_a"])
    page = body(client.get(visit.get_absolute_url()))
    history = page[page.index('id="history"') :]
    if connection.vendor == "postgresql":
        assert 'data-testid="history-event"' in history
    else:
        assert 'data-testid="no-history"' in history and "录入于" in history
