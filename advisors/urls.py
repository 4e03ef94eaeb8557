from django.urls import include, path

from advisors import performance_views, views

app_name = "advisors"

urlpatterns = [
    path("", views.roster, name="roster"),
    path("volunteers/", include("advisors.volunteer_urls")),
    path("export/", views.roster_export, name="export"),
    path("import/", views.roster_import, name="import"),
    path("import/template/", views.roster_import_template, name="import_template"),
    path("import/<int:pk>/", views.roster_import_preview, name="import_preview"),
    path("new/", views.advisor_create, name="create"),
    path("filing/", views.filing_queue, name="filing_queue"),
    path("trainings/", views.training_list, name="trainings"),
    path("trainings/new/", views.training_create, name="training_create"),
    path("trainings/<int:pk>/", views.training_detail, name="training_detail"),
    path("<int:pk>/", views.advisor_detail, name="detail"),
    path("<int:pk>/edit/", views.advisor_edit, name="edit"),
    path("<int:pk>/submit/", views.advisor_submit, name="submit"),
    path("<int:pk>/file/", views.advisor_file, name="file"),
    path("<int:pk>/send-back/", views.advisor_send_back, name="send_back"),
    path("<int:pk>/revoke/", views.advisor_revoke, name="revoke"),
    path("<int:pk>/leave/", views.advisor_leave, name="leave"),
    # Advisor performance (内部考核激励) and recognitions.
    path("performance/", performance_views.performance, name="performance"),
    path("nominations/", performance_views.nominations, name="nominations"),
    path("nominations/new/<int:pk>/", performance_views.nominate, name="nominate"),
    path(
        "nominations/<int:pk>/confirm/",
        performance_views.nomination_confirm,
        name="nomination_confirm",
    ),
    path(
        "nominations/<int:pk>/decline/",
        performance_views.nomination_decline,
        name="nomination_decline",
    ),
]
