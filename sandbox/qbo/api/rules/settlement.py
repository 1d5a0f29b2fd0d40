"""Money that moves between documents: payments settling invoices and bills, open balances, and the
customer's and vendor's Balance.

- A Payment (BillPayment) line with `LinkedTxn [{TxnId, TxnType: "Invoice"}]` takes its Amount off that
  invoice's Balance; the invoice's LinkedTxn gets the payment back (`TxnType "Payment"`, or
  `"BillPaymentCheck"` / `"BillPaymentCreditCard"` on a bill) and a new SyncToken. Credit memos and
  vendor credits used in a payment count against it. What a payment does not apply is its UnappliedAmt.
- An open document's Balance is its TotalAmt less what payments applied to it; a change of lines keeps
  what was applied, and a total below it is refused.
- A customer's Balance is the sum of its open invoices, less its credit memos and unapplied payments;
  its BalanceWithJobs adds its sub-customers'; a vendor's Balance is its open bills less vendor credits.
  QBO updates these without a new SyncToken but with a new LastUpdatedTime (a recorded customer's
  LastUpdatedTime is its invoice's deletion time, its SyncToken still "0")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.qbo.api import faults, wire
from sandbox.qbo.api.entity import Draft, EntityType, Settlement, stamp_updated, touched
from sandbox.qbo.api.rules import company
from sandbox.qbo.api.workspace import Workspace, entity_type

Applications = dict[tuple[str, str], Decimal]


def applications(rule: Settlement, body: dict[str, Any] | None) -> Applications:
    """What a payment applies to each document it links, by (type, id)."""
    result: Applications = {}
    for line in (body or {}).get("Line") or []:
        links = line.get("LinkedTxn") if isinstance(line, dict) else None
        if not isinstance(links, list) or not links or not isinstance(links[0], dict):
            continue
        target = rule.targets.get(str(links[0].get("TxnType")))
        if target is None:
            continue
        key = (target, str(links[0].get("TxnId")))
        result[key] = result.get(key, wire.ZERO) + (wire.to_decimal(line.get("Amount")) or wire.ZERO)
    return result


def _net_applied(rule: Settlement, apps: Applications) -> Decimal:
    return sum(
        (-amount if entity in rule.credits else amount for (entity, _), amount in apps.items()), wire.ZERO
    )


# --- hooks -----------------------------------------------------------------------------------------------


def payment(draft: Draft) -> None:
    """Payment and BillPayment: the party, the total, the lines' links, and what stays unapplied."""
    etype, body = draft.etype, draft.body
    if etype.party is None or etype.settlement is None:
        raise TypeError(f"{etype.name} is declared with the payment hook but without a party and settlement")
    party_entity, party_ref = etype.party
    draft.lookup(party_entity, body.get(party_ref), element=party_ref)
    body.setdefault("TxnDate", draft.today.isoformat())
    if wire.parse_day(body["TxnDate"]) is None:
        raise faults.QboFault(
            "2040", "Invalid Date", f"Invalid date format for TxnDate. Supplied value:{body['TxnDate']}"
        )
    body.setdefault("CurrencyRef", company.currency_ref(draft.ws.tenant))
    total = draft.amount(body, "TotalAmt")
    if total is None:
        raise faults.required_missing("TotalAmt")
    if total < 0:
        raise faults.business_rule("The payment amount cannot be negative.")
    lines: list[dict[str, Any]] = []
    for given in body.get("Line") or []:
        if not isinstance(given, dict):
            continue
        line = wire.clone(given)
        amount = draft.amount(line, "Amount", element="Line.Amount")
        if amount is None:
            raise faults.required_missing("Line.Amount")
        links = line.get("LinkedTxn")
        if not isinstance(links, list) or not links or not isinstance(links[0], dict):
            raise faults.required_missing("Line.LinkedTxn")
        for link in links:
            if not link.get("TxnId"):
                raise faults.required_missing("Line.LinkedTxn.TxnId")
            if str(link.get("TxnType")) not in etype.settlement.targets:
                raise faults.invalid_enumeration("LinkedTxn.TxnType", str(link.get("TxnType")))
            link["TxnId"] = str(link["TxnId"])
        line["Amount"] = wire.money(amount)
        lines.append(line)
    body["Line"] = lines
    unapplied = total - _net_applied(etype.settlement, applications(etype.settlement, body))
    if unapplied < 0:
        raise faults.business_rule(
            f"The amounts applied ({wire.money(total - unapplied)}) are more than the payment total "
            f"({wire.money(total)})."
        )
    body["TotalAmt"] = wire.money(total)
    if "UnappliedAmt" in etype.properties:
        body["UnappliedAmt"] = wire.money(unapplied)


