"""System checks: every API action routed in the URLconf declares the permission it needs.

The permission layer refuses an undeclared action at request time (closed by default); this says so at
start-up, naming the view and action, before anyone meets the 403. The same walk over the routes gives
`manage.py api_permissions` its table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core.checks import Error, Tags, register
from django.urls import URLPattern, URLResolver, get_resolver

from core.api.permissions import UndeclaredPermission, action_guarded, view_permission

PUBLIC = "public"
ANY_USER = "any API user"


@dataclass(frozen=True)
class RoutedAction:
    methods: str  # "GET POST"
    route: str  # as the URLconf spells it
    view: str  # module.Class.action
    permission: str  # the full name, PUBLIC, ANY_USER, or "" when undeclared
    problem: str = ""


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def routed_actions() -> list[RoutedAction]:
    """Every DRF view and viewset action the URLconf routes, with the permission it requires."""
    found = []
    for route, callback in _routes(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            continue
        mapping = getattr(callback, "actions", None) or {
            method: "" for method in view_class.http_method_names if hasattr(view_class, method)
        }
        by_action: dict[str, list[str]] = {}
        for method, action in mapping.items():
            if method not in ("options", "head"):
                by_action.setdefault(action, []).append(method.upper())
        for action, methods in by_action.items():
            view = view_class(**getattr(callback, "initkwargs", {}))
            name = f"{view_class.__module__}.{view_class.__name__}.{action or 'handler'}"
            if not action_guarded(view):
                found.append(RoutedAction(" ".join(methods), route, name, PUBLIC))
                continue
            if action:
                view.action = action
            try:
                permission = view_permission(view) or ANY_USER
            except UndeclaredPermission as exc:
                found.append(RoutedAction(" ".join(methods), route, name, "", str(exc)))
                continue
            found.append(RoutedAction(" ".join(methods), route, name, permission))
    return found


def undeclared_actions() -> list[str]:
    """`module.View.action: why` of every routed API action that declares nothing usable."""
    return sorted({f"{routed.view}: {routed.problem}" for routed in routed_actions() if routed.problem})


@register(Tags.security)
def api_actions_declare_permissions(app_configs: Any, **kwargs: Any) -> list[Error]:
    return [
        Error(problem, hint="Add required_permission to the @action or the view.", id="core.E001")
        for problem in undeclared_actions()
    ]
