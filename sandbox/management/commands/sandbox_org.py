from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant


def tenant_summary(tenant: Tenant) -> dict[str, Any]:
    return {
        "provider": tenant.provider,
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "base_currency": tenant.base_currency,
        "country": tenant.country,
        "short_code": tenant.short_code,
        "limit_concurrent": tenant.limit_concurrent,
        "limit_minute": tenant.limit_minute,
        "limit_day": tenant.limit_day,
        "time_scale": tenant.time_scale,
    }


class Command(BaseCommand):
    help = (
        "Create or list sandbox organisations (Xero) and companies (QBO): "
        "`sandbox_org create --provider xero --name 'Demo Company (UK)' --currency GBP --country GB "
        "--if-missing`, `sandbox_org list`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "list"])
        parser.add_argument("--provider", choices=SandboxProviderChoices.values, default=None)
        parser.add_argument("--name")
        parser.add_argument(
            "--currency", default=None, help="Base currency (default GBP for Xero, USD for QBO)."
        )
        parser.add_argument("--country", default=None, help="Two letters (default GB for Xero, US for QBO).")
        parser.add_argument("--short-code", default="")
        parser.add_argument(
            "--tenant-id", default="", help="A fixed tenant id / realm id (default: generated)."
        )
        parser.add_argument("--limit-concurrent", type=int)
        parser.add_argument("--limit-minute", type=int)
        parser.add_argument("--limit-day", type=int)
        parser.add_argument("--time-scale", type=float)
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="If an organisation of this provider and name exists, print it unchanged instead.",
        )
        parser.add_argument("--json", action="store_true", help="Print JSON (one object, or a list).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            tenants = Tenant.objects.order_by("provider", "name")
            if options["provider"]:
                tenants = tenants.filter(provider=options["provider"])
            self._print([tenant_summary(tenant) for tenant in tenants], options["json"])
            return
        self._print(tenant_summary(self._create(options)), options["json"])

    def _create(self, options: dict[str, Any]) -> Tenant:
        provider, name = options["provider"], options["name"]
        if not provider or not name:
            raise CommandError("create needs --provider and --name.")
        if options["if_missing"]:
            existing = Tenant.objects.filter(provider=provider, name=name).order_by("id").first()
            if existing is not None:
                return existing
        qbo = provider == SandboxProviderChoices.QBO
        tenant = Tenant(
            provider=provider,
            name=name,
            tenant_id=options["tenant_id"],
            base_currency=(options["currency"] or ("USD" if qbo else "GBP")).upper(),
            country=(options["country"] or ("US" if qbo else "GB")).upper(),
            short_code=options["short_code"],
        )
        for option, field in (
            ("limit_concurrent", "limit_concurrent"),
            ("limit_minute", "limit_minute"),
            ("limit_day", "limit_day"),
            ("time_scale", "time_scale"),
        ):
            if options[option] is not None:
                setattr(tenant, field, options[option])
        try:
            tenant.full_clean(exclude=["tenant_id"])
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        tenant.save()
        return tenant

    def _print(self, data: dict[str, Any] | list[dict[str, Any]], as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(data, indent=2))
            return
        for tenant in data if isinstance(data, list) else [data]:
            self.stdout.write(
                f"{tenant['name']} ({tenant['provider']}) tenant_id: {tenant['tenant_id']} "
                f"{tenant['base_currency']} {tenant['country']} "
                f"limits {tenant['limit_concurrent']}/{tenant['limit_minute']}/{tenant['limit_day']} "
                f"time_scale {tenant['time_scale']:g}"
            )
