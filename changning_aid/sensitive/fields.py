"""Model and form fields for sensitive personal values.

An ID number (身份证号) is one `EncryptedIdNumberField` beside its `IdNumberHashField`::

    id_number = EncryptedIdNumberField(_("身份证号"), blank=True)
    id_number_hash = IdNumberHashField(source="id_number", unique=True)

- the column holds only an SM4-GCM ciphertext (`changning_aid.sensitive.crypto`);
- the companion column holds the HMAC-SM3 of the number: uniqueness is declared on it, and
  rows are found by `Person.objects.filter(id_number__matches="310105...")` (or, the same,
  `filter(id_number_hash=hash_id_number(...))`); every other lookup on the encrypted column
  is refused, since comparing ciphertexts can never match;
- reading the attribute gives an `IdNumber`, which masks itself: `str()`, templates, forms,
  the admin and exports show 310105********1234; only `IdNumber.reveal()` gives the number,
  which the reveal endpoint (`changning_aid.sensitive.views`) does for bureau staff;
- a form shows the mask and keeps the stored number when the mask comes back unchanged.

The hash follows the number on `save()`, `bulk_create()` and `bulk_update()` (include both
fields); `QuerySet.update()` of the number does not update it: set both, or save instances.

A person's phone is a `PersonalPhoneField`: stored as typed (it must be dialled), masked in
lists and exports (`changning_aid.sensitive.masking.mask_phone`). Station phones are public
and stay plain `CharField`s.
"""

import functools
import logging

from django import forms
from django.apps import apps
from django.core import checks
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Col
from django.db.models.query_utils import DeferredAttribute
from django.utils.translation import gettext_lazy as _

from changning_aid.sensitive import crypto
from changning_aid.sensitive.idnumbers import normalize_id_number, validate_id_number
from changning_aid.sensitive.masking import (
    ID_NUMBER,
    PHONE,
    looks_masked,
    mask_id_number,
    resolve_masked,
)

logger = logging.getLogger(__name__)

# Bound into every ID number ciphertext and hash, so that values of other kinds never pass.
ID_NUMBER_PURPOSE = b"id_number"
UNREADABLE = _("[无法解密]")


class IdNumber:
    """An ID number read from the database or typed in, that shows itself only masked.

    `str()` (and so every template, form widget, admin column and export) gives the mask
    310105********1234; `reveal()` gives the number, and is for the reveal endpoint, a full
    export by bureau staff and the services that must compare numbers. A ciphertext that
    cannot be decrypted (its key gone) stays an `IdNumber` that is not `readable`, shows
    "[无法解密]" and is written back unchanged.
    """

    __slots__ = ("_number", "_token")

    def __init__(self, number, *, token=None):
        self._number = None if number is None else normalize_id_number(number)
        self._token = token

    @classmethod
    def from_token(cls, token):
        """The number in a ciphertext; an unreadable `IdNumber` when it cannot be decrypted."""
        try:
            return cls(crypto.decrypt(token, purpose=ID_NUMBER_PURPOSE), token=token)
        except crypto.DecryptionError as exc:
            logger.error(
                "An ID number cannot be decrypted (key %s): %s", crypto.key_id_of(token), exc
            )
            return cls(None, token=token)

    @property
    def readable(self):
        return self._number is not None

    @property
    def key_id(self):
        """The id of the key of the stored ciphertext; None for a number not yet stored."""
        return crypto.key_id_of(self._token)

    @property
    def token(self):
        """The stored ciphertext this number was read from, if any."""
        return self._token

    @property
    def masked(self):
        return mask_id_number(self._number) if self.readable else str(UNREADABLE)

    def reveal(self):
        """The full number. Only for the reveal endpoint, full exports and comparisons."""
        if not self.readable:
            raise crypto.DecryptionError("the ID number cannot be decrypted")
        return self._number

    def __str__(self):
        return self.masked

    def __repr__(self):
        return f"<IdNumber {self.masked}>"

    def __eq__(self, other):
        if isinstance(other, IdNumber):
            if self.readable and other.readable:
                return self._number == other._number
            return self._token is not None and self._token == other._token
        if isinstance(other, str):
            return self.readable and self._number == normalize_id_number(other)
        return NotImplemented

    def __hash__(self):
        return hash(self._number if self.readable else self._token)

    def __bool__(self):
        return bool(self._number) or bool(self._token)


def hash_id_number(value):
    """The keyed hash (HMAC-SM3, 64 hex digits) that finds `value`; None for no number."""
    if isinstance(value, IdNumber):
        if not value.readable:
            return None
        value = value.reveal()
    number = normalize_id_number(value)
    if not number:
        return None
    return crypto.keyed_hash(number, purpose=ID_NUMBER_PURPOSE)


