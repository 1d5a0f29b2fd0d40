"""QBO's error envelope and the faults the emulator raises, with Intuit's codes, messages and details.

`{"Fault":{"Error":[{"Message":..,"Detail":..,"code":"6240","element":..}],"type":"ValidationFault"},
"time":..}` with HTTP 400; inside a batch the same Fault object sits in the item, under HTTP 200."""

from __future__ import annotations

from typing import Any

INACTIVE_DETAIL = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields with "
    "accounts, customers, items, vendors or employees."
)


class QboFault(Exception):
    """One Intuit fault. Raising it anywhere in a write abandons the whole write."""

    def __init__(
        self,
        code: str,
        message: str,
        detail: str,
        *,
        element: str | None = "",
        fault_type: str = "ValidationFault",
        status: int = 400,
        with_time: bool = True,
    ) -> None:
        self.code, self.message, self.detail = code, message, detail
        self.element, self.fault_type, self.status = element, fault_type, status
        # Intuit's 2030 answer is the one recorded fault without a `time`.
        self.with_time = with_time
        super().__init__(f"{code} {message}: {detail}")

    def fault(self) -> dict[str, Any]:
        error: dict[str, Any] = {"Message": self.message, "Detail": self.detail, "code": self.code}
        if self.element is not None:
            error["element"] = self.element
        return {"Error": [error], "type": self.fault_type}


def object_not_found(element: str = "") -> QboFault:
    """610: an unknown or inactive list object, or a transaction that does not exist (any more)."""
    return QboFault("610", "Object Not Found", INACTIVE_DETAIL, element=element)


def stale_object(actor: str) -> QboFault:
    return QboFault(
        "5010",
        "Stale Object Error",
        f"Stale Object Error : You and {actor} were working on this at the same time. {actor} finished "
        "before you did, so your work was not saved.",
    )


def duplicate_name() -> QboFault:
    # The recorded Customer answer carries exactly this detail, ": null" included.
    return QboFault(
        "6240", "Duplicate Name Exists Error", "The name supplied already exists. : null", element=None
    )


def duplicate_doc_number(doc_number: str, entity: str, record_id: str) -> QboFault:
    return QboFault(
        "6140",
        "Duplicate Document Number Error",
        "Duplicate Document Number Error : You must specify a different number. This number has already "
        f"been used. DocNumber={doc_number} is assigned to TxnType={entity} with TxnId={record_id}",
    )


def unknown_property(name: str, entity: str, known: list[str]) -> QboFault:
    listed = ", ".join(f'"{key}"' for key in known)
    return QboFault(
        "2010",
        "Request has invalid or unsupported property",
        f'Property Name:Unrecognized field "{name}" (class com.intuit.schema.finance.v3.{entity}), not '
        f"marked as ignorable ({len(known)} known properties: {listed}])\n specified is unsupported or "
        "invalid",
        element=None,
    )


def unreadable_body(reason: str) -> QboFault:
    return QboFault(
        "2010",
        "Request has invalid or unsupported property",
        f"Property Name:Can not parse the request body: {reason} specified is unsupported or invalid",
        element=None,
    )


def required_missing(name: str) -> QboFault:
    return QboFault(
        "2020",
        "Required param missing, need to supply the required value for the API",
        f"Required parameter {name} is missing in the request",
        element=name,
    )


def invalid_id(value: str) -> QboFault:
    return QboFault(
        "2030",
        "Invalid ID",
        f"Id should be a valid number. Supplied value:{value}",
        element="Id",
        with_time=False,
    )


def invalid_enumeration(name: str, value: str) -> QboFault:
    return QboFault(
        "2170",
        "Invalid Enumeration",
        f"Invalid Enumeration : {value} is not a valid value for {name}",
        element=name,
    )


def invalid_number(name: str, value: Any) -> QboFault:
    return QboFault(
        "2050",
        "Invalid String",
        f"Invalid number for {name}. Supplied value:{value}",
        element=name,
    )


def invalid_query(detail: str) -> QboFault:
    return QboFault("4001", "Invalid query", detail, element=None)


def business_rule(detail: str) -> QboFault:
    return QboFault(
        "6000",
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
    )


def unsupported(detail: str) -> QboFault:
    return QboFault("500", "Unsupported Operation", detail, element=None)


def unsupported_path(relative: str, full: str) -> QboFault:
    return unsupported(
        f"Operation Could not find resource for relative : {relative} of full path: {full} is not supported."
    )
