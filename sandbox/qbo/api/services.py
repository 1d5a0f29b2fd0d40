"""Use cases of the emulated QBO API, callable without HTTP (the views, the importer and the seed
generator all use these).

Writes: `record_save`, `record_delete`, `record_void` (one entity, as the API does them);
`records_create` validates and computes any number of new entities in one transaction and bulk-writes
them; `records_bulk_insert` stores bodies that are already QBO-shaped, untouched. Batch: `batch_run`.
Every write runs in a `unit_of_work`, whose webhook events are recorded once it has committed.
Reads live in `selectors`."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from sandbox import clock, webhooks
from sandbox.models import Tenant
from sandbox.models.qbo_records import QboRecord, QboRequestReplay
from sandbox.qbo.api import engine, faults, selectors, wire
from sandbox.qbo.api.entities import ENTITIES, entity_named
from sandbox.qbo.api.entity import SINGLETON, EntityType
from sandbox.qbo.api.faults import QboFault
from sandbox.qbo.api.rules import company
from sandbox.qbo.api.workspace import Event, Workspace, fold

logger = logging.getLogger(__name__)

SANDBOX_DB = "sandbox"
FLUSH_EVERY = 1000
BATCH_LIMIT = 30
REQUEST_ID_MAX = 100
SUCCESS_TYPE = "application/json;charset=utf-8"
FAULT_TYPE = "application/json"


# --- webhooks --------------------------------------------------------------------------------------------


def _emit_webhook_event(tenant: Tenant, event: Event) -> None:
    """The one place QBO changes are reported to `sandbox.webhooks` (after the commit that made them)."""
    webhooks.qbo_event_record(
        tenant=tenant,
        entity=event.entity,
        entity_id=event.record_id,
        operation=event.operation,
        last_updated=event.last_updated,
    )


def _emit_all(tenant: Tenant, events: list[Event]) -> None:
    for event in events:
        _emit_webhook_event(tenant, event)


# --- the unit of work ------------------------------------------------------------------------------------


@contextmanager
def unit_of_work(tenant: Tenant, *, emit_events: bool = True) -> Iterator[Workspace]:
    """One transaction around a workspace: the company's defaults exist inside it, its staged entities are
    flushed on success, and their webhook events are recorded once the transaction has committed."""
    with clock.db_turn(), transaction.atomic(using=SANDBOX_DB):
        # Serialises writers of one company on PostgreSQL (ids, numbers, names); on SQLite write
        # transactions are exclusive already.
        list(Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True))
        ws = Workspace(tenant)
        defaults_ensure(ws)
        yield ws
        ws.flush()
        if emit_events and ws.events:
            events = list(ws.events)
            transaction.on_commit(lambda: _emit_all(tenant, events), using=SANDBOX_DB, robust=True)


def defaults_ensure(ws: Workspace) -> None:
    """A company's first use creates what every QBO company starts with (accounts, terms, Preferences...)."""
    if ws.current("Preferences", engine.SINGLETON_ID) is not None:
        return
    for entity, bodies in company.default_records(ws.tenant, ws.now).items():
        etype = ENTITIES[entity]
        for body in bodies:
            if ws.current(entity, body["Id"]) is not None:
                continue
            ws.put(entity, body)
            if etype.kind != SINGLETON:
                ws.bump_counter(etype.id_sequence, int(body["Id"]))


def company_ensure(*, tenant: Tenant) -> None:
    """Read paths need the defaults too (GET /preferences of a brand-new company)."""
    with clock.db_turn():
        if QboRecord.objects.filter(tenant=tenant, entity="Preferences").exists():
            return
    with unit_of_work(tenant):
        pass


def _entity(name: str) -> EntityType:
    etype = entity_named(name)
    if etype is None:
        raise ValueError(f"{name} is not a QBO entity type the sandbox emulates.")
    return etype


# --- writes ----------------------------------------------------------------------------------------------


def record_save(
    *,
    tenant: Tenant,
    entity: str,
    payload: Any,
    include: frozenset[str] = frozenset(),
    actor: str = engine.DEFAULT_ACTOR,
    update_only: bool = False,
    emit_events: bool = True,
) -> dict[str, Any]:
    """POST /{entity}: create, or update when the payload has an Id (`update_only`: it must)."""
    etype = _entity(entity)
    if (
        update_only
        and isinstance(payload, dict)
        and payload.get("Id") in (None, "")
        and etype.kind != SINGLETON
    ):
        raise faults.required_missing("Id")
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        return engine.save(ws, etype, payload, include=include, actor=actor)


def record_delete(
    *, tenant: Tenant, entity: str, payload: Any, actor: str = engine.DEFAULT_ACTOR, emit_events: bool = True
) -> dict[str, Any]:
    etype = _entity(entity)
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        return engine.delete(ws, etype, payload, actor=actor)


