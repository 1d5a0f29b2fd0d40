"""API tokens in the back office: listed by their first characters, never their digest; made with the key
shown once; revoked by deleting them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.http import HttpRequest

from core.models import ApiToken
from core.services import api_token_create


class ApiTokenCreateForm(forms.ModelForm):
    expires_in_days = forms.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text="Leave empty for the default: hours for a person's token, a year for a service token.",
    )

    class Meta:
        model = ApiToken
        fields = ["user", "name", "is_service"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user_field = self.fields["user"]
        if isinstance(user_field, forms.ModelChoiceField):
            user_field.queryset = get_user_model()._default_manager.filter(is_active=True)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["token_key", "user", "name", "is_service", "created", "expiry", "last_used_at"]
    list_filter = ["is_service"]
    search_fields = ["token_key", "name", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ("token_key", "user", "name", "is_service", "created", "expiry", "last_used_at")
    fields = readonly_fields
    actions = ["delete_selected"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = ApiTokenCreateForm
            kwargs["fields"] = ["user", "name", "is_service", "expires_in_days"]
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ["user", "name", "is_service", "expires_in_days"] if obj is None else self.fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a token is made and revoked, never edited

    def save_model(self, request: HttpRequest, obj: ApiToken, form: Any, change: bool) -> None:
        days = form.cleaned_data.get("expires_in_days")
        created, key = api_token_create(
            user=obj.user,
            name=obj.name,
            is_service=obj.is_service,
            **({"expires_in": timedelta(days=days)} if days else {}),
        )
        obj.pk, obj.digest, obj.token_key = created.pk, created.digest, created.token_key
        obj._state.adding = False
        self.message_user(
            request,
            f"The token's key, shown this once (only its digest is kept): {key}",
            messages.WARNING,
        )
