"""URL configuration of changning_aid."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views
from accounts.login import LoginView
from changning_aid import views

urlpatterns = [
    path("", views.home, name="home"),
    # Ends a forced password change too.
    path(
        "accounts/password_change/",
        account_views.AccountPasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/manage/", include("accounts.urls")),
    # The login with lockouts and the second factor.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/security/", include("accounts.security_urls")),
    # Of Django's auth views only these: passwords are reset by the account's
    # administrator in the application, never by e-mail.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("network/", include("stations.urls")),
    path("advisors/", include("advisors.urls")),
    path("cases/", include("cases.urls")),
    path("visits/", include("visits.urls")),
    path("notifications/", include("notifications.urls")),
    path("public/evaluate/", include("cases.public_urls")),
    path("public/", include("stations.public_urls")),
    path("audit/", include("audit.urls")),
    path("sensitive/", include("changning_aid.sensitive.urls")),
    path("supervision/", include("supervision.urls")),
    path("admin/", admin.site.urls),
]

if settings.TESTING:
    # Pages of the test-only model with sensitive fields, for the crawler and scope tests.
    urlpatterns.append(path("test-sensitive/", include("tests.sensitive_app.urls")))
