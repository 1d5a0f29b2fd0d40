"""Use cases of the emulated Xero Accounting API, callable without HTTP (the views, the importer and the
seed generator all use these).

Writes: `records_write` (and its shorthands `records_create`, `records_upsert`, `record_update`) validate,
compute and bulk-write any number of elements in one transaction; `batch` runs several writes (documents,
allocations, tracking options) in one transaction, each seeing the ones before, and inserts every document
once, in its final state; `records_bulk_insert` stores bodies that are already Xero-shaped, untouched.
Reads: `records_list` and `record_get` return JSON texts ready to be spliced into a response."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Q, QuerySet

from sandbox import webhooks
from sandbox.models import Tenant
from sandbox.models.xero_records import XeroRecord
from sandbox.xero.api import engine, wire
from sandbox.xero.api.defaults import defaults_ensure
from sandbox.xero.api.engine import CREATE, UPDATE, UPSERT, NotFound, Outcome
from sandbox.xero.api.entities import CREDIT_NOTES, ENTITIES, TRACKING_CATEGORIES
from sandbox.xero.api.entity import Draft, Entity, unit_values
from sandbox.xero.api.rules import contacts, organisation, settlement
from sandbox.xero.api.schema import Day, Number, Obj, Text, read_element
from sandbox.xero.api.where import (
    matches,
    order_by_sql,
    parse_order,
    parse_where,
    sort_bodies,
    to_q,
)
from sandbox.xero.api.workspace import GUID, Event, Workspace

logger = logging.getLogger(__name__)

FLUSH_EVERY = 1000
BULK_BATCH = 1000
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class ValidationFailed(Exception):
    """At least one element is invalid and errors are summarised: nothing was written."""

    def __init__(self, outcomes: list[Outcome]) -> None:
        self.outcomes = outcomes
        super().__init__("; ".join(error for outcome in outcomes for error in outcome.errors))


# --- the unit of work ------------------------------------------------------------------------------------


def _deliver(tenant: Tenant, events: list[Event]) -> None:
    for event in events:
        webhooks.xero_event_record(
            tenant=tenant,
            category=event.category,
            event_type=event.event_type,
            resource_id=event.resource_id,
            data=event.data,
        )


@contextmanager
def unit_of_work(
    tenant: Tenant, *, emit_events: bool = True, ids: Callable[[], str] | None = None
) -> Iterator[Workspace]:
    """One transaction around a workspace; its staged documents are flushed on success and their webhook
    events recorded once the transaction has committed. `ids` makes the new documents' ids (see Workspace)."""
    with transaction.atomic(using="sandbox"):
        # Serialises writers of one organisation on PostgreSQL (numbering, unique names); a no-op on
        # SQLite, whose write transactions are already exclusive.
        list(Tenant.objects.select_for_update().filter(pk=tenant.pk).values_list("pk", flat=True))
        defaults_ensure(tenant=tenant)
        ws = Workspace(tenant, ids=ids)
        yield ws
        ws.flush()
        if emit_events and ws.events:
            events = list(ws.events)
            transaction.on_commit(lambda: _deliver(tenant, events), using="sandbox")


# --- writes ----------------------------------------------------------------------------------------------


def records_write(
    *,
    tenant: Tenant,
    collection: str,
    elements: Sequence[Any],
    mode: str,
    ref: str | None = None,
    summarize_errors: bool = True,
    unitdp: int = 2,
    emit_events: bool = True,
) -> list[Outcome]:
    """Create (PUT), upsert (POST /X) or update (POST /X/{ref}) documents.

    With `summarize_errors` any invalid element raises ValidationFailed and nothing is written; without it
    the valid elements are written and each Outcome says how its element fared."""
    entity = ENTITIES[collection]
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        return _write(
            ws,
            entity,
            elements,
            mode=mode,
            ref=ref,
            summarize_errors=summarize_errors,
            unitdp=unitdp,
            flush_every=FLUSH_EVERY,
        )


