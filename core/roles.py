"""The roles Ledgerlink ships with, as groups of model permissions, and the export permissions.

A role is declared as data: patterns over `<app label>.<codename>` that pick its permissions from those
that exist. They are applied after every migrate (as Django creates its own permissions then), so an app
that arrives later with its own permissions (push, conflicts, mappings, webhooks) joins the roles without a
migration naming them. The three groups are Ledgerlink's: what their role declares is added back on every
migrate; a business that wants a different role makes its own group.

Exports get a permission of their own (`<app>.export_<model>`, what `export` actions declare and the admin's
export actions check) for every model an entity type serves; Django makes only view/add/change/delete."""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from django.apps import apps as global_apps
from django.contrib.auth import get_permission_codename
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, router

from core.entities import ENTITY_TYPES

# The apps whose records the roles are about (auth, sessions and the task queue's own tables are not).
LEDGER_APPS = ("integrations", "accounting", "books", "mappings", "push", "conflicts", "webhooks")


def _each(verb: str, app_labels: tuple[str, ...] = LEDGER_APPS) -> tuple[str, ...]:
    return tuple(f"{label}.{verb}_*" for label in app_labels)


@dataclass(frozen=True)
class Role:
    name: str
    description: str
    grants: tuple[str, ...]

    def grants_permission(self, name: str) -> bool:
        return any(fnmatchcase(name, pattern) for pattern in self.grants)


VIEWER = Role(
    "Viewer",
    "Sees connections, the mirrored ledgers, the books, runs, conflicts and webhooks; changes nothing.",
    _each("view"),
)
BOOKKEEPER = Role(
    "Book-keeper",
    "A viewer who also exports, archives mirrored records, queues pulls and tests connections, and keeps "
    "the books: their records, links and mappings, pushes to the ledgers and conflict resolution.",
    (
        *VIEWER.grants,
        *_each("export"),
        "accounting.change_*",
        "integrations.refresh_connection",
        "books.*",
        "mappings.*",
        "push.*",
        "conflicts.*",
    ),
)
INTEGRATION_ADMIN = Role(
    "Integration admin",
    "Everything in Ledgerlink: connects and disconnects ledgers, deletes connections and mirrored records, "
    "manages webhooks and API tokens.",
    (*(f"{label}.*" for label in LEDGER_APPS), "core.*"),
)
ROLES = (VIEWER, BOOKKEEPER, INTEGRATION_ADMIN)


def export_permissions_ensure(*, using: str = DEFAULT_DB_ALIAS) -> list[Permission]:
    """The export permission of every model an entity type serves, created where missing."""
    made = []
    models = {entity_type.model for entity_type in ENTITY_TYPES.values()}
    for model in sorted(models, key=lambda model: model._meta.label):
        opts = model._meta
        content_type = ContentType.objects.db_manager(using).get_for_model(model)
        permission, _ = Permission.objects.using(using).get_or_create(
            content_type=content_type,
            codename=get_permission_codename("export", opts),
            defaults={"name": f"Can export {opts.verbose_name_plural}"[:255]},
        )
        made.append(permission)
    return made


def roles_sync(*, using: str = DEFAULT_DB_ALIAS) -> dict[str, int]:
    """Create the role groups and give each the permissions its role declares; how many each has."""
    export_permissions_ensure(using=using)
    permissions = list(Permission.objects.using(using).select_related("content_type"))
    counts = {}
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role.name)
        wanted = [
            permission
            for permission in permissions
            if role.grants_permission(f"{permission.content_type.app_label}.{permission.codename}")
        ]
        group.permissions.add(*wanted)
        counts[role.name] = len(wanted)
    return counts


def roles_sync_after_migrate(sender: Any, using: str = DEFAULT_DB_ALIAS, **kwargs: Any) -> None:
    """post_migrate receiver: once per migrate, after the last app's own permissions exist."""
    with_models = [config for config in global_apps.get_app_configs() if config.models_module is not None]
    if not with_models or sender.label != with_models[-1].label:
        return
    if not router.allow_migrate_model(using, Permission) or not router.allow_migrate_model(using, Group):
        return
    roles_sync(using=using)
