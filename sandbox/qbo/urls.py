"""Intuit's hosts, as sub-paths of /sandbox/qbo/: the discovery document names every OAuth endpoint, and
the v3 API lives under v3/company/<realmId>/."""

from django.urls import include, path

from sandbox.qbo import identity

urlpatterns = [
    path(".well-known/openid_configuration", identity.discovery, name="sandbox-qbo-discovery"),
    path(".well-known/openid_configuration/", identity.discovery),
    path("connect/oauth2", identity.authorize, name="sandbox-qbo-authorize"),
    path("oauth2/v1/tokens/bearer", identity.token, name="sandbox-qbo-token"),
    path("v2/oauth2/tokens/revoke", identity.revoke, name="sandbox-qbo-revoke"),
    path("v1/openid_connect/userinfo", identity.userinfo, name="sandbox-qbo-userinfo"),
    path("v3/company/<str:realm_id>/", include("sandbox.qbo.api.urls")),
]
