"""Page numbers by default; a cursor for walking very large tables (`?cursor=` or `?paginate=cursor`),
which never counts the table and stays fast however deep it goes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import PageNumberPagination

CURSOR_REFUSED = "Not a cursor this list gave out: follow `next` or `previous` as they were given."


class MirrorCursorPagination(pagination.CursorPagination):
    page_size = 50  # the same default page as numbered pages
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = ("-pk",)

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> list[Any] | None:
        self._model = queryset.model
        PageNumberPagination().page_size_get(request)  # the same 400 for a bad page size
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request: Request) -> pagination.Cursor | None:
        # DRF answers a bad cursor with 404, and a forged one whose position does not fit the ordering's
        # column reaches the database (a 500): both are the client's input, a 400.
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: [CURSOR_REFUSED]}) from None
        if cursor is not None and cursor.position is not None:
            name = self.ordering[0].lstrip("-")
            try:
                self._model._meta.get_field(name).to_python(cursor.position)
            except (DjangoValidationError, FieldDoesNotExist):
                raise ValidationError({self.cursor_query_param: [CURSOR_REFUSED]}) from None
        return cursor


class HybridPagination(PageNumberPagination):
    """Numbered pages over a count that is exact up to 1,000 rows (counting up to 10,000 matches of a
    filter no index answers alone reads 10,000 rows: more than the page itself; exact totals of a filtered
    list are the statistics endpoint's job). A cursor (`?paginate=cursor`) walks any depth without
    counting."""

    count_exact_limit = 1_000
    cursor_query_param = "cursor"
    mode_query_param = "paginate"
    modes = ("pages", "cursor")

    def __init__(self) -> None:
        super().__init__()
        self.cursor_paginator: MirrorCursorPagination | None = None

    def paginate_queryset(
        self, queryset: QuerySet[Any], request: Request, view: APIView | None = None
    ) -> Any:
        mode = request.query_params.get(self.mode_query_param, "")
        if mode and mode not in self.modes:
            raise ValidationError({self.mode_query_param: [f"Must be one of {', '.join(self.modes)}."]})
        if self.cursor_query_param in request.query_params or mode == "cursor":
            self.cursor_paginator = MirrorCursorPagination()
            return self.cursor_paginator.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data: Any) -> Response:
        if self.cursor_paginator is not None:
            return self.cursor_paginator.get_paginated_response(data)
        return super().get_paginated_response(data)
