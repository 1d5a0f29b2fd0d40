"""Organisation settings through the unmodified SDK: organisation, accounts, items, tax rates, tracking."""

from __future__ import annotations

from datetime import date

import pytest
from xero_python.accounting import (
    Account,
    Accounts,
    AccountType,
    Contact,
    Invoice,
    Invoices,
    Item,
    Items,
    LineItem,
    LineItemTracking,
    Purchase,
    TaxComponent,
    TaxRate,
    TaxRates,
    TrackingCategory,
    TrackingOption,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from tests.sandbox.test_xero_api_support import D, RawXero, seed_contact

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def raw(sandbox_url, xero_token, xero_org) -> RawXero:
    return RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], xero_org.tenant_id)


def test_organisation_and_its_defaults(accounting_api, xero_org):
    tenant = xero_org.tenant_id
    [organisation] = accounting_api.get_organisations(tenant).organisations
    assert organisation.organisation_id == tenant
    assert (organisation.name, organisation.short_code, organisation.version) == (
        "Demo Company (UK)",
        "!aB1c",
        "UK",
    )
    assert (organisation.base_currency.value, organisation.country_code.value) == ("GBP", "GB")
    assert organisation.timezone.value == "GMTSTANDARDTIME"
    rates = {rate.tax_type: rate for rate in accounting_api.get_tax_rates(tenant).tax_rates}
    assert rates["OUTPUT2"].effective_rate == D("20.00")
    assert rates["OUTPUT2"].name == "20% (VAT on Income)"
    assert rates["NONE"].effective_rate == D("0.00")
    accounts = {account.code: account for account in accounting_api.get_accounts(tenant).accounts}
    assert accounts["090"].type == AccountType.BANK
    assert accounts["090"].bank_account_type == "BANK"
    assert accounts["200"].tax_type == "OUTPUT2"
    assert accounts["200"]._class == "REVENUE"
    assert accounts["820"].name == "VAT"
    assert accounts["820"].system_account == "GST"


def test_accounts_create_archive_delete(accounting_api, xero_org):
    tenant = xero_org.tenant_id
    account = accounting_api.create_account(
        tenant, Account(code="201", name="Consulting Income", type=AccountType.REVENUE, tax_type="OUTPUT2")
    ).accounts[0]
    assert (account.status, account._class, account.tax_type) == ("ACTIVE", "REVENUE", "OUTPUT2")

    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_account(
            tenant, Account(code="202", name="Consulting Income", type=AccountType.REVENUE)
        )
    assert raised.value.reason == "Please enter a unique Name."
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_account(tenant, Account(code="201", name="Other", type=AccountType.REVENUE))
    assert raised.value.reason == "Please enter a unique Code."
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_account(tenant, Account(name="Savings", type=AccountType.BANK))
    assert raised.value.reason == "Please enter a Bank Account Number."

    archived = accounting_api.update_account(
        tenant, account.account_id, Accounts(accounts=[Account(status="ARCHIVED")])
    ).accounts[0]
    assert archived.status == "ARCHIVED"
    restored = accounting_api.update_account(
        tenant, account.account_id, Accounts(accounts=[Account(status="ACTIVE", description="Fees")])
    ).accounts[0]
    assert (restored.status, restored.description) == ("ACTIVE", "Fees")

    deleted = accounting_api.delete_account(tenant, account.account_id).accounts[0]
    assert deleted.status == "DELETED"
    assert account.account_id not in [a.account_id for a in accounting_api.get_accounts(tenant).accounts]
    with pytest.raises(NotFoundException):
        accounting_api.get_account(tenant, account.account_id)

    used = next(a for a in accounting_api.get_accounts(tenant).accounts if a.code == "200")
    customer = seed_contact(xero_org, "Account User")
    accounting_api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=customer["ContactID"]),
                    line_items=[
                        LineItem(description="x", quantity=D("1"), unit_amount=D("1.00"), account_code="200")
                    ],
                )
            ]
        ),
    )
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.delete_account(tenant, used.account_id)
    assert "cannot be deleted" in raised.value.reason
    system = next(a for a in accounting_api.get_accounts(tenant).accounts if a.code == "610")
    with pytest.raises(AccountingBadRequestException):
        accounting_api.update_account(
            tenant, system.account_id, Accounts(accounts=[Account(status="ARCHIVED")])
        )


