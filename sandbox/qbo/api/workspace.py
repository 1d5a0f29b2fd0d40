"""The unit of work of one request (or one bulk load): reads entities through to the database, stages new
versions in memory, and flushes them with bulk inserts and updates.

Staging lets a failed write be undone without a database savepoint (a batch item, or one element of a
bulk create, rolls back its own versions only), lets a write see its own knock-on changes (a payment and
the invoices it settles), and turns 100,000 seeded entities into a few hundred INSERT statements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from sandbox.models import Tenant
from sandbox.models.qbo_records import QboCounter, QboRecord
from sandbox.qbo.api import wire
from sandbox.qbo.api.entity import EntityType
from sandbox.qbo.query import value_at

BULK_BATCH = 500

Key = tuple[str, str]


def entity_type(name: str) -> EntityType:
    from sandbox.qbo.api.entities import ENTITIES

    return ENTITIES[name]


@dataclass
class Version:
    body: dict[str, Any]
    deleted: bool
    updated_at: datetime
    # The webhook operation this version raises ("Create", "Update"...); None for a silent change such as
    # a customer's Balance moving with its invoices.
    event: str | None


@dataclass(frozen=True)
class Event:
    entity: str
    record_id: str
    operation: str
    last_updated: datetime


@dataclass
class _Stored:
    pk: int
    body: dict[str, Any]
    deleted: bool


def fold(text: Any) -> str | None:
    return None if text is None else str(text).casefold()[:255]


def row_columns(
    etype: EntityType, body: dict[str, Any], *, deleted: bool, updated_at: datetime
) -> dict[str, Any]:
    """The indexed copies of a body's fields, as stored on its QboRecord row."""
    record_id = str(body.get("Id", ""))
    name = body.get(etype.name_field) if etype.name_field else None
    full_name = body.get("FullyQualifiedName") or name
    held = body.get("MetaData")
    meta: dict[str, Any] = held if isinstance(held, dict) else {}
    created = wire.parse_moment(meta.get("CreateTime")) or updated_at
    party = value_at(body, (etype.party[1],)) if etype.party else None
    doc_number = body.get("DocNumber")
    return {
        "record_id": record_id,
        "id_number": int(record_id) if record_id.isdigit() and len(record_id) < 19 else None,
        "name": fold(name) if isinstance(name, str) else None,
        "name_key": fold(full_name) if isinstance(full_name, str) else None,
        "doc_number": str(doc_number)[:64] if doc_number not in (None, "") else None,
        "party_id": str(party)[:32] if party not in (None, "") else None,
        "txn_date": wire.parse_day(body.get("TxnDate")),
        "total": _total(body.get("TotalAmt")),
        "active": body.get("Active") is not False,
        "deleted": deleted,
        "created_at": created,
        "updated_at": updated_at,
        "body": wire.encode(body),
    }


def _total(value: Any) -> Decimal | None:
    # The column holds 14 integer digits; a larger TotalAmt is still served, just not indexed.
    number = wire.to_decimal(value)
    return number if number is not None and abs(number) < 10**13 else None