def _write(
    ws: Workspace,
    entity: Entity,
    elements: Sequence[Any],
    *,
    mode: str,
    ref: str | None = None,
    summarize_errors: bool = True,
    unitdp: int = 2,
    flush_every: int | None = None,
    moments: Sequence[datetime] | None = None,
) -> list[Outcome]:
    """Apply each element in `ws`; with `summarize_errors` any invalid one raises ValidationFailed (the
    caller's transaction then writes nothing). `moments[i]`, when given, is the time element i is written
    at (its UpdatedDateUTC, and "today" for date defaults)."""
    _prefetch(ws, entity, elements)
    outcomes: list[Outcome] = []
    failed = False
    for index, element in enumerate(elements, start=1):
        if moments is not None:
            ws.now = wire.truncate_ms(moments[index - 1])
        savepoint = ws.savepoint()
        outcome = engine.apply(ws, entity, element, mode=mode, ref=ref, unitdp=unitdp)
        if not outcome.ok:
            ws.rollback(savepoint)
            failed = True
        outcomes.append(outcome)
        if flush_every and index % flush_every == 0 and not (failed and summarize_errors):
            ws.flush()
    if failed and summarize_errors:
        raise ValidationFailed(outcomes)
    return outcomes


def _prefetch(ws: Workspace, entity: Entity, elements: Sequence[Any]) -> None:
    """Read what a batch names (its documents, business keys, contacts, the documents payments pay) in a
    few queries instead of one or two per element."""
    given = [element for element in elements if isinstance(element, dict)]
    if len(given) < 2:
        return
    fields = {"number": entity.number_field, "name": entity.name_field}
    for rule in entity.unique:
        key = fields.get(rule.column)
        if key:
            values = (str(e[key]) for e in given if isinstance(e.get(key), str | int))
            ws.prefetch(entity.plural, rule.column, values)

    def ids(path: tuple[str, ...]) -> list[str]:
        found = []
        for element in given:
            value: Any = element
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            if isinstance(value, str) and value:
                found.append(value)
        return _with_case_variants(found)

    ws.prefetch_ids(entity.plural, ids((entity.id_field,)))
    if entity.contact_field == ("Contact", "ContactID"):
        ws.prefetch_ids("Contacts", ids(("Contact", "ContactID")))
    if entity.plural == "Payments":
        documents = [*ids(("Invoice", "InvoiceID")), *ids(("CreditNote", "CreditNoteID"))]
        ws.prefetch_ids("Invoices", documents)
        ws.prefetch_ids("CreditNotes", documents)


def records_create(
    *,
    tenant: Tenant,
    collection: str,
    payloads: Sequence[dict[str, Any]],
    unitdp: int = 2,
    emit_events: bool = True,
) -> list[dict[str, Any]]:
    """Validate, compute and write new documents (as PUT does); raises ValidationFailed if any is invalid."""
    outcomes = records_write(
        tenant=tenant,
        collection=collection,
        elements=payloads,
        mode=CREATE,
        unitdp=unitdp,
        emit_events=emit_events,
    )
    return [outcome.body for outcome in outcomes]


def records_upsert(
    *,
    tenant: Tenant,
    collection: str,
    payloads: Sequence[dict[str, Any]],
    unitdp: int = 2,
    emit_events: bool = True,
) -> list[dict[str, Any]]:
    """Update the documents the payloads name (by id or business key) and create the others, as POST does."""
    outcomes = records_write(
        tenant=tenant,
        collection=collection,
        elements=payloads,
        mode=UPSERT,
        unitdp=unitdp,
        emit_events=emit_events,
    )
    return [outcome.body for outcome in outcomes]


def record_update(
    *,
    tenant: Tenant,
    collection: str,
    ref: str,
    payload: dict[str, Any],
    unitdp: int = 2,
    emit_events: bool = True,
) -> dict[str, Any]:
    """Change one document (by id or business key), as POST /<collection>/{ref} does."""
    outcomes = records_write(
        tenant=tenant,
        collection=collection,
        elements=[payload],
        mode=UPDATE,
        ref=ref,
        unitdp=unitdp,
        emit_events=emit_events,
    )
    return outcomes[0].body


def record_delete(*, tenant: Tenant, collection: str, ref: str) -> tuple[dict[str, Any], bool]:
    """DELETE: (the document as it now is, whether it is gone outright)."""
    entity = ENTITIES[collection]
    with unit_of_work(tenant) as ws:
        outcome, removed = engine.apply_delete(ws, entity, ref)
        if not outcome.ok:
            raise ValidationFailed([outcome])
    return outcome.body, removed


