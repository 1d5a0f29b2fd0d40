from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from rest_framework.exceptions import AuthenticationFailed

from core.api.authentication import TokenAuthentication
from core.health import health_check


def _staff(request: HttpRequest) -> bool:
    """A staff user's session or API token (a wrong token is simply not staff: this page stays public)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.is_active and user.is_staff:
        return True
    try:
        authenticated = TokenAuthentication().authenticate(request)
    except AuthenticationFailed:
        return False
    return bool(authenticated and authenticated[0].is_staff)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Public liveness and readiness: 200 when every check passes, 503 otherwise. What each check found
    (database vendor, broker, clusters and workers) is for staff only: it maps the deployment."""
    healthy, checks = health_check()
    body: dict[str, object] = {"status": "ok" if healthy else "fail"}
    if _staff(request):
        body["checks"] = checks
    return JsonResponse(body, status=200 if healthy else 503)
