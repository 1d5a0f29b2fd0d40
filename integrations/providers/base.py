"""What every ledger provider supplies, and the value types that cross the provider boundary.

A provider is stateless and shared: everything about one connection is passed in. Every method that talks
to the ledger raises only the typed errors of `integrations.errors`."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

from django.conf import settings as django_settings
from rest_framework import serializers

from integrations.providers.remote import FamilySource, PulledPage, RemoteEntity

# Seconds an HTTP call to a ledger may take to connect and to answer.
CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 60.0


@dataclass(frozen=True)
class AppCredentials:
    """The ledger app Ledgerlink acts as (client id and secret) and where the ledger sends the browser back."""

    client_id: str
    client_secret: str
    redirect_uri: str = ""


@dataclass
class TokenSet:
    """What a token endpoint gave us. Times are POSIX timestamps (UTC)."""

    access_token: str
    access_expires_at: float
    refresh_token: str = ""
    refresh_expires_at: float | None = None
    id_token: str = ""
    scopes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TokenSet:
        return cls(
            access_token=data.get("access_token", ""),
            access_expires_at=float(data.get("access_expires_at") or 0),
            refresh_token=data.get("refresh_token", ""),
            refresh_expires_at=data.get("refresh_expires_at"),
            id_token=data.get("id_token", ""),
            scopes=list(data.get("scopes") or []),
        )

    def access_valid_for(self, seconds: float) -> bool:
        return bool(self.access_token) and self.access_expires_at > time.time() + seconds


@dataclass(frozen=True)
class RateLimits:
    """A ledger's limits per tenant and app: calls in flight, per minute, per day (None: no day limit)."""

    concurrent: int
    per_minute: int
    per_day: int | None


@dataclass(frozen=True)
class TenantInfo:
    """One organisation/company as the ledger describes it."""

    tenant_id: str
    name: str
    remote_connection_id: str = ""
    short_code: str = ""
    base_currency: str = ""
    country: str = ""
    # False when only the id and name are known (the detail call failed); the connection stays pending.
    complete: bool = True


@dataclass(frozen=True)
class CallbackParams:
    """The query string the ledger sent the browser back with."""

    code: str = ""
    state: str = ""
    error: str = ""
    error_description: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)


class StrictSerializer(serializers.Serializer):
    """A serializer that rejects keys it does not know, instead of silently dropping them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown setting."] for key in unknown})
        return super().to_internal_value(data)


class EntitySettingsSerializer(StrictSerializer):
    enabled = serializers.BooleanField()
    frequency_minutes = serializers.IntegerField(min_value=5, max_value=7 * 24 * 60)


class RateLimitSettingsSerializer(StrictSerializer):
    """A connection's own limits where they differ from the ledger's defaults (e.g. Xero's 1,000-call
    Starter tier). Ledgerlink never exceeds the lower of these and what the ledger reports."""

    concurrent = serializers.IntegerField(min_value=1, max_value=100, required=False)
    per_minute = serializers.IntegerField(min_value=1, max_value=100_000, required=False)
    per_day = serializers.IntegerField(min_value=1, max_value=10_000_000, required=False, allow_null=True)


class ConnectionSettingsSerializer(StrictSerializer):
    """Settings every provider has. Providers subclass it to add their own; unknown keys are an error."""

    entities = serializers.DictField(child=EntitySettingsSerializer())
    rate_limits = RateLimitSettingsSerializer(required=False)

    entity_keys: ClassVar[tuple[str, ...]] = ()

    def validate_entities(self, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(self.entity_keys))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown entity {', '.join(unknown)}; this ledger has: {', '.join(self.entity_keys)}."
            )
        missing = sorted(set(self.entity_keys) - set(value))
        if missing:
            raise serializers.ValidationError(f"Missing entity settings for {', '.join(missing)}.")
        return value


class PullAdapter(Protocol):
    """What a provider's pull module offers (a module satisfies this)."""

    SOURCES: dict[str, FamilySource]

    def pull_page(
        self,
        *,
        app: AppCredentials,
        tokens: TokenSet,
        tenant_id: str,
        source: FamilySource,
        since: datetime | None,
        token: dict[str, Any] | None,
    ) -> PulledPage: ...

    def pull_by_ids(
        self,
        *,
        app: AppCredentials,
        tokens: TokenSet,
        tenant_id: str,
        entity: RemoteEntity,
        remote_ids: list[str],
    ) -> PulledPage: ...