def records_bulk_insert(
    *, tenant: Tenant, collection: str, bodies: Iterable[dict[str, Any]], replace: bool = True
) -> int:
    """Store Xero-shaped bodies as given (no validation, no totals, no webhooks): the importer's and the
    seed generator's fast path. Each body needs its id field; `replace` overwrites documents with the same id."""
    entity = ENTITIES[collection]
    rows = [
        XeroRecord(
            tenant=tenant,
            collection=collection,
            body=wire.encode(body),
            **entity.column_values(body),
        )
        for body in bodies
    ]
    with transaction.atomic(using="sandbox"):
        if replace:
            ids = [row.record_id for row in rows]
            for start in range(0, len(ids), BULK_BATCH):
                XeroRecord.objects.filter(
                    tenant=tenant, collection=collection, record_id__in=ids[start : start + BULK_BATCH]
                ).delete()
        XeroRecord.objects.bulk_create(rows, batch_size=BULK_BATCH)
    return len(rows)


# --- several writes in one unit of work -------------------------------------------------------------------


class Batch:
    """Writes that share one workspace and one transaction: each sees what the ones before staged, and a
    document changed several times (created, paid, voided) is inserted once, as it finally is. Every write
    goes through the same rules as the API and is all or nothing: an invalid element raises
    ValidationFailed with nothing of that call staged (left to propagate, it rolls the whole batch back).

    `at`, on each write, is when the write happens (one moment, or one per element): it stamps the
    documents' UpdatedDateUTC and is "today" for date defaults, so that a replayed history carries the
    timestamps of that history. Without it, a write happens at the time the batch began."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.began = ws.now

    def _at(self, at: datetime | None) -> None:
        self.ws.now = wire.truncate_ms(at) if at is not None else self.began

    def _moments(self, count: int, at: datetime | Sequence[datetime] | None) -> Sequence[datetime]:
        if at is None or isinstance(at, datetime):
            self._at(at)
            return [self.ws.now] * count
        if len(at) != count:
            raise ValueError(f"{len(at)} moments for {count} elements.")
        return at

    def _all_or_nothing(self, write: Callable[[], list[Outcome]]) -> list[Outcome]:
        savepoint = self.ws.savepoint()
        try:
            return write()
        except ValidationFailed:
            self.ws.rollback(savepoint)
            raise

    def write(
        self,
        collection: str,
        elements: Sequence[dict[str, Any]],
        *,
        mode: str = CREATE,
        at: datetime | Sequence[datetime] | None = None,
        unitdp: int = 2,
    ) -> list[dict[str, Any]]:
        """Create (or, with mode UPSERT, update by id or key) documents: their stored bodies."""
        moments = self._moments(len(elements), at)
        outcomes = self._all_or_nothing(
            lambda: _write(self.ws, ENTITIES[collection], elements, mode=mode, unitdp=unitdp, moments=moments)
        )
        return [outcome.body for outcome in outcomes]

    def update(
        self, collection: str, ref: str, payload: dict[str, Any], *, at: datetime | None = None
    ) -> dict[str, Any]:
        """Change one document by id or business key (as POST /<collection>/{ref})."""
        self._at(at)
        [outcome] = self._all_or_nothing(
            lambda: _write(self.ws, ENTITIES[collection], [payload], mode=UPDATE, ref=ref)
        )
        return outcome.body

    def allocate(
        self, credit_note_ref: str, payloads: Sequence[Any], *, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Allocate a credit note to invoices (as PUT /CreditNotes/{id}/Allocations)."""
        self._at(at)
        outcomes = self._all_or_nothing(lambda: _allocate(self.ws, credit_note_ref, payloads))
        return [outcome.body for outcome in outcomes]

    def tracking_options(
        self, category_ref: str, payloads: Sequence[Any], *, at: datetime | None = None
    ) -> list[dict[str, Any]]:
        """Add options to a tracking category (as PUT /TrackingCategories/{id}/Options)."""
        self._at(at)
        savepoint = self.ws.savepoint()
        try:
            return _tracking_options(self.ws, category_ref, payloads)
        except ValidationFailed:
            self.ws.rollback(savepoint)
            raise

    def get(self, collection: str, record_id: str) -> dict[str, Any] | None:
        """A document as this batch has left it so far (shared: don't change it)."""
        return self.ws.get(collection, record_id)

    def flush(self) -> None:
        """Write what is staged so far (inserts, then updates), keeping the transaction open."""
        self.ws.flush()


@contextmanager
def batch(
    tenant: Tenant, *, emit_events: bool = True, ids: Callable[[], str] | None = None
) -> Iterator[Batch]:
    """Several writes in one transaction: `with batch(tenant) as b: b.write(...); b.allocate(...)`."""
    with unit_of_work(tenant, emit_events=emit_events, ids=ids) as ws:
        yield Batch(ws)


# --- sub-resources: allocations, contact group members, tracking options ---------------------------------

