"""Injected faults, seen from the client side of real HTTP: error statuses at a rate (seeded, so
replayable) or scripted, added latency, timeouts, and writes whose answer is lost."""

from __future__ import annotations

import json
import random
import time

import pytest
import requests
import urllib3
from xero_python.accounting import Contact, Contacts
from xero_python.exceptions import HTTPStatusException

from sandbox import limits
from sandbox.models import Tenant, XeroRecord
from tests.sandbox.test_limits import XeroHttp, tenant_set

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def xero(sandbox_url, xero_token, xero_org) -> XeroHttp:
    return XeroHttp(sandbox_url, xero_token["access_token"], xero_org.tenant_id)


@pytest.fixture
def raw_pool():
    """urllib3 as the SDK uses it, with no retries: what a dropped connection looks like to it."""
    pool = urllib3.PoolManager(retries=False)
    yield pool
    pool.clear()


def test_error_rate_one_fails_every_call_with_the_configured_status(xero, xero_org, accounting_api):
    tenant_set(xero_org, fault_error_rate=1.0, fault_error_status=500)
    answer = xero.get()
    assert answer.status_code == 500
    assert answer.json()["Status"] == 500
    # The failed call was counted like any other, and says so.
    assert answer.headers["X-MinLimit-Remaining"] == "59"

    tenant_set(xero_org, fault_error_status=503)
    with pytest.raises(HTTPStatusException) as raised:
        accounting_api.get_organisations(xero_org.tenant_id)
    assert raised.value.status == 503

    tenant_set(xero_org, fault_error_rate=0.0)
    assert xero.get().status_code == 200


def test_seeded_error_rate_replays_the_same_calls(xero, xero_org):
    tenant_set(xero_org, fault_error_rate=0.5, fault_seed=7)
    # Call n fails when the seeded draw for (seed, n) falls in the error range.
    expected = [500 if random.Random(f"7:{n}").random() < 0.5 else 200 for n in range(1, 13)]  # noqa: S311
    tenant_set(xero_org, fault_error_status=500)

    first = [xero.get().status_code for _ in range(12)]
    limits.limits_reset(tenant=xero_org)  # call numbers restart with the counters
    second = [xero.get().status_code for _ in range(12)]

    assert first == expected
    assert second == expected
    assert set(first) == {200, 500}


def test_the_next_n_calls_fail_as_scripted(xero, xero_org):
    tenant_set(xero_org, fault_next_count=2, fault_next_kind="error", fault_error_status=503)

    assert [xero.get().status_code for _ in range(4)] == [503, 503, 200, 200]
    assert Tenant.objects.get(pk=xero_org.pk).fault_next_count == 0


def test_latency_is_added_to_every_call(xero, xero_org):
    started = time.monotonic()
    xero.get()
    baseline = time.monotonic() - started
    tenant_set(xero_org, fault_latency_ms=300)

    started = time.monotonic()
    answer = xero.get()
    slow = time.monotonic() - started

    assert answer.status_code == 200
    assert slow >= 0.3
    assert baseline < 0.3


def test_timeout_holds_the_call_past_the_clients_timeout_then_drops_it(xero, xero_org, raw_pool, sandbox_url):
    tenant_set(xero_org, fault_timeout_rate=1.0, fault_timeout_seconds=1.0)

    with pytest.raises(requests.exceptions.ReadTimeout):
        xero.get(timeout=0.3)

    # A patient client sees the connection closed, without an answer, once the hold is over.
    started = time.monotonic()
    with pytest.raises(urllib3.exceptions.ProtocolError) as raised:
        raw_pool.request(
            "GET", f"{sandbox_url}/api/api.xro/2.0/Organisation", headers=xero.headers, timeout=5.0
        )
    assert time.monotonic() - started >= 1.0
    assert "Remote end closed connection without response" in str(raised.value)


def test_write_commits_then_the_answer_is_lost(xero, xero_org, raw_pool, sandbox_url, accounting_api):
    tenant_set(xero_org, fault_next_count=1, fault_next_kind="drop")
    body = json.dumps({"Contacts": [{"Name": "Lost Answer Ltd"}]}).encode()

    with pytest.raises(urllib3.exceptions.ProtocolError) as raised:
        raw_pool.request(
            "PUT",
            f"{sandbox_url}/api/api.xro/2.0/Contacts",
            body=body,
            headers={**xero.headers, "Content-Type": "application/json"},
            timeout=5.0,
        )
    assert "Remote end closed connection without response" in str(raised.value)

    # The write happened: the contact is stored and the API serves it.
    assert XeroRecord.objects.filter(tenant=xero_org, collection="Contacts", name="Lost Answer Ltd").exists()
    listed = xero.get("Contacts", params={"where": 'Name=="Lost Answer Ltd"'})
    assert [contact["Name"] for contact in listed.json()["Contacts"]] == ["Lost Answer Ltd"]

    # The SDK meets the same fault as a connection error, and the sandbox keeps serving afterwards.
    tenant_set(xero_org, fault_drop_after_commit_rate=1.0)
    with pytest.raises(urllib3.exceptions.HTTPError):
        accounting_api.create_contacts(
            xero_org.tenant_id, Contacts(contacts=[Contact(name="Second Lost Ltd")])
        )
    assert XeroRecord.objects.filter(tenant=xero_org, collection="Contacts", name="Second Lost Ltd").exists()
    tenant_set(xero_org, fault_drop_after_commit_rate=0.0)
    assert xero.get().status_code == 200
