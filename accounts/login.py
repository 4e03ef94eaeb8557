"""The login page: username, password and, for whoever has bound an authenticator, its code.

One form for everything: django-axes refuses a locked username before the password is
even checked (`AxesStandaloneBackend`), a wrong code counts as a failed login like a wrong
password, and after a login the user reads when and from where they last logged in. An
advisor login whose advisor is not on duty today is refused with the reason
(`accounts.advisor_duty`).
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.advisor_duty import off_duty_message
from accounts.lockouts import lockout_message
from accounts.second_factor import confirmed_devices, verify_login_token


class LoginForm(AuthenticationForm):
    """Django's login form with the second factor's code and the lockout message."""

    otp_token = forms.CharField(
        label=gettext_lazy("动态口令"),
        required=False,
        max_length=16,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
        help_text=gettext_lazy("已绑定手机验证器的账号,请填写验证器上显示的6位数字。"),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "otp_required": gettext_lazy("您的账号已启用两步验证,请填写手机验证器上的动态口令。"),
        "otp_invalid": gettext_lazy("动态口令不正确或已过期,请核对手机验证器后重试。"),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        # Django only puts the limit on the widget: a longer name would reach django-axes,
        # whose record of the failure cannot hold it.
        username = self.fields["username"]
        username.validators.append(MaxLengthValidator(username.max_length))

    def clean(self):
        super().clean()
        user = self.user_cache
        if user is None:
            return self.cleaned_data
        if confirmed_devices(user):
            token = self.cleaned_data.get("otp_token", "")
            if not token:
                raise ValidationError(self.error_messages["otp_required"], code="otp_required")
            device = verify_login_token(user, token)
            if device is None:
                self.otp_failed(user)
                raise self.get_invalid_login_error(
                    ValidationError(self.error_messages["otp_invalid"], code="otp_invalid")
                )
            # django_otp persists it in the session when the user is logged in.
            user.otp_device = device
        return self.cleaned_data

    def confirm_login_allowed(self, user):
        """Also refuse an advisor login whose advisor is not on duty today (`advisor_duty`)."""
        super().confirm_login_allowed(user)
        message = off_duty_message(user)
        if message:
            raise ValidationError(message, code="advisor_off_duty")

    def otp_failed(self, user):
        """A wrong code counts as a failed login (and may lock the username)."""
        user_login_failed.send(
            sender=__name__,
            credentials={"username": user.get_username()},
            request=self.request,
        )
        self.user_cache = None

    def get_invalid_login_error(self, error=None):
        if getattr(self.request, "axes_locked_out", False):
            return ValidationError(lockout_message(), code="locked_out")
        return error or super().get_invalid_login_error()


class LoginView(auth_views.LoginView):
    """Log in, then tell the user about their previous login."""

    form_class = LoginForm

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.info(self.request, previous_login_message(form.get_user()))
        return response


def previous_login_message(user):
    """'上次登录:…' from the login before this one, or that this is the first."""
    if user.previous_login_at is None:
        return _("欢迎!这是您的账号首次登录。")
    when = formats.date_format(timezone.localtime(user.previous_login_at), "Y年n月j日 H:i")
    where = user.previous_login_ip or _("未知地址")
    return _("上次登录:%(when)s,地址 %(where)s。如果不是您本人登录,请立即修改密码。") % {
        "when": when,
        "where": where,
    }
