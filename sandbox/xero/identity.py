"""Xero's identity server, emulated: authorize (consent), token, revocation, discovery, connections.

Error bodies are byte-for-byte what Xero sends (xero-python string-compares `{"error":"invalid_grant"}`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sandbox import faults
from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant, XeroAuthCode, XeroConnection, XeroToken
from sandbox.xero import tokens
from sandbox.xero.auth import XeroCaller
from sandbox.xero.gateway import xero_api_endpoint

CODE_LIFETIME = timedelta(minutes=5)
PKCE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")

# The broad (pre-2026) and granular (2026) scope vocabularies, with what the consent screen says.
SCOPES = {
    "openid": "Your identity",
    "profile": "Your name",
    "email": "Your email address",
    "offline_access": "Access while you are not using the app",
    "accounting.transactions": "View and manage your business transactions",
    "accounting.transactions.read": "View your business transactions",
    "accounting.contacts": "View and manage your contacts",
    "accounting.contacts.read": "View your contacts",
    "accounting.settings": "View and manage your organisation settings",
    "accounting.settings.read": "View your organisation settings",
    "accounting.attachments": "View and manage your attachments",
    "accounting.attachments.read": "View your attachments",
    "accounting.journals.read": "View your general ledger",
    "accounting.reports.read": "View your reports",
    "accounting.budgets.read": "View your budgets",
    "accounting.invoices": "View and manage invoices, credit notes, purchase orders, quotes and items",
    "accounting.invoices.read": "View invoices, credit notes, purchase orders, quotes and items",
    "accounting.payments": "View and manage payments",
    "accounting.payments.read": "View payments",
    "accounting.banktransactions": "View and manage bank transactions",
    "accounting.banktransactions.read": "View bank transactions",
    "accounting.manualjournals": "View and manage manual journals",
    "accounting.manualjournals.read": "View manual journals",
}


def _oauth_error(error: str, status: int = 400) -> HttpResponse:
    # Compact separators: the body must be exactly {"error":"invalid_grant"}.
    return HttpResponse(
        json.dumps({"error": error}, separators=(",", ":")), status=status, content_type="application/json"
    )


def _error_page(request: HttpRequest, message: str) -> HttpResponse:
    # Without a trusted redirect URI the error can only be shown, never sent back to the client.
    return render(request, "sandbox/xero/error.html", {"message": message}, status=400)


def _redirect(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + separator + urlencode({k: v for k, v in params.items() if v}))


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """The consent screen: lists the scopes, lets the user pick organisations, allow or deny."""
    params = request.GET if request.method == "GET" else request.POST
    client_id = params.get("client_id", "")
    redirect_uri = params.get("redirect_uri", "")
    state = params.get("state", "")
    app = SandboxApp.objects.filter(provider=SandboxProviderChoices.XERO, client_id=client_id).first()
    if app is None:
        return _error_page(request, "Invalid client_id: no app is registered with this id.")
    if redirect_uri not in app.redirect_uris:
        return _error_page(request, "Invalid redirect_uri: it is not registered for this app.")
    if params.get("response_type") != "code":
        return _redirect(redirect_uri, error="unsupported_response_type", state=state)
    scopes = params.get("scope", "").split()
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if not scopes or unknown:
        return _redirect(redirect_uri, error="invalid_scope", state=state)
    challenge = params.get("code_challenge", "")
    method = params.get("code_challenge_method", "")
    if (challenge or method) and (method != "S256" or not challenge):
        return _redirect(
            redirect_uri,
            error="invalid_request",
            error_description="PKCE requires code_challenge_method=S256",
            state=state,
        )

    organisations = list(Tenant.objects.filter(provider=SandboxProviderChoices.XERO).order_by("name"))
    context = {
        "app": app,
        "scopes": [(scope, SCOPES[scope]) for scope in scopes],
        "organisations": organisations,
        "hidden": {
            key: params.get(key, "")
            for key in (
                "client_id",
                "redirect_uri",
                "response_type",
                "scope",
                "state",
                "code_challenge",
                "code_challenge_method",
                "nonce",
            )
        },
        "user_email": params.get("user_email", "sandbox.user@example.com"),
    }
    if request.method == "GET":
        return render(request, "sandbox/xero/authorize.html", context)

    if request.POST.get("decision") != "allow":
        return _redirect(redirect_uri, error="access_denied", state=state)
    chosen = [tenant for tenant in organisations if tenant.tenant_id in request.POST.getlist("tenant")]
    if not chosen and any(scope.startswith("accounting.") for scope in scopes):
        context["error"] = "Choose at least one organisation to connect."
        return render(request, "sandbox/xero/authorize.html", context, status=400)
    with transaction.atomic(using="sandbox"):
        code = XeroAuthCode.objects.create(
            app=app,
            redirect_uri=redirect_uri,
            scopes=" ".join(scopes),
            user_email=request.POST.get("user_email") or "sandbox.user@example.com",
            code_challenge=challenge,
            code_challenge_method=method,
            nonce=params.get("nonce", ""),
            expires_at=timezone.now() + CODE_LIFETIME,
        )
        code.tenants.set(chosen)
    return _redirect(redirect_uri, code=code.code, state=state)


def _client_from_request(request: HttpRequest) -> tuple[str, str | None]:
    """client_secret_basic or client_secret_post; (client_id, secret or None for a public PKCE client)."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return "", None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return request.POST.get("client_id", ""), request.POST.get("client_secret")


