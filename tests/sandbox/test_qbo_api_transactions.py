"""Transactions through the unmodified python-quickbooks objects: totals to the cent, balances after
payments, void and delete as Intuit does them."""

from __future__ import annotations

import importlib
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from quickbooks.exceptions import ObjectNotFoundException, QuickbooksException
from quickbooks.mixins import DecimalEncoder
from quickbooks.objects.base import LinkedTxn, Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    DiscountLine,
    DiscountLineDetail,
    ItemBasedExpenseLine,
    ItemBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.journalentry import JournalEntry, JournalEntryLine, JournalEntryLineDetail
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.purchaseorder import PurchaseOrder
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.tax import TxnTaxDetail
from quickbooks.objects.vendor import Vendor
from quickbooks.objects.vendorcredit import VendorCredit

from sandbox.qbo.api.entities import ENTITIES
from sandbox.qbo.api.entity import TRANSACTION

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def qb(qbo_client):
    # Amounts come back as Decimal, so they can be compared to the cent.
    qbo_client.use_decimal = True
    return qbo_client


def ref(value: str) -> Ref:
    reference = Ref()
    reference.value = value
    return reference


def sales_line(
    amount: str, *, qty: str | None = None, price: str | None = None, item: str = "1"
) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = Decimal(amount)
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item)
    if qty is not None:
        line.SalesItemLineDetail.Qty = Decimal(qty)
    if price is not None:
        line.SalesItemLineDetail.UnitPrice = Decimal(price)
    return line


def customer(qb, name: str, **fields) -> Customer:
    created = Customer()
    created.DisplayName = name
    for key, value in fields.items():
        setattr(created, key, value)
    return created.save(qb=qb)


def vendor(qb, name: str) -> Vendor:
    created = Vendor()
    created.DisplayName = name
    return created.save(qb=qb)


def invoice(qb, buyer: Customer, *lines: SalesItemLine) -> Invoice:
    created = Invoice()
    created.CustomerRef = buyer.to_ref()
    created.Line = list(lines)
    return created.save(qb=qb)


def payment(qb, buyer: Customer, total: str, *applied: tuple[str, str, str]) -> Payment:
    created = Payment()
    created.CustomerRef = buyer.to_ref()
    created.TotalAmt = Decimal(total)
    for amount, txn_type, txn_id in applied:
        line = PaymentLine()
        line.Amount = Decimal(amount)
        link = LinkedTxn()
        link.TxnId, link.TxnType = txn_id, txn_type
        line.LinkedTxn = [link]
        created.Line.append(line)
    return created.save(qb=qb)


def raw_post(qb, entity: str, body: dict, **params) -> dict:
    url = f"{qb.api_url}/company/{qb.company_id}/{entity}"
    return qb.post(url, json.dumps(body, cls=DecimalEncoder), params=params)


def test_invoice_create_computes_lines_subtotal_total_and_fills_defaults(qb):
    buyer = customer(qb, "Amy's Bird Sanctuary", PreferredDeliveryMethod="Print")
    created = invoice(
        qb,
        buyer,
        sales_line("59.97", qty="3", price="19.99"),
        sales_line("30.25", qty="2.5", price="12.10"),
    )
    assert created.Id.isdigit()
    assert created.SyncToken == "0"
    assert created.DocNumber == "1001"
    assert str(created.TotalAmt) == "90.22"
    assert str(created.Balance) == "90.22"
    assert [(line.Id, line.LineNum, str(line.Amount), line.DetailType) for line in created.Line] == [
        ("1", 1, "59.97", "SalesItemLineDetail"),
        ("2", 2, "30.25", "SalesItemLineDetail"),
        (None, 0, "90.22", "SubTotalLineDetail"),
    ]
    detail = created.Line[0].SalesItemLineDetail
    assert (detail.ItemRef.value, detail.ItemRef.name, detail.TaxCodeRef.value) == ("1", "Services", "NON")
    assert (str(detail.Qty), str(detail.UnitPrice)) == ("3", "19.99")
    assert (created.CustomerRef.value, created.CustomerRef.name) == (buyer.Id, "Amy's Bird Sanctuary")
    assert created.CurrencyRef.value == "USD"
    assert created.TxnTaxDetail.TotalTax == 0
    # Preferences' default terms are Net 30; the sandbox company's custom field 1 is "Crew #".
    assert created.DueDate == (date.fromisoformat(created.TxnDate) + timedelta(days=30)).isoformat()
    assert [(field.DefinitionId, field.Name, field.Type) for field in created.CustomField] == [
        ("1", "Crew #", "StringType")
    ]
    assert created.LinkedTxn == []
    assert created.MetaData.CreateTime == created.MetaData.LastUpdatedTime
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("90.22")
    second = invoice(qb, buyer, sales_line("10.00"))
    assert second.DocNumber == "1002"
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("100.22")


