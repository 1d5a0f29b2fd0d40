"""Contacts and contact groups: defaults, the contact a document names, group membership on both sides."""

from __future__ import annotations

from typing import Any

from sandbox.xero.api import wire
from sandbox.xero.api.entity import Draft
from sandbox.xero.api.workspace import Workspace


def contact_summary(contact: dict[str, Any]) -> dict[str, Any]:
    """How a document embeds its contact."""
    summary: dict[str, Any] = {"ContactID": contact["ContactID"]}
    if contact.get("ContactNumber"):
        summary["ContactNumber"] = contact["ContactNumber"]
    summary.update(
        Name=contact.get("Name", ""),
        Addresses=[],
        Phones=[],
        ContactGroups=[],
        ContactPersons=[],
        HasValidationErrors=False,
    )
    return summary


def new_contact(name: str, contact_id: str) -> dict[str, Any]:
    return {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "Name": name,
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "IsSupplier": False,
        "IsCustomer": False,
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }


def resolve_contact(draft: Draft, reference: dict[str, Any] | None) -> dict[str, Any] | None:
    """The contact a document names by ContactID, ContactNumber or Name; a new name creates the contact, as
    on Xero."""
    ws = draft.ws
    if not reference:
        draft.error(f"A Contact must be specified for this type of transaction ({draft.entity.singular}).")
        return None
    contact: dict[str, Any] | None = None
    if reference.get("ContactID"):
        contact_id = str(reference["ContactID"])
        contact = ws.get("Contacts", contact_id) or ws.get("Contacts", contact_id.lower())
        if contact is None:
            draft.error(f"The contact with ContactID '{contact_id}' could not be found.")
            return None
    elif reference.get("ContactNumber"):
        found = ws.find("Contacts", "number", str(reference["ContactNumber"]))
        if not found:
            draft.error(f"The contact with ContactNumber '{reference['ContactNumber']}' could not be found.")
            return None
        contact = found[0]
    elif reference.get("Name"):
        name = str(reference["Name"])
        found = ws.find("Contacts", "name", name)
        active = [body for body in found if body.get("ContactStatus", "ACTIVE") == "ACTIVE"]
        contact = (active or found)[0] if (active or found) else None
        if contact is None:
            contact = new_contact(name, ws.new_id())
            ws.put("Contacts", contact, created=True)
    else:
        draft.error("A Contact must have a ContactID, ContactNumber or Name.")
        return None
    if contact.get("ContactStatus") == "ARCHIVED":
        draft.error(f"The contact '{contact.get('Name', '')}' is archived and cannot be used.")
    return contact


def mark_contact(ws: Workspace, contact: dict[str, Any], flag: str) -> None:
    # IsCustomer / IsSupplier follow from documents; flipping them is not an edit of the contact.
    if contact.get(flag) is not True:
        changed = wire.clone(contact)
        changed[flag] = True
        ws.put("Contacts", changed, silent=True)


def build_contact(draft: Draft) -> None:
    body = draft.body
    if draft.creating:
        for key, value in new_contact("", body["ContactID"]).items():
            body.setdefault(key, value)
    if not str(body.get("Name") or "").strip():
        draft.error("The contact name must be provided.")


def build_contact_group(draft: Draft) -> None:
    body = draft.body
    body.setdefault("Contacts", [])
    body.setdefault("HasValidationErrors", False)
    if not str(body.get("Name") or "").strip():
        draft.error("The contact group name must be provided.")
    renamed = not draft.creating and body.get("Name") != (draft.before or {}).get("Name")
    deleted = draft.status_after == "DELETED" and draft.status_before != "DELETED"
    if renamed or deleted:
        for member in body["Contacts"]:
            contact_group_membership(draft.ws, body, member["ContactID"], member=not deleted)
    if deleted:
        body["Contacts"] = []


def contact_group_membership(ws: Workspace, group: dict[str, Any], contact_id: str, *, member: bool) -> None:
    """Keep a contact's ContactGroups in step with a group's Contacts."""
    contact = ws.get("Contacts", contact_id)
    if contact is None:
        return
    changed = wire.clone(contact)
    groups = [
        g for g in changed.get("ContactGroups", []) if g.get("ContactGroupID") != group["ContactGroupID"]
    ]
    if member:
        groups.append(
            {
                "ContactGroupID": group["ContactGroupID"],
                "Name": group.get("Name", ""),
                "Status": group.get("Status", "ACTIVE"),
                "Contacts": [],
                "HasValidationErrors": False,
            }
        )
    changed["ContactGroups"] = groups
    ws.put("Contacts", changed)


def contact_group_list_view(body: dict[str, Any]) -> dict[str, Any]:
    # GET /ContactGroups lists groups without their members; GET /ContactGroups/{id} includes them.
    return {**body, "Contacts": []}
