"""Rule C10: each of a street's four lists is non-empty and changed, or reviewed, in the period.

The period of these tests is March 2026 (Asia/Shanghai); the rows' timestamps are set by
hand (`stamp`) so that each case says exactly when each list last changed.
"""

import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from advisors.tests.factories import make_advisor
from cases import services
from cases.checklists import C10, checklist_upkeep, month_of, period_bounds, with_summaries
from cases.choices import Checklist, ServiceItem, ServiceTask
from cases.models import ChecklistReview, ServiceRecord
from cases.tests.factories import make_need, make_recipient, make_resource
from stations.models import Street
from stations.tests.factories import committee_point, make_committee, make_street

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
MARCH = (datetime.date(2026, 3, 1), datetime.date(2026, 3, 31))
IN_MARCH = datetime.datetime(2026, 3, 15, 10, 0, tzinfo=SHANGHAI)
IN_FEBRUARY = datetime.datetime(2026, 2, 10, 10, 0, tzinfo=SHANGHAI)
LONG_AGO = datetime.datetime(2025, 6, 1, 10, 0, tzinfo=SHANGHAI)


def stamp(obj, updated, created=None):
    """Set a row's timestamps (an update query: auto_now does not step in)."""
    type(obj).objects.filter(pk=obj.pk).update(created_at=created or updated, updated_at=updated)


def fill_lists(street, committee, when, *, skip=()):
    """One row in each of the street's lists (but `skip`), created and changed at `when`."""
    rows = SimpleNamespace()
    rows.advisor = make_advisor(street, [committee_point(committee)])
    person = make_recipient(committee, advisor=rows.advisor)
    rows.need = make_need(person)
    rows.resource = make_resource(street=street)
    rows.service = ServiceRecord.objects.create(
        date=datetime.date(2026, 1, 5),
        advisor=rows.advisor,
        station=committee_point(committee),
        recipient=person,
        item=ServiceItem.DISCOVERY,
        task=ServiceTask.HOME_VISIT,
        content="上门走访",
    )
    kept = {
        Checklist.ADVISORS: rows.advisor,
        Checklist.NEEDS: rows.need,
        Checklist.RESOURCES: rows.resource,
        Checklist.SERVICES: rows.service,
    }
    for checklist, row in kept.items():
        if checklist in skip:
            type(row).objects.filter(pk=row.pk).delete()
        else:
            stamp(row, when)
    return rows


def review(street, checklist, on, by):
    return ChecklistReview.objects.create(street=street, checklist=checklist, reviewed_on=on, by=by)


def upkeep_of(street, first=MARCH[0], last=MARCH[1]):
    report = checklist_upkeep(Street.objects.filter(pk=street.pk), first, last)
    return report.for_street(street.pk)


def test_a_street_with_all_four_lists_changed_this_month_passes(two_streets):
    fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    upkeep = upkeep_of(two_streets.street_a)
    assert upkeep.passed
    assert [item.state_label for item in upkeep.lists] == ["已更新"] * 4


def test_a_list_without_change_but_with_a_review_passes(two_streets):
    rows = fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    stamp(rows.resource, LONG_AGO)
    assert not upkeep_of(two_streets.street_a).passed
    review(
        two_streets.street_a, Checklist.RESOURCES, datetime.date(2026, 3, 20), two_streets.manager_a
    )
    upkeep = upkeep_of(two_streets.street_a)
    resources = upkeep.of(Checklist.RESOURCES)
    assert upkeep.passed
    assert (resources.changed, resources.reviewed, resources.kept) == (False, True, True)
    assert resources.state_label == "已复核"


def test_a_list_changed_only_last_month_fails(two_streets):
    rows = fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    stamp(rows.need, IN_FEBRUARY)
    upkeep = upkeep_of(two_streets.street_a)
    assert not upkeep.passed
    needs = upkeep.of(Checklist.NEEDS)
    assert (needs.filled, needs.changed, needs.kept) == (True, False, False)
    assert needs.state_label == "未更新"
    # A review of another month does not stand in for this one.
    review(two_streets.street_a, Checklist.NEEDS, datetime.date(2026, 2, 28), two_streets.manager_a)
    assert not upkeep_of(two_streets.street_a).passed
    # February itself was kept for needs.
    assert (
        upkeep_of(two_streets.street_a, *month_of(datetime.date(2026, 2, 1)))
        .of(Checklist.NEEDS)
        .kept
    )


