"""Production: refuses to start without its secrets; secure cookies, HSTS and TLS by default."""

from urllib.parse import urlparse

from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, require
from config.settings.base import *  # noqa: F403
from config.settings.base import (
    ALLOWED_HOSTS,
    LEDGER_URL_SETTINGS,
    LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS,
    LEDGERLINK_ENCRYPTION_KEYS,
    SECRET_KEY,
)

DEBUG = False

require("SECRET_KEY", SECRET_KEY, "Production needs a long random secret key.")
require(
    "LEDGERLINK_ENCRYPTION_KEYS",
    LEDGERLINK_ENCRYPTION_KEYS,
    "Production needs at least one Fernet key to encrypt ledger credentials at rest.",
)
require("ALLOWED_HOSTS", env_list("ALLOWED_HOSTS"), "Production needs the host names it serves.")

for _name in LEDGER_URL_SETTINGS:
    _url = globals()[_name]
    if urlparse(_url).scheme != "https" and not LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS:
        raise ImproperlyConfigured(
            f"{_name}={_url!r} is not https. Set LEDGERLINK_ALLOW_INSECURE_LEDGER_URLS=true only for a "
            "sandbox or recording proxy you trust."
        )

ALLOWED_HOSTS = ALLOWED_HOSTS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Preloading HSTS binds the whole registrable domain for months; that is the operator's call, so it is
# opt-in, and the check that nags about it is silenced only while it is off.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
