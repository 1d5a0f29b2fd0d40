"""QuickBooks Online: OAuth 2.0 per company (realm), a refresh token that rolls and changes value."""

from __future__ import annotations

from contextlib import closing
from typing import ClassVar
from urllib.parse import urlencode

from quickbooks.objects.company_info import CompanyInfo
from quickbooks.objects.preferences import Preferences

from integrations.errors import ProviderError
from integrations.providers import register
from integrations.providers.base import (
    AppCredentials,
    CallbackParams,
    ConnectionSettingsSerializer,
    Provider,
    PullAdapter,
    RateLimits,
    TenantInfo,
    TokenSet,
)
from integrations.providers.quickbooks import client, pull

# The families in the order a first sync pulls them (references first), as the field maps declare them.
ENTITY_KEYS = tuple(pull.SOURCES)

WEB_APP_URL = "https://app.qbo.intuit.com/app"
# Remote entity → (page of the QuickBooks web app, the query parameter naming the record, "" for a list).
RECORD_PAGES: dict[str, tuple[str, str]] = {
    "Invoice": ("invoice", "txnId"),
    "Bill": ("bill", "txnId"),
    "CreditMemo": ("creditmemo", "txnId"),
    "VendorCredit": ("vendorcredit", "txnId"),
    "Payment": ("recvpayment", "txnId"),
    "BillPayment": ("billpayment", "txnId"),
    "PurchaseOrder": ("purchaseorder", "txnId"),
    "JournalEntry": ("journal", "txnId"),
    "Customer": ("customerdetail", "nameId"),
    "Vendor": ("vendordetail", "nameId"),
    "Account": ("register", "accountId"),
    "Item": ("items", ""),
    "TaxRate": ("salestax", ""),
    "TaxCode": ("salestax", ""),
    "Class": ("class", ""),
    "Department": ("departments", ""),
}


class QuickBooksSettingsSerializer(ConnectionSettingsSerializer):
    entity_keys = ENTITY_KEYS


@register
class QuickBooksProvider(Provider):
    key = "quickbooks"
    label = "QuickBooks Online"
    settings_prefix = "QBO"
    entity_keys = ENTITY_KEYS
    settings_serializer = QuickBooksSettingsSerializer
    revoke_replaced_consents = True
    # Per company (realm): 10 requests in flight, 500 a minute; no daily cap.
    rate_limits = RateLimits(concurrent=10, per_minute=500, per_day=None)
    # Ids in one `WHERE Id IN (...)` lookup.
    puller: ClassVar[PullAdapter] = pull
    ids_per_call = 100

    def deep_link(self, *, short_code: str, tenant_id: str) -> str:
        return f"{WEB_APP_URL}/homepage"

    def record_link(
        self, *, short_code: str, tenant_id: str, remote_type: str, remote_id: str, kind: str = ""
    ) -> str:
        # QuickBooks opens the record in the company the user is signed in to; lists stand in for
        # entities that have no page of their own.
        page = RECORD_PAGES.get(remote_type)
        if page is None or not remote_id:
            return self.deep_link(short_code=short_code, tenant_id=tenant_id)
        path, id_param = page
        return (
            f"{WEB_APP_URL}/{path}?{urlencode({id_param: remote_id})}"
            if id_param
            else f"{WEB_APP_URL}/{path}"
        )

    def authorize_url(self, *, app: AppCredentials, state: str, code_challenge: str) -> str:
        return client.authorize_url(app=app, state=state)

    def code_exchange(self, *, app: AppCredentials, params: CallbackParams, code_verifier: str) -> TokenSet:
        realm_id = params.extra.get("realmId", "")
        if not realm_id:
            raise ProviderError("QuickBooks sent the browser back without a company (realmId).")
        return client.code_exchange(app=app, code=params.code, realm_id=realm_id)

    def tenants_authorised(
        self, *, app: AppCredentials, tokens: TokenSet, params: CallbackParams
    ) -> list[TenantInfo]:
        realm_id = params.extra.get("realmId", "")
        try:
            return [self._company(app, tokens, realm_id, with_currency=True)]
        except ProviderError:
            return [TenantInfo(tenant_id=realm_id, name="", complete=False)]

    def _company(
        self, app: AppCredentials, tokens: TokenSet, realm_id: str, *, with_currency: bool
    ) -> TenantInfo:
        with closing(client.Session(app, tokens, realm_id)) as session:
            return self._company_read(session, realm_id, with_currency=with_currency)

    def _company_read(self, session: client.Session, realm_id: str, *, with_currency: bool) -> TenantInfo:
        with session.translated("reading the company"):
            info = CompanyInfo.get(realm_id, qb=session.qb)
        currency = ""
        if with_currency:
            with session.translated("reading the company's preferences"):
                preferences = Preferences.get(qb=session.qb)
            home = getattr(getattr(preferences, "CurrencyPrefs", None), "HomeCurrency", None)
            currency = str(getattr(home, "value", "") or "")
        return TenantInfo(
            tenant_id=realm_id,
            name=info.CompanyName or "",
            base_currency=currency,
            country=(info.Country or "")[:2],
        )

    def token_refresh(self, *, app: AppCredentials, tokens: TokenSet) -> TokenSet:
        return client.token_refresh(app=app, tokens=tokens)

    def token_revoke(self, *, app: AppCredentials, tokens: TokenSet) -> None:
        client.token_revoke(app=app, tokens=tokens)

    def tenant_read(self, *, app: AppCredentials, tokens: TokenSet, tenant_id: str) -> TenantInfo:
        # With the currency: a connection left pending at the callback is completed by this read.
        return self._company(app, tokens, tenant_id, with_currency=True)