class Workspace:
    def __init__(self, tenant: Tenant, *, now: datetime | None = None) -> None:
        self.tenant = tenant
        self.now = now or timezone.now()
        self._stored: dict[Key, _Stored | None] = {}
        self._staged: dict[Key, Version] = {}
        self._journal: list[tuple[Key, Version | None]] = []
        self._counters: dict[str, int] = {}
        self._counters_dirty: set[str] = set()
        self._name_hits: dict[tuple[str, str], list[Key]] = {}
        self._staged_names: dict[tuple[str, str], set[Key]] = {}
        self._doc_hits: dict[tuple[str, str], list[Key]] = {}
        self._staged_docs: dict[tuple[str, str], set[Key]] = {}
        self.events: list[Event] = []

    # --- reading -----------------------------------------------------------------------------------------

    def _load(self, entity: str, record_ids: Iterable[str]) -> None:
        wanted = [record_id for record_id in record_ids if (entity, record_id) not in self._stored]
        for start in range(0, len(wanted), BULK_BATCH):
            chunk = wanted[start : start + BULK_BATCH]
            for record_id in chunk:
                self._stored[(entity, record_id)] = None
            rows = QboRecord.objects.filter(
                tenant=self.tenant, entity=entity, record_id__in=chunk
            ).values_list("id", "record_id", "body", "deleted")
            for pk, record_id, text, deleted in rows:
                self._stored[(entity, record_id)] = _Stored(pk, wire.decode(text), deleted)

    def prefetch(self, entity: str, record_ids: Iterable[str]) -> None:
        """Load many entities in a few queries (a bulk create resolving its customers and items)."""
        self._load(entity, {str(record_id) for record_id in record_ids})

    def current(self, entity: str, record_id: str) -> tuple[dict[str, Any], bool] | None:
        """(body, deleted) of the latest version, tombstones included; None if it never existed. Bodies are
        shared: clone before changing one."""
        key = (entity, record_id)
        version = self._staged.get(key)
        if version is not None:
            return version.body, version.deleted
        if key not in self._stored:
            self._load(entity, [record_id])
        stored = self._stored[key]
        return None if stored is None else (stored.body, stored.deleted)

    def get(self, entity: str, record_id: str) -> dict[str, Any] | None:
        """The entity's body unless it does not exist or was deleted (inactive ones are returned)."""
        found = self.current(entity, record_id)
        if found is None or found[1]:
            return None
        return found[0]

    def holders_of_name(self, entities: tuple[str, ...], name_key: str) -> list[Key]:
        """Entities of the given types whose casefolded full name is `name_key`, as they stand now."""
        candidates: list[Key] = []
        for entity in entities:
            hit = (entity, name_key)
            if hit not in self._name_hits:
                rows = QboRecord.objects.filter(
                    tenant=self.tenant, entity=entity, name_key=name_key, deleted=False
                ).values_list("record_id", flat=True)
                ids = list(rows)
                self._load(entity, ids)
                self._name_hits[hit] = [(entity, record_id) for record_id in ids]
            candidates.extend(self._name_hits[hit])
            candidates.extend(self._staged_names.get(hit, ()))
        result: list[Key] = []
        for key in dict.fromkeys(candidates):
            body = self.get(*key)
            if body is not None and _name_key(entity_type(key[0]), body) == name_key:
                result.append(key)
        return result

    def prefetch_names(self, entities: tuple[str, ...], name_keys: Iterable[str]) -> None:
        """Look many names up in a few queries (a bulk create checking 10,000 new customers' names)."""
        keys = set(name_keys)
        for entity in entities:
            wanted = sorted(key for key in keys if (entity, key) not in self._name_hits)
            for start in range(0, len(wanted), BULK_BATCH):
                chunk = wanted[start : start + BULK_BATCH]
                hits: dict[str, list[Key]] = {key: [] for key in chunk}
                rows = QboRecord.objects.filter(
                    tenant=self.tenant, entity=entity, name_key__in=chunk, deleted=False
                ).values_list("record_id", "name_key")
                for record_id, name_key in rows:
                    if name_key is not None:
                        hits[name_key].append((entity, record_id))
                self._load(entity, [key[1] for found in hits.values() for key in found])
                for name_key, found in hits.items():
                    self._name_hits[(entity, name_key)] = found

    def holders_of_doc_number(self, entity: str, doc_number: str) -> list[Key]:
        hit = (entity, doc_number)
        if hit not in self._doc_hits:
            ids = list(
                QboRecord.objects.filter(
                    tenant=self.tenant, entity=entity, doc_number=doc_number, deleted=False
                ).values_list("record_id", flat=True)
            )
            self._load(entity, ids)
            self._doc_hits[hit] = [(entity, record_id) for record_id in ids]
        candidates = [*self._doc_hits[hit], *self._staged_docs.get(hit, ())]
        result: list[Key] = []
        for key in dict.fromkeys(candidates):
            body = self.get(*key)
            if body is not None and str(body.get("DocNumber")) == doc_number:
                result.append(key)
        return result

    def first(self, entity: str, predicate: Any) -> dict[str, Any] | None:
        """The lowest-id active entity of a (small) type the predicate accepts: default accounts."""
        rows = (
            QboRecord.objects.filter(tenant=self.tenant, entity=entity, deleted=False, active=True)
            .order_by("id_number", "id")
            .values_list("record_id", flat=True)
        )
        ids = list(rows[:2000])
        self._load(entity, ids)
        staged = [key[1] for key in self._staged if key[0] == entity and key[1] not in ids]
        for record_id in [*ids, *staged]:
            body = self.get(entity, record_id)
            if body is not None and body.get("Active") is not False and predicate(body):
                return body
        return None

    # --- counters ----------------------------------------------------------------------------------------

    def _counter(self, sequence: str) -> int:
        if sequence not in self._counters:
            row = QboCounter.objects.filter(tenant=self.tenant, sequence=sequence).values_list(
                "value", flat=True
            )
            self._counters[sequence] = next(iter(row), 0)
        return self._counters[sequence]

    def next_value(self, sequence: str, *, floor: int = 0) -> int:
        value = max(self._counter(sequence), floor) + 1
        self._counters[sequence] = value
        self._counters_dirty.add(sequence)
        return value

    def bump_counter(self, sequence: str, value: int) -> None:
        """Keep a sequence above a number given from outside (an imported Id or DocNumber)."""
        if value > self._counter(sequence):
            self._counters[sequence] = value
            self._counters_dirty.add(sequence)

    # --- staging -----------------------------------------------------------------------------------------

    def _index(self, key: Key, version: Version | None, add: bool) -> None:
        if version is None or version.deleted:
            return
        etype = entity_type(key[0])
        name_key = _name_key(etype, version.body)
        if name_key is not None:
            holders = self._staged_names.setdefault((key[0], name_key), set())
            (holders.add if add else holders.discard)(key)
        doc_number = version.body.get("DocNumber")
        if doc_number not in (None, ""):
            docs = self._staged_docs.setdefault((key[0], str(doc_number)), set())
            (docs.add if add else docs.discard)(key)

    def _set(self, key: Key, version: Version | None) -> None:
        self._index(key, self._staged.get(key), add=False)
        if version is None:
            self._staged.pop(key, None)
        else:
            self._staged[key] = version
            self._index(key, version, add=True)

    def put(
        self,
        entity: str,
        body: dict[str, Any],
        *,
        deleted: bool = False,
        event: str | None = None,
        updated_at: datetime | None = None,
    ) -> None:
        """Stage a new version of an entity (its body already stamped by the caller)."""
        key = (entity, str(body["Id"]))
        self._journal.append((key, self._staged.get(key)))
        previous = self._staged.get(key)
        if previous is not None and previous.event == "Create":
            # Still one creation, however often it changes before it is stored.
            event = "Create" if event is not None else previous.event
        elif previous is not None and event is None:
            event = previous.event
        self._set(key, Version(body, deleted, updated_at or self.now, event))

    def savepoint(self) -> int:
        return len(self._journal)

    def rollback(self, savepoint: int) -> None:
        while len(self._journal) > savepoint:
            key, previous = self._journal.pop()
            self._set(key, previous)

    # --- writing -----------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write every staged version (bulk) and the counters, and collect the webhook events raised."""
        creates: list[QboRecord] = []
        updates: list[QboRecord] = []
        written: list[tuple[Key, Version, QboRecord]] = []
        unknown: dict[str, list[str]] = {}
        for entity, record_id in self._staged:
            if (entity, record_id) not in self._stored:
                unknown.setdefault(entity, []).append(record_id)
        for entity, record_ids in unknown.items():
            self._load(entity, record_ids)
        for key, version in self._staged.items():
            stored = self._stored[key]
            etype = entity_type(key[0])
            columns = row_columns(etype, version.body, deleted=version.deleted, updated_at=version.updated_at)
            row = QboRecord(pk=stored.pk if stored else None, tenant=self.tenant, entity=key[0], **columns)
            (updates if stored else creates).append(row)
            written.append((key, version, row))
            if version.event is not None and etype.webhook:
                self.events.append(Event(key[0], key[1], version.event, version.updated_at))
        if updates:
            # Replacing changed rows (same primary key) costs two statements per 500 rows; Django's
            # bulk_update builds a CASE per column and row, and is ten times slower for wide rows.
            for start in range(0, len(updates), BULK_BATCH):
                QboRecord.objects.filter(
                    pk__in=[row.pk for row in updates[start : start + BULK_BATCH]]
                ).delete()
        if creates or updates:
            QboRecord.objects.bulk_create([*updates, *creates], batch_size=BULK_BATCH)
        for key, version, row in written:
            if row.pk is None:
                # A backend that cannot return bulk-inserted keys: forget the row, it reloads on demand.
                self._stored.pop(key, None)
            else:
                self._stored[key] = _Stored(row.pk, version.body, version.deleted)
        for sequence in sorted(self._counters_dirty):
            QboCounter.objects.update_or_create(
                tenant=self.tenant, sequence=sequence, defaults={"value": self._counters[sequence]}
            )
        self._counters_dirty.clear()
        # What was looked up stays known: the staged names and numbers are now stored ones. Candidates are
        # re-checked against the current body on every lookup, so an entry that moved away is harmless.
        for staged, hits in ((self._staged_names, self._name_hits), (self._staged_docs, self._doc_hits)):
            for hit, keys in staged.items():
                if hit in hits:
                    hits[hit] = list(dict.fromkeys([*hits[hit], *keys]))
            staged.clear()
        self._staged.clear()
        self._journal.clear()


def _name_key(etype: EntityType, body: dict[str, Any]) -> str | None:
    if not etype.name_field:
        return None
    name = body.get("FullyQualifiedName") or body.get(etype.name_field)
    return fold(name) if isinstance(name, str) else None
