"""Account pages (账号管理): the logins each managing role looks after, and the password change.

Who sees and looks after whose login is `accounts.authority`. A login outside the user's
list answers 404, exactly like one that does not exist; a login they see but do not look
after (bureau staff see advisors, whom street managers look after) answers 403 when they
try to change it. Roles without account management (the audit administrator, advisors)
get 404 on every account page. Writes go through `accounts.services`; logins are never
deleted, only deactivated.
"""

from django.contrib import messages
from django.contrib.auth.views import PasswordChangeView
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from accounts import services
from accounts.authority import (
    can_manage,
    creatable_roles,
    listed_accounts,
    managed_accounts,
    manages_accounts,
)
from accounts.choices import Role
from accounts.forms import (
    AccountCreateForm,
    AccountEditForm,
    AccountFilterForm,
    AccountPasswordChangeForm,
    PasswordResetByAdministratorForm,
    scoped_stations,
)
from accounts.models import User
from changning_aid.pages import add_service_errors, forbidden

ACCOUNTS_PER_PAGE = 50
TEMPORARY_PASSWORD_SESSION_KEY = "accounts_temporary_password"


def _require_account_management(user):
    if not manages_accounts(user):
        raise Http404


def _listed_account_or_404(user, pk):
    _require_account_management(user)
    return get_object_or_404(listed_accounts(user).select_related("district", "street"), pk=pk)


def _managed_account_or_404(request, pk):
    """The login `pk` if the user looks after it; 404 outside their list, 403 inside it."""
    account = _listed_account_or_404(request.user, pk)
    if not can_manage(request.user, account):
        if account.pk == request.user.pk:
            message = _("不能在这里管理自己的账号。修改自己的密码请使用“修改密码”。")
        else:
            message = _("您可以查看该账号,但无权管理。")
        back_url = reverse("accounts:detail", args=[account.pk])
        return account, forbidden(request, message, back_url=back_url)
    return account, None


def _show_temporary_password(request, account, password, *, created):
    """Redirect to the page that shows a generated temporary password, once.

    The password waits in the session (server side) for the one request that shows it,
    and is removed from it there; it is never stored anywhere else in plain text.
    """
    request.session[TEMPORARY_PASSWORD_SESSION_KEY] = {
        "account": account.pk,
        "password": password,
        "created": created,
    }
    return redirect("accounts:temporary_password", pk=account.pk)


def account_list(request):
    """The logins the user sees: search by username or name, filter by role and status."""
    user = request.user
    _require_account_management(user)
    filter_form = AccountFilterForm(request.GET or None, actor=user)
    accounts = (
        filter_form.filter(listed_accounts(user))
        .select_related("district", "street")
        .prefetch_related(Prefetch("stations", queryset=scoped_stations(user)))
        .order_by("-is_active", "username")
    )
    page_obj = Paginator(accounts, ACCOUNTS_PER_PAGE).get_page(request.GET.get("page"))
    managed_ids = set(
        managed_accounts(user)
        .filter(pk__in=[account.pk for account in page_obj.object_list])
        .values_list("pk", flat=True)
    )
    for account in page_obj.object_list:
        account.is_managed = account.pk in managed_ids
    return render(
        request,
        "accounts/account_list.html",
        {
            "page_obj": page_obj,
            "filter_form": filter_form,
            "filtered": any(request.GET.get(name) for name in filter_form.fields),
            "can_create": bool(creatable_roles(user)),
        },
    )


def account_detail(request, pk):
    """One login: who it is, where it works, its state, and what its administrator may do."""
    user = request.user
    account = _listed_account_or_404(user, pk)
    stations = []
    if account.role == Role.ADVISOR:
        stations = list(scoped_stations(user).filter(advisor_users=account))
    # The creator is named only when the viewer may see that login too.
    created_by = (
        User.objects.visible_to(user).filter(pk=account.created_by_id).first()
        if account.created_by_id
        else None
    )
    return render(
        request,
        "accounts/account_detail.html",
        {
            "account": account,
            "stations": stations,
            "created_by": created_by,
            "can_manage": can_manage(user, account),
        },
    )


