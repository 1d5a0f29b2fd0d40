"""Outgoing webhooks of both emulated ledgers: the events apps are told about, the POSTs that carry them
(with every attempt), and the intent-to-receive checks of a webhook URL."""

from __future__ import annotations

from django.db import models


class WebhookDeliveryKindChoices(models.TextChoices):
    EVENTS = "events", "Events"
    INTENT_TO_RECEIVE = "itr", "Intent to receive"


class WebhookDeliveryStatusChoices(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class WebhookEvent(models.Model):
    """One change reported to one app. It waits (`delivery` empty) until the sender batches it with the
    app's other waiting events into a delivery."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="webhook_events")
    tenant = models.ForeignKey("sandbox.Tenant", on_delete=models.CASCADE, related_name="+")
    # Xero: CONTACT / INVOICE / CREDITNOTE and CREATE / UPDATE. QBO: the entity name and operation.
    category = models.CharField(max_length=40)
    event_type = models.CharField(max_length=40)
    resource_id = models.CharField(max_length=64)
    resource_url = models.CharField(max_length=500, blank=True)
    occurred_at = models.DateTimeField()
    data = models.JSONField(null=True, blank=True)
    # The app's event sequence number, given when the event is batched.
    sequence = models.PositiveBigIntegerField(null=True, blank=True)
    delivery = models.ForeignKey(
        "sandbox.WebhookDelivery", null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["app", "delivery"], name="sandbox_whevent_app_delivery")]

    def __str__(self) -> str:
        return f"{self.category} {self.event_type} {self.resource_id}"


class WebhookDelivery(models.Model):
    """One payload POSTed to an app's webhook URL: a batch of events (retried on the provider's schedule
    until the receiver answers 2xx), or one probe of an intent-to-receive check (sent once)."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="webhook_deliveries")
    kind = models.CharField(
        max_length=8, choices=WebhookDeliveryKindChoices.choices, default=WebhookDeliveryKindChoices.EVENTS
    )
    # Which registered payload format built `body` and signs it ("xero", "qbo-legacy", ...).
    payload_format = models.CharField(max_length=20)
    body = models.TextField()
    status = models.CharField(
        max_length=10,
        choices=WebhookDeliveryStatusChoices.choices,
        default=WebhookDeliveryStatusChoices.PENDING,
    )
    # Intent-to-receive probes: whether this one is signed with the app's key, and the answer expected.
    correctly_signed = models.BooleanField(default=True)
    expected_status = models.PositiveSmallIntegerField(null=True, blank=True)
    itr_check = models.ForeignKey(
        "sandbox.WebhookItrCheck", null=True, blank=True, on_delete=models.CASCADE, related_name="probes"
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A sender owns a delivery in status "sending" until then; a sender that died releases it by expiry.
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    # Retry delays are divided by this: the fastest clock among the app and the events' tenants.
    time_scale = models.FloatField(default=1.0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="sandbox_whdelivery_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} delivery {self.pk} to app {self.app_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One POST of a delivery: where it went, what came back and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log")
    number = models.PositiveIntegerField()
    url = models.CharField(max_length=500)
    started_at = models.DateTimeField()
    duration_ms = models.FloatField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    succeeded = models.BooleanField()

    class Meta:
        ordering = ["delivery", "number"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "number"], name="sandbox_whattempt_unique"),
        ]

    def __str__(self) -> str:
        outcome = self.status_code or self.error or "no answer"
        return f"attempt {self.number} of delivery {self.delivery_id}: {outcome}"


class WebhookItrCheck(models.Model):
    """An intent-to-receive check: a series of empty payloads, some signed with the app's key and some
    not; the URL passes when it answers 200 to every good signature and 401 to every bad one."""

    app = models.ForeignKey("sandbox.SandboxApp", on_delete=models.CASCADE, related_name="webhook_itr_checks")
    url = models.CharField(max_length=500)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    passed = models.BooleanField(null=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = "webhook intent-to-receive check"

    def __str__(self) -> str:
        verdict = {True: "passed", False: "failed", None: "running"}[self.passed]
        return f"intent-to-receive check {self.pk} of app {self.app_id}: {verdict}"
