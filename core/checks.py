"""System checks: every API action routed in the URLconf declares the permission it needs.

The permission layer refuses an undeclared action at request time (closed by default); this says so at
start-up, naming the view and action, before anyone meets the 403."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.checks import Error, Tags, register
from django.urls import URLPattern, URLResolver, get_resolver

from core.api.permissions import ActionPermission, UndeclaredPermission, permission_declared, view_permission


def _callbacks(patterns: list[Any]) -> Iterator[Any]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


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
            if not any(issubclass(permission, ActionPermission) for permission in view.permission_classes):
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