class Provider:
    """One ledger. Subclasses live in their own package under `integrations/providers/` and register
    themselves with `integrations.providers.register`."""

    key: ClassVar[str]
    label: ClassVar[str]
    # Environment-driven settings of the app Ledgerlink acts as: <prefix>_CLIENT_ID, <prefix>_CLIENT_SECRET.
    settings_prefix: ClassVar[str]
    # The entity families this ledger has, in the order a first sync pulls them (references first).
    entity_keys: ClassVar[tuple[str, ...]]
    settings_serializer: ClassVar[type[ConnectionSettingsSerializer]]
    # Default minutes between scheduled syncs per entity family.
    default_frequency_minutes: ClassVar[int] = 60
    supports_client_credentials: ClassVar[bool] = False
    # Revoke a consent that a reconnect replaced. Only where consents are per tenant: revoking a Xero
    # consent removes every organisation the user connected with it.
    revoke_replaced_consents: ClassVar[bool] = False
    # Seconds before expiry at which an access token is refreshed rather than used.
    refresh_margin_seconds: ClassVar[int] = 300
    rate_limits: ClassVar[RateLimits]
    # The provider's pull module (`integrations/providers/<ledger>/pull.py`): its declarations and paging.
    puller: ClassVar[PullAdapter]

    # --- configuration ------------------------------------------------------------------------------
    def app_credentials(
        self, *, client_id: str = "", client_secret: str = "", redirect_uri: str = ""
    ) -> AppCredentials:
        """The app to act as: a per-connection override, or the one configured in the environment."""
        return AppCredentials(
            client_id=client_id or getattr(django_settings, f"{self.settings_prefix}_CLIENT_ID"),
            client_secret=client_secret or getattr(django_settings, f"{self.settings_prefix}_CLIENT_SECRET"),
            redirect_uri=redirect_uri,
        )

    def settings_defaults(self) -> dict[str, Any]:
        return {
            "entities": {
                key: {"enabled": True, "frequency_minutes": self.default_frequency_minutes}
                for key in self.entity_keys
            },
        }

    def deep_link(self, *, short_code: str, tenant_id: str) -> str:
        """The organisation's home in the ledger's web UI."""
        return ""

    def record_link(
        self, *, short_code: str, tenant_id: str, remote_type: str, remote_id: str, kind: str = ""
    ) -> str:
        """The page of one mirrored record in the ledger's web UI (`remote_type` is the ledger's own
        entity name; `kind` the mirror's side of the books, for ledgers that file sales and purchase
        documents under different pages). Where the ledger has no page for the record: the organisation's
        home; "" when not even that is known."""
        return self.deep_link(short_code=short_code, tenant_id=tenant_id)

    # --- OAuth ----------------------------------------------------------------------------------------
    def authorize_url(self, *, app: AppCredentials, state: str, code_challenge: str) -> str:
        raise NotImplementedError

    def uses_pkce(self) -> bool:
        return False

    def code_exchange(self, *, app: AppCredentials, params: CallbackParams, code_verifier: str) -> TokenSet:
        raise NotImplementedError

    def tenants_authorised(
        self, *, app: AppCredentials, tokens: TokenSet, params: CallbackParams
    ) -> list[TenantInfo]:
        """The tenants this consent covers, with their details where they can be read."""
        raise NotImplementedError

    def token_refresh(self, *, app: AppCredentials, tokens: TokenSet) -> TokenSet:
        raise NotImplementedError

    def token_revoke(self, *, app: AppCredentials, tokens: TokenSet) -> None:
        raise NotImplementedError

    def client_credentials_token(self, *, app: AppCredentials) -> TokenSet:
        raise NotImplementedError(f"{self.label} has no client-credentials connections.")

    def client_credentials_tenant(self, *, app: AppCredentials, tokens: TokenSet) -> TenantInfo:
        """The one tenant a client-credentials token reaches."""
        raise NotImplementedError(f"{self.label} has no client-credentials connections.")

    # --- API calls --------------------------------------------------------------------------------------
    def tenant_read(self, *, app: AppCredentials, tokens: TokenSet, tenant_id: str) -> TenantInfo:
        """One cheap real call that proves the connection works and returns the tenant's details."""
        raise NotImplementedError

    def tenant_disconnect(self, *, app: AppCredentials, tokens: TokenSet, remote_connection_id: str) -> None:
        """Remove this one tenant's connection at the ledger, where the ledger has such a thing."""

    # --- pulling (the generic engine in accounting.pull drives these) --------------------------------
    def pull_sources(self) -> dict[str, FamilySource]:
        """How this ledger serves each entity family it has, keyed like `entity_keys`."""
        return self.puller.SOURCES

    def pull_page(
        self,
        *,
        app: AppCredentials,
        tokens: TokenSet,
        tenant_id: str,
        source: FamilySource,
        since: datetime | None,
        token: dict[str, Any] | None,
    ) -> PulledPage:
        """One page of a pass over `source`: everything when `since` is None, else what changed after it
        (deletions included). `token` is the previous page's `next` (None for the first page). Makes one
        ledger call (or says how many in `api_calls`); raises only `integrations.errors` types."""
        return self.puller.pull_page(
            app=app, tokens=tokens, tenant_id=tenant_id, source=source, since=since, token=token
        )

    def pull_by_ids(
        self,
        *,
        app: AppCredentials,
        tokens: TokenSet,
        tenant_id: str,
        entity: RemoteEntity,
        remote_ids: list[str],
    ) -> PulledPage:
        """The current payloads of these records (at most `ids_per_call`); ids absent from the answer are
        gone from the ledger. Used to confirm a record missing from a full pass before flagging it."""
        return self.puller.pull_by_ids(
            app=app, tokens=tokens, tenant_id=tenant_id, entity=entity, remote_ids=remote_ids
        )

    ids_per_call: ClassVar[int] = 50
