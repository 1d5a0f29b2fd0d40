"""Who may call what: every API action requires the model permission the admin checks for the same thing.

A viewset's standard actions map to the queryset model's view / add / change / delete permissions; every
other action names what it needs where it is declared (`@action(..., required_permission="change")`), and
a plain API view in its `required_permission`. A name without a dot is a verb on the view's own model
("export" is `<app>.export_<model>`); a dotted name is one permission (`integrations.disconnect_connection`).
An action that declares nothing is refused for everyone, superusers included, so a new endpoint that
forgets its permission fails its tests instead of opening up (`core.checks` also reports it at start-up).

Only staff users and service users (a machine client's token) reach the API at all; what they may then do
is their permissions, directly or through the role groups of `core.roles`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth import get_permission_codename
from rest_framework.permissions import BasePermission

if TYPE_CHECKING:
    from django.db import models
    from rest_framework.request import Request
    from rest_framework.views import APIView

# What a viewset's standard actions need, as verbs on its model.
STANDARD_ACTIONS = {
    "list": "view",
    "retrieve": "view",
    "metadata": "view",
    "create": "add",
    "update": "change",
    "partial_update": "change",
    "destroy": "delete",
}
# A plain view (or an action) open to every API user: who am I, for instance.
ANY_API_USER = "any"


class UndeclaredPermission(LookupError):
    """An API action that says nothing about what it needs."""


def _model(view: APIView) -> type[models.Model] | None:
    queryset = getattr(view, "queryset", None)
    if queryset is None:
        entity_type = getattr(view, "entity_type", None)
        return entity_type.model if entity_type is not None else None
    return queryset.model


def permission_declared(view: APIView) -> str:
    """The permission the view's current action declares, as declared (verb, dotted name or "any")."""
    action = getattr(view, "action", None)
    declared = getattr(view, "required_permission", None)
    if declared:
        return str(declared)
    if action in STANDARD_ACTIONS:
        return STANDARD_ACTIONS[action]
    raise UndeclaredPermission(
        f"{type(view).__name__}.{action or 'handler'} declares no required_permission."
    )


def permission_resolve(declared: str, model: type[models.Model] | None) -> str | None:
    """The full permission name for a declaration on `model`; None when any API user may."""
    if declared == ANY_API_USER:
        return None
    if "." in declared:
        return declared
    if model is None:
        raise UndeclaredPermission(f'"{declared}" needs a model: name the permission in full.')
    opts = model._meta
    return f"{opts.app_label}.{get_permission_codename(declared, opts)}"


def view_permission(view: APIView) -> str | None:
    """The full permission the view's current action requires (None: any API user)."""
    return permission_resolve(permission_declared(view), _model(view))


def action_guarded(view: APIView) -> bool:
    """Whether the view's permissions include ActionPermission (public views' do not)."""
    return any(
        isinstance(permission, type) and issubclass(permission, ActionPermission)
        for permission in view.permission_classes
    )


def api_user_admitted(request: Request) -> bool:
    """Staff users, and service users presenting their service token, may use the API at all."""
    user = request.user
    if not (user and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_staff or getattr(request.auth, "is_service", False))


class ActionPermission(BasePermission):
    """The default for every endpoint: an admitted API user holding the action's permission."""

    message = "You do not have permission to do this. Ask an administrator for the role that allows it."

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not api_user_admitted(request):
            self.message = "Only Ledgerlink staff users and service accounts may use this API."
            return False
        try:
            required = view_permission(view)
        except UndeclaredPermission:
            return False
        if required is None:
            return True
        if request.user.has_perm(required):
            return True
        self.message = f'You do not have permission to do this (it needs "{required}").'
        return False
