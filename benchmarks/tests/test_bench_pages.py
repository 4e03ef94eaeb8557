"""The page benchmark in miniature: every page opens for every role it lists, and the pages'
query counts do not grow with the rows (the in-suite half of "the same query count at
Changning and at Shanghai scale").

The smoke data set is built in the test database, with a few leads and a change of
situation (情况变化) so that no list is empty; then the pages are measured once, more
people, visits, needs, services, resources, advisors and leads are added with the project's
factories, and the pages are measured again.
"""

import datetime
import itertools

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from advisors.tests.factories import make_advisor
from benchmarks import data, pages
from benchmarks import run as bench_run
from benchmarks.users import bench_users
from cases.choices import ServiceItem, ServiceTask
from cases.lead_models import Lead, LeadFact
from cases.models import Recipient, ServiceRecord
from cases.tests.factories import make_need, make_recipient, make_resource
from cases.tests.lead_factories import make_source, upload_list
from changning_aid.sensitive.idnumbers import check_character
from stations.tests.factories import make_two_streets
from visits.coverage import current_month, shift_month
from visits.tests.factories import make_visit

pytestmark = pytest.mark.django_db

SMOKE = data.SCALES["smoke"]
_serials = itertools.count(1)


def _new_number(tail=None):
    """A valid ID number not in the data set; ending with `tail` when given."""
    while True:
        serial = next(_serials)
        born = datetime.date(1950, 1, 1) + datetime.timedelta(days=serial)
        sequence = tail[:3] if tail else f"{serial % 1000:03d}"
        first_17 = f"310105{born:%Y%m%d}{sequence}"
        number = first_17 + check_character(first_17)
        if tail and not number.endswith(tail):
            continue
        if not Recipient.objects.filter(id_number__matches=number).exists():
            return number


def _lead_row(name, number, code, note="持残疾人证 二级 肢体"):
    return [name, number, code, "", note]


def _situation(users):
    """The subjects the pages ask about, and the person whose file they open."""
    subjects = pages.pick_subjects(users)
    person = Recipient.objects.select_related("committee", "advisor").get(pk=subjects.recipient_pk)
    return subjects, person


def _leads(dataset, person, count, source):
    """`count` new people as leads in the person's committee, and the person as matched."""
    planned = {p.file_number: p for p in dataset.plan.people}
    rows = [
        _lead_row(f"线索人员{next(_serials)}", _new_number(), person.committee.code)
        for _ in range(count)
    ]
    rows.append(_lead_row(person.name, planned[person.file_number].id_number, ""))
    bureau = bench_users()["bureau"]
    upload_list(bureau, source, rows, today=timezone.localdate())


def _grow(dataset, person, subjects, source):
    """More of every kind of row, in the pages' street and committee and the person's
    name, initials and ID tail (so the searches find more too)."""
    today = timezone.localdate()
    committee, advisor = person.committee, person.advisor
    point = advisor.stations.first()
    last_month = shift_month(current_month(today), -1)
    for index in range(12):
        newcomer = make_recipient(
            committee,
            name=person.name if index % 3 == 0 else None,
            id_number=_new_number(subjects.id_tail if index % 3 == 1 else None),
            current_from=last_month - datetime.timedelta(days=40),
            advisor=advisor,
        )
        make_visit(newcomer, advisor, last_month + datetime.timedelta(days=index % 20))
        make_need(newcomer, found_on=last_month)
        ServiceRecord.objects.create(
            date=last_month,
            advisor=advisor,
            station=point,
            recipient=newcomer,
            item=ServiceItem.DISCOVERY,
            task=ServiceTask.HOME_VISIT,
            content="走访了解近况",
        )
    for _ in range(3):
        make_resource(street=committee.street)
        make_resource(committee=committee)
        make_advisor(committee.street, [point])
    _leads(dataset, person, 6, source)


def _queries(section):
    return {name: figures["queries"] for name, figures in section.pages.items()}


def test_every_page_opens_for_its_roles_with_the_same_queries_at_two_sizes():
    dataset = data.build(SMOKE)
    users = bench_users()
    subjects, person = _situation(users)
    assert person.advisor.user == users["advisor"]
    source = make_source(users["bureau"].district)
    _leads(dataset, person, 3, source)
    assert Lead.objects.filter(committee=person.committee).count() == 3
    assert LeadFact.objects.filter(recipient=person).exists()

    small = pages.run(repeat=1)

    assert small.failures == []
    expected = {f"{page.key}.{role}" for page in pages.PAGES for role in page.roles}
    assert set(small.pages) == expected
    assert small.pages["desk.advisor"]["role"] == "advisor"
    assert "dashboard.advisor" not in small.pages  # the advisor has no dashboard
    for figures in small.pages.values():
        assert figures["queries"] > 0
        assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    header, *rows = small.lines[: len(expected) + 1]
    assert header.split() == ["页面", "角色", "中位数ms", "P95ms", "查询数", "目标"]
    assert any("compliance_year" in row and "街镇管理员" in row for row in rows)

    _grow(dataset, person, subjects, source)
    assert pages.pick_subjects(bench_users()) == subjects  # the same pages, more rows

    large = pages.run(repeat=1)

    assert large.failures == []
    assert _queries(large) == _queries(small)
    other = {"scale": "smoke", "pages": small.pages}
    assert pages.compare_queries(large.pages, other) == []


