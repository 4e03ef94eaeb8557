"""The volunteer pages (社区志愿者): the list, a volunteer, registering, editing, ending service.

Street managers keep their street's volunteers and bureau staff their district's (the same
keepers as the advisor registry, `advisors.views.can_keep`); advisors read the volunteers
of the stations they serve. Every row comes through `Volunteer.objects.visible_to`, so a
volunteer outside the user's scope answers 404 like one that does not exist; writes go
through `advisors.services`. Phones are masked everywhere but on the volunteer's own page,
which shows the number in full to users whose scope includes the volunteer (as for
advisors). The list runs a fixed number of queries whatever the number of volunteers.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from advisors import services
from advisors.models import Volunteer
from advisors.views import can_keep, can_view
from advisors.volunteer_forms import EndServiceForm, VolunteerFilterForm, VolunteerForm
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404

PER_PAGE = 50


def _get_volunteer(request, pk):
    return scoped_get_or_404(
        Volunteer.objects.select_related("street", "station"), request.user, pk=pk
    )


def is_serving(volunteer, day):
    """Whether the volunteer is still on the register on `day` (their last day included)."""
    return volunteer.active_to is None or volunteer.active_to >= day


def volunteer_list(request):
    """社区志愿者: the volunteers of the user's scope, filtered, searched, paginated."""
    user = request.user
    if not can_view(user):
        return forbidden(request, _("您的账号无权查看社区志愿者。"))
    today = timezone.localdate()
    volunteers = Volunteer.objects.visible_to(user).select_related("street", "station")
    form = VolunteerFilterForm(request.GET or None, user=user)
    filtered = False
    if form.is_valid():
        data = form.cleaned_data
        if data["q"].strip():
            volunteers = volunteers.filter(name__icontains=data["q"].strip())
        if data["station"]:
            volunteers = volunteers.filter(station=data["station"])
        if data["state"] == VolunteerFilterForm.ACTIVE:
            volunteers = volunteers.filter(Q(active_to__isnull=True) | Q(active_to__gte=today))
        elif data["state"] == VolunteerFilterForm.ENDED:
            volunteers = volunteers.filter(active_to__lt=today)
        filtered = any(value not in ("", None) for value in data.values())
    page = Paginator(volunteers.order_by("street__code", "name", "pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "advisors/volunteer_list.html",
        {
            "filter_form": form,
            "filtered": filtered,
            "page_obj": page,
            "today": today,
            "can_keep": can_keep(user),
        },
    )


def _detail(request, volunteer, *, end_form=None, status=200):
    user = request.user
    today = timezone.localdate()
    context = {
        "volunteer": volunteer,
        "is_serving": is_serving(volunteer, today),
        "can_keep": can_keep(user),
        "can_end": can_keep(user) and volunteer.active_to is None,
        "end_form": end_form or EndServiceForm(prefix="end", initial={"active_to": today}),
    }
    return render(request, "advisors/volunteer_detail.html", context, status=status)


def volunteer_detail(request, pk):
    """A volunteer: details, station, period of service; keepers end the service here."""
    return _detail(request, _get_volunteer(request, pk))


def _volunteer_form(request, volunteer=None):
    user = request.user
    back_url = (
        reverse("advisors:volunteers:detail", args=[volunteer.pk])
        if volunteer
        else reverse("advisors:volunteers:list")
    )
    if not can_keep(user):
        return forbidden(
            request, _("只有街镇管理员和区民政局可以登记或修改志愿者信息。"), back_url=back_url
        )
    form = VolunteerForm(request.POST or None, user=user, volunteer=volunteer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in services.VOLUNTEER_EDITABLE_FIELDS}
        try:
            if volunteer is None:
                street = data["street"] if "street" in form.fields else user.street
                saved = services.register_volunteer(actor=user, street=street, **fields)
            else:
                saved = services.update_volunteer(actor=user, volunteer=volunteer, **fields)
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error) or _("无权操作。"))
        else:
            messages.success(request, _("志愿者信息已保存。"))
            return redirect("advisors:volunteers:detail", pk=saved.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("志愿者信息未保存:请按提示修改后再提交。"))
    if volunteer is not None:
        volunteer.refresh_from_db()
    return render(
        request,
        "advisors/volunteer_form.html",
        {"form": form, "volunteer": volunteer, "back_url": back_url},
    )


def volunteer_create(request):
    """登记志愿者."""
    return _volunteer_form(request)


def volunteer_edit(request, pk):
    """修改志愿者信息."""
    return _volunteer_form(request, _get_volunteer(request, pk))


def volunteer_end(request, pk):
    """结束服务: a POST from the volunteer's page, with the last day of service."""
    volunteer = _get_volunteer(request, pk)
    if request.method != "POST":
        return redirect("advisors:volunteers:detail", pk=volunteer.pk)
    back_url = reverse("advisors:volunteers:detail", args=[volunteer.pk])
    if not can_keep(request.user):
        return forbidden(
            request, _("只有街镇管理员和区民政局可以办理志愿者结束服务。"), back_url=back_url
        )
    form = EndServiceForm(request.POST, prefix="end")
    if form.is_valid():
        try:
            services.end_volunteer(
                actor=request.user, volunteer=volunteer, active_to=form.cleaned_data["active_to"]
            )
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=back_url)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("已办理结束服务。"))
            return redirect("advisors:volunteers:detail", pk=volunteer.pk)
    volunteer.refresh_from_db()
    messages.error(request, _("操作未完成:请按提示修改后再提交。"))
    return _detail(request, volunteer, end_form=form)
