"""Test-only pages of persons: a list with masked values, and an export."""

from django.shortcuts import render
from django.urls import reverse

from changning_aid.exports import export_page, export_view
from tests.sensitive_app.exports import PERSON_EXPORT
from tests.sensitive_app.models import Person


def person_list(request):
    persons = Person.objects.visible_to(request.user).select_related("street")
    return render(request, "sensitive_app/person_list.html", {"persons": persons})


@export_view
def person_export(request):
    return export_page(
        request,
        queryset=Person.objects.all(),
        spec=PERSON_EXPORT,
        title="导出测试人员",
        back_url=reverse("sensitive_app:person_list"),
    )