ALLOCATION = Obj(
    {
        "Invoice": Obj({"InvoiceID": Text(), "InvoiceNumber": Text()}),
        "Amount": Number(),
        "Date": Day(),
    }
)
TRACKING_OPTION = Obj({"Name": Text(100), "Status": Text()})
MEMBER = Obj({"ContactID": Text()})


def _existing(ws: Workspace, entity: Entity, ref: str) -> dict[str, Any]:
    body = ws.get_by_ref(entity, ref)
    if body is None:
        raise NotFound(ref)
    return body


def allocations_create(
    *, tenant: Tenant, credit_note_ref: str, payloads: Sequence[Any], emit_events: bool = True
) -> list[dict[str, Any]]:
    """PUT /CreditNotes/{id}/Allocations: allocate credit to invoices; all or nothing."""
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        outcomes = _allocate(ws, credit_note_ref, payloads)
    return [outcome.body for outcome in outcomes]


def _allocate(ws: Workspace, credit_note_ref: str, payloads: Sequence[Any]) -> list[Outcome]:
    note_id = _existing(ws, CREDIT_NOTES, credit_note_ref)["CreditNoteID"]
    outcomes: list[Outcome] = []
    for element in payloads:
        if not isinstance(element, dict):
            raise wire.PostDataInvalid("Each allocation must be a JSON object.")
        values, errors = read_element(ALLOCATION, element)
        note = ws.get("CreditNotes", note_id) or {}
        draft = Draft(
            ws=ws, entity=CREDIT_NOTES, values=values, before=note, body=wire.clone(note), errors=errors
        )
        savepoint = ws.savepoint()
        allocation = settlement.allocation_apply(draft, note, values) if not errors else None
        if draft.errors or allocation is None:
            ws.rollback(savepoint)
            outcomes.append(Outcome(wire.clone(element), draft.errors or ["The allocation is not valid."]))
        else:
            outcomes.append(Outcome(allocation))
    if any(not outcome.ok for outcome in outcomes):
        raise ValidationFailed(outcomes)
    return outcomes


def allocation_delete(*, tenant: Tenant, credit_note_ref: str, allocation_id: str) -> dict[str, Any]:
    with unit_of_work(tenant) as ws:
        note = _existing(ws, CREDIT_NOTES, credit_note_ref)
        removed = settlement.allocation_remove(ws, note, allocation_id)
        if removed is None:
            raise NotFound(allocation_id)
    return removed


def contact_group_members_add(
    *, tenant: Tenant, group_ref: str, payloads: Sequence[Any], emit_events: bool = True
) -> list[dict[str, Any]]:
    """PUT /ContactGroups/{id}/Contacts: the contacts added (as {ContactID, Name})."""
    entity = ENTITIES["ContactGroups"]
    with unit_of_work(tenant, emit_events=emit_events) as ws:
        group = wire.clone(_existing(ws, entity, group_ref))
        outcomes: list[Outcome] = []
        for element in payloads:
            values, errors = read_element(MEMBER, element if isinstance(element, dict) else {})
            contact = (
                ws.get("Contacts", str(values.get("ContactID", ""))) if values.get("ContactID") else None
            )
            if contact is None:
                outcomes.append(Outcome(wire.clone(element), [*errors, "The contact could not be found."]))
                continue
            member = {"ContactID": contact["ContactID"], "Name": contact.get("Name", "")}
            if all(existing["ContactID"] != member["ContactID"] for existing in group["Contacts"]):
                group["Contacts"].append(member)
                contacts.contact_group_membership(ws, group, contact["ContactID"], member=True)
            outcomes.append(Outcome(member))
        if any(not outcome.ok for outcome in outcomes):
            raise ValidationFailed(outcomes)
        ws.put("ContactGroups", group)
    return [outcome.body for outcome in outcomes]


def contact_group_members_remove(*, tenant: Tenant, group_ref: str, contact_id: str | None = None) -> None:
    """DELETE /ContactGroups/{id}/Contacts[/{ContactID}]: one member, or all of them."""
    entity = ENTITIES["ContactGroups"]
    with unit_of_work(tenant) as ws:
        group = wire.clone(_existing(ws, entity, group_ref))
        leaving = [m for m in group["Contacts"] if contact_id is None or m["ContactID"] == contact_id]
        if contact_id is not None and not leaving:
            raise NotFound(contact_id)
        for member in leaving:
            contacts.contact_group_membership(ws, group, member["ContactID"], member=False)
        group["Contacts"] = [m for m in group["Contacts"] if m not in leaving]
        ws.put("ContactGroups", group)


