"""The one entry every emulated Xero API view goes through.

`@xero_api_endpoint` makes a view CSRF-exempt, authenticates the caller (bearer token + xero-tenant-id),
counts the call against the rate limits, applies the tenant's injected faults and hands the view an
`XeroCaller`. Every answer to an authenticated caller carries Xero's limit headers
(`X-DayLimit-Remaining`, `X-MinLimit-Remaining`, `X-AppMinLimit-Remaining`); a call over a limit is a 429
with `Retry-After` and `X-Rate-Limit-Problem` that the view never sees."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox import clock, gateway, limits
from sandbox.xero.auth import XeroAuthFailure, XeroCaller, authenticate

XeroView = Callable[..., HttpResponse]

FAULT_TITLES = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _problem(status: int, title: str, detail: str) -> HttpResponse:
    body = {"Type": None, "Title": title, "Status": status, "Detail": detail, "Instance": str(uuid.uuid4())}
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _with_usage(response: HttpResponse, usage: limits.Usage) -> HttpResponse:
    if usage.day_remaining is not None:
        response["X-DayLimit-Remaining"] = str(usage.day_remaining)
    if usage.minute_remaining is not None:
        response["X-MinLimit-Remaining"] = str(usage.minute_remaining)
    response["X-AppMinLimit-Remaining"] = str(usage.app_minute_remaining)
    return response


def _too_many_requests(limited: limits.RateLimited) -> HttpResponse:
    response = _problem(429, "Too Many Requests", f"Rate limit exceeded: {limited.problem}")
    response["Retry-After"] = str(limited.retry_after)
    response["X-Rate-Limit-Problem"] = limited.problem
    return _with_usage(response, limited.usage)


def _server_error(status: int) -> HttpResponse:
    title = FAULT_TITLES.get(status, "Error")
    return _problem(status, title, "The sandbox injected this error (fault_error_rate).")


FORMATS = gateway.WireFormats(throttled=_too_many_requests, server_error=_server_error)


def xero_api_endpoint(*, require_tenant: bool = True) -> Callable[[XeroView], Callable[..., HttpResponse]]:
    def decorator(view: XeroView) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            with clock.db_turn():
                try:
                    caller: XeroCaller = authenticate(request, require_tenant=require_tenant)
                except XeroAuthFailure as failure:
                    return failure.response()
            response, usage = gateway.guarded_call(
                request,
                app=caller.app,
                tenant=caller.tenant,
                call=lambda: view(request, caller, *args, **kwargs),
                formats=FORMATS,
            )
            return _with_usage(response, usage) if usage is not None else response

        return wrapper

    return decorator
