"""The dashboard and the compliance page (included into the "supervision" namespace)."""

from django.urls import path

from supervision import dashboard_views

urlpatterns = [
    path("", dashboard_views.dashboard_view, name="dashboard"),
    path("compliance/", dashboard_views.compliance_view, name="compliance"),
]
