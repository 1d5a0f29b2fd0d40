"""The unit of work of one write: reads documents through to the database, stages new versions in memory,
and flushes them with bulk inserts and updates.

Staging makes the per-element all-or-nothing of `summarizeErrors=false` cheap (an undo journal, no
database savepoint per element), lets later elements of a batch see earlier ones (unique names, two
payments on one invoice), and turns 100,000 seeded invoices into a few hundred INSERT statements."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, router
from django.db.models.functions import Length
from django.utils import timezone

from sandbox.models import Tenant
from sandbox.models.xero_records import XeroRecord
from sandbox.xero.api import wire
from sandbox.xero.api.entity import Entity

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
BULK_BATCH = 500


def entity_for(collection: str) -> Entity:
    from sandbox.xero.api.entities import ENTITIES

    return ENTITIES[collection]


@dataclass
class Version:
    body: dict[str, Any] | None  # None: removed outright
    created: bool
    # Silent versions change derived flags only: no UpdatedDateUTC bump, no webhook event.
    silent: bool = False


@dataclass(frozen=True)
class Event:
    category: str
    event_type: str
    resource_id: str
    data: dict[str, Any] | None


class Workspace:
    """`now` stamps UpdatedDateUTC and is "today" for date defaults; `ids` makes every new id (random
    GUIDs unless given: the seed generator passes a seeded source so that its documents are reproducible)."""

    def __init__(
        self, tenant: Tenant, *, now: datetime | None = None, ids: Callable[[], str] | None = None
    ) -> None:
        self.tenant = tenant
        self.now = wire.truncate_ms(now or timezone.now())
        self.new_id: Callable[[], str] = ids or new_id
        # Database state: collection → id → (pk, body), or None when known to be absent.
        self._stored: dict[str, dict[str, tuple[int, dict[str, Any]] | None]] = {}
        self._complete: set[str] = set()
        # For collections read whole: (collection, column) → value → stored ids, so that looking an
        # account up by code is a dict lookup rather than a scan of the chart.
        self._stored_keys: dict[tuple[str, str], dict[str | None, list[str]]] = {}
        self._found: dict[tuple[str, str, str], list[str]] = {}
        self._staged: dict[str, dict[str, Version]] = {}
        self._staged_keys: dict[tuple[str, str, str], set[str]] = {}
        self._numbers: dict[tuple[str, str], int] = {}
        self._journal: list[tuple[str, Any, Any]] = []
        self.events: list[Event] = []

    # --- reading -----------------------------------------------------------------------------------------

    def _rows(self, collection: str, **filters: Any) -> list[tuple[int, str, str]]:
        return list(
            XeroRecord.objects.filter(tenant=self.tenant, collection=collection, **filters).values_list(
                "id", "record_id", "body"
            )
        )

    def _remember(self, collection: str, rows: Iterable[tuple[int, str, str]]) -> None:
        stored = self._stored.setdefault(collection, {})
        self._forget_keys(collection)
        for pk, record_id, text in rows:
            if stored.get(record_id) is None:
                stored[record_id] = (pk, wire.decode(text))

    def _stored_body(self, collection: str, record_id: str) -> dict[str, Any] | None:
        stored = self._stored.setdefault(collection, {})
        if record_id not in stored:
            if collection in self._complete:
                return None
            stored[record_id] = None
            self._remember(collection, self._rows(collection, record_id=record_id))
        entry = stored[record_id]
        return entry[1] if entry is not None else None

    def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        """The current version of a document (bodies are shared: clone before changing one)."""
        version = self._staged.get(collection, {}).get(record_id)
        if version is not None:
            return version.body
        return self._stored_body(collection, record_id)

    def get_by_ref(self, entity: Entity, ref: str) -> dict[str, Any] | None:
        """By id, or by business key (InvoiceNumber, ContactNumber, item Code) where Xero allows that."""
        body = self.get(entity.plural, ref)
        if body is None and entity.lookup_by_number and not GUID.match(ref):
            found = self.find(entity.plural, "number", ref)
            body = found[0] if found else None
        if body is None and GUID.match(ref) and ref != ref.lower():
            body = self.get(entity.plural, ref.lower())
        if body is not None and body.get(entity.status_field or "") in entity.hidden_statuses:
            return None
        return body

    def find(
        self, collection: str, column: str, value: str, *, staged_only: bool = False
    ) -> list[dict[str, Any]]:
        """Current documents whose indexed column (number, name...) equals value, oldest first.

        `staged_only` skips the database: for keys that cannot be stored yet (a fresh automatic number)."""
        entity = entity_for(collection)
        candidates: list[str]
        if staged_only:
            candidates = []
        elif collection in self._complete:
            candidates = list(self._stored_keys_of(collection, column).get(value, ()))
        else:
            query = (collection, column, value)
            if query not in self._found:
                rows = self._rows(collection, **{column: value})
                self._remember(collection, rows)
                self._found[query] = [record_id for _, record_id, _ in rows]
            candidates = list(self._found[query])
        candidates.extend(self._staged_keys.get((collection, column, value), ()))
        result: list[dict[str, Any]] = []
        seen: set[str] = set()
        for record_id in candidates:
            if record_id in seen:
                continue
            seen.add(record_id)
            body = self.get(collection, record_id)
            if body is not None and entity.column_value(body, column) == value:
                result.append(body)
        return result

    def prefetch(self, collection: str, column: str, values: Iterable[str]) -> None:
        """Look many business keys up in a few queries (a 10,000-invoice batch checks its numbers at once)."""
        if collection in self._complete:
            return
        wanted = sorted({value for value in values if (collection, column, value) not in self._found})
        for start in range(0, len(wanted), BULK_BATCH):
            chunk = wanted[start : start + BULK_BATCH]
            rows = self._rows(collection, **{f"{column}__in": chunk})
            self._remember(collection, rows)
            found: dict[str, list[str]] = {value: [] for value in chunk}
            entity = entity_for(collection)
            for _, record_id, _ in rows:
                body = self._stored[collection][record_id]
                if body is not None:
                    value = entity.column_value(body[1], column)
                    if value in found:
                        found[value].append(record_id)
            for value, ids in found.items():
                self._found[(collection, column, value)] = ids

    def prefetch_ids(self, collection: str, ids: Iterable[str]) -> None:
        """Read many documents by id in a few queries; ids not found are remembered as absent."""
        if collection in self._complete:
            return
        stored = self._stored.setdefault(collection, {})
        wanted = sorted({record_id for record_id in ids if record_id not in stored})
        for start in range(0, len(wanted), BULK_BATCH):
            chunk = wanted[start : start + BULK_BATCH]
            self._remember(collection, self._rows(collection, record_id__in=chunk))
            for record_id in chunk:
                stored.setdefault(record_id, None)

    def _stored_keys_of(self, collection: str, column: str) -> dict[str | None, list[str]]:
        index = self._stored_keys.get((collection, column))
        if index is None:
            entity = entity_for(collection)
            index = {}
            for record_id, entry in self._stored.get(collection, {}).items():
                if entry is not None:
                    index.setdefault(entity.column_value(entry[1], column), []).append(record_id)
            self._stored_keys[(collection, column)] = index
        return index

    def _forget_keys(self, collection: str) -> None:
        for key in [key for key in self._stored_keys if key[0] == collection]:
            del self._stored_keys[key]

    def all(self, collection: str) -> list[dict[str, Any]]:
        """Every current document of a small collection (tax rates, accounts, tracking categories)."""
        if collection not in self._complete:
            self._remember(collection, self._rows(collection))
            stored = self._stored.setdefault(collection, {})
            for record_id in [key for key, entry in stored.items() if entry is None]:
                del stored[record_id]
            self._complete.add(collection)
        ids = list(self._stored.get(collection, {}))
        ids.extend(key for key in self._staged.get(collection, {}) if key not in self._stored[collection])
        bodies = (self.get(collection, record_id) for record_id in ids)
        return [body for body in bodies if body is not None]

    # --- staging -----------------------------------------------------------------------------------------

    def _index(self, collection: str, record_id: str, body: dict[str, Any] | None, add: bool) -> None:
        if body is None:
            return
        entity = entity_for(collection)
        for column in ("number", "name"):
            value = entity.column_value(body, column)
            if value is None:
                continue
            keys = self._staged_keys.setdefault((collection, column, value), set())
            if add:
                keys.add(record_id)
                if column == "number":
                    self._count_number(collection, value)
            else:
                keys.discard(record_id)

    def _count_number(self, collection: str, number: str) -> None:
        """Keep automatic numbering above numbers a batch gives explicitly (INV-0100 → next INV-0101)."""
        for counted, prefix in self._numbers:
            suffix = number[len(prefix) :]
            if counted == collection and number.startswith(prefix) and suffix.isdigit():
                self._numbers[(counted, prefix)] = max(self._numbers[(counted, prefix)], int(suffix))

    def _set(self, collection: str, record_id: str, version: Version | None) -> None:
        staged = self._staged.setdefault(collection, {})
        current = staged.get(record_id)
        if current is not None:
            self._index(collection, record_id, current.body, add=False)
        if version is None:
            staged.pop(record_id, None)
        else:
            staged[record_id] = version
            self._index(collection, record_id, version.body, add=True)

    def put(
        self, collection: str, body: dict[str, Any], *, created: bool = False, silent: bool = False
    ) -> None:
        """Stage a new version. Non-silent versions get UpdatedDateUTC (and its string twin) set to now."""
        entity = entity_for(collection)
        if entity.has_updated_date and not silent:
            body["UpdatedDateUTC"] = wire.ms_datetime(self.now)
            if entity.has_updated_string:
                body["UpdatedDateUTCString"] = wire.iso_utc(self.now)
        body = entity.ordered(body)
        record_id = str(body[entity.id_field])
        previous = self._staged.get(collection, {}).get(record_id)
        self._journal.append(("version", (collection, record_id), previous))
        if previous is not None:
            created = created or previous.created
            silent = silent and previous.silent
        self._set(collection, record_id, Version(body, created=created, silent=silent))

    def remove(self, collection: str, record_id: str) -> None:
        previous = self._staged.get(collection, {}).get(record_id)
        self._journal.append(("version", (collection, record_id), previous))
        self._set(collection, record_id, Version(None, created=False))

    def savepoint(self) -> int:
        return len(self._journal)

    def rollback(self, savepoint: int) -> None:
        while len(self._journal) > savepoint:
            kind, key, previous = self._journal.pop()
            if kind == "version":
                self._set(key[0], key[1], previous)
            else:
                self._numbers[key] = previous

    def next_number(self, collection: str, prefix: str, width: int) -> str:
        """The next automatic number (INV-0008): one more than the highest stored or staged one."""
        key = (collection, prefix)
        if key not in self._numbers:
            highest = 0
            stored = (
                XeroRecord.objects.filter(
                    tenant=self.tenant, collection=collection, number__startswith=prefix
                )
                .annotate(length=Length("number"))
                .order_by("-length", "-number")
                .values_list("number", flat=True)
            )
            for number in stored.iterator(chunk_size=100):
                suffix = (number or "")[len(prefix) :]
                if suffix.isdigit():
                    highest = int(suffix)
                    break
            self._numbers[key] = highest
            for (staged_collection, column, value), ids in self._staged_keys.items():
                if staged_collection == collection and column == "number" and ids:
                    self._count_number(collection, value)
        self._journal.append(("number", key, self._numbers[key]))
        self._numbers[key] += 1
        return f"{prefix}{self._numbers[key]:0{width}d}"

    # --- writing -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every staged version (bulk), and queue the webhook events they raise."""
        writer = _RowWriter(self.tenant)
        creates: list[tuple[str, str, dict[str, Any], list[Any]]] = []
        updates: list[list[Any]] = []
        deletes: list[int] = []
        for collection, versions in self._staged.items():
            entity = entity_for(collection)
            stored = self._stored.setdefault(collection, {})
            for record_id, version in versions.items():
                entry = stored.get(record_id)
                pk = entry[0] if entry is not None else None
                body = version.body
                if body is None:
                    if pk is not None:
                        deletes.append(pk)
                    stored[record_id] = None
                    continue
                values = writer.values(collection, entity.column_values(body), wire.encode(body))
                if pk is None:
                    creates.append((collection, record_id, body, values))
                else:
                    updates.append([*values, pk])
                    stored[record_id] = (pk, body)
                if entity.webhook_category and not version.silent:
                    data = entity.webhook_data(body) if entity.webhook_data else None
                    event_type = "CREATE" if version.created else "UPDATE"
                    self.events.append(Event(entity.webhook_category, event_type, record_id, data))
        if creates:
            pks = writer.insert([values for _, _, _, values in creates])
            for (collection, record_id, body, _), pk in zip(creates, pks, strict=True):
                if pk is not None:
                    self._stored[collection][record_id] = (pk, body)
                else:
                    # A backend that can't return inserted keys: forget the row, it reloads on demand.
                    self._stored[collection].pop(record_id, None)
                    self._complete.discard(collection)
        if updates:
            writer.update(updates)
        if deletes:
            XeroRecord.objects.filter(pk__in=deletes).delete()
        for collection in self._staged:
            self._forget_keys(collection)
        self._staged.clear()
        self._staged_keys.clear()
        self._found.clear()
        self._journal.clear()