def account_create(request):
    """A new login of a role the user creates; its password is temporary."""
    user = request.user
    if not creatable_roles(user):
        raise Http404
    form = AccountCreateForm(request.POST or None, actor=user)
    if request.method == "POST" and form.is_valid():
        password = form.typed_password
        generated = password is None
        try:
            if generated:
                password = services.generate_temporary_password(form.password_account())
            account = services.create_account(
                actor=user, password=password, **form.account_fields()
            )
        except ValidationError as error:
            add_service_errors(form, error, renamed={"password": "password1"})
        else:
            if generated:
                return _show_temporary_password(request, account, password, created=True)
            messages.success(
                request,
                _("账号 %(username)s 已创建。请把临时密码告知本人,首次登录时须修改密码。")
                % {"username": account.username},
            )
            return redirect("accounts:detail", pk=account.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("账号未创建:请按提示修改后再提交。"))
    return render(request, "accounts/account_form.html", {"form": form, "account": None})


def account_edit(request, pk):
    """Change a login's name and, for an advisor, the stations it serves."""
    account, refused = _managed_account_or_404(request, pk)
    if refused:
        return refused
    form = AccountEditForm(request.POST or None, actor=request.user, account=account)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_account(
                actor=request.user,
                account=User.objects.select_for_update().get(pk=account.pk),
                full_name=form.cleaned_data["full_name"],
                stations=form.cleaned_data.get("stations"),
            )
        except ValidationError as error:
            add_service_errors(form, error, renamed={"password": "password1"})
        else:
            messages.success(request, _("账号信息已保存。"))
            return redirect("accounts:detail", pk=account.pk)
    if request.method == "POST" and form.errors:
        messages.error(request, _("账号信息未保存:请按提示修改后再提交。"))
    return render(request, "accounts/account_form.html", {"form": form, "account": account})


def account_reset_password(request, pk):
    """Give a login a temporary password; its owner must change it at the next login."""
    account, refused = _managed_account_or_404(request, pk)
    if refused:
        return refused
    form = PasswordResetByAdministratorForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        typed = form.typed_password
        try:
            password = services.reset_password(
                actor=request.user,
                account=User.objects.select_for_update().get(pk=account.pk),
                password=typed,
            )
        except ValidationError as error:
            add_service_errors(form, error, renamed={"password": "password1"})
        else:
            if typed is None:
                return _show_temporary_password(request, account, password, created=False)
            messages.success(
                request,
                _("账号 %(username)s 的密码已重置。请把临时密码告知本人,下次登录时须修改密码。")
                % {"username": account.username},
            )
            return redirect("accounts:detail", pk=account.pk)
    return render(
        request, "accounts/account_reset_password.html", {"form": form, "account": account}
    )


def account_temporary_password(request, pk):
    """The generated temporary password of a login just created or reset: shown once only."""
    account, refused = _managed_account_or_404(request, pk)
    if refused:
        return refused
    shown = request.session.get(TEMPORARY_PASSWORD_SESSION_KEY)
    if not shown or shown.get("account") != account.pk:
        messages.info(
            request, _("临时密码只显示一次,已不能再查看。如果本人没有记下,请重新重置密码。")
        )
        return redirect("accounts:detail", pk=account.pk)
    del request.session[TEMPORARY_PASSWORD_SESSION_KEY]
    response = render(
        request,
        "accounts/temporary_password.html",
        {"account": account, "password": shown["password"], "created": shown["created"]},
    )
    add_never_cache_headers(response)
    return response


def _change_status(request, pk, *, deactivate):
    account, refused = _managed_account_or_404(request, pk)
    if refused:
        return refused
    if request.method == "POST":
        service = services.deactivate_account if deactivate else services.reactivate_account
        try:
            service(actor=request.user, account=User.objects.select_for_update().get(pk=account.pk))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            if deactivate:
                message = _("账号 %(username)s 已停用,不能再登录;其历史记录全部保留。")
            else:
                message = _("账号 %(username)s 已恢复使用。")
            messages.success(request, message % {"username": account.username})
        return redirect("accounts:detail", pk=account.pk)
    return render(
        request,
        "accounts/account_status_confirm.html",
        {"account": account, "deactivate": deactivate},
    )


def account_deactivate(request, pk):
    """Stop a login (after a confirmation): it cannot log in; its history stays."""
    return _change_status(request, pk, deactivate=True)


def account_reactivate(request, pk):
    """Let a deactivated login log in again (after a confirmation)."""
    return _change_status(request, pk, deactivate=False)


class AccountPasswordChangeView(PasswordChangeView):
    """Django's password change, which also ends a forced change (`must_change_password`)."""

    form_class = AccountPasswordChangeForm

    def get_context_data(self, **kwargs):
        if self.request.user.must_change_password:
            messages.warning(
                self.request,
                _(
                    "您的账号使用的是管理员设置的临时密码。为了账号安全,请先修改密码再继续使用系统。"
                ),
            )
        return super().get_context_data(**kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        services.set_password_changed(user=form.user)
        return response
