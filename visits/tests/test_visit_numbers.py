"""A visit's number (走访编号) when other visits of its street are saved at the same moment.

Found by the load test (benchmarks/load): 35 advisors of two streets logging visits together
got the error page now and then, two saves having read the same highest number. The later
save now takes the next number instead.
"""

import datetime

import pytest
from django.db import IntegrityError

from advisors.tests.factories import make_advisor
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point
from visits import models
from visits.models import Visit
from visits.tests.factories import make_visit

DAY = datetime.date(2026, 11, 20)


@pytest.fixture
def person(two_streets):
    committee = two_streets.committees_a[0]
    advisor = make_advisor(two_streets.street_a, [committee_point(committee)])
    return make_recipient(committee, advisor=advisor, current_from=datetime.date(2026, 1, 1))


def test_a_visit_whose_number_another_took_meanwhile_takes_the_next(person, monkeypatch):
    first = make_visit(person, person.advisor, DAY)
    assert first.visit_number == f"ZF{person.street.code}0000001"
    # The second save read the highest number before the first was written.
    stale = iter([first.visit_number])
    fresh = models.next_visit_number
    monkeypatch.setattr(
        models, "next_visit_number", lambda street: next(stale, None) or fresh(street)
    )

    second = make_visit(person, person.advisor, DAY)

    assert second.visit_number == f"ZF{person.street.code}0000002"
    assert sorted(Visit.objects.values_list("visit_number", flat=True)) == [
        first.visit_number,
        second.visit_number,
    ]


def test_a_visit_refused_for_another_reason_is_not_tried_again(person, monkeypatch):
    numbers = []
    fresh = models.next_visit_number
    monkeypatch.setattr(
        models, "next_visit_number", lambda street: numbers.append(1) or fresh(street)
    )
    # A follow-up without its date breaks a check constraint, whatever the number.
    with pytest.raises(IntegrityError):
        make_visit(person, person.advisor, DAY, follow_up_required=True)
    assert numbers == [1]
    assert not Visit.objects.exists()
