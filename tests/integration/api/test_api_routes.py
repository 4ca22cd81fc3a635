"""Routing: health, the OpenAPI document, unknown routes and wrong methods, correlation ids."""

from __future__ import annotations

import pytest
from punctual.handlers.response_models import BulkOut, ErrorOut, RunOut, ScheduledOut, TaskOut, TaskPageOut

from tests.integration.api.harness import Stack, call_api

EVERY_ROUTE = {
    ("post", "/schedule"),
    ("post", "/cancel"),
    ("delete", "/cancel"),
    ("post", "/tasks"),
    ("get", "/tasks"),
    ("get", "/tasks/{task_id}"),
    ("patch", "/tasks/{task_id}"),
    ("delete", "/tasks/{task_id}"),
    ("post", "/tasks/{task_id}/runs"),
    ("get", "/tasks/{task_id}/runs"),
    ("get", "/runs/{tracking_id}"),
    ("post", "/tasks/bulk"),
    ("post", "/runs/{tracking_id}/retry"),
    ("get", "/signing-secret"),
    ("post", "/signing-secret/rotate"),
    ("post", "/tasks/bulk-delete"),
    ("post", "/tasks/bulk-reschedule"),
    ("post", "/schedules/preview"),
    ("get", "/health"),
    ("get", "/openapi.json"),
}


def test_health(stack: Stack) -> None:
    response = call_api("GET", "/health")

    assert response.status == 200
    assert response.json == {"status": "ok"}


def test_openapi_document_lists_every_route(stack: Stack) -> None:
    response = call_api("GET", "/openapi.json")

    assert response.status == 200
    assert response.headers["content-type"] == "application/json"
    document = response.json
    assert document["openapi"].startswith("3.")
    listed = {(method, path) for path, operations in document["paths"].items() for method in operations}
    assert listed == EVERY_ROUTE
    create = document["paths"]["/tasks"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = document["components"]["schemas"][schema_ref.rsplit("/", 1)[-1]]["properties"]
    assert {"at", "every", "cron", "timezone", "metadata", "idempotency_key", "misfire"} <= set(fields)
    assert {"target", "retry", "overlap"} <= set(fields)
    assert any(parameter["name"].lower() == "idempotency-key" for parameter in create["parameters"])
    assert document["components"]["securitySchemes"]["apiKey"]["name"] == "x-api-key"
    # Answers are documented with our shapes: 201 TaskOut, errors in the one envelope, no Powertools 422.
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/TaskOut")
    assert create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")
    assert "422" not in document["paths"]["/tasks/{task_id}"]["get"]["responses"]
    assert "HTTPValidationError" not in response.raw_body


def test_unknown_route_is_a_json_404(stack: Stack) -> None:
    response = call_api("GET", "/nowhere")

    assert response.status == 404
    assert response.headers["content-type"] == "application/json"
    assert response.error_code == "route_not_found"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/tasks", "GET, POST"),
        ("GET", "/schedule", "POST"),
        ("PUT", "/tasks/abc", "DELETE, GET, PATCH"),
        ("DELETE", "/runs/abc", "GET"),
        ("GET", "/cancel", "DELETE, POST"),
    ],
)
def test_wrong_method_is_a_json_405_with_allow(stack: Stack, method: str, path: str, allowed: str) -> None:
    response = call_api(method, path)

    assert response.status == 405
    assert response.headers["allow"] == allowed
    assert response.error_code == "method_not_allowed"


def test_every_error_has_the_same_envelope(stack: Stack) -> None:
    answers = [
        call_api("GET", "/nowhere"),
        call_api("PUT", "/tasks"),
        call_api("POST", "/tasks", raw_body="{"),
        call_api("GET", f"/tasks/{'a' * 32}"),
        call_api("POST", "/tasks", body={"every": "1 second"}),
    ]

    assert [answer.status for answer in answers] == [404, 405, 400, 404, 422]
    for answer in answers:
        error = answer.json["error"]
        assert set(error) == {"code", "message", "details"}
        assert isinstance(error["details"], list)


def test_answers_match_the_documented_models(stack: Stack) -> None:
    """The presenters build dicts; the OpenAPI document shows models. Validating one against the other
    (extra fields forbidden) keeps them from drifting apart."""
    scheduled = call_api("POST", "/schedule", body={"timestamp": "2026-01-01T13:00:00Z", "message": {"a": 1}})
    ScheduledOut.model_validate(scheduled.json)
    for body in (
        {"every": "5 minutes", "metadata": {"k": "v"}},
        {"cron": "0 9 * * *", "timezone": "Asia/Tokyo"},
    ):
        TaskOut.model_validate(call_api("POST", "/tasks", body=body).json)
    TaskPageOut.model_validate(call_api("GET", "/tasks").json)
    run = call_api("POST", f"/tasks/{scheduled.json['id']}/runs").json
    RunOut.model_validate(run)
    BulkOut.model_validate(
        call_api("POST", "/tasks/bulk-delete", body={"ids": [scheduled.json["id"], "x"]}).json
    )
    ErrorOut.model_validate(call_api("GET", "/tasks/x").json)


def test_the_document_says_what_a_schema_driven_client_needs(stack: Stack) -> None:
    document = call_api("GET", "/openapi.json").json
    paths = document["paths"]
    schemas = document["components"]["schemas"]

    # X-Punctual-User on every operation that reads the caller, with the rule Context.of applies.
    for path, operations in paths.items():
        for method, operation in operations.items():
            names = [parameter["name"] for parameter in operation.get("parameters", [])]
            assert ("X-Punctual-User" in names) == (path not in ("/health", "/openapi.json")), (method, path)
    user = next(p for p in paths["/tasks"]["get"]["parameters"] if p["name"] == "X-Punctual-User")
    assert user["in"] == "header"
    assert user["schema"]["pattern"] == "^[A-Za-z0-9._@:+=-]{1,128}$"
    # /health needs no key (infra/api.py), and API Gateway's 403 is documented only where a key is.
    assert paths["/health"]["get"]["security"] == []
    assert "403" not in paths["/health"]["get"]["responses"]
    assert "security" not in paths["/tasks"]["get"]  # the document-wide apiKey requirement applies
    forbidden = paths["/tasks"]["get"]["responses"]["403"]["content"]["application/json"]["schema"]["$ref"]
    assert forbidden.endswith("/GatewayErrorOut")
    # limit is 1-100 on both listings.
    for path in ("/tasks", "/tasks/{task_id}/runs"):
        limit = next(p for p in paths[path]["get"]["parameters"] if p["name"] == "limit")
        integer = next(option for option in limit["schema"]["anyOf"] if option.get("type") == "integer")
        assert (integer["minimum"], integer["maximum"]) == (1, 100)
    # Instants in: the RFC 3339 grammar the service reads; out: date-time.
    assert schemas["CreateTaskBody"]["properties"]["at"]["pattern"].startswith("^[0-9]{4}-")
    assert schemas["PipedreamSchedule"]["properties"]["timestamp"]["pattern"].startswith("^[0-9]{4}-")
    assert schemas["TaskOut"]["properties"]["created_at"]["format"] == "date-time"
    # PATCH never takes null for what a task always has.
    patch_at = schemas["UpdateTaskBody"]["properties"]["at"]
    assert patch_at["type"] == "string"
    assert "default" not in patch_at
    # The idempotent replay and the routing answers.
    created = paths["/tasks"]["post"]["responses"]
    assert {"200", "201"} <= set(created)
    assert created["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TaskOut")
    for operations in paths.values():
        for operation in operations.values():
            assert {"405", "413"} <= set(operation["responses"])
