"""POST /tasks/bulk through the api handler on moto: per-item results, per-item errors, idempotency keys per
item, the envelope's 400s and the body limit."""

from __future__ import annotations

from typing import Any

import pytest
from punctual.handlers.api import BULK_MAX_BODY_BYTES
from punctual.handlers.response_models import BulkCreateOut

from tests.integration.api.harness import TENANT_B, Stack, call_api
from tests.support.aws_calls import count_aws_calls

IN_FIVE_MINUTES = "2026-01-01T12:05:00Z"
IN_A_DAY = "2026-01-02T12:00:00Z"


def bulk(tasks: Any, **kwargs: Any) -> Any:
    return call_api("POST", "/tasks/bulk", body={"tasks": tasks}, **kwargs)


def test_creates_every_item_and_answers_one_result_each_in_order(stack: Stack) -> None:
    response = bulk(
        [
            {"at": IN_FIVE_MINUTES, "name": "a", "message": {"n": 1}, "metadata": {"customer": "c-17"}},
            {"every": "5 minutes", "name": "b"},
            {"cron": "0 9 * * *", "timezone": "Europe/Berlin", "misfire": "skip"},
            {"at": IN_A_DAY},
        ]
    )

    assert response.status == 200
    body = BulkCreateOut.model_validate(response.json)
    assert (body.succeeded, body.failed) == (4, 0)
    assert [result.index for result in body.results] == [0, 1, 2, 3]
    assert [result.status_code for result in body.results] == [201] * 4
    tasks = [result.task for result in body.results]
    assert all(task is not None for task in tasks)
    first = response.json["results"][0]
    assert first["id"] == first["task"]["id"]
    assert first["task"]["message"] == {"n": 1} and first["task"]["metadata"] == {"customer": "c-17"}
    # Each is a task like any other: read back, listed.
    assert call_api("GET", f"/tasks/{first['id']}").json == first["task"]
    listed = {task["id"] for task in call_api("GET", "/tasks").json["tasks"]}
    assert listed == {result["id"] for result in response.json["results"]}
    # The near ones went to the delay queue (one batch), the next-morning cron and the day-ahead one to EBS.
    assert {link["task_id"] for link, _ in stack.delayed()} == {
        result["id"] for result in response.json["results"][:2]
    }
    assert len(stack.schedules()) == 2


def test_one_hundred_items_take_four_writes_and_ten_queue_batches(stack: Stack) -> None:
    items = [{"at": IN_FIVE_MINUTES, "message": {"n": index}} for index in range(100)]

    with count_aws_calls(stack.dynamodb, stack.sqs, stack.scheduler) as calls:
        response = bulk(items)

    assert response.json["succeeded"] == 100
    assert calls.counts == {"dynamodb.BatchWriteItem": 4, "sqs.SendMessageBatch": 10}
    assert sorted(delay for _, delay in stack.delayed()) == [300] * 100


def test_an_invalid_item_fails_alone_with_its_error_and_fields(stack: Stack) -> None:
    response = bulk(
        [
            {"at": IN_FIVE_MINUTES},
            {"cron": "61 * * * *"},  # out of range: 400 from the service
            {"cronn": "* * * * *"},  # unknown field: 400 from the item's shape
            {"every": "1 second"},  # below the minimum interval: 422
            {"at": IN_FIVE_MINUTES, "message": "x" * 210_000},  # over the message limit: 413
            {"at": IN_FIVE_MINUTES, "metadata": {"k": 1}},  # wrong type
            {"every": "5 minutes"},
        ]
    )

    assert response.status == 200
    body = response.json
    assert (body["succeeded"], body["failed"]) == (2, 5)
    codes = [result["status_code"] for result in body["results"]]
    assert codes == [201, 400, 400, 422, 413, 400, 201]
    by_index = {result["index"]: result for result in body["results"]}
    assert by_index[1]["error"]["details"][0]["field"] == "cron"
    assert by_index[2]["error"]["details"] == [{"field": "cronn", "message": "unknown field"}]
    assert by_index[2]["id"] is None and "task" not in by_index[2]
    assert by_index[4]["error"]["details"][0]["field"] == "message"
    assert by_index[5]["error"]["details"][0]["field"] == "metadata.k"
    # Only the two valid items were written.
    tasks = [item for item in stack.table_items() if item.get("entity", {}).get("S") == "task"]
    assert sorted(item["id"]["S"] for item in tasks) == sorted([by_index[0]["id"], by_index[6]["id"]])
    BulkCreateOut.model_validate(body)


