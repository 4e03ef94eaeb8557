"""The checklist pages (needs, resources, services, the four checklists), through the browser's
requests: what each role sees and may do, Chinese refusals, and fixed query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases.choices import (
    AreaLevel,
    Checklist,
    NeedCategory,
    NeedSource,
    NeedStatus,
    ResourceType,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from cases.models import ChecklistReview, Evaluation, Need, NeedResource, Resource, ServiceRecord
from cases.tests.factories import make_need, make_recipient, make_resource
from stations.tests.factories import committee_point, make_two_streets, street_station

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture
def world():
    """Two streets; in street A an advisor login linked to its Advisor at committee point A1.

    People: 王秀英 at A1 (advisor A's), 李建国 at A2 (another advisor's), 赵美兰 in street B.
    Each has a need and a service; each street has a resource, and there is a district one.
    """
    w = make_two_streets()
    point_a1 = committee_point(w["committees_a"][0])
    point_a2 = committee_point(w["committees_a"][1])
    point_b = committee_point(w["committees_b"][0])
    w["point_a1"], w["point_a2"], w["point_b"] = point_a1, point_a2, point_b
    w["station_a"] = street_station(w["street_a"])
    w["adv_a"] = make_advisor(
        w["street_a"], [point_a1, w["station_a"]], name="甲顾问", user=w["advisor_a"]
    )
    w["adv_a2"] = make_advisor(w["street_a"], [point_a2], name="乙顾问")
    w["adv_b"] = make_advisor(w["street_b"], [point_b], name="丙顾问", user=w["advisor_b"])
    w["wang"] = make_recipient(w["committees_a"][0], name="王秀英", advisor=w["adv_a"])
    w["li"] = make_recipient(w["committees_a"][1], name="李建国", advisor=w["adv_a2"])
    w["zhao"] = make_recipient(w["committees_b"][0], name="赵美兰", advisor=w["adv_b"])
    w["need_wang"] = make_need(w["wang"], description="王秀英需要助餐")
    w["need_li"] = make_need(w["li"], description="李建国需要护理")
    w["need_zhao"] = make_need(w["zhao"], description="赵美兰需要医疗救助")
    w["res_a"] = make_resource(street=w["street_a"], name="华阳爱心助餐")
    w["res_b"] = make_resource(street=w["street_b"], name="江苏路慈善超市")
    w["res_district"] = make_resource(
        district=w["district"],
        name="长宁区临时救助",
        resource_type=ResourceType.POLICY,
        legal_basis="长民〔2023〕3号",
    )
    for person, advisor, station in (
        (w["wang"], w["adv_a"], point_a1),
        (w["li"], w["adv_a2"], point_a2),
        (w["zhao"], w["adv_b"], point_b),
    ):
        w[f"service_{person.name}"] = ServiceRecord.objects.create(
            date=TODAY,
            advisor=advisor,
            station=station,
            recipient=person,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content=f"走访{person.name}",
        )
    return w


def body(response):
    return response.content.decode()


# Scoping ------------------------------------------------------------------------------------


def test_each_street_sees_its_own_lists_only(client, world):
    client.force_login(world["manager_a"])
    needs = body(client.get(reverse("cases:needs")))
    assert "王秀英" in needs and "李建国" in needs and "赵美兰" not in needs
    resources = body(client.get(reverse("cases:resources")))
    assert "华阳爱心助餐" in resources and "长宁区临时救助" in resources
    assert "江苏路慈善超市" not in resources
    services_page = body(client.get(reverse("cases:services")))
    assert "王秀英" in services_page and "赵美兰" not in services_page

    for name, pk in (
        ("cases:need_detail", world["need_zhao"].pk),
        ("cases:need_create", world["zhao"].pk),
        ("cases:resource_detail", world["res_b"].pk),
        ("cases:resource_edit", world["res_b"].pk),
        ("cases:service_detail", world["service_赵美兰"].pk),
    ):
        assert client.get(reverse(name, args=[pk])).status_code == 404, name
        assert client.post(reverse(name, args=[pk])).status_code == 404, name
    code_b = world["street_b"].code
    assert client.get(reverse("cases:street_checklists", args=[code_b])).status_code == 404
    response = client.post(reverse("cases:checklist_review", args=[code_b]), {"checklist": "needs"})
    assert response.status_code == 404
    assert not ChecklistReview.objects.exists()
    # A prefill naming another street's person is 404 too.
    url = reverse("cases:service_create") + f"?recipient={world['zhao'].pk}"
    assert client.get(url).status_code == 404


def test_the_bureau_sees_both_streets_and_filters_by_street(client, world):
    client.force_login(world["bureau"])
    needs = body(client.get(reverse("cases:needs")))
    assert "王秀英" in needs and "赵美兰" in needs
    needs = body(client.get(reverse("cases:needs"), {"street": world["street_b"].code}))
    assert "赵美兰" in needs and "王秀英" not in needs
    resources = body(client.get(reverse("cases:resources"), {"street": world["street_a"].code}))
    # A street's resource list: its own and the district's.
    assert "华阳爱心助餐" in resources and "长宁区临时救助" in resources
    assert "江苏路慈善超市" not in resources


def test_an_advisor_sees_the_needs_and_services_of_their_stations(client, world):
    client.force_login(world["advisor_a"])
    needs = body(client.get(reverse("cases:needs")))
    assert "王秀英" in needs and "李建国" not in needs and "赵美兰" not in needs
    services_page = body(client.get(reverse("cases:services")))
    assert "走访王秀英" not in services_page  # content is not listed, the person is
    assert "王秀英" in services_page
    assert "李建国" not in services_page and "赵美兰" not in services_page
    assert client.get(reverse("cases:need_detail", args=[world["need_li"].pk])).status_code == 404
    service_li = world["service_李建国"]
    assert client.get(reverse("cases:service_detail", args=[service_li.pk])).status_code == 404
    # Advisors keep no list of a street: the four-checklists page is the keepers'.
    code_a = world["street_a"].code
    assert client.get(reverse("cases:street_checklists", args=[code_a])).status_code == 403
    assert client.get(reverse("cases:checklists")).status_code == 200


def test_roles_without_personal_data_get_403_or_404(client, world):
    client.force_login(world["sysadmin"])
    for name in ("needs", "resources", "services", "service_create", "resource_create"):
        assert client.get(reverse(f"cases:{name}")).status_code == 403, name
    assert client.get(reverse("cases:checklists")).status_code == 403
    assert client.get(reverse("cases:need_detail", args=[world["need_wang"].pk])).status_code == 404


def test_filters_narrow_the_needs_list(client, world):
    make_need(world["wang"], description="王秀英住房修缮", category=NeedCategory.HOUSING)
    make_need(world["wang"], status=NeedStatus.RESOLVED, description="王秀英已办结的需求")
    client.force_login(world["manager_a"])
    url = reverse("cases:needs")
    page = body(client.get(url, {"category": NeedCategory.HOUSING}))
    assert "王秀英住房修缮" in page and "王秀英需要助餐" not in page
    page = body(client.get(url, {"state": "closed"}))
    assert "王秀英已办结的需求" in page and "王秀英需要助餐" not in page
    page = body(client.get(url, {"committee": world["committees_a"][1].pk}))
    assert "李建国" in page and "王秀英" not in page
    page = body(client.get(url, {"q": "wxy"}))  # pinyin initials of 王秀英
    assert "王秀英" in page and "李建国" not in page
    page = body(client.get(url, {"advisor": world["adv_a2"].pk}))
    assert "李建国" in page and "王秀英" not in page
    # A committee of another street is not a choice: the list stays the user's, unfiltered.
    page = body(client.get(url, {"committee": world["committees_b"][0].pk}))
    assert "赵美兰" not in page and "王秀英" in page


# Needs ----------------------------------------------------------------------------------------


def test_an_advisor_adds_a_need_changes_its_status_and_links_a_resource(client, world):
    client.force_login(world["advisor_a"])
    url = reverse("cases:need_create", args=[world["wang"].pk])
    form_page = body(client.get(url))
    assert "甲顾问" in form_page and TODAY.isoformat() in form_page
    response = client.post(
        url,
        {
            "category": NeedCategory.LIVING,
            "description": "  需要送餐上门  ",
            "source": NeedSource.VISIT,
            "found_on": TODAY.isoformat(),
            "urgency": Urgency.URGENT,
            "advisor": "",
        },
    )
    need = Need.objects.get(description="需要送餐上门")
    assert response["Location"] == reverse("cases:need_detail", args=[need.pk])
    assert need.status == NeedStatus.TO_ASSESS and need.recipient == world["wang"]
    detail_url = reverse("cases:need_detail", args=[need.pk])

    # Not an allowed next step: refused, nothing changes.
    response = client.post(detail_url, {"action": "status", "status-status": "linked"})
    assert response.status_code == 200
    need.refresh_from_db()
    assert need.status == NeedStatus.TO_ASSESS
    # 无法解决 needs a reason.
    response = client.post(detail_url, {"action": "status", "status-status": "unresolvable"})
    assert "无法解决时请说明原因" in body(response)
    need.refresh_from_db()
    assert need.status == NeedStatus.TO_ASSESS

    response = client.post(detail_url, {"action": "status", "status-status": "to_link"})
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == NeedStatus.TO_LINK

    # The resources offered: the street's and the district's, valid today.
    page = body(client.get(detail_url))
    assert "华阳爱心助餐" in page and "长宁区临时救助" in page
    assert "江苏路慈善超市" not in page
    response = client.post(
        detail_url, {"action": "link", "link-resource": world["res_district"].pk}
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert need.status == NeedStatus.LINKED
    assert list(need.resources.all()) == [world["res_district"]]
    # The resource's page shows the need it met.
    page = body(client.get(reverse("cases:resource_detail", args=[world["res_district"].pk])))
    assert need.need_number in page and "王秀英" in page

    response = client.post(
        detail_url,
        {"action": "status", "status-status": "unresolvable", "status-outcome": "本人拒绝"},
    )
    need.refresh_from_db()
    assert (need.status, need.outcome, need.closed_on) == (
        NeedStatus.UNRESOLVABLE,
        "本人拒绝",
        timezone.localdate(),
    )
    assert "需求已办结" in body(client.get(detail_url))


def test_an_expired_or_another_streets_resource_cannot_be_linked(client, world):
    expired = make_resource(
        street=world["street_a"], name="已过期的助学金", valid_to=TODAY - datetime.timedelta(days=1)
    )
    client.force_login(world["bureau"])
    url = reverse("cases:need_detail", args=[world["need_wang"].pk])
    page = body(client.get(url))
    assert "已过期的助学金" not in page and "江苏路慈善超市" not in page
    for resource in (expired, world["res_b"]):
        response = client.post(url, {"action": "link", "link-resource": resource.pk})
        assert response.status_code == 200
        assert "选择一个有效的选项" in body(response)
    assert not NeedResource.objects.exists()


def test_the_need_page_lists_its_services_and_offers_to_record_one(client, world):
    service = world["service_王秀英"]
    ServiceRecord.objects.filter(pk=service.pk).update(need=world["need_wang"])
    client.force_login(world["manager_a"])
    page = body(client.get(reverse("cases:need_detail", args=[world["need_wang"].pk])))
    assert service.record_number in page
    assert f"{reverse('cases:service_create')}?need={world['need_wang'].pk}" in page


# Resources ------------------------------------------------------------------------------------


def resource_payload(**overrides):
    data = {
        "area_level": AreaLevel.STREET,
        "name": "助老服务项目",
        "resource_type": ResourceType.PROJECT,
        "provider": "华阳社工站",
        "contact": "021-62000000",
        "offers": "助餐、助浴",
        "eligibility": "独居老人",
        "capacity": "30",
        "valid_from": "",
        "valid_to": "",
        "legal_basis": "",
    }
    data.update(overrides)
    return data


def test_a_street_manager_creates_resources_of_their_street_only(client, world):
    client.force_login(world["manager_a"])
    url = reverse("cases:resource_create")
    response = client.post(url, resource_payload())
    resource = Resource.objects.get(name="助老服务项目")
    assert response["Location"] == reverse("cases:resource_detail", args=[resource.pk])
    assert (resource.area_level, resource.street) == (AreaLevel.STREET, world["street_a"])

    before = Resource.objects.count()
    # Not district-wide ...
    response = client.post(url, resource_payload(name="全区项目", area_level=AreaLevel.DISTRICT))
    assert response.status_code == 200 and "选择一个有效的选项" in body(response)
    # ... nor of another street (a street field is ignored, the street is the manager's) ...
    response = client.post(url, resource_payload(name="越界项目", street=world["street_b"].pk))
    assert Resource.objects.get(name="越界项目").street == world["street_a"]
    # ... nor of another street's committee.
    response = client.post(
        url,
        resource_payload(
            name="越界居委项目",
            area_level=AreaLevel.COMMITTEE,
            committee=world["committees_b"][0].pk,
        ),
    )
    assert response.status_code == 200 and "选择一个有效的选项" in body(response)
    assert not Resource.objects.filter(name__in=["全区项目", "越界居委项目"]).exists()
    assert Resource.objects.count() == before + 1

    # A committee resource of their own street.
    client.post(
        url,
        resource_payload(
            name="华一居委助浴",
            area_level=AreaLevel.COMMITTEE,
            committee=world["committees_a"][0].pk,
        ),
    )
    committee_resource = Resource.objects.get(name="华一居委助浴")
    assert committee_resource.street == world["street_a"]
    assert committee_resource.committee == world["committees_a"][0]


def test_a_policy_needs_its_legal_basis_in_chinese(client, world):
    client.force_login(world["bureau"])
    response = client.post(
        reverse("cases:resource_create"),
        resource_payload(area_level=AreaLevel.DISTRICT, resource_type=ResourceType.POLICY),
    )
    assert "政策类资源请填写政策依据" in body(response)
    assert not Resource.objects.filter(name="助老服务项目").exists()


def test_district_wide_resources_are_the_bureaus_to_keep(client, world):
    shared = world["res_district"]
    client.force_login(world["manager_a"])
    page = body(client.get(reverse("cases:resource_detail", args=[shared.pk])))
    assert "全区资源由区民政局维护" in page
    assert reverse("cases:resource_edit", args=[shared.pk]) not in page
    response = client.post(
        reverse("cases:resource_edit", args=[shared.pk]),
        resource_payload(name="改名", resource_type=ResourceType.POLICY, legal_basis="X"),
    )
    assert response.status_code == 403
    shared.refresh_from_db()
    assert shared.name == "长宁区临时救助"
    # Their own resource they edit.
    response = client.post(
        reverse("cases:resource_edit", args=[world["res_a"].pk]),
        resource_payload(name="华阳爱心助餐(扩大)"),
    )
    assert response.status_code == 302
    world["res_a"].refresh_from_db()
    assert world["res_a"].name == "华阳爱心助餐(扩大)"
    assert world["res_a"].area_level == AreaLevel.STREET

    client.force_login(world["bureau"])
    response = client.post(
        reverse("cases:resource_create"),
        resource_payload(name="全区助学", area_level=AreaLevel.DISTRICT),
    )
    created = Resource.objects.get(name="全区助学")
    assert (created.area_level, created.street, created.district) == (
        AreaLevel.DISTRICT,
        None,
        world["district"],
    )


def test_resource_filters(client, world):
    make_resource(
        street=world["street_a"],
        name="过期的项目",
        valid_to=TODAY - datetime.timedelta(days=3),
    )
    client.force_login(world["manager_a"])
    url = reverse("cases:resources")
    page = body(client.get(url, {"validity": "invalid"}))
    assert "过期的项目" in page and "华阳爱心助餐" not in page
    page = body(client.get(url, {"validity": "valid"}))
    assert "过期的项目" not in page and "华阳爱心助餐" in page
    page = body(client.get(url, {"area_level": AreaLevel.DISTRICT}))
    assert "长宁区临时救助" in page and "华阳爱心助餐" not in page
    page = body(client.get(url, {"resource_type": ResourceType.POLICY}))
    assert "长宁区临时救助" in page and "华阳爱心助餐" not in page
    page = body(client.get(url, {"q": "助餐"}))
    assert "华阳爱心助餐" in page and "长宁区临时救助" not in page


# Services -------------------------------------------------------------------------------------


def service_payload(world, **overrides):
    data = {
        "date": TODAY.isoformat(),
        "station": world["point_a1"].pk,
        "recipient": world["wang"].file_number,
        "head_count": "",
        "item": ServiceItem.CARE,
        "task": ServiceTask.DAILY_CONTACT,
        "content": "电话问候,了解近况",
        "outcome": "情况稳定",
        "need": "",
        "resource": "",
        "step": str(ServiceStep.FOLLOW_UP),
    }
    data.update(overrides)
    return data


def test_an_advisor_records_their_own_service(client, world):
    client.force_login(world["advisor_a"])
    url = reverse("cases:service_create") + f"?need={world['need_wang'].pk}"
    page = body(client.get(url))
    assert 'name="advisor"' not in page  # the advisor is the login's own
    assert world["wang"].file_number in page
    assert "赵美兰" not in page and "李建国" not in page
    # Another advisor named in the post is ignored: the service is the login's.
    response = client.post(
        url,
        service_payload(world, advisor=world["adv_a2"].pk, need=world["need_wang"].pk),
    )
    record = ServiceRecord.objects.get(content="电话问候,了解近况")
    assert response["Location"] == reverse("cases:service_detail", args=[record.pk])
    assert record.advisor == world["adv_a"] and record.recorded_by == world["advisor_a"]
    assert (record.recipient, record.need) == (world["wang"], world["need_wang"])

    # A station they do not serve is not a choice.
    before = ServiceRecord.objects.count()
    response = client.post(url, service_payload(world, station=world["point_a2"].pk))
    assert response.status_code == 200 and "选择一个有效的选项" in body(response)
    # A person they do not see is not found.
    response = client.post(url, service_payload(world, recipient=world["zhao"].file_number))
    assert f"找不到档案号为 {world['zhao'].file_number} 的人员" in body(response)
    # Nor is a file number with a NUL character (PostgreSQL refuses those in a query).
    response = client.post(url, service_payload(world, recipient="DA\x00310105"))
    assert response.status_code == 200 and 'class="field-error"' in body(response)
    assert ServiceRecord.objects.count() == before


def test_an_advisor_login_without_an_advisor_record_cannot_record(client, world):
    world["adv_a"].user = None
    world["adv_a"].save()
    client.force_login(world["advisor_a"])
    response = client.get(reverse("cases:service_create"))
    assert response.status_code == 403
    assert "尚未关联顾问档案" in body(response)


def test_a_task_of_the_other_station_kind_is_refused_in_chinese(client, world):
    client.force_login(world["manager_a"])
    url = reverse("cases:service_create") + f"?recipient={world['wang'].pk}"
    page = body(client.get(url))
    # Both kinds of station are offered: the tasks come grouped by kind.
    assert '<optgroup label="街镇服务站">' in page and '<optgroup label="居委服务点">' in page
    response = client.post(
        url,
        service_payload(
            world,
            advisor=world["adv_a"].pk,
            station=world["station_a"].pk,
            task=ServiceTask.HOME_VISIT,
        ),
    )
    assert response.status_code == 200
    assert "“上门走访”不是街镇服务站的服务任务。" in body(response)
    response = client.post(
        url,
        service_payload(
            world,
            advisor=world["adv_a"].pk,
            station=world["point_a1"].pk,
            task=ServiceTask.POLICY_ANSWER,
        ),
    )
    assert "“政策解答”不是居委服务点的服务任务。" in body(response)
    assert not ServiceRecord.objects.filter(content="电话问候,了解近况").exists()

    # The right task at the street station, by a keeper choosing the advisor.
    response = client.post(
        url,
        service_payload(
            world,
            advisor=world["adv_a"].pk,
            station=world["station_a"].pk,
            task=ServiceTask.POLICY_ANSWER,
        ),
    )
    record = ServiceRecord.objects.get(content="电话问候,了解近况")
    assert (record.advisor, record.station) == (world["adv_a"], world["station_a"])
    # An advisor who does not serve the station is refused.
    response = client.post(
        url,
        service_payload(world, advisor=world["adv_a2"].pk, content="另一条"),
    )
    assert "乙顾问 不在该站点服务" in body(response)


def test_a_group_activity_has_a_head_count_instead_of_a_person(client, world):
    client.force_login(world["advisor_a"])
    url = reverse("cases:service_create")
    response = client.post(
        url, service_payload(world, recipient="", item=ServiceItem.PUBLICITY, content="政策宣传")
    )
    assert "集体活动请填写参加人数" in body(response)
    response = client.post(
        url,
        service_payload(
            world, recipient="", head_count="25", item=ServiceItem.PUBLICITY, content="政策宣传"
        ),
    )
    record = ServiceRecord.objects.get(content="政策宣传")
    assert record.recipient is None and record.head_count == 25
    page = body(client.get(reverse("cases:services")))
    assert "集体活动 25 人" in page


def test_staff_enter_an_evaluation_of_a_service(client, world):
    record = world["service_王秀英"]
    client.force_login(world["manager_a"])
    url = reverse("cases:service_detail", args=[record.pk])
    response = client.post(url, {"evaluation-rating": "excellent"})
    assert response.status_code == 200 and not Evaluation.objects.exists()
    response = client.post(
        url, {"evaluation-rating": "fairly_satisfied", "evaluation-comment": "希望多来几次"}
    )
    assert response.status_code == 302
    evaluation = Evaluation.objects.get()
    assert (evaluation.service, evaluation.station, evaluation.entered_by) == (
        record,
        world["point_a1"],
        world["manager_a"],
    )
    page = body(client.get(url))
    assert "基本满意" in page and "希望多来几次" in page


def test_service_filters(client, world):
    consult = ServiceRecord.objects.create(
        date=TODAY - datetime.timedelta(days=40),
        advisor=world["adv_a"],
        station=world["station_a"],
        recipient=world["li"],
        item=ServiceItem.LINKING,
        task=ServiceTask.POLICY_ANSWER,
        content="来站咨询",
        step=ServiceStep.LINK,
    )
    visit = world["service_王秀英"]
    client.force_login(world["manager_a"])
    url = reverse("cases:services")

    def listed(query):
        page = body(client.get(url, query))
        return {record.record_number for record in (consult, visit) if record.record_number in page}

    assert listed({}) == {consult.record_number, visit.record_number}
    assert listed({"station": world["station_a"].pk}) == {consult.record_number}
    earlier = (TODAY - datetime.timedelta(days=30)).isoformat()
    assert listed({"date_to": earlier}) == {consult.record_number}
    assert listed({"date_from": earlier}) == {visit.record_number}
    assert listed({"step": str(ServiceStep.LINK)}) == {consult.record_number}
    assert listed({"task": ServiceTask.HOME_VISIT}) == {visit.record_number}
    assert listed({"item": ServiceItem.LINKING}) == {consult.record_number}
    assert listed({"q": "王秀英"}) == {visit.record_number}
    assert listed({"q": "ljg"}) == {consult.record_number}
    assert listed({"advisor": world["adv_a2"].pk}) == set()
    page = body(client.get(url, {"date_from": "2026-05-01", "date_to": "2026-04-01"}))
    assert "结束日期不能早于开始日期" in page


# The four checklists -----------------------------------------------------------------------------


def test_a_street_manager_goes_to_their_streets_checklists(client, world):
    client.force_login(world["manager_a"])
    response = client.get(reverse("cases:checklists"))
    street_url = reverse("cases:street_checklists", args=[world["street_a"].code])
    assert response["Location"] == street_url
    page = body(client.get(street_url))
    assert "华阳路街道四项清单" in page and "江苏路街道" not in page
    for checklist, count in (("advisors", 2), ("needs", 2), ("resources", 2), ("services", 2)):
        assert f'data-testid="count-{checklist}">{count}<' in page, checklist
    assert "本期达标" in page  # every list was filled and changed today
    assert "复核</button>" not in page  # nothing to review: every list changed


def test_a_list_without_change_is_reviewed_and_then_passes(client, world):
    long_ago = timezone.now() - datetime.timedelta(days=400)
    Resource.objects.update(created_at=long_ago, updated_at=long_ago)
    client.force_login(world["manager_a"])
    street_url = reverse("cases:street_checklists", args=[world["street_a"].code])
    page = body(client.get(street_url))
    assert "本期未达标" in page
    assert page.count("复核</button>") == 1
    assert 'data-testid="upkeep-resources">未更新<' in page

    response = client.post(
        reverse("cases:checklist_review", args=[world["street_a"].code]),
        {"checklist": Checklist.RESOURCES, "note": "已核对,无变化"},
    )
    assert response["Location"] == street_url
    review = ChecklistReview.objects.get()
    assert (review.street, review.checklist, review.by, review.reviewed_on) == (
        world["street_a"],
        Checklist.RESOURCES,
        world["manager_a"],
        timezone.localdate(),
    )
    page = body(client.get(street_url))
    assert "本期达标" in page and 'data-testid="upkeep-resources">已复核<' in page


def test_an_empty_list_offers_no_review(client, world):
    ServiceRecord.objects.filter(station__street=world["street_b"]).delete()
    client.force_login(world["manager_b"])
    page = body(client.get(reverse("cases:street_checklists", args=[world["street_b"].code])))
    assert 'data-testid="upkeep-services">清单为空<' in page
    assert "复核不能代替登记" in page
    assert "本期未达标" in page


def test_the_bureau_sees_a_table_of_its_streets(client, world):
    ServiceRecord.objects.filter(station__street=world["street_b"]).delete()
    client.force_login(world["bureau"])
    page = body(client.get(reverse("cases:checklists")))
    assert "华阳路街道" in page and "江苏路街道" in page
    assert 'data-testid="rule-C10-ratio">1 / 2<' in page
    street_page = body(
        client.get(reverse("cases:street_checklists", args=[world["street_b"].code]))
    )
    assert "江苏路街道四项清单" in street_page
    assert f"{reverse('cases:needs')}?street={world['street_b'].code}" in street_page


# Query counts ------------------------------------------------------------------------------------

_bulk_numbers = iter(range(1, 10**6))


def add_rows(world, count):
    """`count` more needs, resources and services in street A (bulk, without saves)."""
    numbers = [next(_bulk_numbers) for _ in range(count)]
    people = [world["wang"], world["li"]]
    Need.objects.bulk_create(
        Need(
            need_number=f"XQB{n:07d}",
            recipient=people[n % 2],
            category=NeedCategory.LIVING,
            description=f"批量需求{n}",
            source=NeedSource.VISIT,
            found_on=TODAY,
            urgency=Urgency.NORMAL,
            advisor=world["adv_a"],
        )
        for n in numbers
    )
    Resource.objects.bulk_create(
        Resource(
            resource_number=f"ZYB{n:07d}",
            name=f"批量资源{n}",
            resource_type=ResourceType.PROJECT,
            area_level=AreaLevel.COMMITTEE,
            district=world["district"],
            street=world["street_a"],
            committee=world["committees_a"][n % 2],
        )
        for n in numbers
    )
    ServiceRecord.objects.bulk_create(
        ServiceRecord(
            record_number=f"FWB{n:07d}",
            date=TODAY,
            advisor=world["adv_a"],
            station=world["point_a1"],
            recipient=world["wang"] if n % 3 else None,
            head_count=None if n % 3 else 12,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content=f"批量服务{n}",
            need=world["need_wang"] if n % 3 else None,
        )
        for n in numbers
    )


PAGES = [
    ("manager_a", "cases:needs", None),
    ("bureau", "cases:needs", None),
    ("advisor_a", "cases:needs", None),
    ("manager_a", "cases:resources", None),
    ("bureau", "cases:resources", None),
    ("manager_a", "cases:services", None),
    ("advisor_a", "cases:services", None),
    ("bureau", "cases:services", None),
    ("manager_a", "cases:street_checklists", "street_a"),
    ("bureau", "cases:checklists", None),
    ("manager_a", "cases:need_detail", "need_wang"),
    ("manager_a", "cases:resource_detail", "res_a"),
    ("manager_a", "cases:service_create", None),
]


@pytest.mark.parametrize(("who", "url_name", "arg"), PAGES)
def test_pages_run_the_same_number_of_queries_with_10_and_500_rows(
    client, world, who, url_name, arg
):
    client.force_login(world[who])
    args = []
    if arg == "street_a":
        args = [world["street_a"].code]
    elif arg is not None:
        args = [world[arg].pk]
    url = reverse(url_name, args=args)
    add_rows(world, 10)
    if url_name == "cases:resource_detail":
        _link_everything(world)
    client.get(url)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add_rows(world, 490)
    if url_name == "cases:resource_detail":
        _link_everything(world)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
        assert response.status_code == 200
    assert len(small) == len(large), [query["sql"] for query in large]


def _link_everything(world):
    """Link street A's resource to every need of street A that does not have it yet."""
    linked = NeedResource.objects.filter(resource=world["res_a"]).values("need")
    NeedResource.objects.bulk_create(
        NeedResource(need=need, resource=world["res_a"])
        for need in Need.objects.filter(recipient__street=world["street_a"]).exclude(pk__in=linked)
    )
    ServiceRecord.objects.filter(station__street=world["street_a"]).update(resource=world["res_a"])