def _pkce_ok(code: XeroAuthCode, verifier: str) -> bool:
    if not code.code_challenge:
        return True
    if not PKCE_VERIFIER.match(verifier):
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    expected = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(expected, code.code_challenge)


@csrf_exempt
@never_cache
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    client_id, secret = _client_from_request(request)
    app = SandboxApp.objects.filter(provider=SandboxProviderChoices.XERO, client_id=client_id).first()
    if app is None:
        return _oauth_error("invalid_client")
    grant_type = request.POST.get("grant_type", "")
    secret_ok = secret is not None and hmac.compare_digest(secret, app.client_secret)
    response = _token_grant(request, app, grant_type, secret_ok)
    return faults.token_answer(
        app=app, request=request, response=response, refresh=grant_type == "refresh_token"
    )


def _token_grant(request: HttpRequest, app: SandboxApp, grant_type: str, secret_ok: bool) -> HttpResponse:
    if grant_type == "authorization_code":
        return _exchange_code(request, app, secret_ok)
    if not secret_ok:
        return _oauth_error("invalid_client")
    if grant_type == "refresh_token":
        try:
            return JsonResponse(
                tokens.tokens_refresh(app=app, refresh_token=request.POST.get("refresh_token", ""))
            )
        except tokens.InvalidGrant:
            return _oauth_error("invalid_grant")
    if grant_type == "client_credentials":
        if app.custom_connection_tenant_id is None:
            return _oauth_error("unauthorized_client")
        requested = request.POST.get("scope", "").split()
        if any(scope not in SCOPES for scope in requested):
            return _oauth_error("invalid_scope")
        scopes = " ".join(requested) or " ".join(s for s in SCOPES if s.startswith("accounting."))
        grant = tokens.grant_create(app=app, scopes=scopes, client_credentials=True)
        return JsonResponse(tokens.tokens_issue(grant=grant))
    return _oauth_error("unsupported_grant_type")


def _exchange_code(request: HttpRequest, app: SandboxApp, secret_ok: bool) -> HttpResponse:
    with transaction.atomic(using="sandbox"):
        code = (
            XeroAuthCode.objects.select_for_update()
            .filter(app=app, code=request.POST.get("code", ""))
            .prefetch_related("tenants")
            .first()
        )
        if code is None:
            return _oauth_error("invalid_grant")
        # A confidential client must authenticate; a PKCE client may instead prove the verifier.
        if not secret_ok and not (code.code_challenge and request.POST.get("code_verifier")):
            return _oauth_error("invalid_client")
        if code.used_at is not None:
            # A replayed code means it leaked: revoke what it produced (RFC 6749 §4.1.2).
            if code.grant is not None:
                tokens.grant_revoke(grant=code.grant)
            return _oauth_error("invalid_grant")
        if code.expires_at <= timezone.now() or code.redirect_uri != request.POST.get("redirect_uri", ""):
            return _oauth_error("invalid_grant")
        if not _pkce_ok(code, request.POST.get("code_verifier", "")):
            return _oauth_error("invalid_grant")
        grant = tokens.grant_create(
            app=app, scopes=code.scopes, tenants=code.tenants.all(), user_email=code.user_email
        )
        code.used_at = timezone.now()
        code.grant = grant
        code.save(update_fields=["used_at", "grant"])
        return JsonResponse(tokens.tokens_issue(grant=grant, nonce=code.nonce))


