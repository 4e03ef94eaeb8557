"""The pages of people in hardship, driven through the browser's requests (client.get/post)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.models import Advisor
from advisors.tests.factories import make_advisor
from cases.choices import (
    Gender,
    NeedCategory,
    NeedSource,
    RecipientStatus,
    ServiceItem,
    ServiceStep,
    ServiceTask,
    Urgency,
)
from cases.models import (
    AssistanceCategory,
    CurrentPeriod,
    KeyGroup,
    Need,
    Recipient,
    RecipientCategory,
    ServiceRecord,
)
from cases.tests.factories import id_number, make_need, make_recipient
from changning_aid.pinyin import initials_text
from changning_aid.sensitive.idnumbers import check_character, find_full_id_numbers
from stations.tests.factories import committee_point, make_two_streets

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.localdate() - datetime.timedelta(days=1)


@pytest.fixture
def world():
    world = make_two_streets()
    world["point_a"] = committee_point(world["committees_a"][0])
    world["point_b"] = committee_point(world["committees_b"][0])
    # The advisor login of street A has its roster record; street B has an advisor too.
    world["gw_a"] = make_advisor(
        world["street_a"], [world["point_a"]], name="甲顾问", user=world["advisor_a"]
    )
    world["gw_b"] = make_advisor(world["street_b"], [world["point_b"]], name="乙顾问")
    return world


def body_of(response):
    return response.content.decode()


def id_number_ending_in_x():
    """A valid number whose check character is X (its tail is searched as typed)."""
    for serial in range(1, 1000):
        first_17 = f"31010519520304{serial:03d}"
        if check_character(first_17) == "X":
            return first_17 + "X"
    raise AssertionError("no number ends in X")


def register_payload(world, **overrides):
    data = {
        "committee": world["committees_a"][0].pk,
        "name": "王秀英",
        "gender": Gender.FEMALE,
        "id_number": id_number(datetime.date(1950, 3, 8)),
        "phone": "13912345678",
        "address": "华阳路1号",
        "household_size": "2",
        "categories": [AssistanceCategory.objects.get(name="低保", district=None).pk],
        "key_groups": [KeyGroup.objects.get(name="独居老人", district=None).pk],
        "hardship_level": "high",
        "advisor": world["gw_a"].pk,
    }
    data.update(overrides)
    return data


# Scope: two streets, every page -------------------------------------------------------------------


RECIPIENT_PAGES = ["recipient_detail", "recipient_edit", "current_start", "current_end"]


def test_every_page_of_another_streets_person_is_404(client, world):
    theirs = make_recipient(world["committees_b"][0], name="江苏困难户")
    client.force_login(world["manager_a"])
    for name in [*RECIPIENT_PAGES, "recipient_exit"]:
        url = reverse(f"cases:{name}", args=[theirs.pk])
        assert client.get(url).status_code == 404, name
        response = client.post(url, {"exit-exited_on": "2026-01-01", "exit-reason": "x"})
        assert response.status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.status == RecipientStatus.REGISTERED
    # The same person is there for their own street.
    client.force_login(world["manager_b"])
    assert client.get(reverse("cases:recipient_detail", args=[theirs.pk])).status_code == 200


def test_the_list_shows_only_the_users_street(client, world):
    make_recipient(world["committees_a"][0], name="华阳困难户")
    make_recipient(world["committees_b"][0], name="江苏困难户")
    client.force_login(world["manager_a"])
    body = body_of(client.get(reverse("cases:recipients")))
    assert "华阳困难户" in body
    assert "江苏困难户" not in body
    assert "曹家堰" not in body  # not even as a committee to filter by
    client.force_login(world["bureau"])
    body = body_of(client.get(reverse("cases:recipients")))
    assert "华阳困难户" in body and "江苏困难户" in body


def test_roles_without_personal_data_get_403_and_anonymous_users_log_in(client, world):
    client.force_login(world["sysadmin"])
    for name in ("recipients", "recipient_create", "handover"):
        assert client.get(reverse(f"cases:{name}")).status_code == 403, name
    client.logout()
    response = client.get(reverse("cases:recipients"))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_an_advisor_sees_only_their_people_and_reaches_a_file_in_one_click(client, world):
    mine = make_recipient(world["committees_a"][0], name="本居委困难户")
    in_charge = make_recipient(
        world["committees_a"][1], name="我负责的困难户", advisor=world["gw_a"]
    )
    neighbour = make_recipient(world["committees_a"][1], name="华二困难户")
    make_recipient(world["committees_b"][0], name="江苏困难户")
    client.force_login(world["advisor_a"])
    body = body_of(client.get(reverse("cases:recipients")))
    assert "本居委困难户" in body and "我负责的困难户" in body
    assert "华二困难户" not in body and "江苏困难户" not in body
    # One click: the name links to the file.
    assert f'href="{reverse("cases:recipient_detail", args=[mine.pk])}"' in body
    assert client.get(reverse("cases:recipient_detail", args=[in_charge.pk])).status_code == 200
    assert client.get(reverse("cases:recipient_detail", args=[neighbour.pk])).status_code == 404
    # "我负责的" narrows the list to the people in their charge.
    body = body_of(client.get(reverse("cases:recipients"), {"advisor": world["gw_a"].pk}))
    assert "我负责的困难户" in body and "本居委困难户" not in body


# Search -------------------------------------------------------------------------------------------


def rows_of(response):
    """The table of the list (not the search box's placeholder)."""
    body = body_of(response)
    return body[body.index("<tbody>") : body.index("</tbody>")]


def search(client, text):
    return rows_of(client.get(reverse("cases:recipients"), {"q": text}))


def test_one_box_finds_a_person_by_name_initials_or_id_tail(client, world):
    committee = world["committees_a"][0]
    tail_x = id_number_ending_in_x()
    make_recipient(committee, name="王秀英", id_number=id_number(datetime.date(1944, 1, 2)))
    make_recipient(committee, name="曾晓明", male=True)
    make_recipient(committee, name="单丽")
    make_recipient(committee, name="李建国", male=True, id_number=tail_x)
    client.force_login(world["manager_a"])

    assert "王秀英" in search(client, "秀英")
    assert "王秀英" in search(client, "wxy")
    assert "王秀英" in search(client, "W X Y")  # spaces and capitals as typed
    # 曾 and 单 are found by either reading, as in the advisor roster.
    for initials in ("zxm", "cxm"):
        assert "曾晓明" in search(client, initials), initials
    for initials in ("sl", "dl"):
        assert "单丽" in search(client, initials), initials
    found = search(client, "zxm")
    assert "王秀英" not in found and "李建国" not in found
    # The last 4 characters of the ID number, X typed in either case.
    for tail in (tail_x[-4:], tail_x[-4:].lower()):
        found = search(client, tail)
        assert "李建国" in found and "王秀英" not in found, tail
    assert "没有符合条件的困难人员" in search(client, "qqqq")


def test_the_initials_are_the_rosters(world):
    person = make_recipient(world["committees_a"][0], name="曾单")
    assert person.name_initials == initials_text("曾单")
    assert "zs" in person.name_initials.split("|") and "cd" in person.name_initials.split("|")
    gw = make_advisor(world["street_a"], name="曾单")
    assert gw.name_initials == person.name_initials


def test_search_does_not_reach_into_another_street(client, world):
    number = id_number(datetime.date(1961, 6, 1))
    make_recipient(world["committees_b"][0], name="曾江苏", id_number=number)
    client.force_login(world["manager_a"])
    for text in ("曾江苏", "zjs", number[-4:], number):
        assert "曾江苏" not in search(client, text), text


def test_filters_narrow_the_list(client, world):
    committee_a1, committee_a2 = world["committees_a"]
    low = AssistanceCategory.objects.get(name="低保", district=None)
    alone = KeyGroup.objects.get(name="独居老人", district=None)
    current = make_recipient(committee_a1, name="现有对象", current_from=datetime.date(2025, 1, 1))
    RecipientCategory.objects.create(recipient=current, category=low)
    current.key_groups.add(alone)
    make_recipient(committee_a2, name="非现有对象", hardship_level="low")
    left = make_recipient(committee_a2, name="已退出对象")
    Recipient.objects.filter(pk=left.pk).update(
        status=RecipientStatus.EXITED, exited_on=YESTERDAY, exit_reason="迁出"
    )
    client.force_login(world["manager_a"])

    def names(**query):
        body = body_of(client.get(reverse("cases:recipients"), query))
        return {n for n in ("现有对象", "非现有对象", "已退出对象") if f">{n}<" in body}

    assert names() == {"现有对象", "非现有对象", "已退出对象"}
    assert names(current="yes") == {"现有对象"}
    assert names(current="no") == {"非现有对象", "已退出对象"}
    assert names(category=low.pk) == {"现有对象"}
    assert names(key_group=alone.pk) == {"现有对象"}
    assert names(committee=committee_a2.pk) == {"非现有对象", "已退出对象"}
    assert names(hardship="low") == {"非现有对象"}
    assert names(status="exited") == {"已退出对象"}
    assert names(status="registered", committee=committee_a2.pk) == {"非现有对象"}
    # A committee of another street is no choice at all: the filter is refused.
    response = client.get(reverse("cases:recipients"), {"committee": world["committees_b"][0].pk})
    assert "has-error" in body_of(response)


# The register -------------------------------------------------------------------------------------


def test_a_keeper_registers_a_person_and_opens_the_file(client, world):
    client.force_login(world["manager_a"])
    payload = register_payload(world, current_from="2026-01-01")
    number = payload["id_number"]
    response = client.post(reverse("cases:recipient_create"), payload)
    person = Recipient.objects.get(name="王秀英")
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:recipient_detail", args=[person.pk])
    assert person.street == world["street_a"]
    assert person.advisor == world["gw_a"]
    assert person.hardship_level == "high"
    assert [c.name for c in person.categories.all()] == ["低保"]
    assert list(
        CurrentPeriod.objects.filter(recipient=person).values_list("starts_on", flat=True)
    ) == [datetime.date(2026, 1, 1)]
    body = body_of(client.get(response["Location"]))
    assert person.file_number in body
    assert number[:6] + "********" + number[-4:] in body
    assert number not in body
    assert "13912345678" in body  # the full phone on the person's own file
    assert "现有救助对象" in body and "独居老人" in body


def test_an_advisor_registers_in_their_committee_without_current_dates(client, world):
    client.force_login(world["advisor_a"])
    page = body_of(client.get(reverse("cases:recipient_create")))
    assert "现有救助对象起始日期" not in page
    assert "华二居委" not in page  # a committee they do not serve
    response = client.post(reverse("cases:recipient_create"), register_payload(world))
    assert response.status_code == 302
    assert Recipient.objects.get(name="王秀英").committee == world["committees_a"][0]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("310105196005170010", "校验位"),  # a wrong check character
        ("310105196002300017", "不是有效日期"),  # 30 February
        ("31010519600517001", "应为18位"),
        ("310105********0011", "不能填写遮盖后的号码"),
    ],
)
def test_an_invalid_id_number_is_refused_in_chinese_and_nothing_is_created(
    client, world, number, message
):
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("cases:recipient_create"), register_payload(world, id_number=number)
    )
    assert response.status_code == 200
    body = body_of(response)
    assert message in body
    assert "未建档" in body
    assert not Recipient.objects.exists()


