"""Manual journals, batch payments and purchase orders through the unmodified SDK."""

from __future__ import annotations

from datetime import date

import pytest
from xero_python.accounting import (
    Account,
    BatchPayment,
    BatchPaymentDelete,
    BatchPaymentDeleteByUrlParam,
    BatchPayments,
    Contact,
    Invoice,
    LineAmountTypes,
    LineItem,
    ManualJournal,
    ManualJournalLine,
    ManualJournals,
    Payment,
    PurchaseOrder,
    PurchaseOrders,
)
from xero_python.exceptions import AccountingBadRequestException

from sandbox.models.xero_records import XeroRecord
from tests.sandbox.test_xero_api_support import D, RawXero, seed_contact, seed_invoice

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def raw(sandbox_url, xero_token, xero_org) -> RawXero:
    return RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], xero_org.tenant_id)


def journal(narration: str, *amounts: str, **fields) -> ManualJournal:
    codes = ["429", "090", "400", "200"]
    return ManualJournal(
        narration=narration,
        date=date(2026, 3, 31),
        journal_lines=[
            ManualJournalLine(line_amount=D(amount), account_code=codes[index], description=f"line {index}")
            for index, amount in enumerate(amounts)
        ],
        **fields,
    )


def test_manual_journals_balance_and_lifecycle(accounting_api, xero_org):
    tenant = xero_org.tenant_id
    created = accounting_api.create_manual_journals(
        tenant, ManualJournals(manual_journals=[journal("Accrual", "120.50", "-120.50")])
    ).manual_journals[0]
    assert (created.status, created.line_amount_types.value, created.show_on_cash_basis_reports) == (
        "DRAFT",
        "NoTax",
        True,
    )
    assert [(line.line_amount, line.account_code, line.tax_amount) for line in created.journal_lines] == [
        (D("120.50"), "429", D("0.00")),
        (D("-120.50"), "090", D("0.00")),
    ]
    assert created.date == date(2026, 3, 31)

    def reason(*manual_journals: ManualJournal) -> str:
        with pytest.raises(AccountingBadRequestException) as raised:
            accounting_api.create_manual_journals(
                tenant, ManualJournals(manual_journals=list(manual_journals))
            )
        return raised.value.reason

    assert (
        reason(journal("Off", "100.00", "-99.99"))
        == "The total debits (100.00) must equal total credits (99.99)."
    )
    assert reason(journal("Alone", "0.00")) == "A manual journal must have at least two journal lines."
    assert reason(journal(" ", "1.00", "-1.00")) == "The Narration field is mandatory."
    assert XeroRecord.objects.filter(collection="ManualJournals").count() == 1

    posted = accounting_api.update_manual_journal(
        tenant,
        created.manual_journal_id,
        ManualJournals(manual_journals=[ManualJournal(narration="Accrual", status="POSTED")]),
    ).manual_journals[0]
    assert posted.status == "POSTED"
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.update_manual_journal(
            tenant,
            created.manual_journal_id,
            ManualJournals(manual_journals=[ManualJournal(narration="Accrual", status="DELETED")]),
        )
    assert raised.value.reason == "ManualJournal cannot be changed from POSTED to DELETED."
    voided = accounting_api.update_manual_journal(
        tenant,
        created.manual_journal_id,
        ManualJournals(manual_journals=[ManualJournal(narration="Accrual", status="VOIDED")]),
    ).manual_journals[0]
    assert voided.status == "VOIDED"

    # With tax: 20% on top of the expense line; the gross amounts balance.
    taxed = accounting_api.create_manual_journals(
        tenant,
        ManualJournals(
            manual_journals=[
                ManualJournal(
                    narration="Taxed",
                    line_amount_types=LineAmountTypes.EXCLUSIVE,
                    journal_lines=[
                        ManualJournalLine(line_amount=D("100.00"), account_code="429"),
                        ManualJournalLine(line_amount=D("-120.00"), account_code="090"),
                    ],
                )
            ]
        ),
    ).manual_journals[0]
    assert [line.tax_amount for line in taxed.journal_lines] == [D("20.00"), D("0.00")]
    page = accounting_api.get_manual_journals(tenant, page=1)
    assert [j.narration for j in page.manual_journals] == ["Accrual", "Taxed"]
    assert page.pagination.item_count == 2