@csrf_exempt
@require_POST
def revocation(request: HttpRequest) -> HttpResponse:
    """Revoke a refresh token: the grant ends and its connections are removed. Unknown tokens are a
    silent success, as RFC 7009 asks."""
    client_id, secret = _client_from_request(request)
    app = SandboxApp.objects.filter(provider=SandboxProviderChoices.XERO, client_id=client_id).first()
    if app is None or secret is None or not hmac.compare_digest(secret, app.client_secret):
        return _oauth_error("invalid_client")
    found = (
        XeroToken.objects.select_related("grant")
        .filter(grant__app=app, token=request.POST.get("token", ""))
        .first()
    )
    if found is not None:
        tokens.grant_revoke(grant=found.grant)
    return HttpResponse(status=200)


def discovery(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri("/sandbox/xero/")
    return JsonResponse(
        {
            "issuer": tokens.ISSUER,
            "authorization_endpoint": f"{base}login/identity/connect/authorize",
            "token_endpoint": f"{base}identity/connect/token",
            "revocation_endpoint": f"{base}identity/connect/revocation",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": list(SCOPES),
        }
    )


def _xero_datetime(value: datetime) -> str:
    # Identity dates are ISO without a zone, with 7 fractional digits.
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"


def _connection_json(
    *, connection_id: object, auth_event_id: object, tenant: Tenant, created: datetime, updated: datetime
) -> dict:
    return {
        "id": str(connection_id),
        "authEventId": str(auth_event_id),
        "tenantId": tenant.tenant_id,
        "tenantType": tenant.tenant_type,
        "tenantName": tenant.name,
        "createdDateUtc": _xero_datetime(created),
        "updatedDateUtc": _xero_datetime(updated),
    }


@xero_api_endpoint(require_tenant=False)
def connections(request: HttpRequest, caller: XeroCaller) -> HttpResponse:
    if request.method != "GET":
        return HttpResponse(status=405)
    rows = XeroConnection.objects.select_related("tenant").filter(grant=caller.grant).order_by("created_at")
    auth_event_id = request.GET.get("authEventId")
    if auth_event_id:
        rows = rows.filter(auth_event_id=auth_event_id)
    body = [
        _connection_json(
            connection_id=row.id,
            auth_event_id=row.auth_event_id,
            tenant=row.tenant,
            created=row.created_at,
            updated=row.updated_at,
        )
        for row in rows
    ]
    custom_tenant = caller.app.custom_connection_tenant
    if caller.grant.client_credentials and custom_tenant is not None:
        # A custom connection has exactly one organisation and no consent-time connection row.
        grant = caller.grant
        body = [
            _connection_json(
                connection_id=grant.auth_event_id,
                auth_event_id=grant.auth_event_id,
                tenant=custom_tenant,
                created=grant.created_at,
                updated=grant.created_at,
            )
        ]
    return JsonResponse(body, safe=False)


@xero_api_endpoint(require_tenant=False)
def connection_delete(request: HttpRequest, caller: XeroCaller, connection_id: str) -> HttpResponse:
    if request.method != "DELETE":
        return HttpResponse(status=405)
    deleted, _ = XeroConnection.objects.filter(
        id=connection_id, app=caller.app, user_email=caller.grant.user_email
    ).delete()
    if not deleted:
        return HttpResponse(
            "The resource you're looking for cannot be found", status=404, content_type="text/plain"
        )
    return HttpResponse(status=204)
