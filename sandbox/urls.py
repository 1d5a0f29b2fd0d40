"""The sandbox's routes: each emulated ledger under its own prefix, with the real hosts' sub-paths; the
developer portal at the root; the control API under control/."""

from django.urls import include, path

from sandbox import control, portal

urlpatterns = [
    path("", portal.index, name="sandbox-portal"),
    path("portal/apps", portal.app_create, name="sandbox-portal-app-create"),
    path("portal/apps/<str:client_id>", portal.app_detail, name="sandbox-portal-app"),
    path(
        "portal/apps/<str:client_id>/intent-to-receive",
        portal.app_intent_to_receive,
        name="sandbox-portal-app-itr",
    ),
    path("portal/organisations", portal.organisation_create, name="sandbox-portal-org-create"),
    path("control/tenants", control.tenants, name="sandbox-control-tenants"),
    path("control/tenants/<str:tenant_id>", control.tenant, name="sandbox-control-tenant"),
    path(
        "control/tenants/<str:tenant_id>/limits/reset",
        control.tenant_limits_reset,
        name="sandbox-control-tenant-limits-reset",
    ),
    path("control/apps", control.apps, name="sandbox-control-apps"),
    path("control/apps/<str:client_id>", control.app, name="sandbox-control-app"),
    path(
        "control/apps/<str:client_id>/webhooks/intent-to-receive",
        control.app_intent_to_receive,
        name="sandbox-control-app-itr",
    ),
    path(
        "control/apps/<str:client_id>/webhooks/deliveries",
        control.app_deliveries,
        name="sandbox-control-app-deliveries",
    ),
    path("xero/", include("sandbox.xero.urls")),
    path("qbo/", include("sandbox.qbo.urls")),
]