def test_batch_payment_pays_invoices_and_deleting_it_reverses_them(accounting_api, xero_org, raw):
    tenant = xero_org.tenant_id
    customer = seed_contact(xero_org, "Batch Customer")
    first = seed_invoice(
        xero_org,
        customer,
        {"Description": "a", "Quantity": D("1"), "UnitAmount": D("100.00"), "AccountCode": "200"},
    )
    second = seed_invoice(
        xero_org,
        customer,
        {"Description": "b", "Quantity": D("2"), "UnitAmount": D("25.00"), "AccountCode": "200"},
    )
    bank = next(a for a in accounting_api.get_accounts(tenant).accounts if a.code == "090")

    batch = accounting_api.create_batch_payment(
        tenant,
        BatchPayments(
            batch_payments=[
                BatchPayment(
                    account=Account(account_id=bank.account_id),
                    date=date(2026, 3, 15),
                    reference="March receipts",
                    payments=[
                        Payment(invoice=Invoice(invoice_id=first["InvoiceID"]), amount=D("120.00")),
                        Payment(invoice=Invoice(invoice_id=second["InvoiceID"]), amount=D("20.00")),
                    ],
                )
            ]
        ),
    ).batch_payments[0]
    assert (batch.type, batch.status, batch.total_amount, batch.is_reconciled) == (
        "RECBATCH",
        "AUTHORISED",
        D("140.00"),
        False,
    )
    assert batch.date == date(2026, 3, 15)
    assert [p.amount for p in batch.payments] == [D("120.00"), D("20.00")]

    paid = accounting_api.get_invoice(tenant, first["InvoiceID"]).invoices[0]
    assert (paid.status, paid.amount_due, paid.fully_paid_on_date) == ("PAID", D("0.00"), date(2026, 3, 15))
    partly = accounting_api.get_invoice(tenant, second["InvoiceID"]).invoices[0]
    assert (partly.status, partly.amount_due) == ("AUTHORISED", D("40.00"))
    payments = accounting_api.get_payments(tenant).payments
    assert sorted(p.amount for p in payments) == [D("20.00"), D("120.00")]
    assert {p.batch_payment_id for p in payments} == {batch.batch_payment_id}
    assert payments[0].batch_payment.type == "RECBATCH"

    # Its payments can't be deleted one by one.
    response = raw.request("POST", f"Payments/{payments[0].payment_id}", json={"Status": "DELETED"})
    assert response.status_code == 400

    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_batch_payment(
            tenant,
            BatchPayments(
                batch_payments=[
                    BatchPayment(
                        account=Account(account_id=bank.account_id),
                        date=date(2026, 3, 16),
                        payments=[
                            Payment(invoice=Invoice(invoice_id=second["InvoiceID"]), amount=D("40.01"))
                        ],
                    )
                ]
            ),
        )
    assert raised.value.reason == "Payment amount exceeds the amount outstanding on this document."

    deleted = accounting_api.delete_batch_payment_by_url_param(
        tenant, batch.batch_payment_id, BatchPaymentDeleteByUrlParam(status="DELETED")
    ).batch_payments[0]
    assert deleted.status == "DELETED"
    assert accounting_api.get_invoice(tenant, first["InvoiceID"]).invoices[0].amount_due == D("120.00")
    assert accounting_api.get_invoice(tenant, second["InvoiceID"]).invoices[0].amount_due == D("60.00")
    assert {p.status for p in accounting_api.get_payments(tenant).payments} == {"DELETED"}
    with pytest.raises(AccountingBadRequestException):
        accounting_api.delete_batch_payment(
            tenant, BatchPaymentDelete(batch_payment_id=batch.batch_payment_id, status="DELETED")
        )


def test_purchase_orders(accounting_api, xero_org, raw):
    tenant = xero_org.tenant_id
    supplier = seed_contact(xero_org, "Parts Supplier")

    def order(**fields) -> PurchaseOrder:
        return PurchaseOrder(
            contact=Contact(contact_id=supplier["ContactID"]),
            date=date(2026, 3, 12),
            delivery_date=date(2026, 3, 20),
            line_items=[
                LineItem(description="Bolts", quantity=D("10"), unit_amount=D("0.45"), account_code="300")
            ],
            **fields,
        )

    first = accounting_api.create_purchase_orders(
        tenant, PurchaseOrders(purchase_orders=[order(attention_to="Jimmy")])
    ).purchase_orders[0]
    assert (first.purchase_order_number, first.status) == ("PO-0001", "DRAFT")
    assert (first.sub_total, first.total_tax, first.total) == (D("4.50"), D("0.90"), D("5.40"))
    assert first.delivery_date == date(2026, 3, 20)
    assert (
        accounting_api.get_purchase_order_by_number(tenant, "PO-0001").purchase_orders[0].purchase_order_id
        == first.purchase_order_id
    )

    # summarizeErrors=false: 200, the good element written, the bad one reported (shaped like Xero's example).
    result = accounting_api.create_purchase_orders(
        tenant,
        PurchaseOrders(
            purchase_orders=[order(purchase_order_number="PO-0001", sent_to_contact=True), order()]
        ),
        summarize_errors=False,
    ).purchase_orders
    assert [po.status_attribute_string for po in result] == ["ERROR", "OK"]
    assert result[0].validation_errors[0].message == "Order number must be unique"
    assert (
        result[0].warnings[0].message
        == "Only AUTHORISED and BILLED purchase orders may have SentToContact updated."
    )
    assert result[0].purchase_order_id == "00000000-0000-0000-0000-000000000000"
    assert result[0].total == D("5.40")
    assert result[1].purchase_order_number == "PO-0002"
    assert XeroRecord.objects.filter(collection="PurchaseOrders").count() == 2

    authorised = accounting_api.update_purchase_order(
        tenant,
        first.purchase_order_id,
        PurchaseOrders(purchase_orders=[PurchaseOrder(status="AUTHORISED", sent_to_contact=True)]),
    ).purchase_orders[0]
    assert (authorised.status, authorised.sent_to_contact) == ("AUTHORISED", True)
    billed = accounting_api.update_purchase_order(
        tenant, first.purchase_order_id, PurchaseOrders(purchase_orders=[PurchaseOrder(status="BILLED")])
    ).purchase_orders[0]
    assert billed.status == "BILLED"

    drafts = accounting_api.get_purchase_orders(tenant, status="DRAFT").purchase_orders
    assert [po.purchase_order_number for po in drafts] == ["PO-0002"]
    assert accounting_api.get_purchase_orders(tenant, date_from="2026-03-13").purchase_orders == []
    in_range = accounting_api.get_purchase_orders(
        tenant, date_from="2026-03-12", date_to="2026-03-12", order="PurchaseOrderNumber DESC"
    )
    assert [po.purchase_order_number for po in in_range.purchase_orders] == ["PO-0002", "PO-0001"]
    assert in_range.pagination.item_count == 2
    # PurchaseOrders take no `where` on Xero: it is ignored.
    assert len(raw.get("PurchaseOrders", params={"where": 'Status=="NOPE"'}).json()["PurchaseOrders"]) == 2
