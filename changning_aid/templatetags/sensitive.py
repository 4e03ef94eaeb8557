"""Template tags for sensitive values: `{% load sensitive %}`.

- `{{ value|mask_id_number }}` and `{{ value|mask_phone }}`: the masks, for any text;
- `{% id_number obj %}`: an object's ID number masked, with a "显示完整号码" button for
  bureau staff (a POST to the reveal endpoint, recorded in the audit trail);
- `{% phone_number obj %}`: a person's phone, masked (lists); `{% phone_number obj full=True %}`
  on the person's own page shows it in full to users whose scope includes the person.

An `IdNumber` shows itself masked anyway (`{{ person.id_number }}`); these tags are for the
reveal button, for phones, and for values that are plain text.
"""

from django import template
from django.middleware.csrf import get_token
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from changning_aid.sensitive import masking
from changning_aid.sensitive.fields import revealable_models
from changning_aid.sensitive.views import can_reveal

register = template.Library()


@register.filter
def mask_id_number(value):
    """310105********1234."""
    return masking.mask_id_number(value)


@register.filter
def mask_phone(value):
    """138****5678."""
    return masking.mask_phone(value)


def _script_once(request):
    # One <script> per page however many numbers it shows (an external file: the CSP
    # allows no inline script).
    if request is None or getattr(request, "_sensitive_script_included", False):
        return ""
    request._sensitive_script_included = True
    return format_html('<script src="{}" defer></script>', static("js/sensitive.js"))


@register.simple_tag(takes_context=True)
def id_number(context, obj, field="id_number"):
    """The object's ID number masked, and for bureau staff a button to reveal it."""
    value = getattr(obj, field, None)
    masked = masking.mask_id_number(value) if value else ""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not masked or user is None or not can_reveal(user) or type(obj) not in revealable_models():
        return format_html('<span class="sensitive">{}</span>', masked)
    return format_html(
        '<span class="sensitive" data-sensitive>'
        '<span class="sensitive__value code" data-sensitive-value>{masked}</span> '
        '<form class="sensitive__reveal" method="post" action="{url}" data-reveal '
        'data-error-text="{error}">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
        '<input type="hidden" name="model" value="{model}">'
        '<input type="hidden" name="pk" value="{pk}">'
        '<input type="hidden" name="field" value="{field}">'
        '<button type="submit" class="btn btn-link" title="{title}">{label}</button>'
        "</form></span>{script}",
        masked=masked,
        url=reverse("sensitive:reveal"),
        error=_("无法显示,请刷新页面后重试"),
        csrf=get_token(request),
        model=obj._meta.label,
        pk=obj.pk,
        field=field,
        title=_("显示完整号码(将记入审计日志)"),
        label=_("显示完整号码"),
        script=mark_safe(_script_once(request)),  # noqa: S308 - built by format_html above
    )


@register.simple_tag(takes_context=True)
def phone_number(context, obj, field="phone", full=False):
    """A person's phone: masked, or in full (`full=True`) on their own page within scope."""
    value = getattr(obj, field, "") or ""
    if not value:
        return ""
    if full:
        request = context.get("request")
        user = getattr(request, "user", None)
        manager = type(obj)._default_manager
        if (
            user is not None
            and hasattr(manager.all(), "visible_to")
            and manager.visible_to(user).filter(pk=obj.pk).exists()
        ):
            return value
    return masking.mask_phone(value)
