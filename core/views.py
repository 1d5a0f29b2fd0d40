from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import health_check


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public liveness and readiness: 200 when every check passes, 503 otherwise."""
    healthy, checks = health_check()
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
