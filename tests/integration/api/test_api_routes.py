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
    ("post", "/runs/{tracking_id}/retry"),
    ("get", "/signing-secret"),
    ("post", "/signing-secret/rotate"),
    ("post", "/tasks/bulk-delete"),
    ("post", "/tasks/bulk-reschedule"),
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
