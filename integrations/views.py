"""The OAuth callback: where the ledger sends the browser back. Not a DRF endpoint because a browser, not
an API client, arrives here; it answers JSON to clients that ask for it."""

from __future__ import annotations

from typing import TypeVar
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.api.exceptions import error_body
from integrations.providers.base import CallbackParams
from integrations.services import (
    STATE_LIFETIME,
    AuthorizeStart,
    OAuthFailed,
    browser_cookie_name,
    oauth_callback_complete,
)

CALLBACK_URL_NAME = "v1:connection-callback"


_Response = TypeVar("_Response", bound=HttpResponse)


def oauth_redirect_uri(request: HttpRequest) -> str:
    """The redirect URI registered with the ledgers' apps: from LEDGERLINK_PUBLIC_URL, else this request."""
    path = reverse(CALLBACK_URL_NAME)
    if settings.LEDGERLINK_PUBLIC_URL:
        return f"{settings.LEDGERLINK_PUBLIC_URL}{path}"
    return request.build_absolute_uri(path)


def oauth_browser_bind(request: HttpRequest, response: _Response, start: AuthorizeStart) -> _Response:
    """Give the browser that starts an authorisation the nonce its callback must bring back: only the
    callback path sees it, scripts never do, and SameSite=Lax lets it ride the ledger's redirect back."""
    response.set_cookie(
        browser_cookie_name(state_hash=start.state_hash),
        start.browser_nonce,
        max_age=int(STATE_LIFETIME.total_seconds()),
        path=reverse(CALLBACK_URL_NAME),
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def return_url_allowed(request: HttpRequest, url: str) -> bool:
    return not url or url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host(), *settings.ALLOWED_HOSTS}, require_https=request.is_secure()
    )


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def _with_query(url: str, **params: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


@never_cache
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    params = CallbackParams(
        code=request.GET.get("code", ""),
        state=request.GET.get("state", ""),
        error=request.GET.get("error", ""),
        error_description=request.GET.get("error_description", ""),
        extra={key: str(request.GET.get(key, "")) for key in request.GET if key not in ("code", "state")},
    )
    cookie = browser_cookie_name(state=params.state)
    try:
        user_id = request.user.pk if request.user.is_authenticated else None
        result = oauth_callback_complete(
            params=params, user_id=user_id, browser_nonce=request.COOKIES.get(cookie, "")
        )
    except OAuthFailed as exc:
        if _wants_json(request):
            body = error_body(status_code=400, code=exc.code, message=exc.message)
            return JsonResponse(body, status=400)
        return render(request, "integrations/oauth_result.html", {"error": exc.message}, status=400)
    names = ", ".join(connection.display_name for connection in result.connections)
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(
            {
                "connections": [
                    {"id": c.pk, "display_name": c.display_name, "status": c.status}
                    for c in result.connections
                ]
            }
        )
    elif result.return_url:
        messages.success(request, f"Connected: {names}.", fail_silently=True)
        response = HttpResponseRedirect(
            _with_query(result.return_url, connections=",".join(str(c.pk) for c in result.connections))
        )
    else:
        response = render(request, "integrations/oauth_result.html", {"connections": result.connections})
    response.delete_cookie(cookie, path=reverse(CALLBACK_URL_NAME))
    return response
