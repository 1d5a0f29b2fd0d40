"""Template tags of the mirror's admin pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.contrib.admin.views.main import ChangeList
from django.db.models import Max, Min

register = template.Library()


def mirror_date_hierarchy(cl: ChangeList) -> dict[str, Any] | None:
    """Django's date hierarchy, except its first level: every year from the first date to the last (one
    MIN/MAX query, answered from the date column's index) instead of a DISTINCT over the whole table.
    A year may be listed that has no records; picking it shows an empty list. Records of a single year show
    that year too (Django opens its months at once, with a DISTINCT over the year). Below the year level
    the queries are bounded to the chosen year, and Django's own tag draws them."""
    field_name = cl.date_hierarchy
    generic = f"{field_name}__"
    if any(key.startswith(generic) for key in cl.params):
        return date_hierarchy(cl)
    bounds = cl.queryset.aggregate(first=Min(field_name), last=Max(field_name))
    first, last = bounds["first"], bounds["last"]
    if not first or not last:
        return {"show": False}
    year_field = f"{field_name}__year"
    return {
        "show": True,
        "back": None,
        "choices": [
            {"link": cl.get_query_string({year_field: str(year)}, [generic]), "title": str(year)}
            for year in range(first.year, last.year + 1)
        ],
    }


@register.tag(name="mirror_date_hierarchy")
def mirror_date_hierarchy_tag(parser: template.base.Parser, token: template.base.Token) -> InclusionAdminNode:
    return InclusionAdminNode(
        parser, token, func=mirror_date_hierarchy, template_name="date_hierarchy.html", takes_context=False
    )
