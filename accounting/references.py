"""References between mirror families, declared on the family (`Family.references`) and resolved both ways.

A record (or one of its child rows) names another family's record by the ledger's id: a document its
contact, a line its account and item. Applying ledger records turns those remote ids into mirror rows
(`reference_resolve`, `references_fill`); a push building a payload turns mirror rows back into the
ledger's ids (`reference_remote_ids`). A record may arrive before what it names (a first sync, a webhook
read), so a family whose records are named declares `referrers_link` as a hook run after its passes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import OuterRef, Subquery

if TYPE_CHECKING:
    from accounting.families import Family
    from accounting.models import MirrorRecord
    from integrations.models import Connection

Key = tuple[str, str]


@dataclass(frozen=True)
class Reference:
    """One column pair naming a record of `family` by the ledger's id.

    `remote_id_field` holds the target's remote id; `remote_type_field`, where the record keeps it, the
    target's remote type (QBO Customer and Vendor ids overlap), else any of the target family's types
    matches. `fk_field` is the mirror foreign key the engine fills from it ("" where the mirror keeps the
    remote id only). `child` names the child rows (`Child.key`) that carry the reference, "" for the
    record itself."""

    key: str
    family: str
    remote_id_field: str
    remote_type_field: str = ""
    fk_field: str = ""
    child: str = ""


def _target(reference: Reference) -> type[MirrorRecord]:
    # The families declare their references with this module's types, so the table is read at call time.
    from accounting.families import FAMILIES

    return FAMILIES[reference.family].model


def reference_resolve(*, connection: Connection, reference: Reference, keys: Iterable[Key]) -> dict[Key, int]:
    """The mirror ids of the targets named by (remote type, remote id). A reference that keeps no remote
    type names its targets with type "" and matches any of the family's; one that keeps it matches it
    exactly. Targets not mirrored (yet) are absent."""
    wanted = {key for key in keys if key[1]}
    if not wanted:
        return {}
    rows = _target(reference)._default_manager.filter(
        connection=connection, remote_id__in={remote_id for _, remote_id in wanted}
    )
    typed = bool(reference.remote_type_field)
    if typed:
        rows = rows.filter(remote_type__in={remote_type for remote_type, _ in wanted})
    found: dict[Key, int] = {}
    for remote_type, remote_id, pk in rows.values_list("remote_type", "remote_id", "pk"):
        key = (remote_type if typed else "", remote_id)
        if key in wanted:
            found.setdefault(key, pk)
    return found


def reference_remote_ids(
    *, connection: Connection, reference: Reference, ids: Iterable[int]
) -> dict[int, Key]:
    """The other way: the ledger's (remote type, remote id) of mirror targets, for a payload naming them."""
    return {
        pk: (remote_type, remote_id)
        for pk, remote_type, remote_id in _target(reference)
        ._default_manager.filter(connection=connection, pk__in=list(ids))
        .values_list("pk", "remote_type", "remote_id")
    }


def references_fill(*, connection: Connection, family: Family, records: Sequence[dict[str, Any]]) -> None:
    """Set the foreign keys of the family's record-level references on row dicts about to be written
    (None where the target is not mirrored yet: `referrers_link` fills it when it arrives)."""
    for reference in family.references:
        if not reference.fk_field or reference.child:
            continue
        type_field, id_field = reference.remote_type_field, reference.remote_id_field

        def key(record: dict[str, Any], type_field: str = type_field, id_field: str = id_field) -> Key:
            return (record.get(type_field, "") if type_field else "", record.get(id_field, ""))

        found = reference_resolve(
            connection=connection, reference=reference, keys=(key(record) for record in records)
        )
        attname = f"{reference.fk_field}_id"
        for record in records:
            record[attname] = found.get(key(record))


def referrers_link(*, connection: Connection, family: Family) -> None:
    """Records of other families that arrived before the `family` record they name: link them now."""
    from accounting.families import FAMILIES

    for referrer in FAMILIES.values():
        for reference in referrer.references:
            if reference.family != family.key or not reference.fk_field or reference.child:
                continue
            match: dict[str, Any] = {
                "connection_id": OuterRef("connection_id"),
                "remote_id": OuterRef(reference.remote_id_field),
            }
            if reference.remote_type_field:
                match["remote_type"] = OuterRef(reference.remote_type_field)
            target = family.model._default_manager.filter(**match).values("pk")[:1]
            referrer.model._default_manager.filter(
                connection=connection, **{f"{reference.fk_field}__isnull": True}
            ).exclude(**{reference.remote_id_field: ""}).update(**{reference.fk_field: Subquery(target)})
