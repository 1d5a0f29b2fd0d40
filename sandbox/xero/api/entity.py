"""The shape of an entity declaration, and of a document being written.

Each Xero collection is declared once (in `entities.py`) as an `Entity`: where it lives, which scopes guard
it, which query parameters its list takes, its lifecycle, its unique keys and numbering, and one `build` hook
that holds its real rules (totals, payments...). The generic engine does everything else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.xero.api import wire
from sandbox.xero.api.schema import Obj
from sandbox.xero.api.where import Column

if TYPE_CHECKING:
    from sandbox.xero.api.workspace import Workspace

READ = "read"
WRITE = "write"


@dataclass(frozen=True)
class Lifecycle:
    """The statuses a document may be created in, the moves between them, and the statuses in which it is
    frozen. Moves the system makes itself (to PAID, back to AUTHORISED) are not listed: clients can't."""

    field: str
    initial: str
    creatable: frozenset[str]
    moves: dict[str, frozenset[str]]
    locked: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Unique:
    """A business key that must be unique among the organisation's documents of the collection."""

    column: str  # "number" or "name"
    message: str  # may use {value}
    # Only documents this holds for take part (ACCREC invoice numbers are unique, bill numbers are not).
    applies: Callable[[dict[str, Any]], bool] | None = None
    # Documents in these statuses don't hold their key any more (archived contacts, deleted accounts).
    released_by: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AutoNumber:
    field: str
    prefix: str
    width: int = 4
    applies: Callable[[dict[str, Any]], bool] | None = None


@dataclass(frozen=True)
class Entity:
    plural: str  # URL segment, stored collection name and (unless `envelope`) the response's array key
    singular: str  # for messages
    id_field: str
    schema: Obj  # what clients may write
    build: Callable[[Draft], None] | None  # the entity's rules; None for read-only collections
    scopes: dict[str, frozenset[str]]  # READ / WRITE → accepted scopes (broad and 2026 granular)
    envelope: str | None = None
    number_field: str | None = None
    name_field: str | None = None
    kind_field: str | None = None
    contact_field: tuple[str, ...] | None = None
    date_field: str | None = None
    has_updated_date: bool = True
    has_updated_string: bool = False  # UpdatedDateUTCString (Invoices, CreditNotes, Payments)
    lifecycle: Lifecycle | None = None
    unique: tuple[Unique, ...] = ()
    auto_number: tuple[AutoNumber, ...] = ()
    # POST /<plural> without an id matches an existing document by these fields, in order.
    upsert_by: tuple[str, ...] = ()
    # GET /<plural>/{ref} also accepts this business key when ref is not a GUID.
    lookup_by_number: bool = False
    # Fields the build hook writes itself; every other writable field is copied as given.
    managed: frozenset[str] = frozenset()
    # Verbs beyond GET: "create" (PUT), "upsert" (POST /plural), "update" (POST /plural/{id}),
    # "delete" (DELETE /plural/{id}).
    verbs: frozenset[str] = frozenset({"create", "upsert", "update"})
    delete: Callable[[Draft], bool] | None = None  # DELETE: True if the document is removed outright
    # List behaviour.
    paged: bool = False
    list_params: frozenset[str] = frozenset({"where", "order"})
    modified_since: bool = False
    hidden_statuses: frozenset[str] = frozenset()  # never listed nor found (deleted accounts)
    archived_statuses: frozenset[str] = frozenset()  # listed only with includeArchived=true
    summary_omit: tuple[str, ...] = ()
    search_fields: tuple[str, ...] = ()  # searchTerm: case-insensitive "contains" over these fields
    list_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    unit_paths: tuple[tuple[str, ...], ...] = ()
    field_order: tuple[str, ...] = ()
    webhook_category: str | None = None
    webhook_data: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    # A collection served from the tenant itself until documents are imported (Organisation).
    fallback: Callable[[Workspace], list[dict[str, Any]]] | None = None

    @property
    def array_key(self) -> str:
        return self.envelope or self.plural

    @property
    def status_field(self) -> str | None:
        return self.lifecycle.field if self.lifecycle else None

    def columns(self) -> dict[tuple[str, ...], Column]:
        """Body paths that have an indexed column, for `where` and `order` pushdown."""
        mapping: dict[tuple[str, ...], Column] = {(self.id_field,): Column("record_id", "id")}
        if self.number_field:
            mapping[(self.number_field,)] = Column("number", "text")
        if self.name_field:
            mapping[(self.name_field,)] = Column("name", "text")
        if self.status_field:
            mapping[(self.status_field,)] = Column("status", "text")
        if self.kind_field:
            mapping[(self.kind_field,)] = Column("kind", "text")
        if self.contact_field:
            mapping[self.contact_field] = Column("contact_id", "id")
        if self.date_field:
            mapping[(self.date_field,)] = Column("date", "date")
        if self.has_updated_date:
            mapping[("UpdatedDateUTC",)] = Column("updated_at", "datetime")
        return mapping

    def column_values(self, body: dict[str, Any]) -> dict[str, Any]:
        """The indexed copies of a body's fields, as stored on its XeroRecord row."""

        def text(key: str | None) -> str | None:
            value = body.get(key) if key else None
            return None if value is None else str(value)[:255]

        contact: Any = body
        for part in self.contact_field or ():
            contact = contact.get(part) if isinstance(contact, dict) else None
        moment = wire.parse_ms(body.get("UpdatedDateUTC")) if self.has_updated_date else None
        return {
            "record_id": str(body[self.id_field]),
            "number": text(self.number_field),
            "name": text(self.name_field),
            "status": text(self.status_field),
            "kind": text(self.kind_field),
            "contact_id": None if contact is None or not self.contact_field else str(contact),
            "date": wire.day_of(body.get(self.date_field)) if self.date_field else None,
            "updated_at": moment,
            "fine_units": has_fine_units(body, self.unit_paths),
        }

    def column_value(self, body: dict[str, Any], column: str) -> Any:
        """One column of `column_values`, without computing the others (business keys are looked up often)."""
        if column in ("number", "name"):
            key = self.number_field if column == "number" else self.name_field
            value = body.get(key) if key else None
            return None if value is None else str(value)[:255]
        return self.column_values(body)[column]

    def ordered(self, body: dict[str, Any]) -> dict[str, Any]:
        """The body with Xero's field order (cosmetic: clients read by key)."""
        if not self.field_order:
            return body
        result = {key: body[key] for key in self.field_order if key in body}
        result.update((key, value) for key, value in body.items() if key not in result)
        return result


