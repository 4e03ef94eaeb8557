"""`check --deploy`: production needs its own encryption and hash keys, well formed."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from changning_aid.sensitive import crypto


@checks.register(checks.Tags.security, deploy=True)
def check_field_keys(app_configs=None, **kwargs):
    """FIELD_ENCRYPTION_KEYS and FIELD_HASH_KEY are set, valid, and not development keys."""
    errors = []
    if not getattr(settings, "FIELD_ENCRYPTION_KEYS", None):
        errors.append(
            checks.Error(
                "FIELD_ENCRYPTION_KEYS is not set: ID numbers would be encrypted with a "
                "development key derived from SECRET_KEY.",
                hint="Set FIELD_ENCRYPTION_KEYS=keyid:base64key (16 bytes); "
                "manage.py rotate_field_keys --generate-key prints one.",
                id="changning_aid.E001",
            )
        )
    if not getattr(settings, "FIELD_HASH_KEY", ""):
        errors.append(
            checks.Error(
                "FIELD_HASH_KEY is not set: ID number lookups would use a development key.",
                hint="Set FIELD_HASH_KEY to base64 of at least 16 random bytes.",
                id="changning_aid.E002",
            )
        )
    if not errors:
        try:
            crypto.keyring()
        except ImproperlyConfigured as exc:
            errors.append(checks.Error(str(exc), id="changning_aid.E003"))
    return errors