def record_void(
    *, tenant: Tenant, entity: str, payload: Any, actor: str = engine.DEFAULT_ACTOR, emit_events: bool = True
) -> dict[str, Any]:
    etype = _entity(entity)
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        return engine.void(ws, etype, payload, actor=actor)


@dataclass
class CreateFailed(Exception):
    """Element `index` of a `records_create` call was refused; nothing was written."""

    index: int
    fault: QboFault

    def __str__(self) -> str:
        return f"element {self.index}: {self.fault}"


def records_create(
    *, tenant: Tenant, entity: str, payloads: Sequence[dict[str, Any]], emit_events: bool = False
) -> list[dict[str, Any]]:
    """Validate, compute and write new entities exactly as POST /{entity} would (totals, balances, names,
    references), all in one transaction; any refused element raises CreateFailed and nothing is written.
    Webhook events are off by default: this is the seed generator's path."""
    etype = _entity(entity)
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        _prefetch_references(ws, etype, payloads)
        created: list[dict[str, Any]] = []
        for index, payload in enumerate(payloads):
            try:
                created.append(engine.save(ws, etype, payload, creating=True))
            except QboFault as fault:
                raise CreateFailed(index, fault) from fault
            if len(created) % FLUSH_EVERY == 0:
                ws.flush()
    return created


def _prefetch_references(ws: Workspace, etype: EntityType, payloads: Sequence[dict[str, Any]]) -> None:
    """Load every object the payloads reference in a few queries instead of one per reference."""
    wanted: dict[str, set[str]] = {}
    for rule in etype.refs:
        if not isinstance(rule.target, str):
            continue
        for payload in payloads:
            for holder, key in engine._holders(payload, rule.path):
                ref = holder[key]
                value = ref.get("value") if isinstance(ref, dict) else ref
                if value not in (None, "") and str(value) not in rule.pseudo:
                    wanted.setdefault(rule.target, set()).add(str(value))
    for target, ids in wanted.items():
        ws.prefetch(target, ids)
    if etype.name_field:
        names = (payload.get(etype.name_field) for payload in payloads if not payload.get("ParentRef"))
        ws.prefetch_names(
            etype.name_scope or (etype.name,), {fold(name) or "" for name in names if isinstance(name, str)}
        )


def records_bulk_insert(
    *, tenant: Tenant, entity: str, bodies: Iterable[dict[str, Any]], replace: bool = False
) -> int:
    """Store already-built QBO bodies as they are: no validation, no totals, no balances, no webhooks.
    Missing system fields are filled in (Id from the company's sequence, SyncToken "0", MetaData now,
    domain, sparse); a `"status": "Deleted"` body is stored as a deletion. Existing Ids are refused unless
    `replace`. Returns the number stored."""
    etype = _entity(entity)
    count = 0
    with unit_of_work(tenant, emit_events=False) as ws:
        chunk: list[dict[str, Any]] = []
        for body in bodies:
            chunk.append(body)
            if len(chunk) >= FLUSH_EVERY:
                count += _insert_chunk(ws, etype, chunk, replace=replace)
                ws.flush()
                chunk = []
        count += _insert_chunk(ws, etype, chunk, replace=replace)
    return count


def _insert_chunk(ws: Workspace, etype: EntityType, bodies: list[dict[str, Any]], *, replace: bool) -> int:
    given_ids = [
        str(body["Id"]) for body in bodies if isinstance(body, dict) and body.get("Id") not in (None, "")
    ]
    ws.prefetch(etype.name, given_ids)
    for original in bodies:
        if not isinstance(original, dict):
            raise ValueError(f"A {etype.name} body must be a JSON object.")
        # A shallow copy: only top-level system fields are set here, and the copy lives for this call.
        body = dict(original)
        if body.get("Id") in (None, ""):
            fresh = engine.SINGLETON_ID if etype.kind == SINGLETON else str(ws.next_value(etype.id_sequence))
            body = {"domain": "QBO", "sparse": False, "Id": fresh, **body}
        record_id = body["Id"] = str(body["Id"])
        previous = ws.current(etype.name, record_id)
        if not replace and previous is not None:
            raise ValueError(f"{etype.name} {record_id} already exists.")
        if record_id.isdigit() and etype.kind != SINGLETON and len(record_id) < 15:
            ws.bump_counter(etype.id_sequence, int(record_id))
        doc_number = str(body.get("DocNumber") or "")
        if etype.auto_doc_number and doc_number.isdigit() and len(doc_number) < 15:
            ws.bump_counter(f"doc:{etype.name}", int(doc_number))
        meta = body.get("MetaData") if isinstance(body.get("MetaData"), dict) else None
        updated_at = (wire.parse_moment(meta.get("LastUpdatedTime")) if meta else None) or ws.now
        deleted = body.get("status") == "Deleted"
        if deleted:
            # A tombstone (`{"domain","status":"Deleted","Id"}`) deletes what is stored under its Id.
            if previous is not None:
                body = {**wire.clone(previous[0]), **body}
        else:
            body.setdefault("SyncToken", "0")
            if meta is None:
                stamp = wire.stamp(ws.now)
                body["MetaData"] = {"CreateTime": stamp, "LastUpdatedTime": stamp}
        ws.put(etype.name, body, deleted=deleted, updated_at=updated_at)
    return len(bodies)


