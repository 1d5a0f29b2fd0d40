from django.urls import include, path
from rest_framework.routers import SimpleRouter

from config.urls import handler404, handler500
from config.urls import urlpatterns as base_urlpatterns
from tests.testapp.api import WidgetViewSet
from tests.testapp.entities import WIDGETS, WidgetRecordViewSet

router = SimpleRouter()
router.register("widgets", WidgetViewSet)
router.register(WIDGETS.path, WidgetRecordViewSet, basename="widget-record")

urlpatterns = [path("api/v1/testapp/", include(router.urls)), *base_urlpatterns]

__all__ = ["handler404", "handler500", "urlpatterns"]
