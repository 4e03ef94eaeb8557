"""The month summaries of C9 (`visits.summaries`): kept in step with every write, through
pages, imports and bulk operations, so that a rebuild from the base tables finds nothing to
change; each hook on its own; the month in progress built when it begins; fixed queries."""

import datetime
import io
import random

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases import services as case_services
from cases.charges import record_charges
from cases.choices import Urgency
from cases.models import CurrentPeriod, Recipient
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point, make_two_streets
from visits import coverage, summaries
from visits.choices import CheckLevel, VisitMethod, VisitResult
from visits.models import CommitteeMonth, PersonMonth, SummaryMonth, Visit, VisitPolicy
from visits.tests.factories import make_visit

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)
TODAY = timezone.localdate()
THIS_MONTH = TODAY.replace(day=1)
LAST_MONTH = (THIS_MONTH - DAY).replace(day=1)
SINCE = D(2025, 1, 1)
MAR, APR = D(2026, 3, 1), D(2026, 4, 1)
NOTHING = {"person_months": [], "committee_months": []}


@pytest.fixture
def world():
    """Two streets of one district. Street A: 甲顾问 (the login advisor_a) and 丁顾问 at its
    first committee's point; street B: 乙顾问. People are added by each test."""
    w = make_two_streets()
    w["point_a"] = committee_point(w["committees_a"][0])
    w["point_b"] = committee_point(w["committees_b"][0])
    w["gw_a"] = make_advisor(w["street_a"], [w["point_a"]], name="甲顾问", user=w["advisor_a"])
    w["gw_a2"] = make_advisor(w["street_a"], [w["point_a"]], name="丁顾问")
    w["gw_b"] = make_advisor(w["street_b"], [w["point_b"]], name="乙顾问", user=w["advisor_b"])
    return w


def row(person, month):
    return PersonMonth.objects.filter(recipient=person, month=month).first()


def committee_figure(committee, month):
    found = CommitteeMonth.objects.filter(committee=committee, month=month).first()
    return coverage.Figure(found.due, found.visited) if found else coverage.Figure()


def base_figures(months):
    """C9 per committee as coverage.py computes it from the base tables."""
    return coverage.period_figures(Recipient.objects.all(), months, VisitPolicy(), by="committee")


# Pages, imports and bulk operations in a random order -----------------------------------------


