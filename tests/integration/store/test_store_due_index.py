"""The sparse due index (GSI2) behind tasks_needing_attention: Query per shard, never Scan."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.model import Task, TaskStatus

from tests.integration.store.records import T0, make_task
from tests.support.aws_calls import count_aws_calls

NOW = T0 + timedelta(hours=2)


def raw_task(client: Any, table: str, task_id: str) -> dict[str, Any]:
    key = {k: {"S": v} for k, v in schema.task_key(task_id).items()}
    item: dict[str, Any] = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return item


def due_task(wake: datetime | None, **changes: Any) -> Task:
    return make_task(next_run_at=wake, **changes)


def ids(tasks: list[Task]) -> list[str]:
    return [task.id for task in tasks]


def test_due_tasks_come_oldest_first_across_shards(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    tasks = [
        due_task(NOW - timedelta(minutes=minutes), task_id=f"{0xA11000 + minutes:032x}")
        for minutes in (5, 50, 1, 30, 10, 20, 40, 15)
    ]
    for task in tasks:
        store.create_task(task)
    shards = {schema.due_shard(task.id, 4) for task in tasks}
    assert len(shards) > 1  # the scenario really spans shards

    with count_aws_calls(dynamodb_client) as calls:
        due = store.tasks_needing_attention(NOW, limit=100)

    assert ids(due) == ids(sorted(tasks, key=lambda task: task.next_run_at or NOW))
    assert due == sorted(tasks, key=lambda task: task.next_run_at or NOW)
    assert calls.counts == {"dynamodb.Query": 4}  # one per shard, no Scan


def test_the_bound_is_inclusive_and_later_tasks_are_left_out(store: DynamoDbTaskStore) -> None:
    exactly = due_task(NOW)
    just_after = due_task(NOW + timedelta(microseconds=1))
    later = due_task(NOW + timedelta(hours=1))
    for task in (exactly, just_after, later):
        store.create_task(task)

    assert ids(store.tasks_needing_attention(NOW, limit=10)) == [exactly.id]


def test_limit_keeps_the_oldest_across_all_shards(store: DynamoDbTaskStore) -> None:
    tasks = [due_task(NOW - timedelta(seconds=seconds)) for seconds in range(1, 21)]
    for task in tasks:
        store.create_task(task)

    due = store.tasks_needing_attention(NOW, limit=5)

    assert ids(due) == ids(sorted(tasks, key=lambda task: task.next_run_at or NOW)[:5])


@pytest.mark.parametrize(
    "status", [TaskStatus.PAUSED, TaskStatus.CANCELLED, TaskStatus.COMPLETED, TaskStatus.FAILED]
)
def test_only_scheduled_tasks_are_in_the_index(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str, status: TaskStatus
) -> None:
    task = due_task(NOW - timedelta(minutes=1), status=status)
    store.create_task(task)

    assert store.tasks_needing_attention(NOW, limit=10) == []
    assert schema.GSI2_PARTITION_KEY not in raw_task(dynamodb_client, table, task.id)


def test_a_task_without_a_wake_up_is_not_in_the_index(store: DynamoDbTaskStore) -> None:
    store.create_task(due_task(None))
    assert store.tasks_needing_attention(NOW + timedelta(days=400), limit=10) == []


def test_in_flight_wins_over_next_run_at(store: DynamoDbTaskStore) -> None:
    stuck = due_task(NOW + timedelta(hours=1), in_flight=NOW - timedelta(minutes=3))
    not_yet = due_task(NOW - timedelta(hours=1), in_flight=NOW + timedelta(minutes=3))
    for task in (stuck, not_yet):
        store.create_task(task)

    assert ids(store.tasks_needing_attention(NOW, limit=10)) == [stuck.id]


def test_saving_a_task_moves_it_in_and_out_of_the_index(store: DynamoDbTaskStore) -> None:
    task = due_task(NOW - timedelta(minutes=1))
    store.create_task(task)
    paused = task.evolve(status=TaskStatus.PAUSED, version=2)
    store.save_task(paused, expected_version=1)
    assert store.tasks_needing_attention(NOW, limit=10) == []

    resumed = paused.evolve(status=TaskStatus.SCHEDULED, version=3, next_run_at=NOW + timedelta(minutes=1))
    store.save_task(resumed, expected_version=2)
    assert store.tasks_needing_attention(NOW, limit=10) == []
    assert store.tasks_needing_attention(NOW + timedelta(minutes=1), limit=10) == [resumed]


def test_the_shard_count_is_honoured(table: str, dynamodb_client: Any) -> None:
    store = DynamoDbTaskStore(table, client=dynamodb_client, due_shards=7)
    # Fixed ids, so the scenario covers every shard whatever order the tests run in.
    tasks = [
        due_task(NOW - timedelta(seconds=seconds), task_id=f"{0xD0E000 + seconds:032x}")
        for seconds in range(29)
    ]
    for task in tasks:
        store.create_task(task)

    with count_aws_calls(dynamodb_client) as calls:
        due = store.tasks_needing_attention(NOW, limit=100)

    assert len(due) == len(tasks)
    assert calls.counts == {"dynamodb.Query": 7}
    assert {schema.due_shard(task.id, 7) for task in tasks} == set(range(7))


def test_due_shard_assignment_is_pinned() -> None:
    # Writers and the sweeper run in different processes (and versions): the hash must never change, or
    # tasks already stored would sit in shards nobody reads. Python's salted hash() would fail this.
    assert [schema.due_shard(f"{n:032x}", 4) for n in range(1, 9)] == [2, 0, 2, 1, 3, 1, 3, 2]
