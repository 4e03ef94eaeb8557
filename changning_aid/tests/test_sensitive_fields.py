"""The encrypted ID number field: the column never holds the number, the value masks itself."""

import base64
import io
import os

import pytest
from django import forms
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.template import Context, Template
from django.test import override_settings

from changning_aid.sensitive import crypto
from changning_aid.sensitive.fields import IdNumber, hash_id_number
from stations.tests.factories import make_district, make_street, make_user
from tests.sensitive_app.factories import make_id_number, make_person
from tests.sensitive_app.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture
def street():
    return make_street(make_district(), "华阳路街道", "310105001")


def raw_row(person):
    """The columns as the database holds them, read past the ORM."""
    table = Person._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id_number, id_number_hash FROM {table} WHERE id = %s",  # noqa: S608
            [person.pk],
        )
        return cursor.fetchone()


def masked(number):
    return number[:6] + "********" + number[-4:]


class PersonForm(forms.ModelForm):
    class Meta:
        model = Person
        fields = ["street", "file_number", "name", "id_number", "phone"]


def test_the_column_holds_a_ciphertext_and_the_hash_never_the_number(street):
    number = make_id_number()
    person = make_person(street, id_number=number)

    stored, digest = raw_row(person)

    assert number not in stored
    assert number[:6] not in stored and number[-4:] not in stored.split("$")[1]
    assert stored.startswith("sm4gcm$dev$")
    assert digest == hash_id_number(number) and len(digest) == 64 and number not in digest
    assert Person.objects.get().id_number.reveal() == number


def test_a_number_shows_itself_masked_everywhere(street):
    number = make_id_number()
    person = Person.objects.get(pk=make_person(street, name="王小明", id_number=number).pk)

    assert str(person.id_number) == masked(number)
    assert repr(person.id_number) == f"<IdNumber {masked(number)}>"
    assert str(person) == f"王小明({masked(number)})"
    page = Template("{{ person.id_number }} {{ person }}").render(Context({"person": person}))
    assert number not in page and masked(number) in page
    # Comparisons still see the number.
    assert person.id_number == number.lower()
    # Assigning a plain number makes it an IdNumber at once.
    person.id_number = number
    assert isinstance(person.id_number, IdNumber) and str(person.id_number) == masked(number)


def test_rows_are_found_by_the_keyed_hash_and_never_by_the_ciphertext(street):
    number = make_id_number()
    person = make_person(street, id_number=number)
    make_person(street)

    assert list(Person.objects.filter(id_number__matches=number.lower())) == [person]
    assert list(Person.objects.filter(id_number_hash=hash_id_number(number))) == [person]
    assert not Person.objects.filter(id_number__matches="").exists()
    with pytest.raises(FieldError, match="__matches"):
        list(Person.objects.filter(id_number=number))
    with pytest.raises(FieldError):
        list(Person.objects.filter(id_number__startswith="310105"))


def test_a_number_is_unique_by_its_hash(street):
    number = make_id_number()
    make_person(street, id_number=number)
    other = Person(street=street, file_number="DA-X", name="重复", id_number=number)

    with pytest.raises(ValidationError) as error:
        other.full_clean()
    assert "该身份证号已经登记过" in str(error.value)
    with pytest.raises(IntegrityError), transaction.atomic():
        other.save()


def test_an_invalid_number_is_refused_by_the_model(street):
    person = Person(street=street, file_number="DA-Y", name="错号", id_number="310105198001011230")
    person.id_number = person.id_number.reveal()[:17] + "9"
    with pytest.raises(ValidationError) as error:
        person.full_clean()
    assert error.value.message_dict["id_number"][0].startswith("身份证号")


def test_a_form_shows_the_mask_and_keeps_the_number_when_the_mask_comes_back(street):
    number = make_id_number()
    person = make_person(street, id_number=number)
    token_before = raw_row(person)[0]

    form = PersonForm(instance=Person.objects.get(pk=person.pk))
    html = str(form["id_number"])
    assert number not in html and masked(number) in html

    data = {
        "street": street.pk,
        "file_number": person.file_number,
        "name": "改了名字",
        "id_number": masked(number),
        "phone": person.phone,
    }
    form = PersonForm(data, instance=Person.objects.get(pk=person.pk))
    assert form.is_valid(), form.errors
    assert "id_number" not in form.changed_data
    form.save()

    person.refresh_from_db()
    assert person.name == "改了名字"
    assert person.id_number.reveal() == number
    # Unchanged, under the current key: the same ciphertext (the audit trail sees no change).
    assert raw_row(person)[0] == token_before


