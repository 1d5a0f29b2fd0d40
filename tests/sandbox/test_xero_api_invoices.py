"""Invoices (sales invoices and bills) through the unmodified SDK: totals, numbering, lifecycle, payments."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from xero_python.accounting import (
    Account,
    Contact,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from sandbox.models.xero_records import XeroRecord
from tests.sandbox.test_xero_api_support import D, RawXero, seed_contact, seed_invoice

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def raw(sandbox_url, xero_token, xero_org) -> RawXero:
    return RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], xero_org.tenant_id)


@pytest.fixture
def customer(xero_org) -> dict:
    return seed_contact(xero_org, "Ridgeway University")


def sales_invoice(customer: dict, *lines: LineItem, **fields) -> Invoice:
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=customer["ContactID"]),
        line_items=list(lines),
        date=date(2026, 3, 4),
        due_date=date(2026, 4, 3),
        **fields,
    )


def create(accounting_api, xero_org, *invoices: Invoice, **kwargs) -> list[Invoice]:
    return accounting_api.create_invoices(
        xero_org.tenant_id, Invoices(invoices=list(invoices)), **kwargs
    ).invoices


def test_exclusive_totals_round_each_line_half_up(accounting_api, xero_org, customer):
    [invoice] = create(
        accounting_api,
        xero_org,
        sales_invoice(
            customer,
            LineItem(description="Desks", quantity=D("3"), unit_amount=D("19.99"), account_code="200"),
            LineItem(description="Pens", quantity=D("1"), unit_amount=D("0.125"), account_code="200"),
            # Three lines of 0.03 at 20%: 0.006 tax each rounds to 0.01, so 0.03 in all (not 0.02).
            *[LineItem(description="Clip", quantity=D("1"), unit_amount=D("0.03"), account_code="200")] * 3,
        ),
    )
    assert [item.line_amount for item in invoice.line_items] == [
        D("59.97"),
        D("0.13"),
        D("0.03"),
        D("0.03"),
        D("0.03"),
    ]
    assert [item.tax_amount for item in invoice.line_items] == [
        D("11.99"),
        D("0.03"),
        D("0.01"),
        D("0.01"),
        D("0.01"),
    ]
    assert [item.tax_type for item in invoice.line_items] == ["OUTPUT2"] * 5
    assert invoice.line_items[1].unit_amount == D("0.13")  # stored at 2 decimals without unitdp=4
    assert (invoice.sub_total, invoice.total_tax, invoice.total) == (D("60.19"), D("12.05"), D("72.24"))
    assert (invoice.amount_due, invoice.amount_paid, invoice.amount_credited) == (
        D("72.24"),
        D("0.00"),
        D("0.00"),
    )
    assert invoice.status == "DRAFT"
    assert invoice.invoice_number == "INV-0001"
    assert invoice.line_amount_types == LineAmountTypes.EXCLUSIVE
    assert invoice.date == date(2026, 3, 4)
    assert invoice.due_date == date(2026, 4, 3)
    assert invoice.currency_code.value == "GBP"
    assert invoice.status_attribute_string == "OK"


def test_inclusive_and_no_tax_totals(accounting_api, xero_org, customer):
    lines = [
        LineItem(description="Course", quantity=D("3"), unit_amount=D("19.99"), account_code="200"),
        LineItem(
            description="Exempt fee",
            quantity=D("1"),
            unit_amount=D("10.00"),
            account_code="200",
            tax_type="NONE",
        ),
    ]
    inclusive, no_tax = create(
        accounting_api,
        xero_org,
        sales_invoice(customer, *lines, line_amount_types=LineAmountTypes.INCLUSIVE),
        sales_invoice(customer, *lines, line_amount_types=LineAmountTypes.NOTAX),
    )
    # 59.97 includes 20% VAT: 59.97 * 20 / 120 = 9.995, rounded half up to 10.00.
    assert [item.tax_amount for item in inclusive.line_items] == [D("10.00"), D("0.00")]
    assert (inclusive.sub_total, inclusive.total_tax, inclusive.total) == (D("59.97"), D("10.00"), D("69.97"))
    assert [item.tax_amount for item in no_tax.line_items] == [D("0.00"), D("0.00")]
    assert (no_tax.sub_total, no_tax.total_tax, no_tax.total) == (D("69.97"), D("0.00"), D("69.97"))
    assert (inclusive.invoice_number, no_tax.invoice_number) == ("INV-0001", "INV-0002")


def test_discounts_and_tax_override(accounting_api, xero_org, customer):
    [invoice] = create(
        accounting_api,
        xero_org,
        sales_invoice(
            customer,
            LineItem(
                description="Chairs",
                quantity=D("2"),
                unit_amount=D("50.00"),
                account_code="200",
                discount_rate=D("10"),
            ),
            LineItem(
                description="Import",
                quantity=D("1"),
                unit_amount=D("10.00"),
                account_code="200",
                tax_amount=D("1.50"),
            ),
        ),
    )
    assert [item.line_amount for item in invoice.line_items] == [D("90.00"), D("10.00")]
    assert [item.tax_amount for item in invoice.line_items] == [D("18.00"), D("1.50")]
    assert (invoice.sub_total, invoice.total_tax, invoice.total) == (D("100.00"), D("19.50"), D("119.50"))
    assert invoice.is_discounted is True
    assert invoice.total_discount == D("10.00")


def test_unitdp_four_keeps_unit_amounts_and_default_view_rounds_them(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    [precise] = create(
        accounting_api,
        xero_org,
        sales_invoice(
            customer,
            LineItem(description="Fuel", quantity=D("3"), unit_amount=D("10.1234"), account_code="200"),
        ),
        unitdp=4,
    )
    assert precise.line_items[0].unit_amount == D("10.1234")
    assert precise.line_items[0].line_amount == D("30.37")  # 30.3702
    [plain] = create(
        accounting_api,
        xero_org,
        sales_invoice(
            customer,
            LineItem(description="Fuel", quantity=D("3"), unit_amount=D("10.1234"), account_code="200"),
        ),
    )
    assert plain.line_items[0].unit_amount == D("10.12")
    assert plain.line_items[0].line_amount == D("30.36")

    assert accounting_api.get_invoice(tenant, precise.invoice_id).invoices[0].line_items[0].unit_amount == D(
        "10.12"
    )
    four = accounting_api.get_invoice(tenant, precise.invoice_id, unitdp=4).invoices[0]
    assert four.line_items[0].unit_amount == D("10.1234")
    listed = {i.invoice_id: i for i in accounting_api.get_invoices(tenant).invoices}
    assert listed[precise.invoice_id].line_items[0].unit_amount == D("10.12")
    listed = {i.invoice_id: i for i in accounting_api.get_invoices(tenant, unitdp=4).invoices}
    assert listed[precise.invoice_id].line_items[0].unit_amount == D("10.1234")


def test_numbering_uniqueness_and_bills(accounting_api, xero_org, customer):
    lines = [LineItem(description="x", quantity=D("1"), unit_amount=D("5.00"), account_code="200")]
    [explicit] = create(accounting_api, xero_org, sales_invoice(customer, *lines, invoice_number="INV-0100"))
    [automatic] = create(accounting_api, xero_org, sales_invoice(customer, *lines))
    assert (explicit.invoice_number, automatic.invoice_number) == ("INV-0100", "INV-0101")

    with pytest.raises(AccountingBadRequestException) as raised:
        create(accounting_api, xero_org, sales_invoice(customer, *lines, invoice_number="INV-0100"))
    assert raised.value.reason == "Invoice # must be unique."

    # Bills are numbered by the supplier: not generated, and duplicates are allowed.
    bill = Invoice(
        type="ACCPAY",
        contact=Contact(contact_id=customer["ContactID"]),
        line_items=[
            LineItem(description="Stock", quantity=D("4"), unit_amount=D("2.50"), account_code="300")
        ],
        date=date(2026, 3, 5),
        status="AUTHORISED",
    )
    first, second = create(accounting_api, xero_org, bill, bill)
    assert (first.invoice_number, second.invoice_number) == (None, None)
    assert first.type == "ACCPAY"
    assert (first.sub_total, first.total_tax, first.total) == (D("10.00"), D("2.00"), D("12.00"))
    assert first.line_items[0].tax_type == "INPUT2"  # the purchases account's default tax

    contact = accounting_api.get_contact(xero_org.tenant_id, customer["ContactID"]).contacts[0]
    assert (contact.is_customer, contact.is_supplier) == (True, True)


def test_contact_by_name_is_found_or_created(accounting_api, xero_org, customer):
    [known] = create(
        accounting_api,
        xero_org,
        Invoice(
            type="ACCREC",
            contact=Contact(name="Ridgeway University"),
            line_items=[
                LineItem(description="x", quantity=D("1"), unit_amount=D("1.00"), account_code="200")
            ],
        ),
    )
    assert known.contact.contact_id == customer["ContactID"]
    [new] = create(
        accounting_api,
        xero_org,
        Invoice(
            type="ACCREC",
            contact=Contact(name="Brand New Customer"),
            line_items=[
                LineItem(description="x", quantity=D("1"), unit_amount=D("1.00"), account_code="200")
            ],
        ),
    )
    created = accounting_api.get_contact(xero_org.tenant_id, new.contact.contact_id).contacts[0]
    assert created.name == "Brand New Customer"
    assert created.is_customer is True
    assert new.date == datetime.now(tz=UTC).date()  # Date defaults to today


def test_get_one_by_id_and_number_and_404(accounting_api, xero_org, customer, raw):
    invoice = seed_invoice(xero_org, customer)
    tenant = xero_org.tenant_id
    assert accounting_api.get_invoice(tenant, invoice["InvoiceID"]).invoices[0].invoice_number == "INV-0001"
    by_number = raw.get("Invoices/INV-0001").json()["Invoices"][0]
    assert by_number["InvoiceID"] == invoice["InvoiceID"]
    with pytest.raises(NotFoundException):
        accounting_api.get_invoice(tenant, "0b1c2d3e-0000-4000-8000-000000000000")
    response = raw.get("Invoices/0b1c2d3e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.text == "The resource you're looking for cannot be found"
    assert response.headers["Content-Type"].startswith("text/plain")
    assert raw.get("NoSuchThings").status_code == 404
    assert raw.request("DELETE", f"Invoices/{invoice['InvoiceID']}").status_code == 405
    assert raw.request("PATCH", "Invoices").status_code == 405


def test_update_recomputes_lines_and_keeps_line_ids(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    invoice = seed_invoice(xero_org, customer, Status="DRAFT")
    line_id = invoice["LineItems"][0]["LineItemID"]
    updated = accounting_api.update_invoice(
        tenant,
        invoice["InvoiceID"],
        Invoices(
            invoices=[
                Invoice(
                    reference="PO 4471",
                    line_items=[
                        LineItem(
                            line_item_id=line_id,
                            description="Consulting",
                            quantity=D("2"),
                            unit_amount=D("100.00"),
                            account_code="200",
                        ),
                        LineItem(
                            description="Travel", quantity=D("1"), unit_amount=D("35.50"), account_code="429"
                        ),
                    ],
                )
            ]
        ),
    ).invoices[0]
    assert updated.reference == "PO 4471"
    assert updated.line_items[0].line_item_id == line_id
    assert updated.line_items[1].line_item_id not in (None, line_id)
    # 429 General Expenses carries INPUT2; a sales invoice may still use it (Xero validates use, not side).
    assert (updated.sub_total, updated.total_tax, updated.total) == (D("235.50"), D("47.10"), D("282.60"))
    assert updated.amount_due == D("282.60")
    assert updated.invoice_number == invoice["InvoiceNumber"]
    assert updated.updated_date_utc > datetime(2026, 1, 1, tzinfo=UTC)

    switched = accounting_api.update_invoice(
        tenant, invoice["InvoiceID"], Invoices(invoices=[Invoice(line_amount_types=LineAmountTypes.NOTAX)])
    ).invoices[0]
    assert (switched.total_tax, switched.total) == (D("0.00"), D("235.50"))


def test_lifecycle_delete_only_from_draft_or_submitted(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    draft = seed_invoice(xero_org, customer, Status="DRAFT")
    submitted = accounting_api.update_invoice(
        tenant, draft["InvoiceID"], Invoices(invoices=[Invoice(status="SUBMITTED")])
    ).invoices[0]
    assert submitted.status == "SUBMITTED"
    deleted = accounting_api.update_invoice(
        tenant, draft["InvoiceID"], Invoices(invoices=[Invoice(status="DELETED")])
    ).invoices[0]
    assert (deleted.status, deleted.amount_due) == ("DELETED", D("0.00"))
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.update_invoice(
            tenant, draft["InvoiceID"], Invoices(invoices=[Invoice(reference="again")])
        )
    assert raised.value.reason == "Invoice not of valid status for modification"

    authorised = seed_invoice(xero_org, customer)
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.update_invoice(
            tenant, authorised["InvoiceID"], Invoices(invoices=[Invoice(status="DELETED")])
        )
    assert raised.value.reason == "Invoice cannot be changed from AUTHORISED to DELETED."
    with pytest.raises(AccountingBadRequestException) as raised:
        create(accounting_api, xero_org, sales_invoice(customer, status="PAID"))
    assert raised.value.reason == "Invoice cannot be created with status PAID."


def test_payments_settle_invoice_and_deleting_one_restores_amount_due(accounting_api, xero_org, customer):
    tenant = xero_org.tenant_id
    invoice = seed_invoice(
        xero_org,
        customer,
        {"Description": "Audit", "Quantity": D("1"), "UnitAmount": D("60.10"), "AccountCode": "200"},
    )
    assert invoice["Total"] == D("72.12")
    first = accounting_api.create_payment(
        tenant,
        Payment(
            invoice=Invoice(invoice_id=invoice["InvoiceID"]),
            account=Account(code="090"),
            amount=D("50.00"),
            date=date(2026, 3, 10),
            reference="Part 1",
        ),
    ).payments[0]
    assert (first.amount, first.payment_type, first.status) == (D("50.00"), "ACCRECPAYMENT", "AUTHORISED")
    assert first.invoice.invoice_id == invoice["InvoiceID"]
    assert first.account.code == "090"
    part_paid = accounting_api.get_invoice(tenant, invoice["InvoiceID"]).invoices[0]
    assert (part_paid.status, part_paid.amount_paid, part_paid.amount_due) == (
        "AUTHORISED",
        D("50.00"),
        D("22.12"),
    )

    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_payments(
            tenant,
            Payments(
                payments=[
                    Payment(
                        invoice=Invoice(invoice_id=invoice["InvoiceID"]),
                        account=Account(code="090"),
                        amount=D("22.13"),
                        date=date(2026, 3, 20),
                    )
                ]
            ),
        )
    assert raised.value.reason == "Payment amount exceeds the amount outstanding on this document."

    second = accounting_api.create_payments(
        tenant,
        Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_number=invoice["InvoiceNumber"]),
                    account=Account(code="090"),
                    amount=D("22.12"),
                    date=date(2026, 3, 20),
                )
            ]
        ),
    ).payments[0]
    paid = accounting_api.get_invoice(tenant, invoice["InvoiceID"]).invoices[0]
    assert (paid.status, paid.amount_paid, paid.amount_due) == ("PAID", D("72.12"), D("0.00"))
    assert paid.fully_paid_on_date == date(2026, 3, 20)
    assert [p.payment_id for p in paid.payments] == [first.payment_id, second.payment_id]

    with pytest.raises(AccountingBadRequestException):
        accounting_api.update_invoice(
            tenant, invoice["InvoiceID"], Invoices(invoices=[Invoice(status="VOIDED")])
        )

    deleted = accounting_api.delete_payment(
        tenant, second.payment_id, PaymentDelete(status="DELETED")
    ).payments[0]
    assert deleted.status == "DELETED"
    reopened = accounting_api.get_invoice(tenant, invoice["InvoiceID"]).invoices[0]
    assert (reopened.status, reopened.amount_paid, reopened.amount_due) == (
        "AUTHORISED",
        D("50.00"),
        D("22.12"),
    )
    assert reopened.fully_paid_on_date is None

    # Payments are immutable, and voiding needs every payment gone.
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.update_invoice(
            tenant, invoice["InvoiceID"], Invoices(invoices=[Invoice(status="VOIDED")])
        )
    assert "cannot be voided" in raised.value.reason
    accounting_api.delete_payment(tenant, first.payment_id, PaymentDelete(status="DELETED"))
    voided = accounting_api.update_invoice(
        tenant, invoice["InvoiceID"], Invoices(invoices=[Invoice(status="VOIDED")])
    ).invoices[0]
    assert (voided.status, voided.amount_due, voided.amount_paid, voided.total) == (
        "VOIDED",
        D("0.00"),
        D("0.00"),
        D("72.12"),
    )
    listed = accounting_api.get_payments(
        tenant, where=f'Invoice.InvoiceID==Guid("{invoice["InvoiceID"]}")'
    ).payments
    assert sorted(p.status for p in listed) == ["DELETED", "DELETED"]


def test_payment_rules(accounting_api, xero_org, customer, raw):
    tenant = xero_org.tenant_id
    draft = seed_invoice(xero_org, customer, Status="DRAFT")
    authorised = seed_invoice(xero_org, customer)

    def pay(invoice_id: str, code: str, amount: str) -> str:
        with pytest.raises(AccountingBadRequestException) as raised:
            accounting_api.create_payment(
                tenant,
                Payment(
                    invoice=Invoice(invoice_id=invoice_id),
                    account=Account(code=code),
                    amount=D(amount),
                    date=date(2026, 3, 10),
                ),
            )
        return raised.value.reason

    assert (
        pay(draft["InvoiceID"], "090", "10.00") == "Payments can only be made against Authorised documents."
    )
    assert (
        pay(authorised["InvoiceID"], "200", "10.00")
        == "Account type is invalid for making a payment to/from."
    )
    assert (
        pay(authorised["InvoiceID"], "999", "10.00")
        == "Account code '999' is not a valid code for this document."
    )
    assert pay(authorised["InvoiceID"], "090", "0") == "The payment amount must be greater than zero."
    payment = accounting_api.create_payment(
        tenant,
        Payment(
            invoice=Invoice(invoice_id=authorised["InvoiceID"]),
            account=Account(code="090"),
            amount=D("1.00"),
            date=date(2026, 3, 10),
        ),
    ).payments[0]
    response = raw.request("POST", f"Payments/{payment.payment_id}", json={"Amount": 2})
    assert response.status_code == 400
    [element] = response.json()["Elements"]
    assert element["ValidationErrors"] == [
        {"Message": "A payment cannot be changed; delete it and create a new one instead."}
    ]
    stored = XeroRecord.objects.get(record_id=payment.payment_id)
    assert (stored.status, '"Amount":1.00' in stored.body) == ("AUTHORISED", True)
