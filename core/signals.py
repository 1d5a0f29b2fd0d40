"""A changed password revokes the user's API tokens, whichever way it was changed (the admin's form, the
changepassword command, set_password in code): the person who knew the old one must not keep a key."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

_PASSWORD_CHANGED = "_ledgerlink_password_changed"  # noqa: S105 (an attribute name)


def password_change_note(
    sender: Any, instance: Any, raw: bool = False, update_fields: Any = None, **kwargs: Any
) -> None:
    if raw or instance.pk is None or (update_fields is not None and "password" not in update_fields):
        return
    before = sender._default_manager.filter(pk=instance.pk).values_list("password", flat=True).first()
    setattr(instance, _PASSWORD_CHANGED, before is not None and before != instance.password)


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
