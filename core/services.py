"""Core use cases: API tokens and the first staff user."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.errors import InvalidInput, PermissionDenied


def api_token_issue(*, user: User) -> str:
    """The user's API token, created on first use. Only active staff users get one."""
    if not (user.is_active and user.is_staff):
        raise PermissionDenied("Only Ledgerlink staff users may use the API.")
    token, _created = Token.objects.get_or_create(user=user)
    return token.key


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
