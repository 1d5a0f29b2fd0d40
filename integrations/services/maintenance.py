"""Keeping connections healthy: renew ageing consents, check stale connections, forget expired OAuth
states. `connections_maintain` is the scheduled round; it queues the per-item tasks."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.db import models
from django.utils import timezone

from core.queue import task_enqueue_on_commit
from integrations.choices import ConnectionStatusChoices, CredentialKindChoices
from integrations.errors import NeedsReauthorisation
from integrations.models import Connection, Credential, OAuthState
from integrations.tokens import token_get

# Refresh a consent this long before its refresh token would die of disuse.
KEEP_FRESH_AHEAD = timedelta(days=45)
# Check the health of an active connection at least this often.
HEALTH_CHECK_EVERY = timedelta(hours=6)


def credentials_due_for_refresh() -> list[int]:
    """Consents whose refresh token would die of disuse within KEEP_FRESH_AHEAD."""
    horizon = timezone.now() + KEEP_FRESH_AHEAD
    return list(
        Credential.objects.filter(
            kind=CredentialKindChoices.AUTHORIZATION_CODE,
            refresh_expires_at__lt=horizon,
            connections__status__in=[ConnectionStatusChoices.ACTIVE, ConnectionStatusChoices.PENDING],
        )
        .distinct()
        .values_list("pk", flat=True)
    )


def credential_keep_fresh(*, credential_id: int) -> None:
    """Refresh now (whatever the access token's expiry), so the refresh token is renewed."""
    # A refused refresh is recorded on the connections, with the reason.
    with contextlib.suppress(NeedsReauthorisation):
        token_get(credential_id=credential_id, min_valid_seconds=float("inf"))


def connections_due_for_health_check() -> list[int]:
    stale = timezone.now() - HEALTH_CHECK_EVERY
    return list(
        Connection.objects.filter(
            status__in=[ConnectionStatusChoices.ACTIVE, ConnectionStatusChoices.PENDING]
        )
        .filter(models.Q(health_checked_at__isnull=True) | models.Q(health_checked_at__lt=stale))
        .values_list("pk", flat=True)
    )


def connections_maintain() -> dict[str, int]:
    """The scheduled round: renew ageing consents, check stale connections, forget expired OAuth states."""
    credential_ids = credentials_due_for_refresh()
    for credential_id in credential_ids:
        task_enqueue_on_commit("integrations.tasks.credential_keep_fresh", credential_id)
    connection_ids = connections_due_for_health_check()
    for connection_id in connection_ids:
        task_enqueue_on_commit("integrations.tasks.connection_health_check", connection_id)
    purged, _ = OAuthState.objects.filter(expires_at__lt=timezone.now() - timedelta(days=1)).delete()
    return {"credentials": len(credential_ids), "connections": len(connection_ids), "states_purged": purged}
