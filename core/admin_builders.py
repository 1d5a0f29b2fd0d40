"""The admin of an entity type, made from its declaration (`core.entities.EntityType`): the columns a
person scans by, search (the API's `q`, through the type's FilterSet), the date hierarchy, read-only child
rows, a change list that never counts a whole table, and export actions that write the API list's file
(`core.exports`: one export path). An app subclasses `EntityAdmin` for what its records have beyond the
spec (the mirror's connection filters, bulk actions, ledger links)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.db import connections, models, router
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseBase
from rest_framework import serializers

from core.entities import Child, EntityType
from core.exports import CSV, XLSX, export_file_make
from core.filtersets import EntityFilterSet
from core.paginators import EstimatedCountPaginator, rows_more_than
from core.responses import export_file_response

# Rows one export may hold: a bigger one is a job for the API's paged list, not a browser request.
EXPORT_LIMIT = 100_000
# Distinct values a filter offers at most (a column with more is no list to click through).
MAX_FILTER_CHOICES = 50


def distinct_values(model: type[models.Model], column: str, limit: int = MAX_FILTER_CHOICES) -> list[Any]:
    """The distinct non-empty values of an indexed column, by walking its index one value at a time
    (a "loose index scan": one index probe per value, however many rows share it) instead of a DISTINCT
    over the whole table. Works on PostgreSQL and SQLite alike."""
    database = router.db_for_read(model)
    quote = connections[database].ops.quote_name
    concrete = next(field for field in model._meta.concrete_fields if field.name == column)
    table, field = quote(model._meta.db_table), quote(concrete.column)
    sql = (
        f"WITH RECURSIVE walk(value) AS ("  # noqa: S608 (names come from the model, quoted)
        f" SELECT MIN({field}) FROM {table} WHERE {field} <> ''"
        f" UNION ALL"
        f" SELECT (SELECT MIN({field}) FROM {table} WHERE {field} > walk.value)"
        f" FROM walk WHERE walk.value IS NOT NULL"
        f") SELECT value FROM walk WHERE value IS NOT NULL LIMIT %s"
    )
    with connections[database].cursor() as cursor:
        cursor.execute(sql, [limit])
        return [row[0] for row in cursor.fetchall()]


class IndexedValuesFieldListFilter(admin.AllValuesFieldListFilter):
    """Django's "all values" filter, with its choices read by `distinct_values` (an index walk) rather than
    `SELECT DISTINCT` over the table. For indexed text columns with few values (currencies)."""

    def __init__(
        self,
        field: models.Field,
        request: HttpRequest,
        params: dict[str, str],
        model: type[models.Model],
        model_admin: admin.ModelAdmin,
        field_path: str,
    ) -> None:
        super().__init__(field, request, params, model, model_admin, field_path)
        # The parent's choices are a lazy DISTINCT queryset, never evaluated once replaced.
        self.lookup_choices = distinct_values(model, field_path)  # type: ignore[assignment]


class EntityInline(admin.TabularInline):
    """A record's child rows (lines, allocations, options), read-only and without blank forms."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Child rows are part of their record: whoever may see the record sees them.
        opts = self.parent_model._meta
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}")


def inline_build(child: Child, *, base: type[EntityInline] = EntityInline, module: str = __name__) -> type:
    """The read-only inline of a child: every column but its id and its parent."""
    fields = [
        field.name
        for field in child.model._meta.concrete_fields
        if field.name not in ("id", child.parent_field)
    ]
    attrs = {
        "model": child.model,
        "fk_name": child.parent_field,
        "fields": fields,
        "readonly_fields": fields,
        "verbose_name_plural": child.key,
        "__module__": module,
    }
    return type(f"{child.model.__name__}Inline", (base,), attrs)


class EntityAdmin(admin.ModelAdmin):
    """Base of the admins made from entity types (`admin_build`)."""

    entity_type: ClassVar[EntityType]
    filterset_class: ClassVar[type[EntityFilterSet]]
    # The type's list serializer: the shape its exports have (the API list's).
    export_serializer_class: ClassVar[type[serializers.ModelSerializer]]

    paginator = EstimatedCountPaginator
    # No COUNT(*) of the whole table on every page.
    show_full_result_count = False
    list_per_page = 50
    actions = ["export_csv", "export_xlsx"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # The API's `q` search (one FilterSet per model), so staff and API clients find the same rows.
        term = search_term.strip()
        if not term:
            return queryset, False
        return self.filterset_class(queryset=queryset).search(queryset, "q", term), False

    def has_export_permission(self, request: HttpRequest) -> bool:
        # The permission the API's export declares (`core.roles` makes it for every entity type's model).
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.{get_permission_codename('export', opts)}")

    def _export(
        self, request: HttpRequest, queryset: QuerySet[Any], export_format: str
    ) -> HttpResponseBase | None:
        if rows_more_than(queryset, EXPORT_LIMIT):
            self.message_user(
                request,
                f"Export at most {EXPORT_LIMIT:,} records at once; filter the list to narrow it down.",
                messages.WARNING,
            )
            return None
        # The API's export of these rows: one export path, one file.
        made = export_file_make(
            serializer_class=self.export_serializer_class,
            queryset=queryset,
            export_format=export_format,
            title=self.entity_type.label,
            stem=self.entity_type.path,
        )
        return export_file_response(made)

    @admin.action(description="Export selected %(verbose_name_plural)s as CSV", permissions=["export"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponseBase | None:
        return self._export(request, queryset, CSV)

    @admin.action(description="Export selected %(verbose_name_plural)s as XLSX", permissions=["export"])
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponseBase | None:
        return self._export(request, queryset, XLSX)


def admin_build(
    entity_type: EntityType,
    *,
    filterset_class: type[EntityFilterSet],
    export_serializer_class: type[serializers.ModelSerializer],
    base: type[EntityAdmin] = EntityAdmin,
    inline_base: type[EntityInline] = EntityInline,
    attributes: Mapping[str, Any] | None = None,
    module: str = __name__,
) -> type[EntityAdmin]:
    """The admin of an entity type: its columns, search, date hierarchy and children; `attributes` add to
    or replace these (a subclass's list filters, fieldsets)."""
    namespace: dict[str, Any] = {
        "entity_type": entity_type,
        "filterset_class": filterset_class,
        "export_serializer_class": export_serializer_class,
        "list_display": list(entity_type.columns) or ["__str__"],
        "search_fields": list(entity_type.search_fields),
        "search_help_text": f"{', '.join(entity_type.search_fields)} (contains).",
        "date_hierarchy": entity_type.date_field or None,
        "inlines": [inline_build(child, base=inline_base, module=module) for child in entity_type.children],
        **(attributes or {}),
        "__module__": module,
    }
    return type(f"{entity_type.model.__name__}Admin", (base,), namespace)
