"""Outgoing webhooks, received by a real HTTP server in the test: Xero's payload and signature (checked
here with an independent HMAC), batching and sequence numbers, retries with time-scaled backoff, every
attempt recorded, the intent-to-receive check, and QBO's two payload formats."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from django.core.management import call_command
from xero_python.accounting import Contact, Contacts

from sandbox import clock, webhooks
from sandbox.choices import SandboxProviderChoices
from sandbox.models import SandboxApp, Tenant, WebhookAttempt, WebhookDelivery, WebhookEvent
from sandbox.xero import tokens
from tests.sandbox.conftest import XERO_SCOPES

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

XERO_EVENT_KEYS = {
    "resourceUrl",
    "resourceId",
    "eventDateUtc",
    "eventType",
    "eventCategory",
    "tenantId",
    "tenantType",
}


def expected_signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode("utf-8"), body, hashlib.sha256).digest()).decode()


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint on 127.0.0.1. Answers come from `script` (a status, "hang" to answer too late,
    "drop" to close without answering), then `default`; with `verify_with` set it answers as Xero's
    contract asks: 200 for a good signature, 401 for a bad one, empty body either way."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    script: deque[int | str] = field(default_factory=deque)
    default: int = 200
    verify_with: str | None = None
    signature_header: str = "x-xero-signature"
    hang_seconds: float = 1.0

    def answer(self, headers: dict[str, str], body: bytes) -> int | str:
        if self.script:
            return self.script.popleft()
        if self.verify_with is not None:
            given = headers.get(self.signature_header, "")
            good = hmac.compare_digest(given, expected_signature(self.verify_with, body))
            return 200 if good else 401
        return self.default

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"received {len(self.received)} of {count} webhook POSTs"
        return self.received


@contextmanager
def receiver_running() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {key.lower(): value for key, value in self.headers.items()}
            state.received.append(Received(path=self.path, headers=headers, body=body, at=time.monotonic()))
            answer = state.answer(headers, body)
            if answer == "drop":
                self.close_connection = True
                return
            if answer == "hang":
                time.sleep(state.hang_seconds)
                answer = 200
            self.send_response(int(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/xero"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_running() as state:
        yield state


@pytest.fixture(autouse=True)
def _sender_idle_at_teardown() -> Iterator[None]:
    # The database is flushed after each test; the sender must not be reading it at that moment.
    yield
    deadline = time.monotonic() + 10
    while webhooks.sender_busy() and time.monotonic() < deadline:
        time.sleep(0.02)


def db(read: Callable[[], Any]) -> Any:
    """Read sandbox rows while the sender may be writing them (see sandbox.clock)."""
    with clock.db_turn():
        return read()


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if db(predicate):
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def deliveries_settled() -> bool:
    return not WebhookDelivery.objects.filter(status__in=["pending", "sending"]).exists()


def subscribe(app: SandboxApp, url: str, **fields: Any) -> None:
    # A delivery still recording its outcome holds SQLite's shared-cache table lock, which fails this
    # write at once ("database table is locked") rather than waiting for it: let earlier ones finish.
    wait_until(deliveries_settled)
    SandboxApp.objects.filter(pk=app.pk).update(webhook_url=url, **fields)
    app.refresh_from_db()


def test_created_contact_is_delivered_signed_and_points_at_the_sandbox(
    receiver, xero_app, xero_org, xero_token, accounting_api, sandbox_url
):
    subscribe(xero_app, receiver.url)

    created = accounting_api.create_contacts(
        xero_org.tenant_id, Contacts(contacts=[Contact(name="Webhook Widgets Ltd")])
    ).contacts[0]

    [post] = receiver.wait_for(1)
    assert post.headers["content-type"].startswith("application/json")
    assert post.headers["x-xero-signature"] == expected_signature(xero_app.webhook_key, post.body)
    payload = post.payload
    assert set(payload) == {"events", "firstEventSequence", "lastEventSequence", "entropy"}
    assert (payload["firstEventSequence"], payload["lastEventSequence"]) == (1, 1)
    assert re.fullmatch(r"[A-Z]{20}", payload["entropy"])
    [event] = payload["events"]
    assert set(event) == XERO_EVENT_KEYS
    assert event["resourceId"] == created.contact_id
    assert event["resourceUrl"] == f"{sandbox_url}/api/api.xro/2.0/Contacts/{created.contact_id}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}", event["eventDateUtc"])
    assert (event["eventType"], event["eventCategory"]) == ("CREATE", "CONTACT")
    assert (event["tenantId"], event["tenantType"]) == (xero_org.tenant_id, "ORGANISATION")

    # Events are thin: the resource URL serves the contact to the app's token.
    fetched = requests.get(
        event["resourceUrl"],
        headers={
            "Authorization": f"Bearer {xero_token['access_token']}",
            "xero-tenant-id": xero_org.tenant_id,
        },
        timeout=10,
    )
    assert fetched.json()["Contacts"][0]["Name"] == "Webhook Widgets Ltd"

    wait_until(deliveries_settled)
    delivery = db(lambda: WebhookDelivery.objects.get())
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    attempt = db(lambda: delivery.attempt_log.get())
    assert (attempt.status_code, attempt.succeeded, attempt.url) == (200, True, receiver.url)
    assert attempt.duration_ms > 0


def test_one_write_of_several_contacts_leaves_as_one_batch(receiver, xero_app, xero_org, accounting_api):
    subscribe(xero_app, receiver.url)

    created = accounting_api.create_contacts(
        xero_org.tenant_id, Contacts(contacts=[Contact(name=f"Batch Buyer {n}") for n in range(3)])
    ).contacts

    [post] = receiver.wait_for(1)
    payload = post.payload
    assert (payload["firstEventSequence"], payload["lastEventSequence"]) == (1, 3)
    assert [event["resourceId"] for event in payload["events"]] == [contact.contact_id for contact in created]
    wait_until(deliveries_settled)


def test_a_write_whose_answer_was_lost_still_raises_its_event(
    receiver, xero_app, xero_org, xero_token, sandbox_url
):
    subscribe(xero_app, receiver.url)
    Tenant.objects.filter(pk=xero_org.pk).update(fault_next_count=1, fault_next_kind="drop")

    with pytest.raises(requests.exceptions.ConnectionError):
        requests.put(
            f"{sandbox_url}/api/api.xro/2.0/Contacts",
            json={"Contacts": [{"Name": "Dropped But Done Ltd"}]},
            headers={
                "Authorization": f"Bearer {xero_token['access_token']}",
                "xero-tenant-id": xero_org.tenant_id,
            },
            timeout=10,
        )

    [post] = receiver.wait_for(1)
    [event] = post.payload["events"]
    assert (event["eventCategory"], event["eventType"]) == ("CONTACT", "CREATE")
    wait_until(deliveries_settled)


def test_events_are_batched_per_app_with_their_own_sequences(
    receiver, settings, live_server, xero_app, xero_org, xero_token
):
    settings.SANDBOX_PUBLIC_URL = live_server.url
    other_app = SandboxApp.objects.create(provider=SandboxProviderChoices.XERO, name="Second app")
    tokens.grant_create(app=other_app, scopes=XERO_SCOPES, tenants=[xero_org])
    quiet_app = SandboxApp.objects.create(provider=SandboxProviderChoices.XERO, name="No webhook URL")
    tokens.grant_create(app=quiet_app, scopes=XERO_SCOPES, tenants=[xero_org])
    elsewhere = Tenant.objects.create(provider=SandboxProviderChoices.XERO, name="Unconnected Org")
    subscribe(xero_app, receiver.url + "/first")
    subscribe(other_app, receiver.url + "/second")

    # With the sender paused, three events wait and then leave as one batch per app.
    settings.SANDBOX_WEBHOOK_SENDER = False
    assert (
        webhooks.xero_event_record(
            tenant=xero_org, category="CONTACT", event_type="CREATE", resource_id="c-1"
        )
        == 2
    )
    webhooks.xero_event_record(tenant=xero_org, category="INVOICE", event_type="UPDATE", resource_id="i-1")
    webhooks.xero_event_record(
        tenant=xero_org,
        category="CREDITNOTE",
        event_type="CREATE",
        resource_id="n-1",
        data={"Type": "ACCRECCREDIT", "Status": "AUTHORISED"},
    )
    assert (
        webhooks.xero_event_record(tenant=elsewhere, category="CONTACT", event_type="CREATE", resource_id="x")
        == 0
    )
    settings.SANDBOX_WEBHOOK_SENDER = True
    webhooks.sender_wake()

    posts = receiver.wait_for(2)
    assert sorted(post.path for post in posts) == ["/webhooks/xero/first", "/webhooks/xero/second"]
    for post in posts:
        payload = post.payload
        assert (payload["firstEventSequence"], payload["lastEventSequence"]) == (1, 3)
        assert [event["resourceId"] for event in payload["events"]] == ["c-1", "i-1", "n-1"]
        assert [event["resourceUrl"] for event in payload["events"]] == [
            f"{live_server.url}/sandbox/xero/api/api.xro/2.0/Contacts/c-1",
            f"{live_server.url}/sandbox/xero/api/api.xro/2.0/Invoices/i-1",
            f"{live_server.url}/sandbox/xero/api/api.xro/2.0/CreditNotes/n-1",
        ]
        assert payload["events"][2]["data"] == {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}
        assert "data" not in payload["events"][0]
    keys = {"/webhooks/xero/first": xero_app.webhook_key, "/webhooks/xero/second": other_app.webhook_key}
    for post in posts:
        assert post.headers["x-xero-signature"] == expected_signature(keys[post.path], post.body)

    # The next event continues the app's sequence.
    webhooks.xero_event_record(tenant=xero_org, category="CONTACT", event_type="UPDATE", resource_id="c-1")
    later = receiver.wait_for(4)[2:]
    assert (
        sorted((p.payload["firstEventSequence"], p.payload["lastEventSequence"]) for p in later)
        == [(4, 4)] * 2
    )
    wait_until(deliveries_settled)
    assert db(lambda: WebhookEvent.objects.filter(app=quiet_app).count()) == 0


def test_failed_delivery_is_retried_after_a_time_scaled_delay(receiver, xero_app, xero_org, xero_token):
    # 30 sandbox seconds at time_scale 100: 0.3 real seconds.
    subscribe(xero_app, receiver.url, webhook_retry_delays=[30], time_scale=100)
    receiver.script.extend([500])

    webhooks.xero_event_record(tenant=xero_org, category="INVOICE", event_type="CREATE", resource_id="i-9")

    first, second = receiver.wait_for(2)
    assert second.at - first.at >= 0.3
    # A retry resends the same bytes with the same signature.
    assert second.body == first.body
    assert second.headers["x-xero-signature"] == first.headers["x-xero-signature"]
    wait_until(deliveries_settled)
    delivery = db(lambda: WebhookDelivery.objects.get())
    assert (delivery.status, delivery.attempts, delivery.time_scale) == ("delivered", 2, 100.0)
    attempts = db(lambda: list(delivery.attempt_log.all()))
    assert [(a.number, a.status_code, a.succeeded) for a in attempts] == [(1, 500, False), (2, 200, True)]
    assert (attempts[1].started_at - attempts[0].started_at).total_seconds() >= 0.3


def test_delivery_gives_up_after_its_schedule_recording_every_failure(
    receiver, settings, xero_app, xero_org, xero_token
):
    settings.SANDBOX_WEBHOOK_TIMEOUT = 0.3
    receiver.hang_seconds = 0.8
    subscribe(xero_app, receiver.url, webhook_retry_delays=[0.05, 0.05])
    receiver.script.extend(["hang", 503, "drop"])

    webhooks.xero_event_record(tenant=xero_org, category="CONTACT", event_type="CREATE", resource_id="c-2")

    receiver.wait_for(3)
    wait_until(deliveries_settled)
    delivery = db(lambda: WebhookDelivery.objects.get())
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    attempts = db(lambda: list(WebhookAttempt.objects.filter(delivery=delivery)))
    assert [a.status_code for a in attempts] == [None, 503, None]
    assert attempts[0].error == "no answer within 0.3s"
    assert attempts[0].duration_ms >= 300
    assert "RemoteDisconnected" in attempts[2].error
    assert not any(a.succeeded for a in attempts)
    # Nothing more is sent once the schedule is spent.
    time.sleep(0.2)
    assert len(receiver.received) == 3


def test_intent_to_receive_passes_for_a_receiver_that_checks_signatures(receiver, xero_app):
    subscribe(xero_app, receiver.url)
    receiver.verify_with = xero_app.webhook_key

    check = webhooks.itr_check_run(app=xero_app)

    assert check.passed is True
    assert len(receiver.received) == 4
    for post in receiver.received:
        assert post.payload["events"] == []
        assert (post.payload["firstEventSequence"], post.payload["lastEventSequence"]) == (0, 0)
    good = [
        p
        for p in receiver.received
        if p.headers["x-xero-signature"] == expected_signature(xero_app.webhook_key, p.body)
    ]
    assert len(good) == 2
    probes = list(check.probes.order_by("id"))
    assert sorted((p.correctly_signed, p.expected_status, p.last_status_code) for p in probes) == [
        (False, 401, 401),
        (False, 401, 401),
        (True, 200, 200),
        (True, 200, 200),
    ]
    assert {p.status for p in probes} == {"delivered"}
    # Probes are not events: nothing is left for the sender, the app's sequence is untouched.
    assert SandboxApp.objects.get(pk=xero_app.pk).webhook_sequence == 0


def test_intent_to_receive_fails_for_a_receiver_that_accepts_anything(receiver, xero_app):
    subscribe(xero_app, receiver.url)

    check = webhooks.itr_check_run(app=xero_app)

    assert check.passed is False
    assert check.detail.count("expected 401, got HTTP 200") == 2
    assert sorted(p.status for p in check.probes.all()) == ["delivered", "delivered", "failed", "failed"]


def test_intent_to_receive_needs_a_url_and_a_provider_that_has_it(xero_app, qbo_app):
    with pytest.raises(ValueError, match="no webhook URL"):
        webhooks.itr_check_run(app=xero_app)
    subscribe(qbo_app, "http://127.0.0.1:9/qbo")
    with pytest.raises(ValueError, match="no intent-to-receive"):
        webhooks.itr_check_run(app=qbo_app)


def test_qbo_signature_matches_intuits_published_vector():
    body = (
        b'{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer",'
        b'"id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}'
    )
    assert (
        webhooks.sign("b5771f19b12ddb4bcdb9f08bdc50bc63878a", body)
        == "JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q="
    )


def test_qbo_events_in_legacy_and_cloudevents_formats(receiver, qbo_app, qbo_company, qbo_token):
    receiver.signature_header = "intuit-signature"
    subscribe(qbo_app, receiver.url)

    assert (
        webhooks.qbo_event_record(tenant=qbo_company, entity="Customer", operation="Create", entity_id="58")
        == 1
    )
    [legacy] = receiver.wait_for(1)
    assert legacy.headers["intuit-signature"] == expected_signature(qbo_app.webhook_key, legacy.body)
    notification = legacy.payload["eventNotifications"][0]
    assert notification["realmId"] == qbo_company.tenant_id
    [entity] = notification["dataChangeEvent"]["entities"]
    assert (entity["name"], entity["id"], entity["operation"]) == ("Customer", "58", "Create")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entity["lastUpdated"])

    subscribe(qbo_app, receiver.url, webhook_format="cloudevents")
    webhooks.qbo_event_record(tenant=qbo_company, entity="Invoice", operation="Void", entity_id="130")
    cloud = receiver.wait_for(2)[1]
    assert cloud.headers["intuit-signature"] == expected_signature(qbo_app.webhook_key, cloud.body)
    [event] = cloud.payload
    assert event["specversion"] == "1.0"
    assert event["type"] == "qbo.invoice.voided.v1"
    assert (event["intuitentityid"], event["intuitaccountid"]) == ("130", qbo_company.tenant_id)
    assert event["source"].startswith("intuit.")
    wait_until(deliveries_settled)


def test_management_command_sends_what_no_server_thread_sent(
    receiver, settings, xero_app, xero_org, xero_token, capsys
):
    settings.SANDBOX_WEBHOOK_SENDER = False
    subscribe(xero_app, receiver.url)
    webhooks.xero_event_record(tenant=xero_org, category="CONTACT", event_type="CREATE", resource_id="c-3")
    time.sleep(0.2)
    assert receiver.received == []

    call_command("sandbox_webhooks", "--once")

    assert "batched 1, sent 1: delivered 1, retrying 0, failed 0" in capsys.readouterr().out
    [post] = receiver.received
    assert post.payload["events"][0]["resourceId"] == "c-3"
    assert WebhookDelivery.objects.get().status == "delivered"