def customer_payment(draft: Draft) -> None:
    body = draft.body
    if not body.get("DepositToAccountRef"):
        body["DepositToAccountRef"] = {"value": company.UNDEPOSITED_FUNDS}
    body.setdefault("ProcessPayment", False)


PAY_TYPES = {"Check": ("CheckPayment", "BankAccountRef"), "CreditCard": ("CreditCardPayment", "CCAccountRef")}


def bill_payment(draft: Draft) -> None:
    body = draft.body
    pay_type = body.get("PayType")
    if not pay_type:
        raise faults.required_missing("PayType")
    if pay_type not in PAY_TYPES:
        raise faults.invalid_enumeration("PayType", str(pay_type))
    holder, account = PAY_TYPES[pay_type]
    details = body.get(holder)
    if not isinstance(details, dict) or not details.get(account):
        raise faults.required_missing(f"{holder}.{account}")
    for other, _ in PAY_TYPES.values():
        if other != holder:
            body.pop(other, None)
    if pay_type == "Check":
        details.setdefault("PrintStatus", "NeedToPrint")


def bill_payment_back_type(body: dict[str, Any]) -> str:
    return "BillPaymentCreditCard" if body.get("PayType") == "CreditCard" else "BillPaymentCheck"


def void_payment(draft: Draft) -> None:
    """A voided payment keeps its lines and links with every amount zero, so it applies nothing."""
    body = draft.body
    for line in body.get("Line") or []:
        if isinstance(line, dict) and "Amount" in line:
            line["Amount"] = wire.ZERO
    body["TotalAmt"] = wire.ZERO
    if "UnappliedAmt" in body:
        body["UnappliedAmt"] = wire.ZERO
    if "Balance" in body:
        body["Balance"] = wire.ZERO
    body["PrivateNote"] = "Voided"


# --- what the engine runs for every write ----------------------------------------------------------------


def applied_to(etype: EntityType, body: dict[str, Any]) -> Decimal:
    """How much payments have applied to an open document (its total less its balance)."""
    if not etype.open_balance:
        return wire.ZERO
    total = wire.to_decimal(body.get("TotalAmt")) or wire.ZERO
    balance = wire.to_decimal(body.get(etype.open_balance[0]))
    return wire.ZERO if balance is None else total - balance


def open_balance(draft: Draft) -> None:
    etype, body = draft.etype, draft.body
    if not etype.open_balance:
        return
    paid = applied_to(etype, draft.before) if draft.before is not None else wire.ZERO
    balance = (wire.to_decimal(body.get("TotalAmt")) or wire.ZERO) - paid
    if balance < 0:
        raise faults.business_rule(
            f"The {etype.name} total ({body.get('TotalAmt')}) is less than the {wire.money(paid)} already applied to it."
        )
    for key in etype.open_balance:
        body[key] = wire.money(balance)
    if "LinkedTxn" in etype.managed:
        body["LinkedTxn"] = wire.clone((draft.before or {}).get("LinkedTxn") or [])


