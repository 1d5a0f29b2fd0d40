"""A changed password revokes the user's API tokens, whichever way it was changed (the admin's form, the
changepassword command, set_password in code): the person who knew the old one must not keep a key."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, is_password_usable

_PASSWORD_CHANGED = "_ledgerlink_password_changed"  # noqa: S105 (an attribute name)


def password_change_note(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    before = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    changed = before is not None and before != instance.password
    if changed and _is_rehash_at_login(instance, before, update_fields):
        changed = False
    setattr(instance, _PASSWORD_CHANGED, changed)


def _is_rehash_at_login(instance: Any, before: str, update_fields: Any) -> bool:
    """The same password hashed again at login because the preferred hasher or its work factor changed
    (AbstractBaseUser.check_password saves only the password, with no raw password kept): Django does not
    count that as a change, nor do we, or a Django upgrade would revoke every token on its user's next login."""
    if getattr(instance, "_password", None) is not None or set(update_fields or ()) != {"password"}:
        return False
    if not (is_password_usable(before) and is_password_usable(instance.password)):
        return False
    try:
        old_hasher, new_hasher = identify_hasher(before), identify_hasher(instance.password)
    except ValueError:
        return False
    preferred = get_hasher()
    due = old_hasher.algorithm != preferred.algorithm or preferred.must_update(before)
    return due and new_hasher.algorithm == preferred.algorithm


def password_change_revoke(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if getattr(instance, _PASSWORD_CHANGED, False):
        from core.services import api_tokens_revoke

        api_tokens_revoke(user_id=instance.pk)
        setattr(instance, _PASSWORD_CHANGED, False)


def signals_connect() -> None:
    from django.db.models.signals import post_save, pre_save

    user_model = get_user_model()
    pre_save.connect(password_change_note, sender=user_model, dispatch_uid="core.password_change_note")
    post_save.connect(password_change_revoke, sender=user_model, dispatch_uid="core.password_change_revoke")