def test_an_empty_list_fails_even_with_a_review(two_streets):
    fill_lists(
        two_streets.street_a, two_streets.committees_a[0], IN_MARCH, skip={Checklist.SERVICES}
    )
    review(
        two_streets.street_a, Checklist.SERVICES, datetime.date(2026, 3, 5), two_streets.manager_a
    )
    upkeep = upkeep_of(two_streets.street_a)
    services_list = upkeep.of(Checklist.SERVICES)
    assert (services_list.filled, services_list.reviewed, services_list.kept) == (
        False,
        True,
        False,
    )
    assert services_list.state_label == "清单为空"
    assert not upkeep.passed


def test_a_row_created_after_the_period_does_not_fill_it(two_streets):
    rows = fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    april = datetime.datetime(2026, 4, 2, 9, 0, tzinfo=SHANGHAI)
    stamp(rows.advisor, april)
    roster = upkeep_of(two_streets.street_a).of(Checklist.ADVISORS)
    assert (roster.filled, roster.changed) == (False, False)


def test_a_row_created_in_the_period_and_updated_after_it_still_counts(two_streets):
    rows = fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    stamp(rows.need, datetime.datetime(2026, 4, 3, tzinfo=SHANGHAI), created=IN_MARCH)
    assert upkeep_of(two_streets.street_a).of(Checklist.NEEDS).changed


@pytest.mark.parametrize(
    ("moment", "counts"),
    [
        (datetime.datetime(2026, 2, 28, 23, 59, 59, tzinfo=SHANGHAI), False),
        (datetime.datetime(2026, 3, 1, 0, 0, 0, tzinfo=SHANGHAI), True),
        (datetime.datetime(2026, 3, 31, 23, 59, 59, tzinfo=SHANGHAI), True),
        (datetime.datetime(2026, 4, 1, 0, 0, 0, tzinfo=SHANGHAI), False),
        # 2026-03-31 16:30 UTC is already 1 April in Shanghai.
        (datetime.datetime(2026, 3, 31, 16, 30, tzinfo=datetime.UTC), False),
        # 2026-02-28 16:30 UTC is already 1 March in Shanghai.
        (datetime.datetime(2026, 2, 28, 16, 30, tzinfo=datetime.UTC), True),
    ],
)
def test_period_boundaries_are_shanghai_dates(two_streets, moment, counts):
    rows = fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    stamp(rows.service, moment, created=LONG_AGO)
    assert upkeep_of(two_streets.street_a).of(Checklist.SERVICES).changed is counts


def test_period_bounds_are_midnights_in_shanghai():
    start, end = period_bounds(*MARCH)
    assert start == datetime.datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert end == datetime.datetime(2026, 4, 1, tzinfo=SHANGHAI)
    assert month_of(datetime.date(2026, 2, 14)) == (
        datetime.date(2026, 2, 1),
        datetime.date(2026, 2, 28),
    )
    assert month_of(datetime.date(2026, 12, 31)) == (
        datetime.date(2026, 12, 1),
        datetime.date(2026, 12, 31),
    )


def test_a_district_wide_resource_is_in_every_streets_list(two_streets):
    """A change to a district-wide resource keeps every street's resource list of the district."""
    for street, committee in (
        (two_streets.street_a, two_streets.committees_a[0]),
        (two_streets.street_b, two_streets.committees_b[0]),
    ):
        rows = fill_lists(street, committee, IN_MARCH, skip={Checklist.RESOURCES})
    shared = make_resource(district=two_streets.district, name="全区临时救助")
    stamp(shared, IN_MARCH)
    report = checklist_upkeep(Street.objects.all(), *MARCH)
    assert [item.passed for item in report.streets] == [True, True]
    assert rows  # each street had its other three lists

    stamp(shared, LONG_AGO)
    report = checklist_upkeep(Street.objects.all(), *MARCH)
    resources = [item.of(Checklist.RESOURCES) for item in report.streets]
    assert [(r.filled, r.changed) for r in resources] == [(True, False), (True, False)]


