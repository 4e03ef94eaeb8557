from django.urls import path

from changning_aid.sensitive import views

app_name = "sensitive"

urlpatterns = [
    path("reveal/", views.reveal, name="reveal"),
]
