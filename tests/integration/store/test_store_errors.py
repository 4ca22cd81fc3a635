"""AWS failures become domain errors by code: aws_errors.translate, and the store under injected failures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from punctual.adapters.aws_errors import aws_errors, cancellation_codes, translate
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import (
    AlreadyExistsError,
    DependencyError,
    StaleWriteError,
    ThrottledError,
)

from tests.integration.store.records import TENANT_A, make_run, make_task
from tests.support.aws_calls import count_aws_calls


def client_error(code: str, operation: str = "PutItem", **extra: Any) -> ClientError:
    response: Any = {"Error": {"Code": code, "Message": "ignored text"}, **extra}
    return ClientError(response, operation)


def cancelled(*codes: str | None) -> dict[str, Any]:
    return {"CancellationReasons": [{"Code": code or "None"} for code in codes]}


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (client_error("ConditionalCheckFailedException"), StaleWriteError),
        (client_error("ProvisionedThroughputExceededException"), ThrottledError),
        (client_error("ThrottlingException"), ThrottledError),
        (client_error("RequestLimitExceeded"), ThrottledError),
        (client_error("TooManyRequestsException"), ThrottledError),
        (client_error("Throttling"), ThrottledError),
        (client_error("ResourceNotFoundException"), DependencyError),
        (client_error("ValidationException"), DependencyError),
        (client_error("InternalServerError"), DependencyError),
        (client_error(""), DependencyError),
        (
            client_error("TransactionCanceledException", **cancelled(None, "ConditionalCheckFailed")),
            StaleWriteError,
        ),
        (
            client_error("TransactionCanceledException", **cancelled("TransactionConflict", None)),
            ThrottledError,
        ),
        (client_error("TransactionCanceledException", **cancelled("ThrottlingError")), ThrottledError),
        (client_error("TransactionCanceledException", **cancelled("ValidationError")), DependencyError),
        (EndpointConnectionError(endpoint_url="https://dynamodb.invalid"), DependencyError),
    ],
)
def test_translate_maps_error_codes(error: Exception, expected: type[Exception]) -> None:
    assert type(translate(error)) is expected


def test_translate_leaves_non_aws_errors_alone() -> None:
    error = KeyError("x")
    assert translate(error) is error


def test_the_context_manager_chains_the_original_error() -> None:
    original = client_error("ThrottlingException")
    with pytest.raises(ThrottledError) as raised, aws_errors():
        raise original
    assert raised.value.__cause__ is original


def test_cancellation_codes_are_in_request_order() -> None:
    error = client_error("TransactionCanceledException", **cancelled(None, "ConditionalCheckFailed"))
    assert cancellation_codes(error) == [None, "ConditionalCheckFailed"]
    assert cancellation_codes(client_error("ThrottlingException")) == []


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def answer_with(client: Any, operation: str, response: dict[str, Any], *, status: int = 400) -> None:
    """Make every ``operation`` call of ``client`` get ``response`` instead of reaching moto."""
    client.meta.events.register(f"before-call.dynamodb.{operation}", lambda **_: (_Http(status), response))


def error_response(code: str, **extra: Any) -> dict[str, Any]:
    return {"Error": {"Code": code, "Message": "text the store must not read"}, **extra}


def test_throttled_reads_and_writes_raise_throttled(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    answer_with(dynamodb_client, "GetItem", error_response("ProvisionedThroughputExceededException"))
    answer_with(dynamodb_client, "PutItem", error_response("ThrottlingException"))

    with pytest.raises(ThrottledError):
        store.get_task("a" * 32)
    with pytest.raises(ThrottledError):
        store.create_task(make_task())


def test_other_failures_raise_dependency_errors(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    answer_with(dynamodb_client, "Query", error_response("InternalServerError"), status=500)

    with pytest.raises(DependencyError):
        store.list_runs("a" * 32, limit=5, continuation=None)
    with pytest.raises(DependencyError):
        store.tasks_needing_attention(make_task().created_at, limit=5)


def test_a_transaction_conflict_is_retryable_not_a_lost_condition(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task = make_task()
    store.create_task(task)
    answer_with(
        dynamodb_client,
        "TransactWriteItems",
        error_response("TransactionCanceledException", **cancelled("TransactionConflict", None)),
    )

    with pytest.raises(ThrottledError):
        store.claim(task.evolve(version=2), expected_version=1, run=make_run(task))
    with pytest.raises(ThrottledError):
        store.create_task(make_task(idempotency_key="k"))


def test_keys_left_unprocessed_every_time_raise_throttled(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    def unprocessed(params: dict[str, Any], **_: Any) -> Any:
        return _Http(200), {"Responses": {}, "UnprocessedKeys": json.loads(params["body"])["RequestItems"]}

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchGetItem", unprocessed)

    with count_aws_calls(dynamodb_client) as calls, pytest.raises(ThrottledError):
        store.get_tasks_and_runs([("a" * 32, "b" * 32)])[0]
    assert calls.counts == {"dynamodb.BatchGetItem": 3}


def test_a_lost_put_if_absent_is_already_exists_not_stale(store: DynamoDbTaskStore) -> None:
    task = make_task(idempotency_key="k")
    store.create_task(task)
    with pytest.raises(AlreadyExistsError):
        store.create_task(task)
    assert store.task_for_idempotency_key(TENANT_A, "k") == task
