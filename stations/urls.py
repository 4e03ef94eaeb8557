from django.urls import path

from stations.views import divisions, exports, network

app_name = "stations"

urlpatterns = [
    path("", network.overview, name="overview"),
    path("streets/<str:code>/", network.street_detail, name="street_detail"),
    path("stations/export/", exports.station_export, name="station_export"),
    path("stations/<int:pk>/", network.station_detail, name="station_detail"),
    path("stations/<int:pk>/edit/", network.station_edit, name="station_edit"),
    path("my/", network.my_stations, name="my_stations"),
    path("divisions/import/", divisions.upload, name="division_import"),
    path("divisions/import/<int:pk>/", divisions.preview, name="division_import_preview"),
]
