"""Use cases of the mirror: pulling now, archiving, deleting mirrored records, refreshing a family, and
the statistics of a filtered list. Views, admin actions and commands call these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounting.families import Family
from accounting.pull import entity_pull
from integrations.choices import SyncTriggerChoices
from integrations.models import Connection, SyncRun
from integrations.sync import sync_request

# Ids one bulk call may name.
BULK_LIMIT = 1000


def connection_pull_now(
    *, connection: Connection, entities: list[str] | None = None, full: bool = False
) -> list[SyncRun]:
    """Pull the families in this process, one after the other (the `sync_pull` command, benches).
    A family with a run already queued or running elsewhere is left to that run."""
    runs = sync_request(
        connection=connection, entities=entities, full=full, trigger=SyncTriggerChoices.MANUAL, enqueue=False
    )
    done = []
    for run in runs:
        finished = entity_pull(run_id=run.pk)
        done.append(finished or SyncRun.objects.get(pk=run.pk))
    return done


def records_archive(*, queryset: QuerySet[Any], ids: Iterable[int], archived: bool) -> int:
    """Set or clear the local archived flag (the ledger is not touched); how many records changed."""
    return (
        queryset.filter(pk__in=list(ids))
        .exclude(archived=archived)
        .update(archived=archived, updated_at=timezone.now())
    )


def records_delete(*, family: Family, queryset: QuerySet[Any], ids: Iterable[int]) -> int:
    """Delete mirrored records (and their lines) here only: the ledger keeps them, and the next full
    resync brings back whatever still exists there. How many records were deleted."""
    chosen = list(queryset.filter(pk__in=list(ids)).values_list("pk", flat=True))
    with transaction.atomic():
        for child in family.children:
            child.model._default_manager.filter(**{f"{child.parent_field}_id__in": chosen}).delete()
        deleted, _ = family.model._default_manager.filter(pk__in=chosen).delete()
    return len(chosen) if deleted else 0


def family_refresh(
    *, connection: Connection, family: Family, full: bool, user_id: int | None = None
) -> SyncRun:
    """Queue a pull of one family of one connection (or return the one already queued or running)."""
    (run,) = sync_request(connection=connection, entities=[family.key], full=full, user_id=user_id)
    return run


def _money(value: Any) -> str:
    return str(value if value is not None else Decimal("0.00"))


def records_statistics(
    *, family: Family, queryset: QuerySet[Any], today: date | None = None
) -> dict[str, Any]:
    """Counts by status; per currency the total, the amount due and what is overdue; per month the
    count and totals. Amounts are decimal strings, never floats."""
    today = today or timezone.localdate()
    result: dict[str, Any] = {"count": queryset.count()}
    if family.has_status:
        result["by_status"] = {
            row["status"]: row["n"] for row in queryset.order_by().values("status").annotate(n=Count("pk"))
        }
    amount, due, due_date = family.amount_field, family.due_amount_field, family.due_date_field
    currency = "currency" if any(f.name == "currency" for f in family.model._meta.concrete_fields) else None
    if amount:
        aggregates: dict[str, Any] = {"count": Count("pk"), "total": Sum(amount)}
        if due:
            aggregates["due"] = Sum(due)
        if due and due_date:
            aggregates["overdue"] = Sum(due, filter=Q(**{f"{due_date}__lt": today, f"{due}__gt": 0}))
            aggregates["overdue_count"] = Count("pk", filter=Q(**{f"{due_date}__lt": today, f"{due}__gt": 0}))
        rows = queryset.order_by().values(*([currency] if currency else [])).annotate(**aggregates)
        result["by_currency"] = [
            {
                "currency": row.get(currency, "") if currency else "",
                "count": row["count"],
                "total": _money(row["total"]),
                **({"due": _money(row["due"])} if due else {}),
                **(
                    {"overdue": _money(row["overdue"]), "overdue_count": row["overdue_count"]}
                    if due and due_date
                    else {}
                ),
            }
            for row in rows.order_by(*([currency] if currency else []))
        ]
    if family.date_field:
        month = TruncMonth(family.date_field)
        monthly = (
            queryset.order_by()
            .exclude(**{family.date_field: None})
            .annotate(month=month)
            .values("month", *([currency] if currency and amount else []))
            .annotate(count=Count("pk"), **({"total": Sum(F(amount))} if amount else {}))
            .order_by("month", *([currency] if currency and amount else []))
        )
        result["by_month"] = [
            {
                "month": row["month"].strftime("%Y-%m"),
                **({"currency": row[currency]} if currency and amount else {}),
                "count": row["count"],
                **({"total": _money(row["total"])} if amount else {}),
            }
            for row in monthly
        ]
    return result
