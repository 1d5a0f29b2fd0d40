"""The read paths: one entity by id, the query language, and change data capture.

They return JSON text ready to be spliced into a response. Conditions and orders on indexed properties
(Id, the name, FullyQualifiedName, Active, DocNumber, the customer/vendor, TxnDate, TotalAmt, MetaData
times) run in SQL, and the stored bodies of the page are spliced without being decoded; anything else is
decided on decoded bodies, with exactly the same comparison rules (`sandbox.qbo.query`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F, Q, QuerySet

from sandbox.models import Tenant
from sandbox.models.qbo_records import QboRecord
from sandbox.qbo import query as ql
from sandbox.qbo.api import faults, wire
from sandbox.qbo.api.entities import entity_named
from sandbox.qbo.api.entity import NAME_LIST, READ_ONLY, EntityType
from sandbox.qbo.api.workspace import fold

CDC_LOOKBACK = timedelta(days=30)
CDC_CAP = 1000
META_CHILDREN = {"createtime": "CreateTime", "lastupdatedtime": "LastUpdatedTime"}


def record_read(*, tenant: Tenant, entity: str, record_id: str) -> str:
    """The body of one entity as stored; 610 when it does not exist or was deleted."""
    row = (
        QboRecord.objects.filter(tenant=tenant, entity=entity, record_id=record_id)
        .values_list("body", "deleted")
        .first()
    )
    if row is None or row[1]:
        raise faults.object_not_found()
    return str(row[0])


# --- the query language ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "id", "text", "raw", "bool", "date", "number", "moment"


def _columns(etype: EntityType) -> dict[tuple[str, ...], Column]:
    columns = {
        ("Id",): Column("id", "id"),
        ("MetaData", "CreateTime"): Column("created_at", "moment"),
        ("MetaData", "LastUpdatedTime"): Column("updated_at", "moment"),
    }
    if etype.name_field:
        columns[(etype.name_field,)] = Column("name", "text")
    if etype.has_fqn:
        columns[("FullyQualifiedName",)] = Column("name_key", "text")
    if "Active" in etype.properties:
        columns[("Active",)] = Column("active", "bool")
    if "DocNumber" in etype.properties:
        columns[("DocNumber",)] = Column("doc_number", "raw")
    if etype.party:
        columns[(etype.party[1],)] = Column("party_id", "raw")
    if "TxnDate" in etype.properties:
        columns[("TxnDate",)] = Column("txn_date", "date")
    if "TotalAmt" in etype.properties:
        columns[("TotalAmt",)] = Column("total", "number")
    return columns


def _resolve_path(etype: EntityType, path: tuple[str, ...]) -> tuple[str, ...]:
    """Property names as Intuit spells them; QBO matches them without regard to case."""
    by_fold = {name.casefold(): name for name in etype.properties}
    head = by_fold.get(path[0].casefold())
    if head is None:
        raise ql.QueryError(f"QueryValidationError: property '{'.'.join(path)}' is not queryable")
    rest = list(path[1:])
    if head == "MetaData" and rest:
        rest[0] = META_CHILDREN.get(rest[0].casefold(), rest[0])
    return (head, *rest)


def _literal_value(column: Column, literal: ql.Literal) -> Any:
    """The literal as the column's type; None when it cannot be one (the condition is then decided on the
    decoded bodies, by the same rules)."""
    if column.kind == "text":
        return fold(literal.text)
    if column.kind == "raw":
        return literal.text
    if column.kind == "bool":
        return literal.boolean
    if column.kind == "date":
        return wire.parse_day(literal.text) if len(literal.text) == 10 else None
    if column.kind == "number":
        return wire.to_decimal(literal.text)
    if column.kind == "moment":
        return wire.parse_moment(literal.text)
    return literal.text


_LOOKUPS = {"=": "exact", "<": "lt", ">": "gt", "<=": "lte", ">=": "gte"}


def _pushdown(column: Column, condition: ql.Condition) -> Q | None:
    """The condition as SQL, or None when only the decoded bodies can decide it."""
    if column.kind == "id":
        ids = [literal.text.strip() for literal in condition.values]
        if condition.op in {"=", "IN"}:
            return Q(record_id__in=[str(int(value)) if value.isdigit() else value for value in ids])
        if condition.op in _LOOKUPS and ids[0].isdigit():
            return Q(**{f"id_number__{_LOOKUPS[condition.op]}": int(ids[0])})
        return None
    if column.kind == "raw" and condition.op not in {"=", "IN"}:
        return None
    values = [_literal_value(column, literal) for literal in condition.values]
    if condition.op == "IN":
        known = [value for value in values if value is not None]
        return Q(**{f"{column.name}__in": known}) if len(known) == len(values) else None
    value = values[0]
    if value is None:
        return None
    if condition.op == "LIKE":
        # `%` is the only wildcard; the shapes an index can serve go to SQL, the rest to the bodies.
        parts = value.split("%") if column.kind == "text" else []
        if len(parts) == 1:
            return Q(**{column.name: parts[0]})
        if len(parts) == 2 and not parts[1]:
            return Q(**{f"{column.name}__startswith": parts[0]})
        if len(parts) == 2 and not parts[0]:
            return Q(**{f"{column.name}__endswith": parts[1]})
        if len(parts) == 3 and not parts[0] and not parts[2]:
            return Q(**{f"{column.name}__contains": parts[1]})
        return None
    if column.kind == "bool":
        return Q(**{f"{column.name}__in": [value]}) if condition.op == "=" else None
    return Q(**{f"{column.name}__{_LOOKUPS[condition.op]}": value})


def _order_field(column: Column) -> str:
    return "id_number" if column.kind == "id" else column.name


@dataclass
class Plan:
    etype: EntityType
    queryset: QuerySet[QboRecord]
    python_conditions: list[ql.Condition]
    sql_order: list[Any] | None  # None: the order needs decoded bodies
    order: list[ql.OrderTerm]


def plan(tenant: Tenant, parsed: ql.Query) -> Plan:
    etype = entity_named(parsed.entity)
    if etype is None:
        raise ql.QueryError(f"QueryValidationError: invalid context declaration: {parsed.entity}")
    for extra in parsed.extra_fields:
        _resolve_path(etype, ql.split_path(extra))
    columns = _columns(etype)
    # `__in` rather than `=False`: Django writes a boolean equality as `NOT deleted`, which SQLite cannot
    # match against an index prefix, and the index then no longer gives the order.
    queryset = QboRecord.objects.filter(tenant=tenant, entity=etype.name, deleted__in=[False])
    conditions = [
        ql.Condition(_resolve_path(etype, condition.path), condition.op, condition.values)
        for condition in parsed.conditions
    ]
    # Name lists show active entities unless the query says otherwise (`Active IN (true, false)`).
    says_active = any(condition.path == ("Active",) for condition in conditions)
    if etype.kind in {NAME_LIST, READ_ONLY} and "Active" in etype.properties and not says_active:
        queryset = queryset.filter(active__in=[True])
    python_conditions: list[ql.Condition] = []
    for condition in conditions:
        column = columns.get(condition.path)
        pushed = _pushdown(column, condition) if column is not None else None
        if pushed is None:
            python_conditions.append(condition)
        else:
            queryset = queryset.filter(pushed)
    order = [ql.OrderTerm(_resolve_path(etype, term.path), term.descending) for term in parsed.order]
    sql_order: list[Any] | None = []
    for term in order:
        column = columns.get(term.path)
        if column is None:
            sql_order = None
            break
        field = F(_order_field(column))
        assert sql_order is not None  # noqa: S101 - narrowed by the loop
        sql_order.append(field.desc(nulls_last=True) if term.descending else field.asc(nulls_first=True))
    if sql_order is not None:
        sql_order.extend(_default_order(etype))
    return Plan(etype, queryset, python_conditions, sql_order, order)


def _default_order(etype: EntityType) -> list[Any]:
    # Name lists come in name order (sub-customers under their parent), transactions in id order.
    if etype.name_field:
        return [F("name_key").asc(nulls_first=True), F("id_number").asc(nulls_first=True), F("id").asc()]
    return [F("id_number").asc(nulls_first=True), F("id").asc()]


def _matching(plan_: Plan, *, wanted: int | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The bodies the conditions SQL cannot decide accept, in the query's order. When SQL can give that
    order, rows are read in it and reading stops at the `wanted`th match (page one of `Balance > '99'`
    reads a page, not the table); otherwise every candidate is read, then sorted."""
    order = plan_.sql_order if plan_.sql_order is not None else _default_order(plan_.etype)
    rows = plan_.queryset.order_by(*order).values_list("body", flat=True)
    result: list[tuple[str, dict[str, Any]]] = []
    for text in rows.iterator(chunk_size=2000):
        body = wire.decode(text)
        if all(ql.matches(body, condition) for condition in plan_.python_conditions):
            result.append((text, body))
            if wanted is not None and plan_.sql_order is not None and len(result) >= wanted:
                break
    if plan_.sql_order is None:
        for term in reversed(plan_.order):
            # Stable sorts from the last term to the first give the multi-term order.
            result.sort(key=_sort_by(term.path), reverse=term.descending)
    return result


