"""The visits pages (/visits/): the advisor's desk, the visit records, the month rule's
figures, misses and matrix, the bureau's settings, and visits in and out of Excel."""

from django.urls import include, path

from visits import views

app_name = "visits"

urlpatterns = [
    path("", views.visit_list, name="list"),
    path("new/", views.visit_create, name="create"),
    path("<int:pk>/", views.visit_detail, name="detail"),
    path("<int:pk>/edit/", views.visit_edit, name="edit"),
    path("<int:pk>/withdraw/", views.visit_withdraw, name="withdraw"),
    path("export/", views.visit_export, name="export"),
    path("import/", views.visit_import, name="import"),
    path("import/template/", views.visit_import_template, name="import_template"),
    path("import/<int:pk>/", views.visit_import_preview, name="import_preview"),
    # The advisor's desk (visits/desk_urls.py) and the month rule's pages (coverage_urls.py).
    path("desk/", include("visits.desk_urls")),
    path("", include("visits.coverage_urls")),
]
