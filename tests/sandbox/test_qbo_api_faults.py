"""Every fault code python-quickbooks maps, with the exception class it raises, and the raw envelope."""

from __future__ import annotations

import pytest
import requests
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    UnsupportedException,
    ValidationException,
)
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.taxcode import TaxCode
from quickbooks.objects.vendor import Vendor

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def ref(value: str) -> Ref:
    reference = Ref()
    reference.value = value
    return reference


def customer(qb, name: str) -> Customer:
    made = Customer()
    made.DisplayName = name
    return made.save(qb=qb)


def invoice_for(buyer_ref: Ref, item: str = "1") -> Invoice:
    sale = Invoice()
    sale.CustomerRef = buyer_ref
    line = SalesItemLine()
    line.Amount = 100
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item)
    sale.Line = [line]
    return sale


def raw(qbo_token, qbo_url, qbo_company, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method,
        f"{qbo_url}/v3/company/{qbo_company.tenant_id}/{path}",
        headers={"Authorization": f"Bearer {qbo_token['access_token']}", "Accept": "application/json"},
        timeout=10,
        **kwargs,
    )


def test_5010_stale_sync_token(qbo_client):
    first = customer(qbo_client, "Stale Sam")
    copy = Customer.get(first.Id, qb=qbo_client)
    first.Notes = "changed first"
    first.save(qb=qbo_client)
    copy.Notes = "changed from a stale copy"
    with pytest.raises(QuickbooksException) as stale:
        copy.save(qb=qbo_client)
    # python-quickbooks maps 5010 to its base exception class.
    assert type(stale.value) is QuickbooksException
    assert stale.value.error_code == 5010
    assert stale.value.message == "Stale Object Error"
    assert "finished before you did, so your work was not saved" in stale.value.detail


def test_6240_display_name_is_unique_across_customers_and_vendors(qbo_client):
    customer(qbo_client, "Bob's Burger Joint")
    clash = Vendor()
    clash.DisplayName = "bob's burger joint"
    with pytest.raises(QuickbooksException) as duplicate:
        clash.save(qb=qbo_client)
    assert type(duplicate.value) is QuickbooksException
    assert (duplicate.value.error_code, duplicate.value.message) == (6240, "Duplicate Name Exists Error")
    assert duplicate.value.detail == "The name supplied already exists. : null"


def test_610_unknown_or_inactive_references_and_missing_objects(qbo_client):
    with pytest.raises(ObjectNotFoundException) as unknown_customer:
        invoice_for(ref("9999")).save(qb=qbo_client)
    assert unknown_customer.value.error_code == 610
    buyer = customer(qbo_client, "Gone Soon")
    buyer.Active = False
    buyer.save(qb=qbo_client)
    with pytest.raises(ObjectNotFoundException) as inactive_customer:
        invoice_for(buyer.to_ref()).save(qb=qbo_client)
    assert "has been made inactive" in inactive_customer.value.detail
    with pytest.raises(ObjectNotFoundException):
        invoice_for(customer(qbo_client, "Still Here").to_ref(), item="424242").save(qb=qbo_client)
    with pytest.raises(ObjectNotFoundException):
        Invoice.get("424242", qb=qbo_client)


def test_2010_unknown_property(qbo_client):
    sale = invoice_for(customer(qbo_client, "Property Checker").to_ref())
    sale.BadJson = "not a property"
    with pytest.raises(ValidationException) as unknown:
        sale.save(qb=qbo_client)
    assert unknown.value.error_code == 2010
    assert unknown.value.message == "Request has invalid or unsupported property"
    assert 'Unrecognized field "BadJson" (class com.intuit.schema.finance.v3.Invoice)' in unknown.value.detail


def test_2020_required_parameter_missing(qbo_client):
    sale = Invoice()
    sale.CustomerRef = customer(qbo_client, "No Lines").to_ref()
    with pytest.raises(ValidationException) as missing:
        sale.save(qb=qbo_client)
    assert missing.value.error_code == 2020
    assert missing.value.detail == "Required parameter Line is missing in the request"


def test_2030_invalid_id_has_no_time(qbo_client, qbo_token, qbo_url, qbo_company):
    with pytest.raises(ValidationException) as invalid:
        Customer.get("1.5", qb=qbo_client)
    assert invalid.value.error_code == 2030
    assert invalid.value.detail == "Id should be a valid number. Supplied value:1.5"
    response = raw(qbo_token, qbo_url, qbo_company, "GET", "customer/1.5")
    assert response.status_code == 400
    # Intuit's recorded 2030 answer is the one fault without a `time`.
    assert response.json() == {
        "Fault": {
            "Error": [
                {
                    "Message": "Invalid ID",
                    "Detail": "Id should be a valid number. Supplied value:1.5",
                    "code": "2030",
                    "element": "Id",
                }
            ],
            "type": "ValidationFault",
        }
    }


def test_4001_invalid_query(qbo_client):
    with pytest.raises(ValidationException) as unknown_entity:
        Customer.query("SELECT * FROM Custmoer", qb=qbo_client)
    assert unknown_entity.value.error_code == 4001
    assert unknown_entity.value.message == "Invalid query"
    assert unknown_entity.value.detail == "QueryValidationError: invalid context declaration: Custmoer"
    # python-quickbooks leaves a falsy start position out of all(); say it in the statement.
    with pytest.raises(ValidationException) as zero:
        Customer.query("SELECT * FROM Customer STARTPOSITION 0", qb=qbo_client)
    assert zero.value.error_code == 4001
    assert zero.value.detail == "QueryValidationError: value 0 is too small. Min allowed value is 1"
    with pytest.raises(ValidationException) as unparsable:
        Customer.query("SELECT * FROM Customer WHERE DisplayName = 'a' OR Active = true", qb=qbo_client)
    assert unparsable.value.detail.startswith("QueryParserError:")


def test_500_unsupported_operation_for_unknown_paths(qbo_client, qbo_token, qbo_url, qbo_company):
    with pytest.raises(UnsupportedException) as unsupported:
        qbo_client.get(f"{qbo_client.api_url}/company/{qbo_client.company_id}/customer/1/5")
    assert unsupported.value.error_code == 500
    assert unsupported.value.message == "Unsupported Operation"
    assert unsupported.value.detail == (
        f"Operation Could not find resource for relative : /v3/company/{qbo_company.tenant_id}/customer/1/5 "
        f"of full path: {qbo_url}/v3/company/{qbo_company.tenant_id}/customer/1/5 is not supported."
    )
    response = raw(qbo_token, qbo_url, qbo_company, "POST", "taxcode", json={"Name": "Nope"})
    assert response.status_code == 400
    assert response.json()["Fault"]["Error"][0]["code"] == "500"
    assert response.headers["Content-Type"] == "application/json"
    # Name lists are made inactive, never deleted.
    made = customer(qbo_client, "Not Deletable")
    response = raw(
        qbo_token,
        qbo_url,
        qbo_company,
        "POST",
        "customer",
        params={"operation": "delete"},
        json={"Id": made.Id, "SyncToken": "0"},
    )
    assert (response.status_code, response.json()["Fault"]["Error"][0]["code"]) == (400, "500")
    # Tax codes are read-only, but readable.
    assert TaxCode.get("1", qb=qbo_client).Name == "California"
