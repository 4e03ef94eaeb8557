"""The daily jobs behind the notifications, and `run_scheduled` that runs them all."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.choices import Role
from advisors.tests.factories import make_advisor
from cases.tests.factories import make_recipient
from changning_aid import scheduled
from notifications import hooks, jobs
from notifications.choices import NotificationKind
from notifications.models import Notification
from stations.tests.factories import committee_point, make_committee, make_street, make_user
from supervision.models import OrderStatus, RectificationOrder
from visits.tests.factories import make_visit

pytestmark = pytest.mark.django_db

# Early November 2026: October's misses are due out; advisors may still enter October late.
TODAY = datetime.date(2026, 11, 3)
OCTOBER = datetime.date(2026, 10, 1)


@pytest.fixture(autouse=True)
def order_pages(monkeypatch):
    """Orders' pages as supervision names them, whether or not its URLs are mounted yet."""
    monkeypatch.setattr(
        RectificationOrder, "get_absolute_url", lambda order: f"/supervision/orders/{order.pk}/"
    )


def people(committee, count, *, visited_by=None):
    """`count` current recipients since January; those `visited_by` an advisor were visited
    in October."""
    made = [make_recipient(committee, current_from=datetime.date(2026, 1, 1)) for _ in range(count)]
    if visited_by is not None:
        for person in made:
            make_visit(person, visited_by, datetime.date(2026, 10, 12))
    return made


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("run_scheduled", *args, stdout=out, stderr=err)
    return out.getvalue()


def make_order(street, bureau, *, deadline, status=OrderStatus.OPEN, issued_on=None):
    issued_on = issued_on or datetime.date(2026, 10, 1)
    return RectificationOrder.objects.create(
        street=street,
        problem="服务点标牌不规范",
        issued_on=issued_on,
        issued_by=bureau,
        original_deadline=deadline,
        deadline=deadline,
        status=status,
    )


def titles(user):
    return list(
        Notification.objects.filter(recipient=user).order_by("pk").values_list("title", flat=True)
    )


# Visit misses -------------------------------------------------------------------------------


def test_each_street_manager_hears_of_their_own_streets_misses_only(two_streets):
    advisor_a = make_advisor(two_streets.street_a, [committee_point(two_streets.committees_a[0])])
    people(two_streets.committees_a[0], 1, visited_by=advisor_a)
    people(two_streets.committees_a[1], 1)  # street A: 2 due, 1 missed
    people(two_streets.committees_b[0], 3)  # street B: 3 due, 3 missed
    second_manager_a = make_user("manager_a2", Role.STREET_MANAGER, street=two_streets.street_a)
    # A street where everyone was visited hears nothing.
    street_c = make_street(two_streets.district, "新华路街道", "310105003")
    committee_c = make_committee(street_c, "新华居委会", "310105003001")
    advisor_c = make_advisor(street_c, [committee_point(committee_c)])
    people(committee_c, 2, visited_by=advisor_c)
    manager_c = make_user("manager_c", Role.STREET_MANAGER, street=street_c)

    summary = jobs.notify_visit_misses(TODAY)

    assert titles(two_streets.manager_a) == ["2026年10月走访漏访 1 人"]
    assert titles(second_manager_a) == ["2026年10月走访漏访 1 人"]
    assert titles(two_streets.manager_b) == ["2026年10月走访漏访 3 人"]
    assert titles(manager_c) == []
    assert titles(two_streets.bureau) == [] and titles(two_streets.advisor_a) == []
    mine = Notification.objects.get(recipient=two_streets.manager_a)
    assert mine.kind == NotificationKind.VISIT_MISSES
    assert mine.url == "/visits/misses/?month=2026-10"
    assert mine.dedupe_key == "visit_misses:310105001:2026-10"
    assert "华阳路街道 2026年10月应走访 2 人,已走访 1 人,漏访 1 人(走访率 50.0%)" in mine.body
    assert "江苏路" not in mine.body
    assert "顾问可在本月 5 日(含)之前补录上月的走访" in mine.body
    assert "2 个街镇有漏访,新发通知 3 条" in summary

    # The next days of the window: nothing new, even with more misses found since.
    people(two_streets.committees_b[0], 1)
    assert "新发通知 0 条" in jobs.notify_visit_misses(TODAY + datetime.timedelta(days=1))
    assert Notification.objects.count() == 3


