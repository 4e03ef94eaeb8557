"""The lists the bureau extends: assistance categories (救助类别) and key groups (重点人群).

The built-in entries are everyone's and fixed; bureau staff add their district's own and stop
offering them when no longer needed (people who have one keep it). Everyone else reads the
lists in the forms that offer them, not here.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cases import services
from cases.forms import VocabularyEntryForm
from cases.models import AssistanceCategory, KeyGroup
from changning_aid.pages import add_service_errors, forbidden

LISTS = {"category": AssistanceCategory, "key_group": KeyGroup}


def vocabularies(request):
    """Both lists with their entries; bureau staff add or stop their district's own."""
    user = request.user
    if not user.is_bureau:
        return forbidden(request, _("救助类别和重点人群由区民政局维护。"))
    forms = {
        kind: VocabularyEntryForm(
            request.POST if request.POST.get("list") == kind else None, prefix=kind
        )
        for kind in LISTS
    }
    if request.method == "POST":
        kind = request.POST.get("list")
        if kind not in LISTS:
            return redirect("cases:vocabularies")
        model = LISTS[kind]
        if request.POST.get("action") in ("stop", "resume"):
            entry = model.objects.visible_to(user).filter(pk=_row_id(request)).first()
            if entry is None:
                return redirect("cases:vocabularies")
            try:
                services.set_vocabulary_entry_active(
                    actor=user, entry=entry, active=request.POST["action"] == "resume"
                )
            except PermissionDenied as error:
                messages.error(request, str(error))
            else:
                messages.success(request, _("已更新“%s”。") % entry.name)
            return redirect("cases:vocabularies")
        form = forms[kind]
        if form.is_valid():
            try:
                entry = services.add_vocabulary_entry(actor=user, model=model, **form.cleaned_data)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("已增加“%s”。") % entry.name)
                return redirect("cases:vocabularies")
    lists = [
        {
            "kind": kind,
            "title": model._meta.verbose_name,
            "entries": list(model.objects.visible_to(user).order_by("order", "pk")),
            "form": forms[kind],
        }
        for kind, model in LISTS.items()
    ]
    return render(request, "cases/vocabularies.html", {"lists": lists})


def _row_id(request):
    value = request.POST.get("pk", "")
    return int(value) if value.isdigit() and len(value) < 12 else None
