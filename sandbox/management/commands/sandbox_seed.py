from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.xero.seed import organisation_seed


class Command(BaseCommand):
    help = (
        "Fill an empty sandbox organisation with a coherent, deterministic set of documents (the same seed "
        "gives the same documents): "
        "`sandbox_seed xero --org 'Demo Company' --create --contacts 200 --invoices 5000 --seed 1`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=[SandboxProviderChoices.XERO])
        parser.add_argument("--org", required=True, help="The organisation's tenant id or name.")
        parser.add_argument(
            "--create", action="store_true", help="Create the organisation if it does not exist."
        )
        parser.add_argument("--country", default="GB", help="For --create: GB, NZ, AU or US.")
        parser.add_argument("--currency", default="GBP", help="For --create: the base currency.")
        parser.add_argument("--contacts", type=int, default=100)
        parser.add_argument("--invoices", type=int, default=1000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, **options: Any) -> None:
        provider = options["provider"]
        if options["contacts"] < 1 or options["invoices"] < 0:
            # Checked before --create makes an organisation that would stay empty.
            raise CommandError("An organisation needs at least one contact, and no fewer than 0 invoices.")
        tenant = Tenant.objects.filter(
            Q(tenant_id=options["org"]) | Q(name=options["org"]), provider=provider
        ).first()
        if tenant is None:
            if not options["create"]:
                raise CommandError(
                    f"No {provider} organisation has the id or name {options['org']!r} (add --create)."
                )
            tenant = Tenant.objects.create(
                provider=provider,
                name=options["org"],
                country=options["country"],
                base_currency=options["currency"],
            )
        try:
            report = organisation_seed(
                tenant=tenant,
                contacts=options["contacts"],
                invoices=options["invoices"],
                seed=options["seed"],
                progress=lambda message: self.stdout.write(f"  {message}"),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for collection, count in sorted(report.counts.items()):
            self.stdout.write(f"  {collection}: {count}")
        rate = report.counts.get("Invoices", 0) / report.seconds if report.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {tenant.name} ({tenant.tenant_id}) in {report.seconds:.1f}s ({rate:.0f} invoices/s)."
            )
        )
