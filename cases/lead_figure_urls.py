"""政策找人 in figures (cases.views.lead_figures).

Included under /cases/leads/figures/ inside the `cases` namespace.
"""

from django.urls import path

from cases.views import lead_figures

urlpatterns = [
    path("", lead_figures.lead_figures, name="lead_figures"),
]
