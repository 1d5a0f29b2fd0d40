"""The sandbox's storage: developer apps and tenants shared by both emulated ledgers, then each
ledger's own identity records and documents."""

from sandbox.models.common import SandboxApp, Tenant
from sandbox.models.limits import FaultKindChoices, RateLimitBucket, RateLimitLease  # noqa: F401
from sandbox.models.qbo import QboAuthCode, QboGrant, QboToken
from sandbox.models.qbo_records import QboCounter, QboRecord, QboRequestReplay  # noqa: F401
from sandbox.models.webhooks import (  # noqa: F401
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookItrCheck,
)
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