class _RowWriter:
    """Prepared INSERT and UPDATE statements for XeroRecord rows, with parameters built straight from a
    body's column values.

    The ORM's bulk_create and bulk_update compile every value of every row into SQL expressions (and
    bulk_update one CASE WHEN per column over the batch): for a hundred thousand seeded documents that
    bookkeeping costs more than the database's work. The statements here are the same ones, written once."""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.connection = connections[router.db_for_write(XeroRecord)]
        meta = XeroRecord._meta
        self.table = meta.db_table
        self.pk_column = meta.pk.column
        self.fields = [field for field in meta.concrete_fields if not field.primary_key]
        # Text columns go to the driver as they are; dates, datetimes and flags need the backend's form.
        self.adapted = [
            field.get_internal_type() not in ("CharField", "TextField", "ForeignKey") for field in self.fields
        ]
        self.quote = self.connection.ops.quote_name

    def values(self, collection: str, columns: dict[str, Any], body: str) -> list[Any]:
        """A row's values, in the order of `fields`, as Python values."""
        raw = {"tenant_id": self.tenant.pk, "collection": collection, "body": body, **columns}
        return [raw[field.attname] for field in self.fields]

    def _prepared(self, row: list[Any]) -> list[Any]:
        return [
            field.get_db_prep_save(value, self.connection) if adapt else value
            for field, adapt, value in zip(self.fields, self.adapted, row, strict=True)
        ]

    def insert(self, rows: list[list[Any]]) -> list[int | None]:
        """Insert rows; their new primary keys, in order (None where the backend can't say)."""
        if not self.connection.features.can_return_rows_from_bulk_insert:
            objects = [
                XeroRecord(**{field.attname: value for field, value in zip(self.fields, row, strict=True)})
                for row in rows
            ]
            XeroRecord.objects.bulk_create(objects, batch_size=BULK_BATCH)
            return [obj.pk for obj in objects]
        quote = self.quote
        columns = ", ".join(quote(field.column) for field in self.fields)
        placeholder = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        size = max(1, min(BULK_BATCH, self.connection.ops.bulk_batch_size(self.fields, rows)))
        pks: list[int | None] = []
        with self.connection.cursor() as cursor:
            for start in range(0, len(rows), size):
                chunk = rows[start : start + size]
                # Identifiers from the model's own metadata; every value is a query parameter.
                sql = (
                    f"INSERT INTO {quote(self.table)} ({columns}) "  # noqa: S608
                    f"VALUES {', '.join([placeholder] * len(chunk))} RETURNING {quote(self.pk_column)}"
                )
                cursor.execute(sql, [value for row in chunk for value in self._prepared(row)])
                pks.extend(pk for (pk,) in cursor.fetchall())
        return pks

    def update(self, rows: list[list[Any]]) -> None:
        """Rewrite existing rows: each is its `values` followed by its primary key."""
        quote = self.quote
        assignments = ", ".join(f"{quote(field.column)} = %s" for field in self.fields)
        sql = f"UPDATE {quote(self.table)} SET {assignments} WHERE {quote(self.pk_column)} = %s"  # noqa: S608
        prepared = [[*self._prepared(row[:-1]), row[-1]] for row in rows]
        with self.connection.cursor() as cursor:
            for start in range(0, len(prepared), BULK_BATCH):
                cursor.executemany(sql, prepared[start : start + BULK_BATCH])


def new_id() -> str:
    return str(uuid.uuid4())
