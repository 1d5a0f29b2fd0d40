import os
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.errors import InvalidInput
from core.services import admin_user_bootstrap


class Command(BaseCommand):
    help = (
        "Create the staff superuser if it does not exist. Username, email and password come from "
        "LEDGERLINK_ADMIN_USERNAME, LEDGERLINK_ADMIN_EMAIL and LEDGERLINK_ADMIN_PASSWORD; without a "
        "password one is generated and printed once. An existing user is left with its password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default=settings.LEDGERLINK_ADMIN_USERNAME)
        parser.add_argument("--email", default=settings.LEDGERLINK_ADMIN_EMAIL)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = admin_user_bootstrap(
                username=options["username"],
                email=options["email"],
                password=os.environ.get("LEDGERLINK_ADMIN_PASSWORD") or None,
            )
        except InvalidInput as exc:
            problems = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.fields.items())
            raise CommandError(f"{exc.message} {problems}") from None
        if not result.created:
            self.stdout.write(f"Staff user {result.username!r} already exists; its password is unchanged.")
        elif result.generated_password:
            self.stdout.write(self.style.SUCCESS(f"Created staff superuser {result.username!r}."))
            self.stdout.write(f"Password (shown only this once): {result.generated_password}")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Created staff superuser {result.username!r} with the given password.")
            )
