"""Helpers shared by the Xero Accounting API tests (this module holds no tests).

Documents are seeded through the service API (fast, no HTTP); everything under test goes through real HTTP,
mostly with the unmodified xero-python SDK."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import requests

from sandbox.models import Tenant
from sandbox.xero.api import services

D = Decimal


class RawXero:
    """Plain HTTP against the emulated API, for what the SDK hides (status codes, bodies, headers)."""

    def __init__(self, base_url: str, access_token: str, tenant_id: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers.update(
            {
                "Authorization": f"Bearer {access_token}",
                "xero-tenant-id": tenant_id,
                "Accept": "application/json",
                "Content-Type": "application/json",
            }
        )

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, f"{self.base_url}/{path.lstrip('/')}", timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)


def decoded(response: requests.Response) -> Any:
    return json.loads(response.text, parse_float=Decimal)


def seed_contact(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    [contact] = services.records_create(
        tenant=tenant, collection="Contacts", payloads=[{"Name": name, **fields}]
    )
    return contact


def line(description: str, quantity: str, unit: str, account: str = "200", **fields: Any) -> dict[str, Any]:
    return {
        "Description": description,
        "Quantity": D(quantity),
        "UnitAmount": D(unit),
        "AccountCode": account,
        **fields,
    }


def seed_invoice(
    tenant: Tenant, contact: dict[str, Any], *lines: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    payload = {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact["ContactID"]},
        "Date": "2026-03-04",
        "DueDate": "2026-04-04",
        "Status": "AUTHORISED",
        "LineItems": list(lines) or [line("Consulting", "1", "100.00")],
        **fields,
    }
    [invoice] = services.records_create(tenant=tenant, collection="Invoices", payloads=[payload])
    return invoice