def test_invoice_tax_and_discount_to_the_cent(qb):
    widget = Item()
    widget.Name, widget.Type, widget.Taxable = "Widget", "NonInventory", True
    widget.UnitPrice = Decimal("10.00")
    widget.IncomeAccountRef = ref("79")
    widget = widget.save(qb=qb)
    buyer = customer(qb, "Taxed Buyer", Taxable=True)
    created = Invoice()
    created.CustomerRef = buyer.to_ref()
    discount = DiscountLine()
    discount.DiscountLineDetail = DiscountLineDetail()
    discount.DiscountLineDetail.PercentBased = True
    discount.DiscountLineDetail.DiscountPercent = Decimal("10")
    created.Line = [
        sales_line("30.00", qty="3", price="10.00", item=widget.Id),
        sales_line("45.50"),
        discount,
    ]
    created.TxnTaxDetail = TxnTaxDetail()
    created.TxnTaxDetail.TxnTaxCodeRef = ref("1")
    created = created.save(qb=qb)
    assert [line.SalesItemLineDetail.TaxCodeRef.value for line in created.Line[:2]] == ["TAX", "NON"]
    assert [(line.DetailType, str(line.Amount)) for line in created.Line] == [
        ("SalesItemLineDetail", "30.00"),
        ("SalesItemLineDetail", "45.50"),
        ("SubTotalLineDetail", "75.50"),
        ("DiscountLineDetail", "7.55"),
    ]
    assert str(created.TxnTaxDetail.TotalTax) == "2.40"
    tax_line = created.TxnTaxDetail.TaxLine[0]
    assert str(tax_line.Amount) == "2.40"
    assert str(tax_line.TaxLineDetail.NetAmountTaxable) == "30.00"
    assert created.TxnTaxDetail.TaxLine[0].TaxLineDetail.TaxRateRef.value == "1"
    assert str(created.TotalAmt) == "70.35"
    assert str(created.Balance) == "70.35"


def test_payments_reduce_invoice_balance_link_both_ways_and_void_restores(qb):
    buyer = customer(qb, "Bill's Windsurf Shop")
    bought = invoice(qb, buyer, sales_line("59.97", qty="3", price="19.99"), sales_line("30.25"))
    first = payment(qb, buyer, "40.00", ("40.00", "Invoice", bought.Id))
    assert str(first.UnappliedAmt) == "0"
    paid = Invoice.get(bought.Id, qb=qb)
    assert str(paid.Balance) == "50.22"
    assert str(paid.TotalAmt) == "90.22"
    assert paid.SyncToken == "1"
    assert [(link.TxnId, link.TxnType) for link in paid.LinkedTxn] == [(first.Id, "Payment")]
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("50.22")

    second = payment(qb, buyer, "60.00", ("50.22", "Invoice", bought.Id))
    assert str(second.UnappliedAmt) == "9.78"
    settled = Invoice.get(bought.Id, qb=qb)
    assert settled.Balance == 0
    assert [link.TxnId for link in settled.LinkedTxn] == [first.Id, second.Id]
    # What the customer paid but nothing it was applied to is a credit on its balance.
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("-9.78")

    second.void(qb=qb)
    voided = Payment.get(second.Id, qb=qb)
    assert (voided.TotalAmt, voided.UnappliedAmt, voided.PrivateNote) == (0, 0, "Voided")
    assert voided.SyncToken == "1"
    reopened = Invoice.get(bought.Id, qb=qb)
    assert str(reopened.Balance) == "50.22"
    assert [link.TxnId for link in reopened.LinkedTxn] == [first.Id]
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("50.22")

    first.delete(qb=qb)
    assert str(Invoice.get(bought.Id, qb=qb).Balance) == "90.22"
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("90.22")


