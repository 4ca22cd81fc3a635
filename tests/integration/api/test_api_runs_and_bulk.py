"""Run now, run status and history; bulk delete and bulk reschedule with per-item results."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.harness import TENANT_B, Stack, call_api

IN_AN_HOUR = "2026-01-01T13:00:00Z"
RUN_KEYS = {
    "tracking_id",
    "task_id",
    "task_name",
    "kind",
    "status",
    "scheduled_for",
    "triggered_at",
    "started_at",
    "completed_at",
    "fired_at",
    "lateness_ms",
    "attempt",
    "error",
    "missed_occurrences",
    "target_type",
}


def create(body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = call_api("POST", "/tasks", body=body, **kwargs)
    assert response.status == 201, response.raw_body
    return dict(response.json)


# --- runs -----------------------------------------------------------------------------------------------
def test_run_now_answers_202_with_a_tracking_id_and_queues_a_manual_link(stack: Stack) -> None:
    task = create({"every": "1 hour", "name": "billOnDemand"})
    stack.sent_messages.clear()

    response = call_api("POST", f"/tasks/{task['id']}/runs")

    assert response.status == 202
    run = response.json
    assert set(run) == RUN_KEYS
    assert run["task_id"] == task["id"]
    assert run["task_name"] == "billOnDemand"
    assert run["status"] == "pending"
    assert run["kind"] == "manual"
    assert run["triggered_at"] == "2026-01-01T12:00:00Z"
    assert run["started_at"] is None and run["completed_at"] is None
    [(link, delay)] = stack.delayed()
    assert delay == 0
    assert link["kind"] == "manual"
    assert link["tracking_id"] == run["tracking_id"]


def test_run_status_and_history(stack: Stack) -> None:
    task = create({"every": "1 hour"})
    first = call_api("POST", f"/tasks/{task['id']}/runs").json
    stack.clock.advance(seconds=5)
    second = call_api("POST", f"/tasks/{task['id']}/runs").json

    status = call_api("GET", f"/runs/{first['tracking_id']}")
    history = call_api("GET", f"/tasks/{task['id']}/runs")
    page = call_api("GET", f"/tasks/{task['id']}/runs", query={"limit": "1"}).json
    rest = call_api(
        "GET", f"/tasks/{task['id']}/runs", query={"limit": "1", "cursor": page["next_cursor"]}
    ).json

    assert status.status == 200
    assert status.json == first
    assert history.status == 200
    assert [run["tracking_id"] for run in history.json["runs"]] == [
        second["tracking_id"],
        first["tracking_id"],
    ]
    assert history.json["next_cursor"] is None
    assert [run["tracking_id"] for run in page["runs"] + rest["runs"]] == [
        second["tracking_id"],
        first["tracking_id"],
    ]


def test_runs_of_other_contexts_are_404(stack: Stack) -> None:
    task = create({"every": "1 hour"})
    run = call_api("POST", f"/tasks/{task['id']}/runs").json

    assert call_api("GET", f"/runs/{run['tracking_id']}", api_key_id=TENANT_B).status == 404
    assert call_api("GET", f"/runs/{run['tracking_id']}", user="alice").status == 404
    assert call_api("GET", f"/runs/{'e' * 32}").status == 404
    assert call_api("GET", f"/runs/{run['tracking_id']}").status == 200


def test_run_history_rejects_a_forged_cursor(stack: Stack) -> None:
    task = create({"every": "1 hour"})

    response = call_api("GET", f"/tasks/{task['id']}/runs", query={"cursor": "eyJ9.AAAA"})

    assert response.status == 400
    assert response.error_fields == ["cursor"]


# --- bulk delete ----------------------------------------------------------------------------------------
def test_bulk_delete_by_ids_reports_each_item(stack: Stack) -> None:
    mine = create({"at": IN_AN_HOUR})
    also_mine = create({"every": "1 hour"})
    foreign = create({"at": IN_AN_HOUR}, api_key_id=TENANT_B)

    response = call_api(
        "POST", "/tasks/bulk-delete", body={"ids": [mine["id"], foreign["id"], also_mine["id"], "nope"]}
    )

    assert response.status == 200
    body = response.json
    assert [(item["id"], item["status_code"]) for item in body["results"]] == [
        (mine["id"], 200),
        (foreign["id"], 404),
        (also_mine["id"], 200),
        ("nope", 404),
    ]
    assert body["results"][0]["task"]["status"] == "cancelled"
    assert body["results"][1]["error"]["code"] == "not_found"
    assert (body["succeeded"], body["failed"]) == (2, 2)
    assert call_api("GET", f"/tasks/{foreign['id']}", api_key_id=TENANT_B).json["status"] == "scheduled"


def test_bulk_delete_by_filter_and_by_empty_filter(stack: Stack) -> None:
    pro = create({"at": IN_AN_HOUR, "metadata": {"plan": "pro"}})
    free = create({"at": IN_AN_HOUR, "metadata": {"plan": "free"}})
    create({"at": IN_AN_HOUR, "metadata": {"plan": "pro"}}, api_key_id=TENANT_B)

    by_filter = call_api("POST", "/tasks/bulk-delete", body={"filter": {"metadata": {"plan": "pro"}}}).json
    everything = call_api("POST", "/tasks/bulk-delete", body={"filter": {}}).json

    assert [item["id"] for item in by_filter["results"]] == [pro["id"]]
    assert [item["id"] for item in everything["results"]] == [free["id"]]
    assert len(call_api("GET", "/tasks", api_key_id=TENANT_B).json["tasks"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"ids": ["a"], "filter": {}},
        {"ids": []},
        {"ids": "abc"},
        {"filter": {"status": "bogus"}},
        {"ids": [str(i) for i in range(101)]},
    ],
)
def test_bad_bulk_deletes_are_400_and_cancel_nothing(stack: Stack, body: dict[str, Any]) -> None:
    task = create({"at": IN_AN_HOUR})

    response = call_api("POST", "/tasks/bulk-delete", body=body)

    assert response.status == 400, response.raw_body
    assert call_api("GET", f"/tasks/{task['id']}").json["status"] == "scheduled"


# --- bulk reschedule ------------------------------------------------------------------------------------
def test_bulk_reschedule_reports_each_item(stack: Stack) -> None:
    once = create({"at": IN_AN_HOUR})
    recurring = create({"every": "1 hour"})

    response = call_api(
        "POST",
        "/tasks/bulk-reschedule",
        body={
            "updates": [
                {"id": once["id"], "at": "2026-01-02T09:00:00Z"},
                {"id": recurring["id"], "at": "2026-01-02T09:00:00Z"},
                {"id": "f" * 32, "at": "2026-01-02T09:00:00Z"},
            ]
        },
    )

    assert response.status == 200
    results = response.json["results"]
    assert [item["status_code"] for item in results] == [200, 409, 404]
    assert results[0]["task"]["next_run_at"] == "2026-01-02T09:00:00Z"
    assert call_api("GET", f"/tasks/{recurring['id']}").json["every"] == "1 hour"


def test_bulk_reschedule_items_with_bad_instants_fail_alone(stack: Stack) -> None:
    first = create({"at": IN_AN_HOUR})
    second = create({"at": IN_AN_HOUR})

    response = call_api(
        "POST",
        "/tasks/bulk-reschedule",
        body={
            "updates": [
                {"id": first["id"], "at": "whenever"},
                {"id": second["id"], "at": "2026-03-01T00:00:00Z"},
            ]
        },
    )

    results = response.json["results"]
    assert [item["status_code"] for item in results] == [400, 200]
    assert results[0]["error"]["details"][0]["field"] == "at"
    assert call_api("GET", f"/tasks/{first['id']}").json["at"] == IN_AN_HOUR


@pytest.mark.parametrize(
    "body", [{}, {"updates": []}, {"updates": [{"id": "a"}]}, {"updates": [{"id": "a", "at": 5}]}]
)
def test_malformed_bulk_reschedules_are_400(stack: Stack, body: dict[str, Any]) -> None:
    response = call_api("POST", "/tasks/bulk-reschedule", body=body)

    assert response.status == 400
    assert response.error_code == "validation_error"
