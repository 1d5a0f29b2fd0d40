from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py demo`: Ledgerlink with the sandbox's ledgers, connected, in one command. Installed by the
    development settings only; it meets the sandbox as any client does, never by importing it."""

    name = "demo"
    verbose_name = "Demo"
