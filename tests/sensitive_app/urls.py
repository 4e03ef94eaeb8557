from django.urls import path

from tests.sensitive_app import views

app_name = "sensitive_app"

urlpatterns = [
    path("persons/", views.person_list, name="person_list"),
    path("persons/export/", views.person_export, name="person_export"),
]
