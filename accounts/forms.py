"""Forms of the account pages (账号管理) and of the password change.

The forms offer only choices inside the acting user's scope and validate what they can;
the views write through `accounts.services`, which checks everything again.
"""

from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.hashers import check_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db.models import Q
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from accounts.authority import creatable_roles, listed_roles
from accounts.choices import Role
from accounts.models import User
from stations.models import District, Station, Street
from stations.selectors import KIND_ORDER

GENERATED = "generated"
TYPED = "typed"


class TemporaryPasswordForm(forms.Form):
    """The temporary password of a new or reset login: generated (shown once) or typed.

    `password_account()` is the login the validators judge the typed password for (its
    username and name must not be like the password).
    """

    password_choice = forms.ChoiceField(
        label=_("临时密码"),
        choices=[
            (GENERATED, _("由系统生成(只显示一次)")),
            (TYPED, _("手动输入")),
        ],
        initial=GENERATED,
        widget=forms.RadioSelect,
    )
    password1 = forms.CharField(
        label=_("输入临时密码"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=lazy(password_validation.password_validators_help_text_html, str)(),
    )
    password2 = forms.CharField(
        label=_("再次输入临时密码"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def password_account(self):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password_choice") != TYPED:
            return cleaned
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if not password1:
            self.add_error("password1", _("选择手动输入时,请输入临时密码。"))
        elif password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        else:
            try:
                password_validation.validate_password(password1, self.password_account())
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    @property
    def typed_password(self):
        """The typed password, or None when the system is to generate one."""
        if self.cleaned_data.get("password_choice") == TYPED:
            return self.cleaned_data["password1"]
        return None


# A database id has at most 19 digits; a longer number names no row, and some databases
# refuse to even compare it (SQLite raises OverflowError).
ROW_ID_MAX_DIGITS = 18


def is_row_id(value):
    """Whether `value` could be the id of a row (a short string of ASCII digits)."""
    text = str(value).strip()
    return text.isascii() and text.isdigit() and len(text) <= ROW_ID_MAX_DIGITS


class ScopedChoiceField(forms.ModelChoiceField):
    """A choice among rows in the user's scope; anything but a plausible id is refused."""

    def to_python(self, value):
        if value not in self.empty_values and not is_row_id(value):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class StationChoiceField(forms.ModelMultipleChoiceField):
    """Stations as checkboxes, each labelled with its standard name."""

    widget = forms.CheckboxSelectMultiple

    def _check_values(self, value):
        for pk in value:
            if not is_row_id(pk):
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)

    def label_from_instance(self, obj):
        return obj.name


class AccountCreateForm(TemporaryPasswordForm):
    """A new login, of one of the roles the acting user creates, with what the role needs.

    The system administrator chooses the role (and a bureau login's district), bureau staff
    a street of their district for a street manager, a street manager the stations of their
    street an advisor serves. Every choice is limited to the acting user's scope.
    """

    username = forms.CharField(
        label=_("用户名"),
        max_length=150,
        validators=[UnicodeUsernameValidator()],
        help_text=_("登录时使用,不超过150个字符,可以使用字母、数字和 @ . + - _。"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    full_name = forms.CharField(label=_("姓名"), max_length=50)
    role = forms.ChoiceField(label=_("角色"), widget=forms.RadioSelect)
    district = ScopedChoiceField(
        label=_("所属区"),
        queryset=District.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("所选的区不在您的管理范围内。")},
    )
    street = ScopedChoiceField(
        label=_("所属街镇"),
        queryset=Street.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("所选的街镇不在您的管理范围内。")},
    )
    stations = StationChoiceField(
        label=_("服务站点"),
        queryset=Station.objects.none(),
        required=False,
        help_text=_("该顾问服务的站点,至少选择一个。"),
        error_messages={
            "invalid_choice": _("所选的服务站点不在您的管理范围内。"),
            "invalid_pk_value": _("所选的服务站点不在您的管理范围内。"),
        },
    )

    field_order = ["username", "full_name", "role", "district", "street", "stations"]

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        roles = creatable_roles(actor)
        role_field = self.fields["role"]
        role_field.choices = [(role, Role(role).label) for role in roles]
        role_field.error_messages["invalid_choice"] = _("您无权创建该角色的账号。")
        if len(roles) == 1:
            # Nothing to choose; a forged role in the POST is still refused.
            role_field.initial = roles[0]
            role_field.required = False
        if Role.BUREAU in roles:
            self.fields["district"].queryset = District.objects.visible_to(actor)
        else:
            del self.fields["district"]
        if Role.STREET_MANAGER in roles:
            self.fields["street"].queryset = Street.objects.visible_to(actor)
        else:
            del self.fields["street"]
        if Role.ADVISOR in roles:
            self.fields["stations"].queryset = scoped_stations(actor)
        else:
            del self.fields["stations"]
        self.roles = roles

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("该用户名已被使用,请换一个。"))
        return username

    def clean_role(self):
        role = self.cleaned_data.get("role")
        if not role and len(self.roles) == 1:
            return self.roles[0]
        return role

    def clean(self):
        cleaned = super().clean()
        role = cleaned.get("role")
        needed = {
            Role.BUREAU: ("district", _("区民政局账号必须指定所属区。")),
            Role.STREET_MANAGER: ("street", _("街镇管理员账号必须指定所属街镇。")),
            Role.ADVISOR: ("stations", _("社区救助顾问账号至少要选择一个服务站点。")),
        }
        if role in needed:
            field, message = needed[role]
            if not cleaned.get(field) and field not in self.errors:
                self.add_error(field, message)
        return cleaned

    def password_account(self):
        return User(
            username=self.cleaned_data.get("username", ""),
            full_name=self.cleaned_data.get("full_name", ""),
        )

    def account_fields(self):
        """The keyword arguments of `accounts.services.create_account` (but the password)."""
        data = self.cleaned_data
        return {
            "username": data["username"],
            "full_name": data["full_name"],
            "role": data["role"],
            "district": data.get("district"),
            "street": data.get("street"),
            "stations": data.get("stations") or (),
        }


def scoped_stations(actor):
    """The stations in `actor`'s scope, in the network's order (street station first)."""
    return Station.objects.visible_to(actor).order_by(KIND_ORDER, "committee__code", "pk")


class AccountEditForm(forms.Form):
    """A login's name and, for an advisor, which of the actor's stations it serves."""

    full_name = forms.CharField(label=_("姓名"), max_length=50)
    stations = StationChoiceField(
        label=_("服务站点"),
        queryset=Station.objects.none(),
        help_text=_("该顾问在本街镇服务的站点,至少选择一个。"),
        error_messages={
            "required": _("社区救助顾问账号至少要选择一个服务站点。"),
            "invalid_choice": _("所选的服务站点不在您的管理范围内。"),
            "invalid_pk_value": _("所选的服务站点不在您的管理范围内。"),
        },
    )

    def __init__(self, *args, actor, account, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "full_name": account.full_name,
                "stations": list(
                    scoped_stations(actor)
                    .filter(advisor_users=account)
                    .values_list("pk", flat=True)
                ),
            },
        )
        super().__init__(*args, **kwargs)
        if account.role == Role.ADVISOR:
            self.fields["stations"].queryset = scoped_stations(actor)
        else:
            del self.fields["stations"]


