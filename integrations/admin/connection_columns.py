"""The connection page's columns and read-only fields: tenant, status, health, credential expiries, the
link into the ledger. Of tokens and secrets only whether they are set and when they expire is shown."""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from core.admin_display import badge, muted
from integrations.admin.colours import HEALTH_COLOURS, STATUS_COLOURS
from integrations.models import Connection
from integrations.providers import get_provider


def _absolute(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _relative(moment: datetime) -> str:
    now = timezone.now()
    return f"in {timeuntil(moment, now)}" if moment > now else f"{timesince(moment, now)} ago"


def _moment(moment: datetime | None, *, empty: str = "—") -> SafeString:
    """An absolute time, with how far away it is as its tooltip; past expiries are marked."""
    if moment is None:
        return muted(empty)
    return format_html('<span title="{}">{}</span>', _relative(moment), _absolute(moment))


def _expiry(moment: datetime | None, *, empty: str) -> SafeString:
    if moment is None:
        return muted(empty)
    expired = moment <= timezone.now()
    return format_html(
        '<span class="{}" title="{}">{}{}</span>',
        "ll-expired" if expired else "",
        _relative(moment),
        _absolute(moment),
        " (expired)" if expired else "",
    )


def ledger_url(connection: Connection) -> str:
    return get_provider(connection.provider).deep_link(
        short_code=connection.short_code, tenant_id=connection.tenant_id
    )


class ConnectionColumns:
    """Mixed into `ConnectionAdmin`: its `list_display` and `readonly_fields` name these."""

    @admin.display(description="Tenant", ordering="tenant_name")
    def tenant(self, obj: Connection) -> SafeString:
        return format_html('{}<br><small class="ll-muted">{}</small>', obj.tenant_name or "—", obj.tenant_id)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Connection) -> SafeString:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "grey"), obj.status_reason)

    @admin.display(description="Health", ordering="health")
    def health_badge(self, obj: Connection) -> SafeString:
        shown = badge(obj.get_health_display(), HEALTH_COLOURS.get(obj.health, "grey"), obj.health_error)
        if obj.health_checked_at is None:
            return shown
        latency = f"{obj.health_latency_ms} ms, " if obj.health_latency_ms is not None else ""
        details = format_html(
            '<br><small class="ll-muted" title="{}">{}checked {}</small>',
            _absolute(obj.health_checked_at),
            latency,
            _relative(obj.health_checked_at),
        )
        if obj.health_error:
            details += format_html(
                '<br><small class="ll-expired" title="{}">{}</small>',
                obj.health_error,
                obj.health_error if len(obj.health_error) <= 80 else f"{obj.health_error[:79]}…",
            )
        return shown + details

    @admin.display(description="Credential", ordering="credential__refresh_expires_at")
    def credential_column(self, obj: Connection) -> SafeString:
        credential = obj.credential
        if credential is None:
            return muted("not set")
        return format_html(
            '<span title="{}">set</span><br><small>access {}</small><br><small>refresh {}</small>',
            credential.get_kind_display(),
            _expiry(credential.access_expires_at, empty="—"),
            _expiry(credential.refresh_expires_at, empty="none"),
        )

    @admin.display(description="Ledger")
    def ledger_link(self, obj: Connection) -> SafeString | str:
        url = ledger_url(obj)
        if not url:
            return "—"
        label = get_provider(obj.provider).label
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">Open in {}</a>', url, label
        )

    @admin.display(description="Latency")
    def health_latency(self, obj: Connection) -> str:
        return "—" if obj.health_latency_ms is None else f"{obj.health_latency_ms} ms"

    @admin.display(description="Credential")
    def credential_state(self, obj: Connection) -> str:
        credential = obj.credential
        return "not set" if credential is None else f"set ({credential.get_kind_display()})"

    @admin.display(description="Access token expires")
    def credential_access_expires(self, obj: Connection) -> SafeString:
        return _expiry(obj.credential.access_expires_at if obj.credential else None, empty="—")

    @admin.display(description="Refresh token expires")
    def credential_refresh_expires(self, obj: Connection) -> SafeString:
        return _expiry(obj.credential.refresh_expires_at if obj.credential else None, empty="—")

    @admin.display(description="Last refreshed")
    def credential_refreshed(self, obj: Connection) -> SafeString:
        credential = obj.credential
        if credential is None:
            return _moment(None)
        return format_html(
            "{} ({} refreshes)", _moment(credential.refreshed_at, empty="never"), credential.refresh_count
        )

    @admin.display(description="Last credential error")
    def credential_error(self, obj: Connection) -> str:
        return (obj.credential.last_error if obj.credential else "") or "—"

    @admin.display(description="App client secret")
    def app_client_secret_state(self, obj: Connection) -> str:
        return "set" if obj.app_client_secret else "not set"
