"""The checklist pages: needs (checklist 2), resources (3), services (4) and the four
checklists of a street with rule C10 (`cases.checklists`).

Every row comes through `Model.objects.visible_to(request.user)`; an object outside the
user's scope answers 404 exactly like one that does not exist, before any role check. Writes
go through `cases.services`. Lists and detail pages run a fixed number of queries whatever
the number of rows. The .xlsx export and import of each list come later: the list pages and
the four-checklists page include `cases/checklists_io.html` where their links go.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors.models import Advisor
from cases import services
from cases.checklist_forms import (
    EvaluationForm,
    LinkResourceForm,
    NeedFilterForm,
    NeedForm,
    NeedStatusForm,
    ResourceFilterForm,
    ResourceForm,
    ReviewForm,
    ServiceFilterForm,
    ServiceForm,
)
from cases.checklists import CHECKLISTS, checklist_upkeep, current_month, with_summaries
from cases.choices import (
    CLOSED_NEED_STATUSES,
    NEED_TRANSITIONS,
    OPEN_NEED_STATUSES,
    AreaLevel,
    Checklist,
    NeedStatus,
    ServiceStep,
)
from cases.models import (
    Evaluation,
    Need,
    NeedResource,
    Recipient,
    Resource,
    ServiceRecord,
)
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.pinyin import initials_q
from changning_aid.scoping import scoped_get_or_404
from stations.models import Street

PER_PAGE = 50
# How many of a resource's needs and services its page lists (the newest; counts say all).
DETAIL_ROWS = 50


def can_keep(user):
    """Who keeps the lists of a street: bureau staff and street managers."""
    return user.is_bureau or user.is_street_manager


def can_work(user):
    """Who works on needs and services: keepers and advisors (each within their scope)."""
    return can_keep(user) or user.is_advisor


def _filtered(form):
    return form.is_valid() and any(value not in ("", None) for value in form.cleaned_data.values())


def _page(request, rows):
    return Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))


def _count(rows, field):
    """The number of `rows` whose `field` is the outer row, as an annotation."""
    counted = (
        rows.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _person_q(q, prefix="recipient__"):
    """A search for people by name, pinyin initials or 档案号."""
    return (
        Q(**{f"{prefix}name__icontains": q})
        | Q(**{f"{prefix}file_number__icontains": q})
        | initials_q(f"{prefix}name_initials", q)
    )


# The four checklists ----------------------------------------------------------------------------


def checklists(request):
    """四项清单: a street manager goes to their street's; bureau staff see their streets.

    Advisors get the lists they can open; roles without personal data get 403.
    """
    user = request.user
    if user.is_street_manager and user.street_id:
        return redirect("cases:street_checklists", code=user.street.code)
    if user.is_advisor:
        return render(request, "cases/checklists_advisor.html")
    if not user.is_bureau:
        return forbidden(request, _("您的账号无权查看四项清单。"))
    first, last = current_month()
    streets = with_summaries(Street.objects.visible_to(user).select_related("district"))
    upkeep = checklist_upkeep(streets, first, last)
    rows = [
        {
            "street": item.street,
            "passed": item.passed,
            "lists": [
                {
                    "upkeep": state,
                    "count": getattr(item.street, f"{state.checklist}_count"),
                    "updated": getattr(item.street, f"{state.checklist}_updated"),
                }
                for state in item.lists
            ],
        }
        for item in upkeep.streets
    ]
    return render(
        request,
        "cases/checklists.html",
        {
            "upkeep": upkeep,
            "rows": rows,
            "checklist_labels": [Checklist(c).label for c in CHECKLISTS],
        },
    )


def _list_url(checklist, street, user):
    if checklist == Checklist.ADVISORS:
        return reverse("advisors:roster")
    url = reverse(f"cases:{checklist}")
    if user.is_bureau:
        url += f"?street={street.code}"
    return url


def street_checklists(request, code):
    """A street's four checklists: rows, last change and review, C10 this month, 复核."""
    user = request.user
    street = scoped_get_or_404(Street.objects.all(), user, code=code)
    if not can_keep(user):
        return forbidden(request, _("四项清单由街镇管理员和区民政局维护。"))
    first, last = current_month()
    streets = with_summaries(Street.objects.filter(pk=street.pk).select_related("district"))
    upkeep = checklist_upkeep(streets, first, last)
    item = upkeep.streets[0]
    street = item.street
    cards = []
    for state in item.lists:
        checklist = state.checklist
        cards.append(
            {
                "checklist": checklist,
                "upkeep": state,
                "count": getattr(street, f"{checklist}_count"),
                "updated": getattr(street, f"{checklist}_updated"),
                "reviewed_on": getattr(street, f"{checklist}_reviewed_on"),
                "url": _list_url(checklist, street, user),
                "can_review": state.filled and not state.changed and not state.reviewed,
                "review_form": ReviewForm(initial={"checklist": checklist}),
            }
        )
    return render(
        request,
        "cases/checklists_street.html",
        {
            "street": street,
            "upkeep": upkeep,
            "street_upkeep": item,
            "cards": cards,
            "result": upkeep.result,
            "is_bureau": user.is_bureau,
        },
    )


