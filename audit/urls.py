from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.change_trail, name="change_trail"),
    path("access/", views.access_records, name="access_records"),
]
