"""One admin for every mirrored family, made from the family's declaration: the columns a book-keeper
scans by, filters, search, the date hierarchy, a read-only detail page with the record's lines, its raw
payload and a link to it in the ledger, and bulk actions that each call one service.

The mirror is written by pulls alone, so nothing here adds or edits a record. Deleting goes through
`records_delete` (the record and its lines, here only), never through Django's cascade view. Every page is
built to stay fast on tables of millions of rows: no full-table count (`EstimatedCountPaginator`), the
connection joined into the list query, the raw payload left unloaded on lists, filter choices read by index
walks."""

from __future__ import annotations

import json
from typing import Any, ClassVar, cast

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_permission_codename
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from accounting.admin.actions import MirrorActionsMixin
from accounting.admin.listing import IndexedValuesFieldListFilter, LinkedListFilter
from accounting.api.serializers import serializers_for
from accounting.choices import DocumentStatusChoices, RecordStatusChoices
from accounting.families import Family
from accounting.filtersets import FILTERSETS
from accounting.models import MirrorRecord
from core.admin_builders import EntityAdmin, admin_build
from core.admin_display import badge
from core.jsontext import ExactJSONEncoder
from integrations.providers import get_provider

# Badge colours (classes in templates/admin/integrations/styles.html).
STATUS_COLOURS: dict[str, str] = {
    RecordStatusChoices.ACTIVE: "green",
    RecordStatusChoices.ARCHIVED: "grey",
    RecordStatusChoices.DELETED: "red",
    RecordStatusChoices.PENDING: "grey",
    DocumentStatusChoices.DRAFT: "grey",
    DocumentStatusChoices.SUBMITTED: "orange",
    DocumentStatusChoices.AUTHORISED: "green",
    DocumentStatusChoices.PARTIALLY_PAID: "orange",
    DocumentStatusChoices.PAID: "green",
    DocumentStatusChoices.BILLED: "green",
    DocumentStatusChoices.POSTED: "green",
    DocumentStatusChoices.VOIDED: "red",
}

# The mirror base's columns, shown in their own fieldsets (or not at all) rather than among the family's.
SYNC_FIELDS = (
    "connection",
    "remote_type",
    "remote_id",
    "remote_status",
    "remote_updated_at",
    "remote_deleted",
    "do_not_sync",
    "last_synced_at",
)
LOCAL_FIELDS = ("archived", "linked_record", "created_at", "updated_at")
ENGINE_FIELDS = frozenset(
    {"id", "raw", "content_hash", "seen_run_id", "link_content_type", "link_object_id", *SYNC_FIELDS}
) | frozenset(LOCAL_FIELDS)


def _has_field(model: type[models.Model], name: str) -> bool:
    return any(field.name == name for field in model._meta.concrete_fields)


def record_url(obj: MirrorRecord) -> str:
    """The record's page in its ledger's web UI."""
    connection = obj.connection
    return get_provider(connection.provider).record_link(
        short_code=connection.short_code,
        tenant_id=connection.tenant_id,
        remote_type=obj.remote_type,
        remote_id=obj.remote_id,
        kind=getattr(obj, "kind", ""),
    )


# --- Records ----------------------------------------------------------------------------------------------


class MirrorChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        # A list shows no raw payload: don't read kilobytes of JSON per row to draw it.
        return super().get_queryset(request, exclude_parameters).defer("raw")


