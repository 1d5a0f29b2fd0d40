"""Background work of connections. Thin: ids in, one service call."""

from __future__ import annotations

from integrations import services, sync
from integrations.models import Connection


def connection_delete(deletion_id: int) -> str:
    return services.connection_delete_run(deletion_id=deletion_id).status


def credential_keep_fresh(credential_id: int) -> None:
    services.credential_keep_fresh(credential_id=credential_id)


def connection_health_check(connection_id: int) -> bool | None:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return None
    return services.connection_test(connection=connection).ok


def connections_maintain() -> dict[str, int]:
    return services.connections_maintain()


def sync_dispatch() -> dict[str, int]:
    result = sync.sync_dispatch()
    return {"scheduled": result.scheduled, "resumed": result.resumed, "restarted": result.restarted}


def connection_sync_first(connection_id: int) -> int:
    connection = Connection.objects.filter(pk=connection_id).first()
    if connection is None:
        return 0
    return len(sync.sync_first(connection=connection))
