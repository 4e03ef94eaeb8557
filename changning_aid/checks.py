"""System checks of the project's own settings and of what production must not hold.

Registered in `ChangningAidConfig.ready()`:

- the settings checks (trusted proxies, second-factor roles) run with every command;
- the demo-users check reads the database, so it is a deployment check
  (`manage.py check --deploy`, the step before every start of a production server,
  see README) and a database check (`manage.py migrate`, `check --database default`).
  Behind `check --deploy` alone it reads the default database; told which databases
  (`--database`, migrate), it reads those and the deployment copy stays quiet, so an
  error is reported once. A database that does not exist yet or has no user table is
  skipped: there is nobody in it.
"""

import re

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, register
from django.db import DatabaseError, connections
from django.db.models import Q

from accounts.choices import Role
from changning_aid.net import invalid_proxy_entries

# The logins `seed_demo` creates (changning_aid/management/commands/seed_demo.py): their
# password is published in the README, so none of them may exist outside development.
DEMO_USERNAMES = ("admin", "bureau", "auditor")
DEMO_USERNAME_PATTERN = re.compile(r"^(street|advisor)_\d{9,12}$")


def check_settings(app_configs=None, **kwargs):
    errors = []
    invalid = invalid_proxy_entries(settings.TRUSTED_PROXIES)
    if invalid:
        errors.append(
            Error(
                f"TRUSTED_PROXIES 中有无法识别的地址: {', '.join(invalid)}",
                hint="填写代理服务器的 IP 地址或网段,如 10.0.0.5 或 10.0.0.0/24,用逗号分隔。",
                id="changning_aid.E101",
            )
        )
    unknown = sorted(set(settings.OTP_REQUIRED_ROLES) - set(Role.values))
    if unknown:
        errors.append(
            Error(
                f"OTP_REQUIRED_ROLES 中有不存在的角色: {', '.join(unknown)}",
                hint=f"可用的角色: {', '.join(Role.values)}。",
                id="changning_aid.E102",
            )
        )
    return errors


def check_no_demo_users_deploy(app_configs=None, databases=None, **kwargs):
    """`check --deploy`: the default database holds no demo login (unless DEBUG is on)."""
    if databases:
        return []  # check_no_demo_users reads the databases named
    return demo_user_errors(["default"])


def check_no_demo_users(app_configs=None, databases=None, **kwargs):
    """Database check: the databases named hold no demo login (unless DEBUG is on)."""
    if not databases:
        return []
    return demo_user_errors(databases)


def demo_user_errors(aliases):
    if settings.DEBUG:
        return []
    errors = []
    for alias in aliases:
        found = demo_usernames_in(alias)
        if found:
            shown = ", ".join(found[:5]) + (" …" if len(found) > 5 else "")
            errors.append(
                Error(
                    f"DEBUG 已关闭,但数据库 {alias} 中有 {len(found)} 个启用的演示账号: {shown}",
                    hint=(
                        "演示账号的密码是公开的,生产环境中不能存在。请删除或停用这些账号"
                        "(演示数据库只能在 DEBUG=on 时使用)。"
                    ),
                    id="changning_aid.E110",
                )
            )
    return errors


def demo_usernames_in(alias):
    """The active demo logins in database `alias`; none when it has no user table yet."""
    User = get_user_model()
    connection = connections[alias]
    try:
        with connection.cursor() as cursor:
            tables = connection.introspection.table_names(cursor)
        if User._meta.db_table not in tables:
            return []
        demo = Q(username__in=DEMO_USERNAMES) | Q(username__regex=DEMO_USERNAME_PATTERN.pattern)
        return list(
            User._default_manager.using(alias)
            .filter(demo, is_active=True)
            .order_by("username")
            .values_list("username", flat=True)
        )
    except DatabaseError:
        # No database server, no database yet: nothing to find, and `migrate` must run.
        return []


def register_checks():
    register(check_settings)
    register(check_no_demo_users_deploy, Tags.security, deploy=True)
    register(check_no_demo_users, Tags.database)
