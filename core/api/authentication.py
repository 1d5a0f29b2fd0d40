"""Token authentication: django-rest-knox's hashed, expiring tokens, recording when each was last used."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from knox.auth import TokenAuthentication as KnoxTokenAuthentication

# At most one write per token and minute: "last used" is for people reading the token list, not an audit log.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenAuthentication(KnoxTokenAuthentication):
    def _cleanup_token(self, auth_token: Any) -> bool:
        # knox also reads every other token of the user on every request to delete expired ones; that is
        # done when a token is made instead (core.services.api_token_create), keeping a request to one query.
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            auth_token.delete()
            return True
        return False

    def validate_user(self, auth_token: Any) -> tuple[Any, Any]:
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            type(token).objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The schema's `tokenAuth`: the same header DRF's tokens used."""

    target_class = "core.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <key>`: POST /api/v1/auth/token/ for a person's token; service tokens "
            "come from an administrator.",
        }
