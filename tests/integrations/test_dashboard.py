"""The dashboard (`integrations.dashboard`, GET /api/v1/dashboard/ and its admin page): exact figures from
rows made through the ORM, a number of queries that does not grow with connections or runs, the API's
shape, and a page whose charts are server-drawn SVG with nothing fetched from another host."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from integrations.dashboard import HOURS, dashboard_get
from integrations.models import Connection, RateBudget, SyncRun, SyncState
from integrations.providers import get_provider
from integrations.ratelimit import BUCKETS_PER_WINDOW, DAY, _oldest
from tests.conftest import api_token_for

pytestmark = pytest.mark.django_db

DASHBOARD_URL = "/api/v1/dashboard/"
ADMIN_DASHBOARD = "admin:integrations_connection_dashboard"
# Connections with their budgets; sync states; runs per connection; SELECT 1; the queue's cluster stats
# (cache) and depth (ORM broker); runs per hour.
QUERIES = 7


def _connection(n: int, provider: str = "xero", **overrides: Any) -> Connection:
    fields: dict[str, Any] = {
        "provider": provider,
        "display_name": f"Org {n}",
        "tenant_id": f"tenant-{n:04d}",
        "status": "active",
        "settings": get_provider(provider).settings_defaults(),
        **overrides,
    }
    return Connection.objects.create(**fields)


def _run(connection: Connection, status: str, finished_ago: timedelta | None, **fields: Any) -> SyncRun:
    """A run that finished `finished_ago` before now (None: not finished), queued a minute before."""
    now = timezone.now()
    finished = None if finished_ago is None else now - finished_ago
    queued = (finished or now) - timedelta(minutes=1)
    values: dict[str, Any] = {
        "entity": "contacts",
        "mode": "incremental",
        "trigger": "schedule",
        "status": status,
        "queued_at": queued,
        "started_at": queued if status != "queued" else None,
        "finished_at": finished,
        **fields,
    }
    return SyncRun.objects.create(connection=connection, **values)


def _day_bucket(offset: int, now: datetime | None = None) -> str:
    """The key of the day bucket `offset` buckets before the current one."""
    return str(math.floor((now or timezone.now()).timestamp() / (DAY / BUCKETS_PER_WINDOW)) - offset)


def _by_id(dashboard, connection: Connection):
    return next(summary for summary in dashboard.connections if summary.id == connection.pk)


def _populate(connections: int) -> list[Connection]:
    """Connections, each with sync states, a budget and runs in and out of the windows."""
    made = []
    for n in range(connections):
        connection = _connection(n)
        for entity in ("accounts", "contacts", "invoices"):
            SyncState.objects.create(connection=connection, entity=entity, state="synced", records=10 + n)
        RateBudget.objects.create(connection=connection, day_buckets={_day_bucket(0): n + 1})
        for status, ago in (("succeeded", 10), ("failed", 70), ("succeeded", 600), ("queued", None)):
            _run(connection, status, None if ago is None else timedelta(minutes=ago))
        made.append(connection)
    return made


# --- Figures ---------------------------------------------------------------------------------------------


def test_run_counts_per_window_and_outcome_per_connection_and_in_total():
    first, second = _connection(1), _connection(2)
    for status, minutes in (
        ("succeeded", 10),
        ("succeeded", 50),
        ("failed", 20),
        ("succeeded", 120),
        ("failed", 300),
        ("failed", 23 * 60),
        ("succeeded", 25 * 60),  # before the day
        ("failed", 26 * 60),  # before the day
        ("interrupted", 10),  # neither succeeded nor failed
        ("cancelled", 15),
    ):
        _run(first, status, timedelta(minutes=minutes))
    _run(first, "running", None, queued_at=timezone.now() - timedelta(days=5))  # in progress however old
    _run(first, "queued", None)
    _run(first, "waiting", None)
    _run(second, "succeeded", timedelta(minutes=30))
    _connection(3)  # no run at all

    dashboard = dashboard_get()

    one, two, three = (_by_id(dashboard, c) for c in Connection.objects.order_by("pk"))
    assert (one.runs_last_hour.succeeded, one.runs_last_hour.failed) == (2, 1)
    assert (one.runs_last_day.succeeded, one.runs_last_day.failed) == (3, 3)
    assert one.runs_active == 3
    assert (two.runs_last_hour.succeeded, two.runs_last_hour.failed) == (1, 0)
    assert (two.runs_last_day.succeeded, two.runs_last_day.failed) == (1, 0)
    assert two.runs_active == 0
    assert (three.runs_last_day.succeeded, three.runs_last_day.failed, three.runs_active) == (0, 0, 0)
    assert (dashboard.runs_last_hour.succeeded, dashboard.runs_last_hour.failed) == (3, 1)
    assert (dashboard.runs_last_day.succeeded, dashboard.runs_last_day.failed) == (4, 3)
    assert dashboard.runs_active == 3


def test_runs_per_hour_cover_the_last_24_hours_split_by_outcome():
    connection = _connection(1)
    finished_ago = {
        "succeeded": [timedelta(minutes=5), timedelta(minutes=6), timedelta(hours=2), timedelta(hours=22)],
        "failed": [timedelta(minutes=7), timedelta(hours=5, minutes=30)],
    }
    runs = [_run(connection, status, ago) for status, agos in finished_ago.items() for ago in agos]
    _run(connection, "succeeded", timedelta(hours=25))  # before the first hour shown
    _run(connection, "interrupted", timedelta(minutes=5))
    now = timezone.now()

    hours = dashboard_get(now=now).runs_per_hour

    current_hour = now.replace(minute=0, second=0, microsecond=0)
    first = current_hour - timedelta(hours=HOURS - 1)
    assert [hour.hour for hour in hours] == [first + timedelta(hours=i) for i in range(HOURS)]
    expected = {"succeeded": [0] * HOURS, "failed": [0] * HOURS}
    for run in runs:
        assert run.finished_at is not None
        hour = run.finished_at.replace(minute=0, second=0, microsecond=0)
        expected[run.status][int((hour - first) / timedelta(hours=1))] += 1
    assert [hour.succeeded for hour in hours] == expected["succeeded"]
    assert [hour.failed for hour in hours] == expected["failed"]
    assert sum(hour.succeeded for hour in hours) == 4
    assert sum(hour.failed for hour in hours) == 2


def test_entity_counts_come_from_the_sync_states():
    first = _connection(1)
    first.settings["entities"]["journals"]["enabled"] = False
    first.save(update_fields=["settings"])
    second = _connection(2)
    yesterday = timezone.now() - timedelta(days=1)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    SyncState.objects.create(
        connection=first, entity="contacts", state="synced", records=1200, last_success_at=an_hour_ago
    )
    SyncState.objects.create(
        connection=first,
        entity="invoices",
        state="failed",
        state_reason="Rejected",
        records=3400,
        last_success_at=yesterday,
        last_failure_at=an_hour_ago,
    )
    SyncState.objects.create(connection=first, entity="accounts", state="synced", records=80)
    SyncState.objects.create(connection=second, entity="contacts", state="syncing", records=10)

    dashboard = dashboard_get()

    one, two = _by_id(dashboard, first), _by_id(dashboard, second)
    assert one.records == 4680
    assert two.records == 10
    assert dashboard.records == 4690
    assert one.last_success_at == an_hour_ago
    assert one.last_failure_at == an_hour_ago
    assert two.last_success_at is None
    # Every family the ledger has, in its order; those never pulled show as such, disabled ones too.
    assert [family.entity for family in one.families] == list(get_provider("xero").entity_keys)
    families = {family.entity: family for family in one.families}
    assert (families["contacts"].state, families["contacts"].records) == ("synced", 1200)
    assert (families["invoices"].state, families["invoices"].state_reason) == ("failed", "Rejected")
    assert families["invoices"].entity_label == "Invoices and bills"
    assert (families["items"].state, families["items"].records, families["items"].enabled) == (
        "never",
        0,
        True,
    )
    assert (families["journals"].state, families["journals"].enabled) == ("disabled", False)
    by_family = {family.entity: family.records for family in dashboard.records_by_family}
    assert by_family["contacts"] == 1210
    assert by_family["invoices"] == 3400
    assert by_family["accounts"] == 80
    assert by_family["journals"] == 0
    assert sum(by_family.values()) == 4690


def test_quota_used_and_remaining_today():
    budgets = {
        # Counted by us, against a plan the settings lower to 1,000 calls a day.
        "counted": _connection(1, settings={"rate_limits": {"per_day": 1000}}),
        # The ledger said how many calls are left: that figure wins.
        "reported": _connection(2),
        # The ledger's figure is two days old: counted instead.
        "stale": _connection(3),
        # A ledger with no day limit.
        "unlimited": _connection(4, provider="quickbooks"),
        # Never called.
        "none": _connection(5),
    }
    now = timezone.now()
    # Inside the day: this bucket, ten back, and the oldest one admission still counts; not the one before.
    oldest = math.floor(now.timestamp() / (DAY / BUCKETS_PER_WINDOW)) - _oldest(DAY, now.timestamp())
    buckets = {
        _day_bucket(0, now): 30,
        _day_bucket(10, now): 12,
        _day_bucket(oldest, now): 5,
        _day_bucket(oldest + 1, now): 100,
    }
    blocked_until = now.timestamp() + 600
    RateBudget.objects.create(
        connection=budgets["counted"], day_buckets=buckets, blocked_until=blocked_until, blocked_reason="429"
    )
    RateBudget.objects.create(connection=budgets["reported"], day_buckets=buckets, day_remaining_reported=120)
    stale = RateBudget.objects.create(
        connection=budgets["stale"], day_buckets=buckets, day_remaining_reported=0
    )
    RateBudget.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=2))
    RateBudget.objects.create(connection=budgets["unlimited"], day_buckets=buckets)

    dashboard = dashboard_get(now=now)

    quota = {key: _by_id(dashboard, connection).quota for key, connection in budgets.items()}
    counted = quota["counted"]
    assert (counted.day_limit, counted.used, counted.remaining, counted.remaining_source) == (
        1000,
        47,
        953,
        "counted",
    )
    assert counted.percent_used == 5
    assert counted.blocked_until is not None
    assert abs(counted.blocked_until.timestamp() - blocked_until) < 0.001
    assert counted.blocked_reason == "429"
    reported = quota["reported"]
    assert (reported.day_limit, reported.used, reported.remaining, reported.remaining_source) == (
        5000,
        47,
        120,
        "ledger",
    )
    assert reported.percent_used == 98
    assert (reported.blocked_until, reported.blocked_reason) == (None, "")
    stale_quota = quota["stale"]
    assert (stale_quota.remaining, stale_quota.remaining_source) == (4953, "counted")
    unlimited = quota["unlimited"]
    assert (unlimited.day_limit, unlimited.used, unlimited.remaining) == (None, 47, None)
    assert (unlimited.remaining_source, unlimited.percent_used) == ("", None)
    never = quota["none"]
    assert (never.day_limit, never.used, never.remaining, never.percent_used) == (5000, 0, 5000, 0)


def test_queue_depth_and_database_latency():
    from django_q.brokers import get_broker

    broker = get_broker()
    broker.enqueue("signed-task-payload-1")
    broker.enqueue("signed-task-payload-2")

    dashboard = dashboard_get()

    assert dashboard.queue.ok
    assert dashboard.queue.broker == "ORM"
    assert dashboard.queue.depth == 2
    assert dashboard.queue.clusters == 0
    assert dashboard.database.ok
    assert dashboard.database.vendor == db_connection.vendor
    assert dashboard.database.latency_ms >= 0


# --- Queries ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("connections", [2, 5])
def test_queries_do_not_grow_with_connections_or_runs(connections, django_assert_num_queries):
    _populate(connections)

    with CaptureQueriesContext(db_connection) as captured:
        dashboard = dashboard_get()
    with django_assert_num_queries(QUERIES):
        dashboard_get()

    assert len(dashboard.connections) == connections
    assert dashboard.runs_last_hour.succeeded == connections
    assert dashboard.runs_last_day.failed == connections
    assert dashboard.runs_active == connections
    # Record counts are never a COUNT(*) over the mirror tables.
    assert not [query for query in captured.captured_queries if "accounting_" in query["sql"]]


# --- API -------------------------------------------------------------------------------------------------


def test_api_shape_and_values(api_client):
    connection = _connection(1, settings={"rate_limits": {"per_day": 1000}})
    SyncState.objects.create(connection=connection, entity="contacts", state="synced", records=12)
    RateBudget.objects.create(connection=connection, day_buckets={_day_bucket(0): 3})
    _run(connection, "succeeded", timedelta(minutes=5))
    _run(connection, "failed", timedelta(hours=3))

    response = api_client.get(DASHBOARD_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "generated_at",
        "records",
        "runs_last_hour",
        "runs_last_day",
        "runs_active",
        "queue",
        "database",
        "connections",
        "runs_per_hour",
        "records_by_family",
    }
    assert body["records"] == 12
    assert body["runs_last_hour"] == {"succeeded": 1, "failed": 0}
    assert body["runs_last_day"] == {"succeeded": 1, "failed": 1}
    assert body["runs_active"] == 0
    assert set(body["queue"]) == {"ok", "broker", "depth", "clusters", "workers", "latency_ms", "error"}
    assert body["queue"]["depth"] == 0
    assert set(body["database"]) == {"ok", "vendor", "latency_ms", "error"}
    assert body["database"]["ok"] is True
    assert len(body["runs_per_hour"]) == HOURS
    assert set(body["runs_per_hour"][0]) == {"hour", "succeeded", "failed"}
    assert sum(hour["succeeded"] for hour in body["runs_per_hour"]) == 1
    assert sum(hour["failed"] for hour in body["runs_per_hour"]) == 1
    assert {"entity": "contacts", "entity_label": "Contacts", "records": 12} in body["records_by_family"]

    [item] = body["connections"]
    assert set(item) == {
        "id",
        "display_name",
        "provider",
        "provider_label",
        "status",
        "status_label",
        "health",
        "health_label",
        "health_checked_at",
        "health_latency_ms",
        "health_error",
        "records",
        "last_success_at",
        "last_failure_at",
        "families",
        "quota",
        "runs_last_hour",
        "runs_last_day",
        "runs_active",
    }
    assert (item["id"], item["display_name"], item["provider"]) == (connection.pk, "Org 1", "xero")
    assert (item["status"], item["health"], item["health_label"]) == ("active", "unknown", "Not checked yet")
    assert item["records"] == 12
    assert item["quota"] == {
        "day_limit": 1000,
        "used": 3,
        "remaining": 997,
        "remaining_source": "counted",
        "percent_used": 0,
        "blocked_until": None,
        "blocked_reason": "",
    }
    assert item["runs_last_hour"] == {"succeeded": 1, "failed": 0}
    contacts = next(family for family in item["families"] if family["entity"] == "contacts")
    assert contacts == {
        "entity": "contacts",
        "entity_label": "Contacts",
        "enabled": True,
        "state": "synced",
        "state_label": "Synced",
        "state_reason": "",
        "records": 12,
        "running": False,
        "last_success_at": None,
        "last_failure_at": None,
        "next_run_at": None,
    }


def test_api_schema_describes_the_dashboard(api_client):
    response = api_client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/dashboard/"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Dashboard"
    }
    components = schema["components"]["schemas"]
    assert "quota" in components["DashboardConnection"]["properties"]
    assert set(components["Quota"]["properties"]) >= {"day_limit", "used", "remaining", "remaining_source"}


def test_api_is_for_staff_only(anon_client, plain_user):
    plain = APIClient()
    plain.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(plain_user)}")

    assert anon_client.get(DASHBOARD_URL).status_code == 401
    assert plain.get(DASHBOARD_URL).status_code == 403


# --- Admin page ------------------------------------------------------------------------------------------


def _external_references(html: str) -> list[str]:
    """Every src/href (and CSS url()) that points at another host, or at any absolute http(s) URL."""
    references = re.findall(r"""(?:src|href)\s*=\s*["']([^"']*)["']""", html, flags=re.IGNORECASE)
    references += re.findall(r"""url\(\s*["']?([^"')]*)""", html, flags=re.IGNORECASE)
    return [
        reference
        for reference in references
        if reference.strip().lower().startswith(("http:", "https:", "//"))
        and not reference.strip().lower().startswith(("http://testserver/", "https://testserver/"))
    ]


def test_admin_page_shows_each_connection_and_draws_both_charts_locally(admin_client):
    connection = _connection(
        1,
        settings={"rate_limits": {"per_day": 1000}},
        health="failing",
        health_error="Timed out",
        health_latency_ms=812,
        health_checked_at=timezone.now() - timedelta(minutes=3),
    )
    _connection(2, provider="quickbooks", display_name="Books Co")
    SyncState.objects.create(connection=connection, entity="contacts", state="synced", records=1234)
    SyncState.objects.create(connection=connection, entity="invoices", state="failed", records=7)
    RateBudget.objects.create(connection=connection, day_buckets={_day_bucket(0): 950})
    _run(connection, "succeeded", timedelta(minutes=5))
    _run(connection, "failed", timedelta(minutes=8))

    response = admin_client.get(reverse(ADMIN_DASHBOARD))

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('<svg class="ll-chart"') == 2
    assert html.count('class="ll-fill-ok"') == 1
    assert html.count('class="ll-fill-fail"') == 1
    assert html.count('class="ll-fill-records"') == 2  # contacts and invoices
    assert "<script" not in html.split('<div id="content-main">', 1)[1]
    assert _external_references(html) == []
    assert "cdn" not in html.lower()
    assert "Org 1" in html
    assert "Books Co" in html
    assert '<span class="ll-badge ll-red" title="Timed out">Failing</span>' in html
    assert '<span class="ll-badge ll-green" title="Synced">Contacts</span> 1,234' in html
    assert "950 used, 50 left of 1000" in html
    assert '<span class="ll-red" style="width:95%"></span>' in html
    assert "no day limit" in html


def test_admin_page_renders_with_nothing_to_show(admin_client):
    response = admin_client.get(reverse(ADMIN_DASHBOARD))

    assert response.status_code == 200
    html = response.content.decode()
    assert "No run finished in the last 24 hours." in html
    assert "No records mirrored yet." in html
    assert "No connection yet." in html


def test_admin_index_links_to_the_dashboard_for_those_who_may_see_it(admin_client, client, bare_staff_user):
    link = f'href="{reverse(ADMIN_DASHBOARD)}"'

    response = admin_client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert link in response.content.decode()

    client.force_login(bare_staff_user)  # staff, but without the permission to view connections
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200
    assert link not in response.content.decode()


def test_admin_page_is_for_staff_allowed_to_view_connections(client, plain_user, bare_staff_user):
    url = reverse(ADMIN_DASHBOARD)

    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))

    client.force_login(plain_user)
    not_staff = client.get(url)
    assert not_staff.status_code == 302
    assert not_staff["Location"].startswith(reverse("admin:login"))

    client.force_login(bare_staff_user)  # staff, but without the permission to view connections
    assert client.get(url).status_code == 403
