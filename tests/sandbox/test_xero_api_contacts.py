"""Contacts and contact groups through the unmodified SDK."""

from __future__ import annotations

import pytest
from xero_python.accounting import Address, Contact, ContactGroup, ContactGroups, Contacts, Phone
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from sandbox.models.xero_records import XeroRecord
from tests.sandbox.test_xero_api_support import RawXero, seed_contact

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def raw(sandbox_url, xero_token, xero_org) -> RawXero:
    return RawXero(f"{sandbox_url}/api/api.xro/2.0", xero_token["access_token"], xero_org.tenant_id)


def test_create_get_update_and_archive(accounting_api, xero_org):
    tenant = xero_org.tenant_id
    created = accounting_api.create_contacts(
        tenant,
        Contacts(
            contacts=[
                Contact(
                    name="Marine Systems Ltd",
                    contact_number="C-042",
                    first_name="Ada",
                    last_name="Byron",
                    email_address="ada@marine.example",
                    addresses=[Address(address_type="POBOX", city="Bristol", postal_code="BS1 4DJ")],
                    phones=[Phone(phone_type="MOBILE", phone_number="07700 900123")],
                )
            ]
        ),
    ).contacts[0]
    assert created.contact_status == "ACTIVE"
    assert (created.is_customer, created.is_supplier, created.has_validation_errors) == (False, False, False)
    assert created.addresses[0].city == "Bristol"
    assert created.phones[0].phone_number == "07700 900123"
    assert created.updated_date_utc is not None

    by_number = accounting_api.get_contact_by_contact_number(tenant, "C-042").contacts[0]
    assert by_number.contact_id == created.contact_id

    updated = accounting_api.update_contact(
        tenant, created.contact_id, Contacts(contacts=[Contact(email_address="accounts@marine.example")])
    ).contacts[0]
    assert (updated.name, updated.email_address, updated.first_name) == (
        "Marine Systems Ltd",
        "accounts@marine.example",
        "Ada",
    )
    assert updated.updated_date_utc >= created.updated_date_utc

    archived = accounting_api.update_contact(
        tenant, created.contact_id, Contacts(contacts=[Contact(contact_status="ARCHIVED")])
    ).contacts[0]
    assert archived.contact_status == "ARCHIVED"
    assert accounting_api.get_contacts(tenant).contacts == []
    listed = accounting_api.get_contacts(tenant, include_archived=True).contacts
    assert [c.contact_id for c in listed] == [created.contact_id]
    # Fetching by id still works for an archived contact.
    assert accounting_api.get_contact(tenant, created.contact_id).contacts[0].contact_status == "ARCHIVED"


def test_names_are_unique_among_active_contacts(accounting_api, xero_org, raw):
    tenant = xero_org.tenant_id
    original = seed_contact(xero_org, "Buzz Lightyear")
    with pytest.raises(AccountingBadRequestException) as raised:
        accounting_api.create_contacts(tenant, Contacts(contacts=[Contact(name="Buzz Lightyear")]))
    assert raised.value.reason == (
        "The contact name Buzz Lightyear is already assigned to another contact. "
        "The contact name must be unique across all active contacts."
    )
    error = raised.value.error_data
    assert (error["ErrorNumber"], error["Type"], error["Message"]) == (
        10,
        "ValidationException",
        "A validation exception occurred",
    )
    [element] = error["Elements"]
    assert element["ContactID"] == "00000000-0000-0000-0000-000000000000"
    assert element["Name"] == "Buzz Lightyear"
    assert element["HasValidationErrors"] is True
    assert XeroRecord.objects.filter(collection="Contacts").count() == 1

    # Two new contacts with one name in one batch clash with each other too.
    response = raw.request("PUT", "Contacts", json={"Contacts": [{"Name": "Woody"}, {"Name": "Woody"}]})
    assert response.status_code == 400
    assert XeroRecord.objects.filter(collection="Contacts").count() == 1

    accounting_api.update_contact(
        tenant, original["ContactID"], Contacts(contacts=[Contact(contact_status="ARCHIVED")])
    )
    again = accounting_api.create_contacts(
        tenant, Contacts(contacts=[Contact(name="Buzz Lightyear")])
    ).contacts[0]
    assert again.contact_id != original["ContactID"]


