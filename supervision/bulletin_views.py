"""Pages of the bureau's progress bulletins (通报): the list, generating one for a period, a
bulletin (printable), editing a draft, publishing it and its .docx (see
`supervision.bulletins`).

Bureau staff do everything for their district. A street manager reads the published
bulletins of their street's district (a draft answers 404 to them). Any other role gets the
403 page on the list; a bulletin's pages look the bulletin up in the user's scope first, so
one outside it (and every one, for a role that sees none) answers 404.
"""

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.choices import AccessAction
from audit.services import record_access
from changning_aid.pages import add_service_errors, forbidden
from changning_aid.scoping import scoped_get_or_404
from supervision import bulletins
from supervision.models import Bulletin

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _reader_refusal(request):
    user = request.user
    if (user.is_bureau and user.district_id) or (user.is_street_manager and user.street_id):
        return None
    return forbidden(request, _("您的账号无权查看工作通报。"))


def _bureau_refusal(request):
    user = request.user
    if user.is_bureau and user.district_id:
        return None
    return forbidden(request, _("只有区民政局工作人员可以编制通报。"))


def _bulletin(request, pk):
    return scoped_get_or_404(
        Bulletin.objects.select_related("district", "created_by", "published_by"),
        request.user,
        pk=pk,
    )


def bulletin_list(request):
    refusal = _reader_refusal(request)
    if refusal:
        return refusal
    rows = (
        Bulletin.objects.visible_to(request.user)
        .select_related("created_by", "published_by")
        .defer("data")
    )
    return render(
        request,
        "supervision/bulletin_list.html",
        {"bulletins": rows, "is_bureau": request.user.is_bureau},
    )


class GenerateForm(forms.Form):
    period = forms.CharField(
        label=gettext_lazy("统计期"),
        max_length=10,
        help_text=gettext_lazy("写作 2026-10(月)、2026Q3(季度)或 2026(年)。"),
    )


def bulletin_generate(request):
    refusal = _bureau_refusal(request)
    if refusal:
        return refusal
    form = GenerateForm(request.POST or None, initial={"period": f"{timezone.localdate():%Y-%m}"})
    if request.method == "POST" and form.is_valid():
        try:
            bulletin = bulletins.generate(
                actor=request.user, period_text=form.cleaned_data["period"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error))
        else:
            return redirect(bulletin)
    return render(
        request,
        "supervision/bulletin_generate.html",
        {"form": form},
        status=400 if form.errors else 200,
    )


def bulletin_detail(request, pk):
    bulletin = _bulletin(request, pk)
    refusal = _reader_refusal(request)
    if refusal:
        return refusal
    headers, rows = bulletins.table(bulletin.data)
    return render(
        request,
        "supervision/bulletin_detail.html",
        {
            "bulletin": bulletin,
            "headers": headers,
            "rows": rows,
            "can_edit": request.user.is_bureau and bulletin.is_draft,
        },
    )


class EditForm(forms.Form):
    title = forms.CharField(label=gettext_lazy("标题"), max_length=200)
    introduction = forms.CharField(
        label=gettext_lazy("导语"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    commendations = forms.CharField(
        label=gettext_lazy("表彰"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=gettext_lazy("每行一条。"),
    )
    criticisms = forms.CharField(
        label=gettext_lazy("通报批评"),
        widget=forms.Textarea(attrs={"rows": 6}),
        required=False,
        help_text=gettext_lazy("每行一条。"),
    )


def bulletin_edit(request, pk):
    bulletin = _bulletin(request, pk)
    refusal = _bureau_refusal(request)
    if refusal:
        return refusal
    if not bulletin.is_draft:
        return forbidden(
            request, _("通报已发布,不能再修改。"), back_url=bulletin.get_absolute_url()
        )
    form = EditForm(
        request.POST or None,
        initial={
            "title": bulletin.title,
            "introduction": bulletin.introduction,
            "commendations": "\n".join(bulletin.commendations),
            "criticisms": "\n".join(bulletin.criticisms),
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            bulletins.edit(
                actor=request.user,
                bulletin=bulletin,
                title=data["title"],
                introduction=data["introduction"],
                commendations=bulletins.split_lines(data["commendations"]),
                criticisms=bulletins.split_lines(data["criticisms"]),
            )
        except ValidationError as error:
            add_service_errors(form, error)
        except PermissionDenied as error:
            return forbidden(request, str(error), back_url=bulletin.get_absolute_url())
        else:
            return redirect(bulletin)
    return render(
        request,
        "supervision/bulletin_edit.html",
        {"bulletin": bulletin, "form": form},
        status=400 if form.errors else 200,
    )


def bulletin_publish(request, pk):
    bulletin = _bulletin(request, pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    refusal = _bureau_refusal(request)
    if refusal:
        return refusal
    try:
        bulletins.publish(actor=request.user, bulletin=bulletin)
    except PermissionDenied as error:
        return forbidden(request, str(error), back_url=bulletin.get_absolute_url())
    return redirect(bulletin)


def bulletin_export(request, pk):
    bulletin = _bulletin(request, pk)
    refusal = _reader_refusal(request)
    if refusal:
        return refusal
    content = bulletins.write_docx(bulletin)
    record_access(
        request=request,
        action=AccessAction.EXPORT,
        street=request.user.street if request.user.is_street_manager else None,
        detail=_("导出工作通报:%(title)s") % {"title": bulletin.title},
    )
    response = HttpResponse(content, content_type=DOCX)
    response["Content-Disposition"] = content_disposition_header(True, f"{bulletin.title}.docx")
    patch_cache_control(response, no_store=True, private=True)
    return response
