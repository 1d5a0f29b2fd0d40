"""Loading real QBO payloads into an emulated company.

Any response body shaped like Intuit's is understood: a single-object read (`{"Customer": {...},
"time": ...}`), a query response (`{"QueryResponse": {"Vendor": [...], ...}}`), a CDC response, a batch
response, and a delete answer (`{"Invoice": {"domain": "QBO", "status": "Deleted", "Id": "266"}}`, which
deletes what is stored under that Id). Every entity is stored exactly as given, so it comes back through
the API unchanged in every field Intuit owns: Id, SyncToken, MetaData, amounts to the digit (`337.50`
stays `337.50`), property order. Nothing is recomputed: a recording is the truth about its company."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sandbox.imports import ImportFailed, ImportReport
from sandbox.models import Tenant
from sandbox.qbo.api import services, wire
from sandbox.qbo.api.entities import ENTITIES

ENVELOPE_KEYS = frozenset(
    {"time", "startPosition", "maxResults", "totalCount", "bId", "warnings", "requestId"}
)


def entities_in(payload: Any) -> tuple[list[tuple[str, dict[str, Any]]], list[str]]:
    """The (entity type, body) pairs a response body carries, in order, and the types it carries that the
    sandbox does not emulate."""
    found: list[tuple[str, dict[str, Any]]] = []
    unknown: list[str] = []

    def take(holder: dict[str, Any], *, response: bool = True) -> None:
        for key, value in holder.items():
            if key in ENVELOPE_KEYS or key == "Fault":
                continue
            if key in ENTITIES:
                items = value if isinstance(value, list) else [value]
                found.extend((key, item) for item in items if isinstance(item, dict))
            elif response and key[:1].isupper() and isinstance(value, dict | list):
                unknown.append(key)

    if not isinstance(payload, dict):
        return found, unknown
    query = payload.get("QueryResponse")
    if isinstance(query, dict):
        take(query)
    for block in payload.get("CDCResponse") or []:
        for response in (block or {}).get("QueryResponse") or []:
            if isinstance(response, dict):
                take(response)
    for item in payload.get("BatchItemResponse") or []:
        if isinstance(item, dict):
            nested = item.get("QueryResponse")
            take(nested if isinstance(nested, dict) else item)
    if not {"QueryResponse", "CDCResponse", "BatchItemResponse"} & set(payload):
        # Only a response (it has a `time`) names other entity types; a request body's keys are properties.
        take(payload, response="time" in payload)
    return found, sorted(set(unknown))


def qbo_payload_import(*, tenant: Tenant, payload: Any) -> ImportReport:
    """Store every entity a decoded response body carries (decode with Decimal: `wire.decode`)."""
    found, unknown = entities_in(payload)
    report = ImportReport(skipped=[f"{name} (not emulated)" for name in unknown])
    # Consecutive entities of one type go in one bulk insert; order is kept (a create, then its delete).
    run: list[dict[str, Any]] = []
    run_entity: str | None = None
    for entity, body in [*found, ("", {})]:
        if entity != run_entity and run_entity is not None and run:
            stored = services.records_bulk_insert(tenant=tenant, entity=run_entity, bodies=run, replace=True)
            report.counts[run_entity] = report.counts.get(run_entity, 0) + stored
            run = []
        run_entity = entity
        if entity:
            run.append(body)
    return report


def qbo_file_import(*, tenant: Tenant, path: Path) -> ImportReport:
    try:
        payload = wire.decode(path.read_bytes())
    except (OSError, wire.BodyUnreadable) as error:
        raise ImportFailed(f"{path}: {error}") from error
    report = qbo_payload_import(tenant=tenant, payload=payload)
    if not report.counts:
        raise ImportFailed(f"{path}: no QBO entity payload in it")
    return report


def qbo_path_import(*, tenant: Tenant, path: Path) -> ImportReport:
    """A .json file, or every .json file of a directory in name order (files that hold no entity, such
    as faults, requests or OAuth documents, are reported as skipped)."""
    if path.is_file():
        return qbo_file_import(tenant=tenant, path=path)
    if not path.is_dir():
        raise ImportFailed(f"{path} is neither a file nor a directory")
    report = ImportReport()
    for file in sorted(path.glob("*.json")):
        try:
            report.merge(qbo_file_import(tenant=tenant, path=file))
        except ImportFailed as error:
            report.skipped.append(str(error))
    return report
