"""The stable numbers (档案号, 走访编号, ...): the next free one, read from the index's top."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from advisors.models import Advisor, next_advisor_number
from advisors.tests.factories import make_advisor
from stations.tests.factories import make_two_streets

pytestmark = pytest.mark.django_db


def _renumber(advisor, number):
    Advisor.objects.filter(pk=advisor.pk).update(advisor_number=number)


def test_the_next_number_follows_the_highest_of_its_street():
    world = make_two_streets()
    street = world["street_a"]
    first, second = make_advisor(street=street), make_advisor(street=street)
    prefix = f"GW{street.code}"
    _renumber(first, f"{prefix}0007")
    _renumber(second, f"{prefix}0041")
    other = make_advisor(street=world["street_b"])
    _renumber(other, f"GW{world['street_b'].code}0900")

    assert next_advisor_number(street) == f"{prefix}0042"


def test_values_of_another_shape_neither_stop_nor_steer_the_sequence():
    world = make_two_streets()
    street = world["street_a"]
    prefix = f"GW{street.code}"
    advisors = [make_advisor(street=street) for _ in range(4)]
    _renumber(advisors[0], f"{prefix}0012")
    _renumber(advisors[1], f"{prefix}9")  # fewer digits: sorts above 0012
    _renumber(advisors[2], f"{prefix}5X")
    _renumber(advisors[3], f"{prefix}0003")

    assert next_advisor_number(street) == f"{prefix}0013"


def test_a_used_up_sequence_continues_after_the_longest_number():
    world = make_two_streets()
    street = world["street_a"]
    prefix = f"GW{street.code}"
    advisors = [make_advisor(street=street) for _ in range(2)]
    _renumber(advisors[0], f"{prefix}9999")
    _renumber(advisors[1], f"{prefix}10004")

    assert next_advisor_number(street) == f"{prefix}10005"


def test_finding_the_next_number_reads_one_query_at_any_count():
    world = make_two_streets()
    street = world["street_a"]
    for _ in range(3):
        make_advisor(street=street)
    with CaptureQueriesContext(connection) as few:
        next_advisor_number(street)
    for _ in range(30):
        make_advisor(street=street)
    with CaptureQueriesContext(connection) as many:
        number = next_advisor_number(street)

    assert len(few) == len(many) == 1
    assert number == f"GW{street.code}{33 + 1:04d}"
