"""System checks: every API action routed in the URLconf declares the permission it needs.

The permission layer refuses an undeclared action at request time (closed by default); this says so at
start-up, naming the view and action, before anyone meets the 403."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.checks import Error, Tags, register
from django.urls import URLPattern, URLResolver, get_resolver

from core.api.permissions import UndeclaredPermission, action_guarded, permission_declared, view_permission


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def _callbacks(patterns: list[Any]) -> Iterator[Any]:
    for _route, callback in _routes(patterns):
        yield callback


def api_permissions_table() -> list[tuple[str, str, str]]:
    """(methods, route, permission) of every routed API view guarded by ActionPermission; permission is
    the full name, "any API user", or what is wrong with its declaration."""
    rows = []
    for route, callback in _routes(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            continue
        actions = getattr(callback, "actions", None)
        mapping = actions or {
            method: ""
            for method in getattr(view_class, "http_method_names", [])
            if hasattr(view_class, method)
        }
        by_action: dict[str, list[str]] = {}
        for method, action in mapping.items():
            if method in ("options", "head"):
                continue
            by_action.setdefault(action, []).append(method.upper())
        for action, methods in by_action.items():
            view = view_class(**getattr(callback, "initkwargs", {}))
            if not action_guarded(view):
                rows.append((" ".join(methods), route, "public"))
                continue
            if action:
                view.action = action
            try:
                permission = view_permission(view) or "any API user"
            except UndeclaredPermission as exc:
                permission = f"UNDECLARED: {exc}"
            rows.append((" ".join(methods), route, permission))
    return rows


def undeclared_actions() -> list[str]:
    """`View.action` of every routed API action that needs ActionPermission and declares nothing usable."""
    problems = []
    seen: set[tuple[type, str]] = set()
    for callback in _callbacks(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            continue
        actions = getattr(callback, "actions", None) or {"": ""}
        for action in set(actions.values()):
            if (view_class, action) in seen:
                continue
            seen.add((view_class, action))
            view = view_class(**getattr(callback, "initkwargs", {}))
            if not action_guarded(view):
                continue
            if action:
                view.action = action
            try:
                permission_declared(view)
                view_permission(view)
            except UndeclaredPermission as exc:
                problems.append(f"{view_class.__module__}.{view_class.__name__}.{action or 'handler'}: {exc}")
    return problems


@register(Tags.security)
def api_actions_declare_permissions(app_configs: Any, **kwargs: Any) -> list[Error]:
    return [
        Error(problem, hint="Add required_permission to the @action or the view.", id="core.E001")
        for problem in undeclared_actions()
    ]
