"""Rectification orders (限期整改): the services' rules, rule C12 on exact cases, and the pages
through the browser's requests (the whole workflow, scope, roles, files, query counts)."""

import datetime
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from stations.models import Street
from supervision import rectification
from supervision.models import (
    EvidenceFile,
    Finding,
    OrderEvent,
    OrderEventKind,
    OrderStatus,
    RectificationOrder,
)
from supervision.rectification import deadline_compliance
from supervision.tests.inspection_factories import (
    PDF_BYTES,
    PNG_BYTES,
    make_answer,
    make_finding,
    make_inspection,
    make_order,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Uploaded files go to a folder of the test's own."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def d(text):
    return datetime.date.fromisoformat(text)


# Rule C12 on exact cases ----------------------------------------------------------------------

OCTOBER = (d("2026-10-01"), d("2026-10-31"))


@pytest.fixture
def c12(two_streets):
    """Orders of street A (and one of street B) around October 2026, named by their case."""
    bureau, a, b = two_streets.bureau, two_streets.street_a, two_streets.street_b

    def order(street=a, **kwargs):
        return make_order(street, by=bureau, **kwargs)

    cases = {
        "closed_before_deadline": order(deadline=d("2026-10-15"), closed_on=d("2026-10-10")),
        "closed_on_deadline_day": order(deadline=d("2026-10-16"), closed_on=d("2026-10-16")),
        "closed_after_deadline": order(deadline=d("2026-10-15"), closed_on=d("2026-10-20")),
        "open_past_deadline": order(deadline=d("2026-10-12")),
        "answered_not_verified": order(deadline=d("2026-10-13"), status=OrderStatus.ANSWERED),
        "sent_back": order(deadline=d("2026-10-14")),
        # Extended from 15 October to 20 November: not due in October.
        "extended_not_passed": order(
            original_deadline=d("2026-10-15"), deadline=d("2026-11-20"), issued_on=d("2026-10-01")
        ),
        # Extended from 5 to 25 October and closed on the 22nd: in time.
        "extended_closed_in_time": order(
            original_deadline=d("2026-10-05"),
            deadline=d("2026-10-25"),
            issued_on=d("2026-09-20"),
            closed_on=d("2026-10-22"),
        ),
        "carried_open": order(deadline=d("2026-09-20"), issued_on=d("2026-09-01")),
        "carried_closed_in_period": order(
            deadline=d("2026-09-21"), issued_on=d("2026-09-01"), closed_on=d("2026-10-03")
        ),
        "closed_late_before_period": order(
            deadline=d("2026-09-10"), issued_on=d("2026-09-01"), closed_on=d("2026-09-25")
        ),
        "due_next_month": order(deadline=d("2026-11-05"), issued_on=d("2026-10-20")),
        "street_b_open_past_deadline": order(street=b, deadline=d("2026-10-12")),
    }
    # The sent-back order was answered, the answer refused: it is open again.
    make_answer(cases["sent_back"], by=two_streets.manager_a, with_file=False)
    OrderEvent.objects.create(
        order=cases["sent_back"],
        kind=OrderEventKind.SENT_BACK,
        actor=bureau,
        comment="照片不清晰",
    )
    RectificationOrder.objects.filter(pk=cases["sent_back"].pk).update(status=OrderStatus.OPEN)
    return cases


def numbers(orders, cases):
    names = {order.pk: name for name, order in cases.items()}
    return {names[order.pk] for order in orders}


def test_c12_over_a_past_month_counts_due_and_carried_orders_exactly(c12, two_streets):
    scope = RectificationOrder.objects.filter(street=two_streets.street_a)

    result = deadline_compliance(scope, *OCTOBER, today=d("2026-11-10"))

    breaching = {
        "closed_after_deadline",
        "open_past_deadline",
        "answered_not_verified",
        "sent_back",
        "carried_open",
        "carried_closed_in_period",
    }
    kept = {"closed_before_deadline", "closed_on_deadline_day", "extended_closed_in_time"}
    assert numbers(result.offenders, c12) == breaching
    assert (result.covered, result.total) == (len(kept), len(kept) + len(breaching))
    assert result.passed is False


def test_an_extended_deadline_not_yet_passed_is_no_breach_until_it_passes(c12, two_streets):
    scope = RectificationOrder.objects.filter(pk=c12["extended_not_passed"].pk)
    november = (d("2026-11-01"), d("2026-11-30"))

    in_october = deadline_compliance(scope, *OCTOBER, today=d("2026-11-10"))
    before_new_deadline = deadline_compliance(scope, *november, today=d("2026-11-20"))
    after_new_deadline = deadline_compliance(scope, *november, today=d("2026-11-21"))

    assert (in_october.covered, in_october.total) == (0, 0)
    # On the deadline day itself the order is still in time.
    assert (before_new_deadline.covered, before_new_deadline.total) == (0, 0)
    assert (after_new_deadline.covered, after_new_deadline.total) == (0, 1)


def test_the_period_in_progress_is_judged_today(c12, two_streets):
    scope = RectificationOrder.objects.filter(street=two_streets.street_a)

    result = deadline_compliance(scope, *OCTOBER, today=d("2026-10-14"))

    # By 14 October: the orders due on the 12th and 13th have breached; those due later and
    # still open are not judged yet; closed ones are judged as soon as they are closed.
    assert numbers(result.offenders, c12) == {
        "open_past_deadline",
        "answered_not_verified",
        "carried_open",
        "carried_closed_in_period",
    }
    assert result.covered == 1  # closed on 10 October, before its deadline of the 15th


def test_c12_takes_streets_or_orders_and_groups_by_street_in_one_query(c12, two_streets):
    streets = Street.objects.visible_to(two_streets.bureau)
    orders = RectificationOrder.objects.visible_to(two_streets.bureau)

    with CaptureQueriesContext(connection) as queries:
        by_street = deadline_compliance(streets, *OCTOBER, today=d("2026-11-10"), by_street=True)
    from_orders = deadline_compliance(orders, *OCTOBER, today=d("2026-11-10"), by_street=True)

    assert len(queries) == 1
    a, b = two_streets.street_a.pk, two_streets.street_b.pk
    assert {k: (r.covered, r.total) for k, r in by_street.items()} == {a: (3, 9), b: (0, 1)}
    assert {k: (r.covered, r.total) for k, r in from_orders.items()} == {a: (3, 9), b: (0, 1)}


def test_c12_runs_a_fixed_number_of_queries(two_streets, django_assert_num_queries):
    def measure():
        with CaptureQueriesContext(connection) as queries:
            result = deadline_compliance(
                RectificationOrder.objects.all(), *OCTOBER, today=d("2026-11-10")
            )
            list(result.offenders)
        return len(queries)

    make_order(two_streets.street_a, by=two_streets.bureau, deadline=d("2026-10-12"))
    small = measure()
    for _ in range(20):
        make_order(two_streets.street_a, by=two_streets.bureau, deadline=d("2026-10-12"))
    assert measure() == small == 2


def test_a_street_without_counted_orders_has_nothing_to_judge(two_streets):
    result = deadline_compliance(Street.objects.filter(pk=two_streets.street_a.pk), *OCTOBER)
    assert (result.total, result.percentage, result.verdict) == (0, None, "empty")


# The services --------------------------------------------------------------------------------


def test_an_order_is_numbered_by_year_and_starts_its_timeline(two_streets):
    order = rectification.issue_order(
        actor=two_streets.bureau,
        street=two_streets.street_a,
        problem="站点未设咨询区",
        deadline=TODAY + 10 * DAY,
    )
    second = rectification.issue_order(
        actor=two_streets.bureau,
        street=two_streets.street_b,
        problem="制度未上墙",
        deadline=TODAY,
    )

    assert order.number == f"ZG{TODAY.year}0001"
    assert second.number == f"ZG{TODAY.year}0002"
    assert (order.status, order.deadline, order.original_deadline) == (
        OrderStatus.OPEN,
        TODAY + 10 * DAY,
        TODAY + 10 * DAY,
    )
    assert list(order.events.values_list("kind", "actor")) == [
        (OrderEventKind.ISSUED, two_streets.bureau.pk)
    ]


@pytest.mark.parametrize(
    ("deadline", "problem", "field", "message"),
    [
        (None, "标牌不规范", "deadline", "请填写整改期限。"),
        (TODAY - DAY, "标牌不规范", "deadline", "整改期限不能早于今天。"),
        (TODAY + DAY, "  ", "problem", "请填写存在的问题。"),
    ],
)
def test_a_bad_order_is_refused_in_chinese_and_nothing_is_saved(
    two_streets, deadline, problem, field, message
):
    with pytest.raises(ValidationError) as refused:
        rectification.issue_order(
            actor=two_streets.bureau,
            street=two_streets.street_a,
            problem=problem,
            deadline=deadline,
        )
    assert refused.value.message_dict[field] == [message]
    assert not RectificationOrder.objects.exists()
    assert not OrderEvent.objects.exists()


def test_only_bureau_staff_issue_orders_and_only_to_their_district(two_streets):
    from stations.tests.factories import make_district, make_street

    other = make_street(make_district("310104", "徐汇区"), "天平路街道", "310104003")
    with pytest.raises(PermissionDenied):
        rectification.issue_order(
            actor=two_streets.manager_a,
            street=two_streets.street_a,
            problem="x",
            deadline=TODAY,
        )
    with pytest.raises(Http404):
        rectification.issue_order(
            actor=two_streets.bureau, street=other, problem="x", deadline=TODAY
        )
    assert not RectificationOrder.objects.exists()


def test_a_finding_becomes_one_order_to_the_street_inspected(two_streets):
    finding = make_finding(make_inspection(two_streets.street_a, by=two_streets.bureau))

    order = rectification.issue_order(
        actor=two_streets.bureau,
        street=two_streets.street_b,  # ignored: the finding's street is responsible
        finding=finding,
        problem=finding.description,
        deadline=TODAY + DAY,
    )

    assert order.street == two_streets.street_a
    with pytest.raises(ValidationError) as refused:
        rectification.issue_order(
            actor=two_streets.bureau,
            street=None,
            finding=finding,
            problem="again",
            deadline=TODAY + DAY,
        )
    assert refused.value.message_dict["finding"] == ["该问题已经下达过整改通知。"]


def test_the_street_manager_answers_and_only_their_own_streets_orders(two_streets):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + DAY)
    with pytest.raises(Http404):
        rectification.answer_order(actor=two_streets.manager_b, order=order, comment="已整改")
    with pytest.raises(PermissionDenied):
        rectification.answer_order(actor=two_streets.bureau, order=order, comment="已整改")
    with pytest.raises(ValidationError) as refused:
        rectification.answer_order(actor=two_streets.manager_a, order=order, comment=" ")
    assert refused.value.message_dict["comment"] == ["请填写整改情况。"]

    rectification.answer_order(actor=two_streets.manager_a, order=order, comment="已整改")

    order.refresh_from_db()
    assert order.status == OrderStatus.ANSWERED
    with pytest.raises(ValidationError):  # nothing more to answer until it is sent back
        rectification.answer_order(actor=two_streets.manager_a, order=order, comment="再次")


