"""Pipedream-compatible routes: POST /schedule, POST|DELETE /cancel, and the optional shared secret."""

from __future__ import annotations

import json

import pytest

from tests.integration.api.harness import TENANT_B, Stack, call_api

SOON = "2026-01-01T12:05:00Z"  # 300 s after the fake clock's start: straight to the delay queue
LATER = "2026-01-01T13:00:00.951Z"  # an hour ahead: an EventBridge Scheduler wake-up at T - lead


def test_schedule_answers_like_pipedream_and_arms_the_delay_queue(stack: Stack) -> None:
    response = call_api("POST", "/schedule", body={"timestamp": SOON, "message": {"name": "Luke"}})

    assert response.status == 200
    body = response.json
    assert body["message"] == f"Scheduled task at {SOON}"
    assert body["task"]["id"] == body["id"]
    assert body["task"]["at"] == SOON
    assert body["task"]["message"] == {"name": "Luke"}
    assert body["task"]["status"] == "scheduled"
    [(link, delay)] = stack.delayed()
    assert delay == 300
    assert link["task_id"] == body["id"]
    assert link["occurrence"] == SOON
    assert stack.schedules() == []


def test_schedule_far_ahead_creates_one_wake_up_before_the_instant(stack: Stack) -> None:
    response = call_api("POST", "/schedule", body={"timestamp": LATER, "message": "hello"})

    assert response.status == 200
    [schedule] = stack.schedules()
    assert schedule["ScheduleExpression"] == "at(2026-01-01T12:58:00)"  # lead of 120 s, whole seconds
    assert json.loads(schedule["Target"]["Input"])["task_id"] == response.json["id"]
    assert stack.delayed() == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"message": "no timestamp"}, 400, "timestamp"),
        ({"timestamp": "tomorrow", "message": "x"}, 400, "timestamp"),
        ({"timestamp": 1767268800, "message": "x"}, 400, "timestamp"),
        ({"timestamp": "2027-06-01T00:00:00Z", "message": "x"}, 422, "timestamp"),  # over a year ahead
    ],
)
def test_schedule_rejects_bad_timestamps_and_writes_nothing(
    stack: Stack, body: dict[str, object], status: int, field: str
) -> None:
    response = call_api("POST", "/schedule", body=body)

    assert response.status == status
    assert field in response.error_fields
    assert stack.table_items() == []
    assert stack.delayed() == []
    assert stack.schedules() == []


def test_cancel_by_post_then_the_task_is_cancelled_and_its_wake_up_gone(stack: Stack) -> None:
    task_id = call_api("POST", "/schedule", body={"timestamp": LATER, "message": "x"}).json["id"]
    assert len(stack.schedules()) == 1

    response = call_api("POST", "/cancel", body={"id": task_id})

    assert response.status == 200
    assert response.json == {"id": task_id, "status": "cancelled"}
    assert call_api("GET", f"/tasks/{task_id}").json["status"] == "cancelled"
    assert stack.schedules() == []


def test_cancel_by_delete_with_a_body_or_a_query_parameter(stack: Stack) -> None:
    first = call_api("POST", "/schedule", body={"timestamp": SOON, "message": 1}).json["id"]
    second = call_api("POST", "/schedule", body={"timestamp": SOON, "message": 2}).json["id"]

    assert call_api("DELETE", "/cancel", body={"id": first}).json == {"id": first, "status": "cancelled"}
    assert call_api("DELETE", "/cancel", query={"id": second}).json == {"id": second, "status": "cancelled"}
    missing = call_api("DELETE", "/cancel")
    assert missing.status == 400
    assert missing.error_fields == ["id"]


def test_cancel_of_an_unknown_or_foreign_task_is_404(stack: Stack) -> None:
    task_id = call_api("POST", "/schedule", body={"timestamp": SOON, "message": "x"}).json["id"]

    unknown = call_api("POST", "/cancel", body={"id": "f" * 32})
    foreign = call_api("POST", "/cancel", body={"id": task_id}, api_key_id=TENANT_B)

    assert unknown.status == foreign.status == 404
    assert unknown.error_code == foreign.error_code == "not_found"
    assert call_api("GET", f"/tasks/{task_id}").json["status"] == "scheduled"


SECRET = "s3cret-value"


@pytest.mark.stack_env(SHARED_SECRET=SECRET)
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"headers": {"X-Punctual-Secret": "wrong"}},
        {"secret_in_body": "wrong"},
        {"secret_in_body": SECRET[:-1]},
    ],
)
def test_a_configured_secret_is_required(stack: Stack, kwargs: dict[str, object]) -> None:
    body: dict[str, object] = {"timestamp": SOON, "message": "x"}
    if "secret_in_body" in kwargs:
        body["secret"] = kwargs["secret_in_body"]
    headers = kwargs.get("headers")

    response = call_api("POST", "/schedule", body=body, headers=headers)

    assert response.status == 401
    assert response.error_code == "unauthorized"
    assert stack.table_items() == []
    assert call_api("GET", "/tasks").status == 401


@pytest.mark.stack_env(SHARED_SECRET=SECRET)
def test_the_right_secret_in_the_body_or_a_header_is_accepted(stack: Stack) -> None:
    in_body = call_api("POST", "/schedule", body={"timestamp": SOON, "message": "x", "secret": SECRET})
    in_header = call_api("GET", "/tasks", headers={"X-Punctual-Secret": SECRET})
    pipedream_header = call_api(
        "POST", "/cancel", body={"id": in_body.json["id"]}, headers={"x-pd-secret": SECRET}
    )

    assert in_body.status == 200
    assert in_header.status == 200
    assert [task["id"] for task in in_header.json["tasks"]] == [in_body.json["id"]]
    assert pipedream_header.status == 200
    # Health checks and API discovery need no secret.
    assert call_api("GET", "/health").status == 200
    assert call_api("GET", "/openapi.json").status == 200


def test_without_a_configured_secret_a_body_secret_is_ignored(stack: Stack) -> None:
    response = call_api("POST", "/schedule", body={"timestamp": SOON, "message": "x", "secret": "anything"})

    assert response.status == 200