def test_visit_misses_go_out_on_the_first_seven_days_of_a_month_only(two_streets):
    people(two_streets.committees_b[0], 1)
    summary = jobs.notify_visit_misses(datetime.date(2026, 11, 8))
    assert "1 日至 7 日" in summary
    assert not Notification.objects.exists()
    # A run missed on the 1st still catches up on the 7th (after the late-entry days).
    jobs.notify_visit_misses(datetime.date(2026, 11, 7))
    assert titles(two_streets.manager_b) == ["2026年10月走访漏访 1 人"]
    assert "补录" not in Notification.objects.get().body


# Rectification orders -----------------------------------------------------------------------


def test_a_new_order_tells_the_street_managers_of_its_street(two_streets):
    order = make_order(two_streets.street_a, two_streets.bureau, deadline=TODAY)
    assert hooks.order_issued(order, two_streets.bureau) == 1
    assert hooks.order_issued(order, two_streets.bureau) == 0
    notification = Notification.objects.get()
    assert notification.recipient == two_streets.manager_a
    assert notification.kind == NotificationKind.NEW_ORDER
    assert notification.title == f"新的整改通知 {order.number},期限 2026-11-03"
    assert notification.url == f"/supervision/orders/{order.pk}/"


def test_deadlines_within_three_days_reach_whoever_must_act(two_streets):
    open_order = make_order(
        two_streets.street_a, two_streets.bureau, deadline=datetime.date(2026, 11, 5)
    )
    answered = make_order(
        two_streets.street_b,
        two_streets.bureau,
        deadline=datetime.date(2026, 11, 6),
        status=OrderStatus.ANSWERED,
    )
    make_order(two_streets.street_a, two_streets.bureau, deadline=datetime.date(2026, 11, 7))

    jobs.notify_deadlines_soon(TODAY)
    jobs.notify_deadlines_soon(TODAY)

    assert titles(two_streets.manager_a) == [f"整改通知 {open_order.number} 2 天后到期"]
    assert titles(two_streets.bureau) == [f"整改通知 {answered.number} 待验收,3 天后到期"]
    assert titles(two_streets.manager_b) == []  # answered: the bureau's turn
    assert Notification.objects.filter(kind=NotificationKind.DEADLINE_SOON).count() == 2


def test_a_missed_deadline_tells_the_street_and_the_bureau_once_per_deadline(two_streets):
    order = make_order(
        two_streets.street_a, two_streets.bureau, deadline=datetime.date(2026, 11, 2)
    )
    make_order(two_streets.street_b, two_streets.bureau, deadline=TODAY)  # due today: not missed

    jobs.notify_overdue(TODAY)
    jobs.notify_overdue(TODAY)

    expected = [f"整改通知 {order.number} 已逾期(华阳路街道)"]
    assert titles(two_streets.manager_a) == expected
    assert titles(two_streets.bureau) == expected
    assert titles(two_streets.manager_b) == []
    # Extended, then missed again: heard of again.
    RectificationOrder.objects.filter(pk=order.pk).update(deadline=datetime.date(2026, 11, 10))
    jobs.notify_overdue(datetime.date(2026, 11, 9))
    assert len(titles(two_streets.manager_a)) == 1
    jobs.notify_overdue(datetime.date(2026, 11, 11))
    assert len(titles(two_streets.manager_a)) == 2
    heard = Notification.objects.filter(dedupe_key__startswith=f"deadline_missed:{order.pk}:")
    assert sorted(heard.values_list("recipient__username", "dedupe_key")) == [
        ("bureau_t", f"deadline_missed:{order.pk}:2026-11-02"),
        ("bureau_t", f"deadline_missed:{order.pk}:2026-11-10"),
        ("manager_a", f"deadline_missed:{order.pk}:2026-11-02"),
        ("manager_a", f"deadline_missed:{order.pk}:2026-11-10"),
    ]


