"""The logins of the load and the plan they follow, made in the database under test.

`python -m benchmarks.load.setup --plan PATH` (DATABASE_URL names the database, which holds
the Changning network of `seed_demo`) makes, or brings back to a known state on a later run:

- bureau staff of 长宁区 (`load_bureau_NN`), each with a confirmed authenticator of their
  own (TOTP): the bureau is one of the default `OTP_REQUIRED_ROLES`, and the load keeps the
  production default rather than turning the second factor off; the simulated user types
  the code its authenticator shows (`workload.totp`);
- street managers (`load_street_NN`), two per street in street code order, round and round;
- advisor logins (`load_advisor_NN`), each linked to an advisor of the demo who is on duty
  today and has current recipients in their charge, taken a street at a time in turn, and
  serving that advisor's stations;

every one with the same new password (hashed once: a million PBKDF2 rounds per login would
only slow the set-up down), no password change pending and no lockout. The demo's own
logins, whose password the README publishes, are deactivated: `check --deploy` refuses to
start a server while any of them is active. The demo stays as it is otherwise: it is the
data the load reads and writes.

The plan (JSON, readable by its owner only: it holds the password and the authenticators'
keys) lists each login with the pages of its scope for each action of `mix.ACTIONS`: the
district's streets for the bureau, the manager's own street, the people in an advisor's
charge, and search texts taken from those people (name, pinyin initials, ID number tail).
"""

import argparse
import json
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.load import mix

DISTRICT_CODE = "310105"
USERNAME_PREFIX = "load_"
# Pages of people (files, searches) per login: enough that the figures are not one page's.
PEOPLE_PER_LOGIN = 20


def _password():
    """A password the validators would accept: 3 classes of characters and 10 or more."""
    return f"Ld-{secrets.token_urlsafe(12)}-7q"


def deactivate_demo_logins():
    """Deactivate the active demo logins (changning_aid.checks names them); how many."""
    from django.db.models import Q

    from accounts.models import User
    from changning_aid.checks import DEMO_USERNAME_PATTERN, DEMO_USERNAMES

    demo = Q(username__in=DEMO_USERNAMES) | Q(username__regex=DEMO_USERNAME_PATTERN.pattern)
    return User.objects.filter(demo, is_active=True).update(is_active=False)


def _login(username, encoded_password, **fields):
    from accounts.models import User

    user = User.objects.filter(username=username).first() or User(username=username)
    for name, value in fields.items():
        setattr(user, name, value)
    user.password = encoded_password
    user.is_active = True
    user.deactivated_at = None
    user.must_change_password = False
    user.save()
    return user


def _authenticator(user):
    """The login's confirmed authenticator, made if missing, its counters reset; its key."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.second_factor import new_secret

    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice(user=user, name="负载测试验证器", key=new_secret(), confirmed=True)
    device.last_t = -1
    device.drift = 0
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    return device.key


def on_duty_advisors(district, today, limit):
    """Advisors of `district` on duty `today` with current recipients in their charge, a
    street at a time in turn (streets and advisors in code order)."""
    from django.db.models import Count

    from advisors.models import Advisor, active_q
    from cases.models import Recipient

    charged = dict(
        Recipient.objects.current_on(today)
        .filter(street__district=district, advisor__isnull=False)
        .values_list("advisor")
        .annotate(people=Count("pk"))
    )
    by_street = {}
    candidates = (
        Advisor.objects.filter(active_q(today), street__district=district, pk__in=list(charged))
        .filter(stations__isnull=False)
        .distinct()
        .select_related("street")
        .order_by("street__code", "advisor_number", "pk")
    )
    for advisor in candidates:
        by_street.setdefault(advisor.street.code, []).append(advisor)
    chosen = []
    while len(chosen) < limit and any(by_street.values()):
        for queue in by_street.values():
            if queue and len(chosen) < limit:
                chosen.append(queue.pop(0))
    return chosen


def make_logins(password, district_code=DISTRICT_CODE, counts=None, today=None):
    """The load's logins (see the module): [(User, role, authenticator key or None)]."""
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from accounts.choices import Role
    from accounts.second_factor import requires_second_factor
    from advisors.models import Advisor
    from stations.models import District, Street

    counts = {**mix.LOGINS_PER_ROLE, **(counts or {})}
    today = today or timezone.localdate()
    encoded = make_password(password)
    district = District.objects.get(code=district_code)
    logins = []

    for n in range(1, counts[mix.BUREAU] + 1):
        user = _login(
            f"{USERNAME_PREFIX}bureau_{n:02d}",
            encoded,
            role=Role.BUREAU,
            district=district,
            street=None,
            full_name=f"负载测试·区民政局{n}",
        )
        logins.append((user, mix.BUREAU))

    streets = list(Street.objects.filter(district=district).order_by("code"))
    for n in range(1, counts[mix.STREET_MANAGER] + 1):
        street = streets[(n - 1) % len(streets)]
        user = _login(
            f"{USERNAME_PREFIX}street_{n:02d}",
            encoded,
            role=Role.STREET_MANAGER,
            district=district,
            street=street,
            full_name=f"负载测试·{street.name}管理员",
        )
        logins.append((user, mix.STREET_MANAGER))

    for n, advisor in enumerate(on_duty_advisors(district, today, counts[mix.ADVISOR]), 1):
        user = _login(
            f"{USERNAME_PREFIX}advisor_{n:02d}",
            encoded,
            role=Role.ADVISOR,
            district=district,
            street=advisor.street,
            full_name=advisor.name,
        )
        # One login per advisor: a login of an earlier run may have served another one.
        Advisor.objects.filter(user=user).exclude(pk=advisor.pk).update(user=None)
        if advisor.user_id != user.pk:
            advisor.user = user
            advisor.save(update_fields=["user", "updated_at"])
        user.stations.set(advisor.stations.all())
        logins.append((user, mix.ADVISOR))

    usernames = [user.username for user, _role in logins]
    _clear_lockouts(usernames)
    return [
        (user, role, _authenticator(user) if requires_second_factor(user) else None)
        for user, role in logins
    ]


