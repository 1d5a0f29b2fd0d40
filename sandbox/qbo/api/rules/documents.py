"""Transactions: lines, totals, tax, dates and the defaults QBO fills from the customer, vendor and
Preferences; and what voiding does to a document.

Every amount is a Decimal quantized as Intuit writes it (`wire.money`); quantities and rates keep their
own precision (`wire.plain`)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sandbox.qbo.api import faults, wire
from sandbox.qbo.api.entity import Draft
from sandbox.qbo.api.rules import company

SALES_DETAILS = frozenset(
    {"SalesItemLineDetail", "DiscountLineDetail", "DescriptionOnly", "GroupLineDetail", "SubTotalLineDetail"}
)
EXPENSE_DETAILS = frozenset({"AccountBasedExpenseLineDetail", "ItemBasedExpenseLineDetail"})
PSEUDO_TAX_CODES = frozenset({"TAX", "NON"})


def _given_lines(draft: Draft) -> list[dict[str, Any]]:
    lines = draft.body.get("Line")
    if not isinstance(lines, list) or not any(isinstance(line, dict) for line in lines):
        raise faults.required_missing("Line")
    return [wire.clone(line) for line in lines if isinstance(line, dict)]


def _number_lines(lines: list[dict[str, Any]], *, line_numbers: bool) -> None:
    """Keep the Ids lines came with (an update), give new lines the next free ones."""
    used: set[str] = set()
    for line in lines:
        line_id = str(line.get("Id", ""))
        if line_id.isdigit() and line_id not in used:
            used.add(line_id)
            line["Id"] = line_id
        else:
            line.pop("Id", None)
    following = max((int(line_id) for line_id in used), default=0)
    for position, line in enumerate(lines, start=1):
        if "Id" not in line:
            following += 1
            line["Id"] = str(following)
        if line_numbers:
            line["LineNum"] = position
        else:
            line.pop("LineNum", None)
    for line in lines:
        _ordered_line(line)


def _ordered_line(line: dict[str, Any]) -> None:
    """Id, LineNum, Description, Amount, LinkedTxn, DetailType first, as Intuit writes lines."""
    order = ("Id", "LineNum", "Description", "Amount", "LinkedTxn", "DetailType")
    head = {key: line[key] for key in order if key in line}
    rest = {key: value for key, value in line.items() if key not in head}
    line.clear()
    line.update(head)
    line.update(rest)


def _detail(line: dict[str, Any], detail_type: str) -> dict[str, Any]:
    detail = line.get(detail_type)
    if not isinstance(detail, dict):
        detail = {}
    line[detail_type] = detail
    return detail


def _line_amount(draft: Draft, line: dict[str, Any], qty: Decimal | None, price: Decimal | None) -> Decimal:
    given = draft.amount(line, "Amount", element="Line.Amount")
    if qty is not None and price is not None:
        computed = wire.money(qty * price)
        if given is None:
            return computed
        # python-quickbooks sends Qty 0 and UnitPrice 0 for lines that only have an Amount.
        if qty and price and wire.money(given) != computed:
            raise faults.QboFault(
                "6070",
                "Amount is not equal to UnitPrice * Qty",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{wire.money(given)}",
            )
    if given is None:
        raise faults.required_missing("Line.Amount")
    return given


def _quantities(draft: Draft, detail: dict[str, Any]) -> tuple[Decimal | None, Decimal | None]:
    qty = draft.amount(detail, "Qty")
    price = draft.amount(detail, "UnitPrice")
    if qty is not None:
        detail["Qty"] = wire.plain(qty)
    if price is not None:
        detail["UnitPrice"] = wire.plain(price)
    return qty, price


# --- sales forms -----------------------------------------------------------------------------------------


def sales_document(draft: Draft) -> None:
    """Invoice, CreditMemo, SalesReceipt, Estimate: the customer's defaults, custom fields, lines and tax."""
    body = draft.body
    # A sales receipt may be for no customer at all.
    customer = (
        draft.lookup("Customer", body["CustomerRef"], element="CustomerRef")
        if body.get("CustomerRef")
        else {}
    )
    prefs = draft.ws.get("Preferences", "1")
    body.setdefault("TxnDate", draft.today.isoformat())
    _check_day(body, "TxnDate")
    body.setdefault("CurrencyRef", customer.get("CurrencyRef") or company.currency_ref(draft.ws.tenant))
    for address in ("BillAddr", "ShipAddr"):
        if address not in body and isinstance(customer.get(address), dict):
            body[address] = wire.clone(customer[address])
    _custom_fields(draft, company.sales_custom_fields(prefs))
    if draft.creating:
        body.setdefault(
            "PrintStatus", "NeedToPrint" if customer.get("PreferredDeliveryMethod") == "Print" else "NotSet"
        )
        body.setdefault(
            "EmailStatus", "NeedToSend" if customer.get("PreferredDeliveryMethod") == "Email" else "NotSet"
        )
    _sales_lines(draft, customer, prefs)


