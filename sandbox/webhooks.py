"""Outgoing webhooks of the emulated ledgers: record events, batch them per app, POST them signed, retry.

The core is provider-neutral. A `WebhookFormat` says how a provider builds a payload from a batch of
events, which header carries the signature and on what schedule failed deliveries are retried; every
signature is base64(HMAC-SHA256(key = the app's webhook key as UTF-8, message = the raw body)), which is
Xero's `x-xero-signature` and Intuit's `intuit-signature` alike.

Flow: the API calls `xero_event_record` (or `qbo_event_record`) once its transaction has committed; that
records one `WebhookEvent` per subscribed app (all the events of one API call in one INSERT when the call
ends, see `api_call_scope`) and wakes this process's sender thread. The sender batches
each app's waiting events into a `WebhookDelivery` (numbered with the app's event sequence; the body is
built once, so a retry resends the same bytes), POSTs it with a 5-second timeout, records every attempt,
and reschedules failures by the app's (or the provider's) retry delays divided by the delivery's time
scale. The thread starts lazily in whatever process serves the sandbox (runserver, the live server of
the tests, `sandbox_serve`); `manage.py sandbox_webhooks` runs the same passes on its own. Several senders
may run at once: a delivery is claimed with a conditional UPDATE before it is sent."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import logging
import os
import secrets
import string
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connections
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from sandbox import clock
from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant, WebhookAttempt, WebhookDelivery, WebhookEvent, WebhookItrCheck
from sandbox.models.webhooks import WebhookDeliveryKindChoices, WebhookDeliveryStatusChoices
from sandbox.routers import SANDBOX_ALIAS

logger = logging.getLogger(__name__)

PENDING = WebhookDeliveryStatusChoices.PENDING
SENDING = WebhookDeliveryStatusChoices.SENDING
DELIVERED = WebhookDeliveryStatusChoices.DELIVERED
FAILED = WebhookDeliveryStatusChoices.FAILED
EVENTS = WebhookDeliveryKindChoices.EVENTS
ITR = WebhookDeliveryKindChoices.INTENT_TO_RECEIVE

BATCH_LIMIT = 200
# A sender owns a claimed delivery this long; longer than any POST can take, so it only lapses for a
# sender that died mid-delivery.
CLAIM_SECONDS = 120.0
# After a failed pass, the sender tries again this much later.
IDLE_POLL_SECONDS = 5.0
# After a wake-up, wait this long so the events of one API write leave in one batch.
BATCH_GATHER_SECONDS = 0.05
RESPONSE_READ_LIMIT = 65_536


def delivery_timeout() -> float:
    """Xero gives a receiver 5 seconds to answer."""
    return float(getattr(settings, "SANDBOX_WEBHOOK_TIMEOUT", 5.0))


def sign(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


# --- payload formats --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookFormat:
    """How one provider's webhooks look on the wire.

    `build(app, events, first_sequence, last_sequence)` returns the body of one delivery; `retry_delays`
    are the seconds waited after the 1st, 2nd... failed attempt (their count bounds the attempts);
    `intent_to_receive()` builds an empty probe body, None when the provider has no such check."""

    key: str
    signature_header: str
    build: Callable[[SandboxApp, Sequence[WebhookEvent], int, int], bytes]
    retry_delays: tuple[float, ...]
    intent_to_receive: Callable[[], bytes] | None = None


def _entropy() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def _json(payload: object) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _xero_time(moment: datetime) -> str:
    # ISO with milliseconds and no zone designator: "2024-06-21T01:15:39.902".
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


def _xero_body(app: SandboxApp, events: Sequence[WebhookEvent], first: int, last: int) -> bytes:
    items = []
    for event in events:
        item: dict[str, Any] = {
            "resourceUrl": event.resource_url,
            "resourceId": event.resource_id,
            "eventDateUtc": _xero_time(event.occurred_at),
            "eventType": event.event_type,
            "eventCategory": event.category,
            "tenantId": event.tenant.tenant_id,
            "tenantType": event.tenant.tenant_type,
        }
        if event.data is not None:
            item["data"] = event.data
        items.append(item)
    return _json(
        {"events": items, "firstEventSequence": first, "lastEventSequence": last, "entropy": _entropy()}
    )


def _xero_intent_to_receive() -> bytes:
    return _json({"events": [], "firstEventSequence": 0, "lastEventSequence": 0, "entropy": _entropy()})


def _qbo_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _qbo_legacy_body(app: SandboxApp, events: Sequence[WebhookEvent], first: int, last: int) -> bytes:
    by_realm: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        entity: dict[str, Any] = {
            "name": event.category,
            "id": event.resource_id,
            "operation": event.event_type,
            "lastUpdated": _qbo_time(event.occurred_at),
        }
        if isinstance(event.data, dict) and event.data.get("deletedId"):
            entity["deletedId"] = event.data["deletedId"]
        by_realm.setdefault(event.tenant.tenant_id, []).append(entity)
    return _json(
        {
            "eventNotifications": [
                {"realmId": realm, "dataChangeEvent": {"entities": entities}}
                for realm, entities in by_realm.items()
            ]
        }
    )


QBO_CLOUDEVENT_VERBS = {
    "Create": "created",
    "Update": "updated",
    "Delete": "deleted",
    "Merge": "merged",
    "Void": "voided",
    "Emailed": "emailed",
}


def _qbo_cloudevents_body(app: SandboxApp, events: Sequence[WebhookEvent], first: int, last: int) -> bytes:
    source = "intuit." + base64.b64encode(hashlib.sha256(app.client_id.encode()).digest()).decode()
    return _json(
        [
            {
                "specversion": "1.0",
                "id": str(uuid.uuid4()),
                "source": source,
                "type": (
                    f"qbo.{event.category.lower()}."
                    f"{QBO_CLOUDEVENT_VERBS.get(event.event_type, event.event_type.lower())}.v1"
                ),
                "datacontenttype": "application/json",
                "time": _qbo_time(event.occurred_at),
                "intuitentityid": event.resource_id,
                "intuitaccountid": event.tenant.tenant_id,
                "data": event.data if isinstance(event.data, dict) else {},
            }
            for event in events
        ]
    )


# Xero: an immediate retry, then every 15 minutes for 24 hours. Intuit: 0s, 10s, 20s, 30s, 5m, 20m,
# 2h, 4h, 6h, then every 6 hours (bounded here at a day and a half).
XERO_RETRY_DELAYS = (0.0,) + (900.0,) * 96
QBO_RETRY_DELAYS = (0.0, 10.0, 20.0, 30.0, 300.0, 1200.0, 7200.0, 14400.0, 21600.0) + (21600.0,) * 3

FORMATS: dict[str, WebhookFormat] = {}


def webhook_format_register(fmt: WebhookFormat) -> None:
    FORMATS[fmt.key] = fmt


webhook_format_register(
    WebhookFormat("xero", "x-xero-signature", _xero_body, XERO_RETRY_DELAYS, _xero_intent_to_receive)
)
webhook_format_register(WebhookFormat("qbo-legacy", "intuit-signature", _qbo_legacy_body, QBO_RETRY_DELAYS))
webhook_format_register(
    WebhookFormat("qbo-cloudevents", "intuit-signature", _qbo_cloudevents_body, QBO_RETRY_DELAYS)
)


def webhook_format_for(app: SandboxApp) -> WebhookFormat:
    if app.provider == SandboxProviderChoices.QBO:
        return FORMATS["qbo-cloudevents" if app.webhook_format == "cloudevents" else "qbo-legacy"]
    return FORMATS["xero"]


# --- recording events -------------------------------------------------------------------------------------


@dataclass
class _CallScope:
    """What one API call records: the events it raises (stored together when it ends), the subscribers
    of each tenant (looked up once per call, not once per event) and the host the caller used."""

    origin: str
    subscribers: dict[tuple[str, int], list[SandboxApp]] = field(default_factory=dict)
    pending: list[WebhookEvent] = field(default_factory=list)


_call_scope: ContextVar[_CallScope | None] = ContextVar("sandbox_webhook_call_scope", default=None)


@contextmanager
def api_call_scope(request: HttpRequest) -> Iterator[None]:
    """Wrap an API view: its events point their resource URLs at the host the caller used and are
    stored in one INSERT when the view ends, even when it ends with an exception, since they are
    recorded only once their write has committed."""
    scope = _CallScope(origin=request.build_absolute_uri("/").rstrip("/"))
    token = _call_scope.set(scope)
    try:
        yield
    finally:
        _call_scope.reset(token)
        if scope.pending:
            _events_store(scope.pending)


def _origin() -> str:
    scope = _call_scope.get()
    configured = getattr(settings, "SANDBOX_PUBLIC_URL", "")
    origin = (scope.origin if scope else "") or configured or "http://127.0.0.1:8000"
    return str(origin).rstrip("/")


def _subscribers(provider: str, tenant: Tenant, find: Callable[[], list[SandboxApp]]) -> list[SandboxApp]:
    scope = _call_scope.get()
    if scope is None:
        return find()
    key = (provider, tenant.pk)
    if key not in scope.subscribers:
        scope.subscribers[key] = find()
    return scope.subscribers[key]


def _events_store(rows: list[WebhookEvent]) -> None:
    with clock.sandbox_atomic():
        WebhookEvent.objects.bulk_create(rows)
    sender_wake()


XERO_COLLECTIONS = {"CONTACT": "Contacts", "INVOICE": "Invoices", "CREDITNOTE": "CreditNotes"}


def xero_api_root() -> str:
    """The absolute URL of this sandbox's Accounting API, wherever sandbox.urls is mounted."""
    connections_path = reverse("sandbox-xero-connections")
    return f"{_origin()}{connections_path.removesuffix('connections')}api.xro/2.0/"


