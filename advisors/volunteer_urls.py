"""The volunteer pages, under the advisor pages (`advisors:volunteers:*`)."""

from django.urls import path

from advisors import volunteer_views

app_name = "volunteers"

urlpatterns = [
    path("", volunteer_views.volunteer_list, name="list"),
    path("new/", volunteer_views.volunteer_create, name="create"),
    path("<int:pk>/", volunteer_views.volunteer_detail, name="detail"),
    path("<int:pk>/edit/", volunteer_views.volunteer_edit, name="edit"),
    path("<int:pk>/end/", volunteer_views.volunteer_end, name="end"),
]
