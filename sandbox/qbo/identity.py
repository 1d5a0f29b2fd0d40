"""Intuit's OAuth 2.0 server, emulated: discovery, authorize (consent + company choice), token, revoke,
userinfo. Every response carries an intuit_tid header; error bodies are shaped as Intuit sends them."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sandbox import faults
from sandbox.choices import SandboxProviderChoices
from sandbox.models import QboAuthCode, QboToken, SandboxApp, Tenant
from sandbox.models.qbo import QboTokenKindChoices
from sandbox.qbo import tokens
from sandbox.qbo.gateway import intuit_tid

CODE_LIFETIME = timedelta(minutes=5)
ISSUER = "https://oauth.platform.intuit.com/op/v1"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
SCOPES = {
    ACCOUNTING_SCOPE: "Your QuickBooks company's accounting data",
    "com.intuit.quickbooks.payment": "Payments in your QuickBooks company",
    "openid": "Your identity",
    "profile": "Your name",
    "email": "Your email address",
    "phone": "Your phone number",
    "address": "Your address",
}


def with_intuit_tid(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["intuit_tid"] = intuit_tid()
        return response

    return wrapper


def _oauth_error(error: str, description: str | None = None, status: int = 400) -> HttpResponse:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _redirect(redirect_uri: str, **params: str) -> HttpResponseRedirect:
    separator = "&" if "?" in redirect_uri else "?"
    return HttpResponseRedirect(redirect_uri + separator + urlencode({k: v for k, v in params.items() if v}))


def _app(client_id: str) -> SandboxApp | None:
    return SandboxApp.objects.filter(provider=SandboxProviderChoices.QBO, client_id=client_id).first()


@with_intuit_tid
@require_GET
def discovery(request: HttpRequest) -> JsonResponse:
    base = request.build_absolute_uri("/sandbox/qbo/")
    return JsonResponse(
        {
            "issuer": ISSUER,
            "authorization_endpoint": f"{base}connect/oauth2",
            "token_endpoint": f"{base}oauth2/v1/tokens/bearer",
            "userinfo_endpoint": f"{base}v1/openid_connect/userinfo",
            "revocation_endpoint": f"{base}v2/oauth2/tokens/revoke",
            "jwks_uri": f"{base}op/v1/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
            "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
        }
    )


@with_intuit_tid
@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """Consent: the user picks one company (realm) for the app, or denies."""
    params = request.GET if request.method == "GET" else request.POST
    redirect_uri = params.get("redirect_uri", "")
    state = params.get("state", "")
    app = _app(params.get("client_id", ""))
    if app is None:
        return render(request, "sandbox/qbo/error.html", {"message": "Invalid client_id."}, status=400)
    if redirect_uri not in app.redirect_uris:
        return render(
            request,
            "sandbox/qbo/error.html",
            {"message": "The redirect_uri is not registered for this app."},
            status=400,
        )
    if params.get("response_type") != "code":
        return _redirect(redirect_uri, error="unsupported_response_type", state=state)
    scopes = params.get("scope", "").split()
    if not scopes or any(scope not in SCOPES for scope in scopes):
        return _redirect(redirect_uri, error="invalid_scope", state=state)

    companies = list(Tenant.objects.filter(provider=SandboxProviderChoices.QBO).order_by("name"))
    needs_company = ACCOUNTING_SCOPE in scopes or "com.intuit.quickbooks.payment" in scopes
    context = {
        "app": app,
        "scopes": [(scope, SCOPES[scope]) for scope in scopes],
        "companies": companies,
        "needs_company": needs_company,
        "hidden": {
            key: params.get(key, "")
            for key in ("client_id", "redirect_uri", "response_type", "scope", "state")
        },
    }
    if request.method == "GET":
        return render(request, "sandbox/qbo/authorize.html", context)
    if request.POST.get("decision") != "allow":
        return _redirect(redirect_uri, error="access_denied", state=state)
    company = next((c for c in companies if c.tenant_id == request.POST.get("realm")), None)
    if needs_company and company is None:
        context["error"] = "Choose the company to connect."
        return render(request, "sandbox/qbo/authorize.html", context, status=400)
    code = QboAuthCode.objects.create(
        app=app,
        tenant=company,
        redirect_uri=redirect_uri,
        scopes=" ".join(scopes),
        user_email=request.POST.get("user_email") or "sandbox.user@example.com",
        expires_at=timezone.now() + CODE_LIFETIME,
    )
    return _redirect(redirect_uri, code=code.code, state=state, realmId=company.tenant_id if company else "")


def _client(request: HttpRequest) -> SandboxApp | None:
    """client_secret_basic (what intuit-oauth sends) or client_secret_post; None unless the secret matches."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
    else:
        client_id, secret = request.POST.get("client_id", ""), request.POST.get("client_secret", "")
    app = _app(client_id)
    if app is None or not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
        return None
    return app


