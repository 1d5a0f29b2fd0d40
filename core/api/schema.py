"""The OpenAPI schema says, for every operation, the permission it requires: in its description, for people
reading the docs, and as `x-required-permission`, for tools."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from core.api.permissions import UndeclaredPermission, action_guarded, view_permission


class PermissionAutoSchema(AutoSchema):
    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        if not action_guarded(self.view):
            return operation
        try:
            required = view_permission(self.view)
        except UndeclaredPermission:
            return operation
        said = f"Requires the permission `{required}`." if required else "Open to every API user."
        operation["description"] = f"{operation.get('description', '')}\n\n{said}".strip()
        operation["x-required-permission"] = required or ""
        return operation
