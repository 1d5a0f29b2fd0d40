"""Keeps the sandbox's tables on their own database alias, physically apart from Ledgerlink's data."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

SANDBOX_ALIAS = "sandbox"
SANDBOX_APP_LABEL = "sandbox"


class SandboxRouter:
    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        return SANDBOX_ALIAS if model._meta.app_label == SANDBOX_APP_LABEL else None

    db_for_write = db_for_read

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool | None:
        in_sandbox = {obj._meta.app_label == SANDBOX_APP_LABEL for obj in (obj1, obj2)}
        return False if len(in_sandbox) == 2 else None

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        if app_label == SANDBOX_APP_LABEL:
            return db == SANDBOX_ALIAS
        # Django's own tables (contenttypes, auth...) stay on default; the sandbox alias gets only its own.
        return db != SANDBOX_ALIAS
