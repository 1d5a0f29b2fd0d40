from __future__ import annotations

import pytest
from django.db import connections
from rest_framework.test import APIClient

from core import health
from tests.conftest import api_token_for


@pytest.fixture
def client(client, staff_user):
    """Staff see what each check found; the public only ok or not (test_the_public_sees_only_ok_or_not)."""
    client.force_login(staff_user)
    return client


@pytest.mark.django_db
def test_the_public_sees_only_ok_or_not(anon_client, staff_user, monkeypatch):
    assert anon_client.get("/healthz").json() == {"status": "ok"}
    anon_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anon_client.get("/healthz").json() == {"status": "ok"}
    monkeypatch.setitem(health.CHECKS, "database", lambda: 1 / 0)
    assert APIClient().get("/healthz").json() == {"status": "fail"}


@pytest.mark.django_db
def test_a_staff_token_sees_the_checks(anon_client, staff_user):
    anon_client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(staff_user)}")
    assert set(anon_client.get("/healthz").json()["checks"]) == {"database", "task_queue"}


@pytest.mark.django_db
def test_healthz_reports_each_check_with_latency(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    database, queue = body["checks"]["database"], body["checks"]["task_queue"]
    assert database["status"] == "ok"
    assert database["vendor"] == connections["default"].vendor
    assert queue["status"] == "ok"
    assert queue["broker"] == "ORM"
    assert queue["queued"] == 0
    assert queue["clusters"] == 0
    assert database["latency_ms"] >= 0
    assert queue["latency_ms"] >= 0
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_public_and_needs_no_session(anon_client):
    assert anon_client.get("/healthz").status_code == 200


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    def broken() -> dict:
        raise ConnectionError("could not connect to server")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["checks"]["database"]["status"] == "fail"
    assert body["checks"]["database"]["error"] == "ConnectionError: could not connect to server"
    assert body["checks"]["task_queue"]["status"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_the_broker_is_down(client, monkeypatch):
    from django_q.brokers import orm

    monkeypatch.setattr(orm.ORM, "ping", lambda self: False)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert (
        response.json()["checks"]["task_queue"]["error"] == "ConnectionError: the task broker did not answer"
    )


@pytest.mark.django_db
def test_queue_check_counts_queued_tasks(client, settings):
    from django_q.brokers import get_broker

    get_broker().enqueue("signed-task-payload")
    assert client.get("/healthz").json()["checks"]["task_queue"]["queued"] == 1


def test_healthz_only_answers_get(anon_client):
    assert anon_client.post("/healthz").status_code == 405
