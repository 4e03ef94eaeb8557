"""SM4-GCM encryption and HMAC-SM3 keyed hashes for sensitive values (GB/T 32907, GB/T 32905).

Keys come from the environment (settings):

- `FIELD_ENCRYPTION_KEYS`: comma-separated `keyid:base64key` entries, each key 16 bytes (SM4
  is a 128-bit cipher). The first entry is the current key: it encrypts everything new.
  The others only decrypt, so that a key can be rotated: put a new key first, keep the old
  one after it, run `manage.py rotate_field_keys`, then drop the old one once no record
  (the audit trail's copies included) still carries its id.
- `FIELD_HASH_KEY`: base64 of at least 16 bytes, the key of the keyed hash used to find and
  to keep unique values that are stored encrypted.

A ciphertext is the text `sm4gcm$<keyid>$<base64(nonce | ciphertext | tag)>`: it names the
key that made it, so old ciphertexts stay readable after a rotation. In development and in
the tests (`DEBUG` or `TESTING`) keys are derived from `SECRET_KEY` when none are set; in
production missing or malformed keys are an `ImproperlyConfigured` error (and
`check --deploy` reports them, see `changning_aid.sensitive.checks`).
"""

import base64
import binascii
import functools
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "sm4gcm"
TOKEN_SEPARATOR = "$"
KEY_BYTES = 16  # SM4 keys are 128 bits
NONCE_BYTES = 12  # the GCM standard nonce
TAG_BYTES = 16
MIN_HASH_KEY_BYTES = 16
DEVELOPMENT_KEY_ID = "dev"

_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")
_TOKEN = re.compile(
    rf"{TOKEN_PREFIX}\{TOKEN_SEPARATOR}(?P<key_id>[A-Za-z0-9_.-]{{1,32}})"
    rf"\{TOKEN_SEPARATOR}(?P<payload>[A-Za-z0-9+/=]+)"
)


class DecryptionError(ValueError):
    """A ciphertext that cannot be read: malformed, tampered with, or under an unknown key."""


@dataclass(frozen=True)
class Keyring:
    """The encryption keys by id (the first one current) and the keyed-hash key."""

    keys: dict
    current_id: str
    hash_key: bytes

    @property
    def current_key(self):
        return self.keys[self.current_id]


def keyring():
    """The keys of the running configuration; ImproperlyConfigured when they are unusable."""
    entries = tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ()) or ())
    hash_key = getattr(settings, "FIELD_HASH_KEY", "") or ""
    development = bool(settings.DEBUG or getattr(settings, "TESTING", False))
    return _build_keyring(entries, hash_key, development, settings.SECRET_KEY)


@functools.lru_cache(maxsize=8)
def _build_keyring(entries, hash_key_text, development, secret_key):
    if entries:
        keys = {}
        for entry in entries:
            key_id, key = _parse_key_entry(entry)
            if key_id in keys:
                raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS 中的密钥编号 {key_id} 重复。")
            keys[key_id] = key
        current_id = next(iter(keys))
    elif development:
        current_id = DEVELOPMENT_KEY_ID
        keys = {current_id: _derive(secret_key, b"field-encryption")[:KEY_BYTES]}
    else:
        raise ImproperlyConfigured(
            "生产环境必须设置 FIELD_ENCRYPTION_KEYS 环境变量(格式 keyid:base64密钥,"
            "逗号分隔,第一个为当前密钥;可用 manage.py rotate_field_keys --generate-key 生成)。"
        )
    if hash_key_text:
        hash_key = _decode_base64(hash_key_text, "FIELD_HASH_KEY")
        if len(hash_key) < MIN_HASH_KEY_BYTES:
            raise ImproperlyConfigured(
                f"FIELD_HASH_KEY 至少应为 {MIN_HASH_KEY_BYTES} 字节(base64 编码)。"
            )
    elif development:
        hash_key = _derive(secret_key, b"field-hash")
    else:
        raise ImproperlyConfigured(
            "生产环境必须设置 FIELD_HASH_KEY 环境变量(base64 编码,至少 16 字节;"
            "可用 manage.py rotate_field_keys --generate-key 生成)。"
        )
    return Keyring(keys=keys, current_id=current_id, hash_key=hash_key)


def _parse_key_entry(entry):
    key_id, separator, encoded = str(entry).strip().partition(":")
    if not separator or not _KEY_ID.fullmatch(key_id):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS 的每一项应为 keyid:base64密钥,"
            "keyid 由字母、数字、点、下划线或连字符组成(最长 32 个字符)。"
        )
    key = _decode_base64(encoded, f"FIELD_ENCRYPTION_KEYS 的密钥 {key_id}")
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(
            f"FIELD_ENCRYPTION_KEYS 的密钥 {key_id} 应为 {KEY_BYTES} 字节(SM4),"
            f"实际为 {len(key)} 字节。"
        )
    return key_id, key


def _decode_base64(text, what):
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{what} 不是有效的 base64 编码。") from exc


def _derive(secret_key, label):
    """A development key: HMAC-SM3 of a label under SECRET_KEY (32 bytes)."""
    mac = hmac.HMAC(secret_key.encode(), hashes.SM3())
    mac.update(b"changning_aid development key: " + label)
    return mac.finalize()


def generate_key_entry(key_id):
    """A fresh `keyid:base64key` entry for FIELD_ENCRYPTION_KEYS."""
    if not _KEY_ID.fullmatch(key_id):
        raise ValueError("invalid key id")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def generate_hash_key():
    """A fresh FIELD_HASH_KEY value (32 random bytes, base64)."""
    return base64.b64encode(os.urandom(32)).decode()


def is_token(value):
    """Whether `value` is a ciphertext made by `encrypt` (by its form; not decrypted)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def key_id_of(token):
    """The id of the key that made `token`, or None when it is not a ciphertext."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    return match["key_id"] if match else None


def encrypt(plaintext, *, purpose):
    """Encrypt text under the current key; `purpose` (bytes) is bound as associated data.

    The purpose names the kind of value (b"id_number"), so that a ciphertext of one kind
    cannot be passed off as another.
    """
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(ring.current_key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(purpose)
    ciphertext = encryptor.update(plaintext.encode("utf-8")) + encryptor.finalize()
    payload = base64.b64encode(nonce + ciphertext + encryptor.tag).decode("ascii")
    return TOKEN_SEPARATOR.join((TOKEN_PREFIX, ring.current_id, payload))


def decrypt(token, *, purpose):
    """The text `encrypt` was given; DecryptionError when the token cannot be read."""
    match = _TOKEN.fullmatch(token) if isinstance(token, str) else None
    if match is None:
        raise DecryptionError("not a ciphertext")
    key = keyring().keys.get(match["key_id"])
    if key is None:
        raise DecryptionError(f"unknown key id {match['key_id']!r}")
    try:
        raw = base64.b64decode(match["payload"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("malformed ciphertext") from exc
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("truncated ciphertext")
    nonce, ciphertext, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(purpose)
    try:
        plaintext = decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag as exc:
        raise DecryptionError("ciphertext does not authenticate") from exc
    return plaintext.decode("utf-8")


def keyed_hash(value, *, purpose):
    """HMAC-SM3 of `value` under FIELD_HASH_KEY, as 64 hex digits; `purpose` separates kinds."""
    mac = hmac.HMAC(keyring().hash_key, hashes.SM3())
    mac.update(purpose + b"\x00" + value.encode("utf-8"))
    return mac.finalize().hex()
