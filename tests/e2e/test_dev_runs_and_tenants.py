"""Run-now and tenant isolation against ``punctual dev``, over HTTP only."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual.domain.timefmt import format_instant, parse_instant

from tests.e2e.harness import DevProcess, unique_key

pytestmark = pytest.mark.e2e


def an_hour_ahead() -> str:
    return format_instant(datetime.now(UTC) + timedelta(hours=1))


def poll_run(dev: DevProcess, key: str, tracking_id: str, status: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = dev.request("GET", f"/runs/{tracking_id}", key=key)
        assert response.status_code == 200, response.text
        run = response.json()
        if run["status"] == status:
            return run
        time.sleep(0.1)
    raise TimeoutError(f"run {tracking_id} is {run.get('status')}, not {status}, after {timeout} s: {run}")


def test_run_now_answers_a_tracking_id_that_completes(dev: DevProcess) -> None:
    key = unique_key("runs")
    created = dev.request(
        "POST",
        "/tasks",
        key=key,
        json={"at": an_hour_ahead(), "name": "nightly report", "message": {"id": 7}},
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]

    with dev.sse() as stream:
        accepted = dev.request("POST", f"/tasks/{task_id}/runs", key=key)
        assert accepted.status_code == 202, accepted.text
        pending = accepted.json()
        assert pending["status"] == "pending"
        assert pending["task_id"] == task_id
        assert pending["task_name"] == "nightly report"
        tracking_id = pending["tracking_id"]

        run = poll_run(dev, key, tracking_id, "completed", timeout=10)
        _, event = stream.wait_for(lambda e: e.get("tracking_id") == tracking_id, timeout=10)

    triggered = parse_instant(run["triggered_at"], "triggered_at")
    started = parse_instant(run["started_at"], "started_at")
    completed = parse_instant(run["completed_at"], "completed_at")
    assert triggered <= started <= completed
    assert event["task_id"] == task_id
    assert event["message"] == {"id": 7}
    assert event["run_kind"] == "manual"

    history = dev.request("GET", f"/tasks/{task_id}/runs", key=key).json()["runs"]
    assert tracking_id in [r["tracking_id"] for r in history]
    # Running it now does not consume the scheduled occurrence.
    task = dev.request("GET", f"/tasks/{task_id}", key=key).json()
    assert task["status"] == "scheduled"
    # Another tenant cannot read the run.
    assert dev.request("GET", f"/runs/{tracking_id}", key=unique_key("other")).status_code == 404


def test_tenants_never_see_or_touch_each_others_tasks(dev: DevProcess) -> None:
    alice, bob = unique_key("alice"), unique_key("bob")
    created = dev.request("POST", "/tasks", key=alice, json={"at": an_hour_ahead(), "name": "alice's"})
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    bobs = dev.request("POST", "/tasks", key=bob, json={"at": an_hour_ahead(), "name": "bob's"})
    assert bobs.status_code == 201, bobs.text

    bob_sees = [t["id"] for t in dev.request("GET", "/tasks", key=bob).json()["tasks"]]
    assert bob_sees == [bobs.json()["id"]]
    assert [t["id"] for t in dev.request("GET", "/tasks", key=alice).json()["tasks"]] == [task_id]
    assert task_id not in [
        t["id"] for t in dev.request("GET", "/tasks").json()["tasks"]
    ]  # no key: default tenant

    assert dev.request("GET", f"/tasks/{task_id}", key=bob).status_code == 404
    assert dev.request("PATCH", f"/tasks/{task_id}", key=bob, json={"paused": True}).status_code == 404
    assert dev.request("POST", f"/tasks/{task_id}/runs", key=bob).status_code == 404
    assert dev.request("POST", "/cancel", key=bob, json={"id": task_id}).status_code == 404
    assert dev.request("DELETE", f"/tasks/{task_id}", key=bob).status_code == 404
    bulk = dev.request("POST", "/tasks/bulk-delete", key=bob, json={"filter": {}})
    assert bulk.status_code == 200, bulk.text

    task = dev.request("GET", f"/tasks/{task_id}", key=alice).json()
    assert task["status"] == "scheduled"  # untouched by everything bob did


def test_a_user_header_narrows_a_tenant_to_one_user(dev: DevProcess) -> None:
    key = unique_key("users")
    created = dev.request(
        "POST", "/tasks", key=key, headers={"X-Punctual-User": "carol"}, json={"at": an_hour_ahead()}
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    assert dev.request("GET", f"/tasks/{task_id}", key=key, headers={"X-Punctual-User": "carol"}).ok
    assert (
        dev.request("GET", f"/tasks/{task_id}", key=key, headers={"X-Punctual-User": "dave"}).status_code
        == 404
    )
    assert dev.request("GET", f"/tasks/{task_id}", key=key).status_code == 404