def test_full_update_keeps_what_was_paid_and_increments_sync_token(qb):
    buyer = customer(qb, "Cool Cars")
    bought = invoice(qb, buyer, sales_line("100.00"))
    payment(qb, buyer, "30.00", ("30.00", "Invoice", bought.Id))
    current = Invoice.get(bought.Id, qb=qb)
    current.Line[0].Amount = Decimal("120.00")
    current.PrivateNote = "Raised"
    updated = current.save(qb=qb)
    assert updated.SyncToken == "2"
    assert (str(updated.TotalAmt), str(updated.Balance)) == ("120.00", "90.00")
    assert updated.PrivateNote == "Raised"
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("90.00")
    # A total below what was already applied is refused.
    current = Invoice.get(bought.Id, qb=qb)
    current.Line[0].Amount = Decimal("20.00")
    with pytest.raises(QuickbooksException) as refused:
        current.save(qb=qb)
    assert refused.value.error_code == 6000


def test_sparse_update_changes_only_what_is_sent(qb):
    buyer = customer(qb, "Diego Rodriguez")
    bought = invoice(qb, buyer, sales_line("75.00"))
    answer = raw_post(
        qb, "invoice", {"Id": bought.Id, "SyncToken": "0", "sparse": True, "PrivateNote": "Rush"}
    )
    body = answer["Invoice"]
    assert body["SyncToken"] == "1"
    assert body["PrivateNote"] == "Rush"
    assert body["TotalAmt"] == 75.0
    assert body["DocNumber"] == bought.DocNumber
    assert [line["Amount"] for line in body["Line"]] == [75.0, 75.0]
    # The same request again changes nothing: QBO keeps the SyncToken and LastUpdatedTime.
    again = raw_post(
        qb, "invoice", {"Id": bought.Id, "SyncToken": "1", "sparse": True, "PrivateNote": "Rush"}
    )
    assert again["Invoice"]["SyncToken"] == "1"
    assert again["Invoice"]["MetaData"] == body["MetaData"]


def test_invoice_void_zeroes_amounts_and_delete_leaves_a_tombstone(qb):
    buyer = customer(qb, "Dukes Basketball Camp")
    voidable = invoice(qb, buyer, sales_line("100.00"))
    deletable = invoice(qb, buyer, sales_line("40.00"))
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("140.00")

    answer = voidable.void(qb=qb)
    voided = answer["Invoice"]
    assert voided["SyncToken"] == "1"
    assert voided["PrivateNote"] == "Voided"
    assert (voided["TotalAmt"], voided["Balance"]) == (0, 0)
    assert [line["Amount"] for line in voided["Line"]] == [0, 0]
    assert voided["TxnTaxDetail"]["TotalTax"] == 0
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("40.00")

    answer = deletable.delete(qb=qb)
    assert answer["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": deletable.Id}
    assert set(answer) == {"Invoice", "time"}
    assert Customer.get(buyer.Id, qb=qb).Balance == 0
    with pytest.raises(ObjectNotFoundException) as gone:
        Invoice.get(deletable.Id, qb=qb)
    assert gone.value.error_code == 610
    with pytest.raises(ObjectNotFoundException):
        deletable.delete(qb=qb)


def test_paid_invoice_cannot_be_voided_or_deleted(qb):
    buyer = customer(qb, "Freeman Sporting Goods")
    bought = invoice(qb, buyer, sales_line("10.00"))
    payment(qb, buyer, "10.00", ("10.00", "Invoice", bought.Id))
    current = Invoice.get(bought.Id, qb=qb)
    for operation in (current.void, current.delete):
        with pytest.raises(QuickbooksException) as refused:
            operation(qb=qb)
        assert refused.value.error_code == 6000


