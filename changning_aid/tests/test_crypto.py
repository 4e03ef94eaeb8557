"""SM4-GCM and HMAC-SM3 with keys from the environment: rotation, tampering, production."""

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from changning_aid.sensitive import crypto
from changning_aid.sensitive.checks import check_field_keys

PURPOSE = b"id_number"


def key_entry(key_id):
    return f"{key_id}:{base64.b64encode(os.urandom(16)).decode()}"


HASH_KEY = base64.b64encode(b"h" * 32).decode()


def test_a_value_round_trips_and_its_ciphertext_names_its_key():
    token = crypto.encrypt("310105198001011234", purpose=PURPOSE)

    assert token.startswith("sm4gcm$dev$")  # the tests' development key
    assert "310105198001011234" not in token
    assert crypto.decrypt(token, purpose=PURPOSE) == "310105198001011234"
    # A fresh nonce each time: equal numbers do not give equal ciphertexts.
    assert crypto.encrypt("310105198001011234", purpose=PURPOSE) != token


def test_a_tampered_ciphertext_or_another_purpose_does_not_decrypt():
    token = crypto.encrypt("310105198001011234", purpose=PURPOSE)
    prefix, key_id, payload = token.split("$")
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    tampered = f"{prefix}${key_id}${base64.b64encode(bytes(raw)).decode()}"

    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(tampered, purpose=PURPOSE)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, purpose=b"bank_account")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt("310105198001011234", purpose=PURPOSE)


def test_old_ciphertexts_still_decrypt_after_a_new_key_is_put_first():
    old, new = key_entry("k2025"), key_entry("k2026")
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        token = crypto.encrypt("310105198001011234", purpose=PURPOSE)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        assert crypto.decrypt(token, purpose=PURPOSE) == "310105198001011234"
        assert crypto.key_id_of(crypto.encrypt("x", purpose=PURPOSE)) == "k2026"
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token, purpose=PURPOSE)


def test_the_keyed_hash_is_hmac_sm3_under_its_own_key():
    digest = crypto.keyed_hash("310105198001011234", purpose=PURPOSE)

    assert len(digest) == 64
    assert digest == crypto.keyed_hash("310105198001011234", purpose=PURPOSE)
    with override_settings(FIELD_HASH_KEY=HASH_KEY):
        assert crypto.keyed_hash("310105198001011234", purpose=PURPOSE) != digest


@pytest.mark.parametrize(
    ("settings_", "message"),
    [
        ({"FIELD_ENCRYPTION_KEYS": [], "FIELD_HASH_KEY": HASH_KEY}, "FIELD_ENCRYPTION_KEYS"),
        ({"FIELD_ENCRYPTION_KEYS": [key_entry("k1")], "FIELD_HASH_KEY": ""}, "FIELD_HASH_KEY"),
        ({"FIELD_ENCRYPTION_KEYS": ["k1:c2hvcnQ="], "FIELD_HASH_KEY": HASH_KEY}, "16 字节"),
        ({"FIELD_ENCRYPTION_KEYS": ["no key id"], "FIELD_HASH_KEY": HASH_KEY}, "keyid:base64"),
        ({"FIELD_ENCRYPTION_KEYS": [key_entry("k1")], "FIELD_HASH_KEY": "c2hvcnQ="}, "16 字节"),
    ],
)
def test_production_without_usable_keys_is_improperly_configured(settings_, message):
    with override_settings(DEBUG=False, TESTING=False, **settings_):
        with pytest.raises(ImproperlyConfigured) as error:
            crypto.encrypt("310105198001011234", purpose=PURPOSE)
        assert message in str(error.value)


def test_production_with_its_keys_encrypts():
    with override_settings(
        DEBUG=False, TESTING=False, FIELD_ENCRYPTION_KEYS=[key_entry("k1")], FIELD_HASH_KEY=HASH_KEY
    ):
        assert crypto.key_id_of(crypto.encrypt("x", purpose=PURPOSE)) == "k1"
        assert check_field_keys() == []


def test_the_deploy_check_reports_missing_keys():
    with override_settings(FIELD_ENCRYPTION_KEYS=[], FIELD_HASH_KEY=""):
        ids = sorted(error.id for error in check_field_keys())
    assert ids == ["changning_aid.E001", "changning_aid.E002"]


def test_a_new_key_entry_can_be_generated(capsys):
    call_command("rotate_field_keys", generate_key="k2026")

    output = capsys.readouterr().out
    entry = output.split("FIELD_ENCRYPTION_KEYS=")[1].split()[0]
    with override_settings(FIELD_ENCRYPTION_KEYS=[entry]):
        assert crypto.keyring().current_id == "k2026"
    assert "FIELD_HASH_KEY=" in output