def checklist_review(request, code):
    """复核 (POST): record that a list without change this month was checked (for C10).

    A GET goes back to the street's checklists; another street's code is 404 either way.
    """
    user = request.user
    street = scoped_get_or_404(Street.objects.all(), user, code=code)
    back = reverse("cases:street_checklists", args=[street.code])
    if request.method != "POST":
        return redirect(back)
    if not can_keep(user):
        return forbidden(request, _("只有街镇管理员或区民政局可以记录清单复核。"), back_url=back)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("复核未记录:请选择要复核的清单。"))
        return redirect(back)
    checklist = form.cleaned_data["checklist"]
    try:
        services.record_review(
            actor=user, street=street, checklist=checklist, note=form.cleaned_data["note"]
        )
    except PermissionDenied as error:
        return forbidden(request, str(error), back_url=back)
    except ValidationError as error:
        messages.error(request, _("复核未记录:%s") % " ".join(error.messages))
        return redirect(back)
    messages.success(request, _("已记录%(list)s的复核。") % {"list": Checklist(checklist).label})
    return redirect(back)


# Checklist 2: needs ------------------------------------------------------------------------------


def filter_needs(needs, data):
    """The needs matching the needs list's filters (`NeedFilterForm.cleaned_data`)."""
    q = data["q"].strip()
    if q:
        needs = needs.filter(_person_q(q) | Q(need_number__icontains=q))
    if data.get("street"):
        needs = needs.filter(recipient__street=data["street"])
    if data["committee"]:
        needs = needs.filter(recipient__committee=data["committee"])
    for name in ("category", "status", "urgency", "source", "advisor"):
        if data[name]:
            needs = needs.filter(**{name: data[name]})
    if data["state"] == "open":
        needs = needs.filter(status__in=OPEN_NEED_STATUSES)
    elif data["state"] == "closed":
        needs = needs.filter(status__in=CLOSED_NEED_STATUSES)
    return needs


def need_list(request):
    """困难人员需求清单: the needs of the user's scope, filtered, searched, paginated."""
    user = request.user
    if not can_work(user):
        return forbidden(request, _("您的账号无权查看需求清单。"))
    needs = Need.objects.visible_to(user).select_related(
        "recipient", "recipient__committee", "recipient__street", "advisor"
    )
    form = NeedFilterForm(request.GET or None, user=user)
    if form.is_valid():
        needs = filter_needs(needs, form.cleaned_data)
    needs = needs.annotate(resource_count=_count(NeedResource.objects.all(), "need"))
    return render(
        request,
        "cases/need_list.html",
        {
            "filter_form": form,
            "filtered": _filtered(form),
            "page_obj": _page(request, needs.order_by("-found_on", "-pk")),
            "checklist": Checklist.NEEDS,
        },
    )