def settle(
    ws: Workspace, etype: EntityType, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    """Move the balances of the documents a payment links, from what it applied before to what it applies
    now (a deleted or voided payment applies nothing)."""
    rule = etype.settlement
    if rule is None:
        return
    old, new = applications(rule, before), applications(rule, after)
    payment_body = after or before or {}
    payment_id = str(payment_body.get("Id"))
    party_ref = etype.party[1] if etype.party else None
    party = _ref_value(payment_body.get(party_ref)) if party_ref else None
    for key in sorted(set(old) | set(new)):
        delta = new.get(key, wire.ZERO) - old.get(key, wire.ZERO)
        keep_link = new.get(key, wire.ZERO) > 0
        found = ws.current(*key)
        if found is None or found[1]:
            if key not in new:
                continue  # a link to a document deleted since: nothing left to release
            raise faults.object_not_found("LinkedTxn")
        target = found[0]
        target_type = entity_type(key[0])
        target_party = _ref_value(target.get(target_type.party[1])) if target_type.party else party
        if key in new and party is not None and target_party != party:
            raise faults.business_rule(f"{key[0]} {key[1]} belongs to another party than this {etype.name}.")
        balance = wire.to_decimal(
            target.get(target_type.open_balance[0] if target_type.open_balance else "Balance")
        )
        balance = (balance or wire.ZERO) - delta
        if balance < 0:
            raise faults.business_rule(
                f"The amount applied to {key[0]} {key[1]} is more than its open balance."
            )
        links = [
            link
            for link in (target.get("LinkedTxn") or [])
            if not (
                str(link.get("TxnId")) == payment_id and link.get("TxnType") in target_type.back_link_types
            )
        ]
        if keep_link:
            links.append({"TxnId": payment_id, "TxnType": rule.back_type(payment_body)})
        if delta == 0 and links == (target.get("LinkedTxn") or []):
            continue
        updated = wire.clone(target)
        for field in target_type.open_balance or ("Balance",):
            updated[field] = wire.money(balance)
        updated["LinkedTxn"] = links
        stamp_updated(updated, target, ws.now)
        ws.put(key[0], updated, event="Update")
        party_effects(ws, target_type, target, updated)


def party_effects(
    ws: Workspace, etype: EntityType, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> None:
    """Move the customer's (vendor's) Balance by the change in this transaction's weight in it. A deleted
    transaction (`after` None) weighs nothing."""
    if etype.party is None or etype.party_amount is None:
        return
    party_entity, party_ref = etype.party
    deltas: dict[str, Decimal] = {}
    if before is not None:
        party = _ref_value(before.get(party_ref))
        if party is not None:
            deltas[party] = deltas.get(party, wire.ZERO) - etype.party_amount(before)
    if after is not None:
        party = _ref_value(after.get(party_ref))
        if party is not None:
            deltas[party] = deltas.get(party, wire.ZERO) + etype.party_amount(after)
    for party, delta in sorted(deltas.items()):
        if delta != 0:
            _adjust_party(ws, party_entity, party, delta)


def _adjust_party(ws: Workspace, entity: str, party_id: str, delta: Decimal) -> None:
    body = ws.get(entity, party_id)
    if body is None:
        return  # imported transactions may name parties that were never imported
    updated = wire.clone(body)
    updated["Balance"] = wire.money((wire.to_decimal(updated.get("Balance")) or wire.ZERO) + delta)
    jobs = "BalanceWithJobs" in entity_type(entity).properties
    if jobs:
        updated["BalanceWithJobs"] = wire.money(
            (wire.to_decimal(updated.get("BalanceWithJobs")) or wire.ZERO) + delta
        )
    ws.put(entity, touched(updated, ws.now))
    parent_id = _ref_value(updated.get("ParentRef")) if jobs else None
    seen = {party_id}
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent = ws.get(entity, parent_id)
        if parent is None:
            break
        parent = wire.clone(parent)
        parent["BalanceWithJobs"] = wire.money(
            (wire.to_decimal(parent.get("BalanceWithJobs")) or wire.ZERO) + delta
        )
        ws.put(entity, touched(parent, ws.now))
        parent_id = _ref_value(parent.get("ParentRef"))


def _ref_value(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("value") not in (None, ""):
        return str(ref["value"])
    return None


# --- a transaction's weight in its party's Balance --------------------------------------------------------


def owed(body: dict[str, Any]) -> Decimal:
    """An invoice or bill: its open balance."""
    return wire.to_decimal(body.get("Balance")) or wire.ZERO


def credited(body: dict[str, Any]) -> Decimal:
    """A credit memo or vendor credit: what is left of it reduces the balance."""
    return -(wire.to_decimal(body.get("Balance")) or wire.ZERO)


def unapplied(body: dict[str, Any]) -> Decimal:
    """A payment: the money received but not applied to any invoice."""
    return -(wire.to_decimal(body.get("UnappliedAmt")) or wire.ZERO)
