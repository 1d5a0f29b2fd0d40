from rest_framework.routers import SimpleRouter

from accounting.api.exports import ExportViewSet
from accounting.api.views import VIEWSETS
from accounting.families import ENDPOINTS

router = SimpleRouter()
for key, viewset in VIEWSETS.items():
    router.register(ENDPOINTS[key].path, viewset, basename=f"mirror-{ENDPOINTS[key].path}")
router.register("exports", ExportViewSet, basename="export")

urlpatterns = router.urls
