"""The monthly list of current recipients (现有救助对象月度名单), imported through the browser's
requests: people joining, staying and leaving, a period ended earlier reopening, new people
registered, row-numbered errors that write nothing and name nobody of another street, the
scope of street managers and bureau staff, idempotence, the template, and the rules of the
periods (`services.month_list_change`) on exact cases."""

import datetime
import io
import re

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.choices import AccessAction
from audit.models import AccessRecord
from cases import services
from cases.choices import Gender, RecipientStatus
from cases.models import AssistanceCategory, CurrentPeriod, Recipient
from cases.tests.factories import id_number, make_recipient
from changning_aid.models import PendingUpload
from stations.tests.factories import make_two_streets

pytestmark = pytest.mark.django_db

HEADERS = ["身份证号", "姓名", "居委代码", "救助类别", "地址", "联系电话"]
FULL_ID = re.compile(r"[1-9][0-9]{5}(19|20)[0-9]{2}[0-9]{4}[0-9]{3}[0-9X]")
DAY = datetime.timedelta(days=1)

TODAY = timezone.localdate()
FIRST = TODAY.replace(day=1)
EVE = FIRST - DAY
LAST_MONTH = EVE.replace(day=1)
MONTH = f"{FIRST:%Y-%m}"
LONG_AGO = datetime.date(2025, 1, 1)


def periods_of(person):
    return list(
        CurrentPeriod.objects.filter(recipient=person)
        .order_by("starts_on")
        .values_list("starts_on", "ends_on")
    )


@pytest.fixture
def world():
    """Two streets. Street A: 王秀英 (current since 2025), 李建国 (current since 2025),
    周玉兰 (current in 2024 only), 陈国强 (current until the eve of this month); street B:
    赵美兰 (current since 2025)."""
    w = make_two_streets()
    a1, a2 = w["committees_a"]
    w["wang_id"] = id_number(datetime.date(1950, 3, 1))
    w["wang"] = make_recipient(a1, name="王秀英", id_number=w["wang_id"], current_from=LONG_AGO)
    w["li_id"] = id_number(datetime.date(1951, 4, 2), male=True)
    w["li"] = make_recipient(
        a2, name="李建国", male=True, id_number=w["li_id"], current_from=LONG_AGO
    )
    w["zhou_id"] = id_number(datetime.date(1952, 5, 3))
    w["zhou"] = make_recipient(a1, name="周玉兰", id_number=w["zhou_id"])
    CurrentPeriod.objects.create(
        recipient=w["zhou"], starts_on=datetime.date(2024, 1, 1), ends_on=datetime.date(2024, 6, 30)
    )
    w["chen_id"] = id_number(datetime.date(1953, 6, 4), male=True)
    w["chen"] = make_recipient(a2, name="陈国强", male=True, id_number=w["chen_id"])
    CurrentPeriod.objects.create(
        recipient=w["chen"], starts_on=datetime.date(2025, 3, 1), ends_on=EVE
    )
    w["zhao_id"] = id_number(datetime.date(1955, 6, 6))
    w["zhao"] = make_recipient(
        w["committees_b"][0], name="赵美兰", id_number=w["zhao_id"], current_from=LONG_AGO
    )
    w["sun_id"] = id_number(datetime.date(1962, 8, 8), male=True)
    return w


# Helpers: what a user does ------------------------------------------------------------------


