"""Page numbers by default; a cursor for walking very large tables (`?cursor=` or `?paginate=cursor`),
which never counts the table and stays fast however deep it goes."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import PageNumberPagination
from core.paginators import EstimatedCountPaginator


class MirrorCursorPagination(pagination.CursorPagination):
    page_size = PageNumberPagination.page_size  # the same default page as numbered pages
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-pk",)


class ListCountPaginator(EstimatedCountPaginator):
    # Counting up to 10,000 matches of a filter that no index answers alone (a status, an amount) reads
    # 10,000 rows: 40 to 80 ms at a million invoices, more than the page itself. Exact totals of a filtered
    # list are the statistics endpoint's job; a list's count is exact while it is small.
    exact_limit = 1_000


class HybridPagination(PageNumberPagination):
    """Page numbers over a count that is exact up to 1,000 rows and the database's estimate past it
    (`count_is_estimate` says which): counting a million rows for every page would cost more than the
    page. A cursor (`?paginate=cursor`) walks any depth without counting."""

    cursor_query_param = "cursor"
    mode_query_param = "paginate"
    django_paginator_class = ListCountPaginator

    def __init__(self) -> None:
        self.cursor_paginator: MirrorCursorPagination | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> Any:
        if (
            self.cursor_query_param in request.query_params
            or request.query_params.get(self.mode_query_param) == "cursor"
        ):
            self.cursor_paginator = MirrorCursorPagination()
            return self.cursor_paginator.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        if self.cursor_paginator is not None:
            return self.cursor_paginator.get_paginated_response(data)
        response = super().get_paginated_response(data)
        response.data["count_is_estimate"] = self.page.paginator.count_is_estimate  # type: ignore[union-attr]
        return response

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        described = super().get_paginated_response_schema(schema)
        described["properties"]["count_is_estimate"] = {
            "type": "boolean",
            "description": "True when `count` is the database's estimate (past 1,000 rows).",
        }
        return described
