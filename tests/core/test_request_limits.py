"""Request bodies are capped before parsing: too big is a 413, nested too deep a 400, never a 500."""

from __future__ import annotations

import json

import pytest

from core.api.parsers import json_depth

pytestmark = pytest.mark.django_db
WIDGETS = "/api/v1/testapp/widgets/"


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        (b"1", 0),
        (b'{"a": [1, {"b": []}]}', 4),
        (b'{"a": "[[[[{{{{", "b": "\\"[[["}', 1),  # brackets inside strings, escaped quotes
        (b"[" * 50 + b"]" * 50, 50),
    ],
)
def test_depth_is_measured_on_the_text_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_json_nested_thousands_of_levels_deep_is_a_400(api_client):
    deep = "[" * 5000 + "]" * 5000
    for url, body in (
        (WIDGETS, deep),
        ("/api/v1/connections/authorize/", '{"provider": "xero", "return_url": ' + deep + "}"),
    ):
        response = api_client.generic("POST", url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:200])
        assert "deeper than 32 levels" in response.json()["error"]["message"]


def test_a_body_over_the_limit_is_a_413_with_words(api_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x" * 2000, "status": "draft", "amount": "1.00"})
    response = api_client.generic("POST", WIDGETS, body, content_type="application/json")
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["message"]) == (
        "payload_too_large",
        "The request body is larger than 1,000 bytes; send less at once.",
    )


def test_a_body_within_the_limits_is_read_as_before(api_client):
    body = {"name": "fine", "status": "draft", "amount": "1.00"}
    response = api_client.post(WIDGETS, body, format="json")
    assert response.status_code == 201, response.content
