"""A long message lives in its own item: written at create and when a PATCH changes it, never by a claim or a
finish, and read back wherever its task is read."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from punctual.adapters import dynamodb_items as items
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.model import RunStatus, TaskStatus
from punctual.service.ports import TaskFilter

from tests.integration.store.records import T0, TENANT_A, make_run, make_task
from tests.support.aws_calls import count_aws_calls
from tests.support.cost_model import item_size

LONG = {"report": "x" * 10_000, "unicode": "é✓"}
SHORT = {"hello": "world"}


def raw(dynamodb_client: Any, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    item = dynamodb_client.get_item(TableName=table, Key=items.key_item(key), ConsistentRead=True).get("Item")
    return None if item is None else items.decode(item)


def test_a_long_message_is_kept_apart_and_read_back_with_its_task(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    task = make_task(message=LONG)

    store.create_task(task)

    task_item = raw(dynamodb_client, table, schema.task_key(task.id))
    assert task_item is not None and "message" not in task_item and task_item[items.MESSAGE_APART] is True
    assert item_size(items.encode(task_item)) <= 1024  # one write unit per claim or finish
    assert raw(dynamodb_client, table, schema.message_key(task.id)) is not None
    assert store.get_task(task.id) == task
    assert store.get_task(task.id, consistent=True) == task
    assert store.query_tasks(TENANT_A, TaskFilter(), limit=10, continuation=None).items == [task]
    run = make_run(task)
    store.put_run(run)
    assert store.get_tasks_and_runs([(task.id, run.tracking_id)]) == [(task, run)]


def test_a_short_message_stays_inline(store: DynamoDbTaskStore, dynamodb_client: Any, table: str) -> None:
    task = make_task(message=SHORT)

    store.create_task(task)

    assert raw(dynamodb_client, table, schema.task_key(task.id))["message"] == '{"hello":"world"}'  # type: ignore[index]
    assert raw(dynamodb_client, table, schema.message_key(task.id)) is None
    assert store.get_task(task.id) == task


def test_claim_and_finish_never_write_the_message(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    task = make_task(message=LONG)
    store.create_task(task)
    message_before = raw(dynamodb_client, table, schema.message_key(task.id))
    run = make_run(task)
    claimed = task.evolve(version=2, in_flight=run.scheduled_for, in_flight_run=run.tracking_id)

    written: list[dict[str, Any]] = []
    dynamodb_client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems",
        lambda params, **_: written.extend(operation["Put"]["Item"] for operation in params["TransactItems"]),
    )
    dynamodb_client.meta.events.register(
        "before-parameter-build.dynamodb.PutItem", lambda params, **_: written.append(params["Item"])
    )

    with count_aws_calls(dynamodb_client) as calls:
        store.claim(claimed, expected_version=1, run=run)
        # The executor's finish: the ended run, then the task's release (its message unchanged).
        store.save_run(
            run.evolve(status=RunStatus.COMPLETED, completed_at=T0 + timedelta(hours=1, seconds=1)),
            expected_attempt=1,
        )
        finished = claimed.evolve(version=3, status=TaskStatus.COMPLETED, in_flight=None, in_flight_run=None)
        store.save_task(finished, expected_version=2, message_changed=False)

    assert calls.counts == {"dynamodb.TransactWriteItems": 1, "dynamodb.PutItem": 2}
    assert len(written) == 4  # the claim's task and run, then the run and the task
    assert all(item[schema.SORT_KEY]["S"] != schema.MESSAGE_SORT for item in written)
    assert all("message" not in item for item in written)
    assert raw(dynamodb_client, table, schema.message_key(task.id)) == message_before
    assert store.get_task(task.id, consistent=True) == finished


@pytest.mark.parametrize(
    ("before", "after"), [(LONG, {"report": "y" * 5_000}), (LONG, SHORT), (SHORT, LONG), (SHORT, {"a": 1})]
)
def test_a_changed_message_is_rewritten_and_an_unreachable_one_removed(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str, before: Any, after: Any
) -> None:
    task = make_task(message=before)
    store.create_task(task)
    changed = task.evolve(version=2, message=after)

    store.save_task(changed, expected_version=1, message_changed=True)

    assert store.get_task(task.id, consistent=True) == changed
    message_item = raw(dynamodb_client, table, schema.message_key(task.id))
    assert (message_item is not None) == items.message_apart(items.message_text(after))


def test_a_stale_message_change_writes_neither_the_task_nor_the_message(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    task = make_task(message=LONG)
    store.create_task(task)

    with pytest.raises(StaleWriteError):
        store.save_task(
            task.evolve(version=3, message={"report": "z" * 900}), expected_version=2, message_changed=True
        )

    assert store.get_task(task.id, consistent=True) == task


def test_a_save_that_keeps_the_message_does_not_touch_its_item(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task = make_task(message=LONG)
    store.create_task(task)

    with count_aws_calls(dynamodb_client) as calls:
        store.save_task(task.evolve(version=2, status=TaskStatus.PAUSED), expected_version=1)

    assert calls.counts == {"dynamodb.PutItem": 1}
    assert store.get_task(task.id, consistent=True) == task.evolve(version=2, status=TaskStatus.PAUSED)


def test_a_refused_create_leaves_no_message_behind(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    first = make_task(message=SHORT, idempotency_key="k1")
    store.create_task(first)
    second = make_task(message=LONG, idempotency_key="k1")

    with pytest.raises(AlreadyExistsError):
        store.create_task(second)

    assert raw(dynamodb_client, table, schema.message_key(second.id)) is None
    assert store.get_task(second.id) is None


def test_deleting_a_task_deletes_its_message(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    task = make_task(message=LONG)
    store.create_task(task)

    store.delete_task(task)

    assert raw(dynamodb_client, table, schema.message_key(task.id)) is None
    assert store.get_task(task.id) is None