def test_credit_memo_balance_and_use_in_a_payment(qb):
    buyer = customer(qb, "Geeta Kalapatapu")
    bought = invoice(qb, buyer, sales_line("100.00"))
    credit = CreditMemo()
    credit.CustomerRef = buyer.to_ref()
    credit.Line = [sales_line("25.00")]
    credit = credit.save(qb=qb)
    assert (str(credit.TotalAmt), str(credit.Balance), str(credit.RemainingCredit)) == (
        "25.00",
        "25.00",
        "25.00",
    )
    assert credit.DocNumber == "1001"
    assert Customer.get(buyer.Id, qb=qb).Balance == Decimal("75.00")
    received = payment(
        qb, buyer, "75.00", ("100.00", "Invoice", bought.Id), ("25.00", "CreditMemo", credit.Id)
    )
    assert received.UnappliedAmt == 0
    assert Invoice.get(bought.Id, qb=qb).Balance == 0
    used = CreditMemo.get(credit.Id, qb=qb)
    assert (used.Balance, used.RemainingCredit) == (0, 0)
    assert Customer.get(buyer.Id, qb=qb).Balance == 0


def test_bill_bill_payment_and_vendor_credit(qb):
    supplier = vendor(qb, "Norton Lumber and Building Materials")
    bill = Bill()
    bill.VendorRef = supplier.to_ref()
    expense = AccountBasedExpenseLine()
    expense.Amount = Decimal("103.55")
    expense.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    expense.AccountBasedExpenseLineDetail.AccountRef = ref("7")
    goods = ItemBasedExpenseLine()
    goods.Amount = Decimal("50.00")
    goods.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    goods.ItemBasedExpenseLineDetail.ItemRef = ref("1")
    goods.ItemBasedExpenseLineDetail.Qty = Decimal("4")
    goods.ItemBasedExpenseLineDetail.UnitPrice = Decimal("12.5")
    bill.Line = [expense, goods]
    bill = bill.save(qb=qb)
    assert (str(bill.TotalAmt), str(bill.Balance)) == ("153.55", "153.55")
    assert (bill.APAccountRef.value, bill.APAccountRef.name) == ("33", "Accounts Payable (A/P)")
    assert bill.Line[0].AccountBasedExpenseLineDetail.AccountRef.name == "Advertising"
    assert bill.DueDate == bill.TxnDate
    assert Vendor.get(supplier.Id, qb=qb).Balance == Decimal("153.55")

    paid = BillPayment()
    paid.VendorRef = supplier.to_ref()
    paid.PayType = "Check"
    paid.TotalAmt = Decimal("100.00")
    paid.CheckPayment = CheckPayment()
    paid.CheckPayment.BankAccountRef = ref("35")
    line = BillPaymentLine()
    line.Amount = Decimal("100.00")
    link = LinkedTxn()
    link.TxnId, link.TxnType = bill.Id, "Bill"
    line.LinkedTxn = [link]
    paid.Line = [line]
    paid = paid.save(qb=qb)
    assert paid.CheckPayment.BankAccountRef.name == "Checking"
    reduced = Bill.get(bill.Id, qb=qb)
    assert str(reduced.Balance) == "53.55"
    assert [(link.TxnId, link.TxnType) for link in reduced.LinkedTxn] == [(paid.Id, "BillPaymentCheck")]
    assert Vendor.get(supplier.Id, qb=qb).Balance == Decimal("53.55")

    credit = VendorCredit()
    credit.VendorRef = supplier.to_ref()
    refund = AccountBasedExpenseLine()
    refund.Amount = Decimal("20.00")
    refund.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    refund.AccountBasedExpenseLineDetail.AccountRef = ref("7")
    credit.Line = [refund]
    credit = credit.save(qb=qb)
    assert str(credit.TotalAmt) == "20.00"
    assert Vendor.get(supplier.Id, qb=qb).Balance == Decimal("33.55")

    paid.void(qb=qb)
    assert str(Bill.get(bill.Id, qb=qb).Balance) == "153.55"
    assert Vendor.get(supplier.Id, qb=qb).Balance == Decimal("133.55")


