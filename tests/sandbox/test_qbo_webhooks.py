"""QBO webhooks end to end: entities created, changed, voided and deleted through the unmodified
python-quickbooks SDK over HTTP reach a real HTTP receiver on 127.0.0.1, in Intuit's legacy
`eventNotifications` format and in CloudEvents, signed with `intuit-signature`; every signature is checked
here with an independent HMAC, and Intuit's published vectors with the same computation and with
python-quickbooks' own `validate_webhook_signature`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from quickbooks import QuickBooks
from quickbooks.objects.base import Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.vendor import Vendor

from sandbox import clock, webhooks
from sandbox.models import SandboxApp, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])

VECTORS = Path("/work/shared/fixtures/qbo/webhook_signature_vectors.json")
LAST_UPDATED = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def intuit_signature(verifier_token: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key = verifier token as UTF-8, message = the raw body)), computed here."""
    return base64.b64encode(hmac.new(verifier_token.encode("utf-8"), body, hashlib.sha256).digest()).decode()


@dataclass
class Post:
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str = ""
    posts: list[Post] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> list[Post]:
        with self.lock:
            return list(self.posts)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook endpoint on 127.0.0.1 that records every POST and answers 200."""
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.posts.append(Post({key.lower(): value for key, value in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/qbo"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _sender_idle_at_teardown() -> Iterator[None]:
    # The databases are flushed after each test; the sender thread must not be reading them then.
    yield
    deadline = time.monotonic() + 10
    while webhooks.sender_busy() and time.monotonic() < deadline:
        time.sleep(0.02)


def subscribe(app: SandboxApp, url: str, **fields: Any) -> SandboxApp:
    with clock.db_turn():
        SandboxApp.objects.filter(pk=app.pk).update(webhook_url=url, **fields)
        app.refresh_from_db()
    return app


def wait_for_entities(receiver: Receiver, count: int, entities_of: Any, timeout: float = 15.0) -> list[Post]:
    """The POSTs received until they carry `count` entities in all (events may leave in one batch or
    several); fails if more arrive within a short grace period."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        posts = receiver.snapshot()
        if sum(len(entities_of(post)) for post in posts) >= count:
            break
        time.sleep(0.02)
    time.sleep(0.3)
    posts = receiver.snapshot()
    assert sum(len(entities_of(post)) for post in posts) == count
    return posts


def deliveries_settled() -> bool:
    with clock.db_turn():
        return not WebhookDelivery.objects.filter(status__in=["pending", "sending"]).exists()


def legacy_entities(post: Post) -> list[dict[str, Any]]:
    return [
        entity
        for notification in post.payload["eventNotifications"]
        for entity in notification["dataChangeEvent"]["entities"]
    ]


def sales_line(amount: str) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Ref()
    line.SalesItemLineDetail.ItemRef.value = "1"
    return line


def new_invoice(customer: Customer, amount: str, qb: QuickBooks) -> Invoice:
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.TxnDate = "2026-10-01"
    invoice.Line = [sales_line(amount)]
    return invoice.save(qb=qb)


def test_sdk_writes_arrive_as_signed_legacy_notifications(receiver, qbo_app, qbo_company, qbo_client):
    qbo_app = subscribe(qbo_app, receiver.url)
    assert qbo_app.webhook_format == "legacy"

    customer = Customer()
    customer.DisplayName = "Webhook Hardware Inc"
    customer = customer.save(qb=qbo_client)
    customer.CompanyName = "Webhook Hardware Inc"
    customer = customer.save(qb=qbo_client)
    assert customer.SyncToken == "1"
    voided = new_invoice(customer, "125.00", qbo_client)
    deleted = new_invoice(customer, "40.50", qbo_client)
    voided.void(qb=qbo_client)
    deleted.delete(qb=qbo_client)
    former = Customer()
    former.DisplayName = "Webhook Former Customer"
    former = former.save(qb=qbo_client)
    former.Active = False
    former = former.save(qb=qbo_client)
    assert former.DisplayName == "Webhook Former Customer (deleted)"

    expected = [
        ("Customer", customer.Id, "Create"),
        ("Customer", customer.Id, "Update"),
        ("Invoice", voided.Id, "Create"),
        ("Invoice", deleted.Id, "Create"),
        ("Invoice", voided.Id, "Void"),
        ("Invoice", deleted.Id, "Delete"),
        ("Customer", former.Id, "Create"),
        # A name-list entity made inactive is reported as deleted.
        ("Customer", former.Id, "Delete"),
    ]
    posts = wait_for_entities(receiver, len(expected), legacy_entities)
    seen = []
    stamps = {}
    for post in posts:
        assert post.headers["content-type"].startswith("application/json")
        assert post.headers["intuit-signature"] == intuit_signature(qbo_app.webhook_key, post.body)
        assert set(post.payload) == {"eventNotifications"}
        for notification in post.payload["eventNotifications"]:
            assert notification["realmId"] == qbo_company.tenant_id
            for entity in notification["dataChangeEvent"]["entities"]:
                assert set(entity) == {"name", "id", "operation", "lastUpdated"}
                assert LAST_UPDATED.fullmatch(entity["lastUpdated"])
                seen.append((entity["name"], entity["id"], entity["operation"]))
                stamps[seen[-1]] = entity["lastUpdated"]
    assert seen == expected
    # Intuit's lastUpdated is the entity's own MetaData.LastUpdatedTime, not when the event was sent.
    changed = datetime.fromisoformat(customer.MetaData["LastUpdatedTime"]).astimezone(UTC)
    notified = datetime.fromisoformat(stamps[("Customer", customer.Id, "Update")])
    assert notified.replace(microsecond=0) == changed.replace(microsecond=0)
    deadline = time.monotonic() + 10
    while not deliveries_settled() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert deliveries_settled()


