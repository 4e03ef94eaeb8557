"""The logins the benchmarks act as: one per role, in the benchmark's own database.

They are made here, not taken from the demo: bureau staff of the uploader's district
(长宁区), the manager of that district's street with the most registered people, and the
advisor of that street with the most people in their charge (linked to their `Advisor`
and to the stations they serve). None has a usable password: the benchmarks log them in
with the test client's `force_login`.
"""

from django.db.models import Count, Q

from accounts.choices import Role
from accounts.models import User
from benchmarks import data
from stations.models import District, Street

BUREAU_USERNAME = "bench_bureau"
STREET_USERNAME = "bench_street"
ADVISOR_USERNAME = "bench_advisor"


def _login(username, **fields):
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(username=username, must_change_password=False, **fields)
        user.set_unusable_password()
        user.save()
    return user


def bureau_user(district):
    return _login(
        BUREAU_USERNAME, full_name="基准测试·区民政局", role=Role.BUREAU, district=district
    )


def busiest_street(district):
    """The district's street with the most registered people (ties: the lowest code)."""
    from cases.models import Recipient

    top = (
        Recipient.objects.filter(street__district=district)
        .values("street", "street__code")
        .annotate(people=Count("pk"))
        .order_by("-people", "street__code")
        .first()
    )
    if top is None:
        return Street.objects.filter(district=district).order_by("code").first()
    return Street.objects.get(pk=top["street"])


def busiest_advisor(street):
    """The active advisor of `street` with the most people in their charge, or None."""
    from advisors.models import Advisor

    return (
        Advisor.objects.filter(street=street, left_on__isnull=True)
        .annotate(charged=Count("charges", filter=Q(charges__ends_on__isnull=True)))
        .order_by("-charged", "advisor_number")
        .first()
    )


def bench_users(district_code=data.UPLOADER_DISTRICT):
    """{"bureau": User, "street_manager": User, "advisor": User or None} (see the module)."""
    district = District.objects.get(code=district_code)
    street = busiest_street(district)
    users = {
        "bureau": bureau_user(district),
        "street_manager": _login(
            STREET_USERNAME,
            full_name="基准测试·街镇管理员",
            role=Role.STREET_MANAGER,
            district=district,
            street=street,
        ),
        "advisor": None,
    }
    advisor = busiest_advisor(street)
    if advisor is not None:
        user = advisor.user or _login(
            ADVISOR_USERNAME,
            full_name=advisor.name,
            role=Role.ADVISOR,
            district=district,
            street=street,
        )
        if advisor.user_id != user.pk:
            advisor.user = user
            advisor.save(update_fields=["user"])
        user.stations.set(advisor.stations.all())
        users["advisor"] = user
    return users
