from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api.exceptions import error_body
from core.api.permissions import ANY_API_USER
from core.api.serializers import CurrentUserSerializer, LoginSerializer, TokenSerializer
from core.models import ApiToken
from core.services import api_token_create


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def handler404(request: HttpRequest, exception: Exception) -> HttpResponse:
    """URLs that match no route: JSON under /api/, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(
            error_body(status_code=404, code="not_found", message="No such endpoint."), status=404
        )
    return defaults.page_not_found(request, exception)


def handler500(request: HttpRequest) -> HttpResponse:
    """Errors outside DRF's handling (middleware, non-API views): still JSON for API clients."""
    if _is_api(request):
        body = error_body(
            status_code=500,
            code="server_error",
            message="An unexpected error occurred. It has been logged; quote the request id when reporting it.",
        )
        return JsonResponse(body, status=500)
    return defaults.server_error(request)


class TokenObtainView(APIView):
    """Exchange a staff user's username and password for an API token (public, throttled)."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginSerializer, responses=TokenSerializer, auth=[])
    def post(self, request: Request) -> Response:
        serializer = LoginSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        token, key = api_token_create(user=serializer.validated_data["user"], name="Login")
        return Response(
            TokenSerializer({"token": key, "prefix": token.token_key, "expiry": token.expiry}).data
        )


class LogoutView(APIView):
    """Revoke the token this request presents (other tokens of the user stay)."""

    required_permission = ANY_API_USER

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        if isinstance(request.auth, ApiToken):
            request.auth.delete()
        return Response(status=204)


class CurrentUserView(APIView):
    """Who the presented credentials belong to."""

    required_permission = ANY_API_USER

    @extend_schema(responses=CurrentUserSerializer)
    def get(self, request: Request) -> Response:
        return Response(CurrentUserSerializer(request.user).data)
