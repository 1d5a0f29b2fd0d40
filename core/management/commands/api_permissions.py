"""Print every API endpoint with the permission it requires and the roles that hold it."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from core.checks import ANY_USER, PUBLIC, routed_actions
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
        for routed in routed_actions():
            path = "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", routed.route).replace("^", "").replace(
                "$", ""
            )
            if path.startswith("/api/"):
                rows.append((path, routed.methods, routed.permission or f"UNDECLARED: {routed.problem}"))
        for path, methods, permission in sorted(rows):
            if permission in (PUBLIC, ANY_USER):
                roles = "everyone" if permission == PUBLIC else "every staff or service user"
            else:
                roles = ", ".join(name for name, names in held.items() if permission in names) or "superusers"
            self.stdout.write(f"| {methods} | {path} | {permission} | {roles} |")
