"""The inspection pages: list, new inspection, an inspection with its findings, the findings'
files, and turning a finding into a rectification order.

Every row comes through `Model.objects.visible_to(request.user)`: bureau staff see their
district's inspections and record them; street managers read their street's; an object
outside the user's scope answers 404 like one that does not exist, before any role check.
Lists and detail pages run a fixed number of queries whatever the number of rows.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404
from stations.models import Station
from supervision import attachments, inspections, rectification
from supervision.forms import FindingForm, InspectionFilterForm, InspectionForm, OrderForm
from supervision.models import (
    CHECK_ITEM_GUIDANCE,
    CheckItem,
    Finding,
    FindingAttachment,
    Inspection,
    InspectionItem,
)

PER_PAGE = 25


def can_read(user):
    """Who reads inspections and orders: bureau staff and street managers (their own scope)."""
    return user.is_bureau or user.is_street_manager


def filter_inspections(rows, data):
    if data.get("street"):
        rows = rows.filter(street=data["street"])
    if data.get("date_from"):
        rows = rows.filter(inspected_on__gte=data["date_from"])
    if data.get("date_to"):
        rows = rows.filter(inspected_on__lte=data["date_to"])
    if data.get("announced") == "yes":
        rows = rows.filter(announced=True)
    elif data.get("announced") == "no":
        rows = rows.filter(announced=False)
    return rows


def inspection_list(request):
    """督导检查: the inspections of the user's scope, filtered, newest first."""
    user = request.user
    if not can_read(user):
        return forbidden(request, _("您的账号无权查看督导检查。"))
    rows = Inspection.objects.visible_to(user).select_related("street", "station")
    form = InspectionFilterForm(request.GET or None, user=user)
    filtered = False
    if form.is_valid():
        rows = filter_inspections(rows, form.cleaned_data)
        filtered = any(value not in ("", None) for value in form.cleaned_data.values())
    rows = inspections.with_totals(rows).order_by("-inspected_on", "-pk")
    return render(
        request,
        "supervision/inspection_list.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": Paginator(rows, PER_PAGE).get_page(request.GET.get("page")),
            "can_record": inspections.can_record(user),
        },
    )


def _place_from(request, user):
    """The street and station to check, when the form is opened from a station's page
    (`?station=<pk>`); a station outside the user's scope is ignored like one that does
    not exist."""
    pk = request.GET.get("station", "")
    if not (pk.isascii() and pk.isdigit() and len(pk) < 12):
        return {}
    station = Station.objects.visible_to(user).filter(pk=int(pk), street__isnull=False).first()
    if station is None:
        return {}
    return {"street": station.street_id, "station": station.pk}


def inspection_create(request):
    """登记督导检查 (bureau staff): the inspection and its checklist's scores."""
    user = request.user
    back = reverse("supervision:inspections")
    if not inspections.can_record(user):
        return forbidden(request, _("只有区民政局可以登记督导检查。"), back_url=back)
    form = InspectionForm(request.POST or None, user=user, initial=_place_from(request, user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            inspection = inspections.record_inspection(
                actor=user,
                street=data["street"],
                station=data["station"],
                inspected_on=data["inspected_on"],
                inspectors=data["inspectors"],
                announced=data["announced"],
                summary=data["summary"],
                scores=form.scores(),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=back)
        else:
            messages.success(request, _("督导检查已登记,可继续登记发现的问题。"))
            return redirect(inspection)
    if request.method == "POST" and form.errors:
        messages.error(request, _("督导检查未保存:请按提示修改后再提交。"))
    return render(request, "supervision/inspection_form.html", {"form": form, "back_url": back})


def _inspection_detail(request, inspection, finding_form=None, status=200):
    user = request.user
    items = {
        row.item: row
        for row in InspectionItem.objects.visible_to(user).filter(inspection=inspection)
    }
    checklist = [
        {"label": item.label, "guidance": CHECK_ITEM_GUIDANCE[item], "row": items.get(item.value)}
        for item in CheckItem
    ]
    findings = (
        Finding.objects.visible_to(user)
        .filter(inspection=inspection)
        .select_related("order")
        .prefetch_related(
            Prefetch("attachments", queryset=FindingAttachment.objects.order_by("pk"))
        )
        .order_by("pk")
    )
    scored = list(items.values())
    can_record = inspections.can_record(user)
    return render(
        request,
        "supervision/inspection_detail.html",
        {
            "inspection": inspection,
            "checklist": checklist,
            "total_score": sum(row.score for row in scored),
            "full_score": sum(row.max_score for row in scored),
            "findings": findings,
            "can_record": can_record,
            "can_issue": rectification.can_issue(user),
            "finding_form": finding_form or (FindingForm() if can_record else None),
        },
        status=status,
    )


def inspection_detail(request, pk):
    """An inspection: its checklist and total, its findings with their files and orders.

    POST (bureau staff) adds a finding with its photos or files.
    """
    user = request.user
    inspection = scoped_get_or_404(
        Inspection.objects.select_related("street", "station", "recorded_by"), user, pk=pk
    )
    if request.method != "POST":
        return _inspection_detail(request, inspection)
    back = inspection.get_absolute_url()
    if not inspections.can_record(user):
        return forbidden(request, _("只有区民政局可以登记检查发现的问题。"), back_url=back)
    form = FindingForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            inspections.add_finding(
                actor=user,
                inspection=inspection,
                description=data["description"],
                severity=data["severity"],
                item=data["item"],
                files=data["files"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=back)
        else:
            messages.success(request, _("问题已登记。"))
            return redirect(back)
    messages.error(request, _("问题未保存:请按提示修改后再提交。"))
    return _inspection_detail(request, inspection, finding_form=form)


def finding_file(request, pk):
    """A finding's photo or file, as a download, for those who may read the inspection."""
    attachment = scoped_get_or_404(FindingAttachment.objects.all(), request.user, pk=pk)
    return attachments.download_response(attachment)


def finding_order(request, pk):
    """转为整改通知 (bureau staff): a finding becomes an order to the street inspected."""
    user = request.user
    finding = scoped_get_or_404(
        Finding.objects.select_related("inspection", "inspection__street", "order"), user, pk=pk
    )
    inspection = finding.inspection
    back = inspection.get_absolute_url()
    if not rectification.can_issue(user):
        return forbidden(request, _("只有区民政局可以下达整改通知。"), back_url=back)
    existing = getattr(finding, "order", None)
    if existing is not None:
        messages.info(request, _("该问题已经下达整改通知 %s。") % existing.number)
        return redirect(existing)
    initial = {
        "problem": finding.description,
        "deadline": rectification.suggested_deadline(finding),
    }
    form = OrderForm(request.POST or None, user=user, finding=finding, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            order = rectification.issue_order(
                actor=user,
                street=inspection.street,
                finding=finding,
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
    return render(
        request,
        "supervision/order_form.html",
        {
            "form": form,
            "finding": finding,
            "inspection": inspection,
            "street": inspection.street,
            "back_url": back,
        },
    )
