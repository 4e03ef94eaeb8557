"""The bulletins' pages (included into the "supervision" namespace)."""

from django.urls import path

from supervision import bulletin_views

urlpatterns = [
    path("", bulletin_views.bulletin_list, name="bulletins"),
    path("new/", bulletin_views.bulletin_generate, name="bulletin_generate"),
    path("<int:pk>/", bulletin_views.bulletin_detail, name="bulletin_detail"),
    path("<int:pk>/edit/", bulletin_views.bulletin_edit, name="bulletin_edit"),
    path("<int:pk>/publish/", bulletin_views.bulletin_publish, name="bulletin_publish"),
    path("<int:pk>/export/", bulletin_views.bulletin_export, name="bulletin_export"),
]