def test_journal_entry_must_balance(qb):
    entry = JournalEntry()
    for posting, account in (("Debit", "7"), ("Credit", "35")):
        line = JournalEntryLine()
        line.Amount = Decimal("250.75")
        line.JournalEntryLineDetail = JournalEntryLineDetail()
        line.JournalEntryLineDetail.PostingType = posting
        line.JournalEntryLineDetail.AccountRef = ref(account)
        entry.Line.append(line)
    created = entry.save(qb=qb)
    assert str(created.TotalAmt) == "250.75"
    assert [line.JournalEntryLineDetail.AccountRef.name for line in created.Line] == [
        "Advertising",
        "Checking",
    ]
    assert [line.Id for line in created.Line] == ["1", "2"]
    created.Line[1].Amount = Decimal("250.70")
    with pytest.raises(QuickbooksException) as unbalanced:
        created.save(qb=qb)
    assert unbalanced.value.error_code == 6000
    assert "250.75" in unbalanced.value.detail
    assert "250.70" in unbalanced.value.detail
    created.delete(qb=qb)
    with pytest.raises(ObjectNotFoundException):
        JournalEntry.get(created.Id, qb=qb)


def test_purchase_order_and_sales_receipt(qb):
    supplier = vendor(qb, "Hicks Hardware")
    order = PurchaseOrder()
    order.VendorRef = supplier.to_ref()
    line = ItemBasedExpenseLine()
    line.Amount = Decimal("33.50")
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = ref("1")
    line.ItemBasedExpenseLineDetail.Qty = Decimal("10")
    line.ItemBasedExpenseLineDetail.UnitPrice = Decimal("3.35")
    order.Line = [line]
    order = order.save(qb=qb)
    assert (str(order.TotalAmt), order.POStatus, order.DocNumber) == ("33.50", "Open", "1001")
    # A purchase order is not owed: the vendor's balance does not move.
    assert Vendor.get(supplier.Id, qb=qb).Balance == 0

    receipt = SalesReceipt()
    receipt.Line = [sales_line("20.00")]
    receipt = receipt.save(qb=qb)
    assert (str(receipt.TotalAmt), receipt.Balance) == ("20.00", 0)
    assert receipt.DepositToAccountRef.name == "Undeposited Funds"
    answer = receipt.void(qb=qb)
    assert (answer["SalesReceipt"]["TotalAmt"], answer["SalesReceipt"]["PrivateNote"]) == (0, "Voided")


def _goods(qty: str, price: str, *, item: str = "1") -> ItemBasedExpenseLine:
    line = ItemBasedExpenseLine()
    line.Amount = Decimal(qty) * Decimal(price)
    line.ItemBasedExpenseLineDetail = ItemBasedExpenseLineDetail()
    line.ItemBasedExpenseLineDetail.ItemRef = ref(item)
    line.ItemBasedExpenseLineDetail.Qty = Decimal(qty)
    line.ItemBasedExpenseLineDetail.UnitPrice = Decimal(price)
    return line


def _copied(order: PurchaseOrder, *positions: int) -> list[ItemBasedExpenseLine]:
    """Bill lines copying these lines of the order, each linked to its line as QBO needs."""
    lines = []
    for position in positions:
        source = order.Line[position]
        detail = source.ItemBasedExpenseLineDetail
        line = _goods(str(detail.Qty), str(detail.UnitPrice), item=detail.ItemRef.value)
        link = LinkedTxn()
        link.TxnId, link.TxnType, link.TxnLineId = order.Id, "PurchaseOrder", source.Id
        line.LinkedTxn = [link]
        lines.append(line)
    return lines


