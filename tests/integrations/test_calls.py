"""The one ledger-call boundary (`integrations.calls.ledger_call`) against the sandbox over real HTTP,
through the real SDKs: reads are replayed after a lost answer, writes without an idempotency key never
are, writes with one are replayed with the same key and create one document, requests that were never
sent are retried by everyone, and long waits come back as `WaitRequired` without a call."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest
import requests
import urllib3
from quickbooks.objects.customer import Customer
from xero_python.accounting import Contact as XeroContact
from xero_python.accounting import Contacts as XeroContacts

from core.jsontext import decode
from integrations.calls import Attempt, CallTally, ledger_call
from integrations.errors import OutcomeUnknown, ProviderUnavailable, RequestNotSent, WaitRequired
from integrations.models import Connection, RateBudget
from integrations.providers import get_provider
from integrations.providers.quickbooks import client as qbo_client
from integrations.providers.transport import transport_error
from integrations.providers.xero import client as xero_client
from integrations.ratelimit import budget_block
from sandbox.models import Tenant
from sandbox.models.qbo_records import QboRecord
from sandbox.models.xero_records import XeroRecord
from tests.ledger_fixtures import BOTH_DATABASES

pytestmark = pytest.mark.django_db(transaction=True, databases=BOTH_DATABASES)


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01


def faults_next(connection: Connection, kind: str, count: int = 1, **values: Any) -> None:
    """The sandbox's next `count` API calls to this tenant meet `kind` (error, timeout, drop)."""
    Tenant.objects.filter(tenant_id=connection.tenant_id).update(
        fault_next_kind=kind, fault_next_count=count, **values
    )


def xero_contact_create(connection: Connection, name: str, sent: list[Attempt]):
    def operation(attempt: Attempt) -> list[str]:
        sent.append(attempt)
        with (
            xero_client.SdkClient(attempt.app, xero_client.sdk_token(attempt.tokens)) as sdk,
            xero_client.translated("creating a contact"),
        ):
            key = {"idempotency_key": attempt.idempotency_key} if attempt.idempotency_key else {}
            answer = sdk.accounting().create_contacts(
                connection.tenant_id, XeroContacts(contacts=[XeroContact(name=name)]), **key
            )
        return [str(contact.contact_id) for contact in answer.contacts]

    return operation


def xero_contacts_named(connection: Connection, name: str) -> int:
    tenant = Tenant.objects.get(tenant_id=connection.tenant_id)
    return XeroRecord.objects.filter(tenant=tenant, collection="Contacts", name=name).count()


def tenant_read(connection: Connection, sent: list[Attempt]):
    provider = get_provider(connection.provider)

    def operation(attempt: Attempt):
        sent.append(attempt)
        return provider.tenant_read(app=attempt.app, tokens=attempt.tokens, tenant_id=connection.tenant_id)

    return operation


# --- reads ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ledger", ["xero_connection", "qbo_connection"])
def test_a_read_whose_answer_was_lost_is_sent_again(ledger, request):
    connection = request.getfixturevalue(ledger)
    faults_next(connection, "drop")
    sent: list[Attempt] = []
    tally = CallTally()

    tenant = ledger_call(connection=connection, operation=tenant_read(connection, sent), tally=tally)

    assert tenant.tenant_id == connection.tenant_id
    assert [attempt.number for attempt in sent] == [1, 2]
    assert (tally.api_calls, tally.retries) == (2, 1)
    # Both attempts were admitted by the connection's budget.
    assert RateBudget.objects.get(connection=connection).calls_total == 2


def test_a_read_that_keeps_failing_gives_up_after_the_retries(xero_connection):
    faults_next(xero_connection, "error", count=10, fault_error_status=503)
    sent: list[Attempt] = []
    tally = CallTally()

    with pytest.raises(ProviderUnavailable, match="HTTP 503"):
        ledger_call(
            connection=xero_connection, operation=tenant_read(xero_connection, sent), tally=tally, retries=2
        )

    assert len(sent) == 3
    assert tally.retries == 3


# --- writes -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status", "says"),
    [("drop", 503, "whether it acted on the request is not known"), ("error", 500, "HTTP 500")],
)
def test_a_write_without_key_that_may_have_happened_is_not_sent_again(xero_connection, fault, status, says):
    faults_next(xero_connection, fault, fault_error_status=status)
    sent: list[Attempt] = []
    name = f"Uncertain {fault} Ltd"

    with pytest.raises(OutcomeUnknown, match=says):
        ledger_call(
            connection=xero_connection,
            operation=xero_contact_create(xero_connection, name, sent),
            writes=True,
        )

    assert len(sent) == 1
    if fault == "drop":
        # The ledger did act: one contact, which the caller finds by its reference, not by resending.
        assert xero_contacts_named(xero_connection, name) == 1


