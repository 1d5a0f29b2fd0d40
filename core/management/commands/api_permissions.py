"""Print every API endpoint with the permission it requires and the roles that hold it."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from core.checks import api_permissions_table
from core.roles import ROLES


class Command(BaseCommand):
    help = (
        "List every API endpoint (method and route) with the permission it requires and the roles holding it."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        held = {
            role.name: {
                f"{app}.{codename}"
                for app, codename in Group.objects.filter(name=role.name).values_list(
                    "permissions__content_type__app_label", "permissions__codename"
                )
            }
            for role in ROLES
        }
        self.stdout.write("| method | endpoint | requires | roles |\n|---|---|---|---|")
        rows = []
        for methods, route, permission in api_permissions_table():
            path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route).replace("^", "").replace("$", "")
            if path.startswith("/api/"):
                rows.append((path, methods, permission))
        for path, methods, permission in sorted(rows):
            if permission in ("public", "any API user"):
                roles = "everyone" if permission == "public" else "every staff or service user"
            else:
                roles = ", ".join(name for name, names in held.items() if permission in names) or "superusers"
            self.stdout.write(f"| {methods} | {path} | {permission} | {roles} |")