def visit_payload(advisor, day, **overrides):
    data = {
        "advisor": advisor.pk,
        "visited_on": day.isoformat(),
        "visited_at": "09:30",
        "method": VisitMethod.HOME,
        "result": VisitResult.COMPLETED,
        "findings": "走访情况",
        "living": CheckLevel.NORMAL,
        "health": "",
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


def edit_payload(person, **overrides):
    data = {
        "committee": person.committee_id,
        "name": person.name,
        "gender": person.gender,
        "id_number": str(person.id_number),
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


def workbook(rows, headers):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(headers)
    for values in rows:
        sheet.append([values.get(header, "") for header in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def import_visits(client, rows):
    """The visits import as a street manager does it: template, upload, preview, confirm."""
    template = client.get(reverse("visits:import_template")).content
    headers = [cell.value for cell in openpyxl.load_workbook(io.BytesIO(template)).active[1]]
    content = workbook(rows, headers)
    response = client.post(
        reverse("visits:import"), {"file": SimpleUploadedFile("走访.xlsx", content)}
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    preview = client.get(response["Location"])
    assert preview.context["plan"].errors == []
    done = client.post(
        preview.request["PATH_INFO"], {"digest": preview.context["plan"].digest()}, follow=True
    )
    assert done.status_code == 200


def import_current_list(client, people, first):
    """The month's list of current recipients of street A, as its manager imports it."""
    headers = ["身份证号", "姓名", "居委代码", "救助类别", "地址", "联系电话"]
    rows = [
        {
            "身份证号": person.plain_id_number(),
            "姓名": person.name,
            "居委代码": person.committee.code,
            "救助类别": "低保",
        }
        for person in people
    ]
    month = f"{first:%Y-%m}"
    response = client.post(
        reverse("cases:current_list_import"),
        {"month": month, "file": SimpleUploadedFile("名单.xlsx", workbook(rows, headers))},
    )
    assert response.status_code == 302, response.content.decode()[:1000]
    preview = client.get(response["Location"])
    assert preview.context["plan"].errors == []
    done = client.post(
        preview.request["PATH_INFO"],
        {"digest": preview.context["plan"].digest(), "month": month},
        follow=True,
    )
    assert done.status_code == 200


def random_day(rng, start=None):
    start = start or D(2025, 6, 1)
    return start + DAY * rng.randrange((TODAY - start).days + 1)


def test_random_writes_through_pages_imports_and_bulk_operations_leave_nothing_to_rebuild(
    client, world
):
    w = world
    rng = random.Random(9)
    a1, a2 = w["committees_a"]
    people = []
    for index in range(8):
        starts = SINCE + DAY * rng.randrange(400)
        ends = starts + DAY * rng.randrange(30, 300) if index % 3 == 0 else None
        person = make_recipient(
            (a1, a2)[index % 2],
            name=f"甲街{index}",
            advisor=(w["gw_a"], w["gw_a2"])[index % 2],
            charged_from=SINCE,
        )
        CurrentPeriod.objects.create(recipient=person, starts_on=starts, ends_on=ends)
        people.append(person)
    outsider = make_recipient(
        w["committees_b"][0], advisor=w["gw_b"], current_from=SINCE, charged_from=SINCE
    )
    make_visit(outsider, w["gw_b"], LAST_MONTH)
    VisitPolicy.objects.create(district=w["district"], excluded_methods=[VisitMethod.VIDEO])
    client.force_login(w["manager_a"])
    advisors = [w["gw_a"], w["gw_a2"]]
    done = []
    kinds = ["visit"] * 9 + ["edit", "withdraw", "move", "period", "hand_over", "charges"] * 3
    kinds += ["import", "list"] * 2
    rng.shuffle(kinds)
    for kind in kinds:
        person = Recipient.objects.get(pk=rng.choice(people).pk)
        visits = list(Visit.objects.kept().filter(recipient__in=people).order_by("pk"))
        if kind == "visit":
            day = random_day(rng)
            method = rng.choice([VisitMethod.HOME, VisitMethod.PHONE, VisitMethod.VIDEO])
            result = rng.choice([VisitResult.COMPLETED] * 3 + [VisitResult.NOBODY_HOME])
            response = client.post(
                f"{reverse('visits:create')}?recipient={person.pk}",
                visit_payload(advisors[0], day, method=method, result=result),
            )
        elif kind == "edit" and visits:
            visit = rng.choice(visits)
            response = client.post(
                reverse("visits:edit", args=[visit.pk]),
                visit_payload(visit.advisor, random_day(rng), method=visit.method),
            )
        elif kind == "withdraw" and visits:
            visit = rng.choice(visits)
            response = client.post(reverse("visits:withdraw", args=[visit.pk]), {"reason": "录错"})
        elif kind == "move":
            other = a2 if person.committee_id == a1.pk else a1
            response = client.post(
                reverse("cases:recipient_edit", args=[person.pk]),
                edit_payload(person, committee=other.pk),
            )
        elif kind == "period":
            open_period = CurrentPeriod.objects.filter(recipient=person, ends_on__isnull=True)
            period = open_period.first()
            if period is not None and period.starts_on < TODAY:
                ends = period.starts_on + DAY * rng.randrange((TODAY - period.starts_on).days)
                response = client.post(
                    reverse("cases:current_end", args=[person.pk]),
                    {"end-ends_on": ends.isoformat()},
                )
            else:
                ends = CurrentPeriod.objects.filter(recipient=person, ends_on__isnull=False)
                last = max(ends.values_list("ends_on", flat=True), default=SINCE)
                starts = last + DAY * rng.randrange(1, 60)
                response = client.post(
                    reverse("cases:current_start", args=[person.pk]),
                    {"start-starts_on": min(starts, TODAY).isoformat()},
                )
        elif kind == "hand_over":
            giver, taker = rng.sample(advisors, 2)
            response = client.post(
                reverse("cases:handover"), {"from_advisor": giver.pk, "to_advisor": taker.pk}
            )
        elif kind == "charges":
            chosen = rng.sample(people, 3)
            record_charges([p.pk for p in chosen], rng.choice(advisors).pk, on=random_day(rng))
            response = None
        elif kind == "import":
            chosen = rng.sample(people, 2)
            import_visits(
                client,
                [
                    {
                        "档案号": p.file_number,
                        "走访日期": random_day(rng).isoformat(),
                        "走访方式": "上门走访",
                        "走访结果": "走访完成",
                        "走访情况": "纸质记录",
                        "顾问编号": advisors[0].advisor_number,
                    }
                    for p in chosen
                ],
            )
            response = None
        elif kind == "list":
            registered = [
                p for p in people if Recipient.objects.get(pk=p.pk).status == "registered"
            ]
            listed = rng.sample(registered, len(registered) // 2)
            import_current_list(
                client, [Recipient.objects.get(pk=p.pk) for p in listed], THIS_MONTH
            )
            response = None
        else:
            continue
        if response is not None:
            assert response.status_code in (200, 302), (kind, response.status_code)
        done.append(kind)
        assert summaries.differences() == NOTHING, done
    assert {"visit", "edit", "move", "import", "list", "charges"} <= set(done)
    # And the kept rollups are C9 as coverage.py computes it from the base tables.
    policy = VisitPolicy.objects.get()
    months = summaries.months_from(SINCE, THIS_MONTH)
    for month in months[-6:]:
        expected = coverage.month_figures(Recipient.objects.all(), month, policy, by="committee")
        for committee_id, figure in expected.items():
            assert committee_figure(committee_id, month) == figure, (month, committee_id)


# Each hook on its own ---------------------------------------------------------------------------


def test_a_visit_saved_withdrawn_and_moved_to_another_month_updates_the_figures(world):
    committee = world["committees_a"][0]
    person = make_recipient(committee, advisor=world["gw_a"], current_from=SINCE)
    assert committee_figure(committee, MAR) == coverage.Figure(due=1, visited=0)

    visit = make_visit(person, world["gw_a"], D(2026, 3, 12))
    assert row(person, MAR).first_visit_on == D(2026, 3, 12)
    assert committee_figure(committee, MAR) == coverage.Figure(due=1, visited=1)

    visit.visited_on = D(2026, 4, 2)
    visit.save()
    assert row(person, MAR).first_visit_on is None
    assert row(person, APR).first_visit_on == D(2026, 4, 2)
    assert committee_figure(committee, MAR) == coverage.Figure(due=1, visited=0)
    assert committee_figure(committee, APR) == coverage.Figure(due=1, visited=1)

    visit.withdrawn_at = timezone.now()
    visit.withdraw_reason = "录错"
    visit.save()
    assert row(person, APR).first_visit_on is None
    assert committee_figure(committee, APR) == coverage.Figure(due=1, visited=0)
    assert summaries.differences() == NOTHING


def test_a_failed_attempt_and_an_excluded_method_do_not_count(world):
    committee = world["committees_a"][0]
    person = make_recipient(committee, advisor=world["gw_a"], current_from=SINCE)
    VisitPolicy.objects.create(district=world["district"], excluded_methods=[VisitMethod.PHONE])
    make_visit(person, world["gw_a"], D(2026, 3, 3), result=VisitResult.NOBODY_HOME)
    make_visit(person, world["gw_a"], D(2026, 3, 4), method=VisitMethod.PHONE)
    assert row(person, MAR).first_visit_on is None
    make_visit(person, world["gw_a"], D(2026, 3, 20))
    assert row(person, MAR).first_visit_on == D(2026, 3, 20)
    assert summaries.differences() == NOTHING


def test_a_shortened_period_makes_the_later_months_not_due(world):
    committee = world["committees_a"][0]
    person = make_recipient(committee, advisor=world["gw_a"], current_from=SINCE)
    assert row(person, APR).due is True
    case_services.end_current(actor=world["manager_a"], recipient=person, ends_on=D(2026, 3, 10))
    assert row(person, MAR).days == 10 and row(person, MAR).due is False
    assert row(person, APR) is None and row(person, THIS_MONTH) is None
    assert committee_figure(committee, MAR).due == 0
    assert summaries.differences() == NOTHING


def test_leaving_the_register_ends_the_months(world):
    person = make_recipient(world["committees_a"][0], current_from=SINCE)
    case_services.exit_register(
        actor=world["manager_a"], recipient=person, exited_on=D(2026, 2, 20), reason="迁出本区"
    )
    assert row(person, D(2026, 2, 1)).days == 20
    assert row(person, MAR) is None
    assert summaries.differences() == NOTHING


def test_a_person_moved_to_another_committee_counts_there_in_every_month(world):
    first, second = world["committees_a"]
    person = make_recipient(first, advisor=world["gw_a"], current_from=SINCE)
    make_visit(person, world["gw_a"], D(2026, 3, 5))
    case_services.update_recipient(actor=world["manager_a"], recipient=person, committee=second)
    assert committee_figure(first, MAR) == coverage.Figure()
    assert committee_figure(second, MAR) == coverage.Figure(due=1, visited=1)
    assert set(
        PersonMonth.objects.filter(recipient=person).values_list("committee", flat=True)
    ) == {second.pk}
    assert summaries.differences() == NOTHING


def test_the_misses_of_given_streets_are_those_of_the_people_there(world):
    """`misses(..., streets)` reads the summaries by street: the same people as without,
    a person moved to another street found under their new street in an earlier month."""
    policy = VisitPolicy()
    missed_a = make_recipient(world["committees_a"][0], current_from=SINCE)
    moved = make_recipient(world["committees_a"][1], current_from=SINCE)
    missed_b = make_recipient(world["committees_b"][0], current_from=SINCE)
    visited_b = make_recipient(world["committees_b"][0], current_from=SINCE)
    make_visit(visited_b, world["gw_b"], D(2026, 3, 9))
    case_services.update_recipient(
        actor=world["bureau"], recipient=moved, committee=world["committees_b"][0]
    )
    street_a, street_b = world["street_a"], world["street_b"]
    everyone = Recipient.objects.all()
    in_b = Recipient.objects.filter(street=street_b)

    def pks(rows):
        return sorted(person.pk for person in rows)

    assert pks(coverage.misses(everyone, MAR, policy)) == pks([missed_a, moved, missed_b])
    assert pks(coverage.misses(everyone, MAR, policy, [street_a.pk, street_b.pk])) == pks(
        [missed_a, moved, missed_b]
    )
    assert pks(coverage.misses(in_b, MAR, policy, [street_b.pk])) == pks([moved, missed_b])
    assert pks(coverage.misses(in_b, MAR, policy)) == pks([moved, missed_b])
    assert pks(coverage.misses(everyone, MAR, policy, [street_a.pk])) == [missed_a.pk]
    # Computed from the base tables (a policy the summaries do not hold): the same people.
    other = VisitPolicy(due_days=25)
    assert pks(coverage.misses(everyone, MAR, other, [street_a.pk])) == [missed_a.pk]
    assert pks(coverage.misses(everyone, MAR, other, [street_b.pk])) == pks([moved, missed_b])


def test_a_change_of_responsible_advisor_moves_the_months_from_its_day(world):
    person = make_recipient(
        world["committees_a"][0], advisor=world["gw_a"], current_from=SINCE, charged_from=SINCE
    )
    record_charges([person.pk], world["gw_a2"].pk, on=D(2026, 3, 31))
    assert row(person, D(2026, 2, 1)).advisor == world["gw_a"]
    assert row(person, MAR).advisor == world["gw_a2"]
    assert row(person, THIS_MONTH).advisor == world["gw_a2"]
    assert summaries.differences() == NOTHING


def test_a_change_of_the_districts_due_days_recounts_its_months(world, client):
    committee = world["committees_a"][0]
    person = make_recipient(committee, current_from=D(2026, 3, 12))  # 20 days of March
    assert row(person, MAR).due is True
    client.force_login(world["bureau"])
    response = client.post(
        reverse("visits:policy"),
        {"due_days": "21", "late_entry_day": "5", "reminder_days": "7"},
    )
    assert response.status_code == 302
    assert row(person, MAR).due is False
    assert committee_figure(committee, MAR).due == 0
    VisitPolicy.objects.filter(district=world["district"]).get().delete()
    assert row(person, MAR).due is True
    assert summaries.differences() == NOTHING


def test_the_month_in_progress_is_built_when_it_begins(world, monkeypatch):
    person = make_recipient(world["committees_a"][0], current_from=SINCE)
    following = (THIS_MONTH + 32 * DAY).replace(day=1)
    assert row(person, following) is None  # never a future month
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: following)
    # Midnight on the 1st: nobody wrote anything yet; the first read builds the month.
    assert summaries.ensure_month() is True
    assert row(person, following).due is True
    assert SummaryMonth.objects.filter(month=following).exists()
    with CaptureQueriesContext(connection) as queries:
        assert summaries.ensure_month() is False
    assert len(queries) == 1
    assert summaries.differences() == NOTHING


def test_the_daily_job_builds_the_month_and_a_second_run_finds_it_built(world, monkeypatch):
    person = make_recipient(world["committees_a"][0], current_from=SINCE)
    following = (THIS_MONTH + 32 * DAY).replace(day=1)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: following)
    out = io.StringIO()
    call_command("run_scheduled", "--job", "visit_summaries", stdout=out)
    assert f"已生成{following.year}年{following.month}月的走访汇总" in out.getvalue()
    assert row(person, following) is not None
    out = io.StringIO()
    call_command("run_scheduled", "--job", "visit_summaries", stdout=out)
    assert "走访汇总已是最新" in out.getvalue()


def test_the_check_command_finds_a_tampered_row_and_the_rebuild_mends_it(world):
    person = make_recipient(world["committees_a"][0], current_from=SINCE)
    PersonMonth.objects.filter(recipient=person, month=MAR).update(days=3)
    out = io.StringIO()
    with pytest.raises(Exception, match="不一致"):
        call_command("rebuild_summaries", "--check", stdout=out)
    assert "对象月度汇总 多余" in out.getvalue()
    assert row(person, MAR).days == 3  # --check writes nothing
    call_command("rebuild_summaries", stdout=io.StringIO())
    assert row(person, MAR).days == 31
    out = io.StringIO()
    call_command("rebuild_summaries", "--check", stdout=out)
    assert "一致" in out.getvalue()


# Fixed queries ----------------------------------------------------------------------------------


def test_a_refresh_runs_the_same_queries_for_few_and_many_people(world):
    committees = world["committees_a"] + world["committees_b"]

    def add(count):
        made = []
        for index in range(count):
            person = make_recipient(
                committees[index % 3],
                advisor=world["gw_a"] if index % 3 < 2 else world["gw_b"],
                current_from=SINCE,
            )
            make_visit(person, world["gw_a"] if index % 3 < 2 else world["gw_b"], MAR)
            made.append(person.pk)
        return made

    def refresh(ids):
        with CaptureQueriesContext(connection) as queries:
            summaries.refresh_people(ids)
        return len(queries)

    small = refresh(add(3))
    large = refresh(add(20))
    assert small == large
    assert summaries.differences() == NOTHING


def test_a_deferred_block_refreshes_once(world):
    people = [make_recipient(world["committees_a"][0], current_from=SINCE) for _ in range(3)]
    with CaptureQueriesContext(connection) as one:
        make_visit(people[0], world["gw_a"], MAR)
    with CaptureQueriesContext(connection) as three, summaries.deferred():
        for person in people:
            make_visit(person, world["gw_a"], APR)
    table = PersonMonth._meta.db_table
    refreshes = [q for q in three if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(refreshes) == 1
    assert len(three) < 3 * len(one)
    assert all(row(person, APR).first_visit_on == APR for person in people)


def test_a_person_deleted_leaves_their_committees_months(world):
    committee = world["committees_a"][0]
    staying = make_recipient(committee, current_from=SINCE)
    leaving = [make_recipient(committee, current_from=SINCE) for _ in range(2)]
    assert committee_figure(committee, MAR).due == 3
    leaving[0].delete()
    assert committee_figure(committee, MAR).due == 2
    with summaries.deferred():
        leaving[1].delete()
    assert committee_figure(committee, MAR).due == 1
    assert row(staying, MAR).due is True
    assert summaries.differences() == NOTHING


# The pages read the summaries -------------------------------------------------------------------


def test_the_figures_are_read_from_the_summaries_under_the_districts_policy(world):
    committee = world["committees_a"][0]
    person = make_recipient(committee, advisor=world["gw_a"], current_from=D(2026, 3, 12))
    make_visit(person, world["gw_a"], D(2026, 3, 20))
    people = Recipient.objects.all()
    assert coverage.month_figures(people, MAR, VisitPolicy()) == coverage.Figure(1, 1)
    # A made-up policy is a question the summaries do not hold: computed from the base tables.
    assert coverage.month_figures(people, MAR, VisitPolicy(due_days=25)) == coverage.Figure()
    # The district's own policy is read from the rows (a tampered row shows through).
    PersonMonth.objects.filter(recipient=person, month=MAR).update(first_visit_on=None)
    assert coverage.month_figures(people, MAR, VisitPolicy()) == coverage.Figure(1, 0)
    assert [p.pk for p in coverage.misses(people, MAR, VisitPolicy())] == [person.pk]


def test_the_figures_run_the_same_queries_for_few_and_many_people(world):
    committees = world["committees_a"] + world["committees_b"]
    advisors = [world["gw_a"], world["gw_a"], world["gw_b"]]
    policy = VisitPolicy()
    months = coverage.months_ending(THIS_MONTH, 12)

    def add(count):
        for index in range(count):
            person = make_recipient(
                committees[index % 3], advisor=advisors[index % 3], current_from=SINCE
            )
            if index % 2:
                make_visit(person, advisors[index % 3], months[-2])

    def run():
        people = Recipient.objects.all()
        with CaptureQueriesContext(connection) as queries:
            figures = [
                coverage.month_figures(people, months[-2], policy),
                coverage.period_figures(people, months, policy, by="street"),
                coverage.period_figures(people, months, policy, by="committee"),
                coverage.period_figures(people, months, policy, by="advisor"),
            ]
            listed = [
                list(coverage.misses(people, months[-2], policy)),
                list(coverage.due_in(people, THIS_MONTH, policy)),
                list(coverage.matrix(people, months, policy)),
            ]
        return len(queries), figures, listed

    add(3)
    small, figures, listed = run()
    assert figures[0] == coverage.Figure(3, 1)
    assert len(listed[2]) == 3
    add(30)
    large, figures, listed = run()
    assert figures[0] == coverage.Figure(33, 16)
    assert len(listed[0]) == 17
    assert small == large


def test_area_figures_from_the_rollups_equal_those_computed_from_the_base_tables(world):
    """The bureau's and a street manager's figures (dashboard, compliance) read the committee
    rollups; a policy the summaries do not hold computes them from the people, the same."""
    a, b = world["committees_a"][0], world["committees_b"][0]
    seen = make_recipient(a, advisor=world["gw_a"], current_from=D(2026, 2, 20))
    make_visit(seen, world["gw_a"], D(2026, 3, 2))
    make_recipient(a, advisor=world["gw_a2"], current_from=D(2026, 3, 1))
    make_recipient(b, advisor=world["gw_b"], current_from=D(2026, 1, 1))
    district, street_a = world["street_a"].district_id, world["street_a"].pk
    months = [D(2026, 2, 1), MAR, APR]
    kept = VisitPolicy(district_id=district)  # the defaults: read from the summaries
    made_up = VisitPolicy(district_id=district, due_days=14)  # computed from the base tables

    for by in ("month", "street", None):
        for street in (None, street_a):
            summed = coverage.area_figures(months, kept, district=district, street=street, by=by)
            computed = coverage.area_figures(
                months, made_up, district=district, street=street, by=by
            )
            assert summed == computed
    by_month = coverage.area_figures(months, kept, district=district, street=street_a, by="month")
    assert by_month[MAR] == coverage.Figure(due=2, visited=1)
    assert by_month[D(2026, 2, 1)] == coverage.Figure()