def events_record(
    *,
    apps: Iterable[SandboxApp],
    tenant: Tenant,
    category: str,
    event_type: str,
    resource_id: str,
    resource_url: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> int:
    """Record one event for each of `apps` (within an API call: when the call ends) and wake the sender.
    `occurred_at` is when the change happened in the ledger (now, unless the caller knows better).
    Returns how many were recorded."""
    occurred_at = occurred_at or timezone.now()
    rows = [
        WebhookEvent(
            app=app,
            tenant=tenant,
            category=category,
            event_type=event_type,
            resource_id=resource_id,
            resource_url=resource_url,
            occurred_at=occurred_at,
            data=data,
        )
        for app in apps
    ]
    if not rows:
        return 0
    scope = _call_scope.get()
    if scope is not None:
        scope.pending.extend(rows)
    else:
        _events_store(rows)
    return len(rows)


def xero_event_record(
    *, tenant: Tenant, category: str, event_type: str, resource_id: str, data: dict[str, Any] | None = None
) -> int:
    """Report a Xero change (CONTACT / INVOICE / CREDITNOTE, CREATE / UPDATE) to every app connected to
    the organisation that has a webhook URL. Call it after the change has committed."""

    def find() -> list[SandboxApp]:
        return list(
            SandboxApp.objects.filter(provider=SandboxProviderChoices.XERO)
            .exclude(webhook_url="")
            .filter(
                Q(xero_connections__tenant=tenant, xero_connections__grant__revoked_at__isnull=True)
                | Q(custom_connection_tenant=tenant)
            )
            .distinct()
        )

    apps = _subscribers(SandboxProviderChoices.XERO, tenant, find)
    if not apps:
        return 0
    collection = XERO_COLLECTIONS.get(category, category.title() + "s")
    return events_record(
        apps=apps,
        tenant=tenant,
        category=category,
        event_type=event_type,
        resource_id=resource_id,
        resource_url=f"{xero_api_root()}{collection}/{resource_id}",
        data=data,
    )


def qbo_event_record(
    *,
    tenant: Tenant,
    entity: str,
    operation: str,
    entity_id: str,
    data: dict[str, Any] | None = None,
    last_updated: datetime | None = None,
) -> int:
    """Report a QBO change ("Customer", "Create") to every app holding a live grant to the company that
    has a webhook URL. `data` may carry `deletedId` for Merge events; `last_updated` is the entity's
    MetaData.LastUpdatedTime, which Intuit's notifications carry. Call it after the commit."""

    def find() -> list[SandboxApp]:
        return list(
            SandboxApp.objects.filter(
                provider=SandboxProviderChoices.QBO,
                qbo_grants__tenant=tenant,
                qbo_grants__revoked_at__isnull=True,
            )
            .exclude(webhook_url="")
            .distinct()
        )

    return events_record(
        apps=_subscribers(SandboxProviderChoices.QBO, tenant, find),
        tenant=tenant,
        category=entity,
        event_type=operation,
        resource_id=str(entity_id),
        data=data,
        occurred_at=last_updated,
    )


# --- batching and sending ---------------------------------------------------------------------------------


def events_batch() -> int:
    """Turn every app's waiting events into deliveries (at most BATCH_LIMIT events each). Returns the
    number of deliveries made."""
    with clock.db_turn():
        app_ids = list(
            WebhookEvent.objects.filter(delivery__isnull=True).values_list("app_id", flat=True).distinct()
        )
    made = 0
    for app_id in app_ids:
        while _batch_one(app_id):
            made += 1
    return made


def _batch_one(app_id: int) -> bool:
    with clock.sandbox_atomic():
        # The locked app row serialises batchers of one app, so sequence numbers never repeat.
        app = SandboxApp.objects.select_for_update().filter(pk=app_id).first()
        if app is None:
            return False
        events = list(
            WebhookEvent.objects.filter(app=app, delivery__isnull=True)
            .select_related("tenant")
            .order_by("id")[:BATCH_LIMIT]
        )
        if not events:
            return False
        first = app.webhook_sequence + 1
        last = app.webhook_sequence + len(events)
        fmt = webhook_format_for(app)
        delivery = WebhookDelivery.objects.create(
            app=app,
            kind=EVENTS,
            payload_format=fmt.key,
            body=fmt.build(app, events, first, last).decode(),
            next_attempt_at=timezone.now(),
            time_scale=max([app.time_scale, *(event.tenant.time_scale for event in events)]),
        )
        for offset, event in enumerate(events):
            event.sequence = first + offset
            event.delivery = delivery
        WebhookEvent.objects.bulk_update(events, ["sequence", "delivery"])
        SandboxApp.objects.filter(pk=app.pk).update(webhook_sequence=last)
    return True


@dataclass(frozen=True)
class Reply:
    status: int | None
    error: str = ""
    body_length: int = 0
    sets_cookie: bool = False


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return Reply(status=None, error=f"not an http(s) URL: {url!r}")
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        content = response.read(RESPONSE_READ_LIMIT)
        return Reply(
            status=response.status,
            body_length=len(content),
            sets_cookie=response.getheader("Set-Cookie") is not None,
        )
    except TimeoutError:
        return Reply(status=None, error=f"no answer within {timeout:g}s")
    except (OSError, http.client.HTTPException) as exc:
        return Reply(status=None, error=f"{type(exc).__name__}: {exc}".rstrip(": "))
    finally:
        connection.close()


def _send(delivery: WebhookDelivery) -> tuple[WebhookAttempt, Reply]:
    """POST a claimed delivery once and record the attempt and the delivery's new state."""
    with clock.db_turn():
        # Fresh: the URL, key and retry delays may have been changed since the delivery was made.
        app = SandboxApp.objects.get(pk=delivery.app_id)
    fmt = FORMATS[delivery.payload_format]
    body = delivery.body.encode()
    # A wrongly signed probe is signed with a key nobody has.
    key = app.webhook_key if delivery.correctly_signed else secrets.token_urlsafe(32)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"Ledgerlink-Sandbox-Webhooks/{fmt.key}",
        fmt.signature_header: sign(key, body),
    }
    started_at = timezone.now()
    start = time.monotonic()
    if app.webhook_url:
        reply = _post(app.webhook_url, body, headers, delivery_timeout())
    else:
        reply = Reply(status=None, error="the app has no webhook URL")
    duration_ms = (time.monotonic() - start) * 1000
    if delivery.expected_status is not None:
        succeeded = reply.status == delivery.expected_status
    else:
        succeeded = reply.status is not None and 200 <= reply.status < 300
    number = delivery.attempts + 1
    delays = tuple(float(delay) for delay in app.webhook_retry_delays) or fmt.retry_delays
    now = timezone.now()
    with clock.sandbox_atomic():
        attempt = WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            url=app.webhook_url,
            started_at=started_at,
            duration_ms=round(duration_ms, 3),
            status_code=reply.status,
            error=reply.error,
            succeeded=succeeded,
        )
        delivery.attempts = number
        delivery.last_status_code = reply.status
        delivery.last_error = reply.error
        delivery.lease_expires_at = None
        if succeeded:
            delivery.status = DELIVERED
            delivery.completed_at = now
        elif delivery.kind == EVENTS and number <= len(delays):
            delivery.status = PENDING
            wait = clock.real_seconds(delays[number - 1], delivery.time_scale)
            delivery.next_attempt_at = now + timedelta(seconds=wait)
        else:
            delivery.status = FAILED
            delivery.completed_at = now
        delivery.save(
            update_fields=[
                "attempts",
                "last_status_code",
                "last_error",
                "lease_expires_at",
                "status",
                "completed_at",
                "next_attempt_at",
            ]
        )
    return attempt, reply


