"""Name lists through the unmodified python-quickbooks objects: one generic test drives every name-list
type from the same declarations as the engine, then the types' own rules."""

from __future__ import annotations

from decimal import Decimal

import pytest
from quickbooks.exceptions import ObjectNotFoundException, ValidationException
from quickbooks.objects.account import Account
from quickbooks.objects.base import Ref
from quickbooks.objects.customer import Customer
from quickbooks.objects.department import Department
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.employee import Employee
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.paymentmethod import PaymentMethod
from quickbooks.objects.term import Term
from quickbooks.objects.trackingclass import Class
from quickbooks.objects.vendor import Vendor

from sandbox.qbo.api.entities import ENTITIES
from sandbox.qbo.api.entity import NAME_LIST

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def ref(value: str) -> Ref:
    reference = Ref()
    reference.value = value
    return reference


# How to make a valid one of each name-list type with the SDK: the class, its fields, and the property
# holding its name.
NAME_LISTS = {
    "Customer": (Customer, {}),
    "Vendor": (Vendor, {}),
    "Employee": (Employee, {}),
    "Account": (Account, {"AccountType": "Expense"}),
    "Item": (Item, {"Type": "Service", "IncomeAccountRef": ref("1")}),
    "Class": (Class, {}),
    "Department": (Department, {}),
    "Term": (Term, {"DueDays": 10}),
    "PaymentMethod": (PaymentMethod, {"Type": "CREDIT_CARD"}),
}


def test_every_declared_name_list_is_exercised():
    declared = {name for name, etype in ENTITIES.items() if etype.kind == NAME_LIST}
    assert declared == set(NAME_LISTS)


def name_field(entity: str) -> str:
    field = ENTITIES[entity].name_field
    assert field is not None
    return field


def make(entity: str, name: str):
    cls, fields = NAME_LISTS[entity]
    made = cls()
    setattr(made, name_field(entity), name)
    for key, value in fields.items():
        setattr(made, key, value)
    return made


def visible_names(entity: str, qb, where: str = "") -> list[str]:
    cls, _ = NAME_LISTS[entity]
    field = name_field(entity)
    return [getattr(found, field) for found in cls.where(where, qb=qb, max_results=1000)]


@pytest.mark.parametrize("entity", sorted(NAME_LISTS))
def test_create_read_update_and_inactivate(entity, qbo_client):
    etype = ENTITIES[entity]
    field = name_field(entity)
    cls, _ = NAME_LISTS[entity]
    created = make(entity, "Blue Heron").save(qb=qbo_client)
    assert created.Id.isdigit()
    assert created.SyncToken == "0"
    assert getattr(created, field) == "Blue Heron"
    assert created.Active is True
    read = cls.get(created.Id, qb=qbo_client)
    assert read.to_json() == created.to_json()

    setattr(read, field, "Grey Heron")
    renamed = read.save(qb=qbo_client)
    assert renamed.SyncToken == "1"
    assert getattr(renamed, field) == "Grey Heron"
    if etype.has_fqn:
        assert renamed.FullyQualifiedName == "Grey Heron"

    renamed.Active = False
    inactive = renamed.save(qb=qbo_client)
    assert inactive.SyncToken == "2"
    assert inactive.Active is False
    assert getattr(inactive, field) == "Grey Heron (deleted)"
    if etype.has_fqn:
        assert inactive.FullyQualifiedName == "Grey Heron (deleted)"
    # Inactive entities are hidden from queries unless asked for, and still readable by id.
    assert "Grey Heron (deleted)" not in visible_names(entity, qbo_client)
    assert "Grey Heron (deleted)" in visible_names(entity, qbo_client, "Active IN (true, false)")
    assert visible_names(entity, qbo_client, "Active = false") == ["Grey Heron (deleted)"]
    assert cls.get(created.Id, qb=qbo_client).Active is False
    # The suffix frees the name; a second inactive one gets its own suffix.
    again = make(entity, "Grey Heron").save(qb=qbo_client)
    again.Active = False
    assert getattr(again.save(qb=qbo_client), field) == "Grey Heron (deleted-1)"


