"""Xero: OAuth 2.0 with rotating refresh tokens, one consent covering several organisations, custom
connections by client credentials."""

from __future__ import annotations

import logging
from typing import Any, ClassVar
from urllib.parse import urlencode

from django.conf import settings

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
from integrations.providers.xero import client, pull

logger = logging.getLogger(__name__)

# The families in the order a first sync pulls them (references first), as the field maps declare them.
ENTITY_KEYS = tuple(pull.SOURCES)


class XeroSettingsSerializer(ConnectionSettingsSerializer):
    entity_keys = ENTITY_KEYS


def _record_page(remote_type: str, remote_id: str, *, purchase: bool) -> str:
    """The path of one record in Xero's web UI, or "" where Xero has no page for one record."""
    side = "AccountsPayable" if purchase else "AccountsReceivable"
    pages = {
        "Invoice": f"/{side}/View.aspx?InvoiceID={remote_id}",
        "CreditNote": f"/{side}/ViewCreditNote.aspx?creditNoteID={remote_id}",
        "Contact": f"/Contacts/View/{remote_id}",
        "PurchaseOrder": f"/Accounts/Payable/PurchaseOrders/View/{remote_id}/",
        "ManualJournal": f"/Journal/View.aspx?invoiceID={remote_id}",
    }
    return pages.get(remote_type, "")


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


@register
class XeroProvider(Provider):
    key = "xero"
    label = "Xero"
    settings_prefix = "XERO"
    entity_keys = ENTITY_KEYS
    settings_serializer = XeroSettingsSerializer
    supports_client_credentials = True
    default_frequency_minutes: ClassVar[int] = 60
    # Per tenant and app (provider doc §4); the Starter tier's 1,000 a day is set per connection.
    rate_limits = RateLimits(concurrent=5, per_minute=60, per_day=5000)
    puller: ClassVar[PullAdapter] = pull
    ids_per_call = 50

    def deep_link(self, *, short_code: str, tenant_id: str) -> str:
        return (
            f"https://go.xero.com/organisationlogin/default.aspx?shortcode={short_code}" if short_code else ""
        )

    def record_link(
        self, *, short_code: str, tenant_id: str, remote_type: str, remote_id: str, kind: str = ""
    ) -> str:
        # Xero's deep links: the organisation login page redirecting to the record's page
        # (developer.xero.com "Deep link to Xero"). Records without a page of their own open the organisation.
        home = self.deep_link(short_code=short_code, tenant_id=tenant_id)
        page = _record_page(remote_type, remote_id, purchase=kind == "purchase")
        if not home or not page or not remote_id:
            return home
        # As Xero documents it: the path is not encoded (ids are GUIDs).
        return f"{home}&redirecturl={page}"

    def uses_pkce(self) -> bool:
        return True

    def authorize_url(self, *, app: AppCredentials, state: str, code_challenge: str) -> str:
        query = {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": app.redirect_uri,
            "scope": settings.XERO_SCOPES,
            "state": state,
        }
        if code_challenge:
            query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        return f"{settings.XERO_LOGIN_URL}/identity/connect/authorize?{urlencode(query)}"

    def code_exchange(self, *, app: AppCredentials, params: CallbackParams, code_verifier: str) -> TokenSet:
        return client.code_exchange(app=app, code=params.code, code_verifier=code_verifier)

    def tenants_authorised(
        self, *, app: AppCredentials, tokens: TokenSet, params: CallbackParams
    ) -> list[TenantInfo]:
        # Only the organisations this consent added or renewed: Xero lists every one the user connected.
        auth_event_id = client.jwt_claims(tokens.access_token).get("authentication_event_id")
        with client.SdkClient(app, client.sdk_token(tokens)) as sdk:
            with client.translated("listing the authorised organisations"):
                if auth_event_id:
                    rows = sdk.identity().get_connections(auth_event_id=auth_event_id)
                else:
                    rows = sdk.identity().get_connections()
            return [
                self._details(sdk, row.tenant_id, row.tenant_name, str(row.id))
                for row in rows or []
                if _enum_value(row.tenant_type) in ("ORGANISATION", "")
            ]

    def _details(
        self, sdk: client.SdkClient, tenant_id: str, name: str, remote_connection_id: str
    ) -> TenantInfo:
        try:
            return self._organisation(sdk, str(tenant_id), remote_connection_id)
        except ProviderError as exc:
            logger.warning(
                "Organisation details unavailable", extra={"tenant_id": str(tenant_id), "error": exc.message}
            )
            return TenantInfo(
                tenant_id=str(tenant_id),
                name=name or "",
                remote_connection_id=remote_connection_id,
                complete=False,
            )

    def _organisation(
        self, sdk: client.SdkClient, tenant_id: str, remote_connection_id: str = ""
    ) -> TenantInfo:
        with client.translated("reading the organisation"):
            organisation = sdk.accounting().get_organisations(tenant_id).organisations[0]
        return TenantInfo(
            tenant_id=tenant_id,
            name=organisation.name or "",
            remote_connection_id=remote_connection_id,
            short_code=organisation.short_code or "",
            base_currency=_enum_value(organisation.base_currency),
            country=_enum_value(organisation.country_code),
        )

    def token_refresh(self, *, app: AppCredentials, tokens: TokenSet) -> TokenSet:
        return client.token_refresh(app=app, tokens=tokens)

    def token_revoke(self, *, app: AppCredentials, tokens: TokenSet) -> None:
        client.token_revoke(app=app, tokens=tokens)

    def client_credentials_token(self, *, app: AppCredentials) -> TokenSet:
        return client.client_credentials_token(app=app)

    def client_credentials_tenant(self, *, app: AppCredentials, tokens: TokenSet) -> TenantInfo:
        """The one organisation a custom connection reaches (no tenant header is needed for it)."""
        with client.SdkClient(app, client.sdk_token(tokens)) as sdk:
            with client.translated("listing the custom connection's organisation"):
                rows = sdk.identity().get_connections()
            if not rows:
                raise ProviderError("Xero lists no organisation for this custom connection.")
            row = rows[0]
            return self._organisation(sdk, str(row.tenant_id), str(row.id))

    def tenant_read(self, *, app: AppCredentials, tokens: TokenSet, tenant_id: str) -> TenantInfo:
        with client.SdkClient(app, client.sdk_token(tokens)) as sdk:
            return self._organisation(sdk, tenant_id)

    def tenant_disconnect(self, *, app: AppCredentials, tokens: TokenSet, remote_connection_id: str) -> None:
        if not remote_connection_id:
            return
        try:
            with (
                client.SdkClient(app, client.sdk_token(tokens)) as sdk,
                client.translated("removing the organisation's connection"),
            ):
                sdk.identity().delete_connection(remote_connection_id)
        except ProviderError as exc:
            # Already gone at Xero (404) is what we wanted.
            if exc.details.get("http_status") != 404:
                raise