def test_items_defaults_unitdp_upsert_and_delete(accounting_api, xero_org, raw):
    tenant = xero_org.tenant_id
    item = accounting_api.create_items(
        tenant,
        Items(
            items=[
                Item(
                    code="WIDGET",
                    name="Widget",
                    description="A widget",
                    sales_details=Purchase(unit_price=D("12.3456"), account_code="200", tax_type="OUTPUT2"),
                )
            ]
        ),
        unitdp=4,
    ).items[0]
    assert (item.is_sold, item.is_purchased, item.is_tracked_as_inventory) == (True, True, False)
    assert item.sales_details.unit_price == D("12.3456")
    assert accounting_api.get_item(tenant, item.item_id).items[0].sales_details.unit_price == D("12.35")
    assert accounting_api.get_items(tenant, unitdp=4).items[0].sales_details.unit_price == D("12.3456")
    assert raw.get("Items/WIDGET").json()["Items"][0]["ItemID"] == item.item_id

    # An invoice line naming the item takes its description, price, account and tax.
    customer = seed_contact(xero_org, "Item Buyer")
    [invoice] = accounting_api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=customer["ContactID"]),
                    line_items=[LineItem(item_code="WIDGET", quantity=D("2"))],
                )
            ]
        ),
    ).invoices
    [line] = invoice.line_items
    assert (line.description, line.unit_amount, line.account_code, line.tax_type) == (
        "A widget",
        D("12.35"),
        "200",
        "OUTPUT2",
    )
    assert (line.line_amount, line.tax_amount, invoice.total) == (D("24.70"), D("4.94"), D("29.64"))
    assert line.item.code == "WIDGET"

    # POST /Items matches by Code.
    upserted = accounting_api.update_or_create_items(
        tenant, Items(items=[Item(code="WIDGET", name="Widget Mk II")])
    ).items[0]
    assert (upserted.item_id, upserted.name, upserted.description) == (
        item.item_id,
        "Widget Mk II",
        "A widget",
    )
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_items(tenant, Items(items=[Item(code="WIDGET")]))
    assert raised.value.reason == "Item code 'WIDGET' already exists."

    assert accounting_api.delete_item(tenant, item.item_id) is None
    assert raw.request("DELETE", f"Items/{item.item_id}").status_code == 404
    assert accounting_api.get_items(tenant).items == []


def test_tax_rates_custom_compound_and_status(accounting_api, xero_org, raw):
    tenant = xero_org.tenant_id
    created = accounting_api.create_tax_rates(
        tenant,
        TaxRates(
            tax_rates=[
                TaxRate(
                    name="GST + QST",
                    report_tax_type="OUTPUT",
                    tax_components=[
                        TaxComponent(name="GST", rate=D("5"), is_compound=False),
                        TaxComponent(name="QST", rate=D("9.975"), is_compound=True),
                    ],
                )
            ]
        ),
    ).tax_rates[0]
    assert created.tax_type == "TAX001"
    assert created.status == "ACTIVE"
    # The compound part is charged on price plus GST: 5 + 9.975 * 1.05 = 15.47375.
    assert created.effective_rate == D("15.4738")
    assert created.display_tax_rate == D("14.975")
    second = accounting_api.create_tax_rates(
        tenant,
        TaxRates(tax_rates=[TaxRate(name="Levy", tax_components=[TaxComponent(name="Levy", rate=D("2.5"))])]),
    ).tax_rates[0]
    assert second.tax_type == "TAX002"
    assert accounting_api.get_tax_rate_by_tax_type(tenant, "TAX002").tax_rates[0].name == "Levy"

    renamed = accounting_api.update_tax_rate(
        tenant, TaxRates(tax_rates=[TaxRate(tax_type="TAX002", name="Local Levy")])
    ).tax_rates[0]
    assert (renamed.tax_type, renamed.name, renamed.effective_rate) == ("TAX002", "Local Levy", D("2.5"))
    deleted = accounting_api.update_tax_rate(
        tenant, TaxRates(tax_rates=[TaxRate(tax_type="TAX002", name="Local Levy", status="DELETED")])
    ).tax_rates[0]
    assert deleted.status == "DELETED"
    assert "TAX002" not in [rate.tax_type for rate in accounting_api.get_tax_rates(tenant).tax_rates]

    response = raw.request("PUT", "TaxRates", json={"TaxRates": [{"Name": "Empty"}]})
    assert response.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "A tax rate must have at least one tax component."}
    ]