def need_create(request, pk):
    """登记需求 for a person (their file's 'add a need')."""
    user = request.user
    recipient = scoped_get_or_404(
        Recipient.objects.select_related("street", "committee", "advisor"), user, pk=pk
    )
    back = reverse("cases:recipient_detail", args=[recipient.pk])
    if not can_work(user):
        return forbidden(request, _("您的账号不能登记需求。"), back_url=back)
    form = NeedForm(request.POST or None, user=user, recipient=recipient)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            need = services.record_need(
                actor=user,
                recipient=recipient,
                category=data["category"],
                description=data["description"],
                source=data["source"],
                found_on=data["found_on"],
                urgency=data["urgency"],
                advisor=data["advisor"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("需求已登记:%s。") % need.need_number)
            return redirect("cases:need_detail", pk=need.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("需求未保存:请按提示修改后再提交。"))
    return render(
        request, "cases/need_form.html", {"form": form, "recipient": recipient, "back_url": back}
    )


def _need_detail(request, need, status_form=None, link_form=None, status=200):
    user = request.user
    links = (
        NeedResource.objects.visible_to(user)
        .filter(need=need, resource__in=Resource.objects.visible_to(user))
        .select_related("resource")
        .order_by("linked_on", "pk")
    )
    need_services = (
        ServiceRecord.objects.visible_to(user)
        .filter(need=need)
        .select_related("advisor", "station")
        .order_by("-date", "-pk")
    )
    can_change = can_work(user) and bool(NEED_TRANSITIONS[NeedStatus(need.status)])
    context = {
        "need": need,
        "recipient": need.recipient,
        "links": links,
        "services": need_services,
        "can_work": can_work(user),
        "can_change": can_change,
        "can_link": can_work(user) and need.is_open,
        "status_form": status_form or NeedStatusForm(need=need, prefix="status"),
        "link_form": link_form or LinkResourceForm(user=user, need=need, prefix="link"),
    }
    return render(request, "cases/need_detail.html", context, status=status)


def need_detail(request, pk):
    """A need: its person, status and the way it went, resources linked, services.

    POST `action=status` moves the need to an allowed next status (无法解决 with a reason);
    `action=link` links a resource visible to the user and valid today.
    """
    user = request.user
    need = scoped_get_or_404(
        Need.objects.select_related(
            "recipient", "recipient__committee", "recipient__street", "advisor"
        ),
        user,
        pk=pk,
    )
    if request.method != "POST":
        return _need_detail(request, need)
    back = reverse("cases:need_detail", args=[need.pk])
    if not can_work(user):
        return forbidden(request, _("您的账号不能处理需求。"), back_url=back)
    action = request.POST.get("action")
    if action == "link":
        form = LinkResourceForm(request.POST, user=user, need=need, prefix="link")
        run = lambda data: services.link_resource(  # noqa: E731
            actor=user, need=need, resource=data["resource"]
        )
        success = _("资源已对接。")
        forms = {"link_form": form}
    else:
        form = NeedStatusForm(request.POST, need=need, prefix="status")
        run = lambda data: services.change_need_status(  # noqa: E731
            actor=user, need=need, status=data["status"], on=data["on"], outcome=data["outcome"]
        )
        success = _("需求状态已更新。")
        forms = {"status_form": form}
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=back)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, success)
            return redirect(back)
    need.refresh_from_db()
    messages.error(request, _("操作未完成:请按提示修改后再提交。"))
    return _need_detail(request, need, **forms)


# Checklist 3: resources --------------------------------------------------------------------------


def filter_resources(resources, data, today):
    """The resources matching the resource list's filters (`ResourceFilterForm`)."""
    q = data["q"].strip()
    if q:
        resources = resources.filter(
            Q(name__icontains=q)
            | Q(provider__icontains=q)
            | Q(offers__icontains=q)
            | Q(resource_number__icontains=q)
        )
    if data.get("street"):
        # A street's list: its own resources and the district-wide ones.
        resources = resources.filter(Q(street=data["street"]) | Q(area_level=AreaLevel.DISTRICT))
    if data["resource_type"]:
        resources = resources.filter(resource_type=data["resource_type"])
    if data["area_level"]:
        resources = resources.filter(area_level=data["area_level"])
    if data["validity"] == "valid":
        resources = resources.valid_on(today)
    elif data["validity"] == "invalid":
        resources = resources.filter(Q(valid_from__gt=today) | Q(valid_to__lt=today))
    return resources


def resource_list(request):
    """社会救助资源清单: the user's resources (their street's and the district's)."""
    user = request.user
    if not can_work(user):
        return forbidden(request, _("您的账号无权查看资源清单。"))
    today = timezone.localdate()
    resources = Resource.objects.visible_to(user).select_related("street", "committee")
    form = ResourceFilterForm(request.GET or None, user=user)
    if form.is_valid():
        resources = filter_resources(resources, form.cleaned_data, today)
    resources = resources.annotate(
        need_count=_count(NeedResource.objects.visible_to(user), "resource")
    )
    return render(
        request,
        "cases/resource_list.html",
        {
            "filter_form": form,
            "filtered": _filtered(form),
            "page_obj": _page(request, resources.order_by("resource_number")),
            "today": today,
            "can_keep": can_keep(user),
            "checklist": Checklist.RESOURCES,
        },
    )