def test_sending_back_needs_a_reason_and_opens_the_order_again(two_streets):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + DAY)
    with pytest.raises(ValidationError) as not_answered:
        rectification.send_back_order(actor=two_streets.bureau, order=order, reason="不清晰")
    assert not_answered.value.message_dict["reason"] == ["只有已提交的整改情况可以退回。"]
    make_answer(order, by=two_streets.manager_a)
    with pytest.raises(ValidationError) as no_reason:
        rectification.send_back_order(actor=two_streets.bureau, order=order, reason="")
    assert no_reason.value.message_dict["reason"] == ["请填写退回原因。"]

    rectification.send_back_order(actor=two_streets.bureau, order=order, reason="照片不清晰")

    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN
    assert order.events.last().kind == OrderEventKind.SENT_BACK


def test_a_close_records_the_verifier_and_a_date_no_earlier_than_the_answer(two_streets):
    order = make_order(
        two_streets.street_a, by=two_streets.bureau, deadline=TODAY, issued_on=TODAY - 5 * DAY
    )
    with pytest.raises(ValidationError) as unanswered:
        rectification.verify_order(actor=two_streets.bureau, order=order)
    assert unanswered.value.message_dict["closed_on"] == ["街镇提交整改情况后才能验收办结。"]
    make_answer(order, by=two_streets.manager_a)
    for day, message in (
        (TODAY + DAY, "办结日期不能晚于今天。"),
        (TODAY - DAY, f"办结日期不能早于街镇提交整改情况的日期({TODAY.isoformat()})。"),
    ):
        with pytest.raises(ValidationError) as refused:
            rectification.verify_order(actor=two_streets.bureau, order=order, closed_on=day)
        assert refused.value.message_dict["closed_on"] == [message]
    with pytest.raises(PermissionDenied):
        rectification.verify_order(actor=two_streets.manager_a, order=order)

    rectification.verify_order(actor=two_streets.bureau, order=order, comment="现场复核")

    order.refresh_from_db()
    assert (order.status, order.closed_by, order.closed_on) == (
        OrderStatus.CLOSED,
        two_streets.bureau,
        TODAY,
    )
    assert order.closed_on_time


