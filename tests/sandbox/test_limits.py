"""Rate limits of the emulated Xero API, through real HTTP: headers on every answer, 429s with the exact
headers, windows that free under a scaled clock, the app-wide and the concurrency limits."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests
from xero_python.exceptions import RateLimitException

from sandbox.choices import SandboxProviderChoices
from sandbox.limits import tenant_usage
from sandbox.models import Tenant
from sandbox.xero import tokens
from tests.sandbox.conftest import XERO_SCOPES

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


class XeroHttp:
    """Plain HTTP to the emulated Accounting API: status codes and headers as the wire has them.
    requests does not retry by default, so every 429 reaches the test."""

    def __init__(self, sandbox_url: str, access_token: str, tenant_id: str) -> None:
        self.api = f"{sandbox_url}/api/api.xro/2.0"
        self.identity = f"{sandbox_url}/api"
        self.headers = {
            "Authorization": f"Bearer {access_token}",
            "xero-tenant-id": tenant_id,
            "Accept": "application/json",
        }

    def get(
        self, path: str = "Organisation", *, tenant_id: str | None = None, timeout: float = 10, **kwargs: Any
    ) -> requests.Response:
        headers = dict(self.headers)
        if tenant_id is not None:
            headers["xero-tenant-id"] = tenant_id
        return requests.get(f"{self.api}/{path}", headers=headers, timeout=timeout, **kwargs)

    def connections(self) -> requests.Response:
        return requests.get(f"{self.identity}/Connections", headers=self.headers, timeout=10)


def tenant_set(tenant: Tenant, **fields: Any) -> None:
    Tenant.objects.filter(pk=tenant.pk).update(**fields)


@pytest.fixture
def xero(sandbox_url, xero_token, xero_org) -> XeroHttp:
    return XeroHttp(sandbox_url, xero_token["access_token"], xero_org.tenant_id)


def limit_headers(response: requests.Response) -> tuple[str | None, str | None, str | None]:
    return (
        response.headers.get("X-MinLimit-Remaining"),
        response.headers.get("X-DayLimit-Remaining"),
        response.headers.get("X-AppMinLimit-Remaining"),
    )


def test_every_answer_counts_the_limits_down(xero):
    answers = [xero.get() for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert [limit_headers(answer) for answer in answers] == [
        ("59", "4999", "9999"),
        ("58", "4998", "9998"),
        ("57", "4997", "9997"),
    ]
    # GET /Connections names no organisation: only the app-wide limit applies to it.
    connections = xero.connections()
    assert connections.status_code == 200
    assert limit_headers(connections) == (None, None, "9996")
    # An answer the view itself refuses (404) is still a counted call.
    missing = xero.get("Contacts/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404
    assert limit_headers(missing) == ("56", "4996", "9995")


def test_minute_limit_under_a_scaled_clock(xero, xero_org, accounting_api):
    # time_scale 60: a rate-limit minute lasts one real second.
    tenant_set(xero_org, limit_minute=3, time_scale=60)

    first = [xero.get() for _ in range(3)]
    refused = xero.get()

    assert [answer.headers["X-MinLimit-Remaining"] for answer in first] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "minute"
    assert refused.headers["Retry-After"] == "1"
    # The refused call is not counted against the day.
    assert limit_headers(refused) == ("0", "4997", "9997")
    with pytest.raises(RateLimitException) as raised:
        accounting_api.get_organisations(xero_org.tenant_id)
    assert raised.value.rate_limit == "minute"

    time.sleep(int(refused.headers["Retry-After"]) + 0.05)
    again = xero.get()
    assert again.status_code == 200
    assert again.headers["X-MinLimit-Remaining"] == "2"
    assert again.headers["X-DayLimit-Remaining"] == "4996"


def test_day_limit_real_and_scaled(xero, xero_org):
    tenant_set(xero_org, limit_day=2)
    assert [xero.get().status_code for _ in range(2)] == [200, 200]

    refused = xero.get()
    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "day"
    assert refused.headers["X-DayLimit-Remaining"] == "0"
    # Unscaled, the day opened by the first call frees almost a full day later.
    assert 86_390 <= int(refused.headers["Retry-After"]) <= 86_400

    # A day of 2 real seconds (the minute is then 1.4 ms, never the limit that bites): the running day,
    # opened by the first call, now ends 2 real seconds after it opened.
    tenant_set(xero_org, time_scale=43_200)
    scaled = xero.get()
    assert scaled.status_code == 429
    assert scaled.headers["X-Rate-Limit-Problem"] == "day"
    assert int(scaled.headers["Retry-After"]) in (1, 2)
    time.sleep(int(scaled.headers["Retry-After"]) + 0.05)
    assert [xero.get().status_code for _ in range(3)] == [200, 200, 429]


def test_app_minute_limit_spans_the_apps_tenants(sandbox_url, xero_app, xero_org):
    other = Tenant.objects.create(provider=SandboxProviderChoices.XERO, name="Second Org Ltd")
    grant = tokens.grant_create(app=xero_app, scopes=XERO_SCOPES, tenants=[xero_org, other])
    token = tokens.tokens_issue(grant=grant)["access_token"]
    xero_app.limit_app_minute = 2
    xero_app.save(update_fields=["limit_app_minute"])
    xero = XeroHttp(sandbox_url, token, xero_org.tenant_id)

    assert xero.get().headers["X-AppMinLimit-Remaining"] == "1"
    assert xero.get(tenant_id=other.tenant_id).headers["X-AppMinLimit-Remaining"] == "0"
    refused = xero.get()

    assert refused.status_code == 429
    assert refused.headers["X-Rate-Limit-Problem"] == "appminute"
    assert 59 <= int(refused.headers["Retry-After"]) <= 60
    # The refused call is not counted against the tenant's own minute either.
    assert refused.headers["X-MinLimit-Remaining"] == "59"


def test_concurrency_limit_counts_calls_in_flight(xero, xero_org):
    tenant_set(xero_org, limit_concurrent=2, fault_latency_ms=600)
    start = threading.Barrier(4)
    answers: list[requests.Response] = []
    lock = threading.Lock()

    def call() -> None:
        start.wait()
        answer = xero.get()
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert sorted(answer.status_code for answer in answers) == [200, 200, 429, 429]
    refused = [answer for answer in answers if answer.status_code == 429]
    assert {answer.headers["X-Rate-Limit-Problem"] for answer in refused} == {"concurrent"}
    assert {answer.headers["Retry-After"] for answer in refused} == {"1"}
    # The slots are freed when the calls end.
    assert tenant_usage(tenant=xero_org)[0]["in_flight"] == 0
    tenant_set(xero_org, fault_latency_ms=0)
    assert xero.get().status_code == 200
