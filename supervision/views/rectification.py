"""The rectification pages: the list of orders, a new order, an order with its timeline and
the steps each role takes on it (answer; verify, send back, extend), and the evidence files.

Every row comes through `Model.objects.visible_to(request.user)`; an order outside the
user's scope answers 404 like one that does not exist, before any role check. A role that
may not take a step gets the Chinese 403 page. The street manager's list opens on their
open orders, most urgent first; overdue orders are marked red everywhere.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404
from supervision import attachments, rectification
from supervision.forms import (
    AnswerForm,
    ExtendForm,
    OrderFilterForm,
    OrderForm,
    SendBackForm,
    VerifyForm,
)
from supervision.models import (
    EvidenceFile,
    OrderEvent,
    OrderStatus,
    RectificationOrder,
)
from supervision.views.inspections import PER_PAGE, can_read


def filter_orders(rows, data, today):
    status = data.get("status")
    if status == "unclosed":
        rows = rows.unclosed()
    elif status:
        rows = rows.filter(status=status)
    if data.get("overdue"):
        rows = rows.overdue(today)
    if data.get("street"):
        rows = rows.filter(street=data["street"])
    return rows


def order_list(request):
    """限期整改: the orders of the user's scope, open ones first by deadline, overdue in red.

    A street manager's list opens on their open orders (未办结); the filter shows the others.
    """
    user = request.user
    if not can_read(user):
        return forbidden(request, _("您的账号无权查看整改通知。"))
    today = timezone.localdate()
    data = request.GET.copy()
    if user.is_street_manager and "status" not in data:
        data["status"] = "unclosed"
    form = OrderFilterForm(data, user=user)
    rows = RectificationOrder.objects.visible_to(user).select_related(
        "street", "finding__inspection"
    )
    filtered = False
    if form.is_valid():
        rows = filter_orders(rows, form.cleaned_data, today)
        filtered = any(value not in ("", None, False) for value in form.cleaned_data.values())
    rows = rows.most_urgent_first()
    return render(
        request,
        "supervision/order_list.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": Paginator(rows, PER_PAGE).get_page(request.GET.get("page")),
            "today": today,
            "can_issue": rectification.can_issue(user),
        },
    )


def order_create(request):
    """下达整改通知 (bureau staff) without an inspection's finding."""
    user = request.user
    back = reverse("supervision:orders")
    if not rectification.can_issue(user):
        return forbidden(request, _("只有区民政局可以下达整改通知。"), back_url=back)
    form = OrderForm(
        request.POST or None, user=user, initial={"deadline": rectification.suggested_deadline()}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = rectification.issue_order(
                actor=user,
                street=data["street"],
                problem=data["problem"],
                requirement=data["requirement"],
                deadline=data["deadline"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=back)
        else:
            messages.success(request, _("整改通知 %s 已下达。") % order.number)
            return redirect(order)
    if request.method == "POST" and form.errors:
        messages.error(request, _("整改通知未下达:请按提示修改后再提交。"))
    return render(request, "supervision/order_form.html", {"form": form, "back_url": back})


def _scoped_order(request, pk):
    return scoped_get_or_404(
        RectificationOrder.objects.select_related(
            "street", "issued_by", "closed_by", "finding", "finding__inspection"
        ),
        request.user,
        pk=pk,
    )


def _order_detail(request, order, status=200, **bound_forms):
    """The order page; `bound_forms` replace the empty form of a step that was refused."""
    user = request.user
    today = timezone.localdate()
    events = list(
        OrderEvent.objects.visible_to(user)
        .filter(order=order)
        .select_related("actor")
        .prefetch_related(Prefetch("files", queryset=EvidenceFile.objects.order_by("pk")))
        .order_by("at", "pk")
    )
    can_answer = rectification.can_answer(user) and order.status == OrderStatus.OPEN
    can_decide = rectification.can_issue(user) and order.status == OrderStatus.ANSWERED
    can_extend = rectification.can_issue(user) and not order.is_closed and order.deadline >= today
    context = {
        "order": order,
        "events": events,
        "deadlines": rectification.deadline_history(order, events),
        "today": today,
        "is_overdue": order.is_overdue_on(today),
        "days_left": order.days_left(today),
        "answer_form": None,
        "verify_form": None,
        "send_back_form": None,
        "extend_form": None,
    }
    if can_answer:
        context["answer_form"] = bound_forms.get("answer_form") or AnswerForm()
    if can_decide:
        context["verify_form"] = bound_forms.get("verify_form") or VerifyForm()
        context["send_back_form"] = bound_forms.get("send_back_form") or SendBackForm()
    if can_extend:
        context["extend_form"] = bound_forms.get("extend_form") or ExtendForm()
    return render(request, "supervision/order_detail.html", context, status=status)


def order_detail(request, pk):
    """An order: what is wrong, its deadlines, its timeline, and the steps the user may take."""
    order = _scoped_order(request, pk)
    return _order_detail(request, order)


def _order_step(request, pk, *, allowed, refusal, form_class, form_key, run, success):
    """One step on an order (POST): scope (404), role (403), form, service, back to the order."""
    user = request.user
    order = _scoped_order(request, pk)
    back = order.get_absolute_url()
    if request.method != "POST":
        return redirect(back)
    if not allowed(user):
        return forbidden(request, refusal, back_url=back)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            run(user, order, form.cleaned_data)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=back)
        else:
            messages.success(request, success)
            return redirect(back)
    messages.error(request, _("操作未完成:请按提示修改后再提交。"))
    order.refresh_from_db()
    return _order_detail(request, order, **{form_key: form})


def order_answer(request, pk):
    """提交整改情况 (the street's manager): what was done, with evidence files."""
    return _order_step(
        request,
        pk,
        allowed=rectification.can_answer,
        refusal=_("只有责任街镇的管理员可以提交整改情况。"),
        form_class=AnswerForm,
        form_key="answer_form",
        run=lambda user, order, data: rectification.answer_order(
            actor=user, order=order, comment=data["comment"], files=data["files"]
        ),
        success=_("整改情况已提交,等待区民政局验收。"),
    )


def order_verify(request, pk):
    """验收办结 (bureau staff): accept the answer and close the order."""
    return _order_step(
        request,
        pk,
        allowed=rectification.can_issue,
        refusal=_("只有区民政局可以验收办结。"),
        form_class=VerifyForm,
        form_key="verify_form",
        run=lambda user, order, data: rectification.verify_order(
            actor=user, order=order, closed_on=data["closed_on"], comment=data["comment"]
        ),
        success=_("整改通知已验收办结。"),
    )


def order_send_back(request, pk):
    """退回 (bureau staff): refuse the answer with a reason; the order is open again."""
    return _order_step(
        request,
        pk,
        allowed=rectification.can_issue,
        refusal=_("只有区民政局可以退回整改情况。"),
        form_class=SendBackForm,
        form_key="send_back_form",
        run=lambda user, order, data: rectification.send_back_order(
            actor=user, order=order, reason=data["reason"]
        ),
        success=_("已退回,街镇需重新整改并提交。"),
    )


def order_extend(request, pk):
    """延期 (bureau staff): a later deadline, with the reason; the history is kept."""
    return _order_step(
        request,
        pk,
        allowed=rectification.can_issue,
        refusal=_("只有区民政局可以延长整改期限。"),
        form_class=ExtendForm,
        form_key="extend_form",
        run=lambda user, order, data: rectification.extend_deadline(
            actor=user, order=order, new_deadline=data["new_deadline"], reason=data["reason"]
        ),
        success=_("整改期限已延长。"),
    )


def evidence_file(request, pk):
    """An evidence file of a street's answer, as a download, for those who may read the order."""
    evidence = scoped_get_or_404(EvidenceFile.objects.all(), request.user, pk=pk)
    return attachments.download_response(evidence)