@pytest.mark.parametrize(
    "fields",
    [
        {"status": OrderStatus.CLOSED, "closed_by": None, "closed_on": TODAY},
        {"status": OrderStatus.CLOSED, "closed_on": None},
        {"status": OrderStatus.OPEN, "closed_on": TODAY},
    ],
)
def test_the_database_refuses_a_close_without_verifier_and_date(two_streets, fields):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY)
    values = {"closed_by": two_streets.bureau, **fields}
    with pytest.raises(IntegrityError), transaction.atomic():
        RectificationOrder.objects.filter(pk=order.pk).update(**values)


def test_an_extension_keeps_the_history_of_deadlines(two_streets, client):
    first = TODAY + 5 * DAY
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=first)

    rectification.extend_deadline(
        actor=two_streets.bureau, order=order, new_deadline=first + 10 * DAY, reason="需采购设备"
    )
    rectification.extend_deadline(
        actor=two_streets.bureau, order=order, new_deadline=first + 20 * DAY, reason="装修延误"
    )

    order.refresh_from_db()
    assert (order.original_deadline, order.deadline) == (first, first + 20 * DAY)
    extensions = order.events.filter(kind=OrderEventKind.EXTENDED).order_by("at", "pk")
    assert [(e.deadline_before, e.deadline_after, e.comment) for e in extensions] == [
        (first, first + 10 * DAY, "需采购设备"),
        (first + 10 * DAY, first + 20 * DAY, "装修延误"),
    ]
    client.force_login(two_streets.manager_a)
    page = client.get(order.get_absolute_url())
    assert f"期限由 {first.isoformat()} 延长至 {(first + 10 * DAY).isoformat()}" in page.text
    assert "装修延误" in page.text
    assert f"原定 {first.isoformat()}" in page.text


