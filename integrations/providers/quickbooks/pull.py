"""How QuickBooks Online serves each entity family: field maps into the mirror, and its two ways of
listing.

A full pass reads each entity type with `SELECT * FROM <Entity> ORDERBY MetaData.LastUpdatedTime
STARTPOSITION n MAXRESULTS 1000`, one type after the other (name lists with `Active IN (true,false)`,
else QBO hides inactive ones). An incremental pass asks the change feed (`/cdc`) once for all the
family's types: changed objects come whole, deleted transactions as tombstones; it answers at most 1,000
objects, oldest changes first, so a full answer is followed by another from the latest change seen.
TaxRate and TaxCode have no change feed: they are small and always read whole.

Everything goes through python-quickbooks (`QuickBooks.query`, `change_data_capture`) on raw dicts,
decoded with exact decimals (`client.Session(exact=True)`): the SDK's object models would cost far more
CPU and turn amounts into floats. QBO sends no remaining-quota headers, so pages report no usage."""

from __future__ import annotations

from contextlib import closing
from datetime import UTC, datetime
from typing import Any

from core.jsontext import decode_with_items
from integrations.errors import ProviderError
from integrations.providers.base import AppCredentials, TokenSet
from integrations.providers.quickbooks import client
from integrations.providers.quickbooks.fields import _is_tombstone, _updated, qbo_datetime
from integrations.providers.quickbooks.maps import SOURCES
from integrations.providers.remote import (
    FamilySource,
    PulledPage,
    RemoteEntity,
)

__all__ = ["SOURCES", "pull_by_ids", "pull_page"]

PAGE_SIZE = 1000
# Intuit's change feed answers at most this many objects in all; a full answer may have more behind it.
CDC_CAP = 1000


# --- calls -----------------------------------------------------------------------------------------------
def _session(app: AppCredentials, tokens: TokenSet, realm_id: str) -> client.Session:
    return client.Session(app, tokens, realm_id, exact=True)


def _query(session: client.Session, select: str, action: str) -> dict[str, Any]:
    with session.translated(action):
        data = session.qb.query(select)
    response = data.get("QueryResponse") if isinstance(data, dict) else None
    if not isinstance(response, dict):
        raise ProviderError(f"QuickBooks answered {action} without a QueryResponse.")
    return response


def _with_texts(
    session: client.Session, entity: RemoteEntity, response: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[str] | None]:
    """The query's rows, and each row's exact text as received (read again from the response body the
    session kept: cheaper than writing every payload out anew, and byte for byte what QuickBooks sent)."""
    rows = response.get(entity.collection) or []
    last = session.last.response
    if last is None:
        return rows, None
    try:
        _, items = decode_with_items(last.content.decode("utf-8"), ("QueryResponse", entity.collection))
    except (ValueError, UnicodeDecodeError):
        return rows, None
    if len(items) != len(rows):
        return rows, None
    return [row for row, _ in items], [text for _, text in items]


def _active_clause(entity: RemoteEntity) -> str:
    # Name lists hide inactive ("deleted") entries unless asked for both.
    return "Active IN (true,false)" if entity.options.get("name_list") else ""


def _where(*clauses: str) -> str:
    present = [clause for clause in clauses if clause]
    return f" WHERE {' AND '.join(present)}" if present else ""


def _moment_text(moment: datetime) -> str:
    """`changedSince` to the second (earlier, never later, than asked), with an explicit offset."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def _list_page(session: client.Session, source: FamilySource, token: dict[str, Any]) -> PulledPage:
    index = int(token.get("entity", 0))
    start = int(token.get("start", 1))
    entity = source.entities[index]
    # A QBO query (not SQL) built from our own constants.
    select = (
        f"SELECT * FROM {entity.collection}{_where(_active_clause(entity))}"  # noqa: S608
        f" ORDERBY MetaData.LastUpdatedTime STARTPOSITION {start} MAXRESULTS {PAGE_SIZE}"
    )
    response = _query(session, select, f"listing {entity.collection} (from {start})")
    rows, raw = _with_texts(session, entity, response)
    following: dict[str, Any] | None
    if len(rows) >= PAGE_SIZE:
        following = {"entity": index, "start": start + len(rows)}
    elif index + 1 < len(source.entities):
        following = {"entity": index + 1, "start": 1}
    else:
        following = None
    return PulledPage(records=[(entity.remote_type, row) for row in rows], next=following, raw=raw)


def _changes_page(
    session: client.Session, source: FamilySource, since: datetime, token: dict[str, Any]
) -> PulledPage:
    changed_since = str(token.get("since") or _moment_text(since))
    names = [entity.collection for entity in source.entities]
    action = f"reading changes to {', '.join(names)} since {changed_since}"
    with session.translated(action):
        data = session.qb.change_data_capture(",".join(names), changed_since)
    answers = data.get("CDCResponse") if isinstance(data, dict) else None
    if not isinstance(answers, list):
        raise ProviderError(f"QuickBooks answered {action} without a CDCResponse.")
    by_name = {entity.collection: entity for entity in source.entities}
    records: list[tuple[str, dict[str, Any]]] = []
    tombstones: list[tuple[str, str]] = []
    latest: datetime | None = None
    count = 0
    for answer in answers:
        for response in (answer or {}).get("QueryResponse") or []:
            for name, rows in (response or {}).items():
                entity = by_name.get(name)
                if entity is None or not isinstance(rows, list):
                    continue  # startPosition, maxResults
                for row in rows:
                    count += 1
                    moment = _updated(row)
                    if moment is not None and (latest is None or moment > latest):
                        latest = moment
                    if _is_tombstone(row):
                        tombstones.append((entity.remote_type, str(row.get("Id"))))
                    else:
                        records.append((entity.remote_type, row))
    following: dict[str, Any] | None = None
    if count >= CDC_CAP:
        # Oldest changes first: more may follow the latest one seen. Going on from it repeats the
        # changes of that very second (unchanged, they cost no write) but loses none.
        current = qbo_datetime(changed_since)
        if latest is None or (current is not None and latest <= current):
            raise ProviderError(
                f"QuickBooks reported over {CDC_CAP} changes at {changed_since}: the change feed cannot "
                "be read past them; a full pass is needed."
            )
        following = {"since": _moment_text(latest)}
    return PulledPage(records=records, next=following, tombstones=tombstones)


def pull_page(
    *,
    app: AppCredentials,
    tokens: TokenSet,
    tenant_id: str,
    source: FamilySource,
    since: datetime | None,
    token: dict[str, Any] | None,
) -> PulledPage:
    with closing(_session(app, tokens, tenant_id)) as session:
        if since is None:
            return _list_page(session, source, token or {})
        return _changes_page(session, source, since, token or {})


def pull_by_ids(
    *, app: AppCredentials, tokens: TokenSet, tenant_id: str, entity: RemoteEntity, remote_ids: list[str]
) -> PulledPage:
    quoted = ",".join(
        "'" + remote_id.replace("\\", "\\\\").replace("'", "\\'") + "'" for remote_id in remote_ids
    )
    # A QBO query (not SQL); the ids are quoted and escaped above.
    select = (
        f"SELECT * FROM {entity.collection}{_where(f'Id IN ({quoted})', _active_clause(entity))}"  # noqa: S608
        f" MAXRESULTS {PAGE_SIZE}"
    )
    with closing(_session(app, tokens, tenant_id)) as session:
        response = _query(session, select, f"looking up {len(remote_ids)} {entity.collection}")
        rows, raw = _with_texts(session, entity, response)
    return PulledPage(records=[(entity.remote_type, row) for row in rows], next=None, raw=raw)
