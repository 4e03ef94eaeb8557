"""Account pages (账号管理), under /accounts/manage/; Django's login pages stay at /accounts/."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/", views.account_detail, name="detail"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/reset-password/", views.account_reset_password, name="reset_password"),
    path(
        "<int:pk>/temporary-password/",
        views.account_temporary_password,
        name="temporary_password",
    ),
    path("<int:pk>/deactivate/", views.account_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", views.account_reactivate, name="reactivate"),
]
