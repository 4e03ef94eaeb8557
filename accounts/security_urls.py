"""Account security: the second factor, and the lockout page for bureau staff."""

from django.urls import path

from accounts import lockout_views, otp_views
from accounts.middleware import password_change_not_required

app_name = "security"

urlpatterns = [
    path("", otp_views.SecurityOverviewView.as_view(), name="overview"),
    # Part of logging in: open before a forced password change too (no loop between them).
    path(
        "otp/setup/",
        password_change_not_required(otp_views.OTPSetupView.as_view()),
        name="otp_setup",
    ),
    path(
        "otp/verify/",
        password_change_not_required(otp_views.OTPVerifyView.as_view()),
        name="otp_verify",
    ),
    path("otp/remove/", otp_views.OTPRemoveView.as_view(), name="otp_remove"),
    path("lockouts/", lockout_views.LockoutListView.as_view(), name="lockouts"),
    path("lockouts/lift/", lockout_views.LockoutLiftView.as_view(), name="lockout_lift"),
]