def _sort_by(path: tuple[str, ...]) -> Callable[[tuple[str, dict[str, Any]]], tuple[int, Any]]:
    return lambda row: ql.sort_key(ql.value_at(row[1], path))


def _window(queryset: QuerySet[QboRecord], offset: int, limit: int) -> list[str]:
    """One page of bodies in two steps: the page's keys from the index alone (an OFFSET of 90,000 then
    skips index entries, not 90,000 stored bodies), then those rows' bodies."""
    keys = list(queryset.values_list("id", flat=True)[offset : offset + limit])
    if not keys:
        return []
    bodies = dict(QboRecord.objects.filter(pk__in=keys).values_list("id", "body"))
    return [bodies[key] for key in keys]


def query_run(*, tenant: Tenant, text: str) -> str:
    """The QueryResponse object of a SELECT, as JSON text. Raises QboFault 4001 for a bad query."""
    try:
        parsed = ql.parse(text)
        plan_ = plan(tenant, parsed)
    except ql.QueryError as error:
        raise faults.invalid_query(error.detail) from error
    offset = parsed.start_position - 1
    if parsed.count:
        total = len(_matching(plan_)) if plan_.python_conditions else plan_.queryset.count()
        return f'{{"totalCount":{total}}}'
    if not plan_.python_conditions and plan_.sql_order is not None:
        bodies = _window(plan_.queryset.order_by(*plan_.sql_order), offset, parsed.max_results)
    else:
        matched = _matching(plan_, wanted=offset + parsed.max_results)
        bodies = [text for text, _ in matched[offset : offset + parsed.max_results]]
    return page(plan_.etype.name, bodies, parsed.start_position)