class MirrorAdmin(MirrorActionsMixin, EntityAdmin):
    """Base of the per-family admins; `mirror_admin` fills in what the family declares (the paginator,
    search through the FilterSet and the export actions are every entity admin's)."""

    family: ClassVar[Family]

    list_select_related = ["connection"]
    actions = [
        "archive_selected",
        "unarchive_selected",
        "delete_from_mirror",
        "refresh_selected",
        "export_csv",
        "export_xlsx",
    ]

    # --- permissions: the mirror is read-only here; actions ask for the model's own permissions -------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Also removes Django's cascade view and its "delete selected" action.
        return False

    def _has_model_permission(self, request: HttpRequest, action: str) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename(action, self.opts)}")

    def has_archive_permission(self, request: HttpRequest) -> bool:
        return self._has_model_permission(request, "change")

    def has_refresh_permission(self, request: HttpRequest) -> bool:
        return self._has_model_permission(request, "change")

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return self._has_model_permission(request, "delete")

    # --- list ---------------------------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("connection")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return MirrorChangeList

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Any) -> SafeString:
        return badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "grey"), obj.remote_status)

    @admin.display(description="Contact", ordering="contact_name")
    def contact_column(self, obj: Any) -> SafeString | str:
        # A link by the contact's id alone: no join to the contacts table for the list.
        if obj.contact_id is None:
            return obj.contact_name
        url = reverse(f"admin:{self.opts.app_label}_contact_change", args=[obj.contact_id])
        return format_html('<a href="{}">{}</a>', url, obj.contact_name or obj.contact_id)

    @admin.display(description="Flags")
    def flags(self, obj: MirrorRecord) -> SafeString:
        badges = SafeString()
        if obj.remote_deleted:
            badges += badge("Deleted in ledger", "red", "Deleted in the ledger, or gone from it.")
        if obj.archived:
            badges += badge("Archived", "grey", "Archived here; the ledger is unchanged.")
        if obj.do_not_sync:
            badges += badge("Not synced", "orange", "Pulls leave this record as it is.")
        return badges

    # --- detail -------------------------------------------------------------------------------------

    @admin.display(description="In the ledger")
    def ledger_link(self, obj: MirrorRecord) -> SafeString | str:
        url = record_url(obj)
        if not url:
            return "—"
        label = get_provider(obj.connection.provider).label
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">View in {}</a>', url, label
        )

    @admin.display(description="Linked to")
    def linked_record(self, obj: MirrorRecord) -> str:
        if not obj.link_object_id:
            return "—"
        return f"{obj.link_content_type} #{obj.link_object_id}" if obj.link_content_type_id else "—"

    @admin.display(description="Payload as received")
    def raw_pretty(self, obj: MirrorRecord) -> SafeString:
        return format_html(
            '<pre class="ll-raw">{}</pre>',
            json.dumps(obj.raw, indent=2, cls=ExactJSONEncoder, ensure_ascii=False, default=str),
        )

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Any = None,
    ) -> HttpResponse:
        if obj is not None:
            context.update(
                ledger_url=record_url(obj), ledger_label=get_provider(obj.connection.provider).label
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Never Django's cascade: records leave the mirror through the bulk action and its service.
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist"))


# --- Made from the declarations ---------------------------------------------------------------------------


def _list_display(family: Family) -> list[str]:
    replaced = {"status": "status_badge", "contact_name": "contact_column"}
    return [*(replaced.get(column, column) for column in family.columns), "connection", "flags"]


def _list_filter(family: Family) -> list[Any]:
    model = family.model
    filters: list[Any] = ["connection__provider", "connection"]
    filters += [name for name in ("status", "kind") if _has_field(model, name)]
    # Yes/no columns the list shows (customer, supplier, taxable): filters that cost no query.
    filters += [
        column
        for column in family.columns
        if isinstance(model._meta.get_field(column), models.BooleanField) and column not in filters
    ]
    filters += ["archived", "remote_deleted"]
    if _has_field(model, "currency"):
        filters.append(("currency", IndexedValuesFieldListFilter))
    filters.append(LinkedListFilter)
    return filters


def _fieldsets(family: Family) -> list[tuple[str | None, dict[str, Any]]]:
    normalised = [
        field.name for field in family.model._meta.concrete_fields if field.name not in ENGINE_FIELDS
    ]
    return [
        (None, {"fields": ["ledger_link", *normalised]}),
        ("In the ledger", {"fields": list(SYNC_FIELDS)}),
        ("Here", {"fields": list(LOCAL_FIELDS)}),
        ("Raw payload", {"fields": ["raw_pretty"]}),
    ]


def mirror_admin(family: Family) -> type[MirrorAdmin]:
    """The admin of one family, from its declaration."""
    fieldsets = _fieldsets(family)
    attrs: dict[str, Any] = {
        "family": family,
        "list_display": _list_display(family),
        "list_filter": _list_filter(family),
        "search_help_text": f"{', '.join(family.search_fields)} (contains), or the ledger's id (exact).",
        "fieldsets": fieldsets,
        "readonly_fields": [name for _, options in fieldsets for name in options["fields"]],
    }
    built = admin_build(
        family.entity_type,
        filterset_class=FILTERSETS[family.key],
        export_serializer_class=serializers_for(family)[0],
        base=MirrorAdmin,
        attributes=attrs,
        module=__name__,
    )
    return cast("type[MirrorAdmin]", built)