def test_an_idempotency_key_per_item_replays_the_existing_task(stack: Stack) -> None:
    single = call_api(
        "POST", "/tasks", body={"at": IN_A_DAY, "name": "first"}, headers={"Idempotency-Key": "invoice-42"}
    ).json
    items = [
        {"at": IN_A_DAY, "name": "first", "idempotency_key": "invoice-42"},  # the same request again
        {"at": IN_FIVE_MINUTES, "idempotency_key": "invoice-43"},
        {"at": IN_FIVE_MINUTES, "idempotency_key": "invoice-43"},
    ]

    first = bulk(items).json["results"]
    second = bulk(items).json["results"]

    assert [result["status_code"] for result in first] == [200, 201, 200]
    assert first[0]["task"] == single  # unchanged: the first create's task
    assert first[2]["task"] == first[1]["task"]
    assert [result["status_code"] for result in second] == [200, 200, 200]
    assert second[1]["task"] == first[1]["task"]
    # The key is the caller's context's: another tenant creates its own.
    other = bulk(items[:1], api_key_id=TENANT_B).json["results"]
    assert other[0]["status_code"] == 201 and other[0]["id"] != single["id"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tasks": []}, "tasks"),
        ({"tasks": [{"every": "5 minutes"}] * 101}, "tasks"),
        ({"tasks": {"every": "5 minutes"}}, "tasks"),
        ({}, "tasks"),
        ({"tasks": [{"every": "5 minutes"}], "extra": 1}, "extra"),
    ],
)
def test_a_bad_envelope_is_a_400_and_writes_nothing(stack: Stack, body: dict[str, Any], field: str) -> None:
    response = call_api("POST", "/tasks/bulk", body=body)

    assert response.status == 400
    assert response.error_code == "validation_error"
    assert field in response.error_fields
    assert stack.table_items() == []


def test_the_body_limit_is_four_times_the_single_one(stack: Stack) -> None:
    # 100 tasks of 5 KB each: more than a single request may carry, within the bulk limit.
    items = [{"at": IN_FIVE_MINUTES, "message": "x" * 5_000} for _ in range(100)]
    accepted = bulk(items)
    assert accepted.status == 200 and accepted.json["succeeded"] == 100

    raw = '{"tasks": [{"at": "x", "message": "' + "x" * BULK_MAX_BODY_BYTES + '"}]}'
    refused = call_api("POST", "/tasks/bulk", raw_body=raw)
    assert refused.status == 413
    assert refused.error_code == "payload_too_large"
    # The single-task routes keep their own limit.
    assert call_api("POST", "/tasks", raw_body='{"message": "' + "x" * 300_000 + '"}').status == 413


def test_an_item_that_is_not_an_object_refuses_the_request_and_a_reused_key_fails_its_item(
    stack: Stack,
) -> None:
    assert bulk([{"at": IN_FIVE_MINUTES}, "not an object"]).status == 400
    call_api("POST", "/tasks", body={"at": IN_A_DAY}, headers={"Idempotency-Key": "k-1"})

    (reused,) = bulk([{"at": IN_FIVE_MINUTES, "idempotency_key": "k-1"}]).json["results"]

    assert reused["status_code"] == 422 and reused["error"]["details"][0]["field"] == "idempotency_key"
    tasks = [item for item in stack.table_items() if item.get("entity", {}).get("S") == "task"]
    assert len(tasks) == 1


def test_the_document_describes_the_route_and_its_items(stack: Stack) -> None:
    document = call_api("GET", "/openapi.json").json
    operation = document["paths"]["/tasks/bulk"]["post"]
    body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    tasks = document["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]["properties"]["tasks"]
    assert tasks["maxItems"] == 100
    # Any object: each is read as POST /tasks's body and fails alone (a non-object refuses the request).
    assert tasks["items"]["type"] == "object" and "CreateTaskBody" in tasks["items"]["description"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert answer.endswith("/BulkCreateOut")
