"""How a ledger serves one entity family, declared as data, and what a pull gets back.

A provider declares, per family, the remote entity types that feed it (`RemoteEntity`: the ledger's
entity name, its id, update time and status, a field map into the mirror's normalised columns and its
child rows) and answers one page at a time (`Provider.pull_page`). Everything else (hashing, upserting,
delete detection, cursors) is the generic engine's (`accounting.pull`, `accounting.mirror`). Field maps are built from small
getters (`at`, `decimal_at`, ...) compiled once, so normalising a record is a few dict lookups per column.

Field maps read both ways: a getter made by `at`, `text_at`, `decimal_at`, `bool_at`, `mapped` (and
`converted` given an inverse) carries the path it reads (`getter.path`) and how to write a value there
(`getter.put(payload, value)`), so a push builds its payload from a normalised record with
`payload_build`. Those are attributes of the plain function the pull calls, so reading costs the same.
Getters without them (computed ones, `const`) are read-only."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Getter = Callable[[Mapping[str, Any]], Any]
Payload = dict[str, Any]
Put = Callable[[Payload, Any], None]


def _place(keys: tuple[str, ...]) -> Put:
    def put(payload: Payload, value: Any) -> None:
        target = payload
        for key in keys[:-1]:
            inner = target.get(key)
            if not isinstance(inner, dict):
                inner = target[key] = {}
            target = inner
        target[keys[-1]] = value

    return put


def _two_way(
    get: Getter, keys: tuple[str, ...], *, exact: bool = True, inverse: Callable[[Any], Any] | None = None
) -> Getter:
    """Give `get` the path it reads and a writer for it. `inverse` turns a normalised value back into the
    ledger's; `exact` is False where several ledger values read as one (a status table), so a field that
    reads the same path exactly wins when a payload is built."""
    place = _place(keys)
    if inverse is None:
        put = place
    else:

        def put(payload: Payload, value: Any) -> None:
            place(payload, inverse(value))

    get.path = ".".join(keys)  # type: ignore[attr-defined]
    get.put = put  # type: ignore[attr-defined]
    get.exact = exact  # type: ignore[attr-defined]
    return get


def _dig(keys: tuple[str, ...]) -> Getter:
    if len(keys) == 1:
        key = keys[0]
        return lambda record: record.get(key)
    if len(keys) == 2:
        first, second = keys

        def two(record: Mapping[str, Any]) -> Any:
            inner = record.get(first)
            return inner.get(second) if isinstance(inner, dict) else None

        return two

    def many(record: Mapping[str, Any]) -> Any:
        value: Any = record
        for key in keys:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value

    return many


def at(path: str, default: Any = "") -> Getter:
    """The value at a dotted path, or `default` when absent or null."""
    keys = tuple(path.split("."))
    dig = _dig(keys)

    def get(record: Mapping[str, Any]) -> Any:
        value = dig(record)
        return default if value is None else value

    return _two_way(get, keys)


def text_at(path: str, limit: int = 0) -> Getter:
    keys = tuple(path.split("."))
    dig = _dig(keys)

    def get(record: Mapping[str, Any]) -> str:
        value = dig(record)
        if value is None:
            return ""
        value = str(value)
        return value[:limit] if limit else value

    return _two_way(get, keys)


def decimal_at(path: str, default: Decimal | None = None) -> Getter:
    """A JSON number as `Decimal` (payloads are decoded with exact decimals; ints become Decimals too)."""
    keys = tuple(path.split("."))
    dig = _dig(keys)

    def get(record: Mapping[str, Any]) -> Decimal | None:
        value = dig(record)
        if value is None or value == "":
            return default
        return value if isinstance(value, Decimal) else Decimal(str(value))

    return _two_way(get, keys)


def bool_at(path: str, default: bool | None = False) -> Getter:
    keys = tuple(path.split("."))
    dig = _dig(keys)

    def get(record: Mapping[str, Any]) -> bool | None:
        value = dig(record)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)

    return _two_way(get, keys)


def converted(
    path: str, convert: Callable[[Any], Any], default: Any = None, inverse: Callable[[Any], Any] | None = None
) -> Getter:
    """The value at `path` passed through `convert` (a provider's date parser, a status table, ...);
    writable where `inverse` says how to turn a value back into the ledger's."""
    keys = tuple(path.split("."))
    dig = _dig(keys)

    def get(record: Mapping[str, Any]) -> Any:
        value = dig(record)
        return default if value is None or value == "" else convert(value)

    return get if inverse is None else _two_way(get, keys, inverse=inverse)


def mapped(path: str, table: Mapping[str, Any], default: Any = "") -> Getter:
    """The ledger's word at `path` translated through `table` (written back as the first word that
    translates to the value)."""
    keys = tuple(path.split("."))
    dig = _dig(keys)
    words: dict[Any, Any] = {}
    for word, value in table.items():
        words.setdefault(value, word)
    return _two_way(lambda record: table.get(dig(record), default), keys, exact=False, inverse=words.get)


def const(value: Any) -> Getter:
    return lambda record: value


def payload_build(
    entity: RemoteEntity,
    fields: Mapping[str, Any],
    children: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
) -> Payload:
    """A payload of `entity` with these normalised values (and child rows), written through the field
    map wherever it is writable; read-only fields are left out. Where fields share a path, exact ones
    are written last so that they win."""
    payload: Payload = {}
    _fields_put(payload, entity.fields, fields)
    for key, rows in (children or {}).items():
        child = entity.children[key]
        put = getattr(child.source, "put", None)
        if put is None:
            continue
        built = []
        for row in rows:
            built_row: Payload = {}
            _fields_put(built_row, child.fields, row)
            built.append(built_row)
        put(payload, built)
    return payload


def _fields_put(payload: Payload, getters: Mapping[str, Getter], values: Mapping[str, Any]) -> None:
    writable = [
        (getattr(get, "exact", True), name, get.put)
        for name, get in getters.items()
        if name in values and hasattr(get, "put")
    ]
    for _, name, put in sorted(writable, key=lambda item: item[0]):
        put(payload, values[name])


def writable_fields(getters: Mapping[str, Getter]) -> list[str]:
    """The names a payload can be built with (the rest are read-only)."""
    return [name for name, get in getters.items() if hasattr(get, "put")]


@dataclass(frozen=True)
class ChildMap:
    """Child rows (lines, allocations, options) taken from a list in the payload."""

    source: Getter
    fields: Mapping[str, Getter]
    # Rows that are not children in the mirror's sense (QBO's subtotal lines).
    keep: Callable[[Mapping[str, Any]], bool] | None = None


@dataclass(frozen=True)
class RemoteEntity:
    """One ledger entity type feeding one mirror family (QBO Invoice and Bill both feed invoices)."""

    family: str
    remote_type: str
    # The ledger's name for the collection: Xero's plural path, QBO's entity name.
    collection: str
    id: Getter
    updated_at: Getter
    status: Getter
    # True for a record the ledger reports as deleted or voided-away (status-based deletion).
    deleted: Callable[[Mapping[str, Any]], bool]
    fields: Mapping[str, Getter]
    children: Mapping[str, ChildMap] = field(default_factory=dict)
    # The mirror remote_type of the contact a document points at ("" when it has none).
    contact_remote_type: str = ""
    # Provider-specific options of the pull (Xero's query parameters, QBO's extra WHERE clause).
    options: Mapping[str, Any] = field(default_factory=dict)

    def normalise(self, payload: Mapping[str, Any]) -> Normalised:
        children: dict[str, list[dict[str, Any]]] = {}
        for key, child in self.children.items():
            rows = child.source(payload) or []
            keep = child.keep
            children[key] = [
                {name: get(row) for name, get in child.fields.items()}
                for row in rows
                if keep is None or keep(row)
            ]
        return Normalised(
            remote_type=self.remote_type,
            remote_id=str(self.id(payload)),
            remote_updated_at=self.updated_at(payload),
            remote_status=str(self.status(payload) or ""),
            remote_deleted=bool(self.deleted(payload)),
            fields={name: get(payload) for name, get in self.fields.items()},
            children=children,
        )


@dataclass(slots=True)
class Normalised:
    remote_type: str
    remote_id: str
    remote_updated_at: datetime | None
    remote_status: str
    remote_deleted: bool
    fields: dict[str, Any]
    children: dict[str, list[dict[str, Any]]]


@dataclass(frozen=True)
class FamilySource:
    """Everything a ledger says about pulling one family."""

    family: str
    entities: Sequence[RemoteEntity]
    # Whether the ledger can list only what changed since a time, deletions included. Families without
    # it are small lists, fetched whole (and so delete-checked) on every run.
    incremental: bool = True
    # How far back an incremental pull may start (QBO's change feed keeps 30 days); older means full.
    incremental_max_age_days: int | None = None

    def entity(self, remote_type: str) -> RemoteEntity:
        for entity in self.entities:
            if entity.remote_type == remote_type:
                return entity
        raise KeyError(remote_type)


@dataclass(frozen=True)
class LimitUsage:
    """What the ledger's response headers said of its limits (None where it says nothing)."""

    minute_remaining: int | None = None
    day_remaining: int | None = None


@dataclass
class PulledPage:
    """One answer of the ledger during a pull.

    `records`: (remote type, payload) in the ledger's order. `tombstones`: (remote type, remote id) of
    records the ledger reports deleted without a payload (QBO's change feed). `next`: the JSON-able token
    of the next page, None when the pass is complete."""

    records: list[tuple[str, Payload]]
    next: dict[str, Any] | None
    tombstones: list[tuple[str, str]] = field(default_factory=list)
    total: int | None = None
    api_calls: int = 1
    usage: LimitUsage = field(default_factory=LimitUsage)
    # Each record's exact text as received, where the provider kept it (else the engine encodes it).
    raw: list[str] | None = None


def as_date(value: datetime | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    return value
