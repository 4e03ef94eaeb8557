"""The pages of the month rule (C9): figures, misses, matrix, reminders and the settings."""

from django.urls import path

from visits import coverage_views

urlpatterns = [
    path("coverage/", coverage_views.coverage_page, name="coverage"),
    path("misses/", coverage_views.misses_page, name="misses"),
    path("matrix/", coverage_views.matrix_page, name="matrix"),
    path("due/", coverage_views.due_page, name="due"),
    path("policy/", coverage_views.policy_page, name="policy"),
]