def _sales_lines(draft: Draft, customer: dict[str, Any], prefs: dict[str, Any] | None) -> None:
    body = draft.body
    lines = [line for line in _given_lines(draft) if line.get("DetailType") != "SubTotalLineDetail"]
    if not lines:
        raise faults.required_missing("Line")
    subtotal = wire.ZERO
    taxable = wire.ZERO
    discounts: list[dict[str, Any]] = []
    for line in lines:
        detail_type = line.get("DetailType")
        if not detail_type:
            raise faults.required_missing("Line.DetailType")
        if detail_type not in SALES_DETAILS:
            raise faults.invalid_enumeration("Line.DetailType", str(detail_type))
        if detail_type == "SalesItemLineDetail":
            amount, is_taxable = _sales_item_line(draft, line, customer, prefs)
            subtotal += amount
            taxable += amount if is_taxable else wire.ZERO
        elif detail_type == "GroupLineDetail":
            amount = draft.amount(line, "Amount", element="Line.Amount") or wire.ZERO
            line["Amount"] = wire.money(amount)
            subtotal += amount
        elif detail_type == "DiscountLineDetail":
            discounts.append(line)
        elif "Amount" in line:
            line["Amount"] = wire.money(draft.amount(line, "Amount", element="Line.Amount") or wire.ZERO)
    discount_total = wire.ZERO
    for line in discounts:
        detail = _detail(line, "DiscountLineDetail")
        if detail.get("PercentBased") is True:
            percent = draft.amount(detail, "DiscountPercent") or wire.ZERO
            detail["DiscountPercent"] = wire.plain(percent)
            amount = wire.money(subtotal * percent / 100)
        else:
            given = draft.amount(line, "Amount", element="Line.Amount")
            if given is None:
                raise faults.required_missing("Line.Amount")
            amount = given
            detail["PercentBased"] = False
        line["Amount"] = wire.money(amount)
        discount_total += wire.money(amount)
    _number_lines(lines, line_numbers=True)
    subtotal_line = {
        "Amount": wire.money(subtotal),
        "DetailType": "SubTotalLineDetail",
        "SubTotalLineDetail": {},
    }
    # The subtotal line sits between the item lines and the first discount, as QBO lays invoices out.
    discount_ids = {id(line) for line in discounts}
    position = next((index for index, line in enumerate(lines) if id(line) in discount_ids), len(lines))
    lines.insert(position, subtotal_line)
    body["Line"] = lines
    if discounts and subtotal:
        # With ApplyTaxAfterDiscount the discount shrinks the taxable amount in proportion; without it
        # (QBO's US default) tax is on the undiscounted lines.
        share = (subtotal - discount_total) / subtotal if body.get("ApplyTaxAfterDiscount") else Decimal(1)
        taxable = taxable * share
    tax = _sales_tax(draft, taxable)
    body["TotalAmt"] = wire.money(subtotal - discount_total + tax)


