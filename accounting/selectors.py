"""Reads of the mirror beyond one family's own rows: which document another was made from (a bill's
purchase order) and which were made from it (an order's bills), by the one rule `DocumentLink` declares."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from accounting.families import FAMILIES, DocumentLink, Family, links_to
from accounting.models.documents import Document

# What a linked document's summary shows.
SUMMARY_FIELDS = ("id", "remote_id", "number", "status", "total")


def linked_target_get(*, link: DocumentLink, source: Document) -> dict[str, Any] | None:
    """The summary of the document `source` was made from (one query), or None: it has none, or that one is
    not mirrored (or deleted in the ledger). The ledger's own link, when there is one, is not second-guessed
    by the reference."""
    target_model: Any = FAMILIES[link.target].model  # a document family (number, reference, contact)
    targets = target_model._default_manager.filter(connection_id=source.connection_id, remote_deleted=False)
    remote_id = getattr(source, link.remote_id_field)
    if remote_id:
        targets = targets.filter(remote_id=remote_id)
    else:
        targets = targets.filter(number=source.reference, contact_remote_id=source.contact_remote_id).exclude(
            number=""
        )
    return targets.order_by("pk").values(*SUMMARY_FIELDS).first()


def linked_sources_list(*, link: DocumentLink, family: Family, target: Document) -> list[dict[str, Any]]:
    """Summaries of the documents of `family` made from `target` (one query), oldest first: those that
    link it by id, and those without such a link that quote its number as their reference."""
    made_from = Q(**{link.remote_id_field: target.remote_id})
    if target.number:
        made_from |= Q(
            **{link.remote_id_field: ""}, reference=target.number, contact_remote_id=target.contact_remote_id
        )
    sources = family.model._default_manager.filter(
        made_from, connection_id=target.connection_id, remote_deleted=False, **dict(link.scope)
    )
    order = [family.date_field, "pk"] if family.date_field else ["pk"]
    return list(sources.order_by(*order).values(*SUMMARY_FIELDS))


def document_links_get(*, family: Family, record: Any) -> dict[str, Any]:
    """Every link a document's detail shows, by the detail's field: what it was made from (None when
    nothing) and what was made from it. One query per link that can apply to the record."""
    links: dict[str, Any] = {}
    for link in family.links:
        if link.covers({name: getattr(record, name) for name, _ in link.scope}):
            links[link.key] = linked_target_get(link=link, source=record)
    for source_family, link in links_to(family):
        links[link.reverse_key] = linked_sources_list(link=link, family=source_family, target=record)
    return links
