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

from sandbox import clock, faults, limits, webhooks
from sandbox.models import FaultKindChoices
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


def _serve(
    request: HttpRequest,
    caller: XeroCaller,
    plan: faults.FaultPlan,
    view: XeroView,
    *args: Any,
    **kwargs: Any,
) -> HttpResponse:
    faults.latency_apply(plan)
    if plan.kind == FaultKindChoices.ERROR:
        title = FAULT_TITLES.get(plan.error_status, "Error")
        return _problem(plan.error_status, title, "The sandbox injected this error (fault_error_rate).")
    if plan.kind == FaultKindChoices.TIMEOUT:
        faults.timeout_hold(plan)
        return faults.DroppedResponse(request.META)
    with clock.db_turn(), webhooks.api_call_scope(request):
        response = view(request, caller, *args, **kwargs)
    if plan.kind == FaultKindChoices.DROP:
        return faults.DroppedResponse(request.META)
    return response


def xero_api_endpoint(*, require_tenant: bool = True) -> Callable[[XeroView], Callable[..., HttpResponse]]:
    def decorator(view: XeroView) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # Webhook retries left by an earlier run resume once the sandbox serves again.
            webhooks.sender_ensure()
            with clock.db_turn():
                try:
                    caller: XeroCaller = authenticate(request, require_tenant=require_tenant)
                except XeroAuthFailure as failure:
                    return failure.response()
                try:
                    admission = limits.call_admit(app=caller.app, tenant=caller.tenant)
                except limits.RateLimited as limited:
                    return _too_many_requests(limited)
            try:
                plan = faults.NO_FAULT
                if caller.tenant is not None:
                    plan = faults.fault_plan(tenant=caller.tenant, sequence=admission.sequence)
                response = _serve(request, caller, plan, view, *args, **kwargs)
            finally:
                admission.release()
            return _with_usage(response, admission.usage)

        return wrapper

    return decorator