# --- batch -----------------------------------------------------------------------------------------------

BATCH_KEYS = frozenset({"bId", "operation", "optionsData"})


def batch_run(*, tenant: Tenant, payload: Any, actor: str = engine.DEFAULT_ACTOR) -> str:
    """POST /batch: up to 30 items (create, update, delete, void via `optionsData`, or a Query), each on
    its own: a failed item answers with its Fault inside the 200 and does not undo the others. Returns
    the BatchItemResponse array as JSON text."""
    items = payload.get("BatchItemRequest") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise faults.required_missing("BatchItemRequest")
    if len(items) > BATCH_LIMIT:
        raise faults.business_rule(
            f"A batch request can hold at most {BATCH_LIMIT} BatchItemRequest items; this one holds {len(items)}."
        )
    return "[" + ",".join(_batch_item(tenant, item, actor) for item in items) + "]"


def _batch_item(tenant: Tenant, item: Any, actor: str) -> str:
    bid = item.get("bId") if isinstance(item, dict) else None
    tail = f',"bId":{wire.encode(bid)}}}' if bid is not None else "}"
    try:
        if not isinstance(item, dict):
            raise faults.unreadable_body("a BatchItemRequest must be a JSON object")
        if "Query" in item:
            company_ensure(tenant=tenant)
            return '{"QueryResponse":' + selectors.query_run(tenant=tenant, text=str(item["Query"])) + tail
        named = [key for key in item if key not in BATCH_KEYS]
        if len(named) != 1 or entity_named(named[0]) is None:
            raise faults.required_missing("BatchItemRequest.<Entity>")
        etype = _entity(named[0])
        body = item[named[0]]
        operation = str(item.get("operation") or "")
        options = {part.strip() for part in str(item.get("optionsData") or "").split(",") if part.strip()}
        if operation == "create":
            if isinstance(body, dict) and body.get("Id") not in (None, ""):
                raise faults.unsupported("Operation Create with an Id is not supported.")
            result = _in_unit(tenant, lambda ws: engine.save(ws, etype, body, actor=actor, creating=True))
        elif operation == "update" and "void" in options:
            result = _in_unit(tenant, lambda ws: engine.void(ws, etype, body, actor=actor))
        elif operation == "update":
            if not isinstance(body, dict) or (body.get("Id") in (None, "") and etype.kind != SINGLETON):
                raise faults.required_missing("Id")
            result = _in_unit(tenant, lambda ws: engine.save(ws, etype, body, actor=actor, creating=False))
        elif operation == "delete":
            result = _in_unit(tenant, lambda ws: engine.delete(ws, etype, body, actor=actor))
        else:
            raise faults.invalid_enumeration("operation", operation)
        return "{" + wire.encode(etype.name) + ":" + wire.encode(result) + tail
    except QboFault as fault:
        return '{"Fault":' + wire.encode(fault.fault()) + tail


def _in_unit(tenant: Tenant, work: Any) -> dict[str, Any]:
    with unit_of_work(tenant) as ws:
        result: dict[str, Any] = work(ws)
        return result


# --- requestid -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    text: str

    @property
    def content_type(self) -> str:
        return SUCCESS_TYPE if self.status == 200 else FAULT_TYPE


def fault_reply(fault: QboFault) -> Reply:
    envelope: dict[str, Any] = {"Fault": fault.fault()}
    if fault.with_time:
        envelope["time"] = wire.envelope_time(timezone.now())
    return Reply(fault.status, wire.encode(envelope))


def reply_run(*, tenant: Tenant, request_id: str | None, produce: Any) -> Reply:
    """Run a request, answering faults in Intuit's envelope. With a `requestid`, a repeat of an id already
    seen for this company gets the original answer back, and the request is not executed again."""
    if not request_id:
        return _produce(produce)
    if len(request_id) > REQUEST_ID_MAX:
        # Intuit documents ids of at most 50 characters; longer ones are kept by their digest.
        request_id = hashlib.sha256(request_id.encode()).hexdigest()
    with clock.db_turn(), transaction.atomic(using=SANDBOX_DB):
        list(Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True))
        found = QboRequestReplay.objects.filter(tenant=tenant, request_id=request_id).first()
        if found is not None:
            return Reply(found.status_code, found.response_body)
        reply = _produce(produce)
        QboRequestReplay.objects.create(
            tenant=tenant,
            request_id=request_id,
            status_code=reply.status,
            content_type=reply.content_type,
            response_body=reply.text,
        )
        return reply


def _produce(produce: Any) -> Reply:
    try:
        text: str = produce()
    except QboFault as fault:
        return fault_reply(fault)
    return Reply(200, text)
