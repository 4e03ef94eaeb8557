"""The audit pages: the change trail and the access records, read-only.

Open to the audit administrator (everything) and bureau staff (their district's records);
everyone else gets 404, as for a page that does not exist. No view here writes: the trail
cannot be changed or deleted through the application.
"""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit import selectors
from audit.context import tracking_supported
from audit.forms import TrailFilterForm
from audit.scoping import can_read_audit, is_audit_admin

PER_PAGE = 50


def _reader(request):
    if not can_read_audit(request.user):
        raise Http404
    return request.user


@require_safe
def change_trail(request):
    """Who created, changed and deleted what, field by field, newest first."""
    reader = _reader(request)
    form = TrailFilterForm(request.GET or None, reader=reader)
    filters = form.filters()
    rows = selectors.change_events(reader, filters) if filters is not None else []
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = selectors.change_event_details(reader, page.object_list)
    return render(
        request,
        "audit/change_trail.html",
        {
            "form": form,
            "page_obj": page,
            "tracking_supported": tracking_supported(),
            "whole_trail": is_audit_admin(reader),
        },
    )


@require_safe
def access_records(request):
    """Who opened, revealed or exported sensitive data, newest first."""
    reader = _reader(request)
    form = TrailFilterForm(request.GET or None, reader=reader, access=True)
    filters = form.filters()
    records = selectors.access_records(reader, filters) if filters is not None else []
    page = Paginator(records, PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = list(page.object_list)
    names = selectors.access_record_user_names(reader, page.object_list)
    for record in page.object_list:
        record.user_name = names[record.pk]
        model = record.object_type.model_class() if record.object_type else None
        record.object_label = model._meta.verbose_name if model else ""
    return render(
        request,
        "audit/access_records.html",
        {"form": form, "page_obj": page, "whole_trail": is_audit_admin(reader)},
    )
