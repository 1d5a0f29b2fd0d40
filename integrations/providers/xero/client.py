"""The one place xero-python and requests-oauthlib are called, and their exceptions translated.

Wiring facts (provider doc §6): the SDK's token endpoints are class attributes of `TokenApi`, the API base
URLs are constructor arguments, `Configuration` is a pseudo-singleton (so a fresh `OAuth2Token` is set on
each client), and urllib3's hidden retries (which sleep through a 429's Retry-After) are switched off."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import urllib3
from django.conf import settings
from oauthlib.oauth2.rfc6749 import errors as oauth_errors
from requests_oauthlib import OAuth2Session
from xero_python.accounting import AccountingApi
from xero_python.api_client import ApiClient
from xero_python.api_client.configuration import Configuration
from xero_python.api_client.oauth2 import OAuth2Token, TokenApi
from xero_python.exceptions import ApiException
from xero_python.identity import IdentityApi

from integrations.errors import (
    InvalidGrant,
    ProviderAuthError,
    ProviderError,
    ProviderUnavailable,
    ProviderValidationError,
    RateLimited,
)
from integrations.providers.base import CONNECT_TIMEOUT, READ_TIMEOUT, AppCredentials, TokenSet
from integrations.providers.transport import transport_error

logger = logging.getLogger(__name__)

# Xero's refresh tokens die after 60 days without use.
REFRESH_IDLE_SECONDS = 60 * 24 * 3600


def token_url() -> str:
    return f"{settings.XERO_IDENTITY_URL}/connect/token"


def _point_sdk_at_settings() -> None:
    # Class attributes: the SDK offers no other way. Every client is built through here, so the
    # addresses always follow the settings (tests point them at a live server whose port changes).
    TokenApi.refresh_token_url = token_url()
    TokenApi.client_credentials_token_url = token_url()
    TokenApi.revoke_token_url = f"{settings.XERO_IDENTITY_URL}/connect/revocation"


class SdkClient:
    """An SDK `ApiClient` holding one token dict in memory; nothing is shared between clients."""

    def __init__(self, app: AppCredentials, token: dict[str, Any]) -> None:
        _point_sdk_at_settings()
        configuration = Configuration()
        configuration.oauth2_token = OAuth2Token(client_id=app.client_id, client_secret=app.client_secret)
        self.token = token
        self.api_client = ApiClient(configuration, pool_threads=1)
        self.api_client.oauth2_token_getter(lambda: self.token)
        self.api_client.oauth2_token_saver(self._save)
        pool_kw = self.api_client.rest_client.pool_manager.connection_pool_kw
        pool_kw["retries"] = urllib3.Retry(total=0, respect_retry_after_header=False)
        pool_kw["timeout"] = urllib3.Timeout(connect=CONNECT_TIMEOUT, read=READ_TIMEOUT)

    def close(self) -> None:
        """Release the pooled connections (keep-alive sockets)."""
        self.api_client.rest_client.pool_manager.clear()

    def __enter__(self) -> SdkClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _save(self, token: dict[str, Any]) -> None:
        self.token = token

    def accounting(self) -> AccountingApi:
        return AccountingApi(self.api_client, base_url=f"{settings.XERO_API_URL}/api.xro/2.0")

    def identity(self) -> IdentityApi:
        return IdentityApi(self.api_client, base_url=settings.XERO_API_URL)


def sdk_token(tokens: TokenSet, *, with_refresh: bool = False) -> dict[str, Any]:
    """The SDK's token dict. Without the refresh token the SDK cannot rotate it behind our back: only
    the token service refreshes, under its lock."""
    token: dict[str, Any] = {
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "scope": list(tokens.scopes),
        "expires_at": tokens.access_expires_at,
        "expires_in": max(0, int(tokens.access_expires_at - time.time())),
    }
    if with_refresh:
        token["refresh_token"] = tokens.refresh_token
    return token


def tokens_from_response(data: dict[str, Any], *, previous: TokenSet | None = None) -> TokenSet:
    scope = data.get("scope") or (previous.scopes if previous else [])
    scopes = scope.split() if isinstance(scope, str) else list(scope)
    now = time.time()
    refresh_token = data.get("refresh_token") or ""
    return TokenSet(
        access_token=data["access_token"],
        access_expires_at=float(data.get("expires_at") or now + float(data.get("expires_in") or 1800)),
        refresh_token=refresh_token,
        refresh_expires_at=now + REFRESH_IDLE_SECONDS if refresh_token else None,
        id_token=data.get("id_token") or "",
        scopes=scopes,
    )


def jwt_claims(token: str) -> dict[str, Any]:
    """The claims of a JWT access token, unverified (we only read which consent it came from)."""
    try:
        payload = token.split(".")[1]
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}


def _body_text(exc: ApiException) -> str:
    body = exc.body
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body or "")


def _oauth_error_code(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return ""
    return str(data.get("error", "")) if isinstance(data, dict) else ""


@contextmanager
def translated(action: str, *, token_endpoint: bool = False) -> Iterator[None]:
    """Turn whatever the SDK or the network raised into one of our typed errors."""
    try:
        yield
    except ApiException as exc:
        status = exc.status or 0
        body = _body_text(exc)
        # urllib3's header mapping (case-insensitive), or nothing when the SDK had no response.
        headers = exc.headers or {}
        request_id = headers.get("Xero-Correlation-Id", "")
        code = _oauth_error_code(body) if token_endpoint else ""
        if code and status in (400, 401):
            raise InvalidGrant(
                f"Xero refused the stored authorisation while {action} ({code}).",
                details={"oauth_error": code},
                ledger_request_id=request_id,
            ) from None
        if status == 429:
            retry_after = headers.get("Retry-After")
            raise RateLimited(
                f"Xero's rate limit was reached while {action}"
                f" ({headers.get('X-Rate-Limit-Problem', 'unknown')} limit).",
                retry_after=float(retry_after) if retry_after else None,
                ledger_request_id=request_id,
            ) from None
        if status in (401, 403):
            raise ProviderAuthError(
                f"Xero refused the access token while {action} (HTTP {status}).", ledger_request_id=request_id
            ) from None
        if status >= 500:
            raise ProviderUnavailable(
                f"Xero failed while {action} (HTTP {status}).", ledger_request_id=request_id
            ) from None
        if status == 400:
            raise ProviderValidationError(
                f"Xero rejected the request while {action}: {getattr(exc, 'reason', '') or body[:200]}",
                details={"body": body[:2000]},
                ledger_request_id=request_id,
            ) from None
        raise ProviderError(
            f"Xero answered HTTP {status} while {action}.",
            details={"http_status": status},
            ledger_request_id=request_id,
        ) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise transport_error(exc, ledger="Xero", action=action) from None


def code_exchange(*, app: AppCredentials, code: str, code_verifier: str) -> TokenSet:
    """The authorization-code exchange, which the SDK does not do (requests-oauthlib does, with PKCE)."""
    try:
        with OAuth2Session(client_id=app.client_id, redirect_uri=app.redirect_uri) as session:
            data = session.fetch_token(
                token_url(),
                code=code,
                client_secret=app.client_secret,
                code_verifier=code_verifier or None,
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
    except (oauth_errors.InvalidGrantError, oauth_errors.InvalidClientError) as exc:
        raise InvalidGrant(
            f"Xero refused the authorisation code ({exc.error}). Start the connection again.",
            details={"oauth_error": exc.error},
        ) from None
    except oauth_errors.OAuth2Error as exc:
        raise ProviderError(
            f"Xero's token endpoint answered {exc.error}: {exc.description or 'no description'}.",
            details={"oauth_error": exc.error},
        ) from None
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            f"Xero's token endpoint could not be reached: {type(exc).__name__}."
        ) from None
    return tokens_from_response(dict(data))


def token_refresh(*, app: AppCredentials, tokens: TokenSet) -> TokenSet:
    with (
        SdkClient(app, sdk_token(tokens, with_refresh=True)) as client,
        translated("refreshing the access token", token_endpoint=True),
    ):
        new = client.api_client.refresh_oauth2_token()
    if not new:
        raise InvalidGrant("Xero's token cannot be refreshed: no refresh token or scopes are stored.")
    return tokens_from_response(new, previous=tokens)


def token_revoke(*, app: AppCredentials, tokens: TokenSet) -> None:
    if not tokens.refresh_token:
        return
    with (
        SdkClient(app, sdk_token(tokens, with_refresh=True)) as client,
        translated("revoking the authorisation", token_endpoint=True),
    ):
        client.api_client.revoke_oauth2_token()


def client_credentials_token(*, app: AppCredentials) -> TokenSet:
    try:
        with (
            SdkClient(app, {}) as client,
            translated("requesting a custom-connection token", token_endpoint=True),
        ):
            new = client.api_client.get_client_credentials_token()
    except InvalidGrant as exc:
        raise InvalidGrant(
            "Xero refused the client id and secret for a custom connection "
            f"({exc.details.get('oauth_error')}). Check them, and that the app is a custom connection "
            "authorised for one organisation.",
            details=exc.details,
        ) from None
    return tokens_from_response(new)