def test_tracking_categories_options_and_line_tracking(accounting_api, xero_org):
    tenant = xero_org.tenant_id
    region = accounting_api.create_tracking_category(
        tenant, TrackingCategory(name="Region")
    ).tracking_categories[0]
    assert (region.status, region.options) == ("ACTIVE", [])
    north = accounting_api.create_tracking_options(
        tenant, region.tracking_category_id, TrackingOption(name="North")
    ).options[0]
    south = accounting_api.create_tracking_options(
        tenant, region.tracking_category_id, TrackingOption(name="South")
    ).options[0]
    assert (north.name, north.status) == ("North", "ACTIVE")
    with pytest.raises(AccountingBadRequestException):
        accounting_api.create_tracking_options(
            tenant, region.tracking_category_id, TrackingOption(name="north")
        )
    renamed = accounting_api.update_tracking_options(
        tenant, region.tracking_category_id, south.tracking_option_id, TrackingOption(name="South West")
    ).options[0]
    assert renamed.name == "South West"

    customer = seed_contact(xero_org, "Tracked Customer")
    [invoice] = accounting_api.create_invoices(
        tenant,
        Invoices(
            invoices=[
                Invoice(
                    type="ACCREC",
                    contact=Contact(contact_id=customer["ContactID"]),
                    date=date(2026, 3, 4),
                    line_items=[
                        LineItem(
                            description="x",
                            quantity=D("1"),
                            unit_amount=D("1.00"),
                            account_code="200",
                            tracking=[LineItemTracking(name="Region", option="North")],
                        )
                    ],
                )
            ]
        ),
    ).invoices
    [tracking] = invoice.line_items[0].tracking
    assert (tracking.tracking_category_id, tracking.tracking_option_id, tracking.option) == (
        region.tracking_category_id,
        north.tracking_option_id,
        "North",
    )
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.delete_tracking_category(tenant, region.tracking_category_id)
    assert "Archive it instead" in raised.value.reason

    deleted_option = accounting_api.delete_tracking_options(
        tenant, region.tracking_category_id, south.tracking_option_id
    ).options[0]
    assert deleted_option.status == "DELETED"
    fetched = accounting_api.get_tracking_category(tenant, region.tracking_category_id).tracking_categories[0]
    assert [o.name for o in fetched.options] == ["North"]

    accounting_api.create_tracking_category(tenant, TrackingCategory(name="Project"))
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_tracking_category(tenant, TrackingCategory(name="Third"))
    assert raised.value.reason == "An organisation can only have 2 active tracking categories."

    accounting_api.update_tracking_category(
        tenant, region.tracking_category_id, TrackingCategory(name="Region", status="ARCHIVED")
    )
    assert [c.name for c in accounting_api.get_tracking_categories(tenant).tracking_categories] == ["Project"]
    listed = accounting_api.get_tracking_categories(tenant, include_archived=True).tracking_categories
    assert [(c.name, c.status) for c in listed] == [("Region", "ARCHIVED"), ("Project", "ACTIVE")]
    third = accounting_api.create_tracking_category(
        tenant, TrackingCategory(name="Third")
    ).tracking_categories[0]
    deleted = accounting_api.delete_tracking_category(tenant, third.tracking_category_id).tracking_categories[
        0
    ]
    assert deleted.status == "DELETED"
    with pytest.raises(NotFoundException):
        accounting_api.get_tracking_category(tenant, third.tracking_category_id)
