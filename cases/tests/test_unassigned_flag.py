"""A current recipient without an active responsible advisor is flagged on the street's pages."""

import datetime

import pytest
from django.urls import reverse

from advisors.tests.factories import make_advisor
from cases import services
from cases.tests.factories import make_recipient
from stations.tests.factories import committee_point

pytestmark = pytest.mark.django_db


def street_page(client, user, street):
    client.force_login(user)
    return client.get(reverse("stations:street_detail", args=[street.code])).content.decode()


def test_the_street_page_flags_people_without_an_active_advisor_until_assigned(client, two_streets):
    committee = two_streets.committees_a[0]
    advisor = make_advisor(two_streets.street_a, [committee_point(committee)])
    since = datetime.date(2026, 1, 1)
    orphans = [make_recipient(committee, current_from=since) for _ in range(2)]
    make_recipient(committee, current_from=since, advisor=advisor)
    make_recipient(two_streets.committees_b[0], current_from=since)  # street B's, not A's

    body = street_page(client, two_streets.manager_a, two_streets.street_a)
    assert 'data-testid="unassigned-banner"' in body
    assert "2 名现有救助对象没有在岗的责任顾问" in body
    bureau_body = street_page(client, two_streets.bureau, two_streets.street_a)
    assert "2 名现有救助对象没有在岗的责任顾问" in bureau_body
    assert f"unassigned=1&amp;street={two_streets.street_a.pk}" in bureau_body

    for person in orphans:
        services.update_recipient(actor=two_streets.manager_a, recipient=person, advisor=advisor)
    assert 'data-testid="unassigned-banner"' not in street_page(
        client, two_streets.manager_a, two_streets.street_a
    )
    assert "1 名现有救助对象没有在岗的责任顾问" in street_page(
        client, two_streets.manager_b, two_streets.street_b
    )


def test_an_advisor_sees_no_flag_on_the_street_page(client, two_streets):
    make_recipient(two_streets.committees_a[0], current_from=datetime.date(2026, 1, 1))
    body = street_page(client, two_streets.advisor_a, two_streets.street_a)
    assert 'data-testid="unassigned-banner"' not in body


def test_bureau_staff_narrow_the_list_to_one_street(client, two_streets):
    since = datetime.date(2026, 1, 1)
    make_recipient(two_streets.committees_a[0], name="华阳无顾问", current_from=since)
    make_recipient(two_streets.committees_b[0], name="江苏无顾问", current_from=since)
    client.force_login(two_streets.bureau)
    url = reverse("cases:recipients")
    body = client.get(url, {"unassigned": "1", "street": two_streets.street_a.pk}).content.decode()
    assert "华阳无顾问" in body and "江苏无顾问" not in body
    client.force_login(two_streets.manager_a)
    body = client.get(url).content.decode()
    assert 'name="street"' not in body
