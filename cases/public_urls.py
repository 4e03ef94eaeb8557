from django.urls import path

from cases.views import evaluations

app_name = "public_evaluation"

urlpatterns = [
    path("<int:pk>/", evaluations.public_evaluate, name="evaluate"),
]
