"""The refresh API queues runs (202 with their ids) and the admin lists runs and states."""

from __future__ import annotations

import pytest
from django.test import Client

from integrations.models import SyncRun, SyncState

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_refresh_answers_202_with_runs_and_runs_them(xero_connection, api_client):
    response = api_client.post(
        f"/api/v1/connections/{xero_connection.pk}/refresh/",
        {"entities": ["contacts", "invoices"], "full_sync": True},
        format="json",
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert [run["entity"] for run in body] == ["contacts", "invoices"]
    assert {run["mode"] for run in body} == {"full"}
    # Tasks run synchronously on commit in tests: the runs are done.
    for run in body:
        stored = SyncRun.objects.get(pk=run["id"])
        assert stored.status == "succeeded"
        assert stored.trigger == "manual"
    detail = api_client.get(f"/api/v1/sync-runs/{body[1]['id']}/").json()
    assert detail["created"] > 0
    states = api_client.get(f"/api/v1/connections/{xero_connection.pk}/sync-states/").json()
    assert {state["entity"]: state["state"] for state in states} == {
        "contacts": "synced",
        "invoices": "synced",
    }


def test_refresh_rejects_unknown_entities_and_fields(xero_connection, api_client):
    response = api_client.post(
        f"/api/v1/connections/{xero_connection.pk}/refresh/", {"entities": ["widgets"]}, format="json"
    )
    assert response.status_code == 400
    assert "entities" in response.json()["error"]["fields"]
    response = api_client.post(
        f"/api/v1/connections/{xero_connection.pk}/refresh/", {"full_sync": "maybe"}, format="json"
    )
    assert response.status_code == 400
    assert SyncRun.objects.count() == 0


def test_admin_lists_runs_and_states(xero_connection, pull, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    pull(xero_connection, "contacts", full=True)
    client = Client()
    client.force_login(staff_user)
    page = client.get("/admin/integrations/syncrun/")
    assert page.status_code == 200
    assert b"contacts" in page.content
    run = SyncRun.objects.get()
    assert client.get(f"/admin/integrations/syncrun/{run.pk}/change/").status_code == 200
    assert client.get("/admin/integrations/syncstate/").status_code == 200
    assert SyncState.objects.get(entity="contacts").state == "synced"


def test_deleting_a_connection_deletes_its_mirror(xero_connection, pull, api_client):
    from accounting.families import FAMILIES
    from integrations.models import ConnectionDeletion

    pull(xero_connection, full=True)
    mirrored = {
        key: f.model._default_manager.filter(connection=xero_connection).count()
        for key, f in FAMILIES.items()
    }
    assert mirrored["invoices"] > 0
    assert mirrored["contacts"] > 0
    response = api_client.delete(f"/api/v1/connections/{xero_connection.pk}/")
    assert response.status_code == 202
    deletion = ConnectionDeletion.objects.get(pk=response.json()["id"])
    assert deletion.status == "succeeded", deletion.error
    for family in FAMILIES.values():
        assert not family.model._default_manager.exists(), family.key
    assert deletion.progress["accounting.Invoice"]["deleted"] == mirrored["invoices"]
    assert not SyncRun.objects.exists()
