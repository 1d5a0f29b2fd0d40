"""Connections in the Django admin: what back-office staff see of each ledger connection, and the buttons
they act with (connect, test, reconnect, disconnect, delete).

Every button, page and bulk action parses the request, calls one service of `integrations.services` per
connection, and shows the outcome as an admin message; a service's `LedgerlinkError` becomes an error
message or a form error, never a 500. Secrets are never rendered: of tokens and client secrets the admin
shows only whether they are set and when they expire.

`Credential` and `OAuthState` are deliberately not registered: they hold nothing staff act on that the
connection page does not already show, and registering them would put secret-bearing rows one field
addition away from being displayed or edited by hand."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, QuerySet
from django.forms.fields import InvalidJSONInput
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from core.errors import LedgerlinkError
from integrations import services
from integrations.choices import (
    ConnectionDeletionStatusChoices,
    ConnectionHealthChoices,
    ConnectionStatusChoices,
)
from integrations.dashboard import dashboard_get
from integrations.filtersets import ConnectionFilterSet
from integrations.models import Connection, ConnectionDeletion
from integrations.providers import get_provider, providers
from integrations.views import oauth_redirect_uri

# Badge colours (classes in templates/admin/integrations/styles.html).
STATUS_COLOURS: dict[str, str] = {
    ConnectionStatusChoices.ACTIVE: "green",
    ConnectionStatusChoices.PENDING: "grey",
    ConnectionStatusChoices.NEEDS_REAUTH: "orange",
    ConnectionStatusChoices.DISCONNECTED: "grey",
    ConnectionStatusChoices.DELETING: "red",
}
HEALTH_COLOURS: dict[str, str] = {
    ConnectionHealthChoices.OK: "green",
    ConnectionHealthChoices.FAILING: "red",
    ConnectionHealthChoices.UNKNOWN: "grey",
}
DELETION_COLOURS: dict[str, str] = {
    ConnectionDeletionStatusChoices.QUEUED: "grey",
    ConnectionDeletionStatusChoices.RUNNING: "orange",
    ConnectionDeletionStatusChoices.SUCCEEDED: "green",
    ConnectionDeletionStatusChoices.FAILED: "red",
}
# Each test is a real call to the ledger, made while the browser waits: more than this and the request
# risks the server's timeout. The scheduled health checks cover every connection anyway.
MAX_TESTS_AT_ONCE = 20

CONFIRM_TEMPLATE = "admin/integrations/connection/confirm.html"
CONNECT_TEMPLATE = "admin/integrations/connection/connect.html"
DASHBOARD_TEMPLATE = "admin/integrations/dashboard.html"


# --- Rendering helpers ------------------------------------------------------------------------------------


def _badge(label: str, colour: str, title: str = "") -> SafeString:
    return format_html('<span class="ll-badge ll-{}" title="{}">{}</span>', colour, title, label)


def _absolute(moment: datetime) -> str:
    return date_format(timezone.localtime(moment), "Y-m-d H:i")


def _relative(moment: datetime) -> str:
    now = timezone.now()
    return f"in {timeuntil(moment, now)}" if moment > now else f"{timesince(moment, now)} ago"


def _moment(moment: datetime | None, *, empty: str = "—") -> SafeString:
    """An absolute time, with how far away it is as its tooltip; past expiries are marked."""
    if moment is None:
        return format_html('<span class="ll-muted">{}</span>', empty)
    return format_html('<span title="{}">{}</span>', _relative(moment), _absolute(moment))


def _expiry(moment: datetime | None, *, empty: str) -> SafeString:
    if moment is None:
        return format_html('<span class="ll-muted">{}</span>', empty)
    expired = moment <= timezone.now()
    return format_html(
        '<span class="{}" title="{}">{}{}</span>',
        "ll-expired" if expired else "",
        _relative(moment),
        _absolute(moment),
        " (expired)" if expired else "",
    )


def _error_text(exc: LedgerlinkError) -> str:
    details = "; ".join(
        f"{name}: {message}" for name, messages_ in exc.fields.items() for message in messages_
    )
    return f"{exc.message} ({details})" if details else exc.message


def _form_errors_add(
    form: forms.BaseForm, exc: LedgerlinkError, renamed: dict[str, str] | None = None
) -> None:
    """Put a service's per-field errors on the form fields they name ("settings.entities.x" on `settings`)."""
    unplaced = False
    for name, field_messages in exc.fields.items():
        head, _, rest = name.partition(".")
        field = (renamed or {}).get(head, head)
        for message in field_messages:
            if field in form.fields:
                form.add_error(field, f"{rest}: {message}" if rest else message)
            else:
                unplaced = True
    if unplaced or not exc.fields:
        form.add_error(None, _error_text(exc))


