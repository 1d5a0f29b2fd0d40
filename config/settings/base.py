"""Settings shared by every environment. Everything that varies comes from the environment (.env.example)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("LEDGERLINK_VAR_DIR", str(BASE_DIR / "var")))

SECRET_KEY = env_str("SECRET_KEY")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "django_q",
    "core",
    "integrations",
    "accounting",
    "mappings",
    "conflicts",
    "webhooks",
]

MIDDLEWARE = [
    "core.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as its documentation asks: it turns a lockout found during the view into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

# Failed logins (the admin's and the API token endpoint's) lock out by user name and, separately, by client
# address, whatever X-Forwarded-For claims (core.network reads it only through trusted proxies).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "core.network.client_ip"
AXES_LOCKOUT_CALLABLE = "core.network.lockout_response"
AXES_VERBOSE = False

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'ledgerlink.sqlite3'}"


def database_from_url(url: str) -> dict[str, Any]:
    """One place that turns a URL into Django's DATABASES entry, with the options each engine needs."""
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60), conn_health_checks=True)
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # The web server, the task cluster and the sandbox write concurrently: WAL lets readers go on
        # while one writer works, IMMEDIATE takes the write lock up front so a transaction never fails
        # half-way with "database is locked", and the busy timeout makes writers queue instead of failing.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        }
        config.pop("CONN_HEALTH_CHECKS", None)
    elif config["ENGINE"] == "django.db.backends.postgresql":
        # Parameters travel beside the query (psycopg's server-side binding) instead of being quoted
        # into its text: a 1,000-record upsert with its lines spent most of its client CPU quoting.
        config.setdefault("OPTIONS", {})["server_side_binding"] = True
    return config


DATABASES = {"default": database_from_url(env_str("DATABASE_URL", DEFAULT_DATABASE_URL))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (also where django-q2 keeps cluster heartbeats, so it must be shared across processes) -----
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "ledgerlink_cache"}
    }

# --- Task queue -----------------------------------------------------------------------------------------
Q_CLUSTER: dict[str, object] = {
    "name": "ledgerlink",
    "workers": env_int("Q_WORKERS", 2),
    "timeout": env_int("Q_TIMEOUT", 600),
    # retry must exceed timeout, or a long task is handed to a second worker while the first still runs.
    "retry": env_int("Q_TIMEOUT", 600) + 60,
    "max_attempts": 1,
    "save_limit": env_int("Q_SAVE_LIMIT", 10000),
    "queue_limit": 50,
    "label": "Task queue",
    "catch_up": False,
}
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"
    Q_CLUSTER["poll"] = 0.5

# --- Auth, i18n, static ---------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- API ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Closed by default: an endpoint is public only when its view says so explicitly, and every other one
    # needs the permission its action declares.
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.ActionPermission"],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.PageNumberPagination",
    # JSON capped in size and depth before it is parsed (core.api.parsers); forms as DRF reads them (flat,
    # and capped by DATA_UPLOAD_MAX_MEMORY_SIZE).
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.LimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "core.api.filters.StrictFilterBackend",
        "core.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.PermissionAutoSchema",
    "EXCEPTION_HANDLER": "core.api.exceptions.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE_RATE", "20/min")},
    # The throttle's client address: X-Forwarded-For only through the deployment's own proxies.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# API tokens (django-rest-knox, stored as digests): one from a username and password lasts a working day;
# a machine client's service token a year unless made with its own expiry (`manage.py api_client_create`).
KNOX_TOKEN_MODEL = "core.ApiToken"  # noqa: S105 (a model name)
API_TOKEN_TTL_HOURS = env_int("API_TOKEN_TTL_HOURS", 10)
API_SERVICE_TOKEN_TTL_DAYS = env_int("API_SERVICE_TOKEN_TTL_DAYS", 365)
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=API_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    # The OpenAPI schema and existing clients send `Authorization: Token <key>`, as with DRF's tokens.
    "AUTO_REFRESH": False,
}

API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2_621_440)
API_JSON_MAX_DEPTH = env_int("API_JSON_MAX_DEPTH", 32)
# Django's own cap on a request body read into memory (forms, the admin), the same figure.
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

