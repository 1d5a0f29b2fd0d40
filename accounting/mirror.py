"""The open mirror engine: applying ledger records to the mirror, whoever asked the ledger for them.

A pull applies each page it reads; a push will apply what the ledger answers to a write, a webhook the
records it reads back. Each hands over (remote type, payload) pairs and gets back what changed: records
whose content hash is unchanged cost no write; new and changed ones are upserted on their identity in one
statement, their child rows replaced and their declared references resolved; records marked do-not-sync
are left alone. The records' write is atomic on its own (a savepoint inside a caller's transaction); a
caller that records something beside the change (a pull's checkpoint) opens the transaction around both,
so they are applied together or not at all."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounting.families import Family
from accounting.references import references_fill
from accounting.writer import MirrorWriter
from core.jsontext import PreEncoded, encode
from integrations.models import Connection
from integrations.providers import get_provider
from integrations.providers.remote import FamilySource, Normalised, Payload, RemoteEntity

IDENTITY = ("connection", "remote_type", "remote_id")

_Write = tuple[dict[str, Any], Normalised, int | None]


@dataclass
class AppliedChanges:
    """What applying records did. Ids are mirror ids; `linked` are those among them whose record is linked
    to a local one (what conflict detection reads). The counts are a sync run's."""

    created: list[int] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)
    deleted: list[int] = field(default_factory=list)
    linked: set[int] = field(default_factory=set)
    fetched: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    # The latest update time among the records, and the lowest earlier update time of a record already
    # applied under the same `seen_run_id` with another update time (listed twice by one pass).
    max_seen: datetime | None = None
    relisted_floor: datetime | None = None

    @property
    def created_count(self) -> int:
        return len(self.created)

    @property
    def deleted_count(self) -> int:
        return len(self.deleted)

    @property
    def linked_changed(self) -> list[int]:
        return [pk for pk in (*self.changed, *self.deleted) if pk in self.linked]


def _update_fields(family: Family) -> list[str]:
    concrete = [f for f in family.model._meta.concrete_fields if not f.primary_key]
    return [
        f.name
        for f in concrete
        if f.name not in (*IDENTITY, "created_at", "archived", "do_not_sync")
        and not f.name.startswith("link_")
    ]


class _Writers:
    """One writer per family, built once per process (the column lists cost a few ms to derive)."""

    def __init__(self) -> None:
        self._writers: dict[str, MirrorWriter] = {}

    def get(self, family: Family) -> MirrorWriter:
        writer = self._writers.get(family.key)
        if writer is None:
            writer = self._writers[family.key] = MirrorWriter(family.model, _update_fields(family))
        return writer


_WRITERS = _Writers()


def mirror_records_apply(
    *,
    connection: Connection,
    family: Family,
    records: Sequence[tuple[str, Payload]],
    source: FamilySource | None = None,
    texts: Sequence[str] | None = None,
    seen_run_id: int | None = None,
) -> AppliedChanges:
    """Apply (remote type, payload) records of one family to the connection's mirror.

    `source` is how the connection's ledger serves the family (the provider's, when not given); `texts`
    each record's exact text as received, where the caller kept it (the stored raw copy and the content
    hash are taken from it). `seen_run_id` marks every record the call saw, unchanged ones too, so a pass
    can tell afterwards which records it never saw."""
    if source is None:
        source = get_provider(connection.provider).pull_sources()[family.key]
    model = family.model
    now = timezone.now()
    changes = AppliedChanges(fetched=len(records))
    prepared: dict[tuple[str, str], tuple[RemoteEntity, Normalised, str, str]] = {}
    if texts is None:
        texts = [encode(payload) for _, payload in records]
    for (remote_type, payload), text in zip(records, texts, strict=True):
        entity = source.entity(remote_type)
        normalised = entity.normalise(payload)
        digest = hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
        prepared[(remote_type, normalised.remote_id)] = (entity, normalised, text, digest)
    existing = {
        (row[0], row[1]): row
        for row in model._default_manager.filter(
            connection=connection,
            remote_type__in={key[0] for key in prepared},
            remote_id__in={key[1] for key in prepared},
        ).values_list(
            "remote_type",
            "remote_id",
            "pk",
            "content_hash",
            "do_not_sync",
            "seen_run_id",
            "remote_updated_at",
            "remote_deleted",
            "link_object_id",
        )
    }
    writes: list[_Write] = []
    seen_unchanged: list[int] = []
    newly_deleted: set[int] = set()
    for key, (entity, normalised, text, digest) in prepared.items():
        moment = normalised.remote_updated_at
        if moment is not None and (changes.max_seen is None or moment > changes.max_seen):
            changes.max_seen = moment
        row = existing.get(key)
        if row is not None:
            _, _, pk, content_hash, do_not_sync, seen, previous_updated, was_deleted, link = row
            if seen_run_id is not None and seen == seen_run_id and previous_updated != moment:
                floor = changes.relisted_floor
                if previous_updated is not None and (floor is None or previous_updated < floor):
                    changes.relisted_floor = previous_updated
            if do_not_sync:
                changes.skipped += 1
                continue
            if content_hash == digest:
                changes.unchanged += 1
                seen_unchanged.append(pk)
                continue
            if link:
                changes.linked.add(pk)
            if normalised.remote_deleted and not was_deleted:
                newly_deleted.add(pk)
            else:
                changes.updated += 1
        record = {
            **normalised.fields,
            "connection_id": connection.pk,
            "remote_type": normalised.remote_type,
            "remote_id": normalised.remote_id,
            "remote_updated_at": moment,
            "remote_status": normalised.remote_status[:40],
            "remote_deleted": normalised.remote_deleted,
            "raw": PreEncoded(text),
            "content_hash": digest,
            "last_synced_at": now,
            "seen_run_id": seen_run_id,
            "created_at": now,
            "updated_at": now,
        }
        if family.has_contact:
            record["contact_remote_type"] = entity.contact_remote_type
        writes.append((record, normalised, row[2] if row is not None else None))
    if seen_unchanged and seen_run_id is not None:
        model._default_manager.filter(pk__in=seen_unchanged).update(seen_run_id=seen_run_id)
    if writes:
        ids = _write(connection, family, writes)
        for pk, (_, _, previous) in zip(ids, writes, strict=True):
            if previous is None:
                changes.created.append(pk)
            elif pk in newly_deleted:
                changes.deleted.append(pk)
            else:
                changes.changed.append(pk)
    return changes


