"""The sandbox's routes: each emulated ledger under its own prefix, with the real hosts' sub-paths."""

from django.urls import include, path

urlpatterns = [
    path("xero/", include("sandbox.xero.urls")),
    path("qbo/", include("sandbox.qbo.urls")),
]
