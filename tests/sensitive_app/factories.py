"""Test persons with valid ID numbers (GB 11643 check characters computed)."""

import itertools

from changning_aid.sensitive.idnumbers import check_character
from stations.choices import StationKind
from stations.models import Station
from tests.sensitive_app.models import Person

_sequence = itertools.count(101)


def make_id_number(region="310105", birth="19800101", sequence=None):
    """A valid 18-character ID number: region, birth date, sequence, check character."""
    sequence = f"{next(_sequence) % 1000:03d}" if sequence is None else sequence
    first_17 = f"{region}{birth}{sequence}"
    return first_17 + check_character(first_17)


def make_person(street, *, name=None, id_number=None, phone="13812345678", station=None, **fields):
    """A person of `street` (served by its first committee point unless `station` is given)."""
    number = next(_sequence)
    if station is None:
        station = (
            Station.objects.filter(street=street, kind=StationKind.COMMITTEE).order_by("pk").first()
        )
    return Person.objects.create(
        street=street,
        station=station,
        file_number=fields.pop("file_number", f"DA{number:05d}"),
        name=name or f"测试人{number}",
        id_number=make_id_number() if id_number is None else id_number,
        phone=phone,
        **fields,
    )
