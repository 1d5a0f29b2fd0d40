"""Rate-limit bookkeeping shared by both emulated ledgers: call counters per window and calls in flight.

Times are Unix epoch seconds (floats), compared with `time.time()` in every process that serves the
sandbox: cheaper than datetimes on a path every API call takes, and precise below a millisecond."""

from __future__ import annotations

from django.db import models


class FaultKindChoices(models.TextChoices):
    """What an injected fault does to one API call."""

    ERROR = "error", "Answer with an error status (500/503)"
    TIMEOUT = "timeout", "Hold the call, then close the connection without an answer"
    DROP = "drop", "Run the call (its writes commit), then close the connection without an answer"


class RateLimitBucket(models.Model):
    """One app's call counters: for one tenant (minute and day windows, calls in flight), or for the app
    across all tenants when `tenant` is empty (the app-wide minute window).

    A window opens with the first call after the previous one ran out and lasts a minute (or a day) of
    the tenant's scaled time."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(
        "sandbox.Tenant", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    minute_started = models.FloatField(default=0.0)
    minute_count = models.PositiveIntegerField(default=0)
    day_started = models.FloatField(default=0.0)
    day_count = models.PositiveIntegerField(default=0)
    # Every call ever admitted: the sequence number that seeded fault draws are keyed on.
    total = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["app", "tenant"],
                condition=models.Q(tenant__isnull=False),
                name="sandbox_ratebucket_app_tenant",
            ),
            # NULLs never collide in a plain unique constraint, so the app-wide row needs its own.
            models.UniqueConstraint(
                fields=["app"], condition=models.Q(tenant__isnull=True), name="sandbox_ratebucket_app"
            ),
        ]

    def __str__(self) -> str:
        scope = f"tenant {self.tenant_id}" if self.tenant_id else "all tenants"
        return f"rate counters of app {self.app_id}, {scope}"


class RateLimitLease(models.Model):
    """One call in flight, counted against the concurrency limit until it finishes.

    A lease expires on its own, so a server killed mid-call cannot hold a slot for ever."""

    bucket = models.ForeignKey(RateLimitBucket, on_delete=models.CASCADE, related_name="leases")
    expires_at = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["bucket", "expires_at"], name="sandbox_ratelease_bucket")]

    def __str__(self) -> str:
        return f"call in flight on bucket {self.bucket_id}"
