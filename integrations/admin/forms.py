"""The connection forms of the admin (edit, connect by OAuth, connect with an app's own credentials), and how
a service's `LedgerlinkError` becomes form errors and messages."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.forms.fields import InvalidJSONInput

from core.errors import LedgerlinkError
from integrations import services
from integrations.models import Connection
from integrations.providers import providers


def error_text(exc: LedgerlinkError) -> str:
    details = "; ".join(
        f"{name}: {message}" for name, messages_ in exc.fields.items() for message in messages_
    )
    return f"{exc.message} ({details})" if details else exc.message


def form_errors_add(
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
        form.add_error(None, error_text(exc))


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
            form_errors_add(self, exc, renamed={"app_client_secret": "new_app_client_secret"})
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
