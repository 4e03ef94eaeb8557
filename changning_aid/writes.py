"""What the services of every app share: who may write, within whose scope, and how a change
is validated before it is saved."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404


def require_role(actor, roles, message):
    """Refuse (`PermissionDenied` with `message`) an actor that is not an active user of `roles`."""
    if actor is None or not actor.is_authenticated or not actor.is_active:
        raise PermissionDenied(message)
    if actor.role not in roles:
        raise PermissionDenied(message)


def visible_or_404(queryset, actor, obj):
    """`obj` when the actor may see it in `queryset`, else 404 (the same as not existing)."""
    if obj is None or not queryset.visible_to(actor).filter(pk=obj.pk).exists():
        raise Http404
    return obj


def apply_changes(obj, changes, **clean_kwargs):
    """Set `changes` on `obj` and validate it whole; on a refusal `obj` is left as it was."""
    before = {name: getattr(obj, name) for name in changes}
    for name, value in changes.items():
        setattr(obj, name, value)
    try:
        obj.full_clean(**clean_kwargs)
    except ValidationError:
        for name, value in before.items():
            setattr(obj, name, value)
        raise
