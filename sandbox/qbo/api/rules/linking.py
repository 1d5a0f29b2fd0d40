"""Documents made from other documents: a Bill whose lines are copied from a PurchaseOrder's.

How QBO links them (Intuit's linked-transactions support since minor version 38: "Bill | Purchase Order |
Transaction level link", "Bill | Purchase Order | Line level link", "Purchase Order | Bill | Transaction
level link"):

- Each copied line of the bill names the line it copies: `Line[].LinkedTxn [{TxnId, TxnType:
  "PurchaseOrder", TxnLineId}]`; all three are needed. A header `LinkedTxn` sent by the client links
  nothing (it is QBO's to write), and a line link QBO cannot make (an unknown or deleted order, another
  vendor's, a line the order does not have, an order already closed) is dropped, the bill still saved.
- The bill's own `LinkedTxn` then lists each order once (`{TxnId, TxnType: "PurchaseOrder"}`), before the
  payments QBO adds there; the order's `LinkedTxn` gets the bill back (`{TxnId, TxnType: "Bill"}`) with a
  new SyncToken.
- An order every line of which is billed is closed (`POStatus` Closed); when it stops being fully billed
  (the bill deleted, or its lines unlinked) it is open again. An order closed by hand stays closed.

An entity type declares the types its lines may copy (`EntityType.line_sources`); the source type declares
its open and closed status (`EntityType.fulfilment`)."""

from __future__ import annotations

from typing import Any

from sandbox.qbo.api import wire
from sandbox.qbo.api.entity import Draft, EntityType, stamp_updated
from sandbox.qbo.api.workspace import Workspace, entity_type

Source = tuple[str, str]  # (entity type, Id)


def _ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


def _line_ids(body: dict[str, Any]) -> list[str]:
    return [str(line["Id"]) for line in body.get("Line") or [] if isinstance(line, dict) and line.get("Id")]


def _line_links(etype: EntityType, body: dict[str, Any] | None) -> list[tuple[Source, str]]:
    """((source type, source Id), source line Id) of every line link of `body` to a source type."""
    found = []
    for line in (body or {}).get("Line") or []:
        for link in (line.get("LinkedTxn") or []) if isinstance(line, dict) else []:
            if isinstance(link, dict) and link.get("TxnType") in etype.line_sources:
                found.append(((str(link["TxnType"]), str(link.get("TxnId"))), str(link.get("TxnLineId"))))
    return found


def sources_of(etype: EntityType, body: dict[str, Any] | None) -> list[Source]:
    """The documents `body`'s lines copy, each once, in the order of the lines."""
    return list(dict.fromkeys(source for source, _ in _line_links(etype, body)))


def line_links(draft: Draft) -> None:
    """Hook: keep the line links QBO can make, in its shape ({TxnId, TxnType, TxnLineId} as strings)."""
    etype, body, ws = draft.etype, draft.body, draft.ws
    party_ref = etype.party[1] if etype.party else None
    party = _ref_value(body.get(party_ref)) if party_ref else None
    held = set(_line_links(etype, draft.before))
    for line in body.get("Line") or []:
        links = line.get("LinkedTxn") if isinstance(line, dict) else None
        if not isinstance(links, list):
            continue
        kept = []
        for link in links:
            if not isinstance(link, dict) or link.get("TxnType") not in etype.line_sources:
                kept.append(link)
                continue
            source = (str(link["TxnType"]), str(link.get("TxnId") or ""))
            line_id = str(link.get("TxnLineId") or "")
            found = ws.get(*source) if source[1] else None
            if found is None or not line_id or line_id not in _line_ids(found):
                continue
            # The order is the same vendor's (it names its party under the same property as the bill).
            if party_ref and _ref_value(found.get(party_ref)) != party:
                continue
            source_type = entity_type(source[0])
            if (source, line_id) not in held and _closed(source_type, found):
                continue
            kept.append({"TxnId": source[1], "TxnType": source[0], "TxnLineId": line_id})
        if kept:
            line["LinkedTxn"] = kept
        else:
            line.pop("LinkedTxn", None)


def header_links(draft: Draft) -> None:
    """The document's own LinkedTxn: each source its lines copy, then the links QBO keeps there already
    (payments). Runs after the engine has restored the LinkedTxn a client may not write."""
    etype, body = draft.etype, draft.body
    if not etype.line_sources:
        return
    kept = [link for link in body.get("LinkedTxn") or [] if link.get("TxnType") not in etype.line_sources]
    body["LinkedTxn"] = [
        {"TxnId": source_id, "TxnType": source_type} for source_type, source_id in sources_of(etype, body)
    ] + kept


def _closed(source_type: EntityType, body: dict[str, Any]) -> bool:
    if source_type.fulfilment is None:
        return False
    field, _, closed = source_type.fulfilment
    return body.get(field) == closed


def _fully_linked(ws: Workspace, source: Source, body: dict[str, Any], documents: dict[Source, Any]) -> bool:
    """Whether every line of the source is copied by a line of one of the documents linked to it."""
    wanted = set(_line_ids(body))
    if not wanted:
        return False
    copied: set[str] = set()
    for link in body.get("LinkedTxn") or []:
        key = (str(link.get("TxnType")), str(link.get("TxnId")))
        document = documents[key] if key in documents else ws.get(*key)
        if document is None:
            continue
        for linked, line_id in _line_links(entity_type(key[0]), document):
            if linked == source:
                copied.add(line_id)
    return wanted <= copied


def link_back(
    ws: Workspace, etype: EntityType, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    """After a write of a document (`after` None: deleted): each source it copies, or copied before, gets
    the document back in its LinkedTxn (or loses it), and is closed when fully copied, reopened when it no
    longer is."""
    if not etype.line_sources:
        return
    now = set(sources_of(etype, after))
    document = after or before or {}
    key = (etype.name, str(document.get("Id")))
    for source in dict.fromkeys([*sources_of(etype, before), *sources_of(etype, after)]):
        found = ws.current(*source)
        if found is None or found[1]:
            continue
        target = found[0]
        source_type = entity_type(source[0])
        held = target.get("LinkedTxn") or []
        present = any((str(link.get("TxnType")), str(link.get("TxnId"))) == key for link in held)
        links = [
            link
            for link in held
            if source in now or (str(link.get("TxnType")), str(link.get("TxnId"))) != key
        ]
        if source in now and not present:
            links.append({"TxnId": key[1], "TxnType": key[0]})
        updated = wire.clone(target)
        updated["LinkedTxn"] = links
        if source_type.fulfilment is not None:
            field, opened, closed = source_type.fulfilment
            was_full = _fully_linked(ws, source, target, {key: before})
            is_full = _fully_linked(ws, source, updated, {key: after})
            if is_full:
                updated[field] = closed
            elif was_full and target.get(field) == closed:
                updated[field] = opened
        if not links and "LinkedTxn" not in target:
            updated.pop("LinkedTxn")
        if updated == target:
            continue
        stamp_updated(updated, target, ws.now)
        ws.put(source[0], updated, event="Update")