def test_a_duplicate_is_refused_and_links_the_existing_file(client, world):
    number = id_number(datetime.date(1955, 5, 5))
    existing = make_recipient(world["committees_a"][1], name="原有档案", id_number=number)
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("cases:recipient_create"), register_payload(world, id_number=number, name="重复")
    )
    body = body_of(response)
    assert response.status_code == 200
    assert "该身份证号已经建档" in body and existing.file_number in body
    assert "打开已有档案" in body
    assert f'href="{reverse("cases:recipient_detail", args=[existing.pk])}"' in body
    assert Recipient.objects.count() == 1
    assert not Recipient.objects.filter(name="重复").exists()


def test_a_duplicate_in_another_street_is_refused_without_a_link(client, world):
    number = id_number(datetime.date(1955, 5, 6))
    existing = make_recipient(world["committees_b"][0], name="江苏档案", id_number=number)
    client.force_login(world["manager_a"])
    body = body_of(
        client.post(reverse("cases:recipient_create"), register_payload(world, id_number=number))
    )
    assert "已在其他街镇建档" in body
    assert "打开已有档案" not in body
    assert "江苏档案" not in body and existing.file_number not in body
    assert Recipient.objects.count() == 1


def test_the_gender_must_agree_with_the_id_number(client, world):
    client.force_login(world["manager_a"])
    body = body_of(
        client.post(reverse("cases:recipient_create"), register_payload(world, gender=Gender.MALE))
    )
    assert "性别与身份证号不符" in body
    assert not Recipient.objects.exists()


