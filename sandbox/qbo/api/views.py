"""The emulated QBO v3 API over HTTP: parse the request, call one service or selector, wrap the answer in
Intuit's envelope (`{"<Entity>": ..., "time": ...}`, `{"QueryResponse": ...}`, `{"Fault": ...}`).

Every view goes through `@qbo_api_endpoint` (authentication, realm check). `requestid` replays and
`minorversion` (accepted, ignored: every version behaves as 75) are handled here, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sandbox.qbo.api import engine, faults, selectors, services, wire
from sandbox.qbo.api.entities import entity_named
from sandbox.qbo.api.entity import SINGLETON
from sandbox.qbo.api.services import Reply
from sandbox.qbo.auth import QboCaller
from sandbox.qbo.gateway import qbo_api_endpoint


def _respond(request: HttpRequest, caller: QboCaller, produce: Callable[[], str]) -> HttpResponse:
    reply = services.reply_run(tenant=caller.tenant, request_id=request.GET.get("requestid"), produce=produce)
    return _http(reply)


def _http(reply: Reply) -> HttpResponse:
    return HttpResponse(reply.text, status=reply.status, content_type=reply.content_type)


def _fault(fault: faults.QboFault) -> HttpResponse:
    return _http(services.fault_reply(fault))


def _time() -> str:
    return wire.envelope_time(timezone.now())


def _wrapped(key: str, inner: str) -> str:
    return f'{{"{key}":{inner},"time":"{_time()}"}}'


def _actor(caller: QboCaller) -> str:
    return caller.grant.user_email or engine.DEFAULT_ACTOR


def _body(request: HttpRequest) -> Any:
    try:
        return wire.decode(request.body or b"{}")
    except wire.BodyUnreadable as error:
        raise faults.unreadable_body(str(error)) from error


def _unsupported_path(request: HttpRequest) -> faults.QboFault:
    path = request.path
    relative = path[path.index("/v3/") :] if "/v3/" in path else path
    return faults.unsupported_path(relative, request.build_absolute_uri(path))


@qbo_api_endpoint
def query(request: HttpRequest, caller: QboCaller) -> HttpResponse:
    """GET ?query= or POST with the SELECT as a text body (what python-quickbooks sends)."""
    text = request.GET.get("query")
    if text is None and request.method == "POST":
        text = request.body.decode("utf-8", errors="replace")
    if request.method not in {"GET", "POST"}:
        return _fault(_unsupported_path(request))

    def produce() -> str:
        services.company_ensure(tenant=caller.tenant)
        return _wrapped("QueryResponse", selectors.query_run(tenant=caller.tenant, text=text or ""))

    return _respond(request, caller, produce)


@qbo_api_endpoint
def cdc(request: HttpRequest, caller: QboCaller) -> HttpResponse:
    if request.method != "GET":
        return _fault(_unsupported_path(request))

    def produce() -> str:
        services.company_ensure(tenant=caller.tenant)
        changes = selectors.cdc_run(
            tenant=caller.tenant,
            entities=request.GET.get("entities", ""),
            changed_since=request.GET.get("changedSince", ""),
            now=timezone.now(),
        )
        return _wrapped("CDCResponse", changes)

    return _respond(request, caller, produce)


@qbo_api_endpoint
def batch(request: HttpRequest, caller: QboCaller) -> HttpResponse:
    if request.method != "POST":
        return _fault(_unsupported_path(request))

    def produce() -> str:
        items = services.batch_run(tenant=caller.tenant, payload=_body(request), actor=_actor(caller))
        return _wrapped("BatchItemResponse", items)

    return _respond(request, caller, produce)


@qbo_api_endpoint
def preferences(request: HttpRequest, caller: QboCaller) -> HttpResponse:
    """GET /preferences reads the company's one Preferences; POST updates it (SyncToken, sparse or full)."""
    return _singleton(request, caller, "Preferences")


@qbo_api_endpoint
def entity_collection(request: HttpRequest, caller: QboCaller, segment: str) -> HttpResponse:
    """POST /{entity}: create, update (Id + SyncToken), `?operation=delete`, `?operation=void`, and
    `?operation=update&include=void`."""
    etype = entity_named(segment)
    if etype is None or request.method != "POST" or segment != etype.segment:
        return _fault(_unsupported_path(request))
    if etype.kind == SINGLETON:
        return _singleton(request, caller, etype.name)
    operation = request.GET.get("operation", "")
    include = frozenset(
        part.strip().lower() for part in request.GET.get("include", "").split(",") if part.strip()
    )
    tenant, actor = caller.tenant, _actor(caller)

    def produce() -> str:
        payload = _body(request)
        if operation == "delete":
            result = services.record_delete(tenant=tenant, entity=etype.name, payload=payload, actor=actor)
        elif (operation == "void" and not etype.void_by_include) or (
            operation == "update" and "void" in include and etype.void_by_include
        ):
            result = services.record_void(tenant=tenant, entity=etype.name, payload=payload, actor=actor)
        elif operation in {"", "create", "update"} and "void" not in include:
            result = services.record_save(
                tenant=tenant,
                entity=etype.name,
                payload=payload,
                include=include,
                actor=actor,
                update_only=operation == "update",
            )
        else:
            raise faults.unsupported(f"Operation {operation} is not supported for {etype.name}.")
        return _wrapped(etype.name, wire.encode(result))

    return _respond(request, caller, produce)


@qbo_api_endpoint
def entity_item(request: HttpRequest, caller: QboCaller, segment: str, record_id: str) -> HttpResponse:
    """GET /{entity}/{id}; CompanyInfo is read by the company's realm id."""
    etype = entity_named(segment)
    if etype is None or request.method != "GET" or segment != etype.segment or etype.name == "Preferences":
        return _fault(_unsupported_path(request))
    if etype.name == "CompanyInfo" and record_id == caller.tenant.tenant_id:
        record_id = engine.SINGLETON_ID
    try:
        record_id = engine.parse_id(record_id)
    except faults.QboFault as fault:
        return _fault(fault)

    def produce() -> str:
        services.company_ensure(tenant=caller.tenant)
        body = selectors.record_read(tenant=caller.tenant, entity=etype.name, record_id=record_id)
        return _wrapped(etype.name, body)

    return _respond(request, caller, produce)


@qbo_api_endpoint
def unsupported(request: HttpRequest, caller: QboCaller, rest: str = "") -> HttpResponse:
    """Any other path: Intuit's 500 "Unsupported Operation" fault."""
    return _fault(_unsupported_path(request))


def _singleton(request: HttpRequest, caller: QboCaller, entity: str) -> HttpResponse:
    tenant, actor = caller.tenant, _actor(caller)
    if request.method == "GET" and entity == "Preferences":

        def read() -> str:
            services.company_ensure(tenant=tenant)
            return _wrapped(entity, selectors.record_read(tenant=tenant, entity=entity, record_id="1"))

        return _respond(request, caller, read)
    if request.method != "POST" or request.GET.get("operation") not in (None, "", "update"):
        return _fault(_unsupported_path(request))

    def update() -> str:
        result = services.record_save(tenant=tenant, entity=entity, payload=_body(request), actor=actor)
        return _wrapped(entity, wire.encode(result))

    return _respond(request, caller, update)