@with_intuit_tid
@csrf_exempt
@never_cache
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    app = _client(request)
    if app is None:
        return _oauth_error("invalid_client", status=401)
    grant_type = request.POST.get("grant_type", "")
    response = _token_grant(request, app, grant_type)
    return faults.token_answer(
        app=app, request=request, response=response, refresh=grant_type == "refresh_token"
    )


def _token_grant(request: HttpRequest, app: SandboxApp, grant_type: str) -> HttpResponse:
    if grant_type == "authorization_code":
        with transaction.atomic(using="sandbox"):
            code = (
                QboAuthCode.objects.select_for_update()
                .filter(app=app, code=request.POST.get("code", ""))
                .first()
            )
            if (
                code is None
                or code.used_at is not None
                or code.expires_at <= timezone.now()
                or code.redirect_uri != request.POST.get("redirect_uri", "")
            ):
                return _oauth_error("invalid_grant")
            grant = tokens.grant_create(
                app=app, scopes=code.scopes, tenant=code.tenant, user_email=code.user_email
            )
            code.used_at, code.grant = timezone.now(), grant
            code.save(update_fields=["used_at", "grant"])
            return JsonResponse(tokens.tokens_issue(grant=grant))
    if grant_type == "refresh_token":
        try:
            return JsonResponse(
                tokens.tokens_refresh(app=app, refresh_token=request.POST.get("refresh_token", ""))
            )
        except tokens.InvalidGrant:
            return _oauth_error("invalid_grant", "Incorrect or invalid refresh token")
    return _oauth_error("unsupported_grant_type")


@with_intuit_tid
@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    """intuit-oauth posts JSON {"token": ...}; either the refresh or the access token ends the grant."""
    app = _client(request)
    if app is None:
        return _oauth_error("invalid_client", status=401)
    try:
        value = json.loads(request.body or b"{}").get("token", "")
    except (ValueError, AttributeError):
        return _oauth_error("invalid_request")
    if not value or not tokens.token_revoke(app=app, token=value):
        return _oauth_error("invalid_request", "Token is invalid or already revoked")
    return HttpResponse(status=200)


@with_intuit_tid
@require_GET
def userinfo(request: HttpRequest) -> HttpResponse:
    _scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    found = (
        QboToken.objects.select_related("grant")
        .filter(token=value.strip(), kind=QboTokenKindChoices.ACCESS, revoked_at__isnull=True)
        .first()
    )
    if found is None or found.expires_at <= timezone.now() or "openid" not in found.grant.scope_list:
        return _oauth_error("invalid_token", status=401)
    email = found.grant.user_email
    local = email.split("@")[0]
    return JsonResponse(
        {
            "sub": hashlib.sha256(email.encode()).hexdigest()[:36],
            "email": email,
            "emailVerified": True,
            "givenName": local.split(".")[0].title(),
            "familyName": (local.split(".")[1] if "." in local else "").title(),
            "phoneNumber": "+44 20 7946 0000",
            "phoneNumberVerified": False,
            "address": {
                "streetAddress": "1 Sandbox Street",
                "locality": "London",
                "region": "",
                "postalCode": "EC1A 1AA",
                "country": "GB",
            },
        }
    )
