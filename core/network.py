"""Who is at the other end of a request, as far as the deployment lets us know, and what a locked-out
login attempt is told.

The client's address is read from `X-Forwarded-For` only through the `TRUSTED_PROXY_COUNT` proxies the
deployment says are in front of it (0: none, so the header is ignored and anyone could forge it). The
login throttle (DRF's NUM_PROXIES) and the lockout (django-axes) read the address the same way."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_OUT = (
    "Too many failed logins: this account (or this address) is locked for {minutes} minutes. "
    "Wait, or ask an administrator to unlock it."
)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the one the outermost trusted proxy saw, else the socket's."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]


def _cool_off_seconds() -> int:
    cool_off = getattr(settings, "AXES_COOLOFF_TIME", None)
    return round(cool_off.total_seconds()) if cool_off is not None else 0


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """429 with words: JSON under /api/ (as every API error), a page elsewhere (the admin's login).
    Retry-After is the whole cool-off: the lock lasts that long after the latest failure, and a client
    waiting that long is sure to find it lifted."""
    seconds = _cool_off_seconds()
    message = LOCKED_OUT.format(minutes=round(seconds / 60))
    response: HttpResponse
    if request.path.startswith("/api/"):
        from core.api.exceptions import error_body

        body = error_body(status_code=429, code="locked_out", message=message)
        response = JsonResponse(body, status=429)
    else:
        response = render(request, "core/locked_out.html", {"message": message}, status=429)
    if seconds:
        response["Retry-After"] = str(seconds)
    return response
