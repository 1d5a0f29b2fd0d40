"""What a client may write, per entity: a small declarative schema that reads an input element.

Reading keeps only the declared (writable) fields, so read-only and unknown fields the SDK always sends
(`HasAttachments: false`, `HasValidationErrors: false`...) are ignored, as Xero ignores them. A value of the
wrong kind is either unreadable (a bad date: the whole request fails with PostDataInvalid, as on Xero) or a
validation error on its element."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sandbox.xero.api import wire


class Field:
    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Field):
    max_length: int | None = None

    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        if isinstance(value, bool | dict | list):
            errors.append(f"{name} must be a string.")
            return None
        text = value if isinstance(value, str) else str(value)
        if self.max_length is not None and len(text) > self.max_length:
            errors.append(f"{name} must not be more than {self.max_length} characters long.")
        return text


@dataclass(frozen=True)
class Choice(Field):
    values: frozenset[str]

    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        if not isinstance(value, str) or value not in self.values:
            errors.append(f"'{value}' is not a valid value for {name}.")
            return None
        return value


@dataclass(frozen=True)
class Flag(Field):
    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "false"}:
            return value.strip().lower() == "true"
        raise wire.PostDataInvalid(f"The value '{value}' of {name} is not a valid boolean.")


@dataclass(frozen=True)
class Number(Field):
    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        if isinstance(value, bool):
            raise wire.PostDataInvalid(f"The value '{value}' of {name} is not a valid number.")
        if isinstance(value, Decimal):
            number = value
        elif isinstance(value, int):
            number = Decimal(value)
        elif isinstance(value, str):
            try:
                number = Decimal(value.strip())
            except InvalidOperation:
                raise wire.PostDataInvalid(f"The value '{value}' of {name} is not a valid number.") from None
        else:
            raise wire.PostDataInvalid(f"The value '{value}' of {name} is not a valid number.")
        if not number.is_finite():
            raise wire.PostDataInvalid(f"The value '{value}' of {name} is not a valid number.")
        return number


@dataclass(frozen=True)
class Day(Field):
    """A date field, stored as Xero writes it: `/Date(<midnight UTC ms>+0000)/`."""

    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        return wire.ms_date(wire.parse_day(value))


@dataclass(frozen=True)
class Obj(Field):
    fields: dict[str, Field] = field(default_factory=dict)

    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        if not isinstance(value, dict):
            raise wire.PostDataInvalid(f"{name} must be an object.")
        result: dict[str, Any] = {}
        for key, spec in self.fields.items():
            item = value.get(key)
            if item is None:
                continue
            read = spec.read(item, key, errors)
            if read is not None:
                result[key] = read
        return result


@dataclass(frozen=True)
class Many(Field):
    item: Field

    def read(self, value: Any, name: str, errors: list[str]) -> Any:
        if not isinstance(value, list):
            raise wire.PostDataInvalid(f"{name} must be an array.")
        # Xero's own bodies carry null placeholders in lists (see the PurchaseOrders example).
        read = (self.item.read(item, name, errors) for item in value if item is not None)
        return [item for item in read if item is not None]


def read_element(schema: Obj, element: Any) -> tuple[dict[str, Any], list[str]]:
    """The writable fields of one input element, and its validation errors."""
    errors: list[str] = []
    values = schema.read(element, "element", errors)
    return values, errors