def _resource_data(form):
    return {name: form.cleaned_data[name] for name in ResourceForm.Meta.fields}


def resource_create(request):
    """登记资源: district-wide (bureau) or of a street or committee."""
    user = request.user
    if not can_keep(user):
        return forbidden(
            request,
            _("资源清单由街镇管理员和区民政局维护。"),
            back_url=reverse("cases:resources"),
        )
    form = ResourceForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        street = data.get("street") if "street" in form.fields else None
        if data["area_level"] != AreaLevel.DISTRICT and not user.is_bureau:
            street = user.street
        try:
            resource = services.create_resource(
                actor=user,
                area_level=data["area_level"],
                street=street,
                committee=data.get("committee"),
                **_resource_data(form),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("资源已登记:%s。") % resource.resource_number)
            return redirect("cases:resource_detail", pk=resource.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("资源未保存:请按提示修改后再提交。"))
    return render(request, "cases/resource_form.html", {"form": form, "resource": None})


def _may_edit(user, resource):
    return can_keep(user) and (resource.area_level != AreaLevel.DISTRICT or user.is_bureau)


def resource_edit(request, pk):
    """修改资源: its details (the area never changes); district-wide ones by the bureau only."""
    user = request.user
    resource = scoped_get_or_404(
        Resource.objects.select_related("street", "committee", "district"), user, pk=pk
    )
    back = reverse("cases:resource_detail", args=[resource.pk])
    if not _may_edit(user, resource):
        message = (
            _("全区资源由区民政局维护,街镇只能查看。")
            if resource.area_level == AreaLevel.DISTRICT and can_keep(user)
            else _("资源清单由街镇管理员和区民政局维护。")
        )
        return forbidden(request, message, back_url=back)
    form = ResourceForm(request.POST or None, instance=resource, user=user, area=False)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_resource(actor=user, resource=resource, **_resource_data(form))
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("资源信息已保存。"))
            return redirect(back)
    if request.method == "POST" and form.errors:
        messages.error(request, _("资源未保存:请按提示修改后再提交。"))
    resource.refresh_from_db()
    return render(request, "cases/resource_form.html", {"form": form, "resource": resource})


def resource_detail(request, pk):
    """A resource: what it offers, the needs it met and the services that used it."""
    user = request.user
    resource = scoped_get_or_404(
        Resource.objects.select_related("street", "committee", "district"), user, pk=pk
    )
    links = NeedResource.objects.visible_to(user).filter(resource=resource)
    resource_services = ServiceRecord.objects.visible_to(user).filter(resource=resource)
    counts = {
        "needs": links.count(),
        "services": resource_services.count(),
    }
    links = links.select_related("need", "need__recipient", "need__recipient__committee").order_by(
        "-linked_on", "-pk"
    )[:DETAIL_ROWS]
    resource_services = resource_services.select_related(
        "advisor", "station", "recipient"
    ).order_by("-date", "-pk")[:DETAIL_ROWS]
    today = timezone.localdate()
    return render(
        request,
        "cases/resource_detail.html",
        {
            "resource": resource,
            "links": links,
            "services": resource_services,
            "counts": counts,
            "detail_rows": DETAIL_ROWS,
            "is_valid_today": Resource.objects.filter(pk=resource.pk).valid_on(today).exists(),
            "can_edit": _may_edit(user, resource),
            "read_only_note": can_keep(user) and not _may_edit(user, resource),
        },
    )


# Checklist 4: services --------------------------------------------------------------------------


def filter_services(records, data):
    """The services matching the service list's filters (`ServiceFilterForm`)."""
    q = data["q"].strip()
    if q:
        records = records.filter(_person_q(q) | Q(record_number__icontains=q))
    if data.get("street"):
        records = records.filter(station__street=data["street"])
    for name in ("station", "advisor", "item", "task"):
        if data[name]:
            records = records.filter(**{name: data[name]})
    if data["step"] is not None:
        records = records.filter(step=data["step"])
    if data["date_from"]:
        records = records.filter(date__gte=data["date_from"])
    if data["date_to"]:
        records = records.filter(date__lte=data["date_to"])
    return records