def test_closed_orders_are_never_overdue(two_streets):
    order = make_order(
        two_streets.street_a, two_streets.bureau, deadline=datetime.date(2026, 10, 20)
    )
    RectificationOrder.objects.filter(pk=order.pk).update(
        status=OrderStatus.CLOSED,
        closed_by=two_streets.bureau,
        closed_on=datetime.date(2026, 10, 19),
    )
    jobs.notify_overdue(TODAY)
    jobs.notify_deadlines_soon(TODAY)
    assert not Notification.objects.exists()


# run_scheduled ------------------------------------------------------------------------------


def world_with_something_to_say(two_streets):
    people(two_streets.committees_a[0], 2)
    make_order(two_streets.street_a, two_streets.bureau, deadline=datetime.date(2026, 11, 1))
    make_order(two_streets.street_b, two_streets.bureau, deadline=datetime.date(2026, 11, 4))


def test_run_scheduled_twice_makes_no_duplicates(two_streets):
    world_with_something_to_say(two_streets)
    first = run("--date", TODAY.isoformat())
    made = Notification.objects.count()
    # manager A: misses + overdue; bureau: overdue; manager B: deadline soon.
    assert made == 4
    assert "[anonymise_recipients]" in first and "[visit_misses]" in first
    assert "[rectification_overdue] 逾期未办结的整改通知 1 件,新发通知 2 条" in first
    assert first.rstrip().endswith("定时任务已完成。")
    second = run("--date", TODAY.isoformat())
    assert Notification.objects.count() == made
    assert "新发通知 0 条" in second


def test_run_scheduled_runs_as_of_today_by_default(two_streets, monkeypatch):
    world_with_something_to_say(two_streets)
    monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: TODAY)
    run()
    run()
    assert titles(two_streets.manager_a) == [
        "2026年10月走访漏访 2 人",
        f"整改通知 {RectificationOrder.objects.get(street=two_streets.street_a).number}"
        " 已逾期(华阳路街道)",
    ]
    assert Notification.objects.count() == 4


def test_a_failing_job_is_rolled_back_and_the_others_still_run(two_streets, monkeypatch):
    world_with_something_to_say(two_streets)

    def broken(today):
        Notification.objects.create(recipient=two_streets.bureau, title="半途", dedupe_key="x")
        raise RuntimeError("数据库出错")

    jobs_in_order = {"broken": broken, **scheduled.registered_jobs()}
    monkeypatch.setattr(scheduled, "JOBS", jobs_in_order)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match="1 项失败"):
        call_command("run_scheduled", "--date", TODAY.isoformat(), stdout=out, stderr=err)
    assert "[broken] 失败,已回滚:数据库出错" in err.getvalue()
    assert "[rectification_overdue]" in out.getvalue()
    assert not Notification.objects.filter(title="半途").exists()
    assert Notification.objects.count() == 4


def test_run_scheduled_runs_only_the_jobs_named(two_streets):
    world_with_something_to_say(two_streets)
    output = run("--date", TODAY.isoformat(), "--job", "rectification_overdue")
    assert "[visit_misses]" not in output and "[rectification_overdue]" in output
    assert set(Notification.objects.values_list("kind", flat=True)) == {
        NotificationKind.DEADLINE_MISSED
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--job", "no_such_job"], "没有这项定时任务:no_such_job"),
        (["--date", "2026-13-01"], "日期格式不正确"),
    ],
)
def test_run_scheduled_refuses_bad_arguments(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not Notification.objects.exists()


def test_a_job_name_is_registered_once():
    with pytest.raises(Exception, match="registered twice"):

        @scheduled.daily_job("visit_misses")
        def another(today):
            return ""