def test_the_figure_counts_streets_and_lists_the_failing_ones(two_streets):
    street_c = make_street(two_streets.district, "新华路街道", "310105003")
    committee_c = make_committee(street_c, "番禺居委会", "310105003001")
    fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    rows_b = fill_lists(two_streets.street_b, two_streets.committees_b[0], IN_MARCH)
    stamp(rows_b.resource, LONG_AGO)
    review(
        two_streets.street_b, Checklist.RESOURCES, datetime.date(2026, 3, 31), two_streets.manager_b
    )
    fill_lists(street_c, committee_c, IN_FEBRUARY)

    report = checklist_upkeep(Street.objects.all(), *MARCH)
    assert (report.result.covered, report.result.total) == (2, 3)
    assert report.result.verdict == "fail"
    assert list(report.result.offenders) == [street_c]
    assert [item.street.code for item in report.streets] == [
        "310105001",
        "310105002",
        "310105003",
    ]

    # The Rule object measures the same figure, by street too.
    result = C10.evaluate(Street.objects.all(), *MARCH)
    assert (result.covered, result.total) == (2, 3)
    assert list(result.offenders) == [street_c]
    by_street = C10.evaluate_by_street(Street.objects.all(), *MARCH)
    assert by_street[two_streets.street_a.pk].passed
    assert not by_street[street_c.pk].passed

    # A street manager's scope holds their street only.
    scope = C10.scope_for(two_streets.manager_a)
    assert C10.evaluate(scope, *MARCH).total == 1


def test_upkeep_runs_one_query_whatever_the_number_of_streets(two_streets):
    fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    with CaptureQueriesContext(connection) as few:
        checklist_upkeep(with_summaries(Street.objects.all()), *MARCH)
    for number in range(3, 9):
        street = make_street(two_streets.district, code=f"310105{number:03d}")
        fill_lists(street, make_committee(street), IN_MARCH)
    with CaptureQueriesContext(connection) as many:
        report = checklist_upkeep(with_summaries(Street.objects.all()), *MARCH)
    assert len(few) == len(many) == 1
    assert report.result.total == 8
    assert report.streets[0].street.needs_count == 1


def test_the_summaries_give_counts_last_change_and_last_review(two_streets):
    rows = fill_lists(two_streets.street_a, two_streets.committees_a[0], IN_MARCH)
    make_resource(district=two_streets.district, name="全区资源")  # in A's list too
    stamp(rows.resource, IN_FEBRUARY)
    review(two_streets.street_a, Checklist.NEEDS, datetime.date(2026, 3, 3), two_streets.manager_a)
    street = with_summaries(Street.objects.filter(pk=two_streets.street_a.pk)).get()
    assert (street.advisors_count, street.needs_count, street.resources_count) == (1, 1, 2)
    assert street.services_count == 1
    assert timezone.localtime(street.needs_updated) == IN_MARCH
    assert street.needs_reviewed_on == datetime.date(2026, 3, 3)
    assert street.resources_reviewed_on is None
    empty = with_summaries(Street.objects.filter(pk=two_streets.street_b.pk)).get()
    assert (empty.needs_count, empty.needs_updated) == (0, None)


def test_a_review_cannot_be_backdated_into_a_past_month(two_streets):
    today = timezone.localdate()
    last_month = today.replace(day=1) - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        services.record_review(
            actor=two_streets.manager_a,
            street=two_streets.street_a,
            checklist=Checklist.NEEDS,
            reviewed_on=last_month,
        )
    assert "只能记录本月的复核" in " ".join(refused.value.messages)
    assert not ChecklistReview.objects.exists()
    review_today = services.record_review(
        actor=two_streets.manager_a, street=two_streets.street_a, checklist=Checklist.NEEDS
    )
    assert review_today.reviewed_on == today
