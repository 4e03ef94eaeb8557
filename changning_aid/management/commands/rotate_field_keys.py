"""Re-encrypt every stored ID number under the current key, and refresh its lookup hash.

Key rotation, step by step:

1. `manage.py rotate_field_keys --generate-key k2026` prints a new key entry;
2. put it first in FIELD_ENCRYPTION_KEYS, keeping the old entries after it, and restart:
   new values are encrypted with it, old ones still decrypt;
3. run `manage.py rotate_field_keys`: every value under another key (or still in plain
   text) is re-encrypted with the current key, and every stale lookup hash (after a change
   of FIELD_HASH_KEY) recomputed. It can be run again at any time; it changes only what
   is stale;
4. drop an old key only when no record carries it: the audit trail keeps its copies, as
   they were encrypted, for as long as its records are kept.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from changning_aid.sensitive import crypto
from changning_aid.sensitive.fields import (
    EncryptedIdNumberField,
    IdNumber,
    _is_history_model,
    id_number_models,
)


class Command(BaseCommand):
    help = "Re-encrypt every encrypted ID number under the current key (FIELD_ENCRYPTION_KEYS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--generate-key",
            metavar="KEY_ID",
            help="Print a new FIELD_ENCRYPTION_KEYS entry with this id, and a FIELD_HASH_KEY; "
            "change nothing.",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, generate_key=None, batch_size=500, **options):
        if generate_key:
            try:
                entry = crypto.generate_key_entry(generate_key)
            except ValueError as exc:
                raise CommandError("密钥编号只能由字母、数字、点、下划线或连字符组成。") from exc
            self.stdout.write(f"FIELD_ENCRYPTION_KEYS={entry}")
            self.stdout.write(f"FIELD_HASH_KEY={crypto.generate_hash_key()}")
            return
        ring = crypto.keyring()
        for model in id_number_models():
            if _is_history_model(model):
                # Audit records are append-only: they keep the ciphertexts they recorded.
                continue
            updated, unreadable = self.rotate_model(model, ring.current_id, batch_size)
            self.stdout.write(
                f"{model._meta.label}: {updated} 条已按当前密钥 {ring.current_id} 重新加密"
                + (f",{unreadable} 条无法解密(密钥缺失?)" if unreadable else "")
            )
            if unreadable:
                self.stderr.write(
                    f"{model._meta.label}: {unreadable} 条身份证号无法解密,未作改动;"
                    "请确认 FIELD_ENCRYPTION_KEYS 中保留了加密它们的旧密钥。"
                )

    def rotate_model(self, model, current_id, batch_size):
        """Re-encrypt the stale rows of one model in batches; (updated, unreadable) counts."""
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedIdNumberField)]
        pairs = [(field, field.hash_field()) for field in fields]
        names = [name for field, hashed in pairs for name in (field.name, hashed.name)]
        rows = model._base_manager.order_by("pk").only("pk", *names)
        updated = unreadable = 0
        batch = []
        for obj in rows.iterator(chunk_size=batch_size):
            stale = False
            for field, hashed in pairs:
                number = getattr(obj, field.attname)
                if isinstance(number, IdNumber) and not number.readable:
                    unreadable += 1
                    continue
                if isinstance(number, IdNumber) and number.key_id != current_id:
                    stale = True
                if hashed.stored_value(obj) != getattr(obj, hashed.attname):
                    stale = True
            if stale:
                batch.append(obj)
            if len(batch) >= batch_size:
                updated += self.save_batch(model, batch, names)
                batch = []
        if batch:
            updated += self.save_batch(model, batch, names)
        return updated, unreadable

    @staticmethod
    @transaction.atomic
    def save_batch(model, batch, names):
        # bulk_update encrypts each number afresh under the current key (the field keeps a
        # ciphertext only when it is under the current key) and reads each hash anew.
        model._base_manager.bulk_update(batch, names)
        return len(batch)