def test_a_bill_made_from_a_purchase_order_links_both_ways_and_closes_it(qb):
    supplier = vendor(qb, "Jeff's Jalopies")
    order = PurchaseOrder()
    order.VendorRef = supplier.to_ref()
    order.Line = [_goods("10", "3.35"), _goods("2", "12.00")]
    order = order.save(qb=qb)

    # Part of the order: both documents list each other, the order stays open.
    first = Bill()
    first.VendorRef = supplier.to_ref()
    first.Line = _copied(order, 0)
    first = first.save(qb=qb)
    assert [(link.TxnId, link.TxnType) for link in first.LinkedTxn] == [(order.Id, "PurchaseOrder")]
    assert [(link.TxnId, link.TxnType, link.TxnLineId) for link in first.Line[0].LinkedTxn] == [
        (order.Id, "PurchaseOrder", order.Line[0].Id)
    ]
    partly = PurchaseOrder.get(order.Id, qb=qb)
    assert (partly.POStatus, partly.SyncToken) == ("Open", "1")
    assert [(link.TxnId, link.TxnType) for link in partly.LinkedTxn] == [(first.Id, "Bill")]
    # Another vendor's bill cannot copy the order.
    foreign = Bill()
    foreign.VendorRef = vendor(qb, "Cool Cars").to_ref()
    foreign.Line = _copied(order, 1)
    foreign = foreign.save(qb=qb)
    assert (foreign.LinkedTxn, foreign.Line[0].LinkedTxn) == ([], [])

    # The rest of it: the order is fully billed, so closed. A header link alone (what clients often send)
    # and a link to a line the order does not have link nothing; the bill is saved all the same.
    second = Bill()
    second.VendorRef = supplier.to_ref()
    second.Line = _copied(order, 1)
    stray = _goods("1", "5.00")
    wrong = LinkedTxn()
    wrong.TxnId, wrong.TxnType, wrong.TxnLineId = order.Id, "PurchaseOrder", "99"
    stray.LinkedTxn = [wrong]
    second.Line.append(stray)
    second.LinkedTxn = [LinkedTxn()]
    second.LinkedTxn[0].TxnId, second.LinkedTxn[0].TxnType = order.Id, "PurchaseOrder"
    second = second.save(qb=qb)
    assert [(link.TxnId, link.TxnType) for link in second.LinkedTxn] == [(order.Id, "PurchaseOrder")]
    assert second.Line[1].LinkedTxn == []
    closed = PurchaseOrder.get(order.Id, qb=qb)
    assert closed.POStatus == "Closed"
    assert [(link.TxnId, link.TxnType) for link in closed.LinkedTxn] == [
        (first.Id, "Bill"),
        (second.Id, "Bill"),
    ]
    # Editing a bill keeps its links (though the order is closed by now) and leaves the order alone.
    first.PrivateNote = "Checked against the delivery note"
    first = first.save(qb=qb)
    assert [(link.TxnId, link.TxnType) for link in first.LinkedTxn] == [(order.Id, "PurchaseOrder")]
    assert PurchaseOrder.get(order.Id, qb=qb).SyncToken == closed.SyncToken

    # A closed order takes no new bills; deleting a bill that closed it opens it again.
    late = Bill()
    late.VendorRef = supplier.to_ref()
    late.Line = _copied(closed, 0)
    late = late.save(qb=qb)
    assert late.LinkedTxn == []
    second.delete(qb=qb)
    reopened = PurchaseOrder.get(order.Id, qb=qb)
    assert reopened.POStatus == "Open"
    assert [(link.TxnId, link.TxnType) for link in reopened.LinkedTxn] == [(first.Id, "Bill")]

    # Paying the bill keeps its link to the order, after which QBO lists the payment.
    paid = BillPayment()
    paid.VendorRef = supplier.to_ref()
    paid.PayType = "Check"
    paid.TotalAmt = first.TotalAmt
    paid.CheckPayment = CheckPayment()
    paid.CheckPayment.BankAccountRef = ref("35")
    line = BillPaymentLine()
    line.Amount = first.TotalAmt
    link = LinkedTxn()
    link.TxnId, link.TxnType = first.Id, "Bill"
    line.LinkedTxn = [link]
    paid.Line = [line]
    paid = paid.save(qb=qb)
    assert [(link.TxnId, link.TxnType) for link in Bill.get(first.Id, qb=qb).LinkedTxn] == [
        (order.Id, "PurchaseOrder"),
        (paid.Id, "BillPaymentCheck"),
    ]


# --- every transaction type, from the declarations --------------------------------------------------------

