from django.urls import include, path

from cases.views import (
    checklist_io,
    checklists,
    current_list,
    evaluations,
    recipients,
    vocabularies,
)

app_name = "cases"

urlpatterns = [
    # People in hardship and their files (cases.views.recipients).
    path("", recipients.recipient_list, name="recipients"),
    path("new/", recipients.recipient_create, name="recipient_create"),
    path("handover/", recipients.handover, name="handover"),
    path("vocabularies/", vocabularies.vocabularies, name="vocabularies"),
    path("<int:pk>/", recipients.recipient_detail, name="recipient_detail"),
    path("<int:pk>/edit/", recipients.recipient_edit, name="recipient_edit"),
    path("<int:pk>/current/start/", recipients.current_start, name="current_start"),
    path("<int:pk>/current/end/", recipients.current_end, name="current_end"),
    path("<int:pk>/exit/", recipients.recipient_exit, name="recipient_exit"),
    # The monthly list of current recipients from the city (cases.views.current_list).
    path("current-list/import/", current_list.current_list_import, name="current_list_import"),
    path(
        "current-list/import/template/",
        current_list.current_list_template,
        name="current_list_template",
    ),
    path(
        "current-list/import/<int:pk>/",
        current_list.current_list_import_preview,
        name="current_list_import_preview",
    ),
    # 政策找人: the lists of other departments (cases.lead_upload_urls), the leads
    # (cases.lead_urls) and the figures (cases.lead_figure_urls).
    path("leads/lists/", include("cases.lead_upload_urls")),
    path("leads/figures/", include("cases.lead_figure_urls")),
    path("leads/", include("cases.lead_urls")),
    # The four checklists and their rows (cases.views.checklists).
    path("checklists/", checklists.checklists, name="checklists"),
    path("checklists/<str:code>/", checklists.street_checklists, name="street_checklists"),
    path("checklists/<str:code>/review/", checklists.checklist_review, name="checklist_review"),
    path("<int:pk>/needs/new/", checklists.need_create, name="need_create"),
    path("needs/", checklists.need_list, name="needs"),
    path("needs/<int:pk>/", checklists.need_detail, name="need_detail"),
    path("resources/", checklists.resource_list, name="resources"),
    path("resources/new/", checklists.resource_create, name="resource_create"),
    path("resources/<int:pk>/", checklists.resource_detail, name="resource_detail"),
    path("resources/<int:pk>/edit/", checklists.resource_edit, name="resource_edit"),
    path("services/", checklists.service_list, name="services"),
    path("services/new/", checklists.service_create, name="service_create"),
    path("services/<int:pk>/", checklists.service_detail, name="service_detail"),
    # Service evaluation: staff pages (cases.views.evaluations).
    path("satisfaction/", evaluations.satisfaction, name="satisfaction"),
    path("stations/<int:pk>/evaluation-qr/", evaluations.evaluation_qr, name="evaluation_qr"),
    # Checklists 2-4 and the register of people in hardship in and out: export, empty
    # template, import and its preview (cases.views.checklist_io; one view per action, the
    # list given as `checklist`).
    *[
        route
        for checklist in ("needs", "resources", "services", "recipients")
        for route in (
            path(
                f"{checklist}/export/",
                checklist_io.checklist_export,
                {"checklist": checklist},
                name=f"{checklist}_export",
            ),
            path(
                f"{checklist}/template/",
                checklist_io.checklist_template,
                {"checklist": checklist},
                name=f"{checklist}_template",
            ),
            path(
                f"{checklist}/import/",
                checklist_io.checklist_import,
                {"checklist": checklist},
                name=f"{checklist}_import",
            ),
            path(
                f"{checklist}/import/<int:pk>/",
                checklist_io.checklist_import_preview,
                {"checklist": checklist},
                name=f"{checklist}_import_preview",
            ),
        )
    ],
]
