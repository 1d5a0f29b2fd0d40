"""Play the user at the sandbox's consent screen, over HTTP only: open the authorize URL, pick tenants,
allow or deny, and return where the sandbox sends the browser next (the app's callback URL with its query).

Used by the demo (through `manage.py sandbox_consent`) and by tests, in place of a person with a browser."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class ConsentError(Exception):
    """The consent screen did not redirect (bad client, bad redirect URI, nothing chosen...)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def consent_give(authorize_url: str, *, tenant_ids: list[str] | None = None, allow: bool = True) -> str:
    """Submit the consent form of `authorize_url` and return the redirect location.

    `tenant_ids`: the Xero organisations (several) or the QBO company (the first) to authorise."""
    opener = urllib.request.build_opener(
        _NoRedirect, urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
    )
    # The consent page is a form with CSRF protection, as a browser sees it: load it, then submit it.
    try:
        with opener.open(authorize_url, timeout=30) as page:
            html = page.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        if exc.code in (301, 302, 303, 307) and exc.headers.get("Location"):
            return exc.headers["Location"]  # an error the sandbox reports straight to the app
        raise ConsentError(f"The consent screen answered HTTP {exc.code}.") from None
    token = _CSRF_INPUT.search(html)
    parts = urllib.parse.urlsplit(authorize_url)
    fields = [*urllib.parse.parse_qsl(parts.query), ("decision", "allow" if allow else "deny")]
    if token:
        fields.append(("csrfmiddlewaretoken", token.group(1)))
    for tenant_id in tenant_ids or []:
        fields += [("tenant", tenant_id), ("realm", tenant_id)]
    target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    request = urllib.request.Request(  # noqa: S310 - the sandbox's own consent URL, http(s) only
        target,
        data=urllib.parse.urlencode(fields).encode(),
        method="POST",
        headers={"Referer": authorize_url},
    )
    try:
        with opener.open(request, timeout=30) as response:
            raise ConsentError(f"The consent screen answered {response.status} instead of redirecting.")
    except urllib.error.HTTPError as exc:
        if exc.code in (301, 302, 303, 307) and exc.headers.get("Location"):
            return exc.headers["Location"]
        raise ConsentError(f"The consent screen answered HTTP {exc.code}: {exc.read()[:300]!r}") from None