def test_a_xero_write_with_a_key_is_replayed_with_the_same_key_and_creates_one_contact(xero_connection):
    faults_next(xero_connection, "drop")
    sent: list[Attempt] = []
    key = str(uuid.uuid4())

    ids = ledger_call(
        connection=xero_connection,
        operation=xero_contact_create(xero_connection, "Replayed Ltd", sent),
        writes=True,
        idempotency_key=key,
    )

    assert [attempt.idempotency_key for attempt in sent] == [key, key]
    assert xero_contacts_named(xero_connection, "Replayed Ltd") == 1
    tenant = Tenant.objects.get(tenant_id=xero_connection.tenant_id)
    assert ids == [
        XeroRecord.objects.get(tenant=tenant, collection="Contacts", name="Replayed Ltd").record_id
    ]


def test_a_quickbooks_write_with_a_request_id_is_replayed_and_creates_one_customer(qbo_connection):
    faults_next(qbo_connection, "drop")
    sent: list[Attempt] = []
    key = str(uuid.uuid4())

    def operation(attempt: Attempt) -> str:
        sent.append(attempt)
        session = qbo_client.Session(attempt.app, attempt.tokens, qbo_connection.tenant_id)
        try:
            with session.translated("creating a customer"):
                customer = Customer()
                customer.DisplayName = "Replayed Customer"
                customer.save(qb=session.qb, request_id=attempt.idempotency_key)
        finally:
            session.close()
        return str(customer.Id)

    remote_id = ledger_call(connection=qbo_connection, operation=operation, writes=True, idempotency_key=key)

    assert [attempt.idempotency_key for attempt in sent] == [key, key]
    tenant = Tenant.objects.get(tenant_id=qbo_connection.tenant_id)
    customers = QboRecord.objects.filter(tenant=tenant, entity="Customer")
    named = [row.record_id for row in customers if decode(row.body)["DisplayName"] == "Replayed Customer"]
    assert named == [remote_id]


def test_a_request_never_sent_is_retried_even_for_a_write(xero_connection, settings):
    settings.XERO_API_URL = "http://127.0.0.1:9"  # discard port: nothing listens, the connect is refused
    sent: list[Attempt] = []
    tally = CallTally()

    with pytest.raises(RequestNotSent, match="could not be reached while creating a contact"):
        ledger_call(
            connection=xero_connection,
            operation=xero_contact_create(xero_connection, "Never Sent Ltd", sent),
            writes=True,
            tally=tally,
            retries=2,
        )

    assert len(sent) == 3
    assert tally.retries == 3


# --- waits ------------------------------------------------------------------------------------------------


def test_a_long_wait_is_raised_for_the_caller_to_reschedule_without_a_call(xero_connection):
    budget_block(connection_id=xero_connection.pk, seconds=120, reason="ledger said so")
    sent: list[Attempt] = []
    started = time.monotonic()

    with pytest.raises(WaitRequired) as raised:
        ledger_call(connection=xero_connection, operation=tenant_read(xero_connection, sent))

    assert time.monotonic() - started < 5
    assert 100 < raised.value.seconds <= 120
    assert sent == []


# --- what a network failure says -------------------------------------------------------------------------

POOL = urllib3.HTTPConnectionPool("127.0.0.1", 9)
CONNECTION = urllib3.connection.HTTPConnection("127.0.0.1", 9)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            urllib3.exceptions.MaxRetryError(
                POOL, "/", urllib3.exceptions.NewConnectionError(CONNECTION, "refused")
            ),
            RequestNotSent,
        ),
        (
            urllib3.exceptions.MaxRetryError(POOL, "/", urllib3.exceptions.ConnectTimeoutError("slow")),
            RequestNotSent,
        ),
        (
            urllib3.exceptions.MaxRetryError(
                POOL, "/", urllib3.exceptions.ReadTimeoutError(POOL, "/", "read")
            ),
            OutcomeUnknown,
        ),
        (urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError()), OutcomeUnknown),
        (urllib3.exceptions.ReadTimeoutError(POOL, "/", "read"), OutcomeUnknown),
        (requests.ConnectTimeout(), RequestNotSent),
        (
            requests.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    POOL, "/", urllib3.exceptions.NewConnectionError(CONNECTION, "refused")
                )
            ),
            RequestNotSent,
        ),
        (requests.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted.")), OutcomeUnknown),
        (requests.ReadTimeout(), OutcomeUnknown),
        (requests.exceptions.ChunkedEncodingError(), OutcomeUnknown),
        (OSError("anything else"), OutcomeUnknown),
    ],
)
def test_network_failures_say_whether_the_request_was_sent(exc, expected):
    error = transport_error(exc, ledger="Xero", action="testing")
    assert type(error) is expected
