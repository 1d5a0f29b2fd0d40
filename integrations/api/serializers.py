"""Shapes of the connections API. Secrets are write-only or absent: no token ever leaves in a response."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integrations.models import Connection, ConnectionDeletion, Credential, SyncRun, SyncState
from integrations.providers import get_provider, provider_choices


class CredentialSummarySerializer(serializers.ModelSerializer):
    """Whether Ledgerlink holds an authorisation and until when; never the tokens."""

    refresh_token_set = serializers.BooleanField(source="has_refresh_token")

    class Meta:
        model = Credential
        fields = ["kind", "access_expires_at", "refresh_expires_at", "refreshed_at", "refresh_token_set"]


class HealthSerializer(serializers.Serializer):
    status = serializers.CharField(source="health")
    checked_at = serializers.DateTimeField(source="health_checked_at", allow_null=True)
    latency_ms = serializers.IntegerField(source="health_latency_ms", allow_null=True)
    error = serializers.CharField(source="health_error")


class ConnectionSerializer(serializers.ModelSerializer):
    provider_label = serializers.CharField(source="get_provider_display", read_only=True)
    health = serializers.SerializerMethodField()
    credential = CredentialSummarySerializer(read_only=True, allow_null=True)
    app_client_secret_set = serializers.SerializerMethodField()
    ledger_url = serializers.SerializerMethodField()
    created_by = serializers.CharField(source="created_by.get_username", read_only=True, default=None)

    class Meta:
        model = Connection
        fields = [
            "id",
            "provider",
            "provider_label",
            "display_name",
            "tenant_id",
            "tenant_name",
            "short_code",
            "base_currency",
            "country",
            "status",
            "status_reason",
            "status_changed_at",
            "health",
            "credential",
            "app_client_id",
            "app_client_secret_set",
            "settings",
            "ledger_url",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(HealthSerializer)
    def get_health(self, connection: Connection) -> dict[str, Any]:
        return dict(HealthSerializer(connection).data)

    def get_app_client_secret_set(self, connection: Connection) -> bool:
        return bool(connection.app_client_secret)

    def get_ledger_url(self, connection: Connection) -> str:
        return get_provider(connection.provider).deep_link(
            short_code=connection.short_code, tenant_id=connection.tenant_id
        )


class ConnectionUpdateSerializer(serializers.Serializer):
    display_name = serializers.CharField(max_length=255, required=False)
    settings = serializers.DictField(
        required=False, help_text="Merged into the current settings, key by key."
    )
    app_client_id = serializers.CharField(max_length=255, required=False, allow_blank=True)
    app_client_secret = serializers.CharField(
        max_length=255, required=False, allow_blank=True, write_only=True
    )


class AuthorizeSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=[])
    client_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    client_secret = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", write_only=True
    )
    return_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        default="",
        help_text="Where the browser goes after the callback (a path on this site, or an allowed host).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = provider_choices()  # type: ignore[attr-defined]


class ReconnectSerializer(serializers.Serializer):
    client_id = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    client_secret = serializers.CharField(
        max_length=255, required=False, allow_blank=True, default="", write_only=True
    )
    return_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class AuthorizeResponseSerializer(serializers.Serializer):
    authorize_url = serializers.URLField()
    expires_at = serializers.DateTimeField()
    provider = serializers.CharField()


class CustomConnectionSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(choices=[])
    client_id = serializers.CharField(max_length=255)
    client_secret = serializers.CharField(max_length=255, write_only=True)
    display_name = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = provider_choices()  # type: ignore[attr-defined]


class HealthResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    latency_ms = serializers.IntegerField()
    checked_at = serializers.DateTimeField()
    error = serializers.CharField(allow_blank=True)


class ConnectionDeletionSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    requested_by = serializers.CharField(source="requested_by.get_username", read_only=True, default=None)

    class Meta:
        model = ConnectionDeletion
        fields = [
            "id",
            "connection_id",
            "connection_name",
            "provider",
            "tenant_id",
            "status",
            "requested_by",
            "requested_at",
            "started_at",
            "finished_at",
            "rows_total",
            "rows_deleted",
            "percent",
            "progress",
            "revoked",
            "error",
        ]
        read_only_fields = fields


class SyncRequestSerializer(serializers.Serializer):
    entities = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        allow_empty=False,
        help_text="Entity families to pull (default: every enabled one).",
    )
    full_sync = serializers.BooleanField(
        default=False, help_text="A complete resync, which also detects records gone from the ledger."
    )


class SyncRunSerializer(serializers.ModelSerializer):
    percent = serializers.IntegerField(read_only=True, allow_null=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection",
            "entity",
            "mode",
            "trigger",
            "status",
            "queued_at",
            "started_at",
            "finished_at",
            "resume_at",
            "attempts",
            "since",
            "pages",
            "api_calls",
            "fetched",
            "created",
            "updated",
            "unchanged",
            "deleted",
            "skipped",
            "total",
            "percent",
            "duration_seconds",
            "rate_limit_waits",
            "rate_limit_wait_seconds",
            "retries",
            "error_kind",
            "error",
            "log",
        ]
        read_only_fields = fields


class SyncStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = SyncState
        fields = [
            "id",
            "connection",
            "entity",
            "state",
            "state_reason",
            "cursor",
            "last_success_at",
            "last_failure_at",
            "last_full_at",
            "consecutive_failures",
            "next_run_at",
            "running_run",
            "last_run",
            "records",
        ]
        read_only_fields = fields


# --- Dashboard (shapes of `integrations.dashboard.Dashboard`) ----------------------------------------------


class RunCountsSerializer(serializers.Serializer):
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class DashboardFamilySerializer(serializers.Serializer):
    entity = serializers.CharField()
    entity_label = serializers.CharField()
    enabled = serializers.BooleanField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    state_reason = serializers.CharField(allow_blank=True)
    records = serializers.IntegerField(help_text="Records the family's last run counted.")
    running = serializers.BooleanField()
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_failure_at = serializers.DateTimeField(allow_null=True)
    next_run_at = serializers.DateTimeField(allow_null=True)


class QuotaSerializer(serializers.Serializer):
    day_limit = serializers.IntegerField(allow_null=True, help_text="None: the ledger has no day limit.")
    used = serializers.IntegerField(help_text="Calls made in the last 24 hours, as counted here.")
    remaining = serializers.IntegerField(allow_null=True)
    remaining_source = serializers.ChoiceField(
        choices=["ledger", "counted", ""],
        help_text="Where `remaining` comes from: the ledger's own figure, or the limit minus `used`.",
    )
    percent_used = serializers.IntegerField(allow_null=True)
    blocked_until = serializers.DateTimeField(allow_null=True)
    blocked_reason = serializers.CharField(allow_blank=True)


class DashboardConnectionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    provider = serializers.CharField()
    provider_label = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    health = serializers.CharField()
    health_label = serializers.CharField()
    health_checked_at = serializers.DateTimeField(allow_null=True)
    health_latency_ms = serializers.IntegerField(allow_null=True)
    health_error = serializers.CharField(allow_blank=True)
    records = serializers.IntegerField(help_text="Mirrored records over all families.")
    last_success_at = serializers.DateTimeField(allow_null=True)
    last_failure_at = serializers.DateTimeField(allow_null=True)
    families = DashboardFamilySerializer(many=True)
    quota = QuotaSerializer()
    runs_last_hour = RunCountsSerializer()
    runs_last_day = RunCountsSerializer()
    runs_active = serializers.IntegerField(help_text="Runs queued, running or waiting for the rate limit.")


class HourRunsSerializer(serializers.Serializer):
    hour = serializers.DateTimeField(help_text="Start of the hour (UTC).")
    succeeded = serializers.IntegerField()
    failed = serializers.IntegerField()


class FamilyRecordsSerializer(serializers.Serializer):
    entity = serializers.CharField()
    entity_label = serializers.CharField()
    records = serializers.IntegerField()


class QueueStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    broker = serializers.CharField(allow_blank=True)
    depth = serializers.IntegerField(allow_null=True, help_text="Tasks waiting for a worker.")
    clusters = serializers.IntegerField(allow_null=True)
    workers = serializers.IntegerField(allow_null=True)
    latency_ms = serializers.FloatField()
    error = serializers.CharField(allow_blank=True)


class DatabaseStatusSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    vendor = serializers.CharField(allow_blank=True)
    latency_ms = serializers.FloatField(help_text="Time of a `SELECT 1`.")
    error = serializers.CharField(allow_blank=True)


class DashboardSerializer(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    records = serializers.IntegerField(help_text="Mirrored records over all connections.")
    runs_last_hour = RunCountsSerializer()
    runs_last_day = RunCountsSerializer()
    runs_active = serializers.IntegerField()
    queue = QueueStatusSerializer()
    database = DatabaseStatusSerializer()
    connections = DashboardConnectionSerializer(many=True)
    runs_per_hour = HourRunsSerializer(many=True, help_text="The last 24 hours, oldest first.")
    records_by_family = FamilyRecordsSerializer(many=True)