@pytest.mark.parametrize(
    ("deadline", "new_deadline", "reason", "field", "message"),
    [
        (TODAY + DAY, TODAY + DAY, "原因", "new_deadline", "新的整改期限必须晚于当前期限"),
        (TODAY + DAY, None, "原因", "new_deadline", "请填写新的整改期限。"),
        (TODAY + DAY, TODAY + 9 * DAY, " ", "reason", "请填写延期原因。"),
        (TODAY - DAY, TODAY + 9 * DAY, "原因", "new_deadline", "整改期限已过,不能再延期"),
    ],
)
def test_a_bad_extension_is_refused_and_the_deadline_stays(
    two_streets, deadline, new_deadline, reason, field, message
):
    order = make_order(
        two_streets.street_a, by=two_streets.bureau, deadline=deadline, issued_on=TODAY - 9 * DAY
    )
    with pytest.raises(ValidationError) as refused:
        rectification.extend_deadline(
            actor=two_streets.bureau, order=order, new_deadline=new_deadline, reason=reason
        )
    assert refused.value.message_dict[field][0].startswith(message)
    order.refresh_from_db()
    assert order.deadline == deadline
    assert not order.events.filter(kind=OrderEventKind.EXTENDED).exists()


def test_overdue_means_past_the_deadline_without_a_verified_close(two_streets):
    a, bureau = two_streets.street_a, two_streets.bureau
    past = TODAY - DAY
    open_late = make_order(a, by=bureau, deadline=past)
    answered_late = make_order(a, by=bureau, deadline=past)
    make_answer(answered_late, by=two_streets.manager_a, with_file=False)
    closed = make_order(a, by=bureau, deadline=past, closed_on=TODAY)
    due_today = make_order(a, by=bureau, deadline=TODAY)

    overdue = set(RectificationOrder.objects.overdue())

    assert overdue == {open_late, answered_late}
    assert open_late.is_overdue and not closed.is_overdue and not due_today.is_overdue


