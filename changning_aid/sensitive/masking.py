"""The one masking of sensitive values, for pages, exports, the admin and the audit trail.

- ID numbers: the first 6 and the last 4 characters, 8 stars between (310105********1234);
- a person's phone: the first 3 and the last 4 characters, 4 stars between (138****5678);
  shown in full only on the person's own page (see the `sensitive` template tags). Station
  phones are public and never masked.

Imports read back files whose sensitive columns are masked: `resolve_masked` treats a value
that equals the mask of the stored value as "unchanged", so a masked column re-imported as
it was exported changes nothing.
"""

import re

from changning_aid.sensitive.idnumbers import normalize_id_number

ID_NUMBER = "id_number"
PHONE = "phone"

_MASKED_ID_NUMBER = re.compile(r"[0-9]{6}\*{8}[0-9]{3}[0-9X]")


def _plain(value):
    """The plain text of a value, whether a str or an `IdNumber` (which masks by str())."""
    if value is None:
        return ""
    reveal = getattr(value, "reveal", None)
    return reveal() if callable(reveal) else str(value)


def mask_id_number(value):
    """310105********1234: first 6, 8 stars, last 4 (other lengths: first 6, stars, last 4)."""
    text = _plain(value).strip()
    if not text:
        return ""
    if len(text) <= 10:
        return "*" * len(text)
    return text[:6] + "*" * (len(text) - 10) + text[-4:]


def mask_phone(value):
    """138****5678: first 3, 4 stars, last 4; a short number keeps only its last 4."""
    text = _plain(value).strip()
    if not text:
        return ""
    if len(text) >= 11:
        return text[:3] + "****" + text[-4:]
    if len(text) > 4:
        return "*" * (len(text) - 4) + text[-4:]
    return "*" * len(text)


MASKS = {ID_NUMBER: mask_id_number, PHONE: mask_phone}


def mask(kind, value):
    """Mask `value` as sensitive value of `kind` (`ID_NUMBER` or `PHONE`)."""
    return MASKS[kind](value)


def looks_masked(kind, value):
    """Whether `value` is a masked value of `kind` rather than one a person typed in full."""
    text = _plain(value).strip()
    if kind == ID_NUMBER:
        return _MASKED_ID_NUMBER.fullmatch(text.upper()) is not None
    return "*" in text


def resolve_masked(kind, *, stored, incoming):
    """What an import (or a form) should keep: `stored` when `incoming` is its mask.

    A value equal to the stored value's mask is the export coming back unchanged, so the
    stored value stays; anything else is what the user typed, to be validated as usual (a
    mask that is not the stored value's fails validation there).
    """
    text = "" if incoming is None else str(incoming).strip()
    if stored and text and looks_masked(kind, text) and text.upper() == mask(kind, stored).upper():
        return stored
    return incoming


def is_unchanged(kind, *, stored, incoming):
    """Whether an imported value leaves the stored one as it is (equal, or equal to its mask)."""
    resolved = resolve_masked(kind, stored=stored, incoming=incoming)
    return _comparable(kind, resolved) == _comparable(kind, stored)


def _comparable(kind, value):
    text = _plain(value).strip()
    return normalize_id_number(text) if kind == ID_NUMBER else text