# --- Connections ------------------------------------------------------------------------------------------


class SettingsJSONField(forms.JSONField):
    """Settings shown indented, so staff can read and edit the document."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class ConnectionChangeForm(forms.ModelForm):
    """Rename, edit settings, override the app. Saved by `services.connection_update`, never by the form."""

    settings = SettingsJSONField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 24, "class": "ll-json"}),
        help_text="Merged into the current settings (a key left out keeps its value) and checked against "
        "this ledger's settings schema.",
    )
    new_app_client_secret = forms.CharField(
        label="New app client secret",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Replaces the stored secret. Leave empty to keep it.",
    )

    class Meta:
        model = Connection
        fields = ["display_name", "settings", "app_client_id"]
        help_texts = {
            "app_client_id": "The ledger app the next reconnect uses. Empty: the app configured in the "
            "environment (clearing it also forgets the secret).",
        }

    def clean_settings(self) -> Any:
        # Settings are only ever merged into: an emptied box (or "{}") changes nothing.
        value = self.cleaned_data.get("settings")
        return self.instance.settings if value is None else value

    # The service validates and saves in one step, so it runs here, where its errors can still become form
    # errors; on an error it has saved nothing. ConnectionAdmin.save_model then has nothing left to do.
    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if self.errors:
            return cleaned
        changed = set(self.changed_data)
        changes: dict[str, Any] = {}
        if "display_name" in changed:
            changes["display_name"] = cleaned["display_name"]
        if "settings" in changed:
            changes["settings_patch"] = cleaned["settings"]
        secret = cleaned.get("new_app_client_secret", "")
        if secret and not cleaned.get("app_client_id"):
            self.add_error("new_app_client_secret", "A client secret needs the client id it belongs to.")
            return cleaned
        if "app_client_id" in changed or secret:
            changes["app_client_id"] = cleaned["app_client_id"]
            changes["app_client_secret"] = secret or None
        if not changes:
            return cleaned
        try:
            connection = services.connection_update(connection=self.instance, **changes)
        except LedgerlinkError as exc:
            _form_errors_add(self, exc, renamed={"app_client_secret": "new_app_client_secret"})
            return cleaned
        # What the service stored (merged settings, trimmed name) is what the form hands back to the admin.
        cleaned.update(
            display_name=connection.display_name,
            settings=connection.settings,
            app_client_id=connection.app_client_id,
        )
        return cleaned


class ConnectForm(forms.Form):
    """Start an authorisation at a ledger (optionally as another app than the environment's)."""

    provider = forms.ChoiceField(label="Ledger")
    client_id = forms.CharField(
        label="Client id",
        required=False,
        help_text="Optional: authorise as this app instead of the one configured in the environment.",
    )
    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Required with a client id.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(provider.key, provider.label) for provider in providers()]  # type: ignore[attr-defined]


