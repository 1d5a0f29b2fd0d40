"""The demo command, run as a newcomer runs it: a real server process and a real task cluster."""

from __future__ import annotations

import csv
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.server


# Variables that would make the demo talk to other ledgers or apps than its sandbox's, or another address.
FOREIGN_ENV = {
    "DATABASE_URL",
    "LEDGERLINK_ADMIN_PASSWORD",
    "LEDGERLINK_PUBLIC_URL",
    "DEMO_HOST",
    "DEMO_PORT",
    "XERO_CLIENT_ID",
    "XERO_CLIENT_SECRET",
    "QBO_CLIENT_ID",
    "QBO_CLIENT_SECRET",
    "XERO_LOGIN_URL",
    "XERO_IDENTITY_URL",
    "XERO_API_URL",
    "QBO_DISCOVERY_URL",
    "QBO_API_URL",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def demo_start(var_dir: Path, port: int, env: dict[str, str], log_name: str) -> tuple[subprocess.Popen, str]:
    """Start `manage.py demo` and wait for its banner; the process and everything it printed so far."""
    log_path = var_dir / log_name
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 300
    output = ""
    while time.monotonic() < deadline:
        output = log_path.read_text()
        if "Ledgerlink demo is running" in output and "Database:" in output:
            return process, output
        if process.poll() is not None:
            pytest.fail(f"demo exited early with {process.returncode}:\n{output}")
        time.sleep(0.5)
    demo_stop(process)
    pytest.fail(f"demo did not start in time:\n{output}")


def demo_stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`manage.py demo` on a fresh SQLite database, once its banner is printed."""
    var_dir = tmp_path_factory.mktemp("demo-var")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in FOREIGN_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.dev", LEDGERLINK_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1"
    )
    process, output = demo_start(var_dir, port, env, "demo.log")
    login = re.search(r"Login:\s+(\S+) / (\S+)", output)
    assert login, output
    state = {
        "base": f"http://127.0.0.1:{port}",
        "port": port,
        "var_dir": var_dir,
        "username": login[1],
        "password": login[2],
        "output": output,
        "env": env,
        "process": process,
    }
    yield state
    demo_stop(state["process"])


def api_get(demo, path: str) -> requests.Response:
    token = requests.post(
        f"{demo['base']}/api/v1/auth/token/",
        json={"username": demo["username"], "password": demo["password"]},
        timeout=10,
    ).json()["token"]
    return requests.get(f"{demo['base']}{path}", headers={"Authorization": f"Token {token}"}, timeout=10)


def test_banner_prints_urls_and_login(demo):
    for path in ("/admin/", "/api/docs/", "/api/schema/", "/healthz"):
        assert f"{demo['base']}{path}" in demo["output"]
    assert demo["username"] == "admin"
    assert len(demo["password"]) >= 20


def admin_login(demo) -> requests.Session:
    session = requests.Session()
    login_url = f"{demo['base']}/admin/login/"
    page = session.get(login_url, timeout=10)
    csrf_match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf_match
    session.post(
        login_url,
        data={
            "csrfmiddlewaretoken": csrf_match[1],
            "username": demo["username"],
            "password": demo["password"],
        },
        headers={"Referer": login_url},
        timeout=10,
    )
    return session


def test_a_newcomer_browses_synced_invoices_exports_them_and_opens_the_dashboard(demo):
    session = admin_login(demo)
    invoices = session.get(f"{demo['base']}/admin/accounting/invoice/", timeout=30)
    assert invoices.status_code == 200
    assert "INV-" in invoices.text
    assert f"{demo['base']}/admin/accounting/invoice/" in demo["output"]
    export = api_get(demo, "/api/v1/invoices/export/?export_format=csv")
    assert export.status_code == 200
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    # A list counts exactly only to 1,000 rows; the statistics count the filtered list exactly.
    listed = api_get(demo, "/api/v1/invoices/statistics/").json()["count"]
    assert len(rows) == listed + 1 > 100
    dashboard = session.get(f"{demo['base']}/admin/integrations/connection/dashboard/", timeout=30)
    assert dashboard.status_code == 200
    assert "<svg" in dashboard.text


def test_admin_login_works(demo):
    session = requests.Session()
    login_url = f"{demo['base']}/admin/login/"
    page = session.get(login_url, timeout=10)
    assert page.status_code == 200
    assert "<title>Log in | Ledgerlink</title>" in page.text
    csrf_match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf_match
    csrf = csrf_match[1]
    response = session.post(
        login_url,
        data={
            "csrfmiddlewaretoken": csrf,
            "username": demo["username"],
            "password": demo["password"],
            "next": "/admin/",
        },
        headers={"Referer": login_url},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.url == f"{demo['base']}/admin/"
    assert "Back office | Ledgerlink" in response.text
    assert "Log out" in response.text
    assert ">API docs</a>" in response.text


def test_swagger_ui_is_served_without_a_cdn(demo):
    page = requests.get(f"{demo['base']}/api/docs/", timeout=10)
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets
    for asset in assets:
        assert asset.startswith("/"), f"external asset {asset}"
        assert requests.get(f"{demo['base']}{asset}", timeout=10).status_code == 200, asset
    assert any("swagger-ui-bundle.js" in asset for asset in assets)


def test_schema_is_served(demo):
    response = requests.get(f"{demo['base']}/api/schema/", timeout=10, headers={"Accept": "application/json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Ledgerlink API"
    assert "/api/v1/auth/token/" in schema["paths"]


def test_healthz_sees_database_and_running_cluster(demo):
    deadline = time.monotonic() + 30
    while True:
        body = api_get(demo, "/healthz").json()  # the checks' findings are for staff
        if body["checks"]["task_queue"]["clusters"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert body["status"] == "ok"
    assert body["checks"]["database"]["vendor"] == "sqlite"
    assert body["checks"]["task_queue"]["clusters"] == 1
    assert body["checks"]["task_queue"]["workers"] >= 1
    assert requests.get(f"{demo['base']}/healthz", timeout=10).json() == {"status": "ok"}


def test_api_refuses_anonymous_callers(demo):
    response = requests.get(f"{demo['base']}/api/v1/me/", timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_task_cluster_runs_queued_tasks(demo):
    """A task enqueued by another process (as the web server will) is picked up and run by the cluster."""
    script = (
        "import time\n"
        "from django_q.tasks import async_task, result\n"
        "task_id = async_task('math.floor', 7.5)\n"
        "deadline = time.monotonic() + 30\n"
        "while result(task_id) is None and time.monotonic() < deadline:\n"
        "    time.sleep(0.2)\n"
        "print('RESULT', result(task_id))\n"
    )
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=demo["env"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "RESULT 7" in done.stdout, done.stdout + done.stderr


def test_demo_sandbox_has_apps_and_seeded_tenants(demo):
    assert f"Sandbox:     {demo['base']}/sandbox/" in demo["output"]
    portal = requests.get(f"{demo['base']}/sandbox/", timeout=10)
    assert portal.status_code == 200
    for name in ("Ledgerlink demo", "Demo Company (UK)", "Demo Company (NZ)", "Sandbox Company_US_1"):
        assert name in portal.text
    tenants = re.findall(
        r"Demo Company \((?:UK|NZ)\) \((?:GBP|NZD)\), tenant ([0-9a-f-]{36})", demo["output"]
    )
    assert len(tenants) == 2
    assert re.search(r"Sandbox Company_US_1 \(USD\), tenant \d{16}", demo["output"])


def test_demo_connects_one_organisation_and_one_company(demo):
    """Through the real OAuth flow: both connections exist, are active and were tested healthy."""
    response = api_get(demo, "/api/v1/connections/?ordering=display_name")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    uk, us = body["results"]
    tenants = dict(
        re.findall(r"(Demo Company \(UK\)|Sandbox Company_US_1) \([A-Z]{3}\), tenant (\S+)", demo["output"])
    )
    for connection, name, provider, label in (
        (uk, "Demo Company (UK)", "xero", "Xero"),
        (us, "Sandbox Company_US_1", "quickbooks", "QuickBooks Online"),
    ):
        assert connection["display_name"] == name
        assert connection["provider"] == provider
        assert connection["tenant_id"] == tenants[name]
        assert connection["status"] == "active"
        assert connection["credential"]["kind"] == "authorization_code"
        assert connection["credential"]["refresh_token_set"] is True
        assert connection["created_by"] == demo["username"]
        health = connection["health"]
        assert health["status"] == "ok"
        assert health["error"] == ""
        assert health["checked_at"] is not None
        assert health["latency_ms"] >= 0
        line = re.escape(f"{name} ({label}, id {connection['id']}): active, health ok, ")
        synced = r"; [\d,]+ records synced in 11 families"
        assert re.search(rf"^ +(Connections: )?{line}\d+ ms \(connected now\){synced}$", demo["output"], re.M)
        states = api_get(demo, f"/api/v1/connections/{connection['id']}/sync-states/").json()
        assert {state["state"] for state in states} == {"synced"}, states
        by_entity = {state["entity"]: state["records"] for state in states}
        assert by_entity["invoices"] > 1000
        assert by_entity["contacts"] > 100
    assert re.search(r"^  Connections: Demo Company \(UK\) \(Xero, id \d+\)", demo["output"], re.M)
    assert "NOT CONNECTED" not in demo["output"]


def test_zz_restarted_demo_keeps_its_connections(demo):
    """Run last (it restarts the module's demo): a second start on the same data connects nothing anew,
    tests the two connections again and lists them as already connected."""
    before = api_get(demo, "/api/v1/connections/?ordering=display_name").json()["results"]
    demo_stop(demo["process"])
    demo["process"], output = demo_start(demo["var_dir"], demo["port"], demo["env"], "demo-restart.log")
    assert output.count("(already connected)") == 2, output
    assert "connected now" not in output
    assert "/api/v1/connections/authorize/" not in output
    after = api_get(demo, "/api/v1/connections/?ordering=display_name").json()["results"]
    assert [c["id"] for c in after] == [c["id"] for c in before]
    assert [(c["status"], c["health"]["status"]) for c in after] == [("active", "ok")] * 2
    assert [c["health"]["checked_at"] for c in after] != [c["health"]["checked_at"] for c in before]