SPECTACULAR_SETTINGS = {
    "TITLE": "Ledgerlink API",
    "DESCRIPTION": (
        "Ledgerlink mirrors a business's Xero and QuickBooks Online ledgers and keeps them in sync. "
        "Authenticate with `Authorization: Token <key>` (POST /api/v1/auth/token/) or a staff session."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The API's documentation is public on purpose; every operation it describes still needs staff auth.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+",
    "COMPONENT_SPLIT_REQUEST": True,
    # The mirror's shared vocabularies, named once in the schema.
    "ENUM_NAME_OVERRIDES": {
        "RecordStatusEnum": "accounting.choices.RecordStatusChoices",
        "DocumentStatusEnum": "accounting.choices.DocumentStatusChoices",
        "DocumentKindEnum": "accounting.choices.DocumentKindChoices",
        "PaymentKindEnum": "accounting.choices.PaymentKindChoices",
        "TrackingKindEnum": "accounting.choices.TrackingKindChoices",
        "ItemTypeEnum": "accounting.choices.ItemTypeChoices",
        "AccountClassificationEnum": "accounting.choices.AccountClassificationChoices",
        "AllocationTargetEnum": "accounting.choices.AllocationTargetChoices",
        # Background jobs (exports, connection deletions) share these states.
        "JobStatusEnum": "accounting.choices.ExportJobStatusChoices",
    },
}

# --- The ledgers: where each one lives is deployment configuration -------------------------------------
XERO_LOGIN_URL = env_str("XERO_LOGIN_URL", "https://login.xero.com")
XERO_IDENTITY_URL = env_str("XERO_IDENTITY_URL", "https://identity.xero.com")
XERO_API_URL = env_str("XERO_API_URL", "https://api.xero.com")
QBO_DISCOVERY_URL = env_str(
    "QBO_DISCOVERY_URL", "https://developer.api.intuit.com/.well-known/openid_configuration"
)
QBO_API_URL = env_str("QBO_API_URL", "https://quickbooks.api.intuit.com")
LEDGER_URL_SETTINGS = (
    "XERO_LOGIN_URL",
    "XERO_IDENTITY_URL",
    "XERO_API_URL",
    "QBO_DISCOVERY_URL",
    "QBO_API_URL",
)
# The apps Ledgerlink acts as at each ledger (a connection may override them with its own).
XERO_CLIENT_ID = env_str("XERO_CLIENT_ID")
XERO_CLIENT_SECRET = env_str("XERO_CLIENT_SECRET")
XERO_SCOPES = env_str(
    "XERO_SCOPES",
    "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings "
    "accounting.journals.read",
)
QBO_CLIENT_ID = env_str("QBO_CLIENT_ID")
QBO_CLIENT_SECRET = env_str("QBO_CLIENT_SECRET")
QBO_SCOPES = env_str("QBO_SCOPES", "com.intuit.quickbooks.accounting")
# Where browsers reach Ledgerlink (https://ledgerlink.example.com); OAuth redirect URIs are built from it.
# Empty: taken from each request, which is right unless a proxy rewrites the host.
LEDGERLINK_PUBLIC_URL = env_str("LEDGERLINK_PUBLIC_URL").rstrip("/")
# Plain http to a ledger is a deployment mistake except against a local sandbox or recording proxy.
LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS = env_bool("LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS", False)

# --- Pull sync ---------------------------------------------------------------------------------------------
# Start a connection's first full sync as soon as it is connected (else the minute dispatcher starts it).
SYNC_ON_CONNECT = env_bool("SYNC_ON_CONNECT", True)
# An incremental pull reads from the last complete pass's high-water mark minus this many seconds.
SYNC_OVERLAP_SECONDS = env_int("SYNC_OVERLAP_SECONDS", 300)
# A running sync run without a heartbeat for this long is taken for dead and restarted.
SYNC_STALE_SECONDS = env_int("SYNC_STALE_SECONDS", 300)
# Rate-limit waits up to this long are slept through; longer ones give the worker back and resume later.
SYNC_MAX_INLINE_WAIT_SECONDS = float(env_str("SYNC_MAX_INLINE_WAIT_SECONDS", "15"))
# Retries of one ledger call that failed transiently (5xx, timeout), with exponential backoff and jitter.
SYNC_MAX_RETRIES = env_int("SYNC_MAX_RETRIES", 5)
SYNC_RETRY_BASE_SECONDS = float(env_str("SYNC_RETRY_BASE_SECONDS", "1"))
# Rate-limit windows are divided by this (tests against a sandbox whose clock runs faster); 1 in production.
RATE_LIMIT_TIME_SCALE = float(env_str("RATE_LIMIT_TIME_SCALE", "1"))

# --- Exports of entity lists -------------------------------------------------------------------------
# A filtered list of more rows than this is exported in the background (202 and an export to follow).
EXPORT_SYNC_MAX_ROWS = env_int("EXPORT_SYNC_MAX_ROWS", 10000)
# Where background exports write their files.
EXPORT_DIR = Path(env_str("EXPORT_DIR", str(VAR_DIR / "exports")))
# Hours a background export's file stays downloadable; an hourly task deletes it after that.
EXPORT_KEEP_HOURS = env_int("EXPORT_KEEP_HOURS", 72)

# --- The sandbox: installed only by the settings that import config.settings.sandboxed ------------------
# Whether those settings mount it under /sandbox/ (production never installs it).
LEDGERLINK_SANDBOX_ENABLED = env_bool("LEDGERLINK_SANDBOX_ENABLED", False)

# --- Encryption of stored credentials -------------------------------------------------------------------
LEDGERLINK_ENCRYPTION_KEYS = env_list("LEDGERLINK_ENCRYPTION_KEYS")


def validate_encryption_keys(keys: list[str]) -> None:
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"LEDGERLINK_ENCRYPTION_KEYS: key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`).'
            ) from None


validate_encryption_keys(LEDGERLINK_ENCRYPTION_KEYS)

# --- Admin bootstrap ------------------------------------------------------------------------------------
LEDGERLINK_ADMIN_USERNAME = env_str("LEDGERLINK_ADMIN_USERNAME", "admin")
LEDGERLINK_ADMIN_EMAIL = env_str("LEDGERLINK_ADMIN_EMAIL", "admin@localhost")

# --- Logging: one JSON object per line, with the request id; secrets scrubbed -------------------------
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "core.logging.RequestIdFilter"},
        "redact": {"()": "core.logging.RedactSecretsFilter"},
    },
    "formatters": {"json": {"()": "core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "redact"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Our own request log line replaces runserver's, which would log each request a second time.
        "django.server": {"handlers": [], "level": "ERROR", "propagate": False},
        "django.db.backends": {"level": "WARNING"},
        "django-q": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
    },
}
