"""What a network failure says about a request: never sent, or sent with the answer lost.

Both SDKs stand on urllib3 (xero-python directly, python-quickbooks and intuit-oauth through requests),
whose exceptions tell the two apart: a failure to open the connection (refused, unresolved name, connect
timeout) happens before a byte of the request leaves; a read timeout or a connection closed where the
answer should be happens after the ledger may already have acted. Anything this module cannot place is
treated as sent: a wrong "not sent" could duplicate a document, a wrong "sent" only costs a look-up."""

from __future__ import annotations

import requests
import urllib3

from integrations.errors import OutcomeUnknown, ProviderError, RequestNotSent

# urllib3's NewConnectionError (and NameResolutionError, a subclass) are ConnectTimeoutErrors too.
_NOT_SENT = (urllib3.exceptions.ConnectTimeoutError, requests.ConnectTimeout, ConnectionRefusedError)


def _never_sent(exc: BaseException) -> bool:
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return _never_sent(exc.reason)
    if isinstance(exc, _NOT_SENT):
        return True
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        # requests wraps urllib3's error as its first argument.
        inner = exc.args[0] if exc.args else None
        return isinstance(inner, BaseException) and _never_sent(inner)
    return False


def transport_error(exc: BaseException, *, ledger: str, action: str) -> ProviderError:
    """The typed error for a network failure of a call to `ledger` while doing `action`."""
    name = type(exc).__name__
    if _never_sent(exc):
        return RequestNotSent(f"{ledger} could not be reached while {action}: {name}.")
    return OutcomeUnknown(
        f"{ledger} did not answer while {action} ({name}); whether it acted on the request is not known."
    )
