"""What every emulated API call goes through after its provider has authenticated the caller: the
rate limits, the tenant's injected faults, the webhook event scope. Each provider's gateway supplies only
its wire formats (how a throttled call and an injected server error look on the wire)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse

from sandbox import clock, faults, limits, webhooks
from sandbox.models import FaultKindChoices, SandboxApp, Tenant


@dataclass(frozen=True)
class WireFormats:
    throttled: Callable[[limits.RateLimited], HttpResponse]
    server_error: Callable[[int], HttpResponse]


def guarded_call(
    request: HttpRequest,
    *,
    app: SandboxApp,
    tenant: Tenant | None,
    call: Callable[[], HttpResponse],
    formats: WireFormats,
) -> tuple[HttpResponse, limits.Usage | None]:
    """Admit the call against the limits, apply the fault planned for it, run it.

    Returns the response and what is left of the limits (None when the call was refused before it was
    counted). A refused call never reaches `call`; a dropped one has run and committed."""
    # Webhook retries left by an earlier run resume once the sandbox serves again.
    webhooks.sender_ensure()
    try:
        with clock.db_turn():
            admission = limits.call_admit(app=app, tenant=tenant)
    except limits.RateLimited as limited:
        return formats.throttled(limited), limited.usage
    try:
        plan = (
            faults.fault_plan(tenant=tenant, sequence=admission.sequence)
            if tenant is not None
            else faults.NO_FAULT
        )
        faults.latency_apply(plan)
        if plan.kind == FaultKindChoices.ERROR:
            return formats.server_error(plan.error_status), admission.usage
        if plan.kind == FaultKindChoices.TIMEOUT:
            faults.timeout_hold(plan)
            return faults.DroppedResponse(request.META), admission.usage
        with clock.db_turn(), webhooks.api_call_scope(request):
            response = call()
        if plan.kind == FaultKindChoices.DROP:
            return faults.DroppedResponse(request.META), admission.usage
        return response, admission.usage
    finally:
        admission.release()
