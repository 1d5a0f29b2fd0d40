"""The generic pull engine: one pass over one entity family of one connection, for every family and
every ledger, driven by the family's declaration (`accounting.families`) and the provider's
(`Provider.pull_sources`).

A pass asks the ledger page by page (through the call boundary, `integrations.calls`) and applies each
page through the mirror engine (`accounting.mirror`) in one transaction: records whose content hash is
unchanged cost no write; new and changed ones are upserted on their identity in one statement, their
child rows replaced; tombstones flag records deleted. The run's checkpoint is saved
in the same transaction, so a page is applied entirely or not at all and a resumed run goes on after
the last applied page. Only after a complete full pass are records the ledger no longer lists flagged
as gone, and only those the ledger confirms missing when asked for them by id. The family's cursor
moves only when the pass completes."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounting import mirror
from accounting.families import FAMILIES, Family
from accounting.mirror import AppliedChanges
from integrations.calls import Attempt, CallTally, ledger_call
from integrations.choices import (
    SyncErrorKindChoices,
    SyncModeChoices,
    SyncRunStatusChoices,
)
from integrations.errors import (
    NeedsReauthorisation,
    OutcomeUnknown,
    ProviderError,
    ProviderUnavailable,
    ProviderValidationError,
    RateLimited,
    WaitRequired,
)
from integrations.models import Connection, SyncRun, SyncState
from integrations.providers import get_provider
from integrations.providers.base import Provider
from integrations.providers.remote import FamilySource, PulledPage
from integrations.sync import run_claim, run_finish, run_log, run_wait

logger = logging.getLogger(__name__)


def _setting(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


class _RunTally(CallTally):
    """The boundary's counters and warnings, kept on the sync run; waits keep its heartbeat."""

    def __init__(self, run: SyncRun) -> None:
        super().__init__()
        self.run = run

    def calls_counted(self, calls: int) -> None:
        self.run.api_calls += calls

    def waited(self, seconds: float, *, limit: str) -> None:
        if limit != "concurrent":
            self.run.rate_limit_waits += 1
        self.run.rate_limit_wait_seconds += seconds

    def retried(self) -> None:
        self.run.retries += 1

    def note(self, level: str, message: str) -> None:
        run_log(self.run, level, message)

    def sleep(self, seconds: float) -> None:
        """Sleep while keeping the heartbeat, so a long wait is not taken for a dead worker."""
        ends = time.monotonic() + seconds
        while (left := ends - time.monotonic()) > 0:
            time.sleep(min(left, 5.0))
            SyncRun.objects.filter(pk=self.run.pk).update(heartbeat_at=timezone.now())


