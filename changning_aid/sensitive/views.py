"""Revealing one full ID number: bureau staff only, by POST, recorded in the audit trail.

The endpoint is generic: it takes the model (`app_label.ModelName`), the primary key and
the field, and answers only for models that have an encrypted ID number and a user scope
(`fields.revealable_models`), through `Model.objects.visible_to(user)`. Anyone else, any
other model or field, and an object outside the user's scope all get 404, the answer of a
page that does not exist.
"""

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_POST

from changning_aid.scoping import scoped_get_or_404
from changning_aid.sensitive.fields import EncryptedIdNumberField, revealable_models


def can_reveal(user):
    """Only bureau staff reveal full ID numbers (DOMAIN.md, "Users")."""
    return bool(user.is_authenticated and user.is_active and getattr(user, "is_bureau", False))


def _revealable_field(model_label, field_name):
    try:
        model = apps.get_model(model_label)
    except (LookupError, ValueError) as exc:
        raise Http404 from exc
    if model not in revealable_models():
        raise Http404
    try:
        model_field = model._meta.get_field(field_name)
    except FieldDoesNotExist as exc:
        raise Http404 from exc
    if not isinstance(model_field, EncryptedIdNumberField):
        raise Http404
    return model, model_field


@require_POST
def reveal(request):
    """The full ID number of one object: POST `model`, `pk`, `field`.

    Answers JSON (`{"value": ..., "masked": ...}`) to a request that accepts it (the
    page's script), else a small page with the number. Never cached.
    """
    from audit.choices import AccessAction
    from audit.services import record_access

    if not can_reveal(request.user):
        raise Http404
    model, model_field = _revealable_field(
        request.POST.get("model", ""), request.POST.get("field", "")
    )
    obj = scoped_get_or_404(model._default_manager.all(), request.user, pk=request.POST.get("pk"))
    number = getattr(obj, model_field.attname)
    if not number or not number.readable:
        raise Http404
    record_access(
        request=request,
        action=AccessAction.REVEAL,
        obj=obj,
        detail=str(model_field.verbose_name),
    )
    if "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"value": number.reveal(), "masked": number.masked})
    else:
        response = render(
            request,
            "sensitive/revealed.html",
            {"object": obj, "label": model_field.verbose_name, "number": number.reveal()},
        )
    patch_cache_control(response, no_store=True, private=True)
    return response