def plain_id_number(value):
    """The normalized number of a stored value (an `IdNumber`, text or None); "" when there
    is none or it cannot be read (a key no longer held)."""
    if value is None:
        return ""
    if isinstance(value, IdNumber):
        if not value.readable:
            return ""
        value = value.reveal()
    return normalize_id_number(value) or ""


class _IdNumberDescriptor(DeferredAttribute):
    """Whatever is assigned becomes an `IdNumber`, so that no plain number sits on a model."""

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = self.field.to_python(value)


class EncryptedIdNumberField(models.Field):
    """A 身份证号, stored encrypted with SM4-GCM and read as a self-masking `IdNumber`.

    Needs an `IdNumberHashField(source=<this field's name>)` on the same model for lookups
    and uniqueness (a system check says so). Validated after GB 11643 (`idnumbers`).
    """

    description = _("身份证号(加密存储)")
    descriptor_class = _IdNumberDescriptor
    sensitive_kind = ID_NUMBER
    empty_strings_allowed = True

    def get_internal_type(self):
        return "TextField"

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if self.unique or self.db_index:
            errors.append(
                checks.Error(
                    "An encrypted ID number cannot be unique or indexed: ciphertexts differ.",
                    hint="Declare unique=True on its IdNumberHashField instead.",
                    obj=self,
                    id="changning_aid.E011",
                )
            )
        if getattr(self, "model", None) is not None and self.hash_field() is None:
            errors.append(
                checks.Error(
                    f"{self.model.__name__}.{self.name} has no IdNumberHashField beside it.",
                    hint=f'Add IdNumberHashField(source="{self.name}") to the model.',
                    obj=self,
                    id="changning_aid.E010",
                )
            )
        return errors

    def hash_field(self):
        """The model's `IdNumberHashField` of this number, or None."""
        for field in self.model._meta.concrete_fields:
            if isinstance(field, IdNumberHashField) and field.source == self.name:
                return field
        return None

    def to_python(self, value):
        if value is None or isinstance(value, IdNumber):
            return value
        if isinstance(value, str) and crypto.is_token(value):
            return IdNumber.from_token(value)
        number = normalize_id_number(value)
        return IdNumber(number) if number else ""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        # A plain number left from before encryption is read too; rotate_field_keys encrypts it.
        return self.to_python(value)

    def get_prep_value(self, value):
        value = self.to_python(value)
        if not value:
            return None if value is None else ""
        if value.token and (not value.readable or value.key_id == crypto.keyring().current_id):
            # Unchanged and under the current key: keep the ciphertext (and the audit trail quiet).
            return value.token
        return crypto.encrypt(value.reveal(), purpose=ID_NUMBER_PURPOSE)

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        if isinstance(value, IdNumber):
            if not value.readable:
                raise ValidationError(_("已存的身份证号无法解密,请联系系统管理员。"))
            validate_id_number(value.reveal())
            self._validate_unique_number(value, model_instance)

    def _validate_unique_number(self, value, model_instance):
        # Forms leave the (non-editable) hash out of their unique checks; check it here so
        # that a duplicate is a form error, not a database error.
        hash_field = self.hash_field()
        if model_instance is None or hash_field is None or not hash_field.unique:
            return
        others = type(model_instance)._base_manager.filter(
            **{hash_field.attname: hash_id_number(value)}
        )
        if model_instance.pk is not None:
            others = others.exclude(pk=model_instance.pk)
        if others.exists():
            raise ValidationError(
                _("该身份证号已经登记过(可能在其他街镇),请核对;如需处理请联系区民政局。"),
                code="unique_id_number",
            )

    def value_to_string(self, obj):
        # Serialized data (dumpdata) carries the ciphertext, never the number.
        return self.get_prep_value(self.value_from_object(obj)) or ""

    def save_form_data(self, instance, data):
        # A form that shows the mask sends the mask back when the number is left alone.
        current = getattr(instance, self.attname, None)
        if resolve_masked(ID_NUMBER, stored=current, incoming=data) is current and current:
            return
        setattr(instance, self.attname, data)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": IdNumberFormField, **kwargs})

    def get_lookup(self, lookup_name):
        if lookup_name in ("isnull", "matches"):
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"Lookup {lookup_name!r} on encrypted field {self.name!r} compares ciphertexts and "
            f"can never match; use {self.name}__matches=<number> (the keyed hash) instead."
        )


