"""The task resource API: create, read, list, update, cancel, over moto."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api.harness import TENANT_A, TENANT_B, Stack, call_api

IN_AN_HOUR = "2026-01-01T13:00:00Z"
TASK_KEYS = {
    "id",
    "name",
    "status",
    "timezone",
    "start_at",
    "end_at",
    "next_run_at",
    "version",
    "message",
    "metadata",
    "misfire",
    "created_at",
    "updated_at",
    "last_run_at",
    "target",  # {"type": "topic"} unless the task runs something (issue 11)
    "retry",
    "overlap",
}


def create(body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = call_api("POST", "/tasks", body=body, **kwargs)
    assert response.status == 201, response.raw_body
    return dict(response.json)


# --- create ---------------------------------------------------------------------------------------------
def test_create_one_time_task_shows_the_whole_record(stack: Stack) -> None:
    response = call_api(
        "POST",
        "/tasks",
        body={
            "name": "reminder",
            "at": "2026-01-01T14:00:00+01:00",
            "message": {"to": "luke"},
            "metadata": {"customer": "c-1"},
            "misfire": "skip",
        },
    )

    assert response.status == 201
    task = response.json
    assert set(task) == TASK_KEYS | {"at"}
    assert task["at"] == task["next_run_at"] == "2026-01-01T13:00:00Z"
    assert task["name"] == "reminder"
    assert task["message"] == {"to": "luke"}
    assert task["metadata"] == {"customer": "c-1"}
    assert task["misfire"] == "skip"
    assert task["status"] == "scheduled"
    assert task["version"] == 1
    assert task["created_at"] == task["updated_at"] == "2026-01-01T12:00:00Z"
    assert task["last_run_at"] is None
    assert len(task["id"]) == 32


def test_create_recurring_tasks_shows_only_their_own_expression(stack: Stack) -> None:
    every = create({"every": "5 minutes", "message": "tick"})
    cron = create({"cron": "0 9 * * *", "timezone": "Europe/Paris"})
    quartz = create({"cron": "0 0/5 0 ? * * *"})

    assert set(every) == TASK_KEYS | {"every"}
    assert every["every"] == "5 minutes"
    assert every["next_run_at"] == "2026-01-01T12:05:00Z"
    assert set(cron) == TASK_KEYS | {"cron"}
    assert cron["timezone"] == "Europe/Paris"
    assert cron["next_run_at"] == "2026-01-02T08:00:00Z"  # 09:00 in Paris, winter time
    assert quartz["cron"] == "0 0/5 0 ? * * *"
    assert quartz["next_run_at"] == "2026-01-02T00:00:00Z"


def test_idempotency_key_in_the_body_or_header_returns_the_first_task(stack: Stack) -> None:
    first = call_api("POST", "/tasks", body={"at": IN_AN_HOUR, "idempotency_key": "order-1"})
    again = call_api("POST", "/tasks", body={"at": IN_AN_HOUR, "idempotency_key": "order-1"})
    by_header = call_api("POST", "/tasks", body={"at": IN_AN_HOUR}, headers={"Idempotency-Key": "order-1"})
    other_tenant = call_api(
        "POST", "/tasks", body={"at": IN_AN_HOUR, "idempotency_key": "order-1"}, api_key_id=TENANT_B
    )

    assert first.status == 201
    assert again.status == by_header.status == 200
    assert again.json["id"] == by_header.json["id"] == first.json["id"]
    assert other_tenant.status == 201
    assert other_tenant.json["id"] != first.json["id"]
    assert len(stack.schedules()) == 2  # one wake-up per task actually created


def test_idempotency_header_and_body_must_agree(stack: Stack) -> None:
    response = call_api(
        "POST", "/tasks", body={"at": IN_AN_HOUR, "idempotency_key": "a"}, headers={"Idempotency-Key": "b"}
    )

    assert response.status == 400
    assert response.error_fields == ["idempotency_key"]
    assert stack.table_items() == []


@pytest.mark.parametrize(
    ("body", "status", "fields"),
    [
        ({"message": "no schedule"}, 400, None),
        ({"at": IN_AN_HOUR, "every": "5 minutes"}, 400, None),
        ({"cron": "61 * * * *"}, 400, ["cron"]),
        ({"every": "5 fortnights"}, 400, ["every"]),
        ({"every": "1 second"}, 422, ["every"]),
        ({"at": "2027-06-01T00:00:00Z"}, 422, ["at"]),
        ({"at": "not a time"}, 400, ["at"]),
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, 400, ["timezone"]),
        ({"at": IN_AN_HOUR, "metadata": {"k": 1}}, 400, ["metadata.k"]),
        ({"at": IN_AN_HOUR, "metadata": {f"k{i}": "v" for i in range(6)}}, 400, ["metadata"]),
        ({"at": IN_AN_HOUR, "metadata": {"bad key": "v"}}, 400, ["metadata.bad key"]),
        ({"at": IN_AN_HOUR, "misfire": "sometimes"}, 400, ["misfire"]),
        ({"at": IN_AN_HOUR, "cronn": "* * * * *"}, 400, ["cronn"]),
        ({"at": IN_AN_HOUR, "name": "x" * 300}, 400, ["name"]),
        ({"at": IN_AN_HOUR, "name": 7}, 400, ["name"]),
        ({"at": IN_AN_HOUR, "message": "x" * 210_000}, 413, ["message"]),
        (
            {"every": "1 hour", "start_at": "2026-01-01T10:00:00Z", "end_at": "2026-01-01T11:00:00Z"},
            422,
            None,
        ),
    ],
)
def test_invalid_tasks_get_a_clear_error_and_nothing_is_written(
    stack: Stack, body: dict[str, Any], status: int, fields: list[str] | None
) -> None:
    response = call_api("POST", "/tasks", body=body)

    assert response.status == status, response.raw_body
    error = response.json["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["message"]
    if fields is not None:
        assert set(response.error_fields) == set(fields)
    assert stack.table_items() == []
    assert stack.delayed() == []
    assert stack.schedules() == []


@pytest.mark.parametrize(
    ("raw_body", "content_type"),
    [
        ("{not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('"a string"', "application/json"),
        ("", "application/json"),
        ("at=2026-01-01T13:00:00Z", "text/plain"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_400(stack: Stack, raw_body: str, content_type: str) -> None:
    response = call_api("POST", "/tasks", raw_body=raw_body, headers={"Content-Type": content_type})

    assert response.status == 400
    assert response.error_code == "validation_error"
    assert stack.table_items() == []


def test_a_body_over_256_kib_is_413_before_anything_else(stack: Stack) -> None:
    response = call_api("POST", "/tasks", raw_body='{"at": "x", "message": "' + "x" * 270_000 + '"}')

    assert response.status == 413
    assert response.error_code == "payload_too_large"
    assert stack.table_items() == []


# --- read -----------------------------------------------------------------------------------------------
def test_get_a_task(stack: Stack) -> None:
    created = create({"at": IN_AN_HOUR, "name": "n"})

    response = call_api("GET", f"/tasks/{created['id']}")

    assert response.status == 200
    assert response.json == created


@pytest.mark.parametrize("task_id", ["f" * 32, "nope", "x" * 300, "%20"])
def test_unknown_tasks_are_404(stack: Stack, task_id: str) -> None:
    response = call_api("GET", f"/tasks/{task_id}")

    assert response.status == 404
    assert response.error_code == "not_found"


def test_other_tenants_and_users_see_a_404_identical_to_a_missing_task(stack: Stack) -> None:
    mine = create({"at": IN_AN_HOUR, "name": "secret plan"})
    users = create({"at": IN_AN_HOUR}, user="alice")
    missing_id = "0" * 32

    def probe(task_id: str, **kwargs: Any) -> dict[str, Any]:
        response = call_api("GET", f"/tasks/{task_id}", **kwargs)
        assert response.status == 404
        return dict(response.json)

    missing = probe(missing_id)
    for task_id, kwargs in [
        (mine["id"], {"api_key_id": TENANT_B}),
        (mine["id"], {"user": "alice"}),
        (users["id"], {}),
        (users["id"], {"user": "bob"}),
        (users["id"], {"api_key_id": TENANT_B, "user": "alice"}),
    ]:
        leaked = probe(task_id, **kwargs)
        assert leaked == {
            "error": {**missing["error"], "message": missing["error"]["message"].replace(missing_id, task_id)}
        }
    # and every change is refused the same way
    foreign = {"api_key_id": TENANT_B}
    assert call_api("PATCH", f"/tasks/{mine['id']}", body={"paused": True}, **foreign).status == 404
    assert call_api("DELETE", f"/tasks/{mine['id']}", **foreign).status == 404
    assert call_api("POST", f"/tasks/{mine['id']}/runs", **foreign).status == 404
    assert call_api("GET", f"/tasks/{mine['id']}/runs", **foreign).status == 404
    assert call_api("GET", f"/tasks/{users['id']}", user="alice").status == 200
    assert call_api("GET", f"/tasks/{mine['id']}").json["status"] == "scheduled"


def test_an_invalid_user_header_is_400(stack: Stack) -> None:
    response = call_api("GET", "/tasks", user="no spaces allowed")

    assert response.status == 400
    assert response.error_fields == ["X-Punctual-User"]


def test_without_an_api_key_the_default_tenant_is_used(stack: Stack) -> None:
    created = create({"at": IN_AN_HOUR}, api_key_id=None)

    assert call_api("GET", f"/tasks/{created['id']}", api_key_id=None).status == 200
    assert call_api("GET", f"/tasks/{created['id']}", api_key_id=TENANT_A).status == 404


# --- list -----------------------------------------------------------------------------------------------
def test_list_shows_live_tasks_of_the_caller_newest_first(stack: Stack) -> None:
    first = create({"at": IN_AN_HOUR, "name": "first"})
    stack.clock.advance(seconds=1)
    second = create({"every": "1 hour", "name": "second"})
    stack.clock.advance(seconds=1)
    cancelled = create({"at": IN_AN_HOUR, "name": "cancelled"})
    call_api("DELETE", f"/tasks/{cancelled['id']}")
    create({"at": IN_AN_HOUR}, api_key_id=TENANT_B)
    create({"at": IN_AN_HOUR}, user="alice")

    response = call_api("GET", "/tasks")

    assert response.status == 200
    assert set(response.json) == {"tasks", "next_cursor"}
    assert [task["id"] for task in response.json["tasks"]] == [second["id"], first["id"]]
    assert response.json["next_cursor"] is None
    everything = call_api("GET", "/tasks", query={"status": "all"}).json["tasks"]
    assert [task["id"] for task in everything] == [cancelled["id"], second["id"], first["id"]]
    only_cancelled = call_api("GET", "/tasks", query={"status": "cancelled"}).json["tasks"]
    assert [task["id"] for task in only_cancelled] == [cancelled["id"]]


def test_list_filters_by_name_and_metadata(stack: Stack) -> None:
    wanted = create({"at": IN_AN_HOUR, "name": "bill", "metadata": {"plan": "pro", "region": "eu"}})
    create({"at": IN_AN_HOUR, "name": "bill", "metadata": {"plan": "free", "region": "eu"}})
    create({"at": IN_AN_HOUR, "name": "remind", "metadata": {"plan": "pro", "region": "eu"}})

    response = call_api(
        "GET", "/tasks", query={"name": "bill", "metadata.plan": "pro", "metadata.region": "eu"}
    )

    assert [task["id"] for task in response.json["tasks"]] == [wanted["id"]]


def test_list_pages_with_an_opaque_cursor(stack: Stack) -> None:
    ids = []
    for _ in range(5):
        ids.append(create({"at": IN_AN_HOUR})["id"])
        stack.clock.advance(seconds=1)

    seen: list[str] = []
    cursor = None
    for _ in range(5):
        query = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = call_api("GET", "/tasks", query=query).json
        seen += [task["id"] for task in page["tasks"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(ids))


def test_forged_or_foreign_cursors_are_400(stack: Stack) -> None:
    for _ in range(3):
        create({"at": IN_AN_HOUR})
    cursor = call_api("GET", "/tasks", query={"limit": "1"}).json["next_cursor"]
    assert cursor

    tampered = cursor[:-2] + ("AA" if not cursor.endswith("AA") else "BB")
    for query, kwargs in [
        ({"cursor": tampered}, {}),
        ({"cursor": "garbage"}, {}),
        ({"cursor": cursor}, {"api_key_id": TENANT_B}),
        ({"cursor": cursor}, {"user": "alice"}),
    ]:
        response = call_api("GET", "/tasks", query=query, **kwargs)
        assert response.status == 400, (query, kwargs)
        assert response.error_fields == ["cursor"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "1000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status": "sleeping"}, "status"),
        ({"metadata.": "x"}, "metadata."),
    ],
)
def test_bad_list_queries_are_400(stack: Stack, query: dict[str, str], field: str) -> None:
    response = call_api("GET", "/tasks", query=query)

    assert response.status == 400
    assert field in response.error_fields


# --- update and cancel ----------------------------------------------------------------------------------
def test_patch_reschedules_a_one_time_task_and_moves_its_wake_up(stack: Stack) -> None:
    task = create({"at": IN_AN_HOUR})
    [before] = stack.schedules()

    response = call_api("PATCH", f"/tasks/{task['id']}", body={"at": "2026-01-01T15:00:00Z", "name": "moved"})

    assert response.status == 200
    assert response.json["at"] == response.json["next_run_at"] == "2026-01-01T15:00:00Z"
    assert response.json["name"] == "moved"
    assert response.json["version"] == 2
    [after] = stack.schedules()
    assert after["Name"] != before["Name"]
    assert after["ScheduleExpression"] == "at(2026-01-01T14:58:00)"


def test_patch_pauses_and_resumes(stack: Stack) -> None:
    task = create({"every": "1 hour"})

    paused = call_api("PATCH", f"/tasks/{task['id']}", body={"paused": True})
    stack.clock.advance(minutes=90)
    resumed = call_api("PATCH", f"/tasks/{task['id']}", body={"paused": False})

    assert paused.status == 200
    assert paused.json["status"] == "paused"
    assert paused.json["next_run_at"] is None
    assert resumed.json["status"] == "scheduled"
    assert resumed.json["next_run_at"] == "2026-01-01T14:00:00Z"  # the interval keeps its phase


def test_patch_can_switch_recurrence(stack: Stack) -> None:
    task = create({"at": IN_AN_HOUR})
    stack.clock.advance(seconds=30)

    response = call_api("PATCH", f"/tasks/{task['id']}", body={"cron": "*/10 * * * *"})

    assert response.status == 200
    assert "at" not in response.json
    assert response.json["cron"] == "*/10 * * * *"
    assert response.json["next_run_at"] == "2026-01-01T12:10:00Z"


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 400, "body"),
        ({"paused": "maybe"}, 400, "paused"),
        ({"cron": "not cron"}, 400, "cron"),
        ({"wat": 1}, 400, "wat"),
        ({"timezone": "Europe/Paris"}, 400, "timezone"),  # a one-time task has no recurrence to adjust
    ],
)
def test_bad_patches_are_refused_and_change_nothing(
    stack: Stack, body: dict[str, Any], status: int, field: str
) -> None:
    task = create({"at": IN_AN_HOUR})
    before = stack.table_items()

    response = call_api("PATCH", f"/tasks/{task['id']}", body=body)

    assert response.status == status, response.raw_body
    assert field in response.error_fields
    assert stack.table_items() == before


def test_delete_cancels_and_later_changes_conflict(stack: Stack) -> None:
    task = create({"at": IN_AN_HOUR})

    deleted = call_api("DELETE", f"/tasks/{task['id']}")
    again = call_api("DELETE", f"/tasks/{task['id']}")
    patched = call_api("PATCH", f"/tasks/{task['id']}", body={"at": "2026-01-01T15:00:00Z"})
    run_now = call_api("POST", f"/tasks/{task['id']}/runs")

    assert deleted.status == 200
    assert deleted.json["status"] == "cancelled"
    assert deleted.json["next_run_at"] is None
    assert again.status == 200
    assert patched.status == 409
    assert patched.error_code == "conflict"
    assert run_now.status == 409
    assert stack.schedules() == []
