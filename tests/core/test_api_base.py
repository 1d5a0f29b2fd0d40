"""The shared API behaviour every endpoint inherits: auth, errors, pagination, strict filters, ordering."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.models import ApiToken
from tests.conftest import api_token_for
from tests.testapp.models import Widget

WIDGETS = "/api/v1/testapp/widgets/"


@pytest.fixture
def widgets(db):
    rows = [
        ("alpha", "draft", "10.00", "2026-01-05"),
        ("bravo", "active", "250.50", "2026-02-10"),
        ("charlie", "active", "99.99", "2026-03-15"),
        ("delta", "draft", "0.01", None),
    ]
    return [
        Widget.objects.create(name=name, status=status, amount=Decimal(amount), issued_on=issued)
        for name, status, amount, issued in rows
    ]


def names(response) -> list[str]:
    return [row["name"] for row in response.json()["results"]]


class TestAuthentication:
    def test_no_credentials_is_401_json_with_challenge(self, anon_client, widgets):
        response = anon_client.get(WIDGETS)
        assert response.status_code == 401
        assert response["Content-Type"] == "application/json"
        assert response["WWW-Authenticate"] == "Token"
        error = response.json()["error"]
        assert error["status"] == 401
        assert error["code"] == "not_authenticated"
        assert error["message"] == "Authentication credentials were not provided."
        assert error["request_id"] == response["X-Request-ID"]

    def test_bad_token_is_401(self, anon_client, db):
        anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
        response = anon_client.get("/api/v1/me/")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"

    def test_non_staff_user_is_403(self, anon_client, plain_user):
        anon_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(plain_user)}")
        response = anon_client.get("/api/v1/me/")
        assert response.status_code == 403
        assert response.json()["error"] == {
            "status": 403,
            "code": "permission_denied",
            "message": "Only Ledgerlink staff users and service accounts may use this API.",
            "request_id": response["X-Request-ID"],
        }

    def test_token_for_staff_credentials(self, anon_client, staff_user):
        response = anon_client.post(
            "/api/v1/auth/token/", {"username": "bookkeeper", "password": "correct horse battery"}
        )
        assert response.status_code == 200
        body = response.json()
        token = body["token"]
        stored = ApiToken.objects.get(user=staff_user)
        assert body["prefix"] == stored.token_key == token[:15]
        assert stored.expiry is not None
        anon_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        me = anon_client.get("/api/v1/me/").json()
        assert (me["username"], me["is_staff"]) == ("bookkeeper", True)

    def test_token_request_missing_fields_is_400_with_field_errors(self, anon_client, db):
        response = anon_client.post("/api/v1/auth/token/", {"username": "bookkeeper"})
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"password": ["This field is required."]}

    def test_token_with_wrong_password_is_400(self, anon_client, staff_user):
        response = anon_client.post("/api/v1/auth/token/", {"username": "bookkeeper", "password": "nope"})
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "non_field_errors": ["Unable to log in with provided credentials."]
        }
        assert not ApiToken.objects.exists()

    def test_token_refused_to_non_staff_exactly_as_a_wrong_password(self, anon_client, plain_user):
        right = anon_client.post(
            "/api/v1/auth/token/", {"username": "customer", "password": "correct horse battery"}
        )
        wrong = anon_client.post("/api/v1/auth/token/", {"username": "customer", "password": "nope"})
        assert right.status_code == wrong.status_code == 400
        for body in (right.json(), wrong.json()):
            body["error"].pop("request_id")
        assert right.json()["error"] == wrong.json()["error"]
        assert not ApiToken.objects.exists()

    def test_session_authentication_works_for_staff(self, client, staff_user):
        client.force_login(staff_user)
        assert client.get("/api/v1/me/").json()["username"] == "bookkeeper"


class TestErrors:
    def test_create_validates_with_field_messages(self, api_client, db):
        response = api_client.post(WIDGETS, {"status": "bogus", "amount": "twelve"}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "name": ["This field is required."],
            "status": ['"bogus" is not a valid choice.'],
            "amount": ["A valid number is required."],
        }
        assert not Widget.objects.exists()

    def test_malformed_json_body_is_400_json(self, api_client, db):
        response = api_client.generic("POST", WIDGETS, '{"name": "x", ', content_type="application/json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "parse_error"
        assert error["message"].startswith("JSON parse error")

    def test_unique_violation_is_a_field_error_not_500(self, api_client, widgets):
        response = api_client.post(WIDGETS, {"name": "alpha", "amount": "1.00"}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {"name": ["widget with this name already exists."]}

    def test_amount_precision_is_checked_not_rounded(self, api_client, db):
        response = api_client.post(WIDGETS, {"name": "x", "amount": "1.005"}, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "amount": ["Ensure that there are no more than 2 decimal places."]
        }

    def test_money_round_trips_as_exact_decimal_strings(self, api_client, db):
        response = api_client.post(WIDGETS, {"name": "x", "amount": "1234567890.12"}, format="json")
        assert response.status_code == 201
        assert response.json()["amount"] == "1234567890.12"
        assert Widget.objects.get().amount == Decimal("1234567890.12")

    def test_missing_object_is_404_json(self, api_client, db):
        response = api_client.get(f"{WIDGETS}999/")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_unknown_api_route_is_404_json(self, api_client):
        response = api_client.get("/api/v1/no-such-thing/")
        assert response.status_code == 404
        assert response.json()["error"]["message"] == "No such endpoint."

    def test_unexpected_exception_is_500_json_and_logged(self, api_client, caplog):
        response = api_client.post(f"{WIDGETS}explode/")
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["code"] == "server_error"
        assert error["request_id"] == response["X-Request-ID"]
        assert "boom" not in response.content.decode()
        assert any(record.exc_info and "boom" in str(record.exc_info[1]) for record in caplog.records)

    def test_typed_service_error_keeps_status_and_details(self, api_client):
        response = api_client.post(f"{WIDGETS}clash/")
        assert response.status_code == 409
        assert response.json()["error"] == {
            "status": 409,
            "code": "conflict",
            "message": "A sync is already running.",
            "details": {"run_id": 7},
            "request_id": response["X-Request-ID"],
        }

    def test_caller_request_id_is_echoed(self, api_client):
        response = api_client.get("/api/v1/me/", HTTP_X_REQUEST_ID="trace-abc.123")
        assert response["X-Request-ID"] == "trace-abc.123"

    def test_unsafe_request_id_is_replaced(self, api_client):
        response = api_client.get("/api/v1/me/", HTTP_X_REQUEST_ID="bad id\nwith newline")
        assert response["X-Request-ID"] != "bad id\nwith newline"
        assert len(response["X-Request-ID"]) == 32


class TestListing:
    def test_default_order_is_newest_first_with_pagination_envelope(self, api_client, widgets):
        body = api_client.get(WIDGETS, {"page_size": 3}).json()
        assert body["count"] == 4
        assert [row["name"] for row in body["results"]] == ["delta", "charlie", "bravo"]
        assert body["next"].endswith("page=2&page_size=3")
        assert body["previous"] is None

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"page_size": 5000}, "page_size"),
            ({"page_size": 0}, "page_size"),
            ({"page_size": -5}, "page_size"),
            ({"page_size": "ten"}, "page_size"),
            ({"page": "abc"}, "page"),
            ({"page": 0}, "page"),
        ],
    )
    def test_a_page_or_size_out_of_bounds_is_400_naming_it(self, api_client, widgets, params, field):
        response = api_client.get(WIDGETS, params)
        assert response.status_code == 400
        assert list(response.json()["error"]["fields"]) == [field]

    def test_page_past_the_end_is_404(self, api_client, widgets):
        response = api_client.get(WIDGETS, {"page": 9})
        assert response.status_code == 404
        assert "past the end of the list" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"ordering": "amount"}, ["delta", "alpha", "charlie", "bravo"]),
            ({"ordering": "-amount"}, ["bravo", "charlie", "alpha", "delta"]),
            ({"ordering": "status,name"}, ["bravo", "charlie", "alpha", "delta"]),
        ],
    )
    def test_ordering(self, api_client, widgets, params, expected):
        assert names(api_client.get(WIDGETS, params)) == expected

    @pytest.mark.parametrize(
        ("params", "expected"),
        [
            ({"status": "active"}, ["charlie", "bravo"]),
            ({"status__in": "draft,active"}, ["delta", "charlie", "bravo", "alpha"]),
            ({"amount__gte": "99.99"}, ["charlie", "bravo"]),
            ({"amount__lte": "10", "amount__gte": "0.01"}, ["delta", "alpha"]),
            ({"issued_on__gte": "2026-02-01", "issued_on__lte": "2026-02-28"}, ["bravo"]),
            ({"name": "alpha"}, ["alpha"]),
        ],
    )
    def test_filters(self, api_client, widgets, params, expected):
        response = api_client.get(WIDGETS, params)
        assert response.status_code == 200, response.json()
        assert names(response) == expected

    def test_unknown_filter_is_400_not_ignored(self, api_client, widgets):
        response = api_client.get(WIDGETS, {"stauts": "active"})
        assert response.status_code == 400
        message = response.json()["error"]["fields"]["stauts"][0]
        assert message.startswith("Unknown query parameter. Allowed: ")
        assert "status" in message

    def test_bad_filter_value_is_400(self, api_client, widgets):
        response = api_client.get(WIDGETS, {"amount__gte": "lots", "status": "gone"})
        assert response.status_code == 400
        assert response.json()["error"]["fields"] == {
            "amount__gte": ["Enter a number."],
            "status": ["Select a valid choice. gone is not one of the available choices."],
        }

    def test_unknown_ordering_field_is_400(self, api_client, widgets):
        response = api_client.get(WIDGETS, {"ordering": "-colour,name"})
        assert response.status_code == 400
        assert response.json()["error"]["fields"]["ordering"][0].startswith("Cannot order by -colour.")
