from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api.views import (
    ConnectionDeletionViewSet,
    ConnectionViewSet,
    DashboardView,
    SyncRunViewSet,
)
from integrations.views import oauth_callback

router = SimpleRouter()
router.register("connections/deletions", ConnectionDeletionViewSet, basename="connection-deletion")
router.register("connections", ConnectionViewSet, basename="connection")
router.register("sync-runs", SyncRunViewSet, basename="sync-run")

urlpatterns = [
    path("connections/callback/", oauth_callback, name="connection-callback"),
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    *router.urls,
]
