"""Every API operation for every role, from one table.

The operations are read from the OpenAPI schema, so an endpoint added later joins this test on its own
(and fails it until the table below says what it needs). For each, the table gives the permission it
requires; each role is then asked to call it: where the role holds that permission the answer is anything
but 401/403 (an unknown id's 404, an empty body's 400 or the real answer), elsewhere 403, and 401 without
credentials. The calls use an id that exists nowhere and empty bodies, so nothing is changed: permissions
are checked before a view looks anything up."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from core.checks import undeclared_actions
from core.roles import BOOKKEEPER, INTEGRATION_ADMIN, VIEWER

pytestmark = pytest.mark.django_db

PUBLIC = "public"
MISSING_ID = "987654"

# (method, path pattern): the permission needed, as a verb on the view's model or a full name. Patterns are
# matched in order against the schema's path; the first match wins.
TABLE: list[tuple[str, str, str]] = [
    ("POST", r"/api/v1/auth/token/$", PUBLIC),
    ("GET", r"/api/v1/me/$", "any"),
    ("POST", r"/api/v1/auth/logout/$", "any"),
    ("GET", r"/api/v1/dashboard/$", "integrations.view_connection"),
    ("POST", r"/api/v1/connections/(authorize|custom)/$", "integrations.connect_connection"),
    ("POST", r"/api/v1/connections/\{id\}/reconnect/$", "integrations.connect_connection"),
    ("POST", r"/api/v1/connections/\{id\}/disconnect/$", "integrations.disconnect_connection"),
    ("POST", r"/api/v1/connections/\{id\}/(test|refresh)/$", "integrations.refresh_connection"),
    ("GET", r"/api/v1/connections/\{id\}/sync-states/$", "view"),
    ("GET", r"/api/v1/exports/\{id\}/download/$", "view"),
    # An entity type's own actions.
    ("POST", r"/archive/$", "change"),
    ("POST", r"/unarchive/$", "change"),
    ("POST", r"/bulk-delete/$", "delete"),
    ("POST", r"/api/v1/[a-z-]+/refresh/$", "integrations.refresh_connection"),
    ("GET", r"/statistics/$", "view"),
    ("GET", r"/export/$", "export"),
    # The suite's stand-in app's failing endpoints.
    ("POST", r"/api/v1/testapp/widgets/(explode|clash)/$", "change"),
    # Standard actions last.
    ("GET", r"", "view"),
    ("POST", r"", "add"),
    ("PUT", r"", "change"),
    ("PATCH", r"", "change"),
    ("DELETE", r"", "delete"),
]


def _may(role: str, permission: str) -> bool:
    """What each role may do, said here in words of its own (not read from core.roles)."""
    if permission == "any":
        return True  # every role here is staff: who am I needs nothing more
    app, codename = permission.split(".")
    verb = codename.split("_")[0]
    ledgerlink = app in {"integrations", "accounting"}
    if role == INTEGRATION_ADMIN.name:
        return ledgerlink
    if role == BOOKKEEPER.name:
        return ledgerlink and (
            verb in {"view", "export"}
            or permission == "integrations.refresh_connection"
            or (app == "accounting" and verb == "change")
        )
    if role == VIEWER.name:
        return ledgerlink and verb == "view"
    return False


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    permission: str  # in full, "any" or PUBLIC
    documented: str | None  # what the schema says it requires (x-required-permission)

    @property
    def url(self) -> str:
        return re.sub(r"\{[^}]+\}", MISSING_ID, self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        for method in methods:
            method = method.upper()
            declared = next(
                (need for verb, pattern, need in TABLE if verb == method and re.search(pattern, path)), None
            )
            assert declared is not None, f"{method} {path}: add it to TABLE"
            if declared not in (PUBLIC, "any") and "." not in declared:
                view = resolve(re.sub(r"\{[^}]+\}", MISSING_ID, path)).func.cls  # type: ignore[attr-defined]
                model = view.queryset.model if view.queryset is not None else view.entity_type.model
                declared = f"{model._meta.app_label}.{declared}_{model._meta.model_name}"
            documented = methods[method.lower()].get("x-required-permission")
            operations.append(Operation(method, path, declared, documented))
    return operations


OPERATIONS = _operations()
ROLES = ["nobody", VIEWER.name, BOOKKEEPER.name, INTEGRATION_ADMIN.name]


@pytest.fixture
def clients() -> dict[str, APIClient]:
    made = {}
    for role in ROLES:
        user = get_user_model().objects.create_user(username=f"user-{role}", is_staff=True)
        if role != "nobody":
            user.groups.add(Group.objects.get(name=role))
        client = APIClient()
        client.force_authenticate(user)
        made[role] = client
    return made


def _call(client: APIClient, operation: Operation) -> int:
    send = getattr(client, operation.method.lower())
    if operation.method in ("POST", "PUT", "PATCH"):
        return send(operation.url, {}, format="json").status_code
    return send(operation.url).status_code


def test_the_schema_has_every_operation():
    assert len(OPERATIONS) > 150
    assert undeclared_actions() == []


def test_the_schema_tells_each_operations_permission():
    told = {
        str(operation): operation.documented
        for operation in OPERATIONS
        if operation.documented != {"any": "", PUBLIC: None}.get(operation.permission, operation.permission)
    }
    assert told == {}


def test_every_operation_for_every_role(clients):
    wrong = []
    for operation in OPERATIONS:
        if operation.permission == PUBLIC:
            continue
        anonymous = _call(APIClient(), operation)
        if anonymous != 401:
            wrong.append(f"{operation} anonymous: {anonymous}, expected 401")
        for role, client in clients.items():
            status = _call(client, operation)
            allowed = _may(role, operation.permission)
            if status >= 500 or (allowed and status in (401, 403)) or (not allowed and status != 403):
                wrong.append(
                    f"{operation} as {role}: {status}, expected {'allowed' if allowed else 403}"
                    f" ({operation.permission})"
                )
    assert wrong == []


def test_roles_hold_exactly_what_they_say():
    """The groups made after migrate hold the permissions the table's words give each role."""
    for role in (VIEWER, BOOKKEEPER, INTEGRATION_ADMIN):
        held = {
            f"{app}.{codename}"
            for app, codename in Group.objects.get(name=role.name).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        everything = {
            f"{app}.{codename}"
            for app, codename in Permission.objects.values_list("content_type__app_label", "codename")
        }
        expected = {name for name in everything if _may(role.name, name)}
        # The planned apps have no permissions yet; the roles take theirs when they come.
        assert {name for name in held if name.split(".")[0] in {"integrations", "accounting"}} == expected
        assert "core" not in {name.split(".")[0] for name in held} or role is INTEGRATION_ADMIN


def test_a_user_outside_staff_without_a_service_token_is_refused_everything():
    user = get_user_model().objects.create_user(username="outsider")
    user.groups.add(Group.objects.get(name=INTEGRATION_ADMIN.name))
    client = APIClient()
    client.force_authenticate(user)
    assert client.get("/api/v1/me/").status_code == 403
    assert client.get("/api/v1/connections/").status_code == 403


def test_an_undeclared_action_is_refused_even_to_a_superuser(settings):
    from rest_framework.decorators import action
    from rest_framework.response import Response

    from core.api.viewsets import BaseGenericViewSet
    from integrations.models import Connection

    class Undeclared(BaseGenericViewSet):
        queryset = Connection.objects.all()

        @action(detail=False, methods=["get"])
        def anything(self, request):
            return Response({})

    view = Undeclared.as_view({"get": "anything"})
    superuser = get_user_model().objects.create_superuser(username="root", password="x" * 12)
    from rest_framework.test import APIRequestFactory, force_authenticate

    request = APIRequestFactory().get("/anything/")
    force_authenticate(request, superuser)
    assert view(request).status_code == 403
