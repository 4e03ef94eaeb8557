"""政策找人: the lists of other departments received by the bureau (cases.views.lead_uploads).

Included under /cases/leads/lists/ inside the `cases` namespace.
"""

from django.urls import path

from cases.views import lead_uploads

urlpatterns = [
    path("", lead_uploads.upload_list, name="lead_uploads"),
    path("new/", lead_uploads.upload_create, name="lead_upload"),
    path("template/", lead_uploads.list_template, name="lead_template"),
    path("<int:pk>/", lead_uploads.upload_detail, name="lead_upload_detail"),
    path("<int:pk>/mapping/", lead_uploads.upload_mapping, name="lead_upload_mapping"),
    path("<int:pk>/report/", lead_uploads.upload_report, name="lead_upload_report"),
    path("sources/", lead_uploads.source_list, name="lead_sources"),
    path("sources/new/", lead_uploads.source_create, name="lead_source_create"),
    path("sources/<int:pk>/edit/", lead_uploads.source_edit, name="lead_source_edit"),
]
