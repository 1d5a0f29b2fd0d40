"""Every API error is JSON of one shape, whatever raised it:

    {"error": {"status": 400, "code": "invalid", "message": "...", "fields": {"name": ["..."]},
               "request_id": "..."}}

`fields` appears for input errors; `details` for errors that carry more context.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.api.parsers import PayloadTooLarge
from core.errors import LedgerlinkError
from core.logging import request_id_var

logger = logging.getLogger(__name__)


def error_body(
    *,
    status_code: int,
    code: str,
    message: str,
    fields: dict[str, Any] | None = None,
    details: dict[str, Any] | None = None,
) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status_code, "code": code, "message": message}
    if fields:
        error["fields"] = fields
    if details:
        error["details"] = details
    error["request_id"] = request_id_var.get()
    return {"error": error}


def _field_messages(detail: Any) -> Any:
    """DRF's nested ErrorDetail structure, as plain strings keyed like the input."""
    if isinstance(detail, dict):
        return {str(key): _field_messages(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_field_messages(item) for item in detail]
    return str(detail)


def _from_drf(exc: exceptions.APIException) -> tuple[int, dict[str, Any]]:
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields if isinstance(fields, list) else [fields]}
        return exc.status_code, error_body(
            status_code=exc.status_code, code="invalid", message="Invalid input.", fields=fields
        )
    detail = exc.detail
    message = str(detail) if not isinstance(detail, dict | list) else str(exc.default_detail)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    return exc.status_code, error_body(status_code=exc.status_code, code=str(code), message=message)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: typed errors, DRF errors and unexpected failures all become JSON."""
    headers: dict[str, str] = {}
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge("The request body is too large; send less at once.")
    elif isinstance(exc, SuspiciousOperation):
        # Too many form fields, a body over the size limit, a malformed multipart: the client's fault.
        exc = exceptions.ParseError(str(exc) or "The request could not be read.")

    if isinstance(exc, LedgerlinkError):
        status_code = exc.status_code
        body = error_body(
            status_code=status_code,
            code=exc.code,
            message=exc.message,
            fields=exc.fields or None,
            details=exc.details or None,
        )
        if status_code >= 500:
            logger.warning("service error: %s", exc.message, extra={"code": exc.code})
    elif isinstance(exc, exceptions.APIException):
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        status_code, body = _from_drf(exc)
    else:
        # A bug. Log it with its traceback; the client gets JSON with the request id to report.
        logger.error(
            "unhandled error in API view",
            exc_info=exc,
            extra={"view": type(context.get("view")).__name__},
        )
        status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
        body = error_body(
            status_code=status_code,
            code="server_error",
            message="An unexpected error occurred. It has been logged; quote the request id when reporting it.",
        )
    set_rollback()
    return Response(body, status=status_code, headers=headers)
