"""DynamoDbTaskStore.create_tasks on moto: BatchWriteItem chunks of 25, unprocessed items retried then
reported throttled, keyed tasks through the idempotency transaction, per-task outcomes in order."""

from __future__ import annotations

import json
from typing import Any

import boto3
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import AlreadyExistsError, DependencyError, ThrottledError

from tests.integration.conftest import REGION
from tests.integration.store.records import TENANT_A, TENANT_B, make_task
from tests.support.aws_calls import count_aws_calls


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def _written_ids(params: dict[str, Any], table: str) -> list[str]:
    body = json.loads(params["body"])
    return [request["PutRequest"]["Item"]["id"]["S"] for request in body["RequestItems"][table]]


def test_sixty_tasks_are_written_in_three_requests_and_read_back(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    tasks = [make_task() for _ in range(60)]

    with count_aws_calls(dynamodb_client) as calls:
        outcomes = store.create_tasks(tasks)

    assert outcomes == [None] * 60
    assert calls.counts == {"dynamodb.BatchWriteItem": 3}  # 25 + 25 + 10
    for task in tasks:
        assert store.get_task(task.id, consistent=True) == task
    # The due index and the context listing see them exactly as tasks created one by one.
    due = store.tasks_needing_attention(tasks[0].next_run_at, limit=100)  # type: ignore[arg-type]
    assert {task.id for task in due.items} == {task.id for task in tasks}


def test_keyed_tasks_take_the_transaction_and_a_reserved_key_is_already_exists(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    existing = make_task(idempotency_key="invoice-42")
    store.create_task(existing)
    replay = make_task(idempotency_key="invoice-42")
    keyed = make_task(idempotency_key="invoice-43")
    other_context = make_task(idempotency_key="invoice-42", context=TENANT_B)
    plain = make_task()

    with count_aws_calls(dynamodb_client) as calls:
        outcomes = store.create_tasks([replay, plain, keyed, other_context])

    assert isinstance(outcomes[0], AlreadyExistsError)
    assert outcomes[1:] == [None, None, None]
    assert calls.counts == {"dynamodb.TransactWriteItems": 3, "dynamodb.BatchWriteItem": 1}
    assert store.get_task(replay.id, consistent=True) is None  # nothing of the replayed item was written
    assert store.task_for_idempotency_key(TENANT_A, "invoice-42") == existing
    assert store.task_for_idempotency_key(TENANT_A, "invoice-43") == keyed
    assert store.task_for_idempotency_key(TENANT_B, "invoice-42") == other_context
    assert store.get_task(plain.id, consistent=True) == plain


def test_items_left_unprocessed_are_retried_until_written(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    tasks = [make_task() for _ in range(10)]
    writer = boto3.client("dynamodb", region_name=REGION)  # moto's same tables, outside the hook
    seen: list[list[str]] = []

    def half_unprocessed(params: dict[str, Any], **_: Any) -> Any:
        requests = json.loads(params["body"])["RequestItems"][table]
        seen.append(_written_ids(params, table))
        if len(seen) > 1:
            return None  # the retry reaches moto
        writer.batch_write_item(RequestItems={table: requests[:6]})
        return _Http(200), {"UnprocessedItems": {table: requests[6:]}}

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchWriteItem", half_unprocessed)

    assert store.create_tasks(tasks) == [None] * 10
    assert seen == [[task.id for task in tasks], [task.id for task in tasks[6:]]]
    assert all(store.get_task(task.id, consistent=True) == task for task in tasks)


def test_items_unprocessed_every_time_are_reported_throttled_alone(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    tasks = [make_task() for _ in range(30)]
    writer = boto3.client("dynamodb", region_name=REGION)

    def last_two_never(params: dict[str, Any], **_: Any) -> Any:
        requests = json.loads(params["body"])["RequestItems"][table]
        stuck = [r for r in requests if r["PutRequest"]["Item"]["id"]["S"] in {tasks[3].id, tasks[27].id}]
        rest = [r for r in requests if r not in stuck]
        if rest:
            writer.batch_write_item(RequestItems={table: rest})
        return _Http(200), {"UnprocessedItems": {table: stuck} if stuck else {}}

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchWriteItem", last_two_never)

    with count_aws_calls(dynamodb_client) as calls:
        outcomes = store.create_tasks(tasks)

    failed = {position for position, outcome in enumerate(outcomes) if outcome is not None}
    assert failed == {3, 27}
    assert all(isinstance(outcomes[position], ThrottledError) for position in failed)
    # Each of the two chunks: its first request and two retries of its stuck item.
    assert calls.counts == {"dynamodb.BatchWriteItem": 6}
    assert store.get_task(tasks[3].id, consistent=True) is None
    assert store.get_task(tasks[4].id, consistent=True) == tasks[4]


def test_a_failed_request_fails_its_chunk_only(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    tasks = [make_task() for _ in range(30)]
    calls = 0

    def second_request_fails(**_: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:
            return _Http(500), {"Error": {"Code": "InternalServerError", "Message": "ignored"}}
        return None

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchWriteItem", second_request_fails)

    outcomes = store.create_tasks(tasks)

    assert outcomes[:25] == [None] * 25
    assert all(isinstance(outcome, DependencyError) for outcome in outcomes[25:])
    assert store.get_task(tasks[26].id, consistent=True) is None


def test_a_throttled_request_is_throttled_for_each_of_its_tasks(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    dynamodb_client.meta.events.register(
        "before-call.dynamodb.BatchWriteItem",
        lambda **_: (
            _Http(400),
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "x"}},
        ),
    )
    outcomes = store.create_tasks([make_task(), make_task()])
    assert all(isinstance(outcome, ThrottledError) for outcome in outcomes)


def test_nothing_to_write_makes_no_call(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    with count_aws_calls(dynamodb_client) as calls:
        assert store.create_tasks([]) == []
    assert calls.counts == {}


def test_a_bulk_created_task_with_a_long_message_keeps_it_apart_and_reads_it_back(
    store: DynamoDbTaskStore,
) -> None:
    long = make_task(message={"report": "x" * 5_000})
    short = make_task()

    assert store.create_tasks([long, short]) == [None, None]

    assert store.get_task(long.id, consistent=True) == long
    assert store.get_task(short.id, consistent=True) == short
