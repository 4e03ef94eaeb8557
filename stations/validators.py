"""Validators for codes the network carries."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: the 31 characters of 统一社会信用代码 (no I, O, Z, S, V) and the weights
# of the first 17 positions; position 18 is the check character.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(
        CREDIT_CODE_CHARSET.index(char) * weight
        for char, weight in zip(first17, CREDIT_CODE_WEIGHTS, strict=True)
    )
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    """Reject a 统一社会信用代码 that is not 18 valid characters with the right check character."""
    code = (value or "").strip().upper()
    if len(code) != 18:
        raise ValidationError(
            _("统一社会信用代码应为18位,当前为%(length)d位。"),
            code="credit_code_length",
            params={"length": len(code)},
        )
    bad = sorted({char for char in code if char not in CREDIT_CODE_CHARSET})
    if bad:
        raise ValidationError(
            _("统一社会信用代码含有不允许的字符:%(chars)s。"),
            code="credit_code_charset",
            params={"chars": "、".join(bad)},
        )
    if credit_code_check_character(code[:17]) != code[17]:
        raise ValidationError(
            _("统一社会信用代码校验位不正确,请核对。"), code="credit_code_checksum"
        )
