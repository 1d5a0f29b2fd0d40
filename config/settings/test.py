"""The test suite: SQLite unless DATABASE_URL points elsewhere (CI also runs it on PostgreSQL)."""

from config.env import env_bool, env_str
from config.settings.base import *  # noqa: F403
from config.settings.base import Q_CLUSTER, STATIC_ROOT
from config.settings.sandboxed import *  # noqa: F403
from config.settings.sandboxed import DATABASES, INSTALLED_APPS

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-any-deployment-9d2e4b6a8c"  # noqa: S105
LEDGERLINK_ENCRYPTION_KEYS = ["dGVzdC1vbmx5LWxlZGdlcmxpbmsta2V5LTMyYnl0ZXM="]
LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS = True
LEDGERLINK_SANDBOX_ENABLED = env_bool("LEDGERLINK_SANDBOX_ENABLED", True)
# The sandbox's control API answers only to a token (tests send it: tests/sandbox/test_control.py).
SANDBOX_CONTROL_TOKEN = env_str("SANDBOX_CONTROL_TOKEN") or "test-control-token"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and not env_str("SANDBOX_DATABASE_URL"):
    # On PostgreSQL the sandbox's tables get their own database on the same server, as in production.
    DATABASES["sandbox"] = {**DATABASES["default"], "NAME": f"{DATABASES['default']['NAME']}_sandbox"}
for _database in DATABASES.values():
    # Live-server request threads die with their connections open unless each request closes its own;
    # left open, they keep PostgreSQL from dropping the test databases at the end of the run.
    _database["CONN_MAX_AGE"] = 0
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # creates VAR_DIR too; whitenoise warns if absent
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A tiny app with one model, used to test the shared API base classes through a real endpoint.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.testapp"]
ROOT_URLCONF = "tests.testapp.urls"
# Tasks run in-process during tests unless a test starts a real cluster.
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Connection tests would otherwise pull every family on connect; the pull tests call it themselves.
SYNC_ON_CONNECT = env_bool("SYNC_ON_CONNECT", False)