@EncryptedIdNumberField.register_lookup
class IdNumberMatches(Lookup):
    """`filter(id_number__matches="310105...")`: compares the keyed hash, never ciphertexts."""

    lookup_name = "matches"
    prepare_rhs = False

    def get_prep_lookup(self):
        if hasattr(self.rhs, "resolve_expression"):
            raise FieldError("id_number__matches takes a number, not an expression.")
        return self.rhs

    def as_sql(self, compiler, connection):
        if not isinstance(self.lhs, Col):
            raise FieldError("id_number__matches works on a model's column only.")
        hash_field = self.lhs.target.hash_field()
        lhs_sql, lhs_params = compiler.compile(Col(self.lhs.alias, hash_field))
        digest = hash_id_number(self.rhs)
        if digest is None:
            return "1 = 0", []
        return f"{lhs_sql} = %s", [*lhs_params, digest]


class _IdNumberHashDescriptor(DeferredAttribute):
    """Reads give the hash of the number on the instance now, so it is never stale.

    Unique checks, `save()`, `bulk_create()` and `bulk_update()` all read the attribute; the
    value loaded from the database stays in the instance's dict (see `stored_value`).
    """

    def __get__(self, instance, cls=None):
        if instance is None:
            return self
        number = getattr(instance, self.field.source_attname)
        if isinstance(number, IdNumber) and not number.readable:
            return instance.__dict__.get(self.field.attname)
        return hash_id_number(number)

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


class IdNumberHashField(models.CharField):
    """The keyed hash (HMAC-SM3) of an `EncryptedIdNumberField` named by `source`.

    Declare `unique=True` here to keep numbers unique. It is computed, never edited.
    """

    description = _("身份证号的检索摘要")
    descriptor_class = _IdNumberHashDescriptor

    def __init__(self, *args, source, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", 64), ("editable", False), ("null", True)):
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        if kwargs.get("blank") is True:
            kwargs.pop("blank")
        return name, path, args, kwargs

    @property
    def source_attname(self):
        return self.model._meta.get_field(self.source).attname

    def stored_value(self, instance):
        """The digest as loaded from the database (None for a new instance)."""
        return instance.__dict__.get(self.attname)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        try:
            source = self.model._meta.get_field(self.source)
        except Exception:  # noqa: BLE001 - any failure means the source is not usable
            source = None
        if not isinstance(source, EncryptedIdNumberField):
            errors.append(
                checks.Error(
                    f"IdNumberHashField source {self.source!r} is not an EncryptedIdNumberField "
                    "of the same model.",
                    obj=self,
                    id="changning_aid.E012",
                )
            )
        return errors


class PersonalPhoneField(models.CharField):
    """A person's phone: stored as typed, masked (138****5678) in lists and exports.

    Shown in full only on the person's own page, to users whose scope includes them
    (`{% phone_number person "phone" full=True %}`). Not for station phones, which are public.
    """

    description = _("个人电话(列表和导出中遮盖)")
    sensitive_kind = PHONE

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 30)
        super().__init__(*args, **kwargs)


class IdNumberInput(forms.TextInput):
    """A text input for ID numbers; a stored number is shown masked (`IdNumber.__str__`)."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})


class IdNumberFormField(forms.CharField):
    """An ID number typed in full, or the shown mask sent back unchanged.

    Validation after GB 11643 with Chinese messages; a mask is let through here, and the
    model field keeps the stored number when the mask is that number's (else the model's
    validation refuses it).
    """

    widget = IdNumberInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 30)
        if not kwargs.get("help_text"):
            kwargs["help_text"] = _(
                "18位,最后一位可为X。已登记的号码以遮盖形式显示,不修改时保持原样。"
            )
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_id_number(super().to_python(value))

    def validate(self, value):
        super().validate(value)
        if value and not looks_masked(ID_NUMBER, value):
            validate_id_number(value)

    def has_changed(self, initial, data):
        number = self.to_python(data)
        if initial and looks_masked(ID_NUMBER, number):
            return number != mask_id_number(initial)
        stored = initial.reveal() if isinstance(initial, IdNumber) and initial.readable else initial
        return normalize_id_number(stored or "") != number


def sensitive_fields(model):
    """The fields of `model` that hold sensitive values (ID numbers, personal phones)."""
    return [field for field in model._meta.concrete_fields if getattr(field, "sensitive_kind", "")]


def _is_history_model(model):
    # pghistory's event models copy the fields of the models they track; they are the
    # audit trail's, append-only, and not read through a scope.
    return any(
        cls.__module__.startswith("pghistory.") and cls.__name__ == "Event" for cls in model.__mro__
    )


def id_number_models():
    """Every installed model with an encrypted ID number, the audit trail's copies included."""
    return [
        model
        for model in apps.get_models()
        if any(isinstance(field, EncryptedIdNumberField) for field in model._meta.concrete_fields)
    ]


@functools.cache
def revealable_models():
    """Models whose ID numbers bureau staff may reveal: with an ID field and a user scope.

    Computed once the app registry is ready (the models do not change while running).
    """
    return frozenset(
        model
        for model in id_number_models()
        if not _is_history_model(model) and hasattr(model._default_manager.all(), "visible_to")
    )
