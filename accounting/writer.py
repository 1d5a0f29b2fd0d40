"""Writing a page of mirrored records: one upsert on the identity key, child rows replaced.

On PostgreSQL the rows travel by COPY (into a temporary table, then one INSERT ... ON CONFLICT ... DO
UPDATE ... RETURNING) and child rows by COPY straight into their table: Django's bulk_create sends each
column as an array whose every element the driver quotes in Python, which cost most of a pull's CPU.
Elsewhere (SQLite) Django's bulk_create does the same job. Both take the same row dicts (attribute name to
value), so what is stored does not depend on the database."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models import Field

from core.jsontext import PreEncoded, encode

IDENTITY_COLUMNS = ("connection_id", "remote_type", "remote_id")


def _default(field: Field[Any, Any]) -> Any:
    return field.get_default() if field.has_default() else (None if field.null else "")


class _Table:
    """One model's columns in a fixed order, with how to turn a row dict into COPY values."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.name = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.defaults = [_default(f) for f in self.fields]
        self.json = [isinstance(f, models.JSONField) for f in self.fields]

    def values(self, row: dict[str, Any]) -> tuple[Any, ...]:
        values = []
        for attname, default, is_json in zip(self.attnames, self.defaults, self.json, strict=True):
            value = row.get(attname, default)
            if is_json and value is not None and not isinstance(value, PreEncoded):
                value = encode(value)
            values.append(value)
        return tuple(values)

    def quoted(self, columns: Sequence[str]) -> str:
        return ", ".join(f'"{column}"' for column in columns)


class MirrorWriter:
    def __init__(self, model: type[models.Model], update_fields: Sequence[str]) -> None:
        self.model = model
        self.alias = router.db_for_write(model)
        self.table = _Table(model)
        columns = {field.name: field.column for field in model._meta.concrete_fields}
        self.update_columns = [columns[name] for name in update_fields]
        self.update_fields = list(update_fields)
        self._children: dict[type[models.Model], _Table] = {}

    @property
    def copies(self) -> bool:
        return connections[self.alias].vendor == "postgresql"

    def upsert(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert or update each row on (connection, remote_type, remote_id); their ids, in order."""
        if self.copies:
            return self._upsert_copy(rows)
        records = [self.model(**row) for row in rows]
        self.model._default_manager.bulk_create(
            records,
            update_conflicts=True,
            unique_fields=["connection", "remote_type", "remote_id"],
            update_fields=self.update_fields,
        )
        if any(record.pk is None for record in records):
            # Backends that return no ids from an upsert: read them back by identity.
            ids = {
                (remote_type, remote_id): pk
                for remote_type, remote_id, pk in self.model._default_manager.filter(
                    connection_id=rows[0]["connection_id"], remote_id__in=[row["remote_id"] for row in rows]
                ).values_list("remote_type", "remote_id", "pk")
            }
            return [ids[(row["remote_type"], row["remote_id"])] for row in rows]
        return [record.pk for record in records]

    def _upsert_copy(self, rows: list[dict[str, Any]]) -> list[int]:
        table = self.table
        temporary = f"pull_{table.name}"
        columns = table.quoted(table.columns)
        updates = ", ".join(f'"{column}" = EXCLUDED."{column}"' for column in self.update_columns)
        with connections[self.alias].cursor() as wrapper:
            cursor = wrapper.cursor
            cursor.execute(
                f'CREATE TEMPORARY TABLE IF NOT EXISTS "{temporary}" ON COMMIT DELETE ROWS AS '  # noqa: S608
                f'SELECT {columns} FROM "{table.name}" WITH NO DATA'
            )
            cursor.execute(f'DELETE FROM "{temporary}"')  # noqa: S608 (names from model metadata)
            with cursor.copy(f'COPY "{temporary}" ({columns}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(table.values(row))
            cursor.execute(
                f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{temporary}" '  # noqa: S608
                f"ON CONFLICT ({table.quoted(IDENTITY_COLUMNS)}) DO UPDATE SET {updates} "
                'RETURNING "id", "remote_type", "remote_id"'
            )
            ids = {(remote_type, remote_id): pk for pk, remote_type, remote_id in cursor.fetchall()}
        return [ids[(row["remote_type"], row["remote_id"])] for row in rows]

    def children_replace(
        self, model: type[models.Model], parent_column: str, replaced: list[int], rows: list[dict[str, Any]]
    ) -> None:
        """Delete the children of `replaced` parents and insert `rows` (which name their parent)."""
        if self.copies:
            table = self._children.get(model) or self._children.setdefault(model, _Table(model))
            with connections[self.alias].cursor() as wrapper:
                cursor = wrapper.cursor
                if replaced:
                    cursor.execute(
                        f'DELETE FROM "{table.name}" WHERE "{parent_column}" = ANY(%s)',  # noqa: S608
                        [replaced],
                    )
                if rows:
                    with cursor.copy(
                        f'COPY "{table.name}" ({table.quoted(table.columns)}) FROM STDIN'
                    ) as copy:
                        for row in rows:
                            copy.write_row(table.values(row))
            return
        if replaced:
            model._default_manager.filter(**{f"{parent_column}__in": replaced}).delete()
        if rows:
            model._default_manager.bulk_create([model(**row) for row in rows], batch_size=2000)
