"""`manage.py sandbox_import xero|qbo --org <tenant id or name> <file.json|dir>`: load real ledger payloads
into an emulated organisation or company, keeping every id, number, date and amount."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.choices import SandboxProviderChoices
from sandbox.imports import ImportFailed, ImportReport
from sandbox.models import Tenant
from sandbox.qbo.fixtures import qbo_path_import
from sandbox.xero.fixtures import xero_path_import

TENANT_NOUNS: dict[str, str] = {
    SandboxProviderChoices.XERO: "Xero organisation",
    SandboxProviderChoices.QBO: "QuickBooks company",
}
IMPORTERS: dict[str, Callable[..., ImportReport]] = {
    SandboxProviderChoices.XERO: xero_path_import,
    SandboxProviderChoices.QBO: qbo_path_import,
}


class Command(BaseCommand):
    help = "Import Xero or QBO API payloads (response bodies) into a sandbox organisation or company."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=list(IMPORTERS))
        parser.add_argument("path", type=Path, help="A .json payload, or a directory of them.")
        parser.add_argument("--org", required=True, help="The tenant id (realm id for QBO), or its name.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        provider = options["provider"]
        tenant = self._tenant(provider, options["org"])
        try:
            report = IMPORTERS[provider](tenant=tenant, path=path)
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        for collection, count in sorted(report.counts.items()):
            self.stdout.write(f"{collection}: {count}")
        if report.skipped:
            self.stdout.write(f"Skipped (not emulated): {', '.join(report.skipped)}")
        total = sum(report.counts.values())
        self.stdout.write(self.style.SUCCESS(f"Imported {total} documents into {tenant.name}."))

    def _tenant(self, provider: str, reference: str) -> Tenant:
        tenants = Tenant.objects.filter(provider=provider)
        found = list(tenants.filter(tenant_id=reference)) or list(tenants.filter(name__iexact=reference))
        noun = TENANT_NOUNS[provider]
        if not found:
            raise CommandError(f"No {noun} has the id or name {reference!r}.")
        if len(found) > 1:
            raise CommandError(f"{len(found)} {noun}s are named {reference!r}; use the tenant id.")
        return found[0]
