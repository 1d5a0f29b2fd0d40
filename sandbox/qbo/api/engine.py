"""The generic write engine: create, full and sparse update, delete and void of any entity type, driven by
its declaration. The order of one write:

    known properties (2010) → locate + SyncToken (2030, 610, 5010) → merge (sparse or full) → required
    (2020) → the type's hooks → references (610) → unique name (6240) → DocNumber (6140) → open balance
    → the sources its lines copy → unchanged? return as is → stamp (Id, SyncToken, MetaData) → stage →
    settle linked documents → move the party's Balance → link back to (and close) the sources.

Every fault is raised before the caller's workspace savepoint is released, so a failed write leaves no
trace."""

from __future__ import annotations

from typing import Any

from sandbox.qbo.api import faults, wire
from sandbox.qbo.api.entity import (
    NAME_LIST,
    SINGLETON,
    SYSTEM_FIELDS,
    Draft,
    EntityType,
    stamp_created,
    stamp_updated,
    touched,
)
from sandbox.qbo.api.rules import company, linking, settlement
from sandbox.qbo.api.workspace import Workspace, entity_type, fold

DEFAULT_ACTOR = "Sandbox User"
SINGLETON_ID = "1"
_COMPARE_SKIP = frozenset({"SyncToken", "MetaData", "sparse", "domain"})


def clean(value: Any) -> Any:
    """Drop what python-quickbooks sends for unset attributes ("", null, []): Intuit treats them as absent."""
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            item = clean(item)
            if item is None or item == "" or item == []:
                continue
            result[key] = item
        return result
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


def check_properties(etype: EntityType, payload: dict[str, Any]) -> None:
    for key in payload:
        if key not in etype.properties:
            raise faults.unknown_property(key, etype.name, sorted(etype.properties))


def parse_id(value: Any) -> str:
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit():
        raise faults.invalid_id(text)
    return str(int(text))


def locate(ws: Workspace, etype: EntityType, payload: dict[str, Any], *, actor: str) -> dict[str, Any]:
    """The entity a write names by Id, checked against the SyncToken the client holds."""
    raw_id = payload.get("Id")
    if etype.kind == SINGLETON and raw_id in (None, ""):
        raw_id = SINGLETON_ID
    if raw_id in (None, ""):
        raise faults.required_missing("Id")
    record_id = parse_id(raw_id)
    found = ws.current(etype.name, record_id)
    if found is None or found[1]:
        raise faults.object_not_found()
    before = found[0]
    token = payload.get("SyncToken")
    if token is None or token == "":
        raise faults.required_missing("SyncToken")
    if str(token).strip() != str(before.get("SyncToken", "0")):
        raise faults.stale_object(actor)
    return before


def _writable(etype: EntityType) -> None:
    if not etype.writable:
        raise faults.unsupported(f"Operation Create/Update is not supported for {etype.name}.")


def save(
    ws: Workspace,
    etype: EntityType,
    payload: Any,
    *,
    include: frozenset[str] = frozenset(),
    actor: str = DEFAULT_ACTOR,
    creating: bool | None = None,
) -> dict[str, Any]:
    """Create (no Id) or update (Id + SyncToken; `"sparse": true` changes only what is sent)."""
    _writable(etype)
    if not isinstance(payload, dict):
        raise faults.unreadable_body(f"a {etype.name} must be a JSON object")
    check_properties(etype, payload)
    has_id = payload.get("Id") not in (None, "")
    if creating is None:
        creating = not has_id and etype.kind != SINGLETON
    before = None if creating else locate(ws, etype, payload, actor=actor)
    given = clean({key: value for key, value in payload.items() if key not in SYSTEM_FIELDS})
    writable = {key: value for key, value in given.items() if key not in etype.managed}
    sparse = payload.get("sparse") is True or str(payload.get("sparse")).lower() == "true"
    if before is None:
        body = {**wire.clone(etype.defaults), **writable}
        record_id = str(ws.next_value(etype.id_sequence))
    elif sparse:
        body = wire.clone(before)
        body.update(writable)
        record_id = str(before["Id"])
    else:
        keep = etype.managed | etype.sticky | SYSTEM_FIELDS
        body = {
            key: wire.clone(value) for key, value in before.items() if key in keep and key not in writable
        }
        for key, value in etype.defaults.items():
            body.setdefault(key, wire.clone(value))
        body.update(writable)
        record_id = str(before["Id"])
    body["Id"] = record_id
    for key in etype.required:
        if body.get(key) in (None, "", [], {}):
            raise faults.required_missing(key)
    draft = Draft(
        ws=ws, etype=etype, given=writable, before=before, body=body, sparse=sparse, include=include
    )
    for hook in etype.hooks:
        hook(draft)
    body = draft.body
    resolve_refs(draft)
    _unique_name(ws, etype, body)
    _doc_number(draft)
    settlement.open_balance(draft)
    linking.header_links(draft)
    if before is not None and _unchanged(before, body):
        return before
    if before is None:
        body = stamp_created(body, record_id, ws.now)
        event = "Create"
    else:
        body = stamp_updated(body, before, ws.now)
        deactivated = (
            etype.kind == NAME_LIST and before.get("Active") is not False and body.get("Active") is False
        )
        event = "Delete" if deactivated else "Update"
    ws.put(etype.name, body, event=event)
    settlement.settle(ws, etype, before, body)
    settlement.party_effects(ws, etype, before, body)
    linking.link_back(ws, etype, before, body)
    return body


