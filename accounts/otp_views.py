"""Account security pages: the last login, and binding the second factor (TOTP).

Binding shows a fresh secret as text, as an otpauth:// address and as a QR code (drawn
here as SVG, nothing leaves the server), and takes effect only once the user types a code
their authenticator computed from it. The secret waits in the session until then, so
opening the page writes nothing.
"""

from base64 import b32encode
from binascii import unhexlify
from urllib.parse import urlencode

import segno
from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.generic import FormView, TemplateView, View
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.lockouts import can_manage_lockouts
from accounts.second_factor import (
    confirmed_devices,
    disable_second_factor,
    enable_second_factor,
    mark_verified,
    new_secret,
    requires_second_factor,
    verify_login_token,
)

PENDING_SECRET_SESSION_KEY = "otp_pending_secret"


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("动态口令"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "size": 8}
        ),
        help_text=gettext_lazy("手机验证器上显示的6位数字。"),
    )


def safe_next(request, default="home"):
    """The `next` the user came for, if it is a page of this site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def otpauth_uri(user, secret):
    """The otpauth:// address an authenticator app reads (from an unsaved device)."""
    return TOTPDevice(user=user, key=secret).config_url


def qr_code_svg(uri):
    """The address as an inline SVG QR code (no style attributes: the CSP allows none)."""
    qr = segno.make(uri, error="m")
    return mark_safe(qr.svg_inline(scale=4, border=2, svgclass="otp-qr", omitsize=True))


def grouped(secret_hex):
    """The secret in base32 as people type it into an app, in groups of four."""
    text = b32encode(unhexlify(secret_hex)).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


@method_decorator(never_cache, name="dispatch")
class SecurityOverviewView(TemplateView):
    """账号安全: last login, the second factor's state, and the way to the lockout page."""

    template_name = "accounts/otp_overview.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        return super().get_context_data(
            has_device=bool(confirmed_devices(user)),
            otp_required=requires_second_factor(user),
            can_manage_lockouts=can_manage_lockouts(user),
            **kwargs,
        )


@method_decorator(never_cache, name="dispatch")
class OTPSetupView(FormView):
    """Bind (or replace) the user's authenticator."""

    template_name = "accounts/otp_setup.html"
    form_class = TokenForm

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        # Replacing an authenticator needs the current one: a stolen password alone
        # must not be enough to move the second factor to another phone.
        if confirmed_devices(user) and not user.is_verified():
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('security:otp_verify')}?{query}")
        return super().dispatch(request, *args, **kwargs)

    def pending_secret(self):
        session = self.request.session
        if not session.get(PENDING_SECRET_SESSION_KEY):
            session[PENDING_SECRET_SESSION_KEY] = new_secret()
        return session[PENDING_SECRET_SESSION_KEY]

    def get_context_data(self, **kwargs):
        secret = self.pending_secret()
        uri = otpauth_uri(self.request.user, secret)
        return super().get_context_data(
            secret=grouped(secret),
            otpauth_uri=uri,
            qr_svg=qr_code_svg(uri),
            replacing=bool(confirmed_devices(self.request.user)),
            otp_required=requires_second_factor(self.request.user),
            next=safe_next(self.request, default=""),
            **kwargs,
        )

    def form_valid(self, form):
        device = enable_second_factor(
            user=self.request.user,
            secret=self.pending_secret(),
            token=form.cleaned_data["token"],
        )
        if device is None:
            form.add_error(
                "token", _("动态口令不正确,请确认验证器中添加的是本页显示的密钥,稍后重试。")
            )
            return self.form_invalid(form)
        self.request.session.pop(PENDING_SECRET_SESSION_KEY, None)
        mark_verified(self.request, device)
        messages.success(
            self.request, _("两步验证已启用。以后登录时,请同时填写手机验证器上的动态口令。")
        )
        return redirect(safe_next(self.request))


@method_decorator(never_cache, name="dispatch")
class OTPVerifyView(FormView):
    """Ask a logged-in user for a code from the authenticator they have bound."""

    template_name = "accounts/otp_verify.html"
    form_class = TokenForm

    def dispatch(self, request, *args, **kwargs):
        if not confirmed_devices(request.user):
            query = urlencode({"next": safe_next(request, default="")})
            return redirect(f"{reverse('security:otp_setup')}?{query}")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=safe_next(self.request, default=""), **kwargs)

    def form_valid(self, form):
        device = verify_login_token(self.request.user, form.cleaned_data["token"])
        if device is None:
            form.add_error("token", _("动态口令不正确或已过期,请核对手机验证器后重试。"))
            return self.form_invalid(form)
        mark_verified(self.request, device)
        return redirect(safe_next(self.request))


class OTPRemoveView(View):
    """POST: unbind the authenticator, where the user's role does not require one."""

    http_method_names = ["post"]

    def post(self, request):
        user = request.user
        if requires_second_factor(user):
            messages.error(request, _("您的角色必须使用两步验证,不能解除绑定;更换手机请重新绑定。"))
        elif confirmed_devices(user) and not user.is_verified():
            messages.error(request, _("请先用手机验证器验证身份。"))
        else:
            disable_second_factor(user=user)
            messages.success(request, _("已解除手机验证器的绑定。"))
        return redirect("security:overview")
