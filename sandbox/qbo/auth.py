"""Who is calling the emulated QBO v3 API: bearer token → grant → the realm in the URL."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from sandbox.models import QboGrant, QboToken, SandboxApp, Tenant
from sandbox.models.qbo import QboTokenKindChoices


class QboAuthFailure(Exception):
    def __init__(self, detail: str, *, code: str = "3200", message: str = "AuthenticationFailed") -> None:
        self.detail, self.code, self.message = detail, code, message
        super().__init__(detail)

    def response(self) -> HttpResponse:
        """Intuit's 401 uses a lower-case envelope unlike every other fault, with epoch-millis time."""
        body: dict[str, object] = {
            "warnings": None,
            "intuitObject": None,
            "fault": {
                "error": [
                    {
                        "message": f"message={self.message}; errorCode={self.code.zfill(6)}; statusCode=401",
                        "detail": self.detail,
                        "code": self.code,
                        "element": None,
                    }
                ],
                "type": "AUTHENTICATION",
            },
            "report": None,
            "queryResponse": None,
            "batchItemResponse": [],
            "attachableResponse": [],
            "syncErrorResponse": None,
            "requestId": None,
            "time": int(time.time() * 1000),
            "status": None,
            "cdcresponse": [],
        }
        response = HttpResponse(json.dumps(body), status=401, content_type="application/json")
        response["WWW-Authenticate"] = 'Bearer realm="Intuit", error="invalid_token"'
        return response


@dataclass(frozen=True)
class QboCaller:
    app: SandboxApp
    grant: QboGrant
    tenant: Tenant
    scopes: frozenset[str]


def authenticate(request: HttpRequest, realm_id: str) -> QboCaller:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise QboAuthFailure("Token invalid")
    token = (
        QboToken.objects.select_related("grant__app", "grant__tenant")
        .filter(token=value, kind=QboTokenKindChoices.ACCESS)
        .first()
    )
    if token is None or token.revoked_at or token.grant.revoked_at:
        raise QboAuthFailure("Token invalid")
    if token.expires_at <= timezone.now():
        raise QboAuthFailure(f"Token expired: {value[:10]}...")
    grant = token.grant
    if grant.tenant is None or grant.tenant.tenant_id != realm_id:
        raise QboAuthFailure(
            "AuthorizationFailure: the token is not authorised for this company",
            code="120",
            message="AuthorizationFailure",
        )
    if "com.intuit.quickbooks.accounting" not in grant.scope_list:
        raise QboAuthFailure(
            "AuthorizationFailure: scope com.intuit.quickbooks.accounting not granted",
            code="120",
            message="AuthorizationFailure",
        )
    return QboCaller(app=grant.app, grant=grant, tenant=grant.tenant, scopes=frozenset(grant.scope_list))
