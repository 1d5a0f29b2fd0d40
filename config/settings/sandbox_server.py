"""The sandbox alone, on its own port, as a separate process (benchmarks): `manage.py sandbox_serve
--port 8100 --settings=config.settings.sandbox_server`. Development settings, sandbox-only routes.

The control API token is given with `sandbox_serve --control-token`; the sandbox reads the optional
settings SANDBOX_CONTROL_TOKEN, SANDBOX_PUBLIC_URL, SANDBOX_WEBHOOK_SENDER and SANDBOX_WEBHOOK_TIMEOUT with
getattr, so none has to be defined here."""

from config.settings.dev import *  # noqa: F403

ROOT_URLCONF = "sandbox.urls_standalone"