def _clear_lockouts(usernames):
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username__in=usernames).delete()


def _people(queryset):
    """Up to PEOPLE_PER_LOGIN people of `queryset`, spread over it (pk order)."""
    rows = list(queryset.order_by("pk").values("pk", "name", "name_initials", "id_tail"))
    step = max(len(rows) // PEOPLE_PER_LOGIN, 1)
    return rows[::step][:PEOPLE_PER_LOGIN]


def _searches(people, path):
    """Search pages for `people`: by name, by pinyin initials, by ID number tail, in turn."""
    texts = []
    for n, person in enumerate(people):
        kind = n % 3
        if kind == 1 and person["name_initials"]:
            texts.append(person["name_initials"].split("|")[0])
        elif kind == 2 and person["id_tail"]:
            texts.append(person["id_tail"])
        else:
            texts.append(person["name"])
    return [f"{path}?{urlencode({'q': text})}" for text in texts if text]


def pages_of(user, role, today=None):
    """{action: [path, ...]} for every action of the role in `mix.ACTIONS`."""
    from django.urls import reverse

    from cases.models import Recipient
    from stations.models import Street
    from visits.coverage import current_month, shift_month

    last_month = f"{shift_month(current_month(today), -1):%Y-%m}"
    visible = Recipient.objects.visible_to(user)
    compliance = f"{reverse('supervision:compliance')}?period={last_month}"
    if role == mix.ADVISOR:
        own = Recipient.objects.filter(advisor=user.advisor_profile)
        people = _people(own) or _people(visible)
        return {
            "desk": [reverse("visits:desk")],
            "desk_search": _searches(people, reverse("visits:desk_search")),
            "record_visit": [reverse("visits:desk_record")],
            "recipient": [reverse("cases:recipient_detail", args=[p["pk"]]) for p in people],
            "visits": [reverse("visits:list")],
            "street": [reverse("stations:street_detail", kwargs={"code": user.street.code})],
        }
    if role == mix.BUREAU:
        codes = list(
            Street.objects.filter(district=user.district)
            .order_by("code")
            .values_list("code", flat=True)
        )
    else:
        codes = [user.street.code]
    people = _people(visible)
    pages = {
        "dashboard": [reverse("supervision:dashboard")],
        "street": [reverse("stations:street_detail", kwargs={"code": code}) for code in codes],
        "compliance": [compliance],
        "matrix": [f"{reverse('visits:matrix')}?street={code}" for code in codes],
        "search": _searches(people, reverse("cases:recipients")),
        "recipient": [reverse("cases:recipient_detail", args=[p["pk"]]) for p in people],
        "roster": [reverse("advisors:roster")],
        "needs": [reverse("cases:needs")],
        "resources": [reverse("cases:resources")],
        "services": [reverse("cases:services")],
        "leads": [reverse("cases:leads")],
    }
    return {action: pages[action] for action in mix.ACTIONS[role]}


def build_plan(password, district_code=DISTRICT_CODE, counts=None, today=None):
    """The logins (made by `make_logins`) and their pages, as the locustfile reads them."""
    from django.urls import reverse

    from visits.choices import QUICK_CHECKS, CheckLevel, VisitMethod, VisitResult

    logins = make_logins(password, district_code, counts, today)
    return {
        "password": password,
        "login_path": reverse("login"),
        "record_path": reverse("visits:desk_record"),
        "visit_form": {
            "methods": list(VisitMethod.values),
            "result": VisitResult.COMPLETED.value,
            "failed_result": VisitResult.NOBODY_HOME.value,
            "checks": {name: CheckLevel.NORMAL.value for name, _label in QUICK_CHECKS},
        },
        "logins": [
            {
                "username": user.username,
                "role": role,
                "totp_key": key,
                "pages": pages_of(user, role, today),
            }
            for user, role, key in logins
        ],
    }


def write_plan(plan, path):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as plan_file:
        json.dump(plan, plan_file, ensure_ascii=False, indent=1)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load.setup",
        description="建立负载测试的登录账号并写出测试计划(DATABASE_URL 指定的数据库)。",
    )
    parser.add_argument("--plan", required=True, help="测试计划(JSON)的路径。")
    parser.add_argument("--district", default=DISTRICT_CODE, help="区代码(默认长宁区)。")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "changning_aid.settings")
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():
        demo = deactivate_demo_logins()
        plan = build_plan(_password(), args.district)
    write_plan(plan, args.plan)
    roles = {
        role: sum(1 for login in plan["logins"] if login["role"] == role) for role in mix.ROLES
    }
    print(
        "负载测试账号:"
        + "、".join(f"{mix.ROLE_LABELS[role]} {count} 个" for role, count in roles.items())
        + f";停用演示账号 {demo} 个;计划已写入 {args.plan}。",
        flush=True,
    )
    if not roles[mix.ADVISOR]:
        print("没有在岗且有负责对象的社区救助顾问:请先运行 seed_demo。", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
