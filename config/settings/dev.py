"""Local development and the demo: SQLite by default, debug on, the sandbox as the ledgers."""

from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import LEDGERLINK_ENCRYPTION_KEYS, STATIC_ROOT
from config.settings.sandboxed import *  # noqa: F403
from config.settings.sandboxed import INSTALLED_APPS

DEBUG = env_bool("DEBUG", True)
# Development only: never used when DJANGO_SETTINGS_MODULE is config.settings.prod.
SECRET_KEY = env_str("SECRET_KEY") or "dev-only-insecure-key-do-not-use-in-production-3f1c9a7e5b"
if not LEDGERLINK_ENCRYPTION_KEYS:
    # A fixed development key, so a restarted demo can still read the tokens it stored.
    LEDGERLINK_ENCRYPTION_KEYS = ["ZGV2LW9ubHktbGVkZ2VybGluay1rZXktMzJieXRlcyE="]
LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS = True
INSTALLED_APPS = [*INSTALLED_APPS, "demo"]
LEDGERLINK_SANDBOX_ENABLED = env_bool("LEDGERLINK_SANDBOX_ENABLED", True)
if LEDGERLINK_SANDBOX_ENABLED:
    # The demo's ledgers are the sandbox mounted in the same server, unless the environment says otherwise.
    _sandbox = f"http://{env_str('DEMO_HOST', '127.0.0.1')}:{env_str('DEMO_PORT', '8000')}/sandbox"
    XERO_LOGIN_URL = env_str("XERO_LOGIN_URL", f"{_sandbox}/xero/login")
    XERO_IDENTITY_URL = env_str("XERO_IDENTITY_URL", f"{_sandbox}/xero/identity")
    XERO_API_URL = env_str("XERO_API_URL", f"{_sandbox}/xero/api")
    QBO_DISCOVERY_URL = env_str("QBO_DISCOVERY_URL", f"{_sandbox}/qbo/.well-known/openid_configuration")
    QBO_API_URL = env_str("QBO_API_URL", f"{_sandbox}/qbo")
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # creates VAR_DIR too; whitenoise warns if absent
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
