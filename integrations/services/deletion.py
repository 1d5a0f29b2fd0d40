"""Deleting a connection and everything that belongs to it: the request, and the background run that
deletes in batches and records its progress on a `ConnectionDeletion`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import models, transaction
from django.db.models.deletion import ProtectedError

from core.errors import Conflict
from core.jobs import job_finish, job_start
from core.queue import task_enqueue_on_commit
from integrations.choices import ConnectionDeletionStatusChoices, ConnectionStatusChoices
from integrations.errors import ProviderError
from integrations.models import Connection, ConnectionDeletion, Credential, OAuthState
from integrations.services.connections import connection_revoke_at_ledger

logger = logging.getLogger(__name__)

DELETE_BATCH_SIZE = 1000


def connection_delete_request(*, connection: Connection, user_id: int | None) -> ConnectionDeletion:
    """Queue the deletion of a connection and all its data; returns the record that tracks it."""
    with transaction.atomic():
        locked = Connection.objects.select_for_update().get(pk=connection.pk)
        running = ConnectionDeletion.objects.filter(
            connection_id=locked.pk,
            status__in=[ConnectionDeletionStatusChoices.QUEUED, ConnectionDeletionStatusChoices.RUNNING],
        ).first()
        if running is not None:
            raise Conflict("This connection is already being deleted.", details={"deletion_id": running.pk})
        locked.status_set(ConnectionStatusChoices.DELETING, "Deletion requested.")
        locked.save(update_fields=["status", "status_reason", "status_changed_at", "updated_at"])
        deletion = ConnectionDeletion.objects.create(
            connection_id=locked.pk,
            connection_name=locked.display_name,
            provider=locked.provider,
            tenant_id=locked.tenant_id,
            requested_by_id=user_id,
        )
        # Inside the transaction: once it commits, the task may already have deleted the row.
        connection.refresh_from_db()
        task_enqueue_on_commit(
            "integrations.tasks.connection_delete", deletion.pk, task_name=f"connection-delete-{deletion.pk}"
        )
    return deletion


# Rows that belong to a connection without a foreign key to it (added by the apps that own them).
_registered: list[tuple[type[models.Model], str]] = []


def connection_data_register(*, model: type[models.Model], field_name: str) -> Callable[[], None]:
    """Declare that `model`'s rows whose `field_name` is a connection belong to it: they are deleted with
    it and counted in its deletion's progress. Models with a foreign key to `Connection` need not be
    declared (they are found on their own). Returns the undo (for tests and reloads)."""
    entry = (model, field_name)
    if entry not in _registered:
        _registered.append(entry)

    def unregister() -> None:
        if entry in _registered:
            _registered.remove(entry)

    return unregister


def connection_data_relations() -> list[tuple[type[models.Model], str]]:
    """Every model that belongs to a connection (mirrored records and the like), and its field: those with
    a foreign key to it, then the declared ones. OAuth states are not data: they go with the connection."""
    found = [
        (relation.related_model, relation.field.name)
        for relation in Connection._meta.related_objects
        if relation.one_to_many
        and isinstance(relation.related_model, type)
        and relation.related_model is not OAuthState
    ]
    return [*found, *(entry for entry in _registered if entry not in found)]


def connection_delete_run(*, deletion_id: int) -> ConnectionDeletion:
    """Delete a connection and everything mirrored from it, in batches, recording progress."""
    deletion = ConnectionDeletion.objects.get(pk=deletion_id)
    if deletion.status == ConnectionDeletionStatusChoices.SUCCEEDED:
        return deletion
    connection = Connection.objects.filter(pk=deletion.connection_id).first()
    # A retried deletion starts afresh: its earlier failure is no longer its error.
    job_start(deletion, status=ConnectionDeletionStatusChoices.RUNNING, values={"error": ""})
    if connection is None:
        return _deletion_finish(deletion, ConnectionDeletionStatusChoices.SUCCEEDED)
    try:
        try:
            deletion.revoked = connection_revoke_at_ledger(connection=connection)
        except ProviderError as exc:
            # The data is deleted anyway; staff can revoke in the ledger's UI. Say so.
            deletion.error = f"Access could not be revoked at the ledger: {exc.message}"
        relations = connection_data_relations()
        totals = {
            model._meta.label: model._default_manager.filter(**{field_name: connection}).count()
            for model, field_name in relations
        }
        deletion.rows_total = sum(totals.values())
        deletion.progress = {
            label: {"total": total, "deleted": 0} for label, total in totals.items() if total
        }
        deletion.save(update_fields=["revoked", "error", "rows_total", "progress"])
        _delete_rows(deletion, connection, relations)
        with transaction.atomic():
            credential_id = connection.credential_id
            connection.delete()
            if credential_id:
                Credential.objects.filter(pk=credential_id, connections__isnull=True).delete()
    except Exception as exc:
        logger.exception("Connection deletion failed", extra={"deletion": deletion_id})
        return _deletion_finish(
            deletion, ConnectionDeletionStatusChoices.FAILED, f"{type(exc).__name__}: {exc}"
        )
    return _deletion_finish(deletion, ConnectionDeletionStatusChoices.SUCCEEDED)


def _delete_rows(
    deletion: ConnectionDeletion, connection: Connection, relations: list[tuple[type[models.Model], str]]
) -> None:
    pending = list(relations)
    while pending:
        progressed = False
        for model, field_name in list(pending):
            label = model._meta.label
            try:
                while True:
                    batch = list(
                        model._default_manager.filter(**{field_name: connection}).values_list(
                            "pk", flat=True
                        )[:DELETE_BATCH_SIZE]
                    )
                    if not batch:
                        break
                    with transaction.atomic():
                        model._default_manager.filter(pk__in=batch).delete()
                    progressed = True
                    deletion.rows_deleted += len(batch)
                    # Rows may have arrived since they were counted (a pull that was finishing).
                    deletion.progress.setdefault(label, {"total": 0, "deleted": 0})["deleted"] += len(batch)
                    deletion.save(update_fields=["rows_deleted", "progress"])
            except ProtectedError:
                continue  # something else still refers to these rows: delete that first
            pending.remove((model, field_name))
        if pending and not progressed:
            raise Conflict(f"Rows of {', '.join(m._meta.label for m, _ in pending)} are still referred to.")


def _deletion_finish(deletion: ConnectionDeletion, status: str, error: str = "") -> ConnectionDeletion:
    # No error keeps the one the run recorded (a revocation that failed while the deletion went ahead).
    job_finish(deletion, status=status, error=error or None)
    return deletion
