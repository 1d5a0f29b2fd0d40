"""The sandbox's control API: JSON endpoints that read and change, while the sandbox runs, what the portal
and the admin change too (a tenant's limits and faults, an app's webhook settings), reset rate-limit
counters, run intent-to-receive checks and list webhook deliveries.

For local use by scripts and tests. Every call must send the `SANDBOX_CONTROL_TOKEN` setting's token
(`Authorization: Bearer <token>` or `X-Sandbox-Control-Token`); unset, the API refuses every call (it
answers with the apps' client secrets and webhook keys). The demo makes one per run and prints it.

    GET   control/tenants                                     every tenant
    GET   control/tenants/<tenant_id>                         one tenant, with each app's usage
    PATCH control/tenants/<tenant_id>                         {"limit_minute": 3, "fault_error_rate": 0.5}
    POST  control/tenants/<tenant_id>/limits/reset            forget its rate-limit counters
    GET   control/apps                                        every app, with credentials
    GET   control/apps/<client_id>
    PATCH control/apps/<client_id>                            {"webhook_url": "...", "time_scale": 60}
    POST  control/apps/<client_id>/webhooks/intent-to-receive run the check now, answer its verdict
    GET   control/apps/<client_id>/webhooks/deliveries        the latest deliveries with their attempts"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sandbox import clock, limits, webhooks
from sandbox.models import SandboxApp, Tenant, WebhookDelivery, WebhookItrCheck

TENANT_FIELDS = (
    "name",
    "base_currency",
    "country",
    "short_code",
    "timezone",
    "limit_concurrent",
    "limit_minute",
    "limit_day",
    "time_scale",
    "fault_error_rate",
    "fault_error_status",
    "fault_latency_ms",
    "fault_timeout_rate",
    "fault_timeout_seconds",
    "fault_drop_after_commit_rate",
    "fault_seed",
    "fault_next_count",
    "fault_next_kind",
)
APP_FIELDS = (
    "name",
    "redirect_uris",
    "webhook_url",
    "webhook_key",
    "webhook_format",
    "limit_app_minute",
    "time_scale",
    "webhook_retry_delays",
)
DELIVERY_LIST_LIMIT = 50

ControlView = Callable[..., HttpResponse]


class BadRequest(Exception):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        super().__init__(json.dumps(errors))


def _token_ok(request: HttpRequest) -> bool:
    expected = str(getattr(settings, "SANDBOX_CONTROL_TOKEN", "") or "")
    if not expected:
        return False  # closed, not open: the control API shows the apps' secrets
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    given = (
        value.strip() if scheme.lower() == "bearer" else request.headers.get("X-Sandbox-Control-Token", "")
    )
    return hmac.compare_digest(given.encode(), expected.encode())


def control_endpoint(*, hold_turn: bool = True) -> Callable[[ControlView], ControlView]:
    """Token check, JSON errors; `hold_turn` takes the sandbox database turn for the whole view (off for
    views that make HTTP calls of their own and take turns inside)."""

    def decorator(view: ControlView) -> ControlView:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _token_ok(request):
                return JsonResponse({"error": "a valid sandbox control token is required"}, status=401)
            try:
                if hold_turn:
                    with clock.db_turn():
                        return view(request, *args, **kwargs)
                return view(request, *args, **kwargs)
            except BadRequest as exc:
                return JsonResponse({"errors": exc.errors}, status=400)

        return wrapper

    return decorator


def _payload(request: HttpRequest) -> dict[str, Any]:
    try:
        payload = json.loads(request.body or b"{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest({"body": [f"not JSON: {exc}"]}) from None
    if not isinstance(payload, dict):
        raise BadRequest({"body": ["expected a JSON object"]})
    return payload


def _fields(instance: Model, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in names}


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(item, int | float) and not isinstance(item, bool) and item >= 0 for item in value
    )


def _update(instance: Model, allowed: tuple[str, ...], payload: dict[str, Any]) -> list[str]:
    """Set the fields `payload` names on `instance` and validate the result; nothing is saved when any
    field is unknown or invalid. Returns the names changed."""
    errors: dict[str, list[str]] = {
        name: ["not a field that can be changed here"] for name in payload if name not in allowed
    }
    for name, value in payload.items():
        if name in errors:
            continue
        model_field = instance._meta.get_field(name)
        try:
            setattr(instance, name, model_field.to_python(value))  # type: ignore[union-attr]
        except ValidationError as exc:
            errors[name] = exc.messages
    if "webhook_retry_delays" in payload and not _numbers(payload["webhook_retry_delays"]):
        errors["webhook_retry_delays"] = ["a list of seconds (non-negative numbers)"]
    if "redirect_uris" in payload and not (
        isinstance(payload["redirect_uris"], list)
        and all(isinstance(u, str) for u in payload["redirect_uris"])
    ):
        errors["redirect_uris"] = ["a list of URLs"]
    status = payload.get("fault_error_status")
    if status is not None and not (isinstance(status, int) and 500 <= status <= 599):
        errors["fault_error_status"] = ["an HTTP 5xx status"]
    if not errors:
        try:
            instance.full_clean()
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise BadRequest(errors)
    return list(payload)


def tenant_json(tenant: Tenant) -> dict[str, Any]:
    return {
        "tenant_id": tenant.tenant_id,
        "provider": tenant.provider,
        **_fields(tenant, TENANT_FIELDS),
        "usage": limits.tenant_usage(tenant=tenant),
    }


def app_json(app: SandboxApp) -> dict[str, Any]:
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "provider": app.provider,
        **_fields(app, APP_FIELDS),
        "webhook_sequence": app.webhook_sequence,
    }


def _tenant(tenant_id: str) -> Tenant | None:
    return Tenant.objects.filter(tenant_id=tenant_id).first()


def _app(client_id: str) -> SandboxApp | None:
    return SandboxApp.objects.filter(client_id=client_id).first()


def _not_found(what: str) -> JsonResponse:
    return JsonResponse({"error": f"no such {what}"}, status=404)


@control_endpoint()
@require_http_methods(["GET"])
def tenants(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"tenants": [tenant_json(tenant) for tenant in Tenant.objects.order_by("id")]})


@control_endpoint()
@require_http_methods(["GET", "PATCH"])
def tenant(request: HttpRequest, tenant_id: str) -> HttpResponse:
    found = _tenant(tenant_id)
    if found is None:
        return _not_found("tenant")
    if request.method == "PATCH":
        changed = _update(found, TENANT_FIELDS, _payload(request))
        if changed:
            found.save(update_fields=[*changed, "updated_at"])
    return JsonResponse(tenant_json(found))


@control_endpoint()
@require_POST
def tenant_limits_reset(request: HttpRequest, tenant_id: str) -> HttpResponse:
    found = _tenant(tenant_id)
    if found is None:
        return _not_found("tenant")
    limits.limits_reset(tenant=found)
    return JsonResponse(tenant_json(found))


@control_endpoint()
@require_http_methods(["GET"])
def apps(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"apps": [app_json(app) for app in SandboxApp.objects.order_by("id")]})


@control_endpoint()
@require_http_methods(["GET", "PATCH"])
def app(request: HttpRequest, client_id: str) -> HttpResponse:
    found = _app(client_id)
    if found is None:
        return _not_found("app")
    if request.method == "PATCH":
        changed = _update(found, APP_FIELDS, _payload(request))
        if changed:
            found.save(update_fields=changed)
    return JsonResponse(app_json(found))


def itr_check_json(check: WebhookItrCheck) -> dict[str, Any]:
    probes = []
    for probe in check.probes.order_by("id").prefetch_related("attempt_log"):
        attempt = next(iter(probe.attempt_log.all()), None)
        probes.append(
            {
                "correctly_signed": probe.correctly_signed,
                "expected_status": probe.expected_status,
                "status_code": attempt.status_code if attempt else None,
                "error": attempt.error if attempt else "",
                "duration_ms": attempt.duration_ms if attempt else None,
                "passed": bool(attempt and attempt.succeeded),
            }
        )
    return {
        "id": check.pk,
        "url": check.url,
        "passed": check.passed,
        "detail": check.detail,
        "started_at": check.started_at.isoformat(),
        "finished_at": check.finished_at.isoformat() if check.finished_at else None,
        "probes": probes,
    }


@control_endpoint(hold_turn=False)
@require_POST
def app_intent_to_receive(request: HttpRequest, client_id: str) -> HttpResponse:
    with clock.db_turn():
        found = _app(client_id)
    if found is None:
        return _not_found("app")
    try:
        check = webhooks.itr_check_run(app=found)
    except ValueError as exc:
        raise BadRequest({"webhook_url": [str(exc)]}) from None
    with clock.db_turn():
        return JsonResponse(itr_check_json(check))


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.pk,
        "kind": delivery.kind,
        "status": delivery.status,
        "payload_format": delivery.payload_format,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at.isoformat(),
        "completed_at": delivery.completed_at.isoformat() if delivery.completed_at else None,
        "body": json.loads(delivery.body),
        "attempt_log": [
            {
                "number": attempt.number,
                "url": attempt.url,
                "started_at": attempt.started_at.isoformat(),
                "duration_ms": attempt.duration_ms,
                "status_code": attempt.status_code,
                "error": attempt.error,
                "succeeded": attempt.succeeded,
            }
            for attempt in delivery.attempt_log.all()
        ],
    }


@control_endpoint()
@require_http_methods(["GET"])
def app_deliveries(request: HttpRequest, client_id: str) -> HttpResponse:
    found = _app(client_id)
    if found is None:
        return _not_found("app")
    deliveries = found.webhook_deliveries.prefetch_related("attempt_log").order_by("-id")[
        :DELIVERY_LIST_LIMIT
    ]
    return JsonResponse({"deliveries": [delivery_json(delivery) for delivery in deliveries]})
