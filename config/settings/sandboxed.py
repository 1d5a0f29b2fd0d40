"""The sandbox (local emulators of both ledgers), for the settings that install it: dev (and so the demo
and sandbox_server) and test import these names; prod never does, so production has no sandbox app,
database, router or routes.

    from config.settings.sandboxed import DATABASE_ROUTERS, DATABASES, INSTALLED_APPS  # after base"""

from config.env import env_bool, env_int, env_str
from config.settings.base import DATABASES as BASE_DATABASES
from config.settings.base import INSTALLED_APPS as BASE_INSTALLED_APPS
from config.settings.base import VAR_DIR, database_from_url

__all__ = [
    "DATABASES",
    "DATABASE_ROUTERS",
    "INSTALLED_APPS",
    "SANDBOX_CONTROL_TOKEN",
    "SANDBOX_PUBLIC_URL",
    "SANDBOX_QBO_ACCESS_TOKEN_SECONDS",
    "SANDBOX_QBO_REFRESH_ROTATE_SECONDS",
    "SANDBOX_WEBHOOK_SENDER",
    "SANDBOX_WEBHOOK_TIMEOUT",
    "SANDBOX_XERO_ACCESS_TOKEN_SECONDS",
]

INSTALLED_APPS = [*BASE_INSTALLED_APPS, "sandbox"]
DATABASES = {
    **BASE_DATABASES,
    # The sandbox keeps its data apart, as the real ledgers' data is.
    "sandbox": database_from_url(env_str("SANDBOX_DATABASE_URL", f"sqlite:///{VAR_DIR / 'sandbox.sqlite3'}")),
}
DATABASE_ROUTERS = ["sandbox.routers.SandboxRouter"]

# Optional bearer token for the sandbox's control API (/sandbox/control/); open when empty.
SANDBOX_CONTROL_TOKEN = env_str("SANDBOX_CONTROL_TOKEN")
# The address the sandbox uses in webhook resourceUrls when it cannot tell from a request.
SANDBOX_PUBLIC_URL = env_str("SANDBOX_PUBLIC_URL")
# Deliver webhooks from a background thread of the serving process (off: `manage.py sandbox_webhooks`).
SANDBOX_WEBHOOK_SENDER = env_bool("SANDBOX_WEBHOOK_SENDER", True)
SANDBOX_WEBHOOK_TIMEOUT = float(env_str("SANDBOX_WEBHOOK_TIMEOUT", "5"))
SANDBOX_XERO_ACCESS_TOKEN_SECONDS = env_int("SANDBOX_XERO_ACCESS_TOKEN_SECONDS", 1800)
SANDBOX_QBO_ACCESS_TOKEN_SECONDS = env_int("SANDBOX_QBO_ACCESS_TOKEN_SECONDS", 3600)
SANDBOX_QBO_REFRESH_ROTATE_SECONDS = env_int("SANDBOX_QBO_REFRESH_ROTATE_SECONDS", 86400)
