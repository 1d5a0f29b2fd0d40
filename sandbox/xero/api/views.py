"""HTTP for the emulated Xero Accounting API: parse, check scopes, call one service, answer as Xero does.

Three generic views serve every declared collection (`/X`, `/X/{ref}`); the sub-resources (credit note
allocations, contact group members, tracking options) have thin views of their own."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.utils import timezone
from django.utils.http import parse_http_date_safe

from sandbox.models import Tenant
from sandbox.xero.api import idempotency, services, wire
from sandbox.xero.api.engine import CREATE, UPDATE, UPSERT, NotFound, Outcome
from sandbox.xero.api.entities import BY_PATH, CREDIT_NOTES, ENTITIES, TRACKING_CATEGORIES
from sandbox.xero.api.entity import READ, WRITE, Entity
from sandbox.xero.api.services import ListQuery, ValidationFailed
from sandbox.xero.api.where import QueryParseError, comma_list
from sandbox.xero.auth import XeroCaller, problem_response
from sandbox.xero.gateway import xero_api_endpoint

NOT_FOUND = "The resource you're looking for cannot be found"
JSON = "application/json; charset=utf-8"


# --- responses -------------------------------------------------------------------------------------------


def _json(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text, status=status, content_type=JSON)


def not_found() -> HttpResponse:
    # Plain text, not JSON: Xero's 404 body (clients are known to trip on it; so must ours).
    return HttpResponse(NOT_FOUND, status=404, content_type="text/plain; charset=utf-8")


def _error(
    number: int, kind: str, message: str, elements: list[dict[str, Any]] | None = None
) -> HttpResponse:
    body: dict[str, Any] = {"ErrorNumber": number, "Type": kind, "Message": message}
    if elements is not None:
        body["Elements"] = elements
    return _json(wire.encode(body), status=400)


def validation_exception(outcomes: Sequence[Outcome]) -> HttpResponse:
    elements = [
        {**outcome.body, "ValidationErrors": [{"Message": message} for message in outcome.errors]}
        for outcome in outcomes
        if outcome.errors
    ]
    return _error(10, "ValidationException", "A validation exception occurred", elements)


def envelope(
    caller: XeroCaller, array_key: str, items: Sequence[str], pagination: dict[str, int] | None = None
) -> str:
    head: dict[str, Any] = {
        "Id": str(uuid.uuid4()),
        "Status": "OK",
        "ProviderName": caller.app.name,
        "DateTimeUTC": wire.envelope_datetime(wire.truncate_ms(timezone.now())),
    }
    if pagination is not None:
        head["pagination"] = pagination
    # Documents are spliced in as stored: a 1,000-invoice page is never decoded.
    return f"{wire.encode(head)[:-1]},{wire.encode(array_key)}:[{','.join(items)}]}}"


def _element(entity: Entity, outcome: Outcome, query: ListQuery) -> str:
    body = services.shaped(entity, wire.clone(outcome.body), query, listing=False)
    if outcome.warnings:
        body["Warnings"] = [{"Message": message} for message in outcome.warnings]
    if outcome.errors:
        body["ValidationErrors"] = [{"Message": message} for message in outcome.errors]
    body["StatusAttributeString"] = "ERROR" if outcome.errors else "OK"
    return wire.encode(body)


# --- request parsing -------------------------------------------------------------------------------------


def _tenant(caller: XeroCaller) -> Tenant:
    if caller.tenant is None:  # the gateway requires a tenant for every accounting endpoint
        raise NotFound("tenant")
    return caller.tenant


def _unitdp(request: HttpRequest) -> int:
    return 4 if request.GET.get("unitdp", "").strip() == "4" else 2


def _positive(request: HttpRequest, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.GET.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise QueryParseError(f"{name} must be a whole number") from None
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and {maximum}" if maximum is not None else ""
        raise QueryParseError(f"{name} must be between 1{limit}")
    return value


def _modified_since(request: HttpRequest) -> datetime | None:
    header = request.headers.get("If-Modified-Since", "").strip()
    if not header:
        return None
    try:
        return wire.parse_instant(header)
    except wire.PostDataInvalid:
        seconds = parse_http_date_safe(header)
        return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


def _list_query(request: HttpRequest) -> ListQuery:
    params = request.GET
    date_from = params.get("DateFrom")
    date_to = params.get("DateTo")
    try:
        day_from = wire.parse_day(date_from) if date_from else None
        day_to = wire.parse_day(date_to) if date_to else None
    except wire.PostDataInvalid as error:
        raise QueryParseError(str(error)) from None
    return ListQuery(
        where=params.get("where") or None,
        order=params.get("order") or None,
        ids=comma_list(params.get("IDs")),
        statuses=comma_list(params.get("Statuses")),
        contact_ids=comma_list(params.get("ContactIDs")),
        numbers=comma_list(params.get("InvoiceNumbers")),
        include_archived=wire.parse_bool(params.get("includeArchived")),
        summary_only=wire.parse_bool(params.get("summaryOnly")),
        search_term=params.get("searchTerm") or None,
        unitdp=_unitdp(request),
        page=_positive(request, "page", 1),
        page_size=_positive(request, "pageSize", services.DEFAULT_PAGE_SIZE, services.MAX_PAGE_SIZE),
        modified_since=_modified_since(request),
        status=params.get("Status") or None,
        date_from=day_from,
        date_to=day_to,
    )


def _payload(request: HttpRequest) -> Any:
    try:
        return wire.decode(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise wire.PostDataInvalid("The request body is not valid JSON.") from None


def _elements(payload: Any, array_key: str) -> list[Any]:
    """`{"<Plural>": [...]}`, or one bare object (PUT /Accounts, POST /Payments, option bodies)."""
    if isinstance(payload, dict) and array_key in payload:
        items = payload[array_key]
        if not isinstance(items, list):
            raise wire.PostDataInvalid(f"{array_key} must be an array.")
        return items
    if isinstance(payload, dict):
        return [payload]
    if isinstance(payload, list):
        return payload
    raise wire.PostDataInvalid("The request body must be a JSON object.")


# --- the write path: idempotency, one transaction, errors ------------------------------------------------


def _write(request: HttpRequest, caller: XeroCaller, work: Callable[[], str]) -> HttpResponse:
    """Run a write that answers 200 with JSON text, replaying it for a repeated Idempotency-Key."""
    try:
        key = idempotency.key_of(request)
    except idempotency.KeyInvalid:
        return _error(
            10, "ValidationException", "The Idempotency-Key must be at most 128 characters long.", []
        )
    request_fingerprint = idempotency.fingerprint(request)
    tenant = _tenant(caller)
    try:
        with transaction.atomic(using="sandbox"):
            if key is not None:
                stored = idempotency.recall(
                    app=caller.app, tenant=tenant, key=key, request_fingerprint=request_fingerprint
                )
                if stored is not None:
                    return _json(stored[1], status=stored[0])
            text = work()
            if key is not None:
                idempotency.remember(
                    app=caller.app,
                    tenant=tenant,
                    key=key,
                    request_fingerprint=request_fingerprint,
                    status=200,
                    body=text,
                )
    except idempotency.KeyReused:
        return _error(
            10,
            "ValidationException",
            "This Idempotency-Key has already been used with a different request.",
            [],
        )
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        if key is None:
            raise
        stored = idempotency.recall(
            app=caller.app, tenant=tenant, key=key, request_fingerprint=request_fingerprint
        )
        if stored is None:
            raise
        return _json(stored[1], status=stored[0])
    except ValidationFailed as failure:
        return validation_exception(failure.outcomes)
    except wire.PostDataInvalid as error:
        return _error(14, "PostDataInvalidException", str(error))
    except NotFound:
        return not_found()
    return _json(text)


def _denied(caller: XeroCaller, entity: Entity, access: str) -> HttpResponse | None:
    if caller.has_scope(*entity.scopes[access]):
        return None
    return problem_response(401, "AuthorizationUnsuccessful")


def _write_documents(
    request: HttpRequest, caller: XeroCaller, entity: Entity, mode: str, ref: str | None = None
) -> HttpResponse:
    denied = _denied(caller, entity, WRITE)
    if denied is not None:
        return denied
    query = ListQuery(unitdp=_unitdp(request))
    # Xero's default: one bad element fails the batch. summarizeErrors=false reports per element.
    summarize = wire.parse_bool(request.GET.get("summarizeErrors"), default=True)

    def work() -> str:
        elements = _elements(_payload(request), entity.array_key)
        if mode == UPDATE:
            if not elements:
                raise wire.PostDataInvalid(f"No {entity.singular} was given.")
            elements = elements[:1]
        outcomes = services.records_write(
            tenant=_tenant(caller),
            collection=entity.plural,
            elements=elements,
            mode=mode,
            ref=ref,
            summarize_errors=summarize,
            unitdp=query.unitdp,
        )
        return envelope(caller, entity.array_key, [_element(entity, outcome, query) for outcome in outcomes])

    return _write(request, caller, work)


# --- generic views ---------------------------------------------------------------------------------------


def _entity(plural: str) -> Entity | None:
    return BY_PATH.get(plural.lower())


@xero_api_endpoint()
def collection(request: HttpRequest, caller: XeroCaller, plural: str) -> HttpResponse:
    entity = _entity(plural)
    if entity is None:
        return not_found()
    allowed = ["GET"]
    if "create" in entity.verbs:
        allowed.append("PUT")
    if "upsert" in entity.verbs:
        allowed.append("POST")
    if request.method not in allowed:
        return HttpResponseNotAllowed(allowed)
    if request.method == "PUT":
        return _write_documents(request, caller, entity, CREATE)
    if request.method == "POST":
        return _write_documents(request, caller, entity, UPSERT)
    denied = _denied(caller, entity, READ)
    if denied is not None:
        return denied
    try:
        page = services.records_list(
            tenant=_tenant(caller), collection=entity.plural, query=_list_query(request)
        )
    except QueryParseError as error:
        return _error(16, "QueryParseException", str(error))
    return _json(envelope(caller, entity.array_key, page.items, page.pagination))


@xero_api_endpoint()
def document(request: HttpRequest, caller: XeroCaller, plural: str, ref: str) -> HttpResponse:
    entity = _entity(plural)
    if entity is None:
        return not_found()
    allowed = ["GET"]
    if "update" in entity.verbs:
        allowed.append("POST")
    if "delete" in entity.verbs:
        allowed.append("DELETE")
    if request.method not in allowed:
        return HttpResponseNotAllowed(allowed)
    if request.method == "POST":
        return _write_documents(request, caller, entity, UPDATE, ref)
    if request.method == "DELETE":
        return _delete(caller, entity, ref)
    denied = _denied(caller, entity, READ)
    if denied is not None:
        return denied
    text = services.record_get(
        tenant=_tenant(caller), collection=entity.plural, ref=ref, query=ListQuery(unitdp=_unitdp(request))
    )
    if text is None:
        return not_found()
    return _json(envelope(caller, entity.array_key, [text]))


def _delete(caller: XeroCaller, entity: Entity, ref: str) -> HttpResponse:
    denied = _denied(caller, entity, WRITE)
    if denied is not None:
        return denied
    try:
        body, removed = services.record_delete(tenant=_tenant(caller), collection=entity.plural, ref=ref)
    except NotFound:
        return not_found()
    except ValidationFailed as failure:
        return validation_exception(failure.outcomes)
    if removed:
        return HttpResponse(status=204)
    return _json(envelope(caller, entity.array_key, [wire.encode(body)]))


# --- sub-resources ---------------------------------------------------------------------------------------


@xero_api_endpoint()
def credit_note_allocations(request: HttpRequest, caller: XeroCaller, ref: str) -> HttpResponse:
    if request.method != "PUT":
        return HttpResponseNotAllowed(["PUT"])
    denied = _denied(caller, CREDIT_NOTES, WRITE)
    if denied is not None:
        return denied

    def work() -> str:
        allocations = services.allocations_create(
            tenant=_tenant(caller),
            credit_note_ref=ref,
            payloads=_elements(_payload(request), "Allocations"),
        )
        return envelope(caller, "Allocations", [wire.encode(allocation) for allocation in allocations])

    return _write(request, caller, work)


@xero_api_endpoint()
def credit_note_allocation(
    request: HttpRequest, caller: XeroCaller, ref: str, allocation_id: str
) -> HttpResponse:
    if request.method != "DELETE":
        return HttpResponseNotAllowed(["DELETE"])
    denied = _denied(caller, CREDIT_NOTES, WRITE)
    if denied is not None:
        return denied
    try:
        allocation = services.allocation_delete(
            tenant=_tenant(caller), credit_note_ref=ref, allocation_id=allocation_id
        )
    except NotFound:
        return not_found()
    # The SDK reads this one answer as a bare Allocation, not an envelope.
    return _json(wire.encode(allocation))


@xero_api_endpoint()
def contact_group_members(request: HttpRequest, caller: XeroCaller, ref: str) -> HttpResponse:
    entity = ENTITIES["ContactGroups"]
    if request.method not in ("PUT", "DELETE"):
        return HttpResponseNotAllowed(["PUT", "DELETE"])
    denied = _denied(caller, entity, WRITE)
    if denied is not None:
        return denied
    if request.method == "DELETE":
        try:
            services.contact_group_members_remove(tenant=_tenant(caller), group_ref=ref)
        except NotFound:
            return not_found()
        return HttpResponse(status=204)

    def work() -> str:
        members = services.contact_group_members_add(
            tenant=_tenant(caller), group_ref=ref, payloads=_elements(_payload(request), "Contacts")
        )
        return envelope(caller, "Contacts", [wire.encode(member) for member in members])

    return _write(request, caller, work)


@xero_api_endpoint()
def contact_group_member(request: HttpRequest, caller: XeroCaller, ref: str, contact_id: str) -> HttpResponse:
    if request.method != "DELETE":
        return HttpResponseNotAllowed(["DELETE"])
    denied = _denied(caller, ENTITIES["ContactGroups"], WRITE)
    if denied is not None:
        return denied
    try:
        services.contact_group_members_remove(tenant=_tenant(caller), group_ref=ref, contact_id=contact_id)
    except NotFound:
        return not_found()
    return HttpResponse(status=204)


@xero_api_endpoint()
def tracking_options(request: HttpRequest, caller: XeroCaller, ref: str) -> HttpResponse:
    if request.method != "PUT":
        return HttpResponseNotAllowed(["PUT"])
    denied = _denied(caller, TRACKING_CATEGORIES, WRITE)
    if denied is not None:
        return denied

    def work() -> str:
        options = services.tracking_option_write(
            tenant=_tenant(caller), category_ref=ref, payloads=_elements(_payload(request), "Options")
        )
        return envelope(caller, "Options", [wire.encode(option) for option in options])

    return _write(request, caller, work)


@xero_api_endpoint()
def tracking_option(request: HttpRequest, caller: XeroCaller, ref: str, option_id: str) -> HttpResponse:
    if request.method not in ("POST", "DELETE"):
        return HttpResponseNotAllowed(["POST", "DELETE"])
    denied = _denied(caller, TRACKING_CATEGORIES, WRITE)
    if denied is not None:
        return denied
    if request.method == "DELETE":
        try:
            option = services.tracking_option_delete(
                tenant=_tenant(caller), category_ref=ref, option_id=option_id
            )
        except NotFound:
            return not_found()
        return _json(envelope(caller, "Options", [wire.encode(option)]))

    def work() -> str:
        options = services.tracking_option_write(
            tenant=_tenant(caller),
            category_ref=ref,
            payloads=_elements(_payload(request), "Options")[:1],
            option_id=option_id,
        )
        return envelope(caller, "Options", [wire.encode(option) for option in options])

    return _write(request, caller, work)