def list_file(rows, headers=HEADERS, *, title=None):
    """A list workbook: an optional title line, the headers, one row per person (dicts)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    if title:
        sheet.append([title])
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(header, "") for header in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def person_row(number, name="", code="", categories="低保", **more):
    return {"身份证号": number, "姓名": name, "居委代码": code, "救助类别": categories, **more}


def street_a_list(w, *extra):
    """Street A's list of this month: 王秀英 stays, 周玉兰 and 陈国强 come back, 孙志刚 is
    new; 李建国 is not on it."""
    a1, a2 = w["committees_a"]
    return list_file(
        [
            person_row(w["wang_id"], "王秀英", a1.code),
            person_row(w["zhou_id"], "周玉兰", a1.code),
            person_row(w["chen_id"], "陈国强", a2.code, "特困供养"),
            person_row(
                w["sun_id"],
                "孙志刚",
                a1.code,
                "低保、临时救助",
                地址="华阳路9号",
                联系电话="13900001111",
            ),
            *extra,
        ]
    )


def upload(client, content, month=MONTH, name="名单.xlsx"):
    """Upload a list; the preview page it leads to."""
    response = client.post(
        reverse("cases:current_list_import"),
        {"month": month, "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    preview = client.get(response["Location"])
    assert preview.status_code == 200
    return preview


def confirm(client, preview, month=MONTH):
    return client.post(
        preview.request["PATH_INFO"],
        {"digest": preview.context["plan"].digest(), "month": month},
        follow=True,
    )


def errors_of(preview):
    return [(error.line, error.message) for error in preview.context["plan"].errors]


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def snapshot():
    return (
        list(CurrentPeriod.objects.order_by("pk").values()),
        list(Recipient.objects.order_by("pk").values("pk", "status", "updated_at")),
    )


# Joining, staying, leaving --------------------------------------------------------------------


def test_people_join_stay_and_leave_as_the_list_says(client, world):
    w = world
    client.force_login(w["manager_a"])
    wang_period = CurrentPeriod.objects.get(recipient=w["wang"])
    chen_period = CurrentPeriod.objects.get(recipient=w["chen"])
    preview = upload(client, street_a_list(w))
    plan = preview.context["plan"]
    assert plan.errors == []
    assert plan.counts() == {
        "continue": 1,
        "extend": 0,
        "join": 2,
        "register": 1,
        "end": 1,
        "keep": 0,
    }
    assert [entry.name for entry in plan.unchanged] == ["王秀英"]
    assert [entry.name for entry in plan.joining] == ["周玉兰", "陈国强"]
    assert [entry.name for entry in plan.registering] == ["孙志刚"]
    assert [entry.name for entry in plan.ending] == ["李建国"]
    page = preview.content.decode()
    for testid, count in (("continue", 1), ("join", 2), ("register", 1), ("end", 1)):
        assert f'data-testid="count-{testid}">{count}<' in page
    assert not FULL_ID.search(page)
    assert w["sun_id"][:6] + "********" + w["sun_id"][-4:] in page
    # Nothing is written before the confirmation.
    assert not Recipient.objects.filter(name="孙志刚").exists()
    assert periods_of(w["li"]) == [(LONG_AGO, None)]

    response = confirm(client, preview)
    assert response.status_code == 200
    assert any("继续 1 人,新纳入 2 人,新登记 1 人,结束 1 人" in m for m in messages_of(response))
    # Staying: the same period, untouched, and no new row.
    assert periods_of(w["wang"]) == [(LONG_AGO, None)]
    assert CurrentPeriod.objects.get(recipient=w["wang"]) == wang_period
    # Leaving: ended on the eve of the month.
    assert periods_of(w["li"]) == [(LONG_AGO, EVE)]
    # Reopening after an earlier period: a new period from the 1st.
    assert periods_of(w["zhou"]) == [
        (datetime.date(2024, 1, 1), datetime.date(2024, 6, 30)),
        (FIRST, None),
    ]
    # Ended the day before: the same period goes on.
    assert periods_of(w["chen"]) == [(datetime.date(2025, 3, 1), None)]
    assert CurrentPeriod.objects.get(recipient=w["chen"]).pk == chen_period.pk
    # Joining as a new person: registered, current from the 1st, derived from the number.
    sun = Recipient.objects.get(id_number__matches=w["sun_id"])
    assert sun.name == "孙志刚"
    assert sun.committee == w["committees_a"][0] and sun.street == w["street_a"]
    assert sun.gender == Gender.MALE
    assert sun.birth_date == datetime.date(1962, 8, 8)
    assert sun.status == RecipientStatus.REGISTERED
    assert sun.file_number.startswith("DA" + w["street_a"].code)
    assert sun.address == "华阳路9号" and sun.phone == "13900001111"
    assert set(sun.categories.values_list("name", flat=True)) == {"低保", "临时救助"}
    assert periods_of(sun) == [(FIRST, None)]
    # The other street is not the list's business.
    assert periods_of(w["zhao"]) == [(LONG_AGO, None)]
    # One audit record of the import, nothing kept.
    records = AccessRecord.objects.filter(action=AccessAction.IMPORT)
    assert records.count() == 1
    assert records.get().street_id == w["street_a"].pk
    assert "现有救助对象月度名单" in records.get().detail
    assert not PendingUpload.objects.exists()


def test_the_preview_counts_are_what_the_import_does(client, world):
    """The counts shown before confirming equal the people whose periods then changed."""
    w = world
    client.force_login(w["manager_a"])
    preview = upload(client, street_a_list(w))
    counts = preview.context["plan"].counts()
    before = {p: periods_of(w[p]) for p in ("wang", "li", "zhou", "chen")}
    people_before = Recipient.objects.count()
    confirm(client, preview)
    changed = {p for p in before if periods_of(w[p]) != before[p]}
    assert len(changed) == counts["join"] + counts["end"] + counts["extend"]
    assert Recipient.objects.count() - people_before == counts["register"]
    current = Recipient.objects.filter(street=w["street_a"]).current_on(FIRST).count()
    assert current == counts["continue"] + counts["join"] + counts["register"]


def test_importing_the_same_list_twice_changes_nothing_the_second_time(client, world):
    w = world
    client.force_login(w["manager_a"])
    confirm(client, upload(client, street_a_list(w)))
    before = snapshot()
    people = Recipient.objects.count()
    preview = upload(client, street_a_list(w))
    plan = preview.context["plan"]
    assert plan.errors == []
    assert plan.counts() == {
        "continue": 4,
        "extend": 0,
        "join": 0,
        "register": 0,
        "end": 0,
        "keep": 0,
    }
    assert not plan.has_changes
    assert 'data-testid="import-no-changes"' in preview.content.decode()
    response = confirm(client, preview)
    assert any("没有变化" in m for m in messages_of(response))
    assert snapshot() == before
    assert Recipient.objects.count() == people


def test_a_change_after_the_preview_asks_for_a_new_look(client, world):
    """The confirmation writes only what was previewed: another month, or data changed in
    between, write nothing and show the new preview."""
    w = world
    client.force_login(w["manager_a"])
    preview = upload(client, street_a_list(w))
    digest = preview.context["plan"].digest()
    response = client.post(
        preview.request["PATH_INFO"],
        {"digest": digest, "month": f"{LAST_MONTH:%Y-%m}"},
        follow=True,
    )
    assert any("预览之后数据已有变化" in m for m in messages_of(response))
    assert periods_of(w["li"]) == [(LONG_AGO, None)]
    CurrentPeriod.objects.filter(recipient=w["li"]).update(ends_on=EVE)
    response = client.post(
        preview.request["PATH_INFO"], {"digest": digest, "month": MONTH}, follow=True
    )
    assert any("预览之后数据已有变化" in m for m in messages_of(response))
    assert response.context["plan"].ending == []
    assert not Recipient.objects.filter(name="孙志刚").exists()
    confirm(client, response)
    assert Recipient.objects.filter(name="孙志刚").exists()


def test_a_period_ending_within_the_month_goes_on_for_a_listed_person(client, world):
    w = world
    client.force_login(w["manager_a"])
    period = CurrentPeriod.objects.get(recipient=w["wang"])
    period.ends_on = FIRST + 9 * DAY
    period.save()
    a1 = w["committees_a"][0]
    preview = upload(
        client,
        list_file(
            [person_row(w["wang_id"], "王秀英", a1.code), person_row(w["li_id"], "李建国", "")]
        ),
    )
    plan = preview.context["plan"]
    assert [entry.name for entry in plan.extended] == ["王秀英"]
    assert plan.continuing == 2
    confirm(client, preview)
    assert periods_of(w["wang"]) == [(LONG_AGO, None)]
    assert CurrentPeriod.objects.get(recipient=w["wang"]).pk == period.pk


def test_a_period_begun_within_the_month_is_kept_and_shown_for_checking(client, world):
    """Someone not on the list whose period starts this month: not deleted, listed to check."""
    w = world
    client.force_login(w["manager_a"])
    CurrentPeriod.objects.filter(recipient=w["li"]).update(starts_on=FIRST)
    preview = upload(client, street_a_list(w))
    plan = preview.context["plan"]
    assert [entry.name for entry in plan.keeping] == ["李建国"]
    assert plan.ending == []
    assert 'data-testid="list-keep"' in preview.content.decode()
    confirm(client, preview)
    assert periods_of(w["li"]) == [(FIRST, None)]


def test_last_months_list_takes_effect_from_its_first_day(client, world):
    w = world
    client.force_login(w["manager_a"])
    month = f"{LAST_MONTH:%Y-%m}"
    a1 = w["committees_a"][0]
    content = list_file(
        [
            person_row(w["wang_id"], "王秀英", a1.code),
            person_row(w["sun_id"], "孙志刚", a1.code),
        ]
    )
    preview = upload(client, content, month=month)
    assert 'data-testid="last-month-warning"' in preview.content.decode()
    confirm(client, preview, month=month)
    sun = Recipient.objects.get(id_number__matches=w["sun_id"])
    assert periods_of(sun) == [(LAST_MONTH, None)]
    assert periods_of(w["li"]) == [(LONG_AGO, LAST_MONTH - DAY)]
    # 陈国强 was current all last month (until yesterday's month end) but is not on its list.
    assert periods_of(w["chen"]) == [(datetime.date(2025, 3, 1), LAST_MONTH - DAY)]


def test_csv_lists_are_read_too(client, world):
    w = world
    client.force_login(w["manager_a"])
    a1 = w["committees_a"][0]
    text = "序号,身份证号,姓名,居委代码,救助类别\n"
    text += f"1,{w['wang_id']},王秀英,{a1.code},低保\n"
    text += f"2,{w['li_id'].lower()},李建国,,低保\n"
    preview = upload(client, text.encode("utf-8-sig"), name="名单.csv")
    plan = preview.context["plan"]
    assert plan.errors == []
    assert plan.continuing == 2 and len(plan.ending) == 0


# Errors: nothing written ------------------------------------------------------------------------


def test_a_bad_id_number_is_a_row_error_and_nothing_changes(client, world):
    w = world
    client.force_login(w["manager_a"])
    bad = w["sun_id"][:17] + ("0" if w["sun_id"][17] != "0" else "1")
    preview = upload(client, street_a_list(w, person_row(bad, "钱多多", w["committees_a"][0].code)))
    assert errors_of(preview) == [(6, "身份证号的校验位(最后一位)不正确,请核对后重新输入。")]
    page = preview.content.decode()
    assert "第 6 行" in page and "确认导入" not in page
    assert not FULL_ID.search(page)
    before = snapshot()
    response = client.post(
        preview.request["PATH_INFO"],
        {"digest": preview.context["plan"].digest(), "month": MONTH},
        follow=True,
    )
    assert any("没有导入任何数据" in m for m in messages_of(response))
    assert snapshot() == before
    assert not Recipient.objects.filter(name="孙志刚").exists()


def test_another_streets_person_is_an_error_that_names_nobody(client, world):
    w = world
    client.force_login(w["manager_a"])
    preview = upload(
        client, street_a_list(w, person_row(w["zhao_id"], "赵美兰", w["committees_a"][0].code))
    )
    assert errors_of(preview) == [
        (6, "该身份证号不属于本街镇的困难人员(已在其他街镇建档),请核实名单。")
    ]
    page = preview.content.decode()
    assert "赵美兰" not in page
    assert w["zhao"].file_number not in page
    assert "曹家堰" not in page and "江苏路" not in page
    assert periods_of(w["zhao"]) == [(LONG_AGO, None)]


def test_row_errors_name_the_row_and_the_reason(client, world):
    w = world
    client.force_login(w["manager_a"])
    w["li"].status = RecipientStatus.EXITED
    w["li"].exited_on = EVE - DAY
    w["li"].exit_reason = "迁出"
    w["li"].save()
    a1 = w["committees_a"][0]
    newcomer = id_number(datetime.date(1970, 1, 1))
    content = list_file(
        [
            person_row(w["wang_id"], "王秀英", a1.code),
            person_row(w["wang_id"], "王秀英", a1.code),
            person_row(w["li_id"], "李建国", a1.code),
            person_row(newcomer, "", ""),
            person_row(id_number(datetime.date(1971, 1, 1)), "新人", "999", "不存在的类别"),
            person_row("", "无号", a1.code),
            person_row(w["zhou_id"], "周玉兰", w["committees_b"][0].code),
        ]
    )
    preview = upload(client, content)
    errors = errors_of(preview)
    assert errors[0] == (3, "身份证号与第 2 行相同,同一人在名单中只能出现一次。")
    assert errors[1][0] == 4 and "已退出" in errors[1][1] and w["li"].file_number in errors[1][1]
    assert (5, "新登记的人员请填写姓名。") in errors
    assert (5, "新登记的人员请填写居委代码。") in errors
    assert (6, "居委代码“999”不存在,或不在您的管理范围内。") in errors
    assert any(line == 6 and "不存在的类别" in message for line, message in errors)
    assert (7, "请填写身份证号。") in errors
    assert (8, "居委代码“310105002001”不存在,或不在您的管理范围内。") in errors
    assert not FULL_ID.search(preview.content.decode())


def test_a_file_that_is_not_a_list_is_refused_whole(client, world):
    client.force_login(world["manager_a"])
    preview = upload(client, list_file([{"姓名": "王秀英"}], headers=["姓名", "地址"]))
    assert "找不到表头“身份证号”" in errors_of(preview)[0][1]
    preview = upload(client, list_file([], headers=HEADERS))
    assert "没有名单数据" in errors_of(preview)[0][1]
    preview = upload(client, list_file([{"身份证号": "x"}], headers=["身份证号", "姓名"]))
    assert "缺少列 居委代码、救助类别" in errors_of(preview)[0][1]


# Scope --------------------------------------------------------------------------------------------


def test_a_street_manager_never_touches_the_other_street(client, world):
    """Street B's current people stay current whatever street A's list says, and B's own
    list does not end street A's people."""
    w = world
    client.force_login(w["manager_a"])
    confirm(client, upload(client, street_a_list(w)))
    assert periods_of(w["zhao"]) == [(LONG_AGO, None)]
    client.force_login(w["manager_b"])
    preview = upload(client, list_file([person_row(w["zhao_id"], "赵美兰", "")]))
    plan = preview.context["plan"]
    assert plan.continuing == 1 and plan.ending == [] and not plan.has_changes
    assert "王秀英" not in preview.content.decode()
    assert periods_of(w["wang"]) == [(LONG_AGO, None)]


