"""The annual assessment's pages (included into the "supervision" namespace)."""

from django.urls import path

from supervision import assessment_views

urlpatterns = [
    path("", assessment_views.assessment_list, name="assessment"),
    path("<int:year>/", assessment_views.scorecard_view, name="assessment_scorecard"),
    path("<int:year>/plan/", assessment_views.plan_edit, name="assessment_plan"),
    path("<int:year>/manual/", assessment_views.manual_edit, name="assessment_manual"),
    path("<int:year>/close/", assessment_views.close_view, name="assessment_close"),
    path("<int:year>/export/", assessment_views.export_view, name="assessment_export"),
]