def page(entity: str, bodies: list[str], start_position: int) -> str:
    if not bodies:
        return "{}"
    return f'{{"{entity}":[{",".join(bodies)}],"startPosition":{start_position},"maxResults":{len(bodies)}}}'


# --- change data capture ---------------------------------------------------------------------------------


def cdc_run(*, tenant: Tenant, entities: str, changed_since: str, now: datetime) -> str:
    """The CDCResponse array: one QueryResponse per requested type, changes since `changed_since` (at most
    30 days back), deletions as tombstones, at most 1,000 objects in all (the oldest changes first)."""
    names = [name.strip() for name in (entities or "").split(",") if name.strip()]
    if not names:
        raise faults.required_missing("entities")
    if not changed_since:
        raise faults.required_missing("changedSince")
    etypes: list[EntityType] = []
    for name in names:
        etype = entity_named(name)
        if etype is None:
            raise faults.invalid_query(f"QueryValidationError: invalid context declaration: {name}")
        if not etype.cdc:
            raise faults.unsupported(f"Operation cdc is not supported for {etype.name}.")
        if etype not in etypes:
            etypes.append(etype)
    since = wire.parse_moment(changed_since.replace(" ", "+"))
    if since is None:
        raise faults.QboFault(
            "2040", "Invalid Date", f"Invalid date format for changedSince. Supplied value:{changed_since}"
        )
    if since < now - CDC_LOOKBACK:
        raise faults.invalid_query(
            f"Operation cdc with changedSince date {changed_since} which is older than fixed days is not supported."
        )
    changes: list[tuple[datetime, int, str, str]] = []
    for etype in etypes:
        rows = (
            QboRecord.objects.filter(tenant=tenant, entity=etype.name, updated_at__gte=since)
            .order_by("updated_at", "id")
            .values_list("updated_at", "id", "record_id", "body", "deleted")[:CDC_CAP]
        )
        for updated_at, pk, record_id, body, deleted in rows:
            text = _tombstone(record_id, updated_at) if deleted else body
            changes.append((updated_at, pk, etype.name, text))
    changes.sort(key=lambda change: (change[0], change[1]))
    kept: dict[str, list[str]] = {}
    for _, _, entity, text in changes[:CDC_CAP]:
        kept.setdefault(entity, []).append(text)
    responses = [page(etype.name, kept.get(etype.name, []), 1) for etype in etypes]
    return f'[{{"QueryResponse":[{",".join(responses)}]}}]'


def _tombstone(record_id: str, updated_at: datetime) -> str:
    return wire.encode(
        {
            "domain": "QBO",
            "status": "Deleted",
            "Id": record_id,
            "MetaData": {"LastUpdatedTime": wire.stamp(updated_at)},
        }
    )
