from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import URLValidator
from django.db.models import Q

from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant


def app_credentials(app: SandboxApp) -> dict[str, Any]:
    return {
        "provider": app.provider,
        "name": app.name,
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "webhook_key": app.webhook_key,
        "webhook_url": app.webhook_url,
        "redirect_uris": app.redirect_uris,
        "custom_connection_tenant": (
            app.custom_connection_tenant.tenant_id if app.custom_connection_tenant else None
        ),
    }


class Command(BaseCommand):
    help = (
        "Register or list sandbox developer apps and print their credentials: "
        "`sandbox_app create --provider xero --name Ledgerlink --redirect-uri http://127.0.0.1:8000/cb "
        "--webhook-url http://127.0.0.1:8000/webhooks/xero --if-missing`, `sandbox_app list`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "list"])
        parser.add_argument("--provider", choices=SandboxProviderChoices.values, default=None)
        parser.add_argument("--name", help="create: the app's name (unique per provider with --if-missing).")
        parser.add_argument(
            "--redirect-uri", action="append", default=[], dest="redirect_uris", help="Repeatable."
        )
        parser.add_argument("--webhook-url", default="")
        parser.add_argument(
            "--webhook-format", choices=["legacy", "cloudevents"], default="legacy", help="QBO only."
        )
        parser.add_argument(
            "--custom-connection-tenant",
            help="Xero custom connection: the tenant id or name of the one organisation it reaches.",
        )
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="If an app of this provider and name exists, print it unchanged instead of creating another.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON (one object, or a list).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            apps = SandboxApp.objects.select_related("custom_connection_tenant").order_by("provider", "name")
            if options["provider"]:
                apps = apps.filter(provider=options["provider"])
            self._print([app_credentials(app) for app in apps], options["json"])
            return
        app = self._create(options)
        self._print(app_credentials(app), options["json"])

    def _create(self, options: dict[str, Any]) -> SandboxApp:
        provider, name = options["provider"], options["name"]
        if not provider or not name:
            raise CommandError("create needs --provider and --name.")
        if options["if_missing"]:
            existing = SandboxApp.objects.filter(provider=provider, name=name).order_by("id").first()
            if existing is not None:
                return existing
        validate = URLValidator(schemes=["http", "https"])
        for url in [*options["redirect_uris"], *([options["webhook_url"]] if options["webhook_url"] else [])]:
            try:
                validate(url)
            except Exception:
                raise CommandError(f"Not an http(s) URL: {url!r}") from None
        tenant = None
        if options["custom_connection_tenant"]:
            ref = options["custom_connection_tenant"]
            tenant = Tenant.objects.filter(Q(tenant_id=ref) | Q(name=ref), provider=provider).first()
            if tenant is None:
                raise CommandError(f"No {provider} organisation has the id or name {ref!r}.")
        return SandboxApp.objects.create(
            provider=provider,
            name=name,
            redirect_uris=options["redirect_uris"],
            webhook_url=options["webhook_url"],
            webhook_format=options["webhook_format"],
            custom_connection_tenant=tenant,
        )

    def _print(self, data: dict[str, Any] | list[dict[str, Any]], as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(data, indent=2))
            return
        for app in data if isinstance(data, list) else [data]:
            self.stdout.write(f"{app['name']} ({app['provider']})")
            for key in (
                "client_id",
                "client_secret",
                "webhook_key",
                "webhook_url",
                "custom_connection_tenant",
            ):
                if app[key]:
                    self.stdout.write(f"  {key}: {app[key]}")
            for uri in app["redirect_uris"]:
                self.stdout.write(f"  redirect_uri: {uri}")
