"""The QBO half goes through the same limits and faults as the Xero half, in Intuit's wire formats."""

from __future__ import annotations

import pytest
import requests
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def company_info(qbo_url, company, token) -> requests.Response:
    return requests.get(
        f"{qbo_url}/v3/company/{company.tenant_id}/companyinfo/{company.tenant_id}?minorversion=75",
        headers={"Authorization": f"Bearer {token['access_token']}", "Accept": "application/json"},
        timeout=10,
    )


def test_throttled_call_is_429_with_intuits_xml_body(qbo_company, qbo_token, qbo_url, qbo_client):
    qbo_company.limit_minute = 2
    qbo_company.save()
    assert company_info(qbo_url, qbo_company, qbo_token).status_code == 200
    assert Customer.all(qb=qbo_client) == []
    throttled = company_info(qbo_url, qbo_company, qbo_token)
    assert throttled.status_code == 429
    assert throttled.headers["Content-Type"] == "application/xml"
    assert "Retry-After" not in throttled.headers
    assert throttled.headers["intuit_tid"]
    assert '<Error code="3001">' in throttled.text
    assert "<Message>message=ThrottleExceeded; errorCode=003001; statusCode=429</Message>" in throttled.text
    # python-quickbooks cannot read the XML and reports it as its generic code 10000.
    with pytest.raises(QuickbooksException) as raised:
        Customer.all(qb=qbo_client)
    assert raised.value.error_code == 10000


def test_injected_server_error_is_a_system_fault(qbo_company, qbo_token, qbo_url):
    qbo_company.fault_error_rate = 1.0
    qbo_company.fault_error_status = 503
    qbo_company.save()
    response = company_info(qbo_url, qbo_company, qbo_token)
    assert response.status_code == 503
    error = response.json()["Fault"]["Error"][0]
    assert (error["code"], response.json()["Fault"]["type"]) == ("10000", "SystemFault")


def test_commit_then_drop_keeps_the_write(qbo_company, qbo_client, qbo_url, qbo_token):
    qbo_company.fault_next_count = 1
    qbo_company.fault_next_kind = "drop"
    qbo_company.save()
    with pytest.raises(requests.exceptions.ConnectionError):
        Customer.from_json({"DisplayName": "Dropped Response Ltd"}).save(qb=qbo_client)
    [customer] = Customer.filter(DisplayName="Dropped Response Ltd", qb=qbo_client)
    assert customer.Id
