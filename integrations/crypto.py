"""Encryption of secrets at rest with the keys in LEDGERLINK_ENCRYPTION_KEYS.

The first key encrypts; every key decrypts, so a key can be rotated in: put the new key first, run
`manage.py credentials_reencrypt`, then drop the old key."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


class DecryptionFailed(Exception):
    """A stored value was not encrypted with any configured key (a key was dropped too early)."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("LEDGERLINK_ENCRYPTION_KEYS is empty: credentials cannot be stored.")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.LEDGERLINK_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt(value: str) -> str:
    with _readable():
        return fernet().decrypt(value.encode()).decode()


def reencrypt(value: str) -> str:
    """The same secret, encrypted with the first key (a no-op in meaning, a new ciphertext)."""
    with _readable():
        return fernet().rotate(value.encode()).decode()


@contextmanager
def _readable() -> Iterator[None]:
    try:
        yield
    except InvalidToken:
        raise DecryptionFailed(
            "A stored secret cannot be decrypted with any key in LEDGERLINK_ENCRYPTION_KEYS."
        ) from None


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token; Python code sees plain text, the database never does.

    Not searchable or orderable by content, by design. The empty string is stored as the empty string so
    "not set" stays visible without decrypting."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        if value is None or value == "":
            return value
        return encrypt(str(value))


class EncryptedJSONField(EncryptedTextField):
    """A JSON document stored encrypted (a token set: tokens, expiries, scopes)."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        text = super().from_db_value(value, expression, connection)
        if text is None or text == "":
            return {}
        return json.loads(text)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value) if value else {}
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return super().get_prep_value(json.dumps(value, sort_keys=True) if value else "")
