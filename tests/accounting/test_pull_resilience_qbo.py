"""The QuickBooks side of the resilience tests: python-quickbooks hides HTTP statuses and raises its own
errors, so its path through server errors, timeouts and dropped connections is tested on its own."""

from __future__ import annotations

from typing import Any

import pytest

import sandbox.faults as sandbox_faults
from integrations.providers.quickbooks import client as qbo_client
from integrations.providers.quickbooks import pull as qbo_pull
from sandbox.models import Tenant
from tests.accounting.test_pull_qbo import assert_mirror_equals_sandbox

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "sandbox"])


def test_full_and_incremental_pulls_through_faults_match_the_ledger(
    qbo_connection, qbo_company, pull, settings, monkeypatch
):
    settings.SYNC_RETRY_BASE_SECONDS = 0.01
    monkeypatch.setattr(qbo_pull, "PAGE_SIZE", 10)
    monkeypatch.setattr(qbo_client, "READ_TIMEOUT", 0.5)
    planned: list[str] = []
    plan = sandbox_faults.fault_plan

    def plan_recorded(**kwargs: Any) -> sandbox_faults.FaultPlan:
        decided = plan(**kwargs)
        planned.append(decided.kind or "")
        return decided

    monkeypatch.setattr(sandbox_faults, "fault_plan", plan_recorded)
    Tenant.objects.filter(pk=qbo_company.pk).update(
        fault_error_rate=0.10,
        fault_error_status=503,
        fault_timeout_rate=0.10,
        fault_timeout_seconds=1.0,
        fault_drop_after_commit_rate=0.10,
        fault_seed=5,
    )
    runs = pull(qbo_connection, full=True)
    assert {key: run.status for key, run in runs.items()} == dict.fromkeys(runs, "succeeded")
    assert {"error", "timeout", "drop"} <= set(planned), planned
    assert sum(run.retries for run in runs.values()) == sum(1 for kind in planned if kind)
    again = pull(qbo_connection)
    assert {key: run.status for key, run in again.items()} == dict.fromkeys(again, "succeeded")

    Tenant.objects.filter(pk=qbo_company.pk).update(
        fault_error_rate=0, fault_timeout_rate=0, fault_drop_after_commit_rate=0
    )
    assert_mirror_equals_sandbox(qbo_connection, qbo_company)
