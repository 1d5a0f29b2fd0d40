"""What staff do to connections that already exist, one at a time or in bulk: test, disconnect, delete.

Each page and bulk action parses the request, calls one service of `integrations.services` per connection,
and shows the outcome as an admin message; a service's `LedgerlinkError` becomes an error message, never a
500. A delete never cascades in the request: the service revokes access and deletes in the background."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.errors import LedgerlinkError
from integrations import services
from integrations.admin.forms import error_text
from integrations.models import Connection, ConnectionDeletion

# Each test is a real call to the ledger, made while the browser waits: more than this and the request
# risks the server's timeout. The scheduled health checks cover every connection anyway.
MAX_TESTS_AT_ONCE = 20

CONFIRM_TEMPLATE = "admin/integrations/connection/confirm.html"


class ConnectionActions(admin.ModelAdmin):
    """The base of `ConnectionAdmin`: its test, disconnect and delete pages and bulk actions, and the page
    helpers the connection pages share."""

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    # The connection's ledger actions need the permissions the API's actions declare (core.api.permissions):
    # one user, one answer, whichever door they use.
    def _ledger_permission(self, request: HttpRequest, verb: str) -> bool:
        return request.user.has_perm(f"{self.opts.app_label}.{verb}_{self.opts.model_name}")

    def has_connect_permission(self, request: HttpRequest, obj: Connection | None = None) -> bool:
        return self._ledger_permission(request, "connect")

    def has_disconnect_permission(self, request: HttpRequest, obj: Connection | None = None) -> bool:
        return self._ledger_permission(request, "disconnect")

    def has_refresh_permission(self, request: HttpRequest, obj: Connection | None = None) -> bool:
        return self._ledger_permission(request, "refresh")

    def _connection(self, request: HttpRequest, object_id: str, *, needs: str) -> Connection:
        """The connection of the URL, when the user has the `needs` permission ("delete", "connect", ...)."""
        connection = self.get_object(request, unquote(object_id))
        if connection is None:
            raise Http404("No such connection.")
        if not getattr(self, f"has_{needs}_permission")(request, connection):
            raise PermissionDenied
        return connection

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._connection(request, object_id, needs="refresh")
        try:
            result = services.connection_test(connection=connection)
        except LedgerlinkError as exc:
            self.message_user(request, f"{connection.display_name}: {error_text(exc)}", messages.ERROR)
        else:
            if result.ok:
                self.message_user(
                    request,
                    f"{connection.display_name}: the ledger answered in {result.latency_ms} ms.",
                    messages.SUCCESS,
                )
            else:
                self.message_user(
                    request,
                    f"{connection.display_name}: the test failed after {result.latency_ms} ms: {result.error}",
                    messages.ERROR,
                )
        return HttpResponseRedirect(self._url("change", connection.pk))

    def disconnect_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        connection = self._connection(request, object_id, needs="disconnect")
        change_url = self._url("change", connection.pk)
        if request.method != "POST":
            return self._confirm(
                request,
                [connection],
                title=f"Disconnect {connection.display_name}",
                question="Disconnect this connection?",
                consequence="Ledgerlink's access is revoked at the ledger and its tokens are forgotten. "
                "The mirrored data stays; reconnect to resume syncing.",
                button="Yes, disconnect",
                cancel_url=change_url,
            )
        try:
            services.connection_disconnect(connection=connection)
        except LedgerlinkError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
        else:
            self.log_change(request, connection, "Disconnected.")
            self.message_user(
                request, f"{connection.display_name}: {connection.status_reason}", messages.SUCCESS
            )
        return HttpResponseRedirect(change_url)

    def delete_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Not Django's delete: that would list and cascade every mirrored row in this request. The service
        # revokes access and deletes in batches in the background, leaving a ConnectionDeletion record.
        connection = self._connection(request, object_id, needs="delete")
        if request.method != "POST":
            return self._confirm(
                request,
                [connection],
                title=f"Delete {connection.display_name}",
                question="Delete this connection and everything mirrored from it?",
                consequence=_delete_consequence(),
                button="Yes, delete",
                cancel_url=self._url("change", connection.pk),
            )
        deletion = self._delete_request(request, connection)
        if deletion is None:
            return HttpResponseRedirect(self._url("change", connection.pk))
        self.message_user(
            request,
            format_html(
                'Deleting {} and its data in the background: follow it in <a href="{}">deletion #{}</a>.',
                connection.display_name,
                reverse("admin:integrations_connectiondeletion_change", args=[deletion.pk]),
                deletion.pk,
            ),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._url("changelist"))

    def delete_model(self, request: HttpRequest, obj: Connection) -> None:
        # Whatever path reaches a delete goes through the service, never Django's cascade.
        self._delete_request(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        names = [
            connection.display_name
            for connection in queryset
            if self._delete_request(request, connection) is not None
        ]
        if names:
            self.message_user(
                request,
                format_html(
                    'Deleting {} and their data in the background: follow them in <a href="{}">deletions</a>.',
                    ", ".join(names),
                    reverse("admin:integrations_connectiondeletion_changelist"),
                ),
                messages.SUCCESS,
            )

    def _delete_request(self, request: HttpRequest, connection: Connection) -> ConnectionDeletion | None:
        """Queue the deletion; a refusal (already being deleted...) becomes an error message."""
        try:
            deletion = services.connection_delete_request(connection=connection, user_id=request.user.pk)
        except LedgerlinkError as exc:
            self.message_user(request, f"{connection.display_name}: {error_text(exc)}", messages.ERROR)
            return None
        self.log_change(request, connection, f"Deletion requested (deletion #{deletion.pk}).")
        return deletion

    def _confirm(
        self,
        request: HttpRequest,
        connections: list[Connection],
        *,
        title: str,
        question: str,
        consequence: str,
        button: str,
        cancel_url: str,
        action: str = "",
    ) -> TemplateResponse:
        context = self._context(
            request,
            title=title,
            question=question,
            consequence=consequence,
            button=button,
            cancel_url=cancel_url,
            connections=connections,
            action=action,
            action_checkbox_name=ACTION_CHECKBOX_NAME,
        )
        return TemplateResponse(request, CONFIRM_TEMPLATE, context)

    # --- bulk actions -------------------------------------------------------------------------------

    @admin.action(description="Test selected connections", permissions=["refresh"])
    def test_selected(self, request: HttpRequest, queryset: QuerySet[Connection]) -> None:
        connections = list(queryset[: MAX_TESTS_AT_ONCE + 1])
        if len(connections) > MAX_TESTS_AT_ONCE:
            self.message_user(
                request,
                f"Select at most {MAX_TESTS_AT_ONCE} connections to test at once; "
                "the scheduled health checks test every connection.",
                messages.WARNING,
            )
            return
        passed, failed = [], []
        for connection in connections:
            try:
                result = services.connection_test(connection=connection)
            except LedgerlinkError as exc:
                failed.append(f"{connection.display_name}: {error_text(exc)}")
                continue
            if result.ok:
                passed.append(f"{connection.display_name} ({result.latency_ms} ms)")
            else:
                failed.append(f"{connection.display_name}: {result.error}")
        _summary(self, request, "Answered", passed, failed)

    @admin.action(description="Disconnect selected connections", permissions=["disconnect"])
    def disconnect_selected(
        self, request: HttpRequest, queryset: QuerySet[Connection]
    ) -> TemplateResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirm(
                request,
                list(queryset),
                title="Disconnect connections",
                question="Disconnect these connections?",
                consequence="Ledgerlink's access is revoked at each ledger and the tokens are forgotten. "
                "The mirrored data stays; reconnect to resume syncing.",
                button="Yes, disconnect them",
                cancel_url=self._url("changelist"),
                action="disconnect_selected",
            )
        done, failed = [], []
        for connection in queryset:
            try:
                services.connection_disconnect(connection=connection)
            except LedgerlinkError as exc:
                failed.append(f"{connection.display_name}: {error_text(exc)}")
            else:
                self.log_change(request, connection, "Disconnected.")
                done.append(connection.display_name)
        _summary(self, request, "Disconnected", done, failed)
        return None

    @admin.action(description="Delete selected connections and their data", permissions=["delete"])
    def delete_selected_connections(
        self, request: HttpRequest, queryset: QuerySet[Connection]
    ) -> TemplateResponse | None:
        if request.POST.get("post") != "yes":
            return self._confirm(
                request,
                list(queryset),
                title="Delete connections",
                question="Delete these connections and everything mirrored from them?",
                consequence=_delete_consequence(),
                button="Yes, delete them",
                cancel_url=self._url("changelist"),
                action="delete_selected_connections",
            )
        self.delete_queryset(request, queryset)
        return None


def _delete_consequence() -> str:
    return (
        "Ledgerlink's access is revoked at the ledger, then the connection and every record mirrored from "
        "it are deleted in the background. Nothing is deleted in the ledger itself. This cannot be undone."
    )


def _summary(
    model_admin: admin.ModelAdmin, request: HttpRequest, verb: str, done: list[str], failed: list[str]
) -> None:
    if done:
        model_admin.message_user(request, f"{verb}: {', '.join(done)}.", messages.SUCCESS)
    if failed:
        model_admin.message_user(request, f"Failed: {'; '.join(failed)}", messages.ERROR)