def _claim(delivery_id: int) -> WebhookDelivery | None:
    now = timezone.now()
    with clock.db_turn():
        claimed = (
            WebhookDelivery.objects.filter(pk=delivery_id, kind=EVENTS)
            .filter(Q(status=PENDING, next_attempt_at__lte=now) | Q(status=SENDING, lease_expires_at__lt=now))
            .update(status=SENDING, lease_expires_at=now + timedelta(seconds=CLAIM_SECONDS))
        )
        return WebhookDelivery.objects.filter(pk=delivery_id).first() if claimed else None


@dataclass
class SenderPass:
    """What one pass of the sender did, and how long until a delivery is next due (None: none is)."""

    batched: int = 0
    attempts: int = 0
    delivered: int = 0
    failed: int = 0
    retrying: int = 0
    next_due_in: float | None = None
    errors: list[str] = field(default_factory=list)


def deliveries_run() -> SenderPass:
    """One pass of the sender: batch waiting events, then send every delivery that is due."""
    result = SenderPass(batched=events_batch())
    now = timezone.now()
    with clock.db_turn():
        due = list(
            WebhookDelivery.objects.filter(kind=EVENTS)
            .filter(Q(status=PENDING, next_attempt_at__lte=now) | Q(status=SENDING, lease_expires_at__lt=now))
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:BATCH_LIMIT]
        )
    for delivery_id in due:
        delivery = _claim(delivery_id)
        if delivery is None:
            continue
        attempt, _ = _send(delivery)
        result.attempts += 1
        if attempt.succeeded:
            result.delivered += 1
        elif delivery.status == FAILED:
            result.failed += 1
            result.errors.append(f"delivery {delivery.pk}: {attempt.status_code or attempt.error}")
        else:
            result.retrying += 1
    with clock.db_turn():
        next_at = (
            WebhookDelivery.objects.filter(kind=EVENTS, status=PENDING)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        waiting = WebhookEvent.objects.filter(delivery__isnull=True).exists()
    if waiting:
        result.next_due_in = 0.0
    elif next_at is not None:
        result.next_due_in = max(0.0, (next_at - timezone.now()).total_seconds())
    return result


def delivery_retry(*, delivery: WebhookDelivery) -> None:
    """Send a delivery again as soon as the sender runs, whatever its state (admin, control API)."""
    with clock.db_turn():
        WebhookDelivery.objects.filter(pk=delivery.pk, kind=EVENTS).update(
            status=PENDING, next_attempt_at=timezone.now(), lease_expires_at=None, completed_at=None
        )
    sender_wake()


# --- intent to receive ------------------------------------------------------------------------------------

ITR_PROBES = (True, False, True, False)


def itr_check_run(*, app: SandboxApp) -> WebhookItrCheck:
    """Xero's intent-to-receive check of the app's webhook URL, run now: empty payloads in a random order,
    half signed with the app's key (200 expected) and half not (401 expected), each sent once."""
    fmt = webhook_format_for(app)
    probe_body = fmt.intent_to_receive
    if probe_body is None:
        raise ValueError(f"{app.get_provider_display()} webhooks have no intent-to-receive check")
    if not app.webhook_url:
        raise ValueError("the app has no webhook URL")
    order = list(ITR_PROBES)
    secrets.SystemRandom().shuffle(order)
    with clock.sandbox_atomic():
        check = WebhookItrCheck.objects.create(app=app, url=app.webhook_url)
        probes = [
            WebhookDelivery.objects.create(
                app=app,
                kind=ITR,
                payload_format=fmt.key,
                body=probe_body().decode(),
                status=SENDING,
                correctly_signed=good,
                expected_status=200 if good else 401,
                itr_check=check,
                next_attempt_at=timezone.now(),
            )
            for good in order
        ]
    failures: list[str] = []
    notes: set[str] = set()
    for number, probe in enumerate(probes, start=1):
        attempt, reply = _send(probe)
        signed = "correctly" if probe.correctly_signed else "wrongly"
        if not attempt.succeeded:
            answer = f"HTTP {reply.status}" if reply.status is not None else reply.error
            failures.append(
                f"probe {number} ({signed} signed): expected {probe.expected_status}, got {answer}"
            )
        if reply.body_length:
            notes.add("note: the receiver answered with a body; Xero expects an empty one")
        if reply.sets_cookie:
            notes.add("note: the receiver set a cookie; Xero expects none")
    check.passed = not failures
    summary = failures or [f"all {len(probes)} probes answered as expected (200 signed, 401 unsigned)"]
    check.detail = "\n".join([*summary, *sorted(notes)])
    check.finished_at = timezone.now()
    with clock.db_turn():
        check.save(update_fields=["passed", "detail", "finished_at"])
    return check


# --- the sender thread ------------------------------------------------------------------------------------


class _Sender:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.wake = threading.Event()
        self.thread: threading.Thread | None = None
        self.pid: int | None = None
        self.busy = False


_sender = _Sender()


def sender_enabled() -> bool:
    return bool(getattr(settings, "SANDBOX_WEBHOOK_SENDER", True))


def _work_waiting() -> bool:
    with clock.db_turn():
        return (
            WebhookDelivery.objects.filter(kind=EVENTS, status__in=[PENDING, SENDING]).exists()
            or WebhookEvent.objects.filter(delivery__isnull=True).exists()
        )


def sender_ensure() -> None:
    """Start this process's sender thread unless it runs already; cheap enough for every API call.

    The thread touches the database only when there is work: woken by a new event, or at the time the
    next retry is due. Work left by an earlier run is looked for once, here, when the thread starts."""
    thread = _sender.thread
    if thread is not None and _sender.pid == os.getpid() and thread.is_alive():
        return
    if not sender_enabled():
        return
    with _sender.lock:
        thread = _sender.thread
        if thread is not None and _sender.pid == os.getpid() and thread.is_alive():
            return
        # A forked child inherits the parent's thread object but not the thread: it starts its own.
        _sender.pid = os.getpid()
        _sender.thread = threading.Thread(target=_sender_loop, name="sandbox-webhook-sender", daemon=True)
        _sender.thread.start()
    if _work_waiting():
        _sender.wake.set()


def sender_busy() -> bool:
    """Whether this process's sender is in a pass, or about to start one."""
    return _sender.busy or _sender.wake.is_set()


def sender_wake() -> None:
    if sender_enabled():
        sender_ensure()
        _sender.wake.set()


def _sender_loop() -> None:
    wait: float | None = None
    while True:
        woken = _sender.wake.wait(wait)
        _sender.wake.clear()
        if woken:
            time.sleep(BATCH_GATHER_SECONDS)
        if not sender_enabled():
            wait = None
            continue
        _sender.busy = True
        try:
            result = deliveries_run()
        except Exception:
            # The sender must outlive a bad pass (a database being flushed or migrated under it).
            logger.warning("sandbox webhook sender: a pass failed", exc_info=True)
            wait = IDLE_POLL_SECONDS
            continue
        finally:
            # Passes are rare: holding a connection between them would only keep a database from being
            # dropped (the test suite's, on PostgreSQL) or a server-side slot busy.
            connections[SANDBOX_ALIAS].close()
            _sender.busy = False
        wait = result.next_due_in