class CustomConnectionForm(forms.Form):
    """A connection from an app's own client id and secret (client-credentials grant)."""

    provider = forms.ChoiceField(label="Ledger")
    client_id = forms.CharField(label="Client id")
    client_secret = forms.CharField(
        label="Client secret",
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    display_name = forms.CharField(
        label="Display name", required=False, help_text="Optional: defaults to the organisation's name."
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = custom_provider_choices()  # type: ignore[attr-defined]


def custom_provider_choices() -> list[tuple[str, str]]:
    return [
        (provider.key, provider.label) for provider in providers() if provider.supports_client_credentials
    ]


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
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

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        # Django's bulk delete cascades at once; delete_selected_connections goes through the service.
        actions.pop("delete_selected", None)
        return actions

    # --- columns and read-only fields ---------------------------------------------------------------

    @admin.display(description="Tenant", ordering="tenant_name")
    def tenant(self, obj: Connection) -> SafeString:
        return format_html('{}<br><small class="ll-muted">{}</small>', obj.tenant_name or "—", obj.tenant_id)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: Connection) -> SafeString:
        return _badge(obj.get_status_display(), STATUS_COLOURS.get(obj.status, "grey"), obj.status_reason)

    @admin.display(description="Health", ordering="health")
    def health_badge(self, obj: Connection) -> SafeString:
        badge = _badge(obj.get_health_display(), HEALTH_COLOURS.get(obj.health, "grey"), obj.health_error)
        if obj.health_checked_at is None:
            return badge
        latency = f"{obj.health_latency_ms} ms, " if obj.health_latency_ms is not None else ""
        details = format_html(
            '<br><small class="ll-muted" title="{}">{}checked {}</small>',
            _absolute(obj.health_checked_at),
            latency,
            _relative(obj.health_checked_at),
        )
        if obj.health_error:
            details += format_html(
                '<br><small class="ll-expired" title="{}">{}</small>',
                obj.health_error,
                obj.health_error if len(obj.health_error) <= 80 else f"{obj.health_error[:79]}…",
            )
        return badge + details

    @admin.display(description="Credential", ordering="credential__refresh_expires_at")
    def credential_column(self, obj: Connection) -> SafeString:
        credential = obj.credential
        if credential is None:
            return format_html('<span class="ll-muted">{}</span>', "not set")
        return format_html(
            '<span title="{}">set</span><br><small>access {}</small><br><small>refresh {}</small>',
            credential.get_kind_display(),
            _expiry(credential.access_expires_at, empty="—"),
            _expiry(credential.refresh_expires_at, empty="none"),
        )

    @admin.display(description="Ledger")
    def ledger_link(self, obj: Connection) -> SafeString | str:
        url = _ledger_url(obj)
        if not url:
            return "—"
        label = get_provider(obj.provider).label
        return format_html(
            '<a href="{}" target="_blank" rel="noopener noreferrer">Open in {}</a>', url, label
        )

    @admin.display(description="Latency")
    def health_latency(self, obj: Connection) -> str:
        return "—" if obj.health_latency_ms is None else f"{obj.health_latency_ms} ms"

    @admin.display(description="Credential")
    def credential_state(self, obj: Connection) -> str:
        credential = obj.credential
        return "not set" if credential is None else f"set ({credential.get_kind_display()})"

    @admin.display(description="Access token expires")
    def credential_access_expires(self, obj: Connection) -> SafeString:
        return _expiry(obj.credential.access_expires_at if obj.credential else None, empty="—")

    @admin.display(description="Refresh token expires")
    def credential_refresh_expires(self, obj: Connection) -> SafeString:
        return _expiry(obj.credential.refresh_expires_at if obj.credential else None, empty="—")

    @admin.display(description="Last refreshed")
    def credential_refreshed(self, obj: Connection) -> SafeString:
        credential = obj.credential
        if credential is None:
            return _moment(None)
        return format_html(
            "{} ({} refreshes)", _moment(credential.refreshed_at, empty="never"), credential.refresh_count
        )

    @admin.display(description="Last credential error")
    def credential_error(self, obj: Connection) -> str:
        return (obj.credential.last_error if obj.credential else "") or "—"

    @admin.display(description="App client secret")
    def app_client_secret_state(self, obj: Connection) -> str:
        return "set" if obj.app_client_secret else "not set"

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

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}", args=args)

    def _connection(self, request: HttpRequest, object_id: str, *, delete: bool = False) -> Connection:
        connection = self.get_object(request, unquote(object_id))
        if connection is None:
            raise Http404("No such connection.")
        allowed = (
            self.has_delete_permission(request, connection)
            if delete
            else self.has_change_permission(request, connection)
        )
        if not allowed:
            raise PermissionDenied
        return connection

    def _context(self, request: HttpRequest, **extra: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.opts, **extra}

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        """Every connection at a glance, with charts: the data of GET /api/v1/dashboard/."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        # Imported here: the page's module reads this one's badge colours.
        from integrations.admin_dashboard import dashboard_context

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
                ledger_url=_ledger_url(obj),
                provider_label=get_provider(obj.provider).label,
                can_act=usable and self.has_change_permission(request, obj),
                can_disconnect=usable and obj.status != ConnectionStatusChoices.DISCONNECTED,
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
        if not self.has_add_permission(request):
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
                    self.message_user(request, _error_text(exc), messages.ERROR)
                    _form_errors_add(custom_form, exc)
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
                    self.message_user(request, _error_text(exc), messages.ERROR)
                    _form_errors_add(oauth_form, exc)
                else:
                    return HttpResponseRedirect(start.authorize_url)
        context = self._context(
            request, title="Connect a ledger", oauth_form=oauth_form, custom_form=custom_form
        )
        return TemplateResponse(request, CONNECT_TEMPLATE, context)

    def test_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._connection(request, object_id)
        try:
            result = services.connection_test(connection=connection)
        except LedgerlinkError as exc:
            self.message_user(request, f"{connection.display_name}: {_error_text(exc)}", messages.ERROR)
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

    def reconnect_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        connection = self._connection(request, object_id)
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
            self.message_user(request, _error_text(exc), messages.ERROR)
            return HttpResponseRedirect(change_url)
        return HttpResponseRedirect(start.authorize_url)

    def disconnect_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        connection = self._connection(request, object_id)
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
            self.message_user(request, _error_text(exc), messages.ERROR)
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
        connection = self._connection(request, object_id, delete=True)
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
            self.message_user(request, f"{connection.display_name}: {_error_text(exc)}", messages.ERROR)
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

    @admin.action(description="Test selected connections", permissions=["change"])
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
                failed.append(f"{connection.display_name}: {_error_text(exc)}")
                continue
            if result.ok:
                passed.append(f"{connection.display_name} ({result.latency_ms} ms)")
            else:
                failed.append(f"{connection.display_name}: {result.error}")
        _summary(self, request, "Answered", passed, failed)

    @admin.action(description="Disconnect selected connections", permissions=["change"])
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
                failed.append(f"{connection.display_name}: {_error_text(exc)}")
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


def _ledger_url(connection: Connection) -> str:
    return get_provider(connection.provider).deep_link(
        short_code=connection.short_code, tenant_id=connection.tenant_id
    )


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


# --- Deletions --------------------------------------------------------------------------------------------


DELETION_FIELDS = (
    "connection",
    "provider",
    "tenant_id",
    "status_badge",
    "progress_bar",
    "rows",
    "progress_by_model",
    "revoked",
    "error",
    "requested_by",
    "requested_at",
    "started_at",
    "finished_at",
)


@admin.register(ConnectionDeletion)
class ConnectionDeletionAdmin(admin.ModelAdmin):
    """Read-only: deletion records are written by the deletion task alone."""

    list_display = [
        "connection",
        "provider",
        "status_badge",
        "progress_bar",
        "rows",
        "requested_by",
        "requested_at",
        "finished_at",
        "error_short",
        "revoked",
    ]
    list_filter = ["status", "provider", "revoked"]
    list_select_related = ["requested_by"]
    search_fields = ["connection_name", "tenant_id"]
    readonly_fields = DELETION_FIELDS
    fields = DELETION_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet[ConnectionDeletion]:
        # Whether the connection still exists (to link to it), in the same query as the list.
        return (
            super()
            .get_queryset(request)
            .annotate(connection_exists=Exists(Connection.objects.filter(pk=OuterRef("connection_id"))))
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ConnectionDeletion | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ConnectionDeletion | None = None) -> bool:
        return False

    @admin.display(description="Connection", ordering="connection_name")
    def connection(self, obj: ConnectionDeletion) -> SafeString | str:
        if getattr(obj, "connection_exists", False):
            url = reverse("admin:integrations_connection_change", args=[obj.connection_id])
            return format_html('<a href="{}">{}</a>', url, obj.connection_name)
        return obj.connection_name

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj: ConnectionDeletion) -> SafeString:
        return _badge(obj.get_status_display(), DELETION_COLOURS.get(obj.status, "grey"), obj.error)

    @admin.display(description="Progress")
    def progress_bar(self, obj: ConnectionDeletion) -> SafeString:
        percent = obj.percent
        if percent is None:
            # Not counted yet: an indeterminate bar while it runs, nothing while it waits or after a failure.
            if obj.status == ConnectionDeletionStatusChoices.RUNNING:
                return format_html('<progress max="100" title="{}">…</progress>', "counting rows")
            return format_html('<span class="ll-muted">{}</span>', "—")
        return format_html('<progress max="100" value="{}">{}%</progress> {}%', percent, percent, percent)

    @admin.display(description="Rows deleted")
    def rows(self, obj: ConnectionDeletion) -> str:
        total = "?" if obj.rows_total is None else f"{obj.rows_total:,}"
        return f"{obj.rows_deleted:,} / {total}"

    @admin.display(description="Rows by model")
    def progress_by_model(self, obj: ConnectionDeletion) -> SafeString | str:
        if not obj.progress:
            return "—"
        items = SafeString()
        for label, counts in sorted(obj.progress.items()):
            items += format_html(
                "<li>{}: {} / {}</li>", label, counts.get("deleted", 0), counts.get("total", "?")
            )
        return format_html("<ul>{}</ul>", items)

    @admin.display(description="Error")
    def error_short(self, obj: ConnectionDeletion) -> SafeString | str:
        if not obj.error:
            return ""
        short = obj.error if len(obj.error) <= 80 else f"{obj.error[:79]}…"
        return format_html('<span class="ll-expired" title="{}">{}</span>', obj.error, short)


# The sync run and state pages live beside these, in their own module.
from integrations import admin_sync  # noqa: E402, F401
