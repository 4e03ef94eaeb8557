"""The lockout page: bureau staff see the locked logins of their district and lift locks."""

from axes.helpers import get_cool_off
from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView, View

from accounts.lockouts import can_manage_lockouts, failed_logins_visible_to, lift_lockout


class LiftForm(forms.Form):
    username = forms.CharField(max_length=150, strip=False)


class LockoutManagerMixin:
    """Bureau staff and the system administrator only; anyone else finds no such page."""

    def dispatch(self, request, *args, **kwargs):
        if not can_manage_lockouts(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class LockoutListView(LockoutManagerMixin, TemplateView):
    template_name = "accounts/lockouts.html"

    def get_context_data(self, **kwargs):
        rows = failed_logins_visible_to(self.request.user)
        return super().get_context_data(
            rows=rows,
            locked_count=sum(row.locked for row in rows),
            failure_limit=settings.AXES_FAILURE_LIMIT,
            cooloff_minutes=int(get_cool_off().total_seconds() // 60),
            **kwargs,
        )


class LockoutLiftView(LockoutManagerMixin, View):
    """POST `username`: forget its failed logins, which lifts the lock."""

    http_method_names = ["post"]

    def post(self, request):
        form = LiftForm(request.POST)
        if not form.is_valid():
            raise Http404
        username = form.cleaned_data["username"]
        lift_lockout(actor=request.user, username=username)
        messages.success(
            request, _("已解除账号 %(username)s 的登录锁定。") % {"username": username}
        )
        return redirect("security:lockouts")