def delete(ws: Workspace, etype: EntityType, payload: Any, *, actor: str = DEFAULT_ACTOR) -> dict[str, Any]:
    """`?operation=delete`: transactions only. A tombstone stays for CDC; a second delete answers 610."""
    if not etype.deletable:
        raise faults.unsupported(f"Operation Delete is not supported for {etype.name}.")
    if not isinstance(payload, dict):
        raise faults.unreadable_body(f"a {etype.name} must be a JSON object")
    check_properties(etype, payload)
    before = locate(ws, etype, payload, actor=actor)
    if settlement.applied_to(etype, before) != 0:
        raise faults.business_rule(
            f"This {etype.name} has payments applied to it. Delete or change those payments first."
        )
    ws.put(etype.name, touched(wire.clone(before), ws.now), deleted=True, event="Delete")
    settlement.settle(ws, etype, before, None)
    settlement.party_effects(ws, etype, before, None)
    linking.link_back(ws, etype, before, None)
    return tombstone(etype, str(before["Id"]))


def void(ws: Workspace, etype: EntityType, payload: Any, *, actor: str = DEFAULT_ACTOR) -> dict[str, Any]:
    """Invoice `?operation=void`; Payment, BillPayment, SalesReceipt `?operation=update&include=void`."""
    if etype.void is None:
        raise faults.unsupported(f"Operation Void is not supported for {etype.name}.")
    if not isinstance(payload, dict):
        raise faults.unreadable_body(f"a {etype.name} must be a JSON object")
    check_properties(etype, payload)
    before = locate(ws, etype, payload, actor=actor)
    if settlement.applied_to(etype, before) != 0:
        raise faults.business_rule(
            f"This {etype.name} has payments applied to it. Delete or change those payments first."
        )
    draft = Draft(ws=ws, etype=etype, given={}, before=before, body=wire.clone(before))
    etype.void(draft)
    body = draft.body
    if _unchanged(before, body):
        return before
    body = stamp_updated(body, before, ws.now)
    ws.put(etype.name, body, event="Void")
    settlement.settle(ws, etype, before, body)
    settlement.party_effects(ws, etype, before, body)
    linking.link_back(ws, etype, before, body)
    return body


def tombstone(etype: EntityType, record_id: str) -> dict[str, Any]:
    return {"domain": "QBO", "status": "Deleted", "Id": record_id}


def _unchanged(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """QBO leaves an entity alone (same SyncToken, same LastUpdatedTime) when an update changes nothing."""
    keys = (set(before) | set(after)) - _COMPARE_SKIP
    return all(before.get(key) == after.get(key) for key in keys)


# --- references, names, numbers ---------------------------------------------------------------------------


def _holders(container: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    """(object holding the reference, its key) for every place a path reaches; lists are walked."""
    current: list[Any] = [container]
    for part in path[:-1]:
        following: list[Any] = []
        for item in current:
            value = item.get(part) if isinstance(item, dict) else None
            if isinstance(value, list):
                following.extend(value)
            elif isinstance(value, dict):
                following.append(value)
        current = following
    return [(item, path[-1]) for item in current if isinstance(item, dict) and path[-1] in item]


def resolve_refs(draft: Draft) -> None:
    """Every reference must name an active object (else 610), and carries its name as QBO writes it."""
    for rule in draft.etype.refs:
        for holder, key in _holders(draft.body, rule.path):
            ref = holder[key]
            value = ref.get("value") if isinstance(ref, dict) else ref
            if value is None or value == "":
                raise faults.required_missing(".".join(rule.path) + ".value")
            value = str(value)
            if value in rule.pseudo:
                holder[key] = {"value": value}
                continue
            target = rule.target if isinstance(rule.target, str) else rule.target(holder)
            if target is None:
                continue
            found = draft.lookup(target, value, element=rule.path[-1])
            resolved: dict[str, Any] = {"value": value}
            name_field = entity_type(target).ref_name
            if name_field and isinstance(found.get(name_field), str):
                resolved["name"] = found[name_field]
            if isinstance(ref, dict):
                resolved.update((k, v) for k, v in ref.items() if k not in {"value", "name"})
            holder[key] = resolved


def _unique_name(ws: Workspace, etype: EntityType, body: dict[str, Any]) -> None:
    if not etype.name_field:
        return
    full_name = body.get("FullyQualifiedName") or body.get(etype.name_field)
    name_key = fold(full_name) if isinstance(full_name, str) else None
    if not name_key:
        return
    own = (etype.name, str(body["Id"]))
    if any(key != own for key in ws.holders_of_name(etype.name_scope or (etype.name,), name_key)):
        raise faults.duplicate_name()


def _doc_number(draft: Draft) -> None:
    etype, body, ws = draft.etype, draft.body, draft.ws
    sequence = f"doc:{etype.name}"
    doc_number = body.get("DocNumber")
    if etype.auto_doc_number:
        if doc_number in (None, ""):
            if draft.creating and not company.custom_txn_numbers(ws.get("Preferences", SINGLETON_ID)):
                # Intuit numbers each document type on its own, from 1001 upwards.
                body["DocNumber"] = str(ws.next_value(sequence, floor=1000))
                return
        elif str(doc_number).isdigit() and len(str(doc_number)) < 15:
            ws.bump_counter(sequence, int(str(doc_number)))
    if doc_number in (None, ""):
        return
    body["DocNumber"] = doc_number = str(doc_number)
    if not etype.unique_doc_number or "allowduplicatedocnum" in draft.include:
        return
    if draft.before is not None and str(draft.before.get("DocNumber")) == doc_number:
        return
    own = (etype.name, str(body["Id"]))
    for holder in ws.holders_of_doc_number(etype.name, doc_number):
        if holder != own:
            raise faults.duplicate_doc_number(doc_number, etype.name, holder[1])
