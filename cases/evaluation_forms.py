"""The forms of service evaluation (服务评议): the public rating form and the period picker."""

import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from cases.choices import Rating
from cases.satisfaction import Period
from changning_aid.sensitive.idnumbers import is_valid_id_number
from changning_aid.sensitive.masking import mask_id_number

COMMENT_MAX_LENGTH = 500

# Characters that reorder or hide text (bidirectional overrides and isolates): they make a
# comment read differently from what it says.
_HIDDEN_FORMATTING = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
_ID_NUMBER_CANDIDATE = re.compile(r"(?<![0-9A-Za-z])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def mask_id_numbers(text):
    """`text` with every valid full ID number in it masked (310105********1234).

    A person may type their ID number into a comment; it is never kept or shown in full.
    """
    return _ID_NUMBER_CANDIDATE.sub(
        lambda match: (
            mask_id_number(match.group()) if is_valid_id_number(match.group()) else match.group()
        ),
        text or "",
    )


class CommentField(forms.CharField):
    """A comment from a textarea: line breaks counted once, control characters refused.

    Browsers send a line break as CR LF; it is stored as LF, so that the length the person
    saw (500 at most) is the length checked.
    """

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n").replace("\r", "\n")

    def validate(self, value):
        super().validate(value)
        for character in value:
            if character in ("\n",):
                continue
            category = unicodedata.category(character)
            if category in ("Cc", "Cs", "Co", "Cn") or character in _HIDDEN_FORMATTING:
                raise ValidationError(
                    _("意见建议中含有无法显示的控制字符,请删除后再提交。"), code="control"
                )


class PublicEvaluationForm(forms.Form):
    """满意 / 基本满意 / 不满意 and an optional comment; `website` is a trap for robots.

    People never see `website` (the page hides it); a robot that fills every field does,
    and its rating is thanked for and dropped (`is_robot`).
    """

    rating = forms.ChoiceField(
        label=_("您对本站点的服务是否满意?"),
        choices=Rating.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("请选择“满意”“基本满意”或“不满意”。"),
            "invalid_choice": _("请选择“满意”“基本满意”或“不满意”。"),
        },
    )
    comment = CommentField(
        label=_("意见建议(选填)"),
        required=False,
        max_length=COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4, "maxlength": COMMENT_MAX_LENGTH}),
        error_messages={
            "max_length": _("意见建议最多 %(limit_value)d 个字(您填写了 %(show_value)d 个)。"),
        },
    )
    website = forms.CharField(required=False, max_length=1000)

    def clean_comment(self):
        return mask_id_numbers(self.cleaned_data["comment"])

    def is_robot(self):
        return bool(self.cleaned_data.get("website", "").strip())


class PeriodForm(forms.Form):
    """The statistics period: a month (2026-03), a quarter (2026Q1) or a year (2026)."""

    period = forms.CharField(label=_("统计期"), required=False, max_length=20)

    def clean_period(self):
        code = self.cleaned_data["period"].strip()
        if not code:
            return None
        try:
            return Period.parse(code)
        except ValueError as error:
            raise ValidationError(
                _("统计期请按“2026-03”(月)、“2026Q1”(季度)或“2026”(年)填写。"),
                code="period",
            ) from error
