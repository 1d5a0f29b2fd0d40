"""The one entry every emulated Xero API view goes through.

`@xero_api_endpoint` makes a view CSRF-exempt, authenticates the caller (bearer token + xero-tenant-id) and
hands the view an `XeroCaller`. Rate limits, fault injection and the limit headers hook in here, once,
for every endpoint."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.xero.auth import XeroAuthFailure, XeroCaller, authenticate

XeroView = Callable[..., HttpResponse]


def xero_api_endpoint(*, require_tenant: bool = True) -> Callable[[XeroView], Callable[..., HttpResponse]]:
    def decorator(view: XeroView) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                caller: XeroCaller = authenticate(request, require_tenant=require_tenant)
            except XeroAuthFailure as failure:
                return failure.response()
            return view(request, caller, *args, **kwargs)

        return wrapper

    return decorator