def _sales_item_line(
    draft: Draft, line: dict[str, Any], customer: dict[str, Any], prefs: dict[str, Any] | None
) -> tuple[Decimal, bool]:
    detail = _detail(line, "SalesItemLineDetail")
    ref = detail.get("ItemRef")
    if not isinstance(ref, dict) or not ref.get("value"):
        default_item = company.default_item_id(prefs)
        if default_item is None:
            raise faults.required_missing("Line.SalesItemLineDetail.ItemRef")
        ref = detail["ItemRef"] = {"value": default_item}
    item = draft.lookup("Item", ref, element="ItemRef")
    qty, price = _quantities(draft, detail)
    amount = _line_amount(draft, line, qty, price)
    line["Amount"] = wire.money(amount)
    tax_code = detail.get("TaxCodeRef")
    if not isinstance(tax_code, dict) or not tax_code.get("value"):
        taxed = item.get("Taxable") is True and customer.get("Taxable") is not False
        detail["TaxCodeRef"] = {"value": "TAX" if taxed else "NON"}
    return wire.money(amount), detail["TaxCodeRef"]["value"] != "NON"


def _sales_tax(draft: Draft, taxable: Decimal) -> Decimal:
    """TxnTaxDetail: computed from the transaction's tax code and its rates, else the TotalTax given."""
    body = draft.body
    held = body.get("TxnTaxDetail")
    given: dict[str, Any] = held if isinstance(held, dict) else {}
    code_ref = given.get("TxnTaxCodeRef")
    if isinstance(code_ref, dict) and code_ref.get("value"):
        code = draft.lookup("TaxCode", code_ref, element="TxnTaxCodeRef")
        tax_lines: list[dict[str, Any]] = []
        total = wire.ZERO
        rates = ((code.get("SalesTaxRateList") or {}).get("TaxRateDetail")) or []
        for rate_detail in rates:
            rate_ref = rate_detail.get("TaxRateRef") or {}
            rate = draft.lookup("TaxRate", rate_ref, element="TaxRateRef")
            percent = wire.to_decimal(rate.get("RateValue")) or wire.ZERO
            amount = wire.money(taxable * percent / 100)
            total += amount
            tax_lines.append(
                {
                    "Amount": amount,
                    "DetailType": "TaxLineDetail",
                    "TaxLineDetail": {
                        "TaxRateRef": {"value": str(rate_ref.get("value"))},
                        "PercentBased": True,
                        "TaxPercent": wire.plain(percent),
                        "NetAmountTaxable": wire.money(taxable),
                    },
                }
            )
        body["TxnTaxDetail"] = {
            "TxnTaxCodeRef": {"value": str(code_ref["value"])},
            "TotalTax": wire.money(total),
            "TaxLine": tax_lines,
        }
        return total
    total = wire.money(draft.amount(given, "TotalTax", element="TxnTaxDetail.TotalTax") or wire.ZERO)
    body["TxnTaxDetail"] = {"TotalTax": total}
    return total


def _custom_fields(draft: Draft, slots: list[tuple[str, str]]) -> None:
    """Legacy custom fields: every enabled slot is listed (Name and Type), with the value if one was set."""
    body = draft.body
    given: dict[str, dict[str, Any]] = {}
    for field in body.get("CustomField") or []:
        if isinstance(field, dict) and field.get("DefinitionId") is not None:
            given[str(field["DefinitionId"])] = field
    fields: list[dict[str, Any]] = []
    for slot, name in slots:
        field = {"DefinitionId": slot, "Name": name, "Type": "StringType"}
        value = given.get(slot, {}).get("StringValue")
        if value not in (None, ""):
            field["StringValue"] = str(value)
        fields.append(field)
    if fields:
        body["CustomField"] = fields
    else:
        body.pop("CustomField", None)


def invoice(draft: Draft) -> None:
    body = draft.body
    customer = draft.lookup("Customer", body.get("CustomerRef"), element="CustomerRef")
    if "DueDate" not in body:
        body["DueDate"] = _due_date(
            draft, body.get("SalesTermRef") or customer.get("SalesTermRef")
        ).isoformat()
    _check_day(body, "DueDate")
    if draft.creating:
        for flag in (
            "AllowIPNPayment",
            "AllowOnlinePayment",
            "AllowOnlineCreditCardPayment",
            "AllowOnlineACHPayment",
        ):
            body.setdefault(flag, False)
        body.setdefault("ApplyTaxAfterDiscount", False)


def sales_receipt(draft: Draft) -> None:
    body = draft.body
    body["Balance"] = wire.ZERO
    if not body.get("DepositToAccountRef"):
        body["DepositToAccountRef"] = {"value": company.UNDEPOSITED_FUNDS}