def test_bureau_staff_import_the_streets_of_their_list(client, world):
    """A district list decides the streets its people belong to; a street with nobody in
    the file is left as it is."""
    w = world
    client.force_login(w["bureau"])
    preview = upload(client, street_a_list(w))
    plan = preview.context["plan"]
    assert [street.name for street in plan.streets] == ["华阳路街道"]
    assert [entry.name for entry in plan.ending] == ["李建国"]
    confirm(client, preview)
    assert periods_of(w["zhao"]) == [(LONG_AGO, None)]
    assert periods_of(w["li"]) == [(LONG_AGO, EVE)]

    # Both streets in one file: 赵美兰 is on it, so nobody of street B ends; a new person of
    # street B is registered there.
    other = id_number(datetime.date(1966, 6, 6))
    content = street_a_list(
        w,
        person_row(w["zhao_id"], "赵美兰", ""),
        person_row(other, "吴新民", w["committees_b"][0].code),
    )
    preview = upload(client, content)
    plan = preview.context["plan"]
    assert [street.name for street in plan.streets] == ["华阳路街道", "江苏路街道"]
    assert plan.ending == []
    confirm(client, preview)
    newcomer = Recipient.objects.get(id_number__matches=other)
    assert newcomer.street == w["street_b"]
    assert (
        AccessRecord.objects.filter(action=AccessAction.IMPORT).order_by("pk").last().street_id
        is None
    )