def test_customer_defaults_names_and_sub_customers(qbo_client):
    person = Customer()
    person.GivenName, person.FamilyName = "Peter", "Dukes"
    person.CompanyName = "Dukes Basketball Camp"
    person = person.save(qb=qbo_client)
    assert person.DisplayName == "Peter Dukes"
    assert person.PrintOnCheckName == "Dukes Basketball Camp"
    assert (person.Balance, person.BalanceWithJobs) == (0, 0)
    assert (person.Job, person.BillWithParent, person.PreferredDeliveryMethod) == (False, False, "Print")
    assert (person.CurrencyRef.value, person.CurrencyRef.name) == ("USD", "United States Dollar")

    job = Customer()
    job.DisplayName = "Basketball Court"
    job.ParentRef = person.to_ref()
    job = job.save(qb=qbo_client)
    assert job.FullyQualifiedName == "Peter Dukes:Basketball Court"
    assert (job.Job, job.Level, job.ParentRef.value) == (True, 1, person.Id)
    # Names are unique by full name: a top-level "Basketball Court" is another name.
    other = Customer()
    other.DisplayName = "Basketball Court"
    assert other.save(qb=qbo_client).FullyQualifiedName == "Basketball Court"
    # Parents come first in the default order, their jobs right under them.
    names = [found.FullyQualifiedName for found in Customer.all(qb=qbo_client)]
    assert names == ["Basketball Court", "Peter Dukes", "Peter Dukes:Basketball Court"]


def test_sub_customer_balances_roll_up_to_the_parent(qbo_client):
    qbo_client.use_decimal = True
    parent = Customer()
    parent.DisplayName = "Freeman Sporting Goods"
    parent = parent.save(qb=qbo_client)
    job = Customer()
    job.DisplayName, job.ParentRef = "55 Twin Lane", parent.to_ref()
    job = job.save(qb=qbo_client)
    bought = Invoice()
    bought.CustomerRef = job.to_ref()
    line = SalesItemLine()
    line.Amount = Decimal("85.00")
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref("1")
    bought.Line = [line]
    bought.save(qb=qbo_client)
    job = Customer.get(job.Id, qb=qbo_client)
    parent = Customer.get(parent.Id, qb=qbo_client)
    assert (str(job.Balance), str(job.BalanceWithJobs)) == ("85.00", "85.00")
    assert (parent.Balance, str(parent.BalanceWithJobs)) == (0, "85.00")
    # A balance change is QBO's own: no new SyncToken, a new LastUpdatedTime.
    assert (job.SyncToken, parent.SyncToken) == ("0", "0")


def test_account_type_decides_classification_and_sub_type(qbo_client):
    account = Account()
    account.Name, account.AccountType = "Fees Billed", "Income"
    account = account.save(qb=qbo_client)
    assert (account.Classification, account.AccountSubType) == ("Revenue", "ServiceFeeIncome")
    assert (account.CurrentBalance, account.SubAccount) == (0, False)
    child = Account()
    child.Name, child.AccountSubType, child.ParentRef = "Late Fees", "ServiceFeeIncome", account.to_ref()
    child = child.save(qb=qbo_client)
    assert (child.AccountType, child.SubAccount, child.FullyQualifiedName) == (
        "Income",
        True,
        "Fees Billed:Late Fees",
    )
    nameless = Account()
    nameless.Name = "No Type"
    with pytest.raises(ValidationException) as missing:
        nameless.save(qb=qbo_client)
    assert missing.value.error_code == 2020
    assert "AccountType" in missing.value.detail


def test_inventory_item_needs_its_accounts_and_quantity(qbo_client):
    stock = Item()
    stock.Name, stock.Type, stock.IncomeAccountRef = "Office Supplies", "Inventory", ref("79")
    with pytest.raises(ValidationException) as missing:
        stock.save(qb=qbo_client)
    assert (missing.value.error_code, "AssetAccountRef" in missing.value.detail) == (2020, True)
    stock.AssetAccountRef, stock.ExpenseAccountRef = ref("81"), ref("80")
    stock.QtyOnHand, stock.InvStartDate = 10, "2013-02-19"
    stock = stock.save(qb=qbo_client)
    assert stock.TrackQtyOnHand is True
    assert (stock.IncomeAccountRef.name, stock.AssetAccountRef.name) == (
        "Sales of Product Income",
        "Inventory Asset",
    )


def test_inactive_list_objects_cannot_be_used(qbo_client):
    item = make("Item", "Retired Service").save(qb=qbo_client)
    item.Active = False
    item.save(qb=qbo_client)
    buyer = make("Customer", "Active Buyer").save(qb=qbo_client)
    sale = Invoice()
    sale.CustomerRef = buyer.to_ref()
    line = SalesItemLine()
    line.Amount = 10
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = ref(item.Id)
    sale.Line = [line]
    with pytest.raises(ObjectNotFoundException) as inactive:
        sale.save(qb=qbo_client)
    assert inactive.value.error_code == 610
    assert "made inactive" in inactive.value.detail