def cloud_entities(post: Post) -> list[dict[str, Any]]:
    payload = post.payload
    assert isinstance(payload, list)
    return payload


def test_sdk_writes_arrive_as_signed_cloudevents(receiver, qbo_app, qbo_company, qbo_client):
    qbo_app = subscribe(qbo_app, receiver.url, webhook_format="cloudevents")

    vendor = Vendor()
    vendor.DisplayName = "Webhook Supplies LLC"
    vendor = vendor.save(qb=qbo_client)
    vendor.CompanyName = "Webhook Supplies LLC"
    vendor = vendor.save(qb=qbo_client)
    bill = Bill()
    bill.VendorRef = vendor.to_ref()
    bill.TxnDate = "2026-10-02"
    line = AccountBasedExpenseLine()
    line.Amount = Decimal("310.25")
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = Ref()
    line.AccountBasedExpenseLineDetail.AccountRef.value = "7"
    bill.Line = [line]
    bill = bill.save(qb=qbo_client)
    bill.delete(qb=qbo_client)

    expected = [
        ("qbo.vendor.created.v1", vendor.Id),
        ("qbo.vendor.updated.v1", vendor.Id),
        ("qbo.bill.created.v1", bill.Id),
        ("qbo.bill.deleted.v1", bill.Id),
    ]
    posts = wait_for_entities(receiver, len(expected), cloud_entities)
    source = "intuit." + base64.b64encode(hashlib.sha256(qbo_app.client_id.encode()).digest()).decode()
    seen = []
    for post in posts:
        assert post.headers["intuit-signature"] == intuit_signature(qbo_app.webhook_key, post.body)
        for event in post.payload:
            assert event["specversion"] == "1.0"
            assert UUID.fullmatch(event["id"])
            assert event["source"] == source
            assert event["datacontenttype"] == "application/json"
            assert event["intuitaccountid"] == qbo_company.tenant_id
            assert LAST_UPDATED.fullmatch(event["time"])
            seen.append((event["type"], event["intuitentityid"]))
    assert seen == expected


def test_a_signature_made_with_another_key_does_not_verify(receiver, qbo_app, qbo_company, qbo_client):
    qbo_app = subscribe(qbo_app, receiver.url)
    customer = Customer()
    customer.DisplayName = "Webhook Signature Check"
    customer.save(qb=qbo_client)
    [post] = wait_for_entities(receiver, 1, legacy_entities)
    signature = post.headers["intuit-signature"]
    assert signature == intuit_signature(qbo_app.webhook_key, post.body)
    assert signature != intuit_signature(qbo_app.webhook_key + "x", post.body)
    assert signature != intuit_signature(qbo_app.webhook_key, post.body + b" ")
    assert QuickBooks().validate_webhook_signature(post.body.decode(), signature, qbo_app.webhook_key) is True


@pytest.mark.parametrize("vector", json.loads(VECTORS.read_text()), ids=["java-sdk", "dotnet-sdk"])
def test_intuits_published_signature_vectors(vector):
    body: str = vector["raw_body"]
    token: str = vector["verifier_token"]
    signature: str = vector["intuit_signature"]
    assert intuit_signature(token, body.encode("utf-8")) == signature
    assert hmac.compare_digest(webhooks.sign(token, body.encode("utf-8")), signature)
    assert QuickBooks().validate_webhook_signature(body, signature, token) is True
    assert (
        QuickBooks().validate_webhook_signature(body.replace('"id":"', '"id":"9'), signature, token) is False
    )
    assert QuickBooks().validate_webhook_signature(body, signature, token[:-1]) is False