def test_bureau_staff_get_an_error_when_a_code_names_another_street_than_the_file(client, world):
    w = world
    client.force_login(w["bureau"])
    preview = upload(
        client, list_file([person_row(w["zhao_id"], "赵美兰", w["committees_a"][0].code)])
    )
    [(line, message)] = errors_of(preview)
    assert line == 2 and "华阳路街道" in message and "江苏路街道" in message


def test_only_keepers_import(client, world):
    w = world
    client.force_login(w["advisor_a"])
    for name in ("current_list_import", "current_list_template"):
        response = client.get(reverse(f"cases:{name}"))
        assert response.status_code == 403
        assert "只有街镇管理员和区民政局可以导入" in response.content.decode()
    client.force_login(w["manager_a"])
    preview = upload(client, street_a_list(w))
    client.force_login(w["advisor_a"])
    assert client.get(preview.request["PATH_INFO"]).status_code == 404
    # A kept file is its uploader's alone.
    client.force_login(w["manager_b"])
    assert client.get(preview.request["PATH_INFO"], {"month": MONTH}).status_code == 404
    response = client.post(preview.request["PATH_INFO"], {"digest": "0" * 64, "month": MONTH})
    assert response.status_code == 404
    assert periods_of(w["li"]) == [(LONG_AGO, None)]


