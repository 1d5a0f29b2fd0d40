"""Who is calling the emulated Xero API: bearer token → grant → the tenant named by xero-tenant-id.

Every Xero API view starts with `authenticate(request)`; a failure is Xero's problem-details JSON."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sandbox.models import SandboxApp, Tenant, XeroConnection, XeroGrant, XeroToken
from sandbox.models.xero import XeroTokenKindChoices


class XeroAuthFailure(Exception):
    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(detail)

    def response(self) -> HttpResponse:
        return problem_response(self.status, self.detail)


def problem_response(status: int, detail: str) -> HttpResponse:
    """Xero's 401/403 body: RFC 7807-style problem JSON with PascalCase keys."""
    title = {401: "Unauthorized", 403: "Forbidden"}.get(status, "Error")
    body: dict[str, object] = {
        "Type": None,
        "Title": title,
        "Status": status,
        "Detail": detail,
        "Instance": str(uuid.uuid4()),
        "Extensions": {},
    }
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


@dataclass(frozen=True)
class XeroCaller:
    app: SandboxApp
    grant: XeroGrant
    tenant: Tenant | None
    connection: XeroConnection | None
    scopes: frozenset[str]

    def has_scope(self, *accepted: str) -> bool:
        return bool(self.scopes.intersection(accepted))


def authenticate(request: HttpRequest, *, require_tenant: bool = True) -> XeroCaller:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise XeroAuthFailure(401, "AuthenticationUnsuccessful")
    token = (
        XeroToken.objects.select_related("grant__app", "grant__app__custom_connection_tenant")
        .filter(token=value.strip(), kind=XeroTokenKindChoices.ACCESS)
        .first()
    )
    if token is None or token.revoked_at or token.grant.revoked_at:
        raise XeroAuthFailure(401, "AuthenticationUnsuccessful")
    if token.expires_at <= timezone.now():
        expired = token.expires_at.astimezone(UTC).strftime("%m/%d/%Y %H:%M:%S")
        raise XeroAuthFailure(401, f"TokenExpired: token expired at {expired}")
    grant = token.grant
    scopes = frozenset(grant.scope_list)
    if not require_tenant:
        return XeroCaller(app=grant.app, grant=grant, tenant=None, connection=None, scopes=scopes)
    if grant.client_credentials:
        # Custom connections reach their one organisation without a xero-tenant-id header.
        tenant = grant.app.custom_connection_tenant
        if tenant is None:
            raise XeroAuthFailure(403, "AuthenticationUnsuccessful")
        return XeroCaller(app=grant.app, grant=grant, tenant=tenant, connection=None, scopes=scopes)
    tenant_id = request.headers.get("xero-tenant-id", "").strip()
    connection = (
        XeroConnection.objects.select_related("tenant")
        .filter(grant=grant, tenant__tenant_id=tenant_id)
        .first()
        if tenant_id
        else None
    )
    if connection is None:
        raise XeroAuthFailure(403, "AuthenticationUnsuccessful")
    return XeroCaller(
        app=grant.app, grant=grant, tenant=connection.tenant, connection=connection, scopes=scopes
    )