ACCOUNT_LINE = {
    "Amount": "10.00",
    "DetailType": "AccountBasedExpenseLineDetail",
    "AccountBasedExpenseLineDetail": {"AccountRef": {"value": "7"}},
}
SALES_LINE = {
    "Amount": "10.00",
    "DetailType": "SalesItemLineDetail",
    "SalesItemLineDetail": {"ItemRef": {"value": "1"}},
}
# A minimal valid body of each transaction type ("C" and "V" stand for the test's customer and vendor).
TRANSACTIONS = {
    "Invoice": {"CustomerRef": "C", "Line": [SALES_LINE]},
    "CreditMemo": {"CustomerRef": "C", "Line": [SALES_LINE]},
    "SalesReceipt": {"CustomerRef": "C", "Line": [SALES_LINE]},
    "Estimate": {"CustomerRef": "C", "Line": [SALES_LINE]},
    "Payment": {"CustomerRef": "C", "TotalAmt": "10.00"},
    "Bill": {"VendorRef": "V", "Line": [ACCOUNT_LINE]},
    "VendorCredit": {"VendorRef": "V", "Line": [ACCOUNT_LINE]},
    "PurchaseOrder": {
        "VendorRef": "V",
        "Line": [
            {
                "Amount": "10.00",
                "DetailType": "ItemBasedExpenseLineDetail",
                "ItemBasedExpenseLineDetail": {"ItemRef": {"value": "1"}, "Qty": 4, "UnitPrice": "2.50"},
            }
        ],
    },
    "BillPayment": {
        "VendorRef": "V",
        "PayType": "Check",
        "CheckPayment": {"BankAccountRef": {"value": "35"}},
        "TotalAmt": "10.00",
    },
    "JournalEntry": {
        "Line": [
            {
                "Amount": "10.00",
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": {"value": account}},
            }
            for posting, account in (("Debit", "7"), ("Credit", "35"))
        ]
    },
    "Deposit": {
        "DepositToAccountRef": {"value": "35"},
        "Line": [
            {
                "Amount": "10.00",
                "DetailType": "DepositLineDetail",
                "DepositLineDetail": {"AccountRef": {"value": "1"}},
            }
        ],
    },
}


def test_every_declared_transaction_is_exercised():
    assert {name for name, etype in ENTITIES.items() if etype.kind == TRANSACTION} == set(TRANSACTIONS)


@pytest.mark.parametrize("entity", sorted(TRANSACTIONS))
def test_transaction_lifecycle(entity, qb):
    cls = getattr(importlib.import_module(f"quickbooks.objects.{entity.lower()}"), entity)
    parties = {"C": customer(qb, "Lifecycle Customer").to_ref(), "V": vendor(qb, "Lifecycle Vendor").to_ref()}
    payload = json.loads(json.dumps(TRANSACTIONS[entity]))
    for key in ("CustomerRef", "VendorRef"):
        if key in payload:
            payload[key] = {"value": parties[payload[key]].value}
    created = cls.from_json(payload).save(qb=qb)
    assert (created.SyncToken, str(created.TotalAmt)) == ("0", "10.00")
    assert cls.get(created.Id, qb=qb).to_json() == created.to_json()

    sparse = raw_post(
        qb, entity.lower(), {"Id": created.Id, "SyncToken": "0", "sparse": True, "PrivateNote": "Checked"}
    )
    assert (sparse[entity]["SyncToken"], sparse[entity]["PrivateNote"]) == ("1", "Checked")
    assert sparse[entity]["TotalAmt"] == Decimal("10.00")

    current = cls.get(created.Id, qb=qb)
    current.PrivateNote = "Full update"
    updated = current.save(qb=qb)
    assert (updated.SyncToken, updated.PrivateNote, str(updated.TotalAmt)) == ("2", "Full update", "10.00")
    with pytest.raises(QuickbooksException) as stale:
        current.save(qb=qb)
    assert stale.value.error_code == 5010

    answer = updated.delete(qb=qb)
    assert answer[entity] == {"domain": "QBO", "status": "Deleted", "Id": created.Id}
    with pytest.raises(ObjectNotFoundException):
        cls.get(created.Id, qb=qb)
    with pytest.raises(ObjectNotFoundException):
        updated.delete(qb=qb)
