"""What the pages of every app share: the Chinese 403 page and a service's errors on a form."""

from django.shortcuts import render


def forbidden(request, message, *, back_url=None):
    """A 403 page in Chinese for a user who may see a page's object but not do this with it."""
    return render(
        request,
        "stations/forbidden.html",
        {"message": message, "back_url": back_url},
        status=403,
    )


def add_service_errors(form, error, *, renamed=None):
    """Put a service's `ValidationError` on the form: on its fields where it has them, else above.

    `renamed` maps a model field to the form field that stands for it (`password` → `password1`).
    """
    renamed = renamed or {}
    if hasattr(error, "error_dict"):
        for field, field_errors in error.message_dict.items():
            field = renamed.get(field, field)
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error.messages)
