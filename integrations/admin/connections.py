"""Connections in the Django admin: what back-office staff see of each ledger connection, and the buttons
they act with (connect, test, reconnect, disconnect, delete).

This module holds the admin itself, its list and form, and the pages that start an authorisation (connect,
reconnect) or show the dashboard; the columns are `connection_columns`, the test, disconnect and delete pages
and bulk actions `connection_actions`. Secrets are never rendered: of tokens and client secrets the admin
shows only whether they are set and when they expire."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from core.errors import LedgerlinkError
from integrations import services
from integrations.admin.connection_actions import ConnectionActions
from integrations.admin.connection_columns import ConnectionColumns, ledger_url
from integrations.admin.dashboard import dashboard_context
from integrations.admin.forms import (
    ConnectForm,
    ConnectionChangeForm,
    CustomConnectionForm,
    custom_provider_choices,
    error_text,
    form_errors_add,
)
from integrations.choices import ConnectionStatusChoices
from integrations.dashboard import dashboard_get
from integrations.filtersets import ConnectionFilterSet
from integrations.models import Connection
from integrations.providers import get_provider
from integrations.views import oauth_browser_bind, oauth_redirect_uri

CONNECT_TEMPLATE = "admin/integrations/connection/connect.html"
DASHBOARD_TEMPLATE = "admin/integrations/dashboard.html"


@admin.register(Connection)
class ConnectionAdmin(ConnectionColumns, ConnectionActions):
    form = ConnectionChangeForm
    list_display = [
        "display_name",
        "provider",
        "tenant",
        "base_currency",
        "status_badge",
        "health_badge",
        "credential_column",
        "created_by",
        "created_at",
    ]
    list_display_links = ["display_name"]
    list_filter = ["provider", "status", "health"]
    list_select_related = ["credential", "created_by"]
    search_fields = ["display_name", "tenant_name", "tenant_id"]
    search_help_text = "Display name or tenant name (contains), or a tenant id (exact)."
    actions = ["test_selected", "disconnect_selected", "delete_selected_connections"]
    readonly_fields = [
        "provider",
        "ledger_link",
        "tenant_name",
        "tenant_id",
        "short_code",
        "base_currency",
        "country",
        "remote_connection_id",
        "status_badge",
        "status_reason",
        "status_changed_at",
        "health_badge",
        "health_checked_at",
        "health_latency",
        "health_error",
        "credential_state",
        "credential_access_expires",
        "credential_refresh_expires",
        "credential_refreshed",
        "credential_error",
        "app_client_secret_state",
        "created_by",
        "created_at",
        "updated_at",
    ]
    fieldsets = [
        (None, {"fields": ["display_name", "provider", "ledger_link"]}),
        (
            "Tenant",
            {
                "fields": [
                    "tenant_name",
                    "tenant_id",
                    "short_code",
                    "base_currency",
                    "country",
                    "remote_connection_id",
                ]
            },
        ),
        ("Status", {"fields": ["status_badge", "status_reason", "status_changed_at"]}),
        ("Health", {"fields": ["health_badge", "health_checked_at", "health_latency", "health_error"]}),
        (
            "Credential",
            {
                "description": "Tokens are stored encrypted and are never shown.",
                "fields": [
                    "credential_state",
                    "credential_access_expires",
                    "credential_refresh_expires",
                    "credential_refreshed",
                    "credential_error",
                ],
            },
        ),
        (
            "App override",
            {
                "description": "Authorise this connection as another ledger app than the environment's. "
                "Takes effect at the next reconnect.",
                "fields": ["app_client_id", "app_client_secret_state", "new_app_client_secret"],
            },
        ),
        ("Settings", {"classes": ["ll-settings"], "fields": ["settings"]}),
        ("Record", {"fields": ["created_by", "created_at", "updated_at"]}),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Connection]:
        # The admin never shows a token set or a credential's client secret: don't load and decrypt them.
        return (
            super()
            .get_queryset(request)
            .select_related("credential", "created_by")
            .defer("credential__tokens", "credential__client_secret")
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Connection], search_term: str
    ) -> tuple[QuerySet[Connection], bool]:
        # The API's `q` search (one FilterSet per model), so staff and API clients find the same rows.
        term = search_term.strip()
        if not term:
            return queryset, False
        return ConnectionFilterSet(queryset=queryset).search(queryset, "q", term), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        # "Add" is the connect page: connecting a ledger is what it takes.
        return self.has_connect_permission(request)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Django's bulk delete cascades at once; delete_selected_connections goes through the service.
        actions.pop("delete_selected", None)
        return actions

    # --- pages ------------------------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        info = f"{self.opts.app_label}_{self.opts.model_name}"
        wrap = self.admin_site.admin_view
        return [
            path("connect/", wrap(self.connect_view), name=f"{info}_connect"),
            path("dashboard/", wrap(self.dashboard_view), name=f"{info}_dashboard"),
            path("<path:object_id>/test/", wrap(self.test_view), name=f"{info}_test"),
            path("<path:object_id>/reconnect/", wrap(self.reconnect_view), name=f"{info}_reconnect"),
            path("<path:object_id>/disconnect/", wrap(self.disconnect_view), name=f"{info}_disconnect"),
            *super().get_urls(),
        ]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Every connection at a glance, with charts: the data of GET /api/v1/dashboard/."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = self._context(request, title="Dashboard", **dashboard_context(dashboard_get()))
        return TemplateResponse(request, DASHBOARD_TEMPLATE, context)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The OAuth callback sends the browser back with ?connections=<ids>, which is no admin lookup:
        # show just the connections it made.
        if "connections" in request.GET:
            ids = [pk for pk in request.GET["connections"].split(",") if pk.isdigit()]
            return HttpResponseRedirect(f"{request.path}?id__in={','.join(ids)}" if ids else request.path)
        return super().changelist_view(request, extra_context)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # Connections are made by authorising at the ledger, never typed in: "Add" is the connect page.
        return HttpResponseRedirect(self._url("connect"))

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: Connection | None = None,
    ) -> HttpResponse:
        if obj is not None:
            usable = obj.status != ConnectionStatusChoices.DELETING
            context.update(
                # "Add" is the connect page, not a next form to fill in.
                show_save_and_add_another=False,
                ledger_url=ledger_url(obj),
                provider_label=get_provider(obj.provider).label,
                can_test=usable and self.has_refresh_permission(request, obj),
                can_reconnect=usable and self.has_connect_permission(request, obj),
                can_disconnect=usable
                and obj.status != ConnectionStatusChoices.DISCONNECTED
                and self.has_disconnect_permission(request, obj),
                # Also while deleting: a failed deletion is retried with the same button.
                can_delete=self.has_delete_permission(request, obj),
                needs_reconnect=obj.status
                in (ConnectionStatusChoices.NEEDS_REAUTH, ConnectionStatusChoices.DISCONNECTED),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def save_model(self, request: HttpRequest, obj: Connection, form: forms.Form, change: bool) -> None:
        # ConnectionChangeForm.clean already saved through services.connection_update.
        return

    def connect_view(self, request: HttpRequest) -> HttpResponse:
        """Choose a ledger and authorise there, or create a custom connection from an app's credentials."""
        if not self.has_connect_permission(request):
            raise PermissionDenied
        has_custom = bool(custom_provider_choices())
        oauth_form = ConnectForm(prefix="oauth")
        custom_form = CustomConnectionForm(prefix="custom") if has_custom else None
        if request.method == "POST" and request.POST.get("form") == "custom" and has_custom:
            custom_form = CustomConnectionForm(request.POST, prefix="custom")
            if custom_form.is_valid():
                data = custom_form.cleaned_data
                try:
                    connection = services.connection_custom_create(
                        provider_key=data["provider"],
                        client_id=data["client_id"],
                        client_secret=data["client_secret"],
                        display_name=data["display_name"],
                        user_id=request.user.pk,
                    )
                except LedgerlinkError as exc:
                    self.message_user(request, error_text(exc), messages.ERROR)
                    form_errors_add(custom_form, exc)
                else:
                    self.message_user(request, f"Connected: {connection.display_name}.", messages.SUCCESS)
                    return HttpResponseRedirect(self._url("change", connection.pk))
        elif request.method == "POST":
            oauth_form = ConnectForm(request.POST, prefix="oauth")
            if oauth_form.is_valid():
                data = oauth_form.cleaned_data
                try:
                    start = services.oauth_authorize_start(
                        provider_key=data["provider"],
                        user_id=request.user.pk,
                        redirect_uri=oauth_redirect_uri(request),
                        client_id=data["client_id"],
                        client_secret=data["client_secret"],
                        return_url=self._url("changelist"),
                    )
                except LedgerlinkError as exc:
                    self.message_user(request, error_text(exc), messages.ERROR)
                    form_errors_add(oauth_form, exc)
                else:
                    return oauth_browser_bind(request, HttpResponseRedirect(start.authorize_url), start)
        context = self._context(
            request, title="Connect a ledger", oauth_form=oauth_form, custom_form=custom_form
        )
        return TemplateResponse(request, CONNECT_TEMPLATE, context)

    def reconnect_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._connection(request, object_id, needs="connect")
        change_url = self._url("change", connection.pk)
        try:
            start = services.oauth_authorize_start(
                provider_key="",
                user_id=request.user.pk,
                redirect_uri=oauth_redirect_uri(request),
                reconnect=connection,
                return_url=change_url,
            )
        except LedgerlinkError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(change_url)
        return oauth_browser_bind(request, HttpResponseRedirect(start.authorize_url), start)