@dataclass
class _Progress:
    """What the pass carries between pages (and in the checkpoint across a resume)."""

    max_seen: datetime | None = None
    # Lowest earlier update time of a record the ledger listed twice in this pass: records that change
    # mid-pass move to the end of an update-ordered listing and may push an unread one behind the
    # read position, so the next pass must read again from there.
    floor: datetime | None = None

    def seen(self, moment: datetime | None) -> None:
        if moment is not None and (self.max_seen is None or moment > self.max_seen):
            self.max_seen = moment

    def relisted(self, previous: datetime | None) -> None:
        if previous is not None and (self.floor is None or previous < self.floor):
            self.floor = previous

    def to_json(self) -> dict[str, Any]:
        return {
            "max_seen": self.max_seen.isoformat() if self.max_seen else None,
            "floor": self.floor.isoformat() if self.floor else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _Progress:
        def moment(value: str | None) -> datetime | None:
            return datetime.fromisoformat(value) if value else None

        return cls(max_seen=moment(data.get("max_seen")), floor=moment(data.get("floor")))

    def cursor(self, previous: datetime | None) -> datetime | None:
        candidates = [moment for moment in (self.max_seen, previous) if moment is not None]
        cursor = max(candidates) if candidates else None
        if self.floor is not None and (cursor is None or self.floor < cursor):
            cursor = self.floor
        return cursor


class _Pass:
    def __init__(self, run: SyncRun) -> None:
        self.run = run
        self.connection = Connection.objects.get(pk=run.connection_id)
        self.provider: Provider = get_provider(self.connection.provider)
        self.family: Family = FAMILIES[run.entity]
        self.source: FamilySource = self.provider.pull_sources()[run.entity]
        self.state = SyncState.objects.get(connection=self.connection, entity=run.entity)
        self.model = self.family.model
        self.remote_types = [entity.remote_type for entity in self.source.entities]

    # --- the pass ---------------------------------------------------------------------------------------
    def mode_decide(self) -> datetime | None:
        """Incremental when the ledger can and the cursor is usable; returns the time to read from."""
        run, state, source = self.run, self.state, self.source
        full = run.mode == SyncModeChoices.FULL or not source.incremental or state.cursor is None
        if not full and source.incremental_max_age_days is not None and state.cursor is not None:
            full = state.cursor < timezone.now() - timedelta(days=source.incremental_max_age_days - 1)
        if full:
            if run.mode != SyncModeChoices.FULL:
                run_log(run, "info", "The ledger cannot list only changes from here; running a full pass.")
                run.mode = SyncModeChoices.FULL
            run.since = None
            return None
        cursor: datetime = state.cursor  # type: ignore[assignment]
        since = run.since or cursor - timedelta(seconds=_setting("SYNC_OVERLAP_SECONDS", 300))
        run.since = since
        return since

    def execute(self) -> datetime | None:
        run = self.run
        since = self.mode_decide()
        progress = _Progress.from_json(run.checkpoint.get("progress") or {})
        token = run.checkpoint.get("token")
        if run.checkpoint.get("complete"):
            token = None
        else:
            run_log(
                run,
                "info",
                f"{run.get_mode_display()} pass started"
                + (f" from {since:%Y-%m-%d %H:%M:%S}" if since else ""),
            )
            run.save()
            while True:
                page = self._call(
                    lambda attempt, current=token: self.provider.pull_page(  # type: ignore[misc]
                        app=attempt.app,
                        tokens=attempt.tokens,
                        tenant_id=self.connection.tenant_id,
                        source=self.source,
                        since=since,
                        token=current,
                    )
                )
                with transaction.atomic():
                    self._apply(page, progress)
                    run.pages += 1
                    if page.total is not None:
                        run.total = page.total
                    run.checkpoint = {
                        "token": page.next,
                        "progress": progress.to_json(),
                        "complete": page.next is None,
                    }
                    run.heartbeat_at = timezone.now()
                    run.save()
                if page.next is None:
                    break
                token = page.next
        if run.mode == SyncModeChoices.FULL:
            self._gone_detect(progress)
        mirror.mirror_pass_finish(connection=self.connection, family=self.family)
        cursor = progress.cursor(self.state.cursor if run.mode != SyncModeChoices.FULL else None)
        if (
            progress.floor is None
            and run.started_at is not None
            and (cursor is None or cursor < run.started_at)
        ):
            # The complete pass saw every change made before it started, so the next one may read from
            # there even when nothing changed (a quiet family must not age past the ledger's change-feed
            # horizon). The overlap window covers a ledger clock a few minutes behind ours.
            cursor = run.started_at
        return cursor

    # --- calls ------------------------------------------------------------------------------------------
    def _call(self, operation: Callable[[Attempt], PulledPage]) -> PulledPage:
        """One ledger call through the boundary, its counters and warnings kept on the run."""
        return ledger_call(
            connection=self.connection, operation=operation, tally=_RunTally(self.run), active_only=True
        )

    # --- applying a page --------------------------------------------------------------------------------
    def _apply(self, page: PulledPage, progress: _Progress) -> None:
        """Apply one answer of the ledger to the mirror and count it on the run."""
        # Through the module, so the one seam tests wrap is the one every caller goes through.
        changes = mirror.mirror_records_apply(
            connection=self.connection,
            family=self.family,
            records=page.records,
            source=self.source,
            texts=page.raw,
            seen_run_id=self.run.pk,
        )
        progress.seen(changes.max_seen)
        progress.relisted(changes.relisted_floor)
        if page.tombstones:
            self._flag_deleted(page.tombstones, changes)
        self._count(changes)

    def _flag_deleted(
        self, keys: list[tuple[str, str]], changes: AppliedChanges | None = None
    ) -> AppliedChanges:
        return mirror.mirror_records_flag_deleted(
            connection=self.connection,
            family=self.family,
            keys=keys,
            seen_run_id=self.run.pk,
            changes=changes,
        )

    def _count(self, changes: AppliedChanges) -> None:
        run = self.run
        run.fetched += changes.fetched
        run.created += changes.created_count
        run.updated += changes.updated
        run.unchanged += changes.unchanged
        run.skipped += changes.skipped
        run.deleted += changes.deleted_count

    # --- after a complete pass --------------------------------------------------------------------------
    def _gone_detect(self, progress: _Progress) -> None:
        """Records the complete full pass did not list: ask the ledger for each by id; flag as gone only
        those it does not return (a record a concurrent change pushed out of the listing comes back)."""
        run = self.run
        missing = list(
            self.model._default_manager.filter(
                connection=self.connection,
                remote_type__in=self.remote_types,
                remote_deleted=False,
                do_not_sync=False,
            )
            .exclude(seen_run_id=run.pk)
            .values_list("remote_type", "remote_id")
        )
        if not missing:
            return
        if run.pages == 1 and run.attempts == 1:
            # One answer is one consistent listing: nothing can have been pushed out of it mid-pass.
            self._count(self._flag_deleted(missing))
            run.save()
            return
        run_log(run, "info", f"{len(missing)} records were not listed; asking the ledger for them by id.")
        by_type: dict[str, list[str]] = {}
        for remote_type, remote_id in missing:
            by_type.setdefault(remote_type, []).append(remote_id)
        size = self.provider.ids_per_call
        for remote_type, remote_ids in by_type.items():
            entity = self.source.entity(remote_type)
            for start in range(0, len(remote_ids), size):
                chunk = remote_ids[start : start + size]
                page = self._call(
                    lambda attempt, chunk=chunk, entity=entity: self.provider.pull_by_ids(  # type: ignore[misc]
                        app=attempt.app,
                        tokens=attempt.tokens,
                        tenant_id=self.connection.tenant_id,
                        entity=entity,
                        remote_ids=chunk,
                    )
                )
                returned = {str(entity.id(payload)) for _, payload in page.records}
                with transaction.atomic():
                    self._apply(page, progress)
                    gone = [(remote_type, remote_id) for remote_id in chunk if remote_id not in returned]
                    self._count(self._flag_deleted(gone))
                    run.heartbeat_at = timezone.now()
                    run.save()


def _classify(exc: Exception) -> tuple[str, str]:
    if isinstance(exc, NeedsReauthorisation):
        return SyncErrorKindChoices.AUTH, exc.message
    if isinstance(exc, RateLimited):
        return SyncErrorKindChoices.RATE_LIMIT, exc.message
    if isinstance(exc, ProviderUnavailable | OutcomeUnknown):
        return SyncErrorKindChoices.TRANSIENT, f"{exc.message} (gave up after retries)"
    if isinstance(exc, ProviderValidationError):
        return SyncErrorKindChoices.VALIDATION, exc.message
    if isinstance(exc, ProviderError):
        return SyncErrorKindChoices.PERMANENT, exc.message
    return SyncErrorKindChoices.INTERNAL, f"Internal error: {type(exc).__name__}: {exc}"


def entity_pull(*, run_id: int) -> SyncRun | None:
    """Run (or resume) one sync run. Returns None when the run could not be taken up."""
    run = run_claim(run_id=run_id)
    if run is None:
        return None
    extra = {"run": run.pk, "connection": run.connection_id, "entity": run.entity}
    logger.info("Pull started", extra=extra)
    try:
        sync_pass = _Pass(run)
        cursor = sync_pass.execute()
    except WaitRequired as wait:
        run_wait(run=run, seconds=wait.seconds, reason=wait.details.get("limit", "ledger"))
        logger.info("Pull waits for the rate limit", extra={**extra, "seconds": round(wait.seconds)})
        return run
    except Exception as exc:
        kind, message = _classify(exc)
        if kind == SyncErrorKindChoices.INTERNAL:
            logger.exception("Pull failed", extra=extra)
        else:
            logger.warning("Pull failed: %s", message, extra=extra)
        return run_finish(run=run, status=SyncRunStatusChoices.FAILED, error_kind=kind, error=message)
    records = sync_pass.model._default_manager.filter(connection_id=run.connection_id).count()
    run_log(
        run,
        "info",
        f"Done: {run.fetched} fetched, {run.created} created, {run.updated} updated, "
        f"{run.unchanged} unchanged, {run.deleted} deleted in {run.api_calls} calls.",
    )
    logger.info("Pull finished", extra={**extra, "fetched": run.fetched, "calls": run.api_calls})
    return run_finish(run=run, status=SyncRunStatusChoices.SUCCEEDED, cursor=cursor, records=records)