def tracking_option_write(
    *, tenant: Tenant, category_ref: str, payloads: Sequence[Any], option_id: str | None = None
) -> list[dict[str, Any]]:
    """PUT /TrackingCategories/{id}/Options (option_id None) or POST …/Options/{option_id}."""
    with unit_of_work(tenant) as ws:
        return _tracking_options(ws, category_ref, payloads, option_id)


def _tracking_options(
    ws: Workspace, category_ref: str, payloads: Sequence[Any], option_id: str | None = None
) -> list[dict[str, Any]]:
    category = _existing(ws, TRACKING_CATEGORIES, category_ref)
    draft = Draft(ws=ws, entity=TRACKING_CATEGORIES, values={}, before=category, body=wire.clone(category))
    written: list[dict[str, Any]] = []
    for element in payloads:
        values, errors = read_element(TRACKING_OPTION, element if isinstance(element, dict) else {})
        draft.errors.extend(errors)
        option = organisation.tracking_option_write(draft, option_id, values)
        if option is None and option_id is not None and not draft.errors:
            raise NotFound(option_id)
        if option is not None:
            written.append(dict(option))
    if draft.errors:
        raise ValidationFailed([Outcome({"Options": list(payloads)}, draft.errors)])
    ws.put("TrackingCategories", draft.body)
    return written


def tracking_option_delete(*, tenant: Tenant, category_ref: str, option_id: str) -> dict[str, Any]:
    with unit_of_work(tenant) as ws:
        category = _existing(ws, TRACKING_CATEGORIES, category_ref)
        draft = Draft(
            ws=ws, entity=TRACKING_CATEGORIES, values={}, before=category, body=wire.clone(category)
        )
        option = organisation.tracking_option_delete(draft, option_id)
        if option is None:
            raise NotFound(option_id)
        ws.put("TrackingCategories", draft.body)
    return option


# --- reads -----------------------------------------------------------------------------------------------


@dataclass
class ListQuery:
    """A GET collection request's parameters, already parsed."""

    where: str | None = None
    order: str | None = None
    ids: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    contact_ids: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    include_archived: bool = False
    summary_only: bool = False
    search_term: str | None = None
    unitdp: int = 2
    page: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    modified_since: datetime | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class Page:
    items: list[str]  # JSON texts of the documents, in order
    pagination: dict[str, int] | None = None


def _with_case_variants(ids: Iterable[str]) -> list[str]:
    values = set()
    for value in ids:
        values.add(value)
        values.add(value.lower())
    return sorted(values)


def _filtered(entity: Entity, tenant: Tenant, query: ListQuery) -> QuerySet[XeroRecord]:
    records = XeroRecord.objects.filter(tenant=tenant, collection=entity.plural)
    if entity.hidden_statuses:
        records = records.exclude(status__in=entity.hidden_statuses)
    params = entity.list_params
    if entity.archived_statuses and not ("includeArchived" in params and query.include_archived):
        records = records.exclude(status__in=entity.archived_statuses)
    if "IDs" in params and query.ids:
        records = records.filter(record_id__in=_with_case_variants(query.ids))
    if "Statuses" in params and query.statuses:
        records = records.filter(status__in=query.statuses)
    if "ContactIDs" in params and query.contact_ids:
        records = records.filter(contact_id__in=_with_case_variants(query.contact_ids))
    if "InvoiceNumbers" in params and query.numbers:
        records = records.filter(number__in=query.numbers)
    if "Status" in params and query.status:
        records = records.filter(status=query.status)
    if "DateFrom" in params and query.date_from:
        records = records.filter(date__gte=query.date_from)
    if "DateTo" in params and query.date_to:
        records = records.filter(date__lte=query.date_to)
    if entity.modified_since and query.modified_since is not None:
        records = records.filter(updated_at__gt=query.modified_since)
    return records


def _searched(entity: Entity, body: dict[str, Any], term: str) -> bool:
    needle = term.lower()
    return any(needle in str(body.get(key) or "").lower() for key in entity.search_fields)


def render(entity: Entity, text: str, fine_units: bool, query: ListQuery, *, listing: bool) -> str:
    """A stored body as the request asked for it. Most rows are served exactly as stored."""
    summary = query.summary_only and "summaryOnly" in entity.list_params and entity.summary_omit
    view = listing and entity.list_view
    if not (fine_units or summary or view):
        return text
    return wire.encode(shaped(entity, wire.decode(text), query, listing=listing))


