"""Re-encrypt every stored secret with the first key of LEDGERLINK_ENCRYPTION_KEYS (key rotation).

Works on the stored ciphertext only: rows are read and written with SQL, so no model is loaded, no
secret is decrypted into a model field, and nothing but the encrypted columns is written."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections, models, router, transaction

from integrations import crypto
from integrations.crypto import EncryptedTextField

DEFAULT_BATCH_SIZE = 500
# What happened to each value: re-encrypted with the first key, already encrypted with it, or not set.
_KINDS = ("reencrypted", "current", "empty")


@dataclass(frozen=True)
class EncryptedTable:
    """A model with encrypted columns, as SQL sees it."""

    model: type[models.Model]
    fields: tuple[models.Field[Any, Any], ...]

    @property
    def label(self) -> str:
        return self.model._meta.label


def encrypted_tables(database: str) -> list[EncryptedTable]:
    """Every installed model stored in `database` that has encrypted fields (credentials, connections'
    app secrets, OAuth states, and any added later)."""
    tables = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        if not router.allow_migrate_model(database, model):
            continue
        fields = tuple(
            field
            for field in model._meta.concrete_fields
            if isinstance(field, EncryptedTextField)  # EncryptedJSONField is one too
        )
        if fields:
            tables.append(EncryptedTable(model=model, fields=fields))
    return tables


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret (credentials' token sets and client secrets, connections' app "
        "secrets, OAuth states' PKCE verifiers and app secrets) with the FIRST key of "
        "LEDGERLINK_ENCRYPTION_KEYS. To rotate the key: put the new key first and keep the old one after "
        "it (LEDGERLINK_ENCRYPTION_KEYS=new,old), deploy, run this command, then drop the old key. "
        "Rows are processed in batches, each in its own transaction with its rows locked; values already "
        "encrypted with the first key are left alone, so running it again is safe and cheap. A value no "
        "configured key can decrypt stops the command with an error naming the row (its batch is rolled "
        "back; earlier batches stay re-encrypted, which is harmless): restore the missing key and run "
        "it again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per transaction."
        )
        parser.add_argument("--database", default="default", help="The database alias to work on.")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check that every value decrypts and count what would change, without writing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size: int = options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        keys = list(settings.LEDGERLINK_ENCRYPTION_KEYS)
        if not keys:
            raise CommandError("LEDGERLINK_ENCRYPTION_KEYS is empty: there is no key to encrypt with.")
        primary = Fernet(keys[0].encode())
        database: str = options["database"]
        dry_run: bool = options["dry_run"]
        totals: Counter[str] = Counter()
        for table in encrypted_tables(database):
            counts = self._table_reencrypt(table, database, primary, batch_size, dry_run)
            for field in table.fields:
                reencrypted, current, empty = (counts[(field.column, kind)] for kind in _KINDS)
                self.stdout.write(
                    f"{table.label}.{field.name}: {reencrypted} "
                    f"{'to re-encrypt' if dry_run else 're-encrypted'}, {current} already current, "
                    f"{empty} empty"
                )
                totals.update({"reencrypted": reencrypted, "current": current, "empty": empty})
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(
            self.style.SUCCESS(
                f"{totals['reencrypted']} values {verb} with the first key; "
                f"{totals['current']} already were; {totals['empty']} empty."
            )
        )

    def _table_reencrypt(
        self,
        table: EncryptedTable,
        database: str,
        primary: Fernet,
        batch_size: int,
        dry_run: bool,
    ) -> Counter[tuple[str, str]]:
        connection = connections[database]
        quote = connection.ops.quote_name
        meta = table.model._meta
        pk_column = meta.pk.column
        columns = [field.column for field in table.fields]
        lock = " FOR UPDATE" if connection.features.has_select_for_update and not dry_run else ""
        table_sql, pk_sql = quote(meta.db_table), quote(pk_column)
        select = f"SELECT {pk_sql}, {', '.join(quote(c) for c in columns)} FROM {table_sql}"  # noqa: S608
        counts: Counter[tuple[str, str]] = Counter()
        last_pk: Any = None
        while True:
            with transaction.atomic(using=database), connection.cursor() as cursor:
                # Keyset pagination: the first batch has no lower bound (primary keys need not be numbers).
                after, params = ("", []) if last_pk is None else (f" WHERE {pk_sql} > %s", [last_pk])
                cursor.execute(f"{select}{after} ORDER BY {pk_sql} LIMIT %s{lock}", [*params, batch_size])
                rows = cursor.fetchall()
                for pk, *values in rows:
                    changes = {}
                    for field, value in zip(table.fields, values, strict=True):
                        kind, new = _reencrypted(value, primary, label=f"{table.label} #{pk} ({field.name})")
                        counts[(field.column, kind)] += 1
                        if new is not None:
                            changes[field.column] = new
                    if changes and not dry_run:
                        assignments = ", ".join(f"{quote(column)} = %s" for column in changes)
                        cursor.execute(
                            f"UPDATE {table_sql} SET {assignments} WHERE {pk_sql} = %s",  # noqa: S608
                            [*changes.values(), pk],
                        )
            if len(rows) < batch_size:
                return counts
            last_pk = rows[-1][0]


def _reencrypted(value: str | None, primary: Fernet, *, label: str) -> tuple[str, str | None]:
    """What to do with one stored value: ("empty"|"current", None) or ("reencrypted", new ciphertext)."""
    if value is None or value == "":
        return "empty", None
    try:
        primary.decrypt(value.encode())
    except InvalidToken:
        pass
    else:
        return "current", None
    try:
        return "reencrypted", crypto.reencrypt(value)
    except crypto.DecryptionFailed:
        raise CommandError(
            f"{label} cannot be decrypted with any key in LEDGERLINK_ENCRYPTION_KEYS. Its batch was "
            "rolled back; rows before it were re-encrypted (harmless). Put the key it was encrypted with "
            "back in the list and run the command again."
        ) from None
