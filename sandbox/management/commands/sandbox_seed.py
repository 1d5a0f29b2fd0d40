from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q

from sandbox.choices import SandboxProviderChoices
from sandbox.models import Tenant
from sandbox.qbo.seed import company_seed
from sandbox.seeding import SeedReport
from sandbox.xero.seed import organisation_seed


def _seed_xero(
    tenant: Tenant, *, contacts: int, invoices: int, seed: int, say: Callable[[str], None]
) -> SeedReport:
    return organisation_seed(tenant=tenant, contacts=contacts, invoices=invoices, seed=seed, progress=say)


def _seed_qbo(
    tenant: Tenant, *, contacts: int, invoices: int, seed: int, say: Callable[[str], None]
) -> SeedReport:
    return company_seed(
        tenant=tenant,
        customers=contacts,
        invoices=invoices,
        seed=seed,
        progress=lambda stage, done, total: say(f"{stage}: {done}/{total}"),
    )


SEEDERS = {SandboxProviderChoices.XERO.value: _seed_xero, SandboxProviderChoices.QBO.value: _seed_qbo}
# --create defaults: a UK organisation for Xero, a US company for QBO (the ledgers' own demo companies).
CREATE_DEFAULTS = {
    SandboxProviderChoices.XERO.value: ("GB", "GBP"),
    SandboxProviderChoices.QBO.value: ("US", "USD"),
}


class Command(BaseCommand):
    help = (
        "Fill an empty sandbox organisation with a coherent, deterministic set of documents (the same seed "
        "gives the same documents): "
        "`sandbox_seed xero --org 'Demo Company' --create --contacts 200 --invoices 5000 --seed 1` "
        "(for qbo, --contacts is the number of customers)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("provider", choices=list(SEEDERS))
        parser.add_argument("--org", required=True, help="The organisation's tenant id or name.")
        parser.add_argument(
            "--create", action="store_true", help="Create the organisation if it does not exist."
        )
        parser.add_argument(
            "--country", help="For --create: GB, NZ, AU or US (default GB for xero, US for qbo)."
        )
        parser.add_argument(
            "--currency", help="For --create: the base currency (default GBP for xero, USD for qbo)."
        )
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
                country=options["country"] or CREATE_DEFAULTS[provider][0],
                base_currency=options["currency"] or CREATE_DEFAULTS[provider][1],
            )
        try:
            report = SEEDERS[provider](
                tenant,
                contacts=options["contacts"],
                invoices=options["invoices"],
                seed=options["seed"],
                say=lambda message: self.stdout.write(f"  {message}"),
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        for collection, count in sorted(report.counts.items()):
            self.stdout.write(f"  {collection}: {count}")
        invoices = report.counts.get("Invoices", report.counts.get("Invoice", 0))
        rate = invoices / report.seconds if report.seconds else 0.0
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {tenant.name} ({tenant.tenant_id}) in {report.seconds:.1f}s ({rate:.0f} invoices/s)."
            )
        )
