"""Pages of the bureau's oversight: inspections (督导检查) and rectification orders (限期整改)."""

from django.urls import include, path

from supervision.views import inspections, rectification

app_name = "supervision"

urlpatterns = [
    # Inspections, their findings and the findings' files (supervision.views.inspections).
    path("inspections/", inspections.inspection_list, name="inspections"),
    path("inspections/new/", inspections.inspection_create, name="inspection_create"),
    path("inspections/<int:pk>/", inspections.inspection_detail, name="inspection_detail"),
    path("findings/<int:pk>/order/", inspections.finding_order, name="finding_order"),
    path("findings/files/<int:pk>/", inspections.finding_file, name="finding_file"),
    # Rectification orders and their steps (supervision.views.rectification).
    path("orders/", rectification.order_list, name="orders"),
    path("orders/new/", rectification.order_create, name="order_create"),
    path("orders/<int:pk>/", rectification.order_detail, name="order_detail"),
    path("orders/<int:pk>/answer/", rectification.order_answer, name="order_answer"),
    path("orders/<int:pk>/verify/", rectification.order_verify, name="order_verify"),
    path("orders/<int:pk>/send-back/", rectification.order_send_back, name="order_send_back"),
    path("orders/<int:pk>/extend/", rectification.order_extend, name="order_extend"),
    path("orders/files/<int:pk>/", rectification.evidence_file, name="evidence_file"),
    path("assessment/", include("supervision.assessment_urls")),
    path("bulletins/", include("supervision.bulletin_urls")),
    path("", include("supervision.dashboard_urls")),
]