class PasswordResetByAdministratorForm(TemporaryPasswordForm):
    """A temporary password for a login its administrator resets."""

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.account = account
        self.fields["password_choice"].label = _("新的临时密码")

    def password_account(self):
        return self.account


ACTIVE, INACTIVE, MUST_CHANGE = "active", "inactive", "must_change"


class AccountFilterForm(forms.Form):
    """Search and filters of an account list: by username or name, role and status."""

    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("用户名或姓名")}),
    )
    role = forms.ChoiceField(label=_("角色"), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[
            ("", _("全部")),
            (ACTIVE, _("正常")),
            (MUST_CHANGE, _("待修改密码")),
            (INACTIVE, _("已停用")),
        ],
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        roles = listed_roles(actor)
        self.fields["role"].choices = [("", _("全部"))] + [
            (role, Role(role).label) for role in roles
        ]
        self.show_role = len(roles) > 1

    def filter(self, accounts):
        """`accounts` cut down to what the search and filters ask for; invalid input is ignored."""
        if not self.is_bound or not self.is_valid():
            return accounts
        data = self.cleaned_data
        if data["q"].strip():
            term = data["q"].strip()
            accounts = accounts.filter(Q(username__icontains=term) | Q(full_name__icontains=term))
        if data["role"]:
            accounts = accounts.filter(role=data["role"])
        if data["status"] == ACTIVE:
            accounts = accounts.filter(is_active=True, must_change_password=False)
        elif data["status"] == MUST_CHANGE:
            accounts = accounts.filter(is_active=True, must_change_password=True)
        elif data["status"] == INACTIVE:
            accounts = accounts.filter(is_active=False)
        return accounts


class AccountPasswordChangeForm(PasswordChangeForm):
    """Django's password change, refusing a new password that is the current one."""

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("new_password2")
        # hashers.check_password, not User.check_password: a refused form writes nothing,
        # not even an upgraded hash.
        if (
            password
            and "new_password2" not in self.errors
            and check_password(password, self.user.password)
        ):
            self.add_error(
                "new_password2",
                forms.ValidationError(_("新密码不能与当前密码相同。"), code="password_unchanged"),
            )
        return cleaned
