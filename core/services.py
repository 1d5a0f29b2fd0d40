"""Core use cases: API tokens and the first staff user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, PermissionDenied
from core.models import ApiToken

_DEFAULT = object()


def api_token_create(
    *, user: User, name: str = "", is_service: bool = False, expires_in: timedelta | object | None = _DEFAULT
) -> tuple[ApiToken, str]:
    """A new token for `user` and its key, which is stored only as a digest: the one time it is seen.
    `expires_in`: None for a token that never expires; by default hours for a person's token
    (`API_TOKEN_TTL_HOURS`), days for a service token (`API_SERVICE_TOKEN_TTL_DAYS`)."""
    if not user.is_active:
        raise PermissionDenied("An inactive user gets no API token.")
    if expires_in is _DEFAULT:
        expires_in = (
            timedelta(days=settings.API_SERVICE_TOKEN_TTL_DAYS)
            if is_service
            else timedelta(hours=settings.API_TOKEN_TTL_HOURS)
        )
    ApiToken.objects.filter(user=user, expiry__lt=timezone.now()).delete()
    token, key = ApiToken.objects.create(user=user, expiry=expires_in, name=name[:100], is_service=is_service)
    return token, key


def api_token_issue(*, user: User, name: str = "") -> str:
    """A new interactive token for a staff user (each login its own, each expiring)."""
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("Only Ledgerlink staff users may use the API.")
    return api_token_create(user=user, name=name)[1]


def api_tokens_revoke(*, user_id: int, keep: ApiToken | None = None) -> int:
    """Revoke every token of the user (but `keep`); how many."""
    tokens = ApiToken.objects.filter(user_id=user_id)
    if keep is not None:
        tokens = tokens.exclude(pk=keep.pk)
    deleted, _ = tokens.delete()
    return deleted


@dataclass(frozen=True)
class BootstrapResult:
    username: str
    created: bool
    # Set only when this call generated the password: the one time anyone will see it.
    generated_password: str | None


@transaction.atomic
def admin_user_bootstrap(*, username: str, email: str, password: str | None = None) -> BootstrapResult:
    """Make sure a staff superuser `username` exists.

    Idempotent: an existing user keeps its password and is only (re)granted staff and superuser rights.
    A new user gets `password`, which must pass the password validators, or a generated one.
    """
    if not username:
        raise InvalidInput(fields={"username": ["A username is required."]})
    User = get_user_model()
    user = User.objects.select_for_update().filter(username=username).first()
    if user is not None:
        if not (user.is_staff and user.is_superuser and user.is_active):
            user.is_staff = user.is_superuser = user.is_active = True
            user.save(update_fields=["is_staff", "is_superuser", "is_active"])
        return BootstrapResult(username=username, created=False, generated_password=None)

    generated = None
    if password:
        try:
            validate_password(password, User(username=username, email=email))
        except ValidationError as exc:
            raise InvalidInput("The admin password is too weak.", fields={"password": exc.messages}) from None
    else:
        password = generated = secrets.token_urlsafe(18)
    User.objects.create_superuser(username=username, email=email, password=password)
    return BootstrapResult(username=username, created=True, generated_password=generated)