def test_the_service_keeps_its_rules_whatever_the_door(world):
    w = world
    with pytest.raises(PermissionDenied):
        services.import_current_list(
            actor=w["advisor_a"], first=FIRST, streets=[w["street_a"]], listed=[w["wang"].pk]
        )
    two_months_ago = (LAST_MONTH - DAY).replace(day=1)
    with pytest.raises(ValidationError):
        services.import_current_list(
            actor=w["manager_a"], first=two_months_ago, streets=[w["street_a"]], listed=[]
        )
    from django.http import Http404

    with pytest.raises(Http404):
        services.import_current_list(
            actor=w["manager_a"], first=FIRST, streets=[w["street_a"]], listed=[w["zhao"].pk]
        )
    newcomer = services.ListedNewcomer(
        committee=w["committees_a"][0], name="王秀英", id_number=w["wang_id"]
    )
    with pytest.raises(ValidationError):
        services.import_current_list(
            actor=w["manager_a"],
            first=FIRST,
            streets=[w["street_a"]],
            listed=[],
            newcomers=[newcomer],
        )
    assert periods_of(w["li"]) == [(LONG_AGO, None)]


# The template and the links ---------------------------------------------------------------------


def test_the_template_downloads_with_the_headers_and_the_users_codes(client, world):
    w = world
    client.force_login(w["manager_a"])
    response = client.get(reverse("cases:current_list_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    headers = [cell.value for cell in workbook.worksheets[0][1]]
    assert headers == HEADERS
    notes = " ".join(
        str(value)
        for row in workbook.worksheets[1].iter_rows(values_only=True)
        for value in row
        if value
    )
    assert w["committees_a"][0].code in notes and w["committees_a"][1].code in notes
    assert w["committees_b"][0].code not in notes
    assert "低保" in notes
    # The empty template comes back as a file that lists nobody.
    preview = upload(client, response.content)
    assert "没有名单数据" in errors_of(preview)[0][1]


def test_the_register_links_to_the_import_for_keepers_only(client, world):
    client.force_login(world["manager_a"])
    page = client.get(reverse("cases:recipients")).content.decode()
    assert reverse("cases:current_list_import") in page
    client.force_login(world["advisor_a"])
    page = client.get(reverse("cases:recipients")).content.decode()
    assert reverse("cases:current_list_import") not in page


def test_the_upload_page_offers_this_month_and_last_month(client, world):
    client.force_login(world["manager_a"])
    page = client.get(reverse("cases:current_list_import")).content.decode()
    assert f'value="{MONTH}" selected' in page
    assert f'value="{LAST_MONTH:%Y-%m}"' in page
    response = client.post(
        reverse("cases:current_list_import"),
        {"month": "2020-01", "file": SimpleUploadedFile("名单.xlsx", street_a_list(world))},
    )
    assert response.status_code == 200
    assert not PendingUpload.objects.exists()


# Query counts -------------------------------------------------------------------------------------


def test_the_preview_runs_a_fixed_number_of_queries(client, world):
    w = world
    client.force_login(w["manager_a"])
    a1, a2 = w["committees_a"]

    def queries_for(count):
        rows = []
        for index in range(count):
            person = make_recipient(a1 if index % 2 else a2, current_from=LONG_AGO)
            rows.append(person_row(person.plain_id_number(), person.name, ""))
            make_recipient(a2, current_from=LONG_AGO)  # one who ends
        for index in range(count):
            rows.append(
                person_row(id_number(datetime.date(1980, 1, 1 + index)), f"新人{index}", a1.code)
            )
        response = client.post(
            reverse("cases:current_list_import"),
            {"month": MONTH, "file": SimpleUploadedFile("名单.xlsx", list_file(rows))},
        )
        with CaptureQueriesContext(connection) as queries:
            preview = client.get(response["Location"])
        assert preview.context["plan"].errors == []
        assert len(preview.context["plan"].registering) == count
        return len(queries)

    assert queries_for(3) == queries_for(20)


# The rules of the periods, on exact cases ---------------------------------------------------


def change(periods, listed, first=datetime.date(2026, 11, 1)):
    numbered = [(index + 1, start, end) for index, (start, end) in enumerate(periods)]
    return services.month_list_change(numbered, first, listed=listed)


D = datetime.date


@pytest.mark.parametrize(
    ("periods", "kind", "after", "updates", "deletions", "creation"),
    [
        # Current all month, open or ending later: continues, nothing written.
        ([(D(2025, 1, 1), None)], "continue", [(D(2025, 1, 1), None)], [], [], None),
        (
            [(D(2025, 1, 1), D(2026, 11, 30))],
            "continue",
            [(D(2025, 1, 1), D(2026, 11, 30))],
            [],
            [],
            None,
        ),
        # Ends within the month: reopened.
        (
            [(D(2025, 1, 1), D(2026, 11, 10))],
            "extend",
            [(D(2025, 1, 1), None)],
            [(1, D(2025, 1, 1), None)],
            [],
            None,
        ),
        # Ends within the month, another period later: merged into one.
        (
            [(D(2025, 1, 1), D(2026, 11, 10)), (D(2026, 11, 20), None)],
            "extend",
            [(D(2025, 1, 1), None)],
            [(1, D(2025, 1, 1), None)],
            [2],
            None,
        ),
        # Ended the day before: the same period goes on.
        (
            [(D(2025, 1, 1), D(2026, 10, 31))],
            "join",
            [(D(2025, 1, 1), None)],
            [(1, D(2025, 1, 1), None)],
            [],
            None,
        ),
        # Ended long ago: a new period from the 1st; the old one stays.
        (
            [(D(2024, 1, 1), D(2024, 6, 30))],
            "join",
            [(D(2026, 11, 1), None)],
            [],
            [],
            (D(2026, 11, 1), None),
        ),
        # Never current: a new period from the 1st.
        ([], "join", [(D(2026, 11, 1), None)], [], [], (D(2026, 11, 1), None)),
        # Current from the 15th: from the 1st instead.
        (
            [(D(2026, 11, 15), None)],
            "join",
            [(D(2026, 11, 1), None)],
            [(1, D(2026, 11, 1), None)],
            [],
            None,
        ),
    ],
)
def test_a_listed_persons_periods(periods, kind, after, updates, deletions, creation):
    result = change(periods, listed=True)
    assert result.kind == kind
    assert list(result.after) == after
    assert list(result.updates) == updates
    assert list(result.deletions) == deletions
    assert result.creation == creation


@pytest.mark.parametrize(
    ("periods", "kind", "updates", "kept"),
    [
        ([(D(2025, 1, 1), None)], "end", [(1, D(2025, 1, 1), D(2026, 10, 31))], []),
        ([(D(2025, 1, 1), D(2026, 11, 20))], "end", [(1, D(2025, 1, 1), D(2026, 10, 31))], []),
        ([(D(2025, 1, 1), D(2025, 12, 31))], None, None, None),
        ([(D(2025, 1, 1), D(2026, 10, 31))], None, None, None),
        ([(D(2026, 11, 1), None)], "keep", [], [(D(2026, 11, 1), None)]),
        (
            [(D(2025, 1, 1), D(2026, 11, 5)), (D(2026, 11, 10), None)],
            "end",
            [(1, D(2025, 1, 1), D(2026, 10, 31))],
            [(D(2026, 11, 10), None)],
        ),
        ([(D(2026, 12, 1), None)], None, None, None),
    ],
)
def test_an_unlisted_persons_periods(periods, kind, updates, kept):
    result = change(periods, listed=False)
    if kind is None:
        assert result is None
        return
    assert result.kind == kind
    assert list(result.updates) == updates
    assert list(result.kept) == kept
    assert not result.deletions and result.creation is None


def test_month_ends():
    assert services.month_end(D(2026, 2, 1)) == D(2026, 2, 28)
    assert services.month_end(D(2028, 2, 1)) == D(2028, 2, 29)
    assert services.month_end(D(2026, 12, 1)) == D(2026, 12, 31)
    assert services.list_months(D(2026, 1, 15)) == [D(2026, 1, 1), D(2025, 12, 1)]


def test_the_categories_of_new_people_must_be_in_use(client, world):
    w = world
    client.force_login(w["bureau"])
    category = services.add_vocabulary_entry(
        actor=w["bureau"], model=AssistanceCategory, name="停用类别"
    )
    services.set_vocabulary_entry_active(actor=w["bureau"], entry=category, active=False)
    preview = upload(
        client,
        list_file([person_row(w["sun_id"], "孙志刚", w["committees_a"][0].code, "停用类别")]),
    )
    assert errors_of(preview) == [(2, "救助类别中的“停用类别”已停用,不可选用。")]
