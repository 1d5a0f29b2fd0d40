from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sandbox.consent import ConsentError, consent_give


class Command(BaseCommand):
    help = (
        "Answer a sandbox consent screen as the user would and print the URL the browser is sent to next: "
        "`sandbox_consent '<authorize url>' --tenant <id> [--tenant <id>] [--deny]`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("authorize_url")
        parser.add_argument(
            "--tenant", action="append", default=[], help="Organisation/company id to authorise."
        )
        parser.add_argument("--deny", action="store_true", help="Decline instead of allowing.")

    def handle(self, *args: Any, **options: Any) -> str:
        try:
            location = consent_give(
                options["authorize_url"], tenant_ids=options["tenant"], allow=not options["deny"]
            )
        except ConsentError as exc:
            raise CommandError(str(exc)) from None
        return location
