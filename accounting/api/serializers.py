"""Shapes of the entity API, made from each family's model: every normalised column, the sync facts,
the child rows on a detail, and the raw payload when asked for. Amounts are decimal strings."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar, cast

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounting.families import Family, links_to
from accounting.models import PaymentAllocation
from core.api import builders as core_builders
from core.api.builders import EntitySerializer, serializers_build

# The largest id a table holds (a 64-bit key): larger numbers are refused as input, not sent to SQL.
MAX_ID = 2**63 - 1
# Engine bookkeeping that is no client's business.
HIDDEN = frozenset({"raw", "content_hash", "seen_run_id", "link_content_type", "link_object_id"})


def record_fields(family: Family) -> list[str]:
    return core_builders.record_fields(family.model, HIDDEN)


class MirrorSerializer(EntitySerializer):
    provider = serializers.CharField(source="connection.provider", read_only=True)
    linked = serializers.SerializerMethodField()

    export_method_columns: ClassVar[dict[str, tuple[str, Callable[[Any], Any]]]] = {
        "linked": ("link_object_id", bool),  # get_linked
    }

    def get_linked(self, obj: Any) -> bool:
        return bool(obj.link_object_id)


class ContactSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    remote_type = serializers.CharField()
    remote_id = serializers.CharField()
    name = serializers.CharField()


class PaymentAppliedSerializer(serializers.ModelSerializer):
    """A payment's share applied to this document."""

    payment_id = serializers.IntegerField(source="payment.pk")
    payment_remote_id = serializers.CharField(source="payment.remote_id")
    date = serializers.DateField(source="payment.issue_date")
    status = serializers.CharField(source="payment.status")

    class Meta:
        model = PaymentAllocation
        fields = ["payment_id", "payment_remote_id", "date", "status", "amount"]


class LinkedDocumentSerializer(serializers.Serializer):
    """Another document this one was made from, or that was made from it (a bill's purchase order)."""

    id = serializers.IntegerField()
    remote_id = serializers.CharField()
    number = serializers.CharField()
    status = serializers.CharField()
    total = serializers.DecimalField(max_digits=19, decimal_places=4)


@functools.cache
def serializers_for(family: Family) -> tuple[type[MirrorSerializer], type[MirrorSerializer]]:
    """The list serializer and the detail serializer of a family (one pair per family, shared by its
    entity types: invoices and bills are one shape)."""
    fields = ["id", "provider", *record_fields(family), "linked"]
    # What a detail adds to the list's fields (after the children), in order.
    attributes: dict[str, Any] = {}
    if family.has_contact:
        attributes["contact_summary"] = serializers.SerializerMethodField()

        def get_contact_summary(self: Any, obj: Any) -> dict[str, Any] | None:
            contact = obj.contact
            if contact is None:
                return None
            return {
                "id": contact.pk,
                "remote_type": contact.remote_type,
                "remote_id": contact.remote_id,
                "name": contact.name,
            }

        attributes["get_contact_summary"] = get_contact_summary
    if family.due_amount_field:
        attributes["payments"] = serializers.SerializerMethodField()

        def get_payments(self: Any, obj: Any) -> list[dict[str, Any]]:
            applied = self.context.get("payments", {}).get(obj.remote_id, [])
            return PaymentAppliedSerializer(applied, many=True).data  # type: ignore[return-value]

        attributes["get_payments"] = get_payments
    # Documents this one was made from, and made from it, as the view resolved them (`document_links_get`).
    for link in family.links:
        attributes[link.key] = serializers.SerializerMethodField()

        @extend_schema_field(LinkedDocumentSerializer(allow_null=True))
        def get_target(self: Any, obj: Any, key: str = link.key) -> dict[str, Any] | None:
            found = self.context.get("links", {}).get(obj.pk, {}).get(key)
            return None if found is None else LinkedDocumentSerializer(found).data

        attributes[f"get_{link.key}"] = get_target
    for _, link in links_to(family):
        attributes[link.reverse_key] = serializers.SerializerMethodField()

        @extend_schema_field(LinkedDocumentSerializer(many=True))
        def get_sources(self: Any, obj: Any, key: str = link.reverse_key) -> list[dict[str, Any]]:
            found = self.context.get("links", {}).get(obj.pk, {}).get(key, [])
            return LinkedDocumentSerializer(found, many=True).data  # type: ignore[return-value]

        attributes[f"get_{link.reverse_key}"] = get_sources
    attributes["raw"] = serializers.SerializerMethodField()

    def get_raw(self: Any, obj: Any) -> Any:
        return obj.raw if self.context.get("include_raw") else None

    attributes["get_raw"] = get_raw
    return cast(
        "tuple[type[MirrorSerializer], type[MirrorSerializer]]",
        serializers_build(
            family.entity_type,
            fields=fields,
            base=MirrorSerializer,
            detail_attributes=attributes,
            module=__name__,
        ),
    )


class IdsSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        max_length=1000,
        help_text="Record ids (at most 1,000).",
    )


class BulkResultSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Records changed or deleted.")


class FamilyRefreshSerializer(serializers.Serializer):
    connection = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    full_sync = serializers.BooleanField(default=False)
