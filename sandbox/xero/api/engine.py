"""The generic write engine: one input element through the entity's schema, the lookup of what it updates,
the lifecycle, the entity's build hook, automatic numbering and unique keys, into the workspace."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.xero.api import wire
from sandbox.xero.api.entity import Draft, Entity
from sandbox.xero.api.schema import read_element
from sandbox.xero.api.workspace import Workspace

ZERO_GUID = "00000000-0000-0000-0000-000000000000"
CREATE, UPSERT, UPDATE = "create", "upsert", "update"


class NotFound(Exception):
    """The document a path names does not exist: Xero's plain-text 404."""


@dataclass
class Outcome:
    """What became of one element: the stored body, or (with errors) the body Xero echoes back."""

    body: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _column(entity: Entity, field_name: str) -> str | None:
    if field_name == entity.number_field:
        return "number"
    if field_name == entity.name_field:
        return "name"
    return None


def _locate(
    ws: Workspace, entity: Entity, values: dict[str, Any], mode: str, ref: str | None, errors: list[str]
) -> dict[str, Any] | None:
    if mode == UPDATE:
        before = ws.get_by_ref(entity, ref or "")
        if before is None:
            raise NotFound(ref)
        return before
    given = values.get(entity.id_field)
    if given:
        before = ws.get_by_ref(entity, str(given))
        if before is None and mode == UPSERT:
            errors.append(f"The {entity.singular} with {entity.id_field} '{given}' could not be found.")
        if before is not None and mode == CREATE:
            errors.append(
                f"A {entity.singular} with {entity.id_field} '{given}' already exists; use POST to update it."
            )
            return None
        return before
    if mode == UPSERT:
        for key in entity.upsert_by:
            column = _column(entity, key)
            if column and values.get(key):
                hidden = entity.hidden_statuses
                found = [
                    b
                    for b in ws.find(entity.plural, column, str(values[key]))
                    if b.get(entity.status_field or "") not in hidden
                ]
                if found:
                    return found[0]
    return None


def _lifecycle(draft: Draft) -> None:
    lifecycle = draft.entity.lifecycle
    if lifecycle is None:
        return
    singular = draft.entity.singular
    requested = draft.values.get(lifecycle.field)
    if draft.before is None:
        status = requested or lifecycle.initial
        if status not in lifecycle.creatable:
            draft.error(f"{singular} cannot be created with status {status}.")
            status = lifecycle.initial
    else:
        current = draft.before.get(lifecycle.field) or lifecycle.initial
        draft.status_before = current
        status = requested or current
        if current in lifecycle.locked:
            draft.error(f"{singular} not of valid status for modification")
        elif status != current and status not in lifecycle.moves.get(current, frozenset()):
            draft.error(f"{singular} cannot be changed from {current} to {status}.")
            status = current
    draft.body[lifecycle.field] = status
    draft.status_after = status


def _unique(draft: Draft, generated: set[str]) -> None:
    entity, body = draft.entity, draft.body
    record_id = body[entity.id_field]
    for rule in entity.unique:
        if rule.applies is not None and not rule.applies(body):
            continue
        value = entity.column_value(body, rule.column)
        if not value or body.get(entity.status_field or "") in rule.released_by:
            continue
        # An automatic number is above every stored one: only this batch's documents could hold it.
        fresh = rule.column == "number" and entity.number_field in generated
        for other in draft.ws.find(entity.plural, rule.column, value, staged_only=fresh):
            if (
                other[entity.id_field] == record_id
                or other.get(entity.status_field or "") in rule.released_by
            ):
                continue
            if rule.applies is not None and not rule.applies(other):
                continue
            draft.error(rule.message.format(value=value))
            break


def echo(entity: Entity, draft: Draft) -> dict[str, Any]:
    """The element Xero sends back for a failed write: what was built, under the zero id if it was new."""
    body = entity.ordered(wire.clone(draft.body))
    if draft.creating:
        body[entity.id_field] = ZERO_GUID
    for flag in ("HasErrors", "HasValidationErrors"):
        if flag in body:
            body[flag] = True
    return body


def apply(
    ws: Workspace, entity: Entity, element: Any, *, mode: str, ref: str | None = None, unitdp: int = 2
) -> Outcome:
    """Write one element (create, upsert or update), staging it and its knock-on changes in `ws`.

    The caller owns the savepoint: an Outcome with errors leaves partial staging behind to roll back."""
    if not isinstance(element, dict):
        raise wire.PostDataInvalid(f"Each {entity.singular} must be a JSON object.")
    values, errors = read_element(entity.schema, element)
    before = _locate(ws, entity, values, mode, ref, errors)
    body = wire.clone(before) if before is not None else {entity.id_field: ws.new_id()}
    draft = Draft(ws=ws, entity=entity, values=values, before=before, body=body, unitdp=unitdp, errors=errors)
    skip = entity.managed | {entity.id_field, entity.status_field}
    for key, value in values.items():
        if key not in skip:
            body[key] = value
    _lifecycle(draft)
    if entity.build is not None:
        entity.build(draft)
    generated: set[str] = set()
    if draft.creating:
        for rule in entity.auto_number:
            if not body.get(rule.field) and (rule.applies is None or rule.applies(body)):
                body[rule.field] = ws.next_number(entity.plural, rule.prefix, rule.width)
                generated.add(rule.field)
    _unique(draft, generated)
    if draft.errors:
        return Outcome(echo(entity, draft), draft.errors, draft.warnings)
    ws.put(entity.plural, body, created=draft.creating)
    stored = ws.get(entity.plural, str(body[entity.id_field]))
    return Outcome(stored or body, [], draft.warnings)


def apply_delete(ws: Workspace, entity: Entity, ref: str) -> tuple[Outcome, bool]:
    """DELETE /<plural>/{ref}: (outcome, whether the document is gone outright)."""
    before = ws.get_by_ref(entity, ref)
    if before is None or entity.delete is None:
        raise NotFound(ref)
    draft = Draft(ws=ws, entity=entity, values={}, before=before, body=wire.clone(before))
    removed = entity.delete(draft)
    if draft.errors:
        return Outcome(echo(entity, draft), draft.errors), removed
    if removed:
        ws.remove(entity.plural, str(before[entity.id_field]))
    else:
        ws.put(entity.plural, draft.body)
    return Outcome(draft.body), removed
