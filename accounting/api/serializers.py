"""Shapes of the entity API, made from each family's model: every normalised column, the sync facts,
the child rows on a detail, and the raw payload when asked for. Amounts are decimal strings."""

from __future__ import annotations

import functools
from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject, RelatedField

from accounting.families import Family, links_to
from accounting.models import PaymentAllocation

# The largest id a table holds (a 64-bit key): larger numbers are refused as input, not sent to SQL.
MAX_ID = 2**63 - 1
# Engine bookkeeping that is no client's business.
HIDDEN = frozenset({"raw", "content_hash", "seen_run_id", "link_content_type", "link_object_id"})


def record_fields(family: Family) -> list[str]:
    return [f.name for f in family.model._meta.concrete_fields if f.name not in HIDDEN]


class MirrorSerializer(serializers.ModelSerializer):
    provider = serializers.CharField(source="connection.provider", read_only=True)
    linked = serializers.SerializerMethodField()

    def get_linked(self, obj: Any) -> bool:
        return bool(obj.link_object_id)

    @functools.cached_property
    def _representation_plan(self) -> list[tuple[str, str | None, serializers.Field]]:
        """Each readable field with the instance attribute it reads when that is a plain column."""
        model: Any = self.Meta.model
        columns = {field.name for field in model._meta.concrete_fields if not field.is_relation}
        plan: list[tuple[str, str | None, serializers.Field]] = []
        for field in self._readable_fields:
            plain = (
                not isinstance(
                    field, RelatedField | serializers.SerializerMethodField | serializers.BaseSerializer
                )
                and len(field.source_attrs) == 1
                and field.source_attrs[0] in columns
            )
            plan.append((str(field.field_name), field.source_attrs[0] if plain else None, field))
        return plan

    def to_representation(self, instance: Any) -> dict[str, Any]:
        # DRF's own loop walks each field's source through a try/except for every row; a page of 50
        # records of 40 columns spent more in it than in its query. A plain column is read straight off
        # the instance; None stays None as in DRF, and every value still goes through its field.
        representation: dict[str, Any] = {}
        for name, attribute_name, field in self._representation_plan:
            if attribute_name is not None:
                value = getattr(instance, attribute_name)
                representation[name] = None if value is None else field.to_representation(value)
                continue
            try:
                value = field.get_attribute(instance)
            except SkipField:
                continue
            present = value.pk if isinstance(value, PKOnlyObject) else value
            representation[name] = None if present is None else field.to_representation(value)
        return representation


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


def _child_serializer(model: type[models.Model], parent_field: str) -> type[serializers.ModelSerializer]:
    meta = type(
        "Meta",
        (),
        {"model": model, "exclude": ["id", parent_field]},
    )
    return type(
        f"{model.__name__}Serializer", (serializers.ModelSerializer,), {"Meta": meta, "__module__": __name__}
    )


@functools.cache
def serializers_for(family: Family) -> tuple[type[MirrorSerializer], type[MirrorSerializer]]:
    """The list serializer and the detail serializer of a family (one pair per family, shared by its
    entity types: invoices and bills are one shape)."""
    fields = ["id", "provider", *record_fields(family), "linked"]
    name = family.model.__name__
    list_meta = type("Meta", (), {"model": family.model, "fields": fields, "read_only_fields": fields})
    list_class = type(f"{name}Serializer", (MirrorSerializer,), {"Meta": list_meta, "__module__": __name__})

    attributes: dict[str, Any] = {}
    detail_fields = list(fields)
    for child in family.children:
        attributes[child.key] = _child_serializer(child.model, child.parent_field)(many=True, read_only=True)
        detail_fields.append(child.key)
    if family.has_contact:
        attributes["contact_summary"] = serializers.SerializerMethodField()
        detail_fields.append("contact_summary")

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
        detail_fields.append("payments")

        def get_payments(self: Any, obj: Any) -> list[dict[str, Any]]:
            applied = self.context.get("payments", {}).get(obj.remote_id, [])
            return PaymentAppliedSerializer(applied, many=True).data  # type: ignore[return-value]

        attributes["get_payments"] = get_payments
    # Documents this one was made from, and made from it, as the view resolved them (`document_links_get`).
    for link in family.links:
        attributes[link.key] = serializers.SerializerMethodField()
        detail_fields.append(link.key)

        @extend_schema_field(LinkedDocumentSerializer(allow_null=True))
        def get_target(self: Any, obj: Any, key: str = link.key) -> dict[str, Any] | None:
            found = self.context.get("links", {}).get(obj.pk, {}).get(key)
            return None if found is None else LinkedDocumentSerializer(found).data

        attributes[f"get_{link.key}"] = get_target
    for _, link in links_to(family):
        attributes[link.reverse_key] = serializers.SerializerMethodField()
        detail_fields.append(link.reverse_key)

        @extend_schema_field(LinkedDocumentSerializer(many=True))
        def get_sources(self: Any, obj: Any, key: str = link.reverse_key) -> list[dict[str, Any]]:
            found = self.context.get("links", {}).get(obj.pk, {}).get(key, [])
            return LinkedDocumentSerializer(found, many=True).data  # type: ignore[return-value]

        attributes[f"get_{link.reverse_key}"] = get_sources
    attributes["raw"] = serializers.SerializerMethodField()
    detail_fields.append("raw")

    def get_raw(self: Any, obj: Any) -> Any:
        return obj.raw if self.context.get("include_raw") else None

    attributes["get_raw"] = get_raw
    detail_meta = type(
        "Meta", (), {"model": family.model, "fields": detail_fields, "read_only_fields": detail_fields}
    )
    attributes["Meta"] = detail_meta
    attributes["__module__"] = __name__
    detail_class = type(f"{name}DetailSerializer", (list_class,), attributes)
    return list_class, detail_class


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