def estimate(draft: Draft) -> None:
    draft.body.setdefault("TxnStatus", "Pending")


def _due_date(draft: Draft, term_ref: Any) -> date:
    txn_date = wire.parse_day(draft.body.get("TxnDate")) or draft.today
    if not isinstance(term_ref, dict) or not term_ref.get("value"):
        term_id = company.default_terms_id(draft.ws.get("Preferences", "1"))
        term_ref = {"value": term_id} if term_id else None
    if term_ref is None:
        return txn_date
    term = draft.ws.get("Term", str(term_ref["value"]))
    if term is None:
        return txn_date
    day_of_month = wire.to_decimal(term.get("DayOfMonthDue"))
    if day_of_month is not None:
        year, month = (txn_date.year + 1, 1) if txn_date.month == 12 else (txn_date.year, txn_date.month + 1)
        return date(year, month, min(int(day_of_month), calendar.monthrange(year, month)[1]))
    days = wire.to_decimal(term.get("DueDays")) or wire.ZERO
    return txn_date + timedelta(days=int(days))


def _check_day(body: dict[str, Any], key: str) -> None:
    if key in body and wire.parse_day(body[key]) is None:
        raise faults.QboFault(
            "2040", "Invalid Date", f"Invalid date format for {key}. Supplied value:{body[key]}", element=key
        )


# --- purchase forms --------------------------------------------------------------------------------------


def purchase_document(draft: Draft) -> None:
    """Bill, VendorCredit, PurchaseOrder: the vendor's defaults and the expense lines."""
    body = draft.body
    vendor = draft.lookup("Vendor", body.get("VendorRef"), element="VendorRef")
    body.setdefault("TxnDate", draft.today.isoformat())
    _check_day(body, "TxnDate")
    body.setdefault("CurrencyRef", vendor.get("CurrencyRef") or company.currency_ref(draft.ws.tenant))
    if not body.get("APAccountRef"):
        payable = vendor.get("APAccountRef") or _first_account(draft, "Accounts Payable")
        if payable:
            body["APAccountRef"] = {"value": str(payable["value"] if "value" in payable else payable["Id"])}
    lines = _given_lines(draft)
    total = wire.ZERO
    for line in lines:
        detail_type = line.get("DetailType")
        if not detail_type:
            raise faults.required_missing("Line.DetailType")
        if detail_type not in EXPENSE_DETAILS:
            raise faults.invalid_enumeration("Line.DetailType", str(detail_type))
        detail = _detail(line, detail_type)
        if detail_type == "AccountBasedExpenseLineDetail":
            if not detail.get("AccountRef"):
                raise faults.required_missing("Line.AccountBasedExpenseLineDetail.AccountRef")
            amount = draft.amount(line, "Amount", element="Line.Amount")
            if amount is None:
                raise faults.required_missing("Line.Amount")
        else:
            if not detail.get("ItemRef"):
                raise faults.required_missing("Line.ItemBasedExpenseLineDetail.ItemRef")
            qty, price = _quantities(draft, detail)
            amount = _line_amount(draft, line, qty, price)
        detail.setdefault("BillableStatus", "NotBillable")
        line["Amount"] = wire.money(amount)
        total += wire.money(amount)
    _number_lines(lines, line_numbers=False)
    body["Line"] = lines
    body["TotalAmt"] = wire.money(total)


def bill(draft: Draft) -> None:
    body = draft.body
    vendor = draft.lookup("Vendor", body.get("VendorRef"), element="VendorRef")
    if "DueDate" not in body:
        term_ref = body.get("SalesTermRef") or vendor.get("TermRef")
        if isinstance(term_ref, dict) and term_ref.get("value"):
            body["DueDate"] = _due_date(draft, term_ref).isoformat()
        else:
            body["DueDate"] = body["TxnDate"]
    _check_day(body, "DueDate")


def purchase_order(draft: Draft) -> None:
    body = draft.body
    body.setdefault("POStatus", "Open")
    if body["POStatus"] not in {"Open", "Closed"}:
        raise faults.invalid_enumeration("POStatus", str(body["POStatus"]))
    _custom_fields(draft, company.purchase_custom_fields(draft.ws.get("Preferences", "1")))


