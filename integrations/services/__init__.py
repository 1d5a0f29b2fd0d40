"""Use cases of connections: connect and reconnect through OAuth, custom connections, settings, health
checks, disconnect and delete. Views, admin actions and tasks call these and nothing below them.

Split by concern: `oauth` (authorise, callback, storing connections), `connections` (custom connections,
settings, the health test, disconnecting), `deletion` and `maintenance` (the scheduled round). The names
below are the public ones; callers import them from here."""

from integrations.services.connections import (
    HealthResult,
    connection_custom_create,
    connection_disconnect,
    connection_revoke_at_ledger,
    connection_test,
    connection_update,
)
from integrations.services.deletion import (
    connection_data_register,
    connection_data_relations,
    connection_delete_request,
    connection_delete_run,
)
from integrations.services.maintenance import (
    connections_due_for_health_check,
    connections_maintain,
    credential_keep_fresh,
    credentials_due_for_refresh,
)
from integrations.services.oauth import (
    STATE_LIFETIME,
    AuthorizeStart,
    CallbackResult,
    OAuthFailed,
    browser_cookie_name,
    connection_tenant_apply,
    connections_store,
    oauth_authorize_start,
    oauth_callback_complete,
)

__all__ = [
    "STATE_LIFETIME",
    "AuthorizeStart",
    "CallbackResult",
    "HealthResult",
    "OAuthFailed",
    "browser_cookie_name",
    "connection_custom_create",
    "connection_data_register",
    "connection_data_relations",
    "connection_delete_request",
    "connection_delete_run",
    "connection_disconnect",
    "connection_revoke_at_ledger",
    "connection_tenant_apply",
    "connection_test",
    "connection_update",
    "connections_due_for_health_check",
    "connections_maintain",
    "connections_store",
    "credential_keep_fresh",
    "credentials_due_for_refresh",
    "oauth_authorize_start",
    "oauth_callback_complete",
]
