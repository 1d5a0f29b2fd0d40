"""`manage.py sandbox_import xero --org <tenant id or name> <file.json|dir>`: load real ledger payloads into
an emulated organisation, keeping every id, number, date and amount."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.xero.fixtures import ImportFailed, xero_path_import


class Command(BaseCommand):
    help = "Import Xero API payloads (GET response bodies) into a sandbox organisation."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=[SandboxProviderChoices.XERO.value])
        parser.add_argument("path", type=Path, help="A .json payload, or a directory of them.")
        parser.add_argument("--org", required=True, help="The organisation's tenant id, or its name.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        tenant = self._tenant(options["org"])
        try:
            report = xero_path_import(tenant=tenant, path=path)
        except ImportFailed as error:
            raise CommandError(str(error)) from error
        for collection, count in sorted(report.counts.items()):
            self.stdout.write(f"{collection}: {count}")
        if report.skipped:
            self.stdout.write(f"Skipped (not emulated): {', '.join(report.skipped)}")
        total = sum(report.counts.values())
        self.stdout.write(self.style.SUCCESS(f"Imported {total} documents into {tenant.name}."))

    def _tenant(self, reference: str) -> Tenant:
        tenants = Tenant.objects.filter(provider=SandboxProviderChoices.XERO)
        found = list(tenants.filter(tenant_id=reference)) or list(tenants.filter(name__iexact=reference))
        if not found:
            raise CommandError(f"No Xero organisation has the id or name {reference!r}.")
        if len(found) > 1:
            raise CommandError(f"{len(found)} Xero organisations are named {reference!r}; use the tenant id.")
        return found[0]