def test_compare_queries_names_the_pages_whose_count_differs():
    here = {
        "dashboard.bureau": {"role": "bureau", "p50_ms": 80, "p95_ms": 90, "queries": 31},
        "leads.advisor": {"role": "advisor", "p50_ms": 40, "p95_ms": 50, "queries": 15},
        "desk.advisor": {"role": "advisor", "p50_ms": 40, "p95_ms": 50, "queries": 20},
    }
    there = {
        "scale": "changning",
        "pages": {
            "dashboard.bureau": {"role": "bureau", "p50_ms": 99, "p95_ms": 99, "queries": 33},
            "leads.advisor": {"role": "advisor", "p50_ms": 70, "p95_ms": 80, "queries": 15},
        },
    }
    (failure,) = pages.compare_queries(here, there)
    assert "dashboard.bureau" in failure and "31" in failure and "33" in failure
    assert "changning" in failure
    assert pages.compare_queries(here, {"pages": {}}) == []


def test_the_table_marks_pages_over_the_targets_and_managers_slower_than_the_bureau():
    street, dashboard = pages.PAGES[1], pages.PAGES[0]
    results = [
        pages.PageResult(dashboard, "bureau", "/", 90.0, 120.0, 30),
        pages.PageResult(dashboard, "street_manager", "/", 140.0, 160.0, 30),
        pages.PageResult(street, "bureau", "/", 160.0, 320.0, 20),
        pages.PageResult(street, "street_manager", "/", 100.0, 150.0, 20),
    ]
    lines = pages.table(results)
    goals = [
        "目标",
        "达到",
        "未达到:慢于区民政局(90.0)",
        "未达到:中位数超过150、P95超过300",
        "达到",
    ]
    assert [line[len(line) - len(goal) :] for line, goal in zip(lines, goals, strict=True)] == goals
    assert lines[0].split() == ["页面", "角色", "中位数ms", "P95ms", "查询数", "目标"]
    # Aligned: the last column starts at the same display position on every line.
    starts = {
        bench_run._width(line[: len(line) - len(goal)])
        for line, goal in zip(lines, goals, strict=True)
    }
    assert len(starts) == 1


def test_a_role_that_must_use_the_second_factor_gets_a_verified_session(settings):
    world = make_two_streets()
    settings.OTP_REQUIRED_ROLES = ["bureau"]
    people = reverse("cases:recipients")
    plain = Client()
    plain.force_login(world["bureau"])
    assert plain.get(people)["Location"].startswith(reverse("security:otp_setup"))

    client = pages.logged_in_client(world["bureau"])

    assert client.get(people, secure=True).status_code == 200
    # A second login reuses the authenticator the first one was given.
    assert pages.logged_in_client(world["bureau"]).get(people).status_code == 200
    assert TOTPDevice.objects.filter(user=world["bureau"]).count() == 1


def test_a_few_milliseconds_on_a_fast_page_are_noise_not_a_slower_manager():
    recipient = next(page for page in pages.PAGES if page.key == "recipient")
    bureau = pages.PageResult(recipient, "bureau", "/", 20.0, 22.0, 27)
    by_name = {bureau.name: bureau}
    within = pages.PageResult(recipient, "street_manager", "/", 24.9, 26.0, 26)
    beyond = pages.PageResult(recipient, "street_manager", "/", 25.2, 26.0, 26)
    assert pages.verdict(within, by_name) == "达到"
    assert pages.verdict(beyond, by_name) == "未达到:慢于区民政局(20.0)"


def test_the_roles_of_a_page_are_timed_in_turn_and_listed_role_by_role(monkeypatch):
    """The manager's page and the bureau's are timed in the same rounds (a drifting machine
    weighs on both alike); a request that fails drops that role's page, not the others."""
    asked = []

    def timed(client, url):
        asked.append((client, url))
        if client == "manager" and url.startswith("/network/") and len(asked) > 8:
            raise pages.PageFailed("状态 500")
        return 10.0 + len(asked)

    monkeypatch.setattr(pages, "logged_in_client", lambda user: user)
    monkeypatch.setattr(pages, "count_queries", lambda client, url: 7)
    monkeypatch.setattr(pages, "timed_ms", timed)
    users = {"bureau": "bureau", "street_manager": "manager", "advisor": "advisor"}
    subjects = pages.Subjects("310105001", "华阳路街道", None, "", "", "", "", "2026-11", "2026")
    chosen = [page for page in pages.PAGES if page.key in ("dashboard", "street")]

    results, failures = pages.measure_pages(users, subjects, repeat=3, pages=chosen)

    dashboard, street = (page.url(subjects) for page in chosen)
    assert asked[:6] == [("bureau", dashboard), ("manager", dashboard)] * 3
    assert asked[6:9] == [("bureau", street), ("manager", street), ("advisor", street)]
    # The manager's second request fails: asked no more, the others go on.
    assert asked[9:] == [
        ("bureau", street),
        ("manager", street),
        ("advisor", street),
        ("bureau", street),
        ("advisor", street),
    ]
    assert [result.name for result in results] == [
        "dashboard.bureau",
        "street.bureau",
        "dashboard.street_manager",
        "street.advisor",
    ]
    assert failures == [
        f"页面 street.street_manager(街镇主页,街镇管理员)打不开:{street} 应答 状态 500。"
    ]
    assert results[0].p50_ms == 13.0 and results[0].queries == 7