def shaped(entity: Entity, body: dict[str, Any], query: ListQuery, *, listing: bool) -> dict[str, Any]:
    if listing and entity.list_view is not None:
        body = entity.list_view(body)
    if query.summary_only and "summaryOnly" in entity.list_params:
        body = {key: value for key, value in body.items() if key not in entity.summary_omit}
    places = Decimal(1).scaleb(-query.unitdp)
    for path in entity.unit_paths:
        for container, key in unit_values(body, path):
            value = container.get(key)
            if isinstance(value, Decimal) and wire.places(value) > query.unitdp:
                container[key] = value.quantize(places, rounding=ROUND_HALF_UP)
    return body


def _bodies_in_order(ids: list[int]) -> list[tuple[str, bool]]:
    found: dict[int, tuple[str, bool]] = {}
    for start in range(0, len(ids), BULK_BATCH):
        chunk = ids[start : start + BULK_BATCH]
        found.update(
            (pk, (text, fine))
            for pk, text, fine in XeroRecord.objects.filter(id__in=chunk).values_list(
                "id", "body", "fine_units"
            )
        )
    return [found[pk] for pk in ids]


def records_list(*, tenant: Tenant, collection: str, query: ListQuery) -> Page:
    """GET /<collection>: filter, order and page, in SQL where the indexes allow, else over decoded bodies.

    Raises QueryParseError for a malformed `where` or `order`."""
    entity = ENTITIES[collection]
    defaults_ensure(tenant=tenant)
    params = entity.list_params
    records = _filtered(entity, tenant, query)
    columns = entity.columns()
    node = parse_where(query.where) if query.where and "where" in params else None
    exact = True
    if node is not None:
        condition, exact = to_q(node, columns)
        if condition is not None:
            records = records.filter(condition)
    terms = parse_order(query.order) if query.order and "order" in params else []
    sql_order = order_by_sql(terms, columns) if terms else [F("id").asc()]
    search = query.search_term if "searchTerm" in params and query.search_term else None
    size = query.page_size if entity.paged else None
    offset = (query.page - 1) * size if size else 0

    if entity.fallback is not None and not records.exists():
        bodies = entity.fallback(Workspace(tenant))
        return Page([wire.encode(body) for body in bodies])

    if exact and sql_order is not None and search is None:
        total = records.count() if size else 0
        ordered = records.order_by(*sql_order)
        window = ordered[offset : offset + size] if size else ordered
        if terms:
            # Sort narrow (column, id) rows, then fetch only the page's bodies: a sort that carries every
            # body along costs ten times more.
            rows = _bodies_in_order(list(window.values_list("id", flat=True)))
        else:
            rows = list(window.values_list("body", "fine_units"))
    else:
        decoded = [
            (text, fine, wire.decode(text))
            for text, fine in records.order_by("id")
            .values_list("body", "fine_units")
            .iterator(chunk_size=2000)
        ]
        if node is not None:
            decoded = [row for row in decoded if matches(node, row[2])]
        if search is not None:
            decoded = [row for row in decoded if _searched(entity, row[2], search)]
        if terms:
            decoded = sort_bodies(decoded, terms, lambda row: row[2])
        total = len(decoded)
        chosen = decoded[offset : offset + size] if size else decoded
        rows = [(text, fine) for text, fine, _ in chosen]
    items = [render(entity, text, fine, query, listing=True) for text, fine in rows]
    pagination = None
    if size:
        pagination = {
            "page": query.page,
            "pageSize": size,
            "pageCount": math.ceil(total / size),
            "itemCount": total,
        }
    return Page(items, pagination)


def record_get(*, tenant: Tenant, collection: str, ref: str, query: ListQuery | None = None) -> str | None:
    """GET /<collection>/{ref}: the document's JSON text, by id or (where Xero allows) business key."""
    entity = ENTITIES[collection]
    defaults_ensure(tenant=tenant)
    records = XeroRecord.objects.filter(tenant=tenant, collection=collection)
    if entity.hidden_statuses:
        records = records.exclude(status__in=entity.hidden_statuses)
    condition = Q(record_id=ref) | Q(record_id=ref.lower())
    if entity.lookup_by_number and not GUID.match(ref):
        condition |= Q(number=ref)
    row = records.filter(condition).order_by("id").values_list("body", "fine_units").first()
    if row is None:
        return None
    return render(entity, row[0], row[1], query or ListQuery(), listing=False)
