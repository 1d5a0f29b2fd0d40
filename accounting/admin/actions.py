"""The bulk actions of the mirror's admin: archive, unarchive, delete from the mirror, refresh from the
ledger (exports as CSV or XLSX are every entity admin's: `core.admin_builders.EntityAdmin`). Each parses the selection, calls one service and says what happened."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from accounting.families import Family
from accounting.services import BULK_LIMIT, family_refresh, records_archive, records_delete
from core.errors import LedgerlinkError
from integrations.models import Connection

# Records the delete confirmation names (the rest are counted).
CONFIRM_SHOWN = 20
DELETE_TEMPLATE = "admin/accounting/delete_from_mirror.html"

if TYPE_CHECKING:
    _Base = admin.ModelAdmin
else:
    _Base = object


def _count(n: int, family: Family) -> str:
    noun = family.model._meta.verbose_name if n == 1 else family.model._meta.verbose_name_plural
    return f"{n:,} {noun}"


class MirrorActionsMixin(_Base):
    """Mixed into `MirrorAdmin`; the permissions named are its `has_<name>_permission` methods."""

    family: ClassVar[Family]

    # --- bulk actions ---------------------------------------------------------------------------------

    def _selected_ids(self, request: HttpRequest, queryset: QuerySet[Any]) -> list[int] | None:
        """The selection's ids, or None (with a message) when it is more than one bulk call may name."""
        ids = list(queryset.order_by().values_list("pk", flat=True)[: BULK_LIMIT + 1])
        if len(ids) > BULK_LIMIT:
            self.message_user(
                request,
                f"Select at most {BULK_LIMIT:,} records at once; filter the list to narrow it down.",
                messages.WARNING,
            )
            return None
        return ids

    def _archive(self, request: HttpRequest, queryset: QuerySet[Any], *, archived: bool) -> None:
        ids = self._selected_ids(request, queryset)
        if ids is None:
            return
        changed = records_archive(queryset=self.model._default_manager.all(), ids=ids, archived=archived)
        verb = "archived" if archived else "unarchived"
        unchanged = len(ids) - changed
        already = f"; {unchanged:,} already were" if unchanged else ""
        self.message_user(request, f"{_count(changed, self.family)} {verb}{already}.", messages.SUCCESS)

    @admin.action(description="Archive selected %(verbose_name_plural)s", permissions=["archive"])
    def archive_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._archive(request, queryset, archived=True)

    @admin.action(description="Unarchive selected %(verbose_name_plural)s", permissions=["archive"])
    def unarchive_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._archive(request, queryset, archived=False)

    @admin.action(
        description="Delete selected %(verbose_name_plural)s from the mirror", permissions=["remove"]
    )
    def delete_from_mirror(self, request: HttpRequest, queryset: QuerySet[Any]) -> TemplateResponse | None:
        ids = self._selected_ids(request, queryset)
        if ids is None:
            return None
        if request.POST.get("post") != "yes":
            shown = list(self.get_queryset(request).filter(pk__in=ids).defer("raw")[:CONFIRM_SHOWN])
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": f"Delete {self.opts.verbose_name_plural} from the mirror",
                "records": shown,
                "hidden": len(ids) - len(shown),
                "ids": ids,
                "count": _count(len(ids), self.family),
                "action": "delete_from_mirror",
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, DELETE_TEMPLATE, context)
        deleted = records_delete(family=self.family, queryset=self.model._default_manager.all(), ids=ids)
        self.message_user(
            request,
            f"{_count(deleted, self.family)} deleted from the mirror, with their lines. The ledger keeps "
            "them: the next full resync brings back whatever still exists there.",
            messages.SUCCESS,
        )
        return None

    @admin.action(
        description="Refresh selected %(verbose_name_plural)s from the ledger", permissions=["refresh"]
    )
    def refresh_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        connection_ids = queryset.order_by().values_list("connection_id", flat=True).distinct()
        queued, failed = [], []
        for connection in Connection.objects.filter(pk__in=list(connection_ids)).order_by("pk"):
            try:
                run = family_refresh(
                    connection=connection, family=self.family, full=False, user_id=request.user.pk
                )
            except LedgerlinkError as exc:
                failed.append(f"{connection.display_name}: {exc.message}")
                continue
            url = reverse("admin:integrations_syncrun_change", args=[run.pk])
            queued.append((url, run.pk, connection.display_name))
        if queued:
            runs = format_html_join(", ", '<a href="{}">run #{}</a> ({})', queued)
            self.message_user(
                request,
                format_html(
                    "Queued a pull of {} for {} connection(s): {}.",
                    self.family.label.lower(),
                    len(queued),
                    runs,
                ),
                messages.SUCCESS,
            )
        if failed:
            self.message_user(request, f"Not queued: {'; '.join(failed)}", messages.ERROR)
