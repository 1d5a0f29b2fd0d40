"""How Xero serves each entity family: field maps into the mirror, and the paging of its collections.

Paged collections (Contacts, Invoices, CreditNotes, Payments, ManualJournals, PurchaseOrders) are read
1,000 at a time ordered by `UpdatedDateUTC`, with `If-Modified-Since` for an incremental pass; Xero
reports deletions and voids as statuses on those, which bump the update time. The small lists (accounts,
tax rates, tracking categories, contact groups, items) are read whole on every run, so a record deleted
outright (an unused account, an item) is noticed at once. Responses are read raw
(`_preload_content=False`) and decoded with exact decimals: the SDK's own models would turn amounts into
floats and cost five times the CPU of the rest of the pull."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.jsontext import decode, decode_with_items
from integrations.errors import ProviderError
from integrations.providers.base import AppCredentials, TokenSet
from integrations.providers.remote import (
    FamilySource,
    LimitUsage,
    PulledPage,
    RemoteEntity,
)
from integrations.providers.xero import client
from integrations.providers.xero.maps import SOURCES

__all__ = ["SOURCES", "pull_by_ids", "pull_page"]

PAGE_SIZE = 1000

# The SDK method and the keyword arguments each collection takes.
_METHODS = {
    "Accounts": "get_accounts",
    "TaxRates": "get_tax_rates",
    "TrackingCategories": "get_tracking_categories",
    "ContactGroups": "get_contact_groups",
    "Contacts": "get_contacts",
    "Items": "get_items",
    "Invoices": "get_invoices",
    "CreditNotes": "get_credit_notes",
    "Payments": "get_payments",
    "PurchaseOrders": "get_purchase_orders",
    "ManualJournals": "get_manual_journals",
}
_SINGLE_METHODS = {"PurchaseOrders": ("get_purchase_order", "purchase_order_id")}


def _usage(headers: Mapping[str, str]) -> LimitUsage:
    def number(name: str) -> int | None:
        value = headers.get(name)
        try:
            return int(value) if value is not None else None
        except ValueError:
            return None

    return LimitUsage(
        minute_remaining=number("X-MinLimit-Remaining"), day_remaining=number("X-DayLimit-Remaining")
    )


def _get(
    app: AppCredentials, tokens: TokenSet, tenant_id: str, entity: RemoteEntity, action: str, **kwargs: Any
) -> tuple[dict[str, Any], list[tuple[Any, str]], LimitUsage]:
    """The decoded answer, each record of the collection with its exact text, and the limit headers."""
    method = _METHODS[entity.collection]
    if "unitdp" in entity.options:
        kwargs.setdefault("unitdp", entity.options["unitdp"])
    with client.SdkClient(app, client.sdk_token(tokens)) as sdk, client.translated(action):
        response = getattr(sdk.accounting(), method)(tenant_id, _preload_content=False, **kwargs)
        body = response.data
    try:
        data, items = decode_with_items(body.decode("utf-8"), (entity.collection,))
    except (ValueError, UnicodeDecodeError):
        raise ProviderError(f"Xero answered {action} with a body that is not JSON.") from None
    return data, items, _usage(response.headers)


def pull_page(
    *,
    app: AppCredentials,
    tokens: TokenSet,
    tenant_id: str,
    source: FamilySource,
    since: datetime | None,
    token: dict[str, Any] | None,
) -> PulledPage:
    token = token or {}
    index = int(token.get("entity", 0))
    entity = source.entities[index]
    page_number = int(token.get("page", 1))
    kwargs: dict[str, Any] = {}
    paged = bool(entity.options.get("paged"))
    if paged:
        kwargs |= {"page": page_number, "page_size": PAGE_SIZE, "order": "UpdatedDateUTC ASC"}
        if since is not None:
            kwargs["if_modified_since"] = since.astimezone(UTC)
    if entity.options.get("include_archived"):
        kwargs["include_archived"] = True
    data, items, usage = _get(
        app, tokens, tenant_id, entity, f"listing {entity.collection} (page {page_number})", **kwargs
    )
    pagination = data.get("pagination") or {}
    if "pageCount" in pagination:
        # Xero counts the pages: no empty page is asked for when the records fill the last one exactly.
        more = paged and page_number < int(pagination["pageCount"])
    else:
        more = paged and len(items) >= PAGE_SIZE
    if more:
        following: dict[str, Any] | None = {"entity": index, "page": page_number + 1}
    elif index + 1 < len(source.entities):
        following = {"entity": index + 1, "page": 1}
    else:
        following = None
    return PulledPage(
        records=[(entity.remote_type, row) for row, _ in items],
        raw=[text for _, text in items],
        next=following,
        total=pagination.get("itemCount") if page_number == 1 or pagination else None,
        usage=usage,
    )


def pull_by_ids(
    *, app: AppCredentials, tokens: TokenSet, tenant_id: str, entity: RemoteEntity, remote_ids: list[str]
) -> PulledPage:
    by = entity.options.get("by_ids", "where")
    action = f"looking up {len(remote_ids)} {entity.collection}"
    if by == "single":
        method, argument = _SINGLE_METHODS[entity.collection]
        records: list[tuple[str, dict[str, Any]]] = []
        for remote_id in remote_ids:
            try:
                with client.SdkClient(app, client.sdk_token(tokens)) as sdk, client.translated(action):
                    response = getattr(sdk.accounting(), method)(
                        tenant_id, **{argument: remote_id}, _preload_content=False
                    )
                    body = response.data
            except ProviderError as exc:
                if exc.details.get("http_status") == 404:
                    continue
                raise
            records += [(entity.remote_type, row) for row in decode(body).get(entity.collection) or []]
        return PulledPage(records=records, next=None, api_calls=len(remote_ids))
    kwargs: dict[str, Any] = {}
    if by == "IDs":
        kwargs["i_ds"] = remote_ids
    else:
        id_key = {"TaxRates": "TaxType"}.get(entity.collection, f"{entity.collection.removesuffix('s')}ID")
        if entity.collection == "TrackingCategories":
            id_key = "TrackingCategoryID"
        quoted = " OR ".join(
            f'{id_key}=="{remote_id}"' if id_key == "TaxType" else f'{id_key}==Guid("{remote_id}")'
            for remote_id in remote_ids
        )
        kwargs["where"] = quoted
    if entity.options.get("include_archived"):
        kwargs["include_archived"] = True
    if entity.options.get("paged"):
        kwargs |= {"page": 1, "page_size": PAGE_SIZE}
    _, items, usage = _get(app, tokens, tenant_id, entity, action, **kwargs)
    return PulledPage(
        records=[(entity.remote_type, row) for row, _ in items],
        raw=[text for _, text in items],
        next=None,
        usage=usage,
    )
