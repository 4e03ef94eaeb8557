"""Factories that build a consistent District → Street → Committee → Station chain."""

import itertools

from accounts.choices import Role
from accounts.models import User
from stations.choices import StationKind, StationStatus
from stations.models import Committee, District, Station, Street
from stations.naming import committee_kind_for, street_kind_for

_street_numbers = itertools.count(1)
_committee_numbers = itertools.count(1)


def make_district(code="310105", name="长宁区", *, guidance_status=StationStatus.RUNNING):
    """A district with its 区指导站."""
    district, _ = District.objects.get_or_create(code=code, defaults={"name": name})
    Station.objects.get_or_create(
        kind=StationKind.GUIDANCE, district=district, defaults={"status": guidance_status}
    )
    return district


def make_street(district, name=None, code=None, *, status=StationStatus.RUNNING, **station_fields):
    """A street/town with its 街镇服务站."""
    number = next(_street_numbers)
    # Generated codes cycle through 200-999, clear of the codes tests spell out (001-199).
    code = code or f"{district.code}{200 + number % 800:03d}"
    name = name or f"测试{number}街道"
    street = Street.objects.create(
        district=district, code=code, name=name, kind=street_kind_for(name)
    )
    Station.objects.create(
        kind=StationKind.STREET, district=district, street=street, status=status, **station_fields
    )
    return street


def make_committee(street, name=None, code=None, *, status=StationStatus.RUNNING, **station_fields):
    """A committee with its 居委服务点."""
    number = next(_committee_numbers)
    while code is None:
        # Generated codes cycle through 000–999: skip one a test already made by hand.
        candidate = f"{street.code}{number % 1000:03d}"
        if Committee.objects.filter(code=candidate).exists():
            number = next(_committee_numbers)
        else:
            code = candidate
    name = name or f"测试{number}居委会"
    committee = Committee.objects.create(
        street=street, code=code, name=name, kind=committee_kind_for(name)
    )
    Station.objects.create(
        kind=StationKind.COMMITTEE,
        district=street.district,
        street=street,
        committee=committee,
        status=status,
        **station_fields,
    )
    return committee


def make_user(username, role, *, password="pw-for-tests-only", stations=(), **fields):
    """A login of `role`; an advisor serves `stations`.

    Test logins have changed their temporary password already (`must_change_password`
    False) unless a test says otherwise.
    """
    fields.setdefault("must_change_password", False)
    user = User.objects.create_user(username=username, password=password, role=role, **fields)
    if stations:
        user.stations.set(stations)
    return user


def committee_point(committee):
    return Station.objects.get(kind=StationKind.COMMITTEE, committee=committee)


def street_station(street):
    return Station.objects.get(kind=StationKind.STREET, street=street)


def make_two_streets():
    """Two streets of 长宁区 with a manager and an advisor each, and bureau staff.

    Street A (华阳路街道) has two committees, street B (江苏路街道) one. Every name is
    distinct so that a test can look for the other street's names in a page.
    """
    district = make_district()
    street_a = make_street(district, "华阳路街道", "310105001")
    street_b = make_street(district, "江苏路街道", "310105002")
    committees_a = [
        make_committee(street_a, "华一居委会", "310105001001"),
        make_committee(street_a, "华二居委会", "310105001002"),
    ]
    committees_b = [make_committee(street_b, "曹家堰居委会", "310105002001")]
    users = {
        "bureau": make_user("bureau_t", Role.BUREAU, district=district),
        "manager_a": make_user("manager_a", Role.STREET_MANAGER, street=street_a),
        "manager_b": make_user("manager_b", Role.STREET_MANAGER, street=street_b),
        "advisor_a": make_user(
            "advisor_a", Role.ADVISOR, stations=[committee_point(committees_a[0])]
        ),
        "advisor_b": make_user(
            "advisor_b", Role.ADVISOR, stations=[committee_point(committees_b[0])]
        ),
        "sysadmin": make_user("sysadmin_t", Role.SYSTEM_ADMIN),
    }
    return {
        "district": district,
        "street_a": street_a,
        "street_b": street_b,
        "committees_a": committees_a,
        "committees_b": committees_b,
        **users,
    }
