"""The one place intuit-oauth and python-quickbooks are called, and their exceptions translated.

Wiring facts (provider doc §6): `AuthClient` takes the discovery document's URL as its environment and
fetches it on construction (we fetch it once per process and hand it over), python-quickbooks' API base is
the `api_url_v3` attribute, neither library sets a timeout, and python-quickbooks drops the HTTP status of
errors it cannot parse, so a response hook keeps the last response for classification."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
from django.conf import settings
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from quickbooks import QuickBooks
from quickbooks.exceptions import AuthorizationException, QuickbooksException
from requests.adapters import HTTPAdapter

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

MINOR_VERSION = 75
DISCOVERY_CACHE_SECONDS = 3600

_discovery_lock = threading.Lock()
_discovery: dict[str, tuple[float, dict[str, Any]]] = {}


class _TimeoutAdapter(HTTPAdapter):
    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (CONNECT_TIMEOUT, READ_TIMEOUT)
        return super().send(request, **kwargs)


class _LastResponse:
    """Remembers the last HTTP response a session received (python-quickbooks hides its status)."""

    def __init__(self) -> None:
        self.response: requests.Response | None = None

    def hook(self, response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        self.response = response
        return response


def _prepare(session: requests.Session, last: _LastResponse) -> None:
    adapter = _TimeoutAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.hooks["response"].append(last.hook)


def discovery_document() -> dict[str, Any]:
    url = settings.QBO_DISCOVERY_URL
    with _discovery_lock:
        cached = _discovery.get(url)
        if cached and cached[0] > time.time():
            return cached[1]
    try:
        response = requests.get(
            url, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), headers={"Accept": "application/json"}
        )
    except requests.RequestException as exc:
        raise ProviderUnavailable(
            f"Intuit's discovery document could not be fetched: {type(exc).__name__}."
        ) from None
    if response.status_code != 200:
        raise ProviderUnavailable(f"Intuit's discovery document answered HTTP {response.status_code}.")
    document = response.json()
    with _discovery_lock:
        _discovery[url] = (time.time() + DISCOVERY_CACHE_SECONDS, document)
    return document


class LedgerlinkAuthClient(AuthClient):
    """intuit-oauth's client, built from the cached discovery document instead of fetching it each time."""

    def __init__(self, app: AppCredentials, tokens: TokenSet | None = None, realm_id: str = "") -> None:
        requests.Session.__init__(self)
        self.last = _LastResponse()
        _prepare(self, self.last)
        document = discovery_document()
        self.client_id = app.client_id
        self.client_secret = app.client_secret
        self.redirect_uri = app.redirect_uri
        self.environment = settings.QBO_DISCOVERY_URL
        self.state_token = None
        self.auth_endpoint = document["authorization_endpoint"]
        self.token_endpoint = document["token_endpoint"]
        self.revoke_endpoint = document["revocation_endpoint"]
        self.issuer_uri = document["issuer"]
        self.jwks_uri = document["jwks_uri"]
        self.user_info_url = document["userinfo_endpoint"]
        self.realm_id = realm_id or None
        self.access_token = tokens.access_token if tokens else None
        self.expires_in = None
        self.refresh_token = tokens.refresh_token if tokens else None
        self.x_refresh_token_expires_in = None
        self.id_token = None


def _status_error(status: int, action: str, response: requests.Response | None) -> ProviderError:
    request_id = response.headers.get("intuit_tid", "") if response is not None else ""
    if status == 429:
        retry_after = response.headers.get("Retry-After") if response is not None else None
        return RateLimited(
            f"QuickBooks' rate limit was reached while {action}.",
            retry_after=float(retry_after) if retry_after else None,
            ledger_request_id=request_id,
        )
    if status in (401, 403):
        return ProviderAuthError(
            f"QuickBooks refused the access token while {action} (HTTP {status}).",
            ledger_request_id=request_id,
        )
    if status >= 500:
        return ProviderUnavailable(
            f"QuickBooks failed while {action} (HTTP {status}).", ledger_request_id=request_id
        )
    return ProviderError(
        f"QuickBooks answered HTTP {status} while {action}.",
        details={"http_status": status},
        ledger_request_id=request_id,
    )


