"""The sandbox's storage: developer apps and tenants shared by both emulated ledgers, then each
ledger's own identity records and documents."""

from sandbox.models.common import SandboxApp, Tenant
from sandbox.models.qbo import QboAuthCode, QboGrant, QboToken
from sandbox.models.xero import XeroAuthCode, XeroConnection, XeroGrant, XeroToken
from sandbox.models.xero_records import XeroIdempotencyKey, XeroRecord  # noqa: F401

__all__ = [
    "QboAuthCode",
    "QboGrant",
    "QboToken",
    "SandboxApp",
    "Tenant",
    "XeroAuthCode",
    "XeroConnection",
    "XeroGrant",
    "XeroToken",
]
