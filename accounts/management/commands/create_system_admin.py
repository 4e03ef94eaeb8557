"""Create the first system administrator of a new installation (accounts.services)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.choices import Role
from accounts.services import create_first_system_admin


class Command(BaseCommand):
    help = (
        "Create the first system administrator, with a temporary password to change at the "
        "first login; refused once an active system administrator exists."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="The login's username.")
        parser.add_argument("--full-name", default="", help="The person's name (姓名).")

    def handle(self, *args, username, full_name, **options):
        try:
            account, password = create_first_system_admin(username=username, full_name=full_name)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"已创建系统管理员 {account.username}。")
        self.stdout.write(f"临时密码:{password}(只显示这一次)")
        steps = "首次登录须先修改密码"
        if Role.SYSTEM_ADMIN in settings.OTP_REQUIRED_ROLES:
            steps += ",并在手机验证器中绑定两步验证"
        self.stdout.write(f"{steps};之后在“账号管理”中创建区民政局、审计管理员等账号。")
