from django.urls import path

from stations.views import public

app_name = "public"

urlpatterns = [
    path("", public.directory, name="directory"),
]
