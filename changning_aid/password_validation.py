"""Password rules of the project, beside Django's own (settings.AUTH_PASSWORD_VALIDATORS).

At least 10 characters (Django's MinimumLengthValidator, whose message Django 5.2 does
not translate: the subclass here says it in Chinese), from at least 3 of the 4
character classes, and not like the username (Django's UserAttributeSimilarityValidator
for likeness, and the username validator here for a password that merely wraps it).
"""

import string

from django.contrib.auth import password_validation as django_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

CHARACTER_CLASSES = (
    ("lowercase", lambda char: char in string.ascii_lowercase),
    ("uppercase", lambda char: char in string.ascii_uppercase),
    ("digits", lambda char: char in string.digits),
    # Anything else counts as a symbol: punctuation, spaces, Chinese characters.
    ("symbols", lambda char: not (char.isascii() and char.isalnum())),
)


def character_classes(password):
    """The names of the character classes that `password` uses."""
    return {name for name, member in CHARACTER_CLASSES if any(member(c) for c in password)}


class MinimumLengthValidator(django_validation.MinimumLengthValidator):
    """Django's length rule with its message in Chinese."""

    def get_error_message(self):
        return _("密码太短,至少需要%(min_length)d个字符。") % {"min_length": self.min_length}

    def get_help_text(self):
        return _("密码至少需要%(min_length)d个字符。") % {"min_length": self.min_length}


class CharacterClassesValidator:
    """A password uses at least `min_classes` of lower case, upper case, digits and symbols."""

    def __init__(self, min_classes=3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(
                _("密码须至少包含小写字母、大写字母、数字和符号这四类字符中的%(min_classes)d类。"),
                code="password_too_few_character_classes",
                params={"min_classes": self.min_classes},
            )

    def get_help_text(self):
        return _("密码须至少包含小写字母、大写字母、数字和符号中的%(min_classes)d类。") % {
            "min_classes": self.min_classes
        }


class UsernameInPasswordValidator:
    """A password must not contain the username, forwards or backwards, in any case.

    Django's similarity validator compares the whole strings, so `zhangsan` passes it
    inside a long enough password (`zhangsan-Shanghai-2026`); this one does not.
    Usernames shorter than `min_length` are too common a substring to refuse on.
    """

    def __init__(self, min_length=3):
        self.min_length = min_length

    def validate(self, password, user=None):
        username = (getattr(user, "username", "") or "").casefold()
        if len(username) < self.min_length:
            return
        folded = password.casefold()
        if username in folded or username[::-1] in folded:
            raise ValidationError(
                _("密码不能包含用户名。"),
                code="password_contains_username",
            )

    def get_help_text(self):
        return _("密码不能包含用户名,也不能与用户名相似。")