# The pages -----------------------------------------------------------------------------------


def upload(name="整改后.png", content=PNG_BYTES):
    return SimpleUploadedFile(name, content)


def test_the_whole_workflow_from_inspection_to_verified_close(client, two_streets, media):
    """Inspection → finding with a photo → order → answer with a file → sent back → answer →
    verified; every step on the timeline with who and when."""
    bureau, manager = two_streets.bureau, two_streets.manager_a
    client.force_login(bureau)
    created = client.post(
        reverse("supervision:inspection_create"),
        {
            "street": two_streets.street_a.pk,
            "inspected_on": TODAY.isoformat(),
            "inspectors": "张伟",
            "score_signage": "4",
            "remark_signage": "标牌名称不规范",
        },
    )
    assert created.status_code == 302
    inspection = resolve(created.url).kwargs["pk"]
    client.post(
        reverse("supervision:inspection_detail", args=[inspection]),
        {"severity": "serious", "description": "标牌未使用统一标识", "files": [upload("现场.png")]},
    )
    finding = Finding.objects.get(inspection=inspection)
    page = client.get(reverse("supervision:inspection_detail", args=[inspection]))
    assert "转为整改通知" in page.text and "现场.png" in page.text
    issued = client.post(
        reverse("supervision:finding_order", args=[finding.pk]),
        {"problem": finding.description, "deadline": (TODAY + 7 * DAY).isoformat()},
    )
    order = RectificationOrder.objects.get(finding=finding)
    assert issued.url == order.get_absolute_url()

    client.force_login(manager)
    listed = client.get(reverse("supervision:orders"))
    assert order.number in listed.text
    answer_url = reverse("supervision:order_answer", args=[order.pk])
    client.post(
        answer_url, {"comment": "已更换标牌", "files": [upload(), upload("说明.pdf", PDF_BYTES)]}
    )
    client.force_login(bureau)
    client.post(reverse("supervision:order_send_back", args=[order.pk]), {"reason": "照片不清晰"})
    client.force_login(manager)
    client.post(answer_url, {"comment": "已补拍照片"})
    client.force_login(bureau)
    closed = client.post(
        reverse("supervision:order_verify", args=[order.pk]), {"closed_on": TODAY.isoformat()}
    )

    assert closed.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.closed_by, order.closed_on) == ("closed", bureau, TODAY)
    steps = list(order.events.order_by("at", "pk").values_list("kind", "actor"))
    assert steps == [
        ("issued", bureau.pk),
        ("answered", manager.pk),
        ("sent_back", bureau.pk),
        ("answered", manager.pk),
        ("closed", bureau.pk),
    ]
    assert EvidenceFile.objects.filter(event__order=order).count() == 2
    page = client.get(order.get_absolute_url())
    for text in (
        "下达整改通知",
        "提交整改情况",
        "退回重新整改",
        "照片不清晰",
        "验收办结",
        "说明.pdf",
    ):
        assert text in page.text


