"""Changing the sandbox while it runs: the control API over real HTTP (limits and faults take effect on
the next call, invalid changes are refused whole, the optional token) and the Django admin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from sandbox.models import SandboxApp, Tenant, WebhookItrCheck
from tests.sandbox.test_limits import XeroHttp
from tests.sandbox.test_webhooks import Receiver, receiver_running

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


@pytest.fixture
def control(live_server) -> str:
    return f"{live_server.url}/sandbox/control"


@pytest.fixture(autouse=True)
def _control_token(monkeypatch, settings):
    """Every control call in this file sends the token, as a script would (one test sends none)."""
    token = settings.SANDBOX_CONTROL_TOKEN
    for method in ("get", "post", "patch", "delete"):
        original = getattr(requests, method)

        def call(url, *args, _original=original, **kwargs):
            if "/sandbox/control/" in url:
                kwargs.setdefault("headers", {}).setdefault("Authorization", f"Bearer {token}")
            return _original(url, *args, **kwargs)

        monkeypatch.setattr(requests, method, call)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiver_running() as state:
        yield state


@pytest.fixture
def xero(sandbox_url, xero_token, xero_org) -> XeroHttp:
    return XeroHttp(sandbox_url, xero_token["access_token"], xero_org.tenant_id)


def test_tenant_shows_limits_faults_and_each_apps_usage(control, xero, xero_org, xero_app):
    xero.get()
    xero.get()

    answer = requests.get(f"{control}/tenants/{xero_org.tenant_id}", timeout=10)

    assert answer.status_code == 200
    body = answer.json()
    assert body["tenant_id"] == xero_org.tenant_id
    assert (body["limit_concurrent"], body["limit_minute"], body["limit_day"], body["time_scale"]) == (
        5,
        60,
        5000,
        1.0,
    )
    assert (body["fault_error_rate"], body["fault_next_count"], body["fault_next_kind"]) == (0.0, 0, "error")
    [usage] = body["usage"]
    assert usage["app"] == xero_app.client_id
    assert (usage["minute_count"], usage["minute_remaining"], usage["day_count"], usage["in_flight"]) == (
        2,
        58,
        2,
        0,
    )
    listed = requests.get(f"{control}/tenants", timeout=10).json()["tenants"]
    assert [tenant["tenant_id"] for tenant in listed] == [xero_org.tenant_id]


def test_patched_limits_and_faults_apply_to_the_next_call(control, xero, xero_org):
    assert xero.get().headers["X-MinLimit-Remaining"] == "59"

    patched = requests.patch(f"{control}/tenants/{xero_org.tenant_id}", json={"limit_minute": 2}, timeout=10)
    assert patched.status_code == 200
    assert patched.json()["limit_minute"] == 2
    assert xero.get().headers["X-MinLimit-Remaining"] == "0"
    assert xero.get().headers["X-Rate-Limit-Problem"] == "minute"

    reset = requests.post(f"{control}/tenants/{xero_org.tenant_id}/limits/reset", timeout=10)
    assert reset.json()["usage"] == []
    requests.patch(
        f"{control}/tenants/{xero_org.tenant_id}",
        json={"fault_error_rate": 1.0, "fault_error_status": 500},
        timeout=10,
    )
    assert xero.get().status_code == 500
    requests.patch(f"{control}/tenants/{xero_org.tenant_id}", json={"fault_error_rate": 0}, timeout=10)
    assert xero.get().status_code == 200


def test_invalid_changes_are_refused_whole(control, xero_org):
    url = f"{control}/tenants/{xero_org.tenant_id}"

    refused = requests.patch(url, json={"limit_minute": 5, "fault_error_rate": 2}, timeout=10)
    assert refused.status_code == 400
    assert list(refused.json()["errors"]) == ["fault_error_rate"]
    assert Tenant.objects.get(pk=xero_org.pk).limit_minute == 60

    assert requests.patch(url, json={"tenant_id": "other"}, timeout=10).json()["errors"] == {
        "tenant_id": ["not a field that can be changed here"]
    }
    assert requests.patch(url, json={"fault_error_status": 200}, timeout=10).status_code == 400
    assert requests.patch(url, json={"fault_next_kind": "explode"}, timeout=10).status_code == 400
    assert requests.patch(url, data=b"{not json", timeout=10).status_code == 400
    assert requests.patch(url, json=[1, 2], timeout=10).status_code == 400
    assert requests.delete(url, timeout=10).status_code == 405
    assert requests.get(f"{control}/tenants/no-such-tenant", timeout=10).status_code == 404


def test_control_token_is_required_when_configured(control, settings, xero_org):
    settings.SANDBOX_CONTROL_TOKEN = "local-s3cret"
    url = f"{control}/tenants"

    assert requests.get(url, headers={"Authorization": ""}, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer wrong"}, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer local-s3cret"}, timeout=10).status_code == 200
    assert (
        requests.get(
            url, headers={"Authorization": "", "X-Sandbox-Control-Token": "local-s3cret"}, timeout=10
        ).status_code
        == 200
    )


def test_without_a_configured_token_the_control_api_refuses_everyone(control, settings, xero_app):
    settings.SANDBOX_CONTROL_TOKEN = ""
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer "}, {"X-Sandbox-Control-Token": ""}):
        answer = requests.get(f"{control}/apps", headers=headers, timeout=10)
        assert answer.status_code == 401
        assert xero_app.client_secret not in answer.text


def test_app_webhook_settings_intent_to_receive_and_deliveries(control, receiver, xero_app):
    url = f"{control}/apps/{xero_app.client_id}"
    assert requests.post(f"{url}/webhooks/intent-to-receive", timeout=10).status_code == 400

    patched = requests.patch(
        url, json={"webhook_url": receiver.url, "webhook_retry_delays": [1, 2.5]}, timeout=10
    )
    assert patched.status_code == 200
    assert (patched.json()["webhook_url"], patched.json()["webhook_retry_delays"]) == (receiver.url, [1, 2.5])
    assert requests.patch(url, json={"webhook_retry_delays": [-1]}, timeout=10).status_code == 400
    assert requests.patch(url, json={"webhook_url": "not a url"}, timeout=10).status_code == 400
    receiver.verify_with = xero_app.webhook_key

    check = requests.post(f"{url}/webhooks/intent-to-receive", timeout=30).json()

    assert check["passed"] is True
    assert sorted((p["correctly_signed"], p["status_code"]) for p in check["probes"]) == [
        (False, 401),
        (False, 401),
        (True, 200),
        (True, 200),
    ]
    deliveries = requests.get(f"{url}/webhooks/deliveries", timeout=10).json()["deliveries"]
    assert len(deliveries) == 4
    assert {d["kind"] for d in deliveries} == {"itr"}
    assert all(d["attempt_log"][0]["url"] == receiver.url for d in deliveries)
    assert all(d["body"]["events"] == [] for d in deliveries)
    apps = requests.get(f"{control}/apps", timeout=10).json()["apps"]
    assert apps[0]["client_secret"] == xero_app.client_secret


def test_admin_shows_the_sandbox_and_runs_its_actions(admin_client, receiver, xero_app, xero_org):
    for path in (
        "sandboxapp",
        "tenant",
        "webhookdelivery",
        "webhookevent",
        "webhookitrcheck",
        "xerogrant",
        "xerotoken",
        "xeroconnection",
        "xeroauthcode",
        "qbogrant",
        "qbotoken",
        "qboauthcode",
    ):
        assert admin_client.get(f"/admin/sandbox/{path}/").status_code == 200, path
    assert admin_client.get(f"/admin/sandbox/tenant/{xero_org.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/sandbox/sandboxapp/{xero_app.pk}/change/").status_code == 200
    # Identity and delivery records are read-only.
    assert admin_client.get("/admin/sandbox/xerotoken/add/").status_code == 403

    SandboxApp.objects.filter(pk=xero_app.pk).update(webhook_url=receiver.url)
    receiver.verify_with = xero_app.webhook_key
    answer = admin_client.post(
        "/admin/sandbox/sandboxapp/",
        {"action": "run_intent_to_receive", "_selected_action": [xero_app.pk]},
        follow=True,
    )
    assert "intent to receive passed" in answer.content.decode()
    assert WebhookItrCheck.objects.get().passed is True

    Tenant.objects.filter(pk=xero_org.pk).update(fault_error_rate=0.5, fault_next_count=3)
    admin_client.post("/admin/sandbox/tenant/", {"action": "clear_faults", "_selected_action": [xero_org.pk]})
    cleared = Tenant.objects.get(pk=xero_org.pk)
    assert (cleared.fault_error_rate, cleared.fault_next_count) == (0.0, 0)
