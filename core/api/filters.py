"""Filter backends that refuse what they do not understand.

A client that misspells a filter must not silently get the whole table: unknown query parameters and
unknown ordering fields are a 400 with the offending names, never ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.exceptions import ValidationError
from rest_framework.filters import OrderingFilter

from core.filtersets import BaseFilterSet

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView

# Parameters that are not filters but are understood by every list endpoint.
GLOBAL_PARAMS = frozenset({"format"})


def _view_params(view: APIView) -> set[str]:
    """Query parameters the view's pagination, ordering and extra declarations consume."""
    params = set(GLOBAL_PARAMS)
    paginator = getattr(view, "paginator", None)
    for attribute in ("page_query_param", "page_size_query_param", "cursor_query_param", "mode_query_param"):
        name = getattr(paginator, attribute, None)
        if name:
            params.add(name)
    for backend in getattr(view, "filter_backends", ()):
        for attribute in ("ordering_param", "search_param"):
            name = getattr(backend, attribute, None)
            if name:
                params.add(name)
    params.update(getattr(view, "extra_query_params", ()))
    return params


class StrictFilterBackend(DjangoFilterBackend):
    """django-filter's backend, plus a 400 for any query parameter nobody declared."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: APIView) -> QuerySet:  # type: ignore[override]
        known = _view_params(view)
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            known.update(filterset_class.base_filters.keys())
        unknown = sorted(set(request.query_params.keys()) - known)
        if unknown:
            raise ValidationError(
                {name: [f"Unknown query parameter. Allowed: {', '.join(sorted(known))}."] for name in unknown}
            )
        if filterset_class is None:
            return queryset
        kwargs = self.get_filterset_kwargs(request, queryset, view)
        if issubclass(filterset_class, BaseFilterSet):
            kwargs["asked_only"] = True
        filterset = filterset_class(**kwargs)
        if not filterset.is_valid() and self.raise_exception:
            raise ValidationError({name: list(messages) for name, messages in filterset.errors.items()})
        return filterset.qs


class StrictOrderingFilter(OrderingFilter):
    """`?ordering=a,-b` over the view's `ordering_fields`; an unknown field is a 400, not ignored."""

    def get_ordering(self, request: Request, queryset: QuerySet, view: APIView) -> Any:
        params = request.query_params.get(self.ordering_param)
        if params:
            terms = [term.strip() for term in params.split(",") if term.strip()]
            valid = {name for name, _label in self.get_valid_fields(queryset, view, {"request": request})}
            # One leading "-" reverses; "--total" names no field (and would reach the database as one).
            invalid = [term for term in terms if term.removeprefix("-") not in valid]
            if invalid:
                raise ValidationError(
                    {self.ordering_param: [f"Cannot order by {', '.join(invalid)}. Allowed: {_join(valid)}."]}
                )
            return self._with_tiebreaker(terms)
        return self.get_default_ordering(view)

    @staticmethod
    def _with_tiebreaker(terms: list[str]) -> list[str]:
        # Paging over a non-unique sort key repeats or skips rows between pages; the primary key breaks ties.
        if not any(term.removeprefix("-") in ("pk", "id") for term in terms):
            terms = [*terms, "pk"]
        return terms


def _join(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))