def service_list(request):
    """社区救助顾问服务清单: the services of the user's scope, filtered, paginated.

    An advisor sees the services of the stations they serve and of the people they see.
    """
    user = request.user
    if not can_work(user):
        return forbidden(request, _("您的账号无权查看服务清单。"))
    records = ServiceRecord.objects.visible_to(user).select_related(
        "advisor", "station", "recipient", "need"
    )
    form = ServiceFilterForm(request.GET or None, user=user)
    if form.is_valid():
        records = filter_services(records, form.cleaned_data)
    return render(
        request,
        "cases/service_list.html",
        {
            "filter_form": form,
            "filtered": _filtered(form),
            "page_obj": _page(request, records.order_by("-date", "-record_number")),
            "can_record": can_work(user),
            "checklist": Checklist.SERVICES,
        },
    )


# The step a service for a need in a status most likely belongs to (a default only).
STEP_FOR_NEED_STATUS = {
    NeedStatus.TO_ASSESS: ServiceStep.ASSESS,
    NeedStatus.TO_LINK: ServiceStep.LINK,
    NeedStatus.LINKED: ServiceStep.FOLLOW_UP,
    NeedStatus.RESOLVED: ServiceStep.CLOSE,
    NeedStatus.UNRESOLVABLE: ServiceStep.CLOSE,
}


def _own_advisor(user):
    """The `Advisor` of an advisor login (None if the login is not linked to one)."""
    return Advisor.objects.filter(user=user).first()


def service_create(request):
    """登记服务; `?recipient=<pk>` or `?need=<pk>` fills in the person (and the need)."""
    user = request.user
    if not can_work(user):
        return forbidden(request, _("您的账号不能登记服务。"))
    recipient = need = None
    if request.GET.get("need"):
        need = scoped_get_or_404(
            Need.objects.select_related("recipient", "recipient__street"),
            user,
            pk=request.GET["need"],
        )
        recipient = need.recipient
    elif request.GET.get("recipient"):
        recipient = scoped_get_or_404(
            Recipient.objects.select_related("street"), user, pk=request.GET["recipient"]
        )
    own_advisor = None
    if user.is_advisor:
        own_advisor = _own_advisor(user)
        if own_advisor is None:
            return forbidden(
                request, _("您的账号尚未关联顾问档案,不能登记服务。请联系街镇管理员。")
            )
    initial = {}
    if need is not None:
        initial = {"need": need.pk, "step": STEP_FOR_NEED_STATUS[NeedStatus(need.status)]}
    form = ServiceForm(
        request.POST or None,
        user=user,
        own_advisor=own_advisor,
        recipient=recipient,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            record = services.record_service(
                actor=user,
                date=data["date"],
                advisor=own_advisor or data["advisor"],
                station=data["station"],
                item=data["item"],
                task=data["task"],
                content=data["content"],
                recipient=data["recipient"],
                head_count=data["head_count"],
                outcome=data["outcome"].strip(),
                need=data["need"],
                resource=data["resource"],
                step=data["step"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("服务已登记:%s。") % record.record_number)
            return redirect("cases:service_detail", pk=record.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("服务未保存:请按提示修改后再提交。"))
    return render(
        request,
        "cases/service_form.html",
        {
            "form": form,
            "recipient": form.recipient,
            "need": need,
            "own_advisor": own_advisor,
        },
    )


def service_detail(request, pk):
    """A service and its evaluations; staff enter the served person's rating (服务评议)."""
    user = request.user
    record = scoped_get_or_404(
        ServiceRecord.objects.select_related(
            "advisor",
            "station",
            "recipient",
            "recipient__committee",
            "need",
            "resource",
            "recorded_by",
        ),
        user,
        pk=pk,
    )
    back = reverse("cases:service_detail", args=[record.pk])
    form = EvaluationForm(request.POST or None, prefix="evaluation")
    if request.method == "POST":
        if not can_work(user):
            return forbidden(request, _("您的账号不能录入服务评议。"), back_url=back)
        if form.is_valid():
            try:
                services.record_evaluation(
                    actor=user,
                    service=record,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
            except PermissionDenied as error:
                return forbidden(request, str(error), back_url=back)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("服务评议已录入。"))
                return redirect(back)
        messages.error(request, _("评议未保存:请按提示修改后再提交。"))
    evaluations = (
        Evaluation.objects.visible_to(user)
        .filter(service=record)
        .select_related("entered_by")
        .order_by("-created_at", "-pk")
    )
    return render(
        request,
        "cases/service_detail.html",
        {
            "record": record,
            "evaluations": evaluations,
            "form": form,
            "can_evaluate": can_work(user),
        },
    )