def unit_values(body: Any, path: tuple[str, ...]) -> list[tuple[dict[str, Any], str]]:
    """(container, key) pairs for a unit-price path such as ("LineItems", "UnitAmount")."""
    containers: list[Any] = [body]
    for part in path[:-1]:
        following: list[Any] = []
        for container in containers:
            value = container.get(part) if isinstance(container, dict) else None
            if isinstance(value, list):
                following.extend(value)
            elif isinstance(value, dict):
                following.append(value)
        containers = following
    return [(container, path[-1]) for container in containers if isinstance(container, dict)]


def has_fine_units(body: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> bool:
    for path in paths:
        for container, key in unit_values(body, path):
            value = container.get(key)
            if isinstance(value, Decimal) and wire.places(value) > 2:
                return True
    return False


@dataclass
class Draft:
    """One input element on its way to becoming a stored body: what the client wrote, what was stored
    before, the body being built, and what went wrong."""

    ws: Workspace
    entity: Entity
    values: dict[str, Any]
    before: dict[str, Any] | None
    body: dict[str, Any]
    unitdp: int = 2
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Set by the engine from the lifecycle: the status before and after this write.
    status_before: str | None = None
    status_after: str | None = None

    @property
    def creating(self) -> bool:
        return self.before is None

    @property
    def today(self) -> date:
        return self.ws.now.date()

    @property
    def now(self) -> datetime:
        return self.ws.now

    def error(self, message: str) -> None:
        self.errors.append(message)

    def value(self, key: str, default: Any = None) -> Any:
        """What the client wrote, else what was stored, else the default."""
        if key in self.values:
            return self.values[key]
        if self.before is not None and key in self.before:
            return self.before[key]
        return default
