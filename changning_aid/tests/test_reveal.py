"""Revealing a full ID number: bureau staff, in scope, by POST, one access record each."""

import pytest
from django.urls import reverse

from audit.models import AccessRecord
from stations.tests.factories import make_user
from tests.sensitive_app.factories import make_id_number, make_person

REVEAL_URL = reverse("sensitive:reveal")


@pytest.fixture
def world(two_streets):
    two_streets.number_a = make_id_number()
    two_streets.person_a = make_person(two_streets.street_a, id_number=two_streets.number_a)
    two_streets.number_b = make_id_number()
    two_streets.person_b = make_person(two_streets.street_b, id_number=two_streets.number_b)
    return two_streets


def reveal(client, person, *, field="id_number", model="sensitive_app.Person", json=True):
    headers = {"Accept": "application/json"} if json else {}
    return client.post(
        REVEAL_URL, {"model": model, "pk": person.pk, "field": field}, headers=headers
    )


def test_bureau_staff_reveal_one_number_and_it_is_recorded(client, world):
    client.force_login(world.bureau)

    response = reveal(client, world.person_a)

    assert response.status_code == 200
    assert response.json() == {
        "value": world.number_a,
        "masked": world.number_a[:6] + "********" + world.number_a[-4:],
    }
    assert "no-store" in response["Cache-Control"]
    record = AccessRecord.objects.get()
    assert record.action == "reveal"
    assert record.user == world.bureau
    assert record.object_id == str(world.person_a.pk)
    assert record.street == world.street_a
    assert world.number_a not in record.object_repr


def test_without_the_script_the_number_comes_in_a_small_page(client, world):
    client.force_login(world.bureau)

    page = reveal(client, world.person_b, json=False)

    assert page.status_code == 200
    assert world.number_b in page.text
    assert "已记入审计日志" in page.text
    assert AccessRecord.objects.count() == 1


def test_a_person_of_another_district_is_404_for_bureau_staff(client, world):
    from stations.tests.factories import make_district, make_street

    other = make_street(make_district("310104", "徐汇区"), "天平路街道", "310104003")
    person = make_person(other)
    client.force_login(world.bureau)

    assert reveal(client, person).status_code == 404
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize("who", ["manager_a", "advisor_a", "sysadmin", "auditor"])
def test_nobody_but_bureau_staff_reveals_even_within_their_scope(client, world, who):
    user = make_user("auditor_r", "audit_admin") if who == "auditor" else getattr(world, who)
    client.force_login(user)

    response = reveal(client, world.person_a)

    assert response.status_code == 404
    assert world.number_a not in response.content.decode()
    assert not AccessRecord.objects.exists()


@pytest.mark.parametrize(
    ("model", "field", "pk"),
    [
        ("sensitive_app.Person", "phone", None),  # not an ID number
        ("sensitive_app.Person", "name", None),
        ("sensitive_app.Person", "nope", None),
        ("stations.Station", "name", None),  # a model without sensitive fields
        ("accounts.User", "password", None),
        ("no.Such", "id_number", None),
        ("garbage", "id_number", None),
        ("sensitive_app.Person", "id_number", "abc"),
        ("sensitive_app.Person", "id_number", "9" * 40),
        ("sensitive_app.Person", "id_number", ""),
        ("sensitive_app.Person", "id_number", "1\x00"),
        ("sensitive_app.Per\x00son", "id_number", None),
        ("sensitive_app.Person", "id_\x00number", None),
    ],
)
def test_anything_but_a_registered_id_field_of_an_object_in_scope_is_404(
    client, world, model, field, pk
):
    client.force_login(world.bureau)

    response = client.post(
        REVEAL_URL, {"model": model, "pk": world.person_a.pk if pk is None else pk, "field": field}
    )

    assert response.status_code == 404
    assert not AccessRecord.objects.exists()


def test_reveal_answers_only_post(client, world):
    client.force_login(world.bureau)

    response = client.get(
        REVEAL_URL, {"model": "sensitive_app.Person", "pk": world.person_a.pk, "field": "id_number"}
    )

    assert response.status_code == 405
    assert not AccessRecord.objects.exists()


def test_anonymous_users_are_sent_to_login(client, world):
    response = reveal(client, world.person_a)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
