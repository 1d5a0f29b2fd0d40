"""The v3 API under /v3/company/<realmId>/ (the realm is consumed by the gateway). Entity paths are
generic: `/<entity>` and `/<entity>/<id>` serve every declared type; anything else is Intuit's 500
"Unsupported Operation"."""

from django.urls import path, re_path

from sandbox.qbo.api import views

urlpatterns = [
    path("query", views.query, name="sandbox-qbo-query"),
    path("cdc", views.cdc, name="sandbox-qbo-cdc"),
    path("batch", views.batch, name="sandbox-qbo-batch"),
    path("preferences", views.preferences, name="sandbox-qbo-preferences"),
    path("<str:segment>", views.entity_collection, name="sandbox-qbo-entity"),
    path("<str:segment>/<str:record_id>", views.entity_item, name="sandbox-qbo-entity-item"),
    re_path(r"^(?P<rest>.*)$", views.unsupported),
]
