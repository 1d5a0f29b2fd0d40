"""Badge colours of the connection, deletion and sync states (classes in templates/admin/integrations/styles.html),
shared by their list pages and the dashboard so a state looks the same on both."""

from __future__ import annotations

from integrations.choices import (
    ConnectionDeletionStatusChoices,
    ConnectionHealthChoices,
    ConnectionStatusChoices,
    SyncRunStatusChoices,
    SyncStateChoices,
)

STATUS_COLOURS: dict[str, str] = {
    ConnectionStatusChoices.ACTIVE: "green",
    ConnectionStatusChoices.PENDING: "grey",
    ConnectionStatusChoices.NEEDS_REAUTH: "orange",
    ConnectionStatusChoices.DISCONNECTED: "grey",
    ConnectionStatusChoices.DELETING: "red",
}
HEALTH_COLOURS: dict[str, str] = {
    ConnectionHealthChoices.OK: "green",
    ConnectionHealthChoices.FAILING: "red",
    ConnectionHealthChoices.UNKNOWN: "grey",
}
DELETION_COLOURS: dict[str, str] = {
    ConnectionDeletionStatusChoices.QUEUED: "grey",
    ConnectionDeletionStatusChoices.RUNNING: "orange",
    ConnectionDeletionStatusChoices.SUCCEEDED: "green",
    ConnectionDeletionStatusChoices.FAILED: "red",
}
RUN_COLOURS: dict[str, str] = {
    SyncRunStatusChoices.QUEUED: "grey",
    SyncRunStatusChoices.RUNNING: "grey",
    SyncRunStatusChoices.WAITING: "orange",
    SyncRunStatusChoices.SUCCEEDED: "green",
    SyncRunStatusChoices.FAILED: "red",
    SyncRunStatusChoices.INTERRUPTED: "orange",
    SyncRunStatusChoices.CANCELLED: "grey",
}
STATE_COLOURS: dict[str, str] = {
    SyncStateChoices.NEVER: "grey",
    SyncStateChoices.SYNCING: "grey",
    SyncStateChoices.SYNCED: "green",
    SyncStateChoices.PARTIALLY_SYNCED: "orange",
    SyncStateChoices.FAILED: "red",
    SyncStateChoices.PAUSED: "orange",
    SyncStateChoices.DISABLED: "grey",
}
