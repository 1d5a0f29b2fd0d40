"""The shape of an entity type's declaration, and of one entity being written.

Each QBO entity type is declared once (in `entities.py`) as an `EntityType`: what kind of object it is,
the properties Intuit knows, what it requires, what it references, how it is named, numbered, settled and
voided, and the few hooks that hold its real rules. The generic engine (`engine.py`) does the rest."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sandbox.qbo.api import faults, wire

if TYPE_CHECKING:
    from sandbox.qbo.api.workspace import Workspace

NAME_LIST = "name-list"  # never deleted: made inactive, its name suffixed " (deleted)"
TRANSACTION = "transaction"  # deleted (a tombstone stays) and, for some, voided
READ_ONLY = "read-only"  # TaxCode, TaxRate: created only through the tax service
SINGLETON = "singleton"  # Preferences, CompanyInfo: one per company, updated in place

# Properties every entity carries that the engine, not the client, owns.
SYSTEM_FIELDS = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse", "status"})

Hook = Callable[["Draft"], None]


@dataclass(frozen=True)
class RefRule:
    """A reference the entity makes, at a path whose lists (Line...) are walked: the object it names must
    exist and be active (else 610), and the reference gets that object's name."""

    path: tuple[str, ...]
    # The referenced entity type, or a function of the object holding the reference (a journal line's
    # Entity names its own type).
    target: str | Callable[[dict[str, Any]], str | None]
    # Values that name no object (a US line's TaxCodeRef is "TAX" or "NON").
    pseudo: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Settlement:
    """A payment's lines settle other documents through their LinkedTxn (Payment → Invoice...)."""

    # LinkedTxn.TxnType → the document type it settles.
    targets: dict[str, str]
    # Target types whose application counts against the payment (a credit memo used in a payment).
    credits: frozenset[str]
    # The TxnType the settled document's LinkedTxn gets back ("Payment", "BillPaymentCheck").
    back_type: Callable[[dict[str, Any]], str]


@dataclass(frozen=True)
class EntityType:
    name: str
    kind: str
    # Every top-level property Intuit knows for the type; anything else is answered with 2010.
    properties: frozenset[str]
    # Ids: transactions share a sequence, customers, vendors and employees another, as in QBO.
    id_sequence: str
    required: tuple[str, ...] = ()
    # Properties the engine computes whatever the client sends (TotalAmt, Balance...).
    managed: frozenset[str] = frozenset()
    # Properties a full update keeps when the client leaves them out (a currency cannot change).
    sticky: frozenset[str] = frozenset()
    # Values a new entity (and a full update) gets for properties the client leaves out.
    defaults: dict[str, Any] = field(default_factory=dict)
    refs: tuple[RefRule, ...] = ()
    hooks: tuple[Hook, ...] = ()
    # Name lists: the naming property, the types sharing its uniqueness, and the hierarchy.
    name_field: str | None = None
    name_scope: tuple[str, ...] = ()
    has_fqn: bool = False
    parent_flag: str | None = None  # "Job", "SubAccount", "SubItem"... (True under a ParentRef)
    # The property a reference to this type carries as its name (a Customer's DisplayName, an Account's
    # FullyQualifiedName); None for types referenced by id alone (TaxCodeRef, SalesTermRef).
    ref_name: str | None = None
    # Transactions.
    party: tuple[str, str] | None = None  # ("Customer", "CustomerRef")
    party_amount: Callable[[dict[str, Any]], Decimal] | None = None  # its weight in the party's Balance
    open_balance: tuple[str, ...] = ()  # ("Balance",) or ("Balance", "RemainingCredit")
    settlement: Settlement | None = None
    back_link_types: frozenset[str] = frozenset()  # LinkedTxn types payments write onto this document
    # Types whose lines this document's lines may copy, linked line by line (a Bill's from a PurchaseOrder).
    line_sources: frozenset[str] = frozenset()
    # A source document's status property and its open and closed values: closed once fully copied.
    fulfilment: tuple[str, str, str] | None = None
    auto_doc_number: bool = False
    unique_doc_number: bool = False
    void: Hook | None = None
    void_by_include: bool = False  # `?operation=update&include=void` (Payment) vs `?operation=void`
    # Read paths.
    cdc: bool = True
    webhook: bool = True

    @property
    def segment(self) -> str:
        """The URL segment: the name in lower case (`/journalentry`, `/companyinfo`)."""
        return self.name.lower()

    @property
    def deletable(self) -> bool:
        return self.kind == TRANSACTION

    @property
    def writable(self) -> bool:
        return self.kind in {NAME_LIST, TRANSACTION, SINGLETON}


@dataclass
class Draft:
    """One entity on its way to being stored: what the client sent, what was stored before, the body
    being built, and the request's options."""

    ws: Workspace
    etype: EntityType
    given: dict[str, Any]
    before: dict[str, Any] | None
    body: dict[str, Any]
    sparse: bool = False
    include: frozenset[str] = frozenset()

    @property
    def creating(self) -> bool:
        return self.before is None

    @property
    def now(self) -> datetime:
        return self.ws.now

    @property
    def today(self) -> date:
        return wire.company_today(self.ws.now)

    def lookup(self, entity: str, ref: Any, *, element: str = "") -> dict[str, Any]:
        """The active object a reference names; 610 when it is unknown, inactive or deleted."""
        value = ref.get("value") if isinstance(ref, dict) else ref
        if value is None or value == "":
            raise faults.object_not_found(element)
        found = self.ws.get(entity, str(value))
        if found is None or found.get("Active") is False:
            raise faults.object_not_found(element)
        return found

    def amount(self, container: dict[str, Any], key: str, *, element: str | None = None) -> Decimal | None:
        """A number the client sent, as Decimal; 2050 when it is not one."""
        value = container.get(key)
        if value is None:
            return None
        number = wire.to_decimal(value)
        if number is None:
            raise faults.invalid_number(element or key, value)
        return number


# --- versions --------------------------------------------------------------------------------------------


def stamp_created(body: dict[str, Any], record_id: str, now: datetime) -> dict[str, Any]:
    """A new entity's system fields: Id, SyncToken "0", both MetaData times now, first in the body."""
    moment = wire.stamp(now)
    head = {
        "domain": "QBO",
        "sparse": False,
        "Id": record_id,
        "SyncToken": "0",
        "MetaData": {"CreateTime": moment, "LastUpdatedTime": moment},
    }
    return {**head, **{key: value for key, value in body.items() if key not in head}}


def stamp_updated(body: dict[str, Any], before: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A changed entity: SyncToken one up, LastUpdatedTime now, CreateTime kept."""
    body["domain"] = "QBO"
    body["sparse"] = False
    body["Id"] = before["Id"]
    body["SyncToken"] = str(sync_token(before) + 1)
    meta = dict(before.get("MetaData") or {})
    meta.setdefault("CreateTime", wire.stamp(now))
    meta["LastUpdatedTime"] = wire.stamp(now)
    body["MetaData"] = meta
    return body


def touched(body: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A change QBO makes itself without a new SyncToken (a customer's Balance): LastUpdatedTime only."""
    meta = dict(body.get("MetaData") or {})
    meta["LastUpdatedTime"] = wire.stamp(now)
    body["MetaData"] = meta
    return body


def sync_token(body: dict[str, Any]) -> int:
    token = str(body.get("SyncToken", "0"))
    return int(token) if token.isdigit() else 0
