"""Issue 9's API input findings, each refused at its cause with a clear 4xx and nothing written."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from punctual.handlers import api

from tests.integration.api.harness import FakeLambdaContext, Stack, api_event, call_api

IN_AN_HOUR = "2026-01-01T13:00:00Z"
HUGE_INT = "1" * 4301
BODY_ROUTES = [
    ("POST", "/tasks"),
    ("POST", "/schedule"),
    ("POST", "/cancel"),
    ("DELETE", "/cancel"),
    ("POST", "/tasks/bulk-delete"),
    ("POST", "/tasks/bulk-reschedule"),
    ("PATCH", "/tasks/{task}"),
]


def a_task() -> str:
    return str(call_api("POST", "/tasks", body={"at": IN_AN_HOUR}).json["id"])


def message_of(response: Any) -> tuple[str, list[tuple[str, str]]]:
    error = response.json["error"]
    return error["message"], [(detail["field"], detail["message"]) for detail in error["details"]]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_an_integer_beyond_pythons_digit_limit_is_a_400_on_every_body_route(
    stack: Stack, method: str, path: str
) -> None:
    task = a_task()
    before = stack.table_items()

    response = call_api(method, path.format(task=task), raw_body='{"message": ' + HUGE_INT + "}")

    assert response.status == 400, response.raw_body
    assert message_of(response) == (
        "the request body is not valid JSON",
        [("body", "an integer has more than 4300 digits")],
    )
    assert stack.table_items() == before


def test_a_lone_surrogate_in_a_metadata_value_is_a_400_naming_the_field(stack: Stack) -> None:
    response = call_api(
        "POST", "/tasks", raw_body='{"at": "' + IN_AN_HOUR + '", "metadata": {"k": "\\ud800"}}'
    )

    assert response.status == 400
    assert "retry-after" not in response.headers
    assert message_of(response)[1] == [
        ("metadata.k", "contains a lone surrogate (\\ud800-\\udfff): not a Unicode string")
    ]
    assert stack.table_items() == []


@pytest.mark.parametrize(
    "raw_body",
    [
        '{"at": "' + IN_AN_HOUR + '", "at": "2026-01-01T14:00:00Z"}',
        '{"at": "' + IN_AN_HOUR + '", "metadata": {"k": "a", "k": "b"}}',
    ],
)
def test_duplicate_keys_are_refused(stack: Stack, raw_body: str) -> None:
    response = call_api("POST", "/tasks", raw_body=raw_body)

    assert response.status == 400
    assert response.json["error"]["details"][0]["message"] == "this key appears more than once"
    assert stack.table_items() == []


def test_a_string_is_not_a_boolean(stack: Stack) -> None:
    task = a_task()
    before = stack.table_items()

    response = call_api("PATCH", f"/tasks/{task}", body={"paused": "yes"})

    assert response.status == 400
    assert message_of(response)[1] == [("paused", "Input should be a valid boolean")]
    assert stack.table_items() == before


@pytest.mark.parametrize(
    "content_type",
    ["application/jsonx", "application/json-seq", "text/plain", "application/x-www-form-urlencoded"],
)
def test_only_application_json_is_read(stack: Stack, content_type: str) -> None:
    response = call_api("POST", "/tasks", body={"at": IN_AN_HOUR}, headers={"Content-Type": content_type})

    assert response.status == 400
    assert message_of(response) == (
        "the request body must be JSON",
        [("Content-Type", "expected application/json")],
    )


@pytest.mark.parametrize("content_type", ["application/json", "Application/JSON; charset=utf-8"])
def test_application_json_with_parameters_is_read(stack: Stack, content_type: str) -> None:
    response = call_api("POST", "/tasks", body={"at": IN_AN_HOUR}, headers={"Content-Type": content_type})

    assert response.status == 201


@pytest.mark.parametrize(
    "instant",
    [
        "2026-01-01T13:00:00-23:59:59.999999",  # an offset with seconds
        "2026-01-01\u00a013:00:00Z",  # a non-breaking space as the separator
        "2026-01-01X13:00:00Z",
        " 2026-01-01T13:00:00Z",
        "2026-01-01",
    ],
)
def test_instants_outside_rfc_3339_are_refused(stack: Stack, instant: str) -> None:
    response = call_api("POST", "/tasks", body={"at": instant})

    assert response.status == 400
    assert message_of(response)[1] == [("at", "expected an ISO-8601 timestamp such as 2026-12-01T09:00:00Z")]


@pytest.mark.parametrize(
    ("instant", "stored"),
    [
        ("2026-01-01T14:00:00+01:00", "2026-01-01T13:00:00Z"),
        ("2026-01-01 13:00:00z", "2026-01-01T13:00:00Z"),
        ("2026-01-01t13:00", "2026-01-01T13:00:00Z"),
        ("2026-01-01T13:00:00.123456789Z", "2026-01-01T13:00:00.123Z"),
    ],
)
def test_rfc_3339_instants_are_read(stack: Stack, instant: str, stored: str) -> None:
    response = call_api("POST", "/tasks", body={"at": instant})

    assert response.status == 201, response.raw_body
    assert response.json["at"] == stored


def test_a_body_with_u_fffd_is_refused_as_not_utf8(stack: Stack) -> None:
    """What API Gateway hands over for bytes that were not UTF-8 (no binary media types are declared)."""
    response = call_api("POST", "/tasks", raw_body='{"at": "' + IN_AN_HOUR + '", "name": "caf\ufffd"}')
    escaped = call_api("POST", "/tasks", raw_body='{"at": "' + IN_AN_HOUR + '", "name": "caf\\ufffd"}')

    assert response.status == 400
    assert response.json["error"]["message"] == "the request body is not valid UTF-8"
    assert escaped.status == 201
    assert escaped.json["name"] == "caf\ufffd"


def test_a_base64_body_must_be_utf8(stack: Stack) -> None:
    """With binary media types (not this stack's), API Gateway passes the bytes base64-encoded."""

    def send(raw: bytes) -> dict[str, Any]:
        event = api_event("POST", "/tasks")
        event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True)
        return dict(api.handler(event, FakeLambdaContext()))

    refused = send(b'{"at": "' + IN_AN_HOUR.encode() + b'", "name": "caf\xe9"}')
    accepted = send(json.dumps({"at": IN_AN_HOUR, "name": "café"}).encode())

    assert refused["statusCode"] == 400
    assert json.loads(refused["body"])["error"]["message"] == "the request body is not valid UTF-8"
    assert accepted["statusCode"] == 201
    assert json.loads(accepted["body"])["name"] == "café"


