"""The leads of 政策找人 (cases.views.leads), under /cases/leads/ in the `cases` namespace.

The actions of a lead's path are POSTs; a GET of one goes back to the lead's page.
"""

from django.urls import path

from cases.views import leads

urlpatterns = [
    path("", leads.lead_list, name="leads"),
    path("<int:pk>/", leads.lead_detail, name="lead_detail"),
    path("<int:pk>/visit/", leads.lead_visit, name="lead_visit"),
    path("<int:pk>/enrol/", leads.lead_enrol, name="lead_enrol"),
    path("<int:pk>/close/", leads.lead_close, name="lead_close"),
    path("<int:pk>/assign/", leads.lead_assign, name="lead_assign"),
    path("<int:pk>/place/", leads.lead_place, name="lead_place"),
]
