"""One masking of ID numbers and phones, its template tags, and masked values coming back."""

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from changning_aid.sensitive.masking import (
    ID_NUMBER,
    PHONE,
    is_unchanged,
    mask_id_number,
    mask_phone,
    resolve_masked,
)
from stations.tests.factories import make_district, make_street, make_user
from tests.sensitive_app.factories import make_id_number, make_person


def test_id_numbers_keep_their_first_6_and_last_4():
    assert mask_id_number("31010519800101123X") == "310105********123X"
    assert mask_id_number("") == ""
    assert mask_id_number(None) == ""
    assert mask_id_number("123") == "***"


def test_phones_keep_their_first_3_and_last_4():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("021-62345678") == "021****5678"
    assert mask_phone("62345678") == "****5678"
    assert mask_phone("") == ""


def test_a_mask_coming_back_unchanged_keeps_the_stored_value():
    stored = "31010519800101123X"
    assert resolve_masked(ID_NUMBER, stored=stored, incoming="310105********123x") == stored
    assert is_unchanged(ID_NUMBER, stored=stored, incoming="310105********123X")
    assert is_unchanged(ID_NUMBER, stored=stored, incoming=stored.lower())
    assert not is_unchanged(ID_NUMBER, stored=stored, incoming="310105********0000")
    assert is_unchanged(PHONE, stored="13812345678", incoming="138****5678")
    assert not is_unchanged(PHONE, stored="13812345678", incoming="13912345678")
    assert not is_unchanged(PHONE, stored="", incoming="138****5678")


def render(template, user, **context):
    request = RequestFactory().get("/")
    request.user = user
    return Template("{% load sensitive %}" + template).render(
        Context({"request": request, **context})
    )


@pytest.mark.django_db
def test_only_bureau_staff_get_a_reveal_button():
    district = make_district()
    street = make_street(district, "华阳路街道", "310105001")
    number = make_id_number()
    person = make_person(street, id_number=number)
    bureau = make_user("bureau_m", "bureau", district=district)
    manager = make_user("manager_m", "street_manager", street=street)

    as_bureau = render("{% id_number person %}{% id_number person %}", bureau, person=person)
    as_manager = render("{% id_number person %}", manager, person=person)

    assert number not in as_bureau and number not in as_manager
    assert mask_id_number(number) in as_bureau and mask_id_number(number) in as_manager
    assert 'action="/sensitive/reveal/"' in as_bureau and "显示完整号码" in as_bureau
    assert 'value="sensitive_app.Person"' in as_bureau
    assert as_bureau.count("js/sensitive.js") == 1  # one script however many numbers
    assert "显示完整号码" not in as_manager


@pytest.mark.django_db
def test_a_phone_is_full_only_on_request_and_only_within_scope():
    district = make_district()
    street_a = make_street(district, "华阳路街道", "310105001")
    street_b = make_street(district, "江苏路街道", "310105002")
    person = make_person(street_a, phone="13812345678")
    manager_a = make_user("manager_pa", "street_manager", street=street_a)
    manager_b = make_user("manager_pb", "street_manager", street=street_b)

    assert render("{% phone_number person %}", manager_a, person=person) == "138****5678"
    assert render("{% phone_number person full=True %}", manager_a, person=person) == "13812345678"
    assert render("{% phone_number person full=True %}", manager_b, person=person) == "138****5678"
    assert render(
        "{{ '13812345678'|mask_phone }} {{ n|mask_id_number }}", manager_a, n="11010519491231002X"
    ) == ("138****5678 110105********002X")
