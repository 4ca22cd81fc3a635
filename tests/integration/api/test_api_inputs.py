"""How routes read query parameters, headers and JSON bodies (handlers/request_inputs.py): the answers
Powertools' OpenAPI validation gave, without building its model tree at a cold start."""

from __future__ import annotations

from typing import Any

import pytest
from punctual.handlers import api

from tests.integration.api.harness import ApiResponse, FakeLambdaContext, Stack, api_event, call_api


def send(event: dict[str, Any]) -> ApiResponse:
    result = api.handler(event, FakeLambdaContext(function_name="punctual-test-api"))
    return ApiResponse(status=result["statusCode"], headers={}, raw_body=result["body"])


def details(response: ApiResponse) -> list[tuple[str, str]]:
    return [(detail["field"], detail["message"]) for detail in response.json["error"]["details"]]


def test_query_values_are_typed_and_bounded(stack: Stack) -> None:
    response = call_api("GET", "/tasks", query={"limit": "ten", "cursor": "c" * 4097, "status": "all"})

    assert response.status == 400
    assert details(response) == [
        ("limit", "Input should be a valid integer, unable to parse string as an integer"),
        ("cursor", "String should have at most 4096 characters"),
    ]
    assert response.json["error"]["message"] == "invalid request: limit, cursor"


def test_a_repeated_query_parameter_is_refused_but_a_comma_inside_one_value_is_kept(stack: Stack) -> None:
    call_api("POST", "/tasks", body={"every": "1 hour"})
    repeated = api_event("GET", "/tasks", query={"status": "cancelled"})
    repeated["multiValueQueryStringParameters"] = {"status": ["scheduled", "cancelled"]}
    # API Gateway's single-value map splits nothing; only the multi-value map tells a repeat from a comma.
    one_value = api_event("GET", "/tasks", query={"status": "scheduled,cancelled"})
    one_value["multiValueQueryStringParameters"] = None

    assert details(send(repeated)) == [("status", "Input should be a valid string")]
    listed = send(one_value)
    assert listed.status == 200
    assert [task["every"] for task in listed.json["tasks"]] == ["1 hour"]


def test_delete_cancel_reads_the_id_from_the_query(stack: Stack) -> None:
    task = call_api("POST", "/tasks", body={"every": "1 hour"}).json["id"]

    assert details(call_api("DELETE", "/cancel", query={"id": ""})) == [
        ("id", "String should have at least 1 character")
    ]
    assert call_api("DELETE", "/cancel", query={"id": task}).json == {"id": task, "status": "cancelled"}


def test_headers_are_matched_whatever_their_case(stack: Stack) -> None:
    event = api_event("POST", "/tasks", body={"every": "1 hour"})
    event["headers"]["idempotency-key"] = "once"
    event["multiValueHeaders"]["idempotency-key"] = ["once"]

    first, again = send(event), send(event)

    assert (first.status, again.status) == (201, 200)
    assert again.json["id"] == first.json["id"]


def test_header_and_body_errors_come_back_together_in_request_order(stack: Stack) -> None:
    response = call_api("POST", "/tasks", body={"every": 5}, headers={"Idempotency-Key": "k" * 256})

    assert response.status == 400
    assert details(response) == [
        ("idempotency-key", "String should have at most 255 characters"),
        ("every", "Input should be a valid string"),
    ]


def test_a_body_that_is_not_json_is_refused_before_anything_else(stack: Stack) -> None:
    response = call_api("POST", "/tasks", raw_body="{nope", headers={"Idempotency-Key": "k" * 256})

    assert response.status == 400
    assert response.json["error"]["message"] == "the request body is not valid JSON"
    assert details(response) == [("body", "the request body is not valid JSON")]


@pytest.mark.parametrize("raw_body", [None, "", "null"])
def test_a_missing_body_names_the_body(stack: Stack, raw_body: str | None) -> None:
    response = call_api("POST", "/tasks/bulk-delete", raw_body=raw_body)

    assert response.status == 400
    assert details(response) == [("body", "this field is required")]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",  # no boundary: Powertools' form parser once answered this with a 500
        "multipart/form-data; boundary=b",
    ],
)
def test_only_json_bodies_are_read(stack: Stack, content_type: str) -> None:
    response = call_api("POST", "/tasks", raw_body="every=1+hour", headers={"Content-Type": content_type})

    assert response.status == 400
    assert details(response) == [("Content-Type", "expected application/json")]
    assert stack.table_items() == []


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", None])
def test_json_is_read_with_a_charset_or_without_a_content_type(
    stack: Stack, content_type: str | None
) -> None:
    event = api_event("POST", "/tasks", body={"every": "1 hour"})
    del event["headers"]["Content-Type"], event["multiValueHeaders"]["Content-Type"]
    if content_type is not None:
        event["headers"]["Content-Type"] = content_type
        event["multiValueHeaders"]["Content-Type"] = [content_type]

    assert send(event).status == 201


def test_a_non_object_body_is_a_400_naming_the_body(stack: Stack) -> None:
    response = call_api("PATCH", "/tasks/anything", raw_body='"paused"')

    assert response.status == 400
    assert details(response) == [("body", "expected a JSON object")]


def test_a_json_array_body_is_a_400_and_creates_nothing(stack: Stack) -> None:
    response = call_api("POST", "/tasks", body=[{"every": "1 hour"}])

    assert response.status == 400
    assert stack.table_items() == []


@pytest.mark.parametrize(
    "raw_body",
    [
        '{"at": "2026-01-01T12:00:05Z", "message": "\\ud800"}',  # a lone surrogate: not Unicode text
        '{"at": "2026-01-01T12:00:05Z", "message": ' + "[" * 50_000 + "]" * 50_000 + "}",  # too deep
    ],
    ids=["lone-surrogate", "nested-50000-deep"],
)
def test_unencodable_or_absurdly_nested_messages_are_400_not_500(stack: Stack, raw_body: str) -> None:
    response = call_api("POST", "/tasks", raw_body=raw_body)

    assert response.status == 400, response.raw_body
    assert stack.table_items() == []