# --- paths and methods ----------------------------------------------------------------------------------
@pytest.mark.parametrize("task_id", ['a"b', "a`b", "a\x00b", "a\u00a0b", "a\ufffdb"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_id_no_task_can_have_is_404(stack: Stack, method: str, task_id: str) -> None:
    response = call_api(method, f"/tasks/{task_id}", body={"paused": True} if method == "PATCH" else None)

    assert response.status == 404
    assert "allow" not in response.headers


@pytest.mark.parametrize("path", ["/tasks/bulk-delete", "/tasks/bulk-reschedule"])
@pytest.mark.parametrize("method", ["OPTIONS", "GET", "PATCH", "DELETE"])
def test_the_bulk_routes_allow_post_only(stack: Stack, method: str, path: str) -> None:
    response = call_api(method, path)

    assert response.status == 405
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize(
    ("path", "allow"),
    [("/tasks", "GET, POST"), ("/tasks/abc", "DELETE, GET, PATCH"), ("/tasks/abc/runs", "GET, POST")],
)
def test_options_lists_exactly_the_routes_methods(stack: Stack, path: str, allow: str) -> None:
    response = call_api("OPTIONS", path)

    assert response.status == 405
    assert response.headers["allow"] == allow


@pytest.mark.parametrize("path", ["/tasks//", "/tasks/%2F", "/tasks///", "//tasks", "/tasks//runs"])
def test_an_empty_or_encoded_slash_segment_is_not_the_list(stack: Stack, path: str) -> None:
    a_task()

    response = call_api("GET", path)

    assert response.status == 404
    assert "tasks" not in response.json


def test_one_trailing_slash_still_names_the_route(stack: Stack) -> None:
    a_task()

    assert len(call_api("GET", "/tasks/").json["tasks"]) == 1


# --- semantics ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field", ["at", "every", "cron", "paused", "misfire"])
def test_patch_null_on_a_field_a_task_always_has_is_refused_and_changes_nothing(
    stack: Stack, field: str
) -> None:
    task = a_task()
    before = stack.table_items()
    schedules = [schedule["Name"] for schedule in stack.schedules()]

    response = call_api("PATCH", f"/tasks/{task}", body={field: None})

    assert response.status == 400
    assert message_of(response)[1] == [(field, "cannot be null: leave the field out to keep it unchanged")]
    assert stack.table_items() == before  # no version bump: nothing was re-armed
    assert [schedule["Name"] for schedule in stack.schedules()] == schedules


def test_schedule_errors_name_timestamp_in_message_and_details(stack: Stack) -> None:
    malformed = call_api("POST", "/schedule", body={"timestamp": "soon"})
    too_far = call_api("POST", "/schedule", body={"timestamp": "2030-01-01T00:00:00Z"})

    assert malformed.status == 400
    assert message_of(malformed) == (
        "timestamp is not a valid ISO-8601 timestamp: 'soon'",
        [("timestamp", "expected an ISO-8601 timestamp such as 2026-12-01T09:00:00Z")],
    )
    assert too_far.status == 422
    assert too_far.json["error"]["message"].startswith("timestamp is more than 365 days ahead")
    assert too_far.error_fields == ["timestamp"]


def test_an_idempotency_key_reused_with_another_body_is_422(stack: Stack) -> None:
    first = call_api(
        "POST", "/tasks", body={"at": IN_AN_HOUR, "name": "a"}, headers={"Idempotency-Key": "k1"}
    )
    same = call_api("POST", "/tasks", body={"at": IN_AN_HOUR, "name": "a", "idempotency_key": "k1"})
    other = call_api(
        "POST", "/tasks", body={"at": IN_AN_HOUR, "name": "b"}, headers={"Idempotency-Key": "k1"}
    )

    assert (first.status, same.status) == (201, 200)
    assert same.json == first.json
    assert other.status == 422
    assert message_of(other) == (
        "this idempotency key was already used with a different request",
        [("idempotency_key", "already used for a request with other fields; use a new key")],
    )
    assert len(stack.schedules()) == 1
