"""Resident ID numbers (居民身份证号码) after GB 11643-1999: checks and a scanner.

A number is 18 characters: a 6-digit region code (the first two digits a province), the
birth date as YYYYMMDD, a 3-digit sequence, and a check character (0-9 or X) computed by
ISO 7064 MOD 11-2 over the first 17 digits.
"""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARACTERS = "10X98765432"
EARLIEST_BIRTH_DATE = datetime.date(1900, 1, 1)

# GB/T 2260 provinces, plus 71 (台湾) and the residence permits of 港澳台 residents (81-83).
PROVINCE_CODES = frozenset(
    {
        *("11", "12", "13", "14", "15"),
        *("21", "22", "23"),
        *("31", "32", "33", "34", "35", "36", "37"),
        *("41", "42", "43", "44", "45", "46"),
        *("50", "51", "52", "53", "54"),
        *("61", "62", "63", "64", "65"),
        *("71", "81", "82", "83"),
    }
)

_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_WHITESPACE = re.compile(r"\s+")
# 18 characters that could be a full number, standing alone: not inside a longer run of
# digits, nor of letters and digits (hex digests, base64 ciphertexts, CSRF tokens).
_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def normalize_id_number(value):
    """The number as stored: full-width characters folded, spaces removed, x made X."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _WHITESPACE.sub("", text).upper()


def check_character(first_17):
    """The check character of 17 digits (ISO 7064 MOD 11-2)."""
    total = sum(int(digit) * weight for digit, weight in zip(first_17, WEIGHTS, strict=True))
    return CHECK_CHARACTERS[total % 11]


def birth_date_of(value):
    """The birth date coded in a number of the right shape, or None if it is no date."""
    try:
        return datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def id_number_problem(value, *, today=None):
    """What is wrong with a (normalized) ID number, as a Chinese message; None when valid."""
    if len(value) == 15 and value.isdigit():
        return _("这是15位的旧身份证号,请填写18位的新号码。")
    if len(value) != LENGTH:
        return _("身份证号应为18位,现在是%(length)s位。") % {"length": len(value)}
    if "*" in value:
        return _("请填写完整的身份证号,不能填写遮盖后的号码。")
    if not _SHAPE.fullmatch(value):
        return _("身份证号的前17位应为数字,最后一位为数字或字母X。")
    if value[:2] not in PROVINCE_CODES:
        return _("身份证号开头的地区代码 %(code)s 不存在。") % {"code": value[:6]}
    birth_date = birth_date_of(value)
    if birth_date is None:
        return _("身份证号中的出生日期 %(date)s 不是有效日期。") % {"date": value[6:14]}
    today = today or timezone.localdate()
    if birth_date > today:
        return _("身份证号中的出生日期 %(date)s 晚于今天。") % {"date": birth_date.isoformat()}
    if birth_date < EARLIEST_BIRTH_DATE:
        return _("身份证号中的出生日期 %(date)s 早于1900年。") % {"date": birth_date.isoformat()}
    if check_character(value[:17]) != value[17]:
        return _("身份证号的校验位(最后一位)不正确,请核对后重新输入。")
    return None


def validate_id_number(value):
    """Raise a ValidationError (in Chinese) unless `value` is a valid 18-character ID number."""
    problem = id_number_problem(normalize_id_number(value))
    if problem:
        raise ValidationError(problem, code="invalid_id_number")


def is_valid_id_number(value):
    """Whether `value` is a valid 18-character ID number."""
    return id_number_problem(normalize_id_number(value)) is None


def find_full_id_numbers(text):
    """Every valid full ID number in `text` (a page, an export): the leak detector's eyes."""
    return [match for match in _CANDIDATE.findall(text) if is_valid_id_number(match)]
