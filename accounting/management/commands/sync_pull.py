"""Pull a connection's entity families now, in this process, and print what each run did."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounting.services import connection_pull_now
from core.errors import LedgerlinkError
from integrations.models import Connection


class Command(BaseCommand):
    help = "Pull entity families of a connection from its ledger now (incremental unless --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--connection", type=int, required=True, help="Connection id.")
        parser.add_argument("--entity", action="append", dest="entities", help="Family key; repeatable.")
        parser.add_argument("--full", action="store_true", help="A complete resync (detects deletions).")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = Connection.objects.filter(pk=options["connection"]).first()
        if connection is None:
            raise CommandError(f"No connection {options['connection']}.")
        try:
            runs = connection_pull_now(
                connection=connection, entities=options["entities"], full=options["full"]
            )
        except LedgerlinkError as exc:
            raise CommandError(exc.message) from None
        failed = False
        for run in runs:
            failed |= run.status != "succeeded"
            self.stdout.write(
                f"{run.entity:20} {run.status:10} {run.mode:11} calls={run.api_calls} pages={run.pages} "
                f"fetched={run.fetched} created={run.created} updated={run.updated} "
                f"unchanged={run.unchanged} deleted={run.deleted}"
                + (f" error={run.error}" if run.error else "")
            )
        if failed:
            raise CommandError("Some families failed.")