def test_ids_search_and_summary_only(accounting_api, xero_org):
    tenant = xero_org.tenant_id
    a = seed_contact(
        xero_org,
        "Alpha Trading",
        EmailAddress="hello@alpha.example",
        Addresses=[{"AddressType": "STREET", "City": "Leeds"}],
    )
    b = seed_contact(xero_org, "Beta Supplies")
    seed_contact(xero_org, "Gamma Goods")
    listed = accounting_api.get_contacts(tenant, i_ds=[a["ContactID"], b["ContactID"]]).contacts
    assert [c.name for c in listed] == ["Alpha Trading", "Beta Supplies"]
    assert [c.name for c in accounting_api.get_contacts(tenant, search_term="ALPHA.EX").contacts] == [
        "Alpha Trading"
    ]
    summary = accounting_api.get_contacts(tenant, i_ds=[a["ContactID"]], summary_only=True).contacts[0]
    assert summary.addresses is None
    assert summary.email_address == "hello@alpha.example"
    full = accounting_api.get_contacts(tenant, i_ds=[a["ContactID"]], summary_only=False).contacts[0]
    assert full.addresses[0].city == "Leeds"
    page = accounting_api.get_contacts(tenant, page=1, page_size=2)
    assert [c.name for c in page.contacts] == ["Alpha Trading", "Beta Supplies"]
    assert (
        page.pagination.page,
        page.pagination.page_size,
        page.pagination.page_count,
        page.pagination.item_count,
    ) == (1, 2, 2, 3)


def test_contact_groups_and_members(accounting_api, xero_org, raw):
    tenant = xero_org.tenant_id
    member = seed_contact(xero_org, "Member One")
    other = seed_contact(xero_org, "Member Two")
    group = accounting_api.create_contact_group(
        tenant, ContactGroups(contact_groups=[ContactGroup(name="Preferred")])
    ).contact_groups[0]
    assert (group.name, group.status, group.contacts) == ("Preferred", "ACTIVE", [])

    added = accounting_api.create_contact_group_contacts(
        tenant,
        group.contact_group_id,
        Contacts(contacts=[Contact(contact_id=member["ContactID"]), Contact(contact_id=other["ContactID"])]),
    ).contacts
    assert [c.name for c in added] == ["Member One", "Member Two"]
    fetched = accounting_api.get_contact_group(tenant, group.contact_group_id).contact_groups[0]
    assert [c.contact_id for c in fetched.contacts] == [member["ContactID"], other["ContactID"]]
    # The list leaves members out, as Xero's does.
    assert accounting_api.get_contact_groups(tenant).contact_groups[0].contacts == []
    contact = accounting_api.get_contact(tenant, member["ContactID"]).contacts[0]
    assert [g.name for g in contact.contact_groups] == ["Preferred"]

    accounting_api.delete_contact_group_contact(tenant, group.contact_group_id, member["ContactID"])
    fetched = accounting_api.get_contact_group(tenant, group.contact_group_id).contact_groups[0]
    assert [c.contact_id for c in fetched.contacts] == [other["ContactID"]]
    assert accounting_api.get_contact(tenant, member["ContactID"]).contacts[0].contact_groups == []

    renamed = accounting_api.update_contact_group(
        tenant, group.contact_group_id, ContactGroups(contact_groups=[ContactGroup(name="Gold")])
    ).contact_groups[0]
    assert renamed.name == "Gold"
    assert accounting_api.get_contact(tenant, other["ContactID"]).contacts[0].contact_groups[0].name == "Gold"

    accounting_api.update_contact_group(
        tenant, group.contact_group_id, ContactGroups(contact_groups=[ContactGroup(status="DELETED")])
    )
    assert accounting_api.get_contact_groups(tenant).contact_groups == []
    assert accounting_api.get_contact(tenant, other["ContactID"]).contacts[0].contact_groups == []
    with pytest.raises(NotFoundException):
        accounting_api.get_contact_group(tenant, group.contact_group_id)
    response = raw.request("PUT", "ContactGroups", json={"ContactGroups": [{"Name": ""}]})
    assert response.json()["Elements"][0]["ValidationErrors"] == [
        {"Message": "The contact group name must be provided."}
    ]
