"""The one entry every emulated QBO v3 API view goes through.

`@qbo_api_endpoint` makes a view CSRF-exempt, authenticates the caller against the realm in the URL and
hands the view a `QboCaller`, through the rate limits and fault injection every emulated ledger shares
(sandbox.gateway). Every response carries an `intuit_tid`, as Intuit's do."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from sandbox import clock, gateway, limits
from sandbox.qbo.api import wire
from sandbox.qbo.api.faults import QboFault
from sandbox.qbo.auth import QboAuthFailure, QboCaller, authenticate

QboView = Callable[..., HttpResponse]


def intuit_tid() -> str:
    return f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


def _throttled(limited: limits.RateLimited) -> HttpResponse:
    """Intuit's throttle answer is XML even to a JSON client, and carries no Retry-After."""
    body = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<IntuitResponse time="{wire.envelope_time(timezone.now())}" xmlns="http://schema.intuit.com/finance/v3">'
        '<Fault type="SERVICE"><Error code="3001">'
        "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>"
        "<Detail>The request limit was reached.  Try again later</Detail></Error></Fault></IntuitResponse>"
    )
    return HttpResponse(body, status=429, content_type="application/xml")


def _server_error(status: int) -> HttpResponse:
    fault = QboFault(
        "10000",
        "An application error has occurred while processing your request",
        "System Failure Error: The sandbox injected this error (fault_error_rate).",
        fault_type="SystemFault",
        status=status,
    )
    body = {"Fault": fault.fault(), "time": wire.envelope_time(timezone.now())}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


FORMATS = gateway.WireFormats(throttled=_throttled, server_error=_server_error)


def qbo_api_endpoint(view: QboView) -> Callable[..., HttpResponse]:
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, realm_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            with clock.db_turn():
                caller: QboCaller = authenticate(request, realm_id)
        except QboAuthFailure as failure:
            response = failure.response()
        else:
            response, _usage = gateway.guarded_call(
                request,
                app=caller.app,
                tenant=caller.tenant,
                call=lambda: view(request, caller, *args, **kwargs),
                formats=FORMATS,
            )
        response["intuit_tid"] = intuit_tid()
        return response

    return wrapper