def _write(connection: Connection, family: Family, writes: list[_Write]) -> list[int]:
    writer = _WRITERS.get(family)
    records = [record for record, _, _ in writes]
    references_fill(connection=connection, family=family, records=records)
    # One transaction (a savepoint inside the caller's), so a record never lands without its child rows;
    # PostgreSQL's COPY also stages rows in a table emptied at commit, which outside a transaction would
    # be empty by the time the INSERT reads it.
    with transaction.atomic(using=writer.alias):
        ids = writer.upsert(records)
        replaced = [previous for _, _, previous in writes if previous is not None]
        for child in family.children:
            parent = f"{child.parent_field}_id"
            rows = [
                {**values, parent: pk, "position": position}
                for pk, (_, normalised, _) in zip(ids, writes, strict=True)
                for position, values in enumerate(normalised.children.get(child.key, ()))
            ]
            writer.children_replace(child.model, parent, replaced, rows)
    return ids


def mirror_records_flag_deleted(
    *,
    connection: Connection,
    family: Family,
    keys: Iterable[tuple[str, str]],
    seen_run_id: int | None = None,
    changes: AppliedChanges | None = None,
) -> AppliedChanges:
    """Flag records the ledger says are deleted (a tombstone) or confirmed gone, by (remote type, remote
    id); records already flagged or marked do-not-sync stay as they are. Adds to `changes` when given."""
    changes = changes if changes is not None else AppliedChanges()
    update: dict[str, Any] = {"remote_deleted": True, "last_synced_at": timezone.now()}
    if seen_run_id is not None:
        update["seen_run_id"] = seen_run_id
    if family.has_status:
        update["status"] = "deleted"
    by_type: dict[str, list[str]] = {}
    for remote_type, remote_id in keys:
        by_type.setdefault(remote_type, []).append(remote_id)
    manager = family.model._default_manager
    for remote_type, remote_ids in by_type.items():
        for start in range(0, len(remote_ids), 500):
            flagged = list(
                manager.filter(
                    connection=connection,
                    remote_type=remote_type,
                    remote_id__in=remote_ids[start : start + 500],
                    remote_deleted=False,
                    do_not_sync=False,
                ).values_list("pk", "link_object_id")
            )
            if not flagged:
                continue
            manager.filter(pk__in=[pk for pk, _ in flagged]).update(**update)
            changes.deleted.extend(pk for pk, _ in flagged)
            changes.linked.update(pk for pk, link in flagged if link)
    return changes


def mirror_pass_finish(*, connection: Connection, family: Family) -> None:
    """What the family declares to run once a pass over it is complete (`Family.after_pass`)."""
    for hook in family.after_pass:
        hook(connection=connection, family=family)
