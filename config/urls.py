"""Top-level routes. The API is versioned under /api/v1/; each app contributes its own api/urls.py."""

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from core.api import views as core_api_views
from core.views import healthz

api_v1 = [
    path("", include("core.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("accounting.api.urls")),
]

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "v1"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

if apps.is_installed("sandbox") and settings.LEDGERLINK_SANDBOX_ENABLED:
    # The emulated ledgers, installed by the dev and test settings only (never by prod). Ledgerlink's own
    # code never imports them; it reaches them over HTTP only.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))

handler404 = core_api_views.handler404
handler500 = core_api_views.handler500