def test_street_b_never_sees_street_a_orders_or_their_files(client, two_streets):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + DAY)
    answer = make_answer(order, by=two_streets.manager_a)
    evidence = answer.files.get()
    client.force_login(two_streets.manager_b)

    listed = client.get(reverse("supervision:orders"), {"status": ""})
    assert order.number not in listed.text
    for url in (
        order.get_absolute_url(),
        reverse("supervision:evidence_file", args=[evidence.pk]),
    ):
        assert client.get(url).status_code == 404
    for name, data in (
        ("order_answer", {"comment": "x"}),
        ("order_verify", {"closed_on": TODAY.isoformat()}),
        ("order_send_back", {"reason": "x"}),
        ("order_extend", {"new_deadline": (TODAY + 9 * DAY).isoformat(), "reason": "x"}),
    ):
        assert client.post(reverse(f"supervision:{name}", args=[order.pk]), data).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.ANSWERED
    assert order.events.count() == 2


def test_the_evidence_downloads_only_for_its_scope_and_as_an_attachment(client, two_streets):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + DAY)
    evidence = make_answer(order, by=two_streets.manager_a).files.get()
    url = reverse("supervision:evidence_file", args=[evidence.pk])

    anonymous = client.get(url)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")
    client.force_login(two_streets.advisor_a)
    assert client.get(url).status_code == 404
    for who in (two_streets.manager_a, two_streets.bureau):
        client.force_login(who)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "image/png"
        assert response.content == PNG_BYTES
    # The stored file has a name of the system's, and no public address serves it.
    assert "整改后" not in evidence.file.name
    for prefix in ("/media/", "/", "/static/"):
        with pytest.raises(Resolver404):
            resolve(prefix + evidence.file.name)


def test_a_wrong_file_is_refused_in_chinese_and_nothing_is_saved(client, two_streets, media):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + DAY)
    client.force_login(two_streets.manager_a)
    url = reverse("supervision:order_answer", args=[order.pk])

    for bad, message in (
        (upload("病毒.exe", b"MZ\x90\x00"), "类型不支持"),
        (upload("假照片.png", b"<html>not a picture</html>"), "文件内容不是 PNG 图片"),
        (upload("表格.xlsx", b"PK\x03\x04garbage"), "不是有效的 Excel"),
    ):
        page = client.post(url, {"comment": "已整改", "files": [bad]})
        assert page.status_code == 200
        assert message in page.text
    with mock.patch("django.conf.settings.UPLOAD_MAX_BYTES", 10):
        page = client.post(url, {"comment": "已整改", "files": [upload()]})
        assert "过大" in page.text

    order.refresh_from_db()
    assert order.status == OrderStatus.OPEN
    assert not EvidenceFile.objects.exists()
    assert order.events.count() == 1
    assert not media.exists() or not any(path.is_file() for path in media.rglob("*"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"problem": "标牌不规范", "deadline": ""}, "请填写整改期限。"),
        ({"problem": "标牌不规范", "deadline": "2020-01-01"}, "整改期限不能早于今天。"),
        ({"problem": "", "deadline": "2099-01-01"}, "请填写存在的问题。"),
    ],
)
def test_the_new_order_form_refuses_bad_input_in_chinese(client, two_streets, data, message):
    client.force_login(two_streets.bureau)

    page = client.post(
        reverse("supervision:order_create"), {"street": two_streets.street_a.pk, **data}
    )

    assert page.status_code == 200
    assert message in page.text
    assert not RectificationOrder.objects.exists()


def test_each_role_gets_only_its_own_steps(client, two_streets):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + DAY)
    client.force_login(two_streets.bureau)
    answered = client.post(reverse("supervision:order_answer", args=[order.pk]), {"comment": "x"})
    assert answered.status_code == 403
    assert "只有责任街镇的管理员可以提交整改情况。" in answered.text
    page = client.get(order.get_absolute_url())
    assert "延长整改期限" in page.text and "提交整改情况</button>" not in page.text

    client.force_login(two_streets.manager_a)
    for name in ("order_verify", "order_send_back", "order_extend"):
        response = client.post(reverse(f"supervision:{name}", args=[order.pk]), {})
        assert response.status_code == 403
    assert client.get(reverse("supervision:order_create")).status_code == 403
    page = client.get(order.get_absolute_url())
    assert "提交整改情况</button>" in page.text and "延长整改期限" not in page.text

    client.force_login(two_streets.advisor_a)
    assert client.get(reverse("supervision:orders")).status_code == 403
    assert client.get(order.get_absolute_url()).status_code == 404