def _first_account(draft: Draft, account_type: str) -> dict[str, Any] | None:
    return draft.ws.first("Account", lambda account: account.get("AccountType") == account_type)


# --- journal entries and deposits ------------------------------------------------------------------------

ENTITY_TYPES = {"Customer": "Customer", "Vendor": "Vendor", "Employee": "Employee"}


def journal_entry(draft: Draft) -> None:
    """Every line posts a debit or a credit to an account; the two sides must balance."""
    body = draft.body
    body.setdefault("TxnDate", draft.today.isoformat())
    _check_day(body, "TxnDate")
    body.setdefault("CurrencyRef", company.currency_ref(draft.ws.tenant))
    body.setdefault("Adjustment", False)
    lines = _given_lines(draft)
    sides = {"Debit": wire.ZERO, "Credit": wire.ZERO}
    for line in lines:
        if line.get("DetailType") != "JournalEntryLineDetail":
            if line.get("DetailType") in (None, ""):
                raise faults.required_missing("Line.DetailType")
            raise faults.invalid_enumeration("Line.DetailType", str(line.get("DetailType")))
        detail = _detail(line, "JournalEntryLineDetail")
        posting = detail.get("PostingType")
        if posting not in sides:
            if posting in (None, ""):
                raise faults.required_missing("Line.JournalEntryLineDetail.PostingType")
            raise faults.invalid_enumeration("PostingType", str(posting))
        if not detail.get("AccountRef"):
            raise faults.required_missing("Line.JournalEntryLineDetail.AccountRef")
        entity = detail.get("Entity")
        if isinstance(entity, dict) and not entity:
            detail.pop("Entity")
        elif isinstance(entity, dict) and entity.get("Type") not in ENTITY_TYPES:
            raise faults.invalid_enumeration("Entity.Type", str(entity.get("Type")))
        amount = draft.amount(line, "Amount", element="Line.Amount")
        if amount is None:
            raise faults.required_missing("Line.Amount")
        line["Amount"] = wire.money(amount)
        sides[posting] += wire.money(amount)
    if sides["Debit"] != sides["Credit"]:
        raise faults.business_rule(
            "You must balance debits and credits. Debits: "
            f"{wire.money(sides['Debit'])}, credits: {wire.money(sides['Credit'])}."
        )
    _number_lines(lines, line_numbers=False)
    body["Line"] = lines
    body["TotalAmt"] = wire.money(sides["Debit"])


def journal_entity(holder: dict[str, Any]) -> str | None:
    """The type a journal line's Entity reference names (Customer, Vendor or Employee)."""
    return ENTITY_TYPES.get(str(holder.get("Type")))


def deposit(draft: Draft) -> None:
    body = draft.body
    if not body.get("DepositToAccountRef"):
        raise faults.required_missing("DepositToAccountRef")
    body.setdefault("TxnDate", draft.today.isoformat())
    _check_day(body, "TxnDate")
    body.setdefault("CurrencyRef", company.currency_ref(draft.ws.tenant))
    lines = _given_lines(draft)
    total = wire.ZERO
    for line in lines:
        amount = draft.amount(line, "Amount", element="Line.Amount")
        if amount is None:
            raise faults.required_missing("Line.Amount")
        line["Amount"] = wire.money(amount)
        total += wire.money(amount)
    _number_lines(lines, line_numbers=True)
    body["Line"] = lines
    body["TotalAmt"] = wire.money(total)


# --- voiding ---------------------------------------------------------------------------------------------


def void_document(draft: Draft) -> None:
    """What QBO does to a voided sales document: every amount zero, the note "Voided"."""
    body = draft.body
    for line in body.get("Line") or []:
        if isinstance(line, dict) and "Amount" in line:
            line["Amount"] = wire.ZERO
    tax = body.get("TxnTaxDetail")
    if isinstance(tax, dict):
        tax["TotalTax"] = wire.ZERO
        for tax_line in tax.get("TaxLine") or []:
            if isinstance(tax_line, dict):
                tax_line["Amount"] = wire.ZERO
    body["TotalAmt"] = wire.ZERO
    if "Balance" in body:
        body["Balance"] = wire.ZERO
    body["PrivateNote"] = "Voided"