# Editing ------------------------------------------------------------------------------------------


def edit_payload(person, **overrides):
    data = {
        "committee": person.committee_id,
        "name": person.name,
        "gender": person.gender,
        "id_number": str(person.id_number),  # the mask, as the form shows it
        "phone": person.phone,
        "address": person.address,
        "household_size": person.household_size,
        "categories": [c.pk for c in person.categories.all()],
        "key_groups": [g.pk for g in person.key_groups.all()],
        "hardship_level": person.hardship_level,
        "advisor": person.advisor_id or "",
    }
    data.update(overrides)
    return data


def test_editing_keeps_the_number_when_the_mask_comes_back(client, world):
    number = id_number(datetime.date(1948, 8, 8))
    person = make_recipient(world["committees_a"][0], name="赵桂兰", id_number=number)
    client.force_login(world["manager_a"])
    url = reverse("cases:recipient_edit", args=[person.pk])
    page = body_of(client.get(url))
    assert number[:6] + "********" + number[-4:] in page and number not in page
    low = AssistanceCategory.objects.get(name="低保", district=None)
    response = client.post(
        url,
        edit_payload(person, phone="021-62345678", categories=[low.pk], advisor=world["gw_a"].pk),
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.id_number.reveal() == number
    assert person.phone == "021-62345678"
    assert person.advisor == world["gw_a"]
    assert list(person.categories.all()) == [low]

    new_number = id_number(datetime.date(1948, 8, 9))
    client.post(url, edit_payload(person, id_number=new_number))
    person.refresh_from_db()
    assert person.id_number.reveal() == new_number
    assert person.id_tail == new_number[-4:]


def test_an_advisor_edits_a_person_in_their_charge_in_another_committee(client, world):
    person = make_recipient(world["committees_a"][1], name="华二老人", advisor=world["gw_a"])
    client.force_login(world["advisor_a"])
    url = reverse("cases:recipient_edit", args=[person.pk])
    response = client.post(url, edit_payload(person, phone="13800001234"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.phone == "13800001234" and person.committee == world["committees_a"][1]
    # Moving someone into a committee they do not serve is no choice for them.
    body = body_of(client.post(url, edit_payload(person, committee=world["committees_b"][0].pk)))
    assert "has-error" in body
    person.refresh_from_db()
    assert person.committee == world["committees_a"][1]


def test_editing_to_a_wrong_number_changes_nothing(client, world):
    number = id_number(datetime.date(1948, 8, 8))
    person = make_recipient(world["committees_a"][0], name="赵桂兰", id_number=number)
    client.force_login(world["manager_a"])
    url = reverse("cases:recipient_edit", args=[person.pk])
    body = body_of(
        client.post(url, edit_payload(person, id_number="310105194808080010", name="改名"))
    )
    assert "校验位" in body
    person.refresh_from_db()
    assert person.name == "赵桂兰" and person.id_number.reveal() == number


# Periods and exit ---------------------------------------------------------------------------------


def test_keepers_start_and_end_periods_and_exit_a_person(client, world):
    person = make_recipient(world["committees_a"][0], name="周阿姨")
    client.force_login(world["manager_a"])
    file_url = reverse("cases:recipient_detail", args=[person.pk])
    response = client.post(
        reverse("cases:current_start", args=[person.pk]), {"start-starts_on": "2026-02-01"}
    )
    assert response.status_code == 302
    assert person.is_current_on(datetime.date(2026, 3, 1))
    assert "至今" in body_of(client.get(file_url))
    # Ending before the start is refused in Chinese.
    body = body_of(
        client.post(reverse("cases:current_end", args=[person.pk]), {"end-ends_on": "2026-01-01"})
    )
    assert "结束日期不能早于开始日期" in body
    client.post(reverse("cases:current_end", args=[person.pk]), {"end-ends_on": "2026-06-30"})
    assert CurrentPeriod.objects.get(recipient=person).ends_on == datetime.date(2026, 6, 30)
    client.post(
        reverse("cases:recipient_exit", args=[person.pk]),
        {"exit-exited_on": YESTERDAY.isoformat(), "exit-reason": "迁出本区"},
    )
    person.refresh_from_db()
    assert person.status == RecipientStatus.EXITED and person.exit_reason == "迁出本区"
    assert "迁出本区" in body_of(client.get(file_url))


def test_advisors_do_not_keep_periods(client, world):
    person = make_recipient(world["committees_a"][0], name="周阿姨")
    client.force_login(world["advisor_a"])
    body = body_of(client.get(reverse("cases:recipient_detail", args=[person.pk])))
    assert reverse("cases:current_start", args=[person.pk]) not in body
    assert reverse("cases:recipient_exit", args=[person.pk]) not in body
    response = client.post(
        reverse("cases:current_start", args=[person.pk]), {"start-starts_on": "2026-02-01"}
    )
    assert response.status_code == 403
    assert not CurrentPeriod.objects.filter(recipient=person).exists()


# Unassigned people and the hand-over --------------------------------------------------------------


def test_an_unassigned_current_recipient_is_flagged_until_handed_over(client, world):
    leaving = make_advisor(world["street_a"], [world["point_a"]], name="离岗顾问")
    taking = make_advisor(world["street_a"], [world["point_a"]], name="接手顾问")
    person = make_recipient(
        world["committees_a"][0],
        name="孙奶奶",
        advisor=leaving,
        current_from=datetime.date(2026, 1, 1),
    )
    make_need(person, advisor=leaving)
    make_need(person, advisor=leaving, status="resolved")
    Advisor.objects.filter(pk=leaving.pk).update(left_on=YESTERDAY, leave_reason="调离")
    client.force_login(world["manager_a"])

    body = body_of(client.get(reverse("cases:recipients")))
    assert 'data-testid="unassigned-banner"' in body
    assert "1 名现有救助对象没有在岗的责任顾问" in body
    assert 'data-testid="unassigned-flag"' in body
    body = body_of(client.get(reverse("cases:recipients"), {"unassigned": "1"}))
    assert "孙奶奶" in body
    file_body = body_of(client.get(reverse("cases:recipient_detail", args=[person.pk])))
    assert "已不在岗" in file_body
    handover_link = f"{reverse('cases:handover')}?from_advisor={leaving.pk}"
    assert handover_link in file_body

    # The hand-over page lists the departed advisor and previews what moves.
    page = body_of(client.get(handover_link))
    assert "离岗顾问" in page and "待移交的顾问" in page
    preview = body_of(
        client.get(reverse("cases:handover"), {"from_advisor": leaving.pk, "to_advisor": taking.pk})
    )
    assert "确认移交" in preview
    assert (
        "<strong>1</strong> 名困难人员" in preview and "<strong>1</strong> 项未办结需求" in preview
    )
    assert Recipient.objects.get(pk=person.pk).advisor == leaving  # nothing moved yet

    response = client.post(
        reverse("cases:handover"),
        {"from_advisor": leaving.pk, "to_advisor": taking.pk},
        follow=True,
    )
    body = body_of(response)
    assert "已将 离岗顾问 负责的 1 名困难人员和 1 项未办结需求移交给 接手顾问" in body
    person.refresh_from_db()
    assert person.advisor == taking
    assert Need.objects.filter(advisor=taking).count() == 1
    assert Need.objects.filter(advisor=leaving).count() == 1  # the closed one stays
    assert 'data-testid="unassigned-banner"' not in body_of(client.get(reverse("cases:recipients")))
    assert "已不在岗" not in body_of(
        client.get(reverse("cases:recipient_detail", args=[person.pk]))
    )


def test_hand_over_to_a_departed_or_other_streets_advisor_is_refused(client, world):
    leaving = make_advisor(world["street_a"], [world["point_a"]], name="离岗顾问")
    gone = make_advisor(world["street_a"], [world["point_a"]], name="也离岗了")
    Advisor.objects.filter(pk__in=[leaving.pk, gone.pk]).update(
        left_on=YESTERDAY, leave_reason="调离"
    )
    person = make_recipient(world["committees_a"][0], advisor=leaving)
    client.force_login(world["manager_a"])
    for taking in (gone, world["gw_b"]):
        response = client.post(
            reverse("cases:handover"), {"from_advisor": leaving.pk, "to_advisor": taking.pk}
        )
        assert response.status_code == 200
        assert "未移交" in body_of(response)
    person.refresh_from_db()
    assert person.advisor == leaving
    # Bureau staff see both streets but cannot hand over across them either.
    client.force_login(world["bureau"])
    body = body_of(
        client.post(
            reverse("cases:handover"), {"from_advisor": leaving.pk, "to_advisor": world["gw_b"].pk}
        )
    )
    assert "接手顾问必须是同一街镇的顾问" in body
    person.refresh_from_db()
    assert person.advisor == leaving


def test_advisors_cannot_hand_over(client, world):
    client.force_login(world["advisor_a"])
    assert client.get(reverse("cases:handover")).status_code == 403
    assert client.post(reverse("cases:handover"), {}).status_code == 403


# Query counts -------------------------------------------------------------------------------------


def _bulk_recipients(world, start, count):
    committee = world["committees_a"][0]
    low = AssistanceCategory.objects.get(name="低保", district=None)
    people = Recipient.objects.bulk_create(
        Recipient(
            file_number=f"DA{world['street_a'].code}{start + i:06d}",
            street=world["street_a"],
            committee=committee,
            name=f"批量{start + i}",
            name_initials=initials_text(f"批量{start + i}"),
            gender=Gender.FEMALE,
            phone="13900000000",
            advisor=world["gw_a"],
            birth_date=datetime.date(1950, 1, 1),
        )
        for i in range(count)
    )
    if not connection.features.can_return_rows_from_bulk_insert:
        people = list(Recipient.objects.filter(name__startswith="批量").order_by("pk")[start:])
    RecipientCategory.objects.bulk_create(
        RecipientCategory(recipient=person, category=low) for person in people
    )
    CurrentPeriod.objects.bulk_create(
        CurrentPeriod(recipient=person, starts_on=datetime.date(2026, 1, 1)) for person in people
    )


@pytest.mark.parametrize("who", ["manager_a", "advisor_a", "bureau"])
def test_the_list_runs_a_fixed_number_of_queries(client, world, who):
    client.force_login(world[who])
    _bulk_recipients(world, 0, 10)
    url = reverse("cases:recipients")
    client.get(url)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, {"q": "批量"}).status_code == 200
    _bulk_recipients(world, 10, 490)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url, {"q": "批量"})
    assert "共 500 人" in body_of(response)
    assert len(small) == len(large), [q["sql"] for q in large]


def _bulk_needs_and_services(person, world, start, count):
    needs = Need.objects.bulk_create(
        Need(
            need_number=f"XQ{world['street_a'].code}{start + i:06d}",
            recipient=person,
            category=NeedCategory.LIVING,
            description=f"需求{start + i}",
            source=NeedSource.VISIT,
            found_on=datetime.date(2026, 1, 5),
            urgency=Urgency.NORMAL,
            advisor=world["gw_a"],
        )
        for i in range(count)
    )
    if not connection.features.can_return_rows_from_bulk_insert:
        needs = list(Need.objects.filter(recipient=person).order_by("pk")[start:])
    ServiceRecord.objects.bulk_create(
        ServiceRecord(
            record_number=f"FW{world['street_a'].code}{start + i:07d}",
            date=datetime.date(2026, 1, 6),
            advisor=world["gw_a"],
            station=world["point_a"],
            recipient=person,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content=f"走访{start + i}",
            need=need,
            step=ServiceStep.ASSESS if i % 2 else ServiceStep.DISCOVER,
        )
        for i, need in enumerate(needs)
    )


@pytest.mark.parametrize("who", ["manager_a", "advisor_a", "bureau"])
def test_the_file_runs_a_fixed_number_of_queries(client, world, who):
    person = make_recipient(
        world["committees_a"][0],
        name="多需求",
        advisor=world["gw_a"],
        current_from=datetime.date(2026, 1, 1),
    )
    client.force_login(world[who])
    url = reverse("cases:recipient_detail", args=[person.pk])
    _bulk_needs_and_services(person, world, 0, 10)
    client.get(url)  # warm up (session, caches)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    _bulk_needs_and_services(person, world, 10, 490)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    body = body_of(response)
    assert "共 500 项,未办结 500 项" in body
    assert "已到“评估”环节" in body
    assert len(small) == len(large), [q["sql"] for q in large]


# The file -----------------------------------------------------------------------------------------


def test_the_file_shows_needs_services_evaluations_and_links_a_new_need(client, world):
    from cases.models import Evaluation

    person = make_recipient(world["committees_a"][0], name="钱大爷", advisor=world["gw_a"])
    need = make_need(person, description="需要轮椅")
    service = ServiceRecord.objects.create(
        date=datetime.date(2026, 2, 1),
        advisor=world["gw_a"],
        station=world["point_a"],
        recipient=person,
        item=ServiceItem.LINKING,
        task=ServiceTask.RESOURCE_LINK,
        content="联系助残资源",
        need=need,
        step=ServiceStep.LINK,
    )
    Evaluation.objects.create(
        station=world["point_a"],
        service=service,
        rating="satisfied",
        comment="很及时",
        source="staff",
    )
    client.force_login(world["advisor_a"])
    body = body_of(client.get(reverse("cases:recipient_detail", args=[person.pk])))
    assert "需要轮椅" in body and "待评估" in body
    assert "联系助残资源" in body and "已到“对接”环节" in body
    assert "很及时" in body and "满意" in body
    assert reverse("cases:need_create", args=[person.pk]) in body
    assert "谁改了什么" in body


def test_bureau_staff_get_the_reveal_control_others_do_not(client, world):
    number = id_number(datetime.date(1939, 9, 9))
    person = make_recipient(world["committees_a"][0], name="吴老伯", id_number=number)
    url = reverse("cases:recipient_detail", args=[person.pk])
    client.force_login(world["bureau"])
    body = body_of(client.get(url))
    assert "显示完整号码" in body and reverse("sensitive:reveal") in body
    assert number not in body
    client.force_login(world["manager_a"])
    body = body_of(client.get(url))
    assert "显示完整号码" not in body and number[:6] + "********" + number[-4:] in body


def test_no_page_of_mine_shows_a_full_id_number_to_non_bureau_users(client, world):
    number = id_number(datetime.date(1944, 4, 4))
    person = make_recipient(
        world["committees_a"][0],
        name="郑阿婆",
        id_number=number,
        advisor=world["gw_a"],
        current_from=datetime.date(2026, 1, 1),
    )
    make_need(person)
    pages = [
        reverse("cases:recipients"),
        f"{reverse('cases:recipients')}?q={number[-4:]}",
        reverse("cases:recipient_create"),
        reverse("cases:recipient_detail", args=[person.pk]),
        reverse("cases:recipient_edit", args=[person.pk]),
        reverse("cases:handover"),
    ]
    for who in ("manager_a", "advisor_a"):
        client.force_login(world[who])
        for url in pages:
            response = client.get(url)
            assert response.status_code in (200, 403), (who, url)
            assert find_full_id_numbers(body_of(response)) == [], (who, url)
        # A refused form does not echo a full number back either.
        body = body_of(
            client.post(
                reverse("cases:recipient_edit", args=[person.pk]),
                edit_payload(person, name=""),
            )
        )
        assert find_full_id_numbers(body) == [], who


@pytest.mark.postgres
def test_the_file_shows_who_changed_what(client, world):
    person = make_recipient(world["committees_a"][0], name="冯阿姨", phone="13911112222")
    client.force_login(world["manager_a"])
    response = client.post(
        reverse("cases:recipient_edit", args=[person.pk]),
        edit_payload(person, name="冯秀兰", household_size=3),
    )
    assert response.status_code == 302
    body = body_of(client.get(reverse("cases:recipient_detail", args=[person.pk])))
    history = body[body.index('id="history"') :]
    assert 'data-testid="history-event"' in history
    assert "<del>冯阿姨</del>" in history and "<ins>冯秀兰</ins>" in history
    assert "manager_a" in history  # who
    assert "姓名拼音首字母" not in history  # derived columns are left out
    assert "13911112222" not in history  # masked fields never show their values


def test_the_file_says_what_trail_the_database_keeps(client, world):
    """PostgreSQL shows the creation event; SQLite (no triggers) says that no trail is kept."""
    person = make_recipient(world["committees_a"][0], name="冯阿姨")
    client.force_login(world["manager_a"])
    body = body_of(client.get(reverse("cases:recipient_detail", args=[person.pk])))
    history = body[body.index('id="history"') :]
    if connection.vendor == "postgresql":
        assert 'data-testid="history-event"' in history
        assert 'data-testid="no-history"' not in history
    else:
        assert 'data-testid="no-history"' in history and "建档于" in history


def test_navigation_has_an_entry_for_the_three_roles(client, world):
    for who in ("bureau", "manager_a", "advisor_a"):
        client.force_login(world[who])
        assert f'href="{reverse("cases:recipients")}"' in body_of(
            client.get(reverse("home"), follow=True)
        )


# The scheduled job --------------------------------------------------------------------------------


def test_run_scheduled_anonymises_people_who_left_long_ago_once(world):
    long_ago = timezone.localdate().replace(year=timezone.localdate().year - 6)
    gone = make_recipient(world["committees_a"][0], name="早已退出", phone="13900001111")
    Recipient.objects.filter(pk=gone.pk).update(
        status=RecipientStatus.EXITED, exited_on=long_ago, exit_reason="迁出"
    )
    recent = make_recipient(world["committees_a"][0], name="刚退出")
    Recipient.objects.filter(pk=recent.pk).update(
        status=RecipientStatus.EXITED, exited_on=YESTERDAY, exit_reason="迁出"
    )
    first = io.StringIO()
    call_command("run_scheduled", stdout=first)
    assert "已将 1 名退出登记满 5 年的困难人员匿名化" in first.getvalue()
    gone.refresh_from_db()
    assert gone.is_anonymised and gone.name == "(已匿名)"
    assert not gone.id_number and gone.phone == "" and gone.address == ""
    assert gone.file_number.startswith("DA")  # the record and its counts stay
    assert Recipient.objects.get(pk=recent.pk).name == "刚退出"
    second = io.StringIO()
    call_command("run_scheduled", stdout=second)
    assert "没有需要匿名化的困难人员" in second.getvalue()
