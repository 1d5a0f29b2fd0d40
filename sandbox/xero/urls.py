"""Xero's three hosts, as sub-paths: login.xero.com → login/, identity.xero.com → identity/,
api.xero.com → api/."""

from django.urls import include, path, re_path

from sandbox.xero import identity

urlpatterns = [
    path("login/identity/connect/authorize", identity.authorize, name="sandbox-xero-authorize"),
    path("identity/connect/token", identity.token, name="sandbox-xero-token"),
    path("identity/connect/revocation", identity.revocation, name="sandbox-xero-revocation"),
    path("identity/.well-known/openid-configuration", identity.discovery, name="sandbox-xero-discovery"),
    # /connections and /Connections: Xero's docs and its SDK disagree on the case.
    re_path(r"^api/[cC]onnections$", identity.connections, name="sandbox-xero-connections"),
    re_path(r"^api/[cC]onnections/(?P<connection_id>[0-9a-fA-F-]{36})$", identity.connection_delete),
    path("api/api.xro/2.0/", include("sandbox.xero.api.urls")),
]
