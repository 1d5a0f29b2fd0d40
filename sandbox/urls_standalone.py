"""Routes of the sandbox served on its own (`sandbox_serve`, settings config.settings.sandbox_server):
the sandbox under /sandbox/, as in the Ledgerlink server, so clients use the same URLs with another port."""

from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/sandbox/", permanent=False)),
    path("sandbox/", include("sandbox.urls")),
]
