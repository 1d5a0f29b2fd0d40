"""What every write shares: validation errors and atomicity, summarizeErrors=false, unreadable bodies,
Idempotency-Key replays, scopes, and the webhook events recorded after commit."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.utils import timezone
from xero_python.accounting import (
    AccountingApi,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineItem,
)
from xero_python.exceptions import AccountingBadRequestException, HTTPStatusException

from sandbox.models.xero_records import XeroIdempotencyKey, XeroRecord
from sandbox.xero import tokens
from sandbox.xero.api import services
from tests.sandbox.conftest import make_api_client
from tests.sandbox.test_xero_api_support import D, RawXero, decoded, line, seed_contact

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def raw(sandbox_url, xero_token, xero_org) -> RawXero:
    return RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], xero_org.tenant_id)


@pytest.fixture
def customer(xero_org) -> dict:
    return seed_contact(xero_org, "Protocol Customer")


def invoice_json(customer: dict, **fields) -> dict:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": customer["ContactID"]},
        "Date": "2026-03-04",
        "LineItems": [{"Description": "x", "Quantity": 1, "UnitAmount": 10, "AccountCode": "200"}],
        **fields,
    }


def test_one_invalid_element_fails_the_batch_and_writes_nothing(raw, xero_org, customer):
    response = raw.request(
        "PUT",
        "Invoices",
        json={
            "Invoices": [
                {**invoice_json(customer), "Contact": {"Name": "Would Be Created"}},
                {
                    "Type": "ACCREC",
                    "LineItems": [
                        {"Description": "y", "Quantity": 2, "UnitAmount": 3, "AccountCode": "NOPE"}
                    ],
                },
            ]
        },
    )
    assert response.status_code == 400
    body = decoded(response)
    assert (body["ErrorNumber"], body["Type"], body["Message"]) == (
        10,
        "ValidationException",
        "A validation exception occurred",
    )
    [element] = body["Elements"]
    assert element["InvoiceID"] == "00000000-0000-0000-0000-000000000000"
    assert element["HasErrors"] is True
    assert [error["Message"] for error in element["ValidationErrors"]] == [
        "A Contact must be specified for this type of transaction (Invoice).",
        "Account code 'NOPE' is not a valid code for this document.",
    ]
    assert element["LineItems"][0]["LineAmount"] == D("6.00")  # the element is echoed as built
    assert XeroRecord.objects.filter(collection="Invoices").count() == 0
    assert not XeroRecord.objects.filter(collection="Contacts", name="Would Be Created").exists()


def test_summarize_errors_false_writes_the_valid_elements(accounting_api, xero_org, customer):
    result = accounting_api.create_invoices(
        xero_org.tenant_id,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=customer["ContactID"]),
                    line_items=[
                        LineItem(description="ok", quantity=D("1"), unit_amount=D("5.00"), account_code="200")
                    ],
                ),
                Invoice(
                    type="ACCREC",
                    line_items=[
                        LineItem(
                            description="no contact",
                            quantity=D("1"),
                            unit_amount=D("5.00"),
                            account_code="200",
                        )
                    ],
                ),
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=customer["ContactID"]),
                    line_items=[
                        LineItem(
                            description="ok too", quantity=D("1"), unit_amount=D("7.00"), account_code="200"
                        )
                    ],
                ),
            ]
        ),
        summarize_errors=False,
    ).invoices
    assert [i.status_attribute_string for i in result] == ["OK", "ERROR", "OK"]
    assert (
        result[1].validation_errors[0].message
        == "A Contact must be specified for this type of transaction (Invoice)."
    )
    assert result[1].has_errors is True
    # The failed element took no number: numbering stays gapless.
    assert [result[0].invoice_number, result[2].invoice_number] == ["INV-0001", "INV-0002"]
    assert XeroRecord.objects.filter(collection="Invoices").count() == 2


def test_unreadable_bodies_and_tolerated_input(raw, customer):
    response = raw.request("PUT", "Invoices", data="{not json")
    assert (response.status_code, response.json()["ErrorNumber"], response.json()["Type"]) == (
        400,
        14,
        "PostDataInvalidException",
    )
    response = raw.request(
        "PUT", "Invoices", json={"Invoices": [invoice_json(customer, Date="2017-12-14 00:00:00")]}
    )
    assert response.status_code == 400
    assert response.json()["Message"] == "The string '2017-12-14 00:00:00' is not a valid AllXsd value."

    response = raw.request(
        "PUT",
        "Invoices",
        json={
            "Invoices": [
                invoice_json(
                    customer,
                    Date="/Date(1772582400000+0000)/",
                    DueDate="2026-04-03T00:00:00",
                    Total=999,
                    Foo="bar",
                    HasAttachments=True,
                    SentToContact="true",
                ),
                invoice_json(customer, Date="2026-03-04", DueDate="/Date(1775174400000)/"),
            ]
        },
    )
    assert response.status_code == 200
    first, second = decoded(response)["Invoices"]
    assert (first["Date"], first["DueDate"], first["DateString"]) == (
        "/Date(1772582400000+0000)/",
        "/Date(1775174400000+0000)/",
        "2026-03-04T00:00:00",
    )
    assert (second["Date"], second["DueDateString"]) == ("/Date(1772582400000+0000)/", "2026-04-03T00:00:00")
    assert (first["Total"], first["HasAttachments"], first["SentToContact"], "Foo" in first) == (
        D("12.00"),
        False,
        True,
        False,
    )


def test_idempotency_key_replays_and_refuses_other_requests(accounting_api, xero_org, customer, raw):
    tenant = xero_org.tenant_id
    payload = Invoices(
        invoices=[
            Invoice(
                type="ACCREC",
                contact=Contact(contact_id=customer["ContactID"]),
                line_items=[
                    LineItem(description="x", quantity=D("1"), unit_amount=D("5.00"), account_code="200")
                ],
            )
        ]
    )
    first = accounting_api.create_invoices(tenant, payload, idempotency_key="key-1")
    again = accounting_api.create_invoices(tenant, payload, idempotency_key="key-1")
    assert again.invoices[0].invoice_id == first.invoices[0].invoice_id
    assert XeroRecord.objects.filter(collection="Invoices").count() == 1

    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_invoices(
            tenant,
            Invoices(invoices=[Invoice(type="ACCPAY", contact=Contact(contact_id=customer["ContactID"]))]),
            idempotency_key="key-1",
        )
    assert (
        raised.value.error_data["Message"]
        == "This Idempotency-Key has already been used with a different request."
    )
    assert XeroRecord.objects.filter(collection="Invoices").count() == 1

    # Replays return the stored response byte for byte.
    body = {"Invoices": [invoice_json(customer)]}
    one = raw.request("PUT", "Invoices", json=body, headers={"Idempotency-Key": "key-2"})
    two = raw.request("PUT", "Invoices", json=body, headers={"Idempotency-Key": "key-2"})
    assert (one.status_code, two.status_code, one.text == two.text) == (200, 200, True)

    # A failed write stores no key: fixing the request and retrying with the key works.
    bad = raw.request(
        "PUT", "Invoices", json={"Invoices": [{"Type": "ACCREC"}]}, headers={"Idempotency-Key": "key-3"}
    )
    assert bad.status_code == 400
    assert not XeroIdempotencyKey.objects.filter(key="key-3").exists()

    # After its lifetime the key is new again.
    XeroIdempotencyKey.objects.filter(key="key-2").update(expires_at=timezone.now() - timedelta(seconds=1))
    three = raw.request("PUT", "Invoices", json=body, headers={"Idempotency-Key": "key-2"})
    assert three.json()["Invoices"][0]["InvoiceID"] != one.json()["Invoices"][0]["InvoiceID"]
    assert XeroRecord.objects.filter(collection="Invoices").count() == 3
    assert (
        raw.request("PUT", "Invoices", json=body, headers={"Idempotency-Key": "k" * 129}).status_code == 400
    )


def test_scopes_broad_and_granular(xero_app, xero_org, sandbox_url, customer):
    def api(scopes: str) -> AccountingApi:
        # Another user's consent, so each grant keeps its own connection to the organisation.
        grant = tokens.grant_create(
            app=xero_app, scopes=scopes, tenants=[xero_org], user_email=f"{len(scopes)}@example.com"
        )
        client = make_api_client(xero_app, tokens.tokens_issue(grant=grant), sandbox_url)
        return AccountingApi(client, base_url=f"{sandbox_url}/api/api.xro/2.0")

    def refused(call) -> bool:
        with pytest.raises(HTTPStatusException) as raised:
            call()
        assert raised.value.status == 401
        assert decoded_body(raised.value)["Detail"] == "AuthorizationUnsuccessful"
        return True

    tenant = xero_org.tenant_id
    new_invoice = Invoices(
        invoices=[Invoice(type="ACCREC", contact=Contact(contact_id=customer["ContactID"]))]
    )
    granular = api("offline_access accounting.invoices accounting.contacts.read")
    assert granular.create_invoices(tenant, new_invoice).invoices[0].status == "DRAFT"
    assert granular.get_items(tenant).items == []
    assert granular.get_contacts(tenant).contacts[0].name == "Protocol Customer"
    assert refused(lambda: granular.create_contacts(tenant, Contacts(contacts=[Contact(name="No")])))
    assert refused(lambda: granular.get_payments(tenant))
    assert refused(lambda: granular.get_accounts(tenant))

    read_only = api("accounting.transactions.read accounting.settings.read")
    assert len(read_only.get_invoices(tenant).invoices) == 1
    assert read_only.get_payments(tenant).payments == []
    assert read_only.get_organisations(tenant).organisations[0].name == "Demo Company (UK)"
    assert refused(lambda: read_only.create_invoices(tenant, new_invoice))
    assert refused(lambda: read_only.get_contacts(tenant))


def decoded_body(error: HTTPStatusException) -> dict:
    return json.loads(error.body)


@pytest.fixture
def recorded_events(monkeypatch) -> list[dict]:
    """Records what the API asks sandbox.webhooks to send (delivery itself is tested in test_webhooks)."""
    from sandbox import webhooks

    events: list[dict] = []
    monkeypatch.setattr(webhooks, "xero_event_record", lambda **kwargs: events.append(kwargs))
    return events


def test_webhook_events_after_commit(accounting_api, xero_org, raw, recorded_events):
    tenant = xero_org.tenant_id
    contact = accounting_api.create_contacts(tenant, Contacts(contacts=[Contact(name="Hooked")])).contacts[0]
    accounting_api.update_contact(
        tenant, contact.contact_id, Contacts(contacts=[Contact(email_address="a@b.example")])
    )
    invoice = accounting_api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    status="AUTHORISED",
                    contact=Contact(name="Walk-in"),
                    line_items=[
                        LineItem(description="x", quantity=D("1"), unit_amount=D("5.00"), account_code="200")
                    ],
                )
            ]
        ),
    ).invoices[0]
    note = accounting_api.create_credit_notes(
        tenant,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type="ACCRECCREDIT",
                    status="AUTHORISED",
                    contact=Contact(contact_id=contact.contact_id),
                    date=date(2026, 3, 1),
                    line_items=[
                        LineItem(description="r", quantity=D("1"), unit_amount=D("1.00"), account_code="200")
                    ],
                )
            ]
        ),
    ).credit_notes[0]
    raw.request("PUT", "Contacts", json={"Contacts": [{"Name": "Hooked"}]})  # refused: no event
    summary = [(e["category"], e["event_type"], e["resource_id"], e["data"]) for e in recorded_events]
    assert summary == [
        ("CONTACT", "CREATE", contact.contact_id, None),
        ("CONTACT", "UPDATE", contact.contact_id, None),
        ("CONTACT", "CREATE", invoice.contact.contact_id, None),
        ("INVOICE", "CREATE", invoice.invoice_id, None),
        ("CREDITNOTE", "CREATE", note.credit_note_id, {"Type": "ACCRECCREDIT", "Status": "AUTHORISED"}),
    ]
    assert all(e["tenant"].pk == xero_org.pk for e in recorded_events)

    recorded_events.clear()
    services.records_create(
        tenant=xero_org,
        collection="Invoices",
        emit_events=False,
        payloads=[
            {
                "Type": "ACCREC",
                "Contact": {"ContactID": contact.contact_id},
                "LineItems": [line("x", "1", "1")],
            }
        ],
    )
    assert recorded_events == []
