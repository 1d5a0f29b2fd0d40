"""The indexes that keep lists and search fast on PostgreSQL tables of millions of rows."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection, transaction

from accounting.admin.listing import IndexedValuesFieldListFilter
from accounting.families import FAMILIES
from accounting.filtersets import FILTERSETS

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)


def _index_definitions(table: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [table])
        return "\n".join(row[0] for row in cursor.fetchall())


@postgres_only
@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_every_search_field_has_a_trigram_index(key):
    family = FAMILIES[key]
    definitions = _index_definitions(family.model._meta.db_table)
    for column in family.search_fields:
        # PostgreSQL keeps a varchar column's cast to text and drops a text column's.
        expressions = (f"gin (upper(({column})::text) gin_trgm_ops)", f"gin (upper({column}) gin_trgm_ops)")
        assert any(expression in definitions for expression in expressions), (
            f"{key}.{column} is searched by `q` but has no trigram index: add one in a migration"
        )


@postgres_only
@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_the_search_query_is_one_the_trigram_indexes_serve(key):
    """The planner takes the index only if the query's expression is the index's: with plain scans priced
    out (the test's tables are nearly empty), `q`'s plan must read every searched column through its
    trigram index."""
    family = FAMILIES[key]
    filterset = FILTERSETS[key](queryset=family.model._default_manager.all())
    queryset = filterset.search(family.model._default_manager.all(), "q", "INV-0042")
    sql, params = queryset.order_by().query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    for column in family.search_fields:
        assert f"{family.model._meta.db_table}_{column}_trgm" in plan, plan


@pytest.mark.parametrize("key", sorted(FAMILIES))
def test_every_admin_filter_that_walks_an_index_has_one(key):
    """The admin's value filters find their choices by walking an index that leads with the column; with
    none, the walk is a table scan per value (3.5 s at a million invoices)."""
    model = FAMILIES[key].model
    model_admin = admin.site._registry[model]
    walked = [
        entry[0]
        for entry in model_admin.list_filter
        if isinstance(entry, tuple) and issubclass(entry[1], IndexedValuesFieldListFilter)
    ]
    leading = {index.fields[0].lstrip("-") for index in model._meta.indexes if index.fields}
    for column in walked:
        assert column in leading, f"{key}: the admin's {column} filter needs an index leading with {column}"
