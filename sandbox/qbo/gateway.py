"""The one entry every emulated QBO v3 API view goes through.

`@qbo_api_endpoint` makes a view CSRF-exempt, authenticates the caller against the realm in the URL and
hands the view a `QboCaller`. Every response carries an `intuit_tid`, as Intuit's do. Rate limits and
fault injection hook in here, once, for every endpoint."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from sandbox.qbo.auth import QboAuthFailure, QboCaller, authenticate

QboView = Callable[..., HttpResponse]


def intuit_tid() -> str:
    return f"1-{secrets.token_hex(4)}-{secrets.token_hex(12)}"


def qbo_api_endpoint(view: QboView) -> Callable[..., HttpResponse]:
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, realm_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            caller: QboCaller = authenticate(request, realm_id)
        except QboAuthFailure as failure:
            response = failure.response()
        else:
            response = view(request, caller, *args, **kwargs)
        response["intuit_tid"] = intuit_tid()
        return response

    return wrapper