def test_a_form_refuses_a_mask_that_is_not_the_stored_numbers_and_takes_a_new_number(street):
    number = make_id_number()
    person = make_person(street, id_number=number)
    data = {
        "street": street.pk,
        "file_number": person.file_number,
        "name": person.name,
        "phone": "",
    }

    form = PersonForm({**data, "id_number": "310105********0000"}, instance=person)
    assert not form.is_valid()
    assert form.errors["id_number"] == ["请填写完整的身份证号,不能填写遮盖后的号码。"]

    new_number = make_id_number(birth="19900202")
    form = PersonForm({**data, "id_number": new_number}, instance=Person.objects.get(pk=person.pk))
    assert form.is_valid(), form.errors
    assert "id_number" in form.changed_data
    form.save()
    assert Person.objects.get(id_number__matches=new_number) == person

    form = PersonForm({**data, "file_number": "DA-NEW", "id_number": new_number})
    assert not form.is_valid()
    assert "该身份证号已经登记过" in form.errors["id_number"][0]


def test_bulk_writes_keep_the_hash_in_step(street):
    numbers = [make_id_number() for _ in range(3)]
    Person.objects.bulk_create(
        Person(street=street, file_number=f"B{index}", name=f"批量{index}", id_number=number)
        for index, number in enumerate(numbers)
    )
    assert Person.objects.get(id_number__matches=numbers[1]).name == "批量1"

    people = list(Person.objects.order_by("file_number"))
    replacement = make_id_number(birth="19700707")
    people[0].id_number = replacement
    Person.objects.bulk_update(people, ["id_number", "id_number_hash"])

    assert Person.objects.get(id_number__matches=replacement).file_number == "B0"
    assert not Person.objects.filter(id_number__matches=numbers[0]).exists()


def test_serialized_data_carries_the_ciphertext_only(street):
    number = make_id_number()
    make_person(street, id_number=number)
    out = io.StringIO()

    call_command("dumpdata", "sensitive_app.person", stdout=out)

    assert number not in out.getvalue()
    assert "sm4gcm$" in out.getvalue()


def key_entry(key_id):
    return f"{key_id}:{base64.b64encode(os.urandom(16)).decode()}"


def test_rotate_field_keys_re_encrypts_under_the_current_key(street):
    old, new = key_entry("k1"), key_entry("k2")
    numbers = [make_id_number() for _ in range(3)]
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        people = [make_person(street, id_number=number) for number in numbers]
    # A number written before encryption existed, in plain text.
    legacy_number = make_id_number()
    legacy = make_person(street, id_number="")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Person._meta.db_table} SET id_number = %s WHERE id = %s",  # noqa: S608
            [legacy_number, legacy.pk],
        )
    out = io.StringIO()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        call_command("rotate_field_keys", stdout=out)
        assert "4 条已按当前密钥 k2 重新加密" in out.getvalue()
        for person, number in zip(people, numbers, strict=True):
            stored, digest = raw_row(person)
            assert crypto.key_id_of(stored) == "k2"
            assert digest == hash_id_number(number)
        stored, digest = raw_row(legacy)
        assert crypto.key_id_of(stored) == "k2" and digest == hash_id_number(legacy_number)

        out = io.StringIO()
        call_command("rotate_field_keys", stdout=out)  # nothing stale any more
        assert "0 条已按当前密钥 k2 重新加密" in out.getvalue()

    # The old key can go: everything reads under the new one alone.
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        assert sorted(p.id_number.reveal() for p in Person.objects.exclude(pk=legacy.pk)) == sorted(
            numbers
        )


def test_rotate_field_keys_refreshes_hashes_after_the_hash_key_changes(street):
    number = make_id_number()
    person = make_person(street, id_number=number)
    new_hash_key = base64.b64encode(b"n" * 32).decode()

    with override_settings(FIELD_HASH_KEY=new_hash_key):
        assert not Person.objects.filter(id_number__matches=number).exists()
        call_command("rotate_field_keys", stdout=io.StringIO())
        assert Person.objects.get(id_number__matches=number) == person


def test_a_number_under_a_lost_key_is_reported_and_left_alone(street):
    with override_settings(FIELD_ENCRYPTION_KEYS=[key_entry("lost")]):
        person = make_person(street)
    stored = raw_row(person)[0]
    err = io.StringIO()

    call_command("rotate_field_keys", stdout=io.StringIO(), stderr=err)

    assert "1 条身份证号无法解密" in err.getvalue()
    assert raw_row(person)[0] == stored
    reread = Person.objects.get(pk=person.pk)
    assert not reread.id_number.readable
    assert str(reread.id_number) == "[无法解密]"


def test_the_admin_shows_numbers_masked_to_bureau_staff(client, street):
    number = make_id_number()
    person = make_person(street, id_number=number)
    client.force_login(make_user("bureau_x", "bureau", district=street.district))

    for url in (
        "/admin/sensitive_app/person/",
        f"/admin/sensitive_app/person/{person.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200
        assert number not in page.text
        assert masked(number) in page.text
