"""URL configuration of changning_aid."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from accounts.login import LoginView
from changning_aid import views

urlpatterns = [
    path("", views.home, name="home"),
    # Before Django's auth URLs: the password change also ends a forced change.
    path(
        "accounts/password_change/",
        account_views.AccountPasswordChangeView.as_view(),
        name="password_change",
    ),
    path("accounts/manage/", include("accounts.urls")),
    # Before Django's auth URLs: the login with lockouts and the second factor.
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/security/", include("accounts.security_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("network/", include("stations.urls")),
    path("public/", include("stations.public_urls")),
    path("audit/", include("audit.urls")),
    path("sensitive/", include("changning_aid.sensitive.urls")),
    path("admin/", admin.site.urls),
]

if settings.TESTING:
    # Pages of the test-only model with sensitive fields, for the crawler and scope tests.
    urlpatterns.append(path("test-sensitive/", include("tests.sensitive_app.urls")))
