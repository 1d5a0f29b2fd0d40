"""Make (or reuse) a machine client's service user and print a new service token for it, once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from core.services import api_token_create


class Command(BaseCommand):
    help = (
        "Create a service user for a machine client (not staff, no password: it never logs in), put it in "
        "the given groups, and print a new service token. The key is shown this once."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--group", action="append", default=[], help="A group (role) to join; repeatable."
        )
        parser.add_argument(
            "--expires-days", type=int, default=None, help="Default API_SERVICE_TOKEN_TTL_DAYS."
        )
        parser.add_argument("--never-expires", action="store_true")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args: Any, **options: Any) -> None:
        groups = []
        for name in options["group"]:
            group = Group.objects.filter(name=name).first()
            if group is None:
                known = ", ".join(Group.objects.order_by("name").values_list("name", flat=True))
                raise CommandError(f"No group named {name!r}. Groups: {known or 'none'}.")
            groups.append(group)
        with transaction.atomic():
            user, created = get_user_model()._default_manager.get_or_create(
                username=options["username"], defaults={"is_staff": False, "is_active": True}
            )
            if user.is_staff:
                raise CommandError(f"{user.username} is a staff user; a service user must not be one.")
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            user.groups.add(*groups)
            expiry: dict[str, Any] = {}
            if options["never_expires"]:
                expiry["expires_in"] = None
            elif options["expires_days"]:
                expiry["expires_in"] = timedelta(days=options["expires_days"])
            token, key = api_token_create(
                user=user, name=options["name"] or "Service token", is_service=True, **expiry
            )
        self.stdout.write(f"{'Created' if created else 'Reused'} service user {user.username}.")
        self.stdout.write(f"Token {token.token_key}… expires {token.expiry or 'never'}. Its key, shown once:")
        self.stdout.write(key)