@contextmanager
def translated(action: str, last: _LastResponse | None = None) -> Iterator[None]:
    try:
        yield
    except AuthClientError as exc:
        try:
            body = json.loads(exc.content or b"{}")
        except ValueError:
            body = {}
        error = body.get("error", "") if isinstance(body, dict) else ""
        if exc.status_code in (400, 401) and error:
            raise InvalidGrant(
                f"Intuit refused the stored authorisation while {action} ({error}"
                f"{': ' + body['error_description'] if body.get('error_description') else ''}).",
                details={"oauth_error": error},
                ledger_request_id=exc.intuit_tid or "",
            ) from None
        raise _status_error(exc.status_code, action, exc.response) from None
    except AuthorizationException:
        raise ProviderAuthError(f"QuickBooks refused the access token while {action}.") from None
    except QuickbooksException as exc:
        response = last.response if last else None
        status = response.status_code if response is not None else 0
        if status and status != 400 and not 200 <= status < 300:
            raise _status_error(status, action, response) from None
        if 2000 <= (exc.error_code or 0) < 5000 or status == 400:
            raise ProviderValidationError(
                f"QuickBooks rejected the request while {action}: {exc.message} {exc.detail}".strip(),
                details={"error_code": exc.error_code},
            ) from None
        raise ProviderError(
            f"QuickBooks error {exc.error_code} while {action}: {exc.message}",
            details={"error_code": exc.error_code},
        ) from None
    except requests.RequestException as exc:
        raise transport_error(exc, ledger="QuickBooks", action=action) from None


def scopes() -> list[Scopes]:
    return [Scopes(value) for value in settings.QBO_SCOPES.split()]


def tokens_from_client(auth_client: AuthClient, *, previous: TokenSet | None = None) -> TokenSet:
    now = time.time()
    refresh_in = getattr(auth_client, "x_refresh_token_expires_in", None)
    return TokenSet(
        access_token=auth_client.access_token,
        access_expires_at=now + float(auth_client.expires_in or 3600),
        refresh_token=auth_client.refresh_token or "",
        refresh_expires_at=now + float(refresh_in)
        if refresh_in
        else (previous.refresh_expires_at if previous else None),
        id_token=auth_client.id_token or "",
        scopes=[scope.value for scope in scopes()] if previous is None else previous.scopes,
    )


def authorize_url(*, app: AppCredentials, state: str) -> str:
    return LedgerlinkAuthClient(app).get_authorization_url(scopes(), state_token=state)


def code_exchange(*, app: AppCredentials, code: str, realm_id: str) -> TokenSet:
    with (
        LedgerlinkAuthClient(app) as auth_client,
        translated("exchanging the authorisation code", auth_client.last),
    ):
        auth_client.get_bearer_token(code, realm_id=realm_id)
    return tokens_from_client(auth_client)


def token_refresh(*, app: AppCredentials, tokens: TokenSet) -> TokenSet:
    with (
        LedgerlinkAuthClient(app, tokens) as auth_client,
        translated("refreshing the access token", auth_client.last),
    ):
        auth_client.refresh(refresh_token=tokens.refresh_token)
    return tokens_from_client(auth_client, previous=tokens)


def token_revoke(*, app: AppCredentials, tokens: TokenSet) -> None:
    with (
        LedgerlinkAuthClient(app, tokens) as auth_client,
        translated("revoking the authorisation", auth_client.last),
    ):
        auth_client.revoke(token=tokens.refresh_token or tokens.access_token)


class Session:
    """A python-quickbooks client for one company with a known-good access token.

    `exact`: python-quickbooks decodes every response body with `json.loads(text, parse_float=Decimal)`
    (its `use_decimal`), so amounts never pass through a float; that is the same decoding as
    `core.jsontext.decode`, done once. The pull reads the raw dicts this gives, not the SDK's models."""

    def __init__(self, app: AppCredentials, tokens: TokenSet, realm_id: str, *, exact: bool = False) -> None:
        self.auth_client = LedgerlinkAuthClient(app, tokens, realm_id)
        # With an access token set, QuickBooks() does not refresh (which would rotate the token unseen).
        self.qb = QuickBooks(
            auth_client=self.auth_client,
            refresh_token=tokens.refresh_token,
            company_id=realm_id,
            minorversion=MINOR_VERSION,
            use_decimal=exact,
        )
        self.qb.api_url_v3 = f"{settings.QBO_API_URL}/v3"
        self.last = _LastResponse()
        _prepare(self.qb.session, self.last)

    @contextmanager
    def translated(self, action: str) -> Iterator[None]:
        with translated(action, self.last):
            yield

    def close(self) -> None:
        """Release the pooled connections (keep-alive sockets) of both sessions."""
        self.qb.session.close()
        self.auth_client.close()
