"""The sandbox in the Django admin: apps and tenants (with their limits and faults) editable while the
sandbox runs; webhook deliveries, intent-to-receive checks and identity records read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from sandbox import limits, webhooks
from sandbox.models import (
    QboAuthCode,
    QboGrant,
    QboToken,
    SandboxApp,
    Tenant,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookItrCheck,
    XeroAuthCode,
    XeroConnection,
    XeroGrant,
    XeroToken,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records the sandbox writes itself: shown, never edited by hand."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SandboxApp)
class SandboxAppAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "client_id", "webhook_url", "limit_app_minute", "created_at"]
    list_filter = ["provider"]
    search_fields = ["name", "client_id"]
    readonly_fields = ["client_id", "webhook_sequence", "created_at"]
    fieldsets = [
        (None, {"fields": ["provider", "name", "client_id", "client_secret", "redirect_uris"]}),
        ("Custom connection (Xero)", {"fields": ["custom_connection_tenant"]}),
        (
            "Webhooks",
            {
                "fields": [
                    "webhook_url",
                    "webhook_key",
                    "webhook_format",
                    "webhook_retry_delays",
                    "webhook_sequence",
                ]
            },
        ),
        ("Rate limits", {"fields": ["limit_app_minute", "time_scale"]}),
        (None, {"fields": ["created_at"]}),
    ]
    actions = ["run_intent_to_receive", "reset_rate_limits"]
    # Local receivers are mostly plain http://127.0.0.1 URLs.
    formfield_overrides = {models.URLField: {"assume_scheme": "http"}}

    @admin.action(description="Run the webhook intent-to-receive check")
    def run_intent_to_receive(self, request: HttpRequest, queryset: QuerySet[SandboxApp]) -> None:
        for app in queryset:
            try:
                check = webhooks.itr_check_run(app=app)
            except ValueError as exc:
                self.message_user(request, f"{app.name}: {exc}", messages.WARNING)
                continue
            level = messages.SUCCESS if check.passed else messages.ERROR
            verdict = "passed" if check.passed else "failed"
            self.message_user(request, f"{app.name}: intent to receive {verdict}. {check.detail}", level)

    @admin.action(description="Reset the app's rate-limit counters")
    def reset_rate_limits(self, request: HttpRequest, queryset: QuerySet[SandboxApp]) -> None:
        for app in queryset:
            limits.limits_reset(app=app)
        self.message_user(request, f"Counters reset for {len(queryset)} app(s).")


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "provider",
        "tenant_id",
        "limit_concurrent",
        "limit_minute",
        "limit_day",
        "time_scale",
        "fault_error_rate",
        "fault_latency_ms",
        "fault_next_count",
    ]
    list_filter = ["provider"]
    search_fields = ["name", "tenant_id", "short_code"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "provider",
                    "tenant_id",
                    "name",
                    "base_currency",
                    "country",
                    "short_code",
                    "timezone",
                    "tenant_type",
                ]
            },
        ),
        ("Rate limits", {"fields": ["limit_concurrent", "limit_minute", "limit_day", "time_scale"]}),
        (
            "Faults",
            {
                "description": "Rates are fractions of calls (0 to 1); one draw decides error, timeout or drop.",
                "fields": [
                    "fault_error_rate",
                    "fault_error_status",
                    "fault_latency_ms",
                    "fault_timeout_rate",
                    "fault_timeout_seconds",
                    "fault_drop_after_commit_rate",
                    "fault_seed",
                    "fault_next_count",
                    "fault_next_kind",
                ],
            },
        ),
        (None, {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["reset_rate_limits", "clear_faults"]

    @admin.action(description="Reset the rate-limit counters")
    def reset_rate_limits(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        for tenant in queryset:
            limits.limits_reset(tenant=tenant)
        self.message_user(request, f"Counters reset for {len(queryset)} tenant(s).")

    @admin.action(description="Clear all injected faults")
    def clear_faults(self, request: HttpRequest, queryset: QuerySet[Tenant]) -> None:
        updated = queryset.update(
            fault_error_rate=0.0,
            fault_latency_ms=0,
            fault_timeout_rate=0.0,
            fault_drop_after_commit_rate=0.0,
            fault_next_count=0,
        )
        self.message_user(request, f"Faults cleared on {updated} tenant(s).")


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("number", "url", "started_at", "duration_ms", "status_code", "error", "succeeded")
    readonly_fields = fields


class WebhookEventInline(ReadOnlyInline):
    model = WebhookEvent
    fields = ("sequence", "category", "event_type", "resource_id", "tenant", "occurred_at")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "app",
        "kind",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "kind", "payload_format"]
    list_select_related = ["app"]
    readonly_fields = [
        "app",
        "kind",
        "payload_format",
        "status",
        "correctly_signed",
        "expected_status",
        "itr_check",
        "attempts",
        "next_attempt_at",
        "lease_expires_at",
        "time_scale",
        "last_status_code",
        "last_error",
        "created_at",
        "completed_at",
        "body",
    ]
    exclude = ["body"]
    inlines = [WebhookAttemptInline, WebhookEventInline]
    actions = ["retry_now"]

    @admin.action(description="Send again now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        retried = 0
        for delivery in queryset.filter(kind=webhooks.EVENTS):
            webhooks.delivery_retry(delivery=delivery)
            retried += 1
        self.message_user(request, f"{retried} delivery(ies) queued to be sent again.")


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "tenant", "category", "event_type", "resource_id", "sequence", "delivery"]
    list_filter = ["category", "event_type"]
    list_select_related = ["app", "tenant"]
    search_fields = ["resource_id"]


@admin.register(WebhookItrCheck)
class WebhookItrCheckAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "url", "passed", "started_at", "finished_at"]
    list_filter = ["passed"]
    list_select_related = ["app"]


@admin.register(XeroGrant)
class XeroGrantAdmin(ReadOnlyAdmin):
    list_display = ["auth_event_id", "app", "user_email", "client_credentials", "revoked_at", "created_at"]
    list_select_related = ["app"]


@admin.register(XeroToken)
class XeroTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "grant", "kind", "expires_at", "rotated_at", "revoked_at"]
    list_filter = ["kind"]
    # The token values stay out of the list: they are live credentials for the sandbox.
    exclude = ["token"]


@admin.register(XeroConnection)
class XeroConnectionAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "tenant", "user_email", "created_at", "updated_at"]
    list_select_related = ["app", "tenant"]


@admin.register(XeroAuthCode)
class XeroAuthCodeAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "user_email", "expires_at", "used_at"]
    exclude = ["code"]


@admin.register(QboGrant)
class QboGrantAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "tenant", "user_email", "revoked_at", "created_at"]
    list_select_related = ["app", "tenant"]


@admin.register(QboToken)
class QboTokenAdmin(ReadOnlyAdmin):
    list_display = ["id", "grant", "kind", "expires_at", "revoked_at"]
    exclude = ["token"]


@admin.register(QboAuthCode)
class QboAuthCodeAdmin(ReadOnlyAdmin):
    list_display = ["id", "app", "tenant", "expires_at", "used_at"]
    exclude = ["code"]
