"""Faults injected into API calls, configured per tenant while the sandbox runs, the same for every
provider: added latency, error statuses (500/503), timeouts, and "the write committed but the answer was
lost" (the connection is closed after the view ran, so the client cannot tell whether it happened).

Reproducible: with `Tenant.fault_seed` set, whether call n fails is a pure function of (seed, n), where n
counts the app's calls to the tenant; `fault_next_count` scripts the next N calls outright.

How a connection is closed without an answer: the gateway returns a `DroppedResponse`; when the WSGI
server starts writing it, it shuts the client socket down and raises `ConnectionAbortedError`. wsgiref
(runserver, pytest-django's live server, `sandbox_serve`) treats that error as "the client went away" and
writes nothing; the client reads end-of-stream where the status line should be (urllib3:
`ProtocolError('Connection aborted.', RemoteDisconnected(...))`)."""

from __future__ import annotations

import logging
import os
import random
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import F
from django.http import HttpResponse

from sandbox import clock
from sandbox.models import FaultKindChoices, SandboxApp, Tenant

logger = logging.getLogger(__name__)

# A WSGI server the sandbox runs itself (sandbox_serve) puts the client socket in the environ here.
SOCKET_ENVIRON_KEY = "sandbox.socket"

_system_random = random.SystemRandom()


@dataclass(frozen=True)
class FaultPlan:
    """What happens to one call: `kind` is a FaultKindChoices value, or None for a clean call."""

    kind: str | None
    latency: float = 0.0
    error_status: int = 503
    hold: float = 0.0


NO_FAULT = FaultPlan(kind=None)


def fault_plan(*, tenant: Tenant, sequence: int) -> FaultPlan:
    """Decide the fate of call number `sequence` to `tenant`. Costs no query unless the tenant has a
    scripted fault pending (one conditional UPDATE claims it, so N scripted faults hit exactly N calls
    across all server processes)."""
    kind: str | None = None
    if tenant.fault_next_count > 0:
        with clock.db_turn():
            claimed = Tenant.objects.filter(pk=tenant.pk, fault_next_count__gt=0).update(
                fault_next_count=F("fault_next_count") - 1
            )
        if claimed:
            kind = tenant.fault_next_kind
    if kind is None:
        kind = _draw(tenant, sequence)
    latency = tenant.fault_latency_ms / 1000
    if kind is None and not latency:
        return NO_FAULT
    return FaultPlan(
        kind=kind, latency=latency, error_status=tenant.fault_error_status, hold=tenant.fault_timeout_seconds
    )


def _draw(tenant: Tenant, sequence: int) -> str | None:
    rates = (
        (FaultKindChoices.ERROR, tenant.fault_error_rate),
        (FaultKindChoices.TIMEOUT, tenant.fault_timeout_rate),
        (FaultKindChoices.DROP, tenant.fault_drop_after_commit_rate),
    )
    if not any(rate > 0 for _, rate in rates):
        return None
    # One draw split into consecutive ranges, so the rates are exact fractions of all calls.
    if tenant.fault_seed is None:
        point = _system_random.random()
    else:
        # Not for security: a seeded, replayable stream is the point.
        point = random.Random(f"{tenant.fault_seed}:{sequence}").random()  # noqa: S311
    edge = 0.0
    for kind, rate in rates:
        edge += rate
        if point < edge:
            return str(kind)
    return None


def latency_apply(plan: FaultPlan) -> None:
    if plan.latency > 0:
        time.sleep(plan.latency)


def timeout_hold(plan: FaultPlan) -> None:
    """Keep the call unanswered for the tenant's timeout (real seconds: what a client's timeout sees)."""
    if plan.hold > 0:
        time.sleep(plan.hold)


class DroppedResponse(HttpResponse):
    """A response the client never receives: serving it closes the connection instead.

    Status 444 is nginx's "connection closed without response"; it only ever shows in the server's logs."""

    def __init__(self, environ: dict[str, Any]) -> None:
        # `environ` is the WSGI environ (request.META is that very dict under WSGI).
        super().__init__(status=444, reason="Connection Closed Without Response")
        self._client_environ = environ

    def __iter__(self) -> Iterator[bytes]:
        connection_close(self._client_environ)
        # wsgiref would not call close() after the abort; Django's request_finished must still fire.
        self.close()
        raise ConnectionAbortedError("sandbox fault: connection closed without a response")


def connection_close(environ: dict[str, Any]) -> bool:
    """Shut down the client connection of the request `environ` belongs to, without a byte of answer.
    False when the server does not expose its socket (the abort alone then ends the exchange)."""
    fd = _client_fd(environ)
    if fd is None:
        logger.warning("sandbox fault: cannot reach the client socket to drop the connection")
        return False
    # A duplicate descriptor: closing it leaves the server's own socket object intact, while shutdown()
    # acts on the connection they share.
    with socket.socket(fileno=os.dup(fd)) as sock:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            return False
    return True


def _client_fd(environ: dict[str, Any]) -> int | None:
    for key in (SOCKET_ENVIRON_KEY, "gunicorn.socket"):
        sock = environ.get(key)
        if sock is not None:
            return int(sock.fileno())
    stream = environ.get("wsgi.input")
    # Django's development server hands the app a LimitedStream that keeps only the bound read method
    # of the socket's file; that file knows the descriptor.
    reader = getattr(getattr(stream, "_read", None), "__self__", None)
    for candidate in (stream, reader):
        fileno = getattr(candidate, "fileno", None)
        if fileno is None:
            continue
        try:
            return int(fileno())
        except (OSError, ValueError):
            continue
    return None


def token_answer(*, app: SandboxApp, request: Any, response: HttpResponse, refresh: bool) -> HttpResponse:
    """Count refresh grants and apply the app's token-endpoint fault: a scripted drop loses the answer
    after the grant was done (a rotated refresh token the client never sees)."""
    with clock.db_turn():
        if refresh:
            SandboxApp.objects.filter(pk=app.pk).update(token_refresh_count=F("token_refresh_count") + 1)
        dropped = app.fault_token_drop_next > 0 and SandboxApp.objects.filter(
            pk=app.pk, fault_token_drop_next__gt=0
        ).update(fault_token_drop_next=F("fault_token_drop_next") - 1)
    if dropped and response.status_code == 200:
        return DroppedResponse(request.META)
    return response