def test_the_managers_list_shows_open_orders_most_urgent_first_overdue_in_red(client, two_streets):
    a, bureau = two_streets.street_a, two_streets.bureau
    later = make_order(a, by=bureau, deadline=TODAY + 20 * DAY, problem="晚到期")
    overdue = make_order(a, by=bureau, deadline=TODAY - 2 * DAY, problem="已逾期")
    soon = make_order(a, by=bureau, deadline=TODAY + DAY, problem="快到期")
    closed = make_order(a, by=bureau, deadline=TODAY - 9 * DAY, closed_on=TODAY, problem="办完")
    client.force_login(two_streets.manager_a)

    page = client.get(reverse("supervision:orders"))

    rows = [o.number for o in page.context["page_obj"]]
    assert rows == [overdue.number, soon.number, later.number]
    assert closed.number not in page.text
    assert page.text.count('class="order-overdue"') == 1
    assert "逾期 2 天" in page.text
    everything = client.get(reverse("supervision:orders"), {"status": ""})
    assert [o.number for o in everything.context["page_obj"]][-1] == closed.number
    only_overdue = client.get(reverse("supervision:orders"), {"status": "", "overdue": "on"})
    assert [o.number for o in only_overdue.context["page_obj"]] == [overdue.number]


def test_bureau_staff_filter_orders_by_street_and_status(client, two_streets):
    bureau = two_streets.bureau
    a_open = make_order(two_streets.street_a, by=bureau, deadline=TODAY + DAY)
    b_open = make_order(two_streets.street_b, by=bureau, deadline=TODAY + DAY)
    a_closed = make_order(two_streets.street_a, by=bureau, deadline=TODAY, closed_on=TODAY)
    client.force_login(bureau)

    def listed(**query):
        page = client.get(reverse("supervision:orders"), query)
        return {o.number for o in page.context["page_obj"]}

    assert listed() == {a_open.number, b_open.number, a_closed.number}
    assert listed(street=two_streets.street_a.code) == {a_open.number, a_closed.number}
    assert listed(status="closed") == {a_closed.number}
    assert listed(status="unclosed", street=two_streets.street_b.code) == {b_open.number}


@pytest.mark.parametrize("who", ["bureau", "manager_a"])
def test_the_order_list_runs_the_same_queries_with_3_and_30_orders(client, two_streets, who):
    client.force_login(getattr(two_streets, who))
    url = reverse("supervision:orders")
    inspection = make_inspection(two_streets.street_a, by=two_streets.bureau)

    def add(count):
        for index in range(count):
            finding = make_finding(inspection) if index % 2 else None
            make_order(
                two_streets.street_a,
                by=two_streets.bureau,
                deadline=TODAY + (index - 5) * DAY,
                issued_on=TODAY - 10 * DAY,
                finding=finding,
            )

    add(3)
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    add(27)
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["page_obj"]) == 25
    assert len(small) == len(large), [query["sql"] for query in large]


def test_the_order_page_runs_the_same_queries_with_few_and_many_steps(client, two_streets):
    order = make_order(two_streets.street_a, by=two_streets.bureau, deadline=TODAY + 90 * DAY)
    client.force_login(two_streets.bureau)

    def steps(count):
        for _ in range(count):
            make_answer(order, by=two_streets.manager_a)
            OrderEvent.objects.create(
                order=order, kind=OrderEventKind.SENT_BACK, actor=two_streets.bureau, comment="再改"
            )

    steps(1)
    with CaptureQueriesContext(connection) as small:
        assert client.get(order.get_absolute_url()).status_code == 200
    steps(10)
    with CaptureQueriesContext(connection) as large:
        assert client.get(order.get_absolute_url()).status_code == 200
    assert len(small) == len(large)
