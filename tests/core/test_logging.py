from __future__ import annotations

import io
import json
import logging

import pytest

from core.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter, redact, request_id_var


@pytest.fixture
def log_lines():
    """A logger wired exactly like settings.LOGGING's console handler, writing to a buffer."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    logger = logging.getLogger("tests.structured")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


def test_one_json_object_per_line_with_extras(log_lines):
    logger, lines = log_lines
    logger.info("pulled %s invoices\nsecond line", 3, extra={"connection_id": 7, "entity": "invoices"})
    [event] = lines()
    assert event["level"] == "INFO"
    assert event["logger"] == "tests.structured"
    assert event["msg"] == "pulled 3 invoices\nsecond line"
    assert (event["connection_id"], event["entity"]) == (7, "invoices")
    assert event["ts"].endswith("+00:00")


def test_request_id_is_attached(log_lines):
    logger, lines = log_lines
    token = request_id_var.set("req-42")
    try:
        logger.warning("inside a request")
    finally:
        request_id_var.reset(token)
    logger.warning("outside")
    inside, outside = lines()
    assert inside["request_id"] == "req-42"
    assert "request_id" not in outside


def test_secrets_never_reach_the_output(log_lines):
    logger, lines = log_lines
    logger.info(
        "refreshing with refresh_token=r3fr3sh-s3cr3t and header Authorization: Bearer eyJhbGciOi.xyz.abc",
        extra={
            "access_token": "at-secret-value",
            "client_secret": "cs-secret",
            "payload": {"refresh_token": "nested-secret", "amount": "10.00"},
            "url": "https://app/callback?code=auth-code-123&state=abc",
        },
    )
    try:
        raise ValueError("password=hunter2hunter2")
    except ValueError:
        logger.exception("failed")
    text = "\n".join(json.dumps(line) for line in lines())
    for secret in (
        "r3fr3sh-s3cr3t",
        "eyJhbGciOi",
        "at-secret-value",
        "cs-secret",
        "nested-secret",
        "auth-code-123",
        "hunter2",
    ):
        assert secret not in text
    first = lines()[0]
    assert first["payload"] == {"refresh_token": "[redacted]", "amount": "10.00"}
    assert first["url"] == "https://app/callback?code=[redacted]&state=abc"


def test_redact_keeps_empty_values_and_structure():
    assert redact({"token": "", "items": [{"password": "x"}], "n": 1}) == {
        "token": "",
        "items": [{"password": "[redacted]"}],
        "n": 1,
    }


@pytest.mark.django_db
def test_each_request_logs_one_line_with_its_id(client, caplog):
    caplog.set_level(logging.INFO, logger="ledgerlink.request")
    response = client.get("/healthz?code=secret-code", HTTP_X_REQUEST_ID="abc-123")
    [record] = [r for r in caplog.records if r.name == "ledgerlink.request"]
    assert response["X-Request-ID"] == "abc-123"
    assert record.request_id == "abc-123"
    assert (record.method, record.path, record.status) == ("GET", "/healthz", 200)
    assert "secret-code" not in record.getMessage()


def test_objects_rendered_as_text_are_scrubbed(log_lines):
    class Request:
        def __str__(self) -> str:
            return "<WSGIRequest: GET '/callback?code=leaky-code&state=s'>"

    logger, lines = log_lines
    logger.warning("Bad Request", extra={"request": Request()})
    assert lines()[0]["request"] == "<WSGIRequest: GET '/callback?code=[redacted]&state=s'>"
