"""URL configuration of changning_aid."""

from django.contrib import admin
from django.urls import include, path

from changning_aid import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("network/", include("stations.urls")),
    path("public/", include("stations.public_urls")),
    path("admin/", admin.site.urls),
]
