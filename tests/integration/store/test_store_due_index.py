"""The sparse due index (GSI2) behind tasks_needing_attention: a keys-only Query per shard (never Scan),
then one consistent BatchGetItem per 100 tasks; the re-read record decides whether a task is still due."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from punctual.adapters import dynamodb_items as items
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import ThrottledError
from punctual.domain.model import Task, TaskStatus

from tests.integration.store.records import T0, make_task, new_id
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
    assert due == sorted(tasks, key=lambda task: task.next_run_at or NOW)  # whole tasks, every field
    assert calls.counts == {"dynamodb.Query": 4, "dynamodb.BatchGetItem": 1}  # a Query per shard, no Scan


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
    assert calls.counts == {"dynamodb.Query": 7, "dynamodb.BatchGetItem": 1}
    assert {schema.due_shard(task.id, 7) for task in tasks} == set(range(7))


def test_due_shard_assignment_is_pinned() -> None:
    # Writers and the sweeper run in different processes (and versions): the hash must never change, or
    # tasks already stored would sit in shards nobody reads. Python's salted hash() would fail this.
    assert [schema.due_shard(f"{n:032x}", 4) for n in range(1, 9)] == [2, 0, 2, 1, 3, 1, 3, 2]


def test_nothing_due_reads_no_tasks(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    store.create_task(due_task(NOW + timedelta(minutes=1)))

    with count_aws_calls(dynamodb_client) as calls:
        assert store.tasks_needing_attention(NOW, limit=10) == []
    assert calls.counts == {"dynamodb.Query": 4}


def test_the_due_index_holds_keys_only(store: DynamoDbTaskStore, dynamodb_client: Any, table: str) -> None:
    task = due_task(NOW - timedelta(minutes=1))
    store.create_task(task)

    entries = dynamodb_client.query(
        TableName=table,
        IndexName=schema.GSI2_NAME,
        KeyConditionExpression="#pk = :pk",
        ExpressionAttributeNames={"#pk": schema.GSI2_PARTITION_KEY},
        ExpressionAttributeValues={":pk": {"S": schema.due_partition(schema.due_shard(task.id, 4))}},
    )["Items"]

    assert [set(entry) for entry in entries] == [{"PK", "SK", "GSI2PK", "GSI2SK"}]


def store_lagging_index(client: Any, table: str, indexed: Task, current: Task) -> None:
    """Write ``current`` under the index keys ``indexed`` had: the due index says what it said before the
    task moved on (as a GSI that has not caught up yet would)."""
    stale = items.task_to_item(indexed, due_shards=4)
    item = items.task_to_item(current, due_shards=4)
    for name in (schema.GSI2_PARTITION_KEY, schema.GSI2_SORT_KEY):
        item[name] = stale[name]
    client.put_item(TableName=table, Item=item)


@pytest.mark.parametrize(
    "moved_on",
    [
        {"status": TaskStatus.PAUSED},
        {"status": TaskStatus.CANCELLED},
        {"next_run_at": NOW + timedelta(minutes=5)},  # rearmed for later
        {"in_flight": NOW + timedelta(seconds=1)},  # claimed, wake-up now after ``before``
    ],
)
def test_the_re_read_task_decides_not_the_index(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str, moved_on: dict[str, Any]
) -> None:
    still_due = due_task(NOW - timedelta(minutes=2))
    store.create_task(still_due)
    indexed = due_task(NOW - timedelta(minutes=1))
    store_lagging_index(dynamodb_client, table, indexed, indexed.evolve(version=2, **moved_on))

    assert store.tasks_needing_attention(NOW, limit=10) == [still_due]


def index_entry(task_id: str, wake: datetime) -> dict[str, Any]:
    return items.key_item(
        {
            **schema.task_key(task_id),
            schema.GSI2_PARTITION_KEY: schema.due_partition(schema.due_shard(task_id, 4)),
            schema.GSI2_SORT_KEY: schema.index_sort(wake, task_id),
        }
    )


def add_to_due_index_answers(client: Any, entry: dict[str, Any], *, every_shard: bool = False) -> None:
    """Make Query answers of the due index also hold ``entry`` (in its own shard, or in every shard's)."""

    asked: list[Any] = []

    def note_partition(params: dict[str, Any], **_: Any) -> None:
        asked.append(json.loads(params["body"])["ExpressionAttributeValues"][":pk"])

    def lagging_index(parsed: dict[str, Any], **_: Any) -> None:
        if every_shard or asked[-1] == entry[schema.GSI2_PARTITION_KEY]:
            parsed["Items"] = [entry, *parsed.get("Items", [])]

    client.meta.events.register("before-call.dynamodb.Query", note_partition)
    client.meta.events.register("after-call.dynamodb.Query", lagging_index)


def test_a_task_deleted_since_the_index_saw_it_is_dropped(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    kept = due_task(NOW - timedelta(minutes=1))
    store.create_task(kept)
    add_to_due_index_answers(dynamodb_client, index_entry(new_id(), NOW - timedelta(minutes=3)))

    assert store.tasks_needing_attention(NOW, limit=10) == [kept]


def test_a_task_seen_twice_in_the_index_is_read_and_returned_once(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task = due_task(NOW - timedelta(minutes=1))
    store.create_task(task)
    # The same task under an older wake-up too (it moved while its shard was paged), in every answer.
    add_to_due_index_answers(
        dynamodb_client, index_entry(task.id, NOW - timedelta(minutes=9)), every_shard=True
    )

    with count_aws_calls(dynamodb_client) as calls:
        assert store.tasks_needing_attention(NOW, limit=10) == [task]
    assert calls.counts == {"dynamodb.Query": 4, "dynamodb.BatchGetItem": 1}


def test_a_re_read_task_is_ordered_by_its_current_wake_up(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    first = due_task(NOW - timedelta(minutes=2))
    store.create_task(first)
    # Indexed as the oldest, but since claimed at a wake-up still before ``before`` and after ``first``'s.
    indexed = due_task(NOW - timedelta(minutes=10))
    moved = indexed.evolve(version=2, in_flight=NOW - timedelta(minutes=1))
    store_lagging_index(dynamodb_client, table, indexed, moved)

    assert store.tasks_needing_attention(NOW, limit=10) == [first, moved]


def test_more_than_a_hundred_due_tasks_are_read_in_chunks_of_a_hundred(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    tasks = [due_task(NOW - timedelta(seconds=seconds)) for seconds in range(1, 151)]
    for task in tasks:
        store.create_task(task)

    with count_aws_calls(dynamodb_client) as calls:
        due = store.tasks_needing_attention(NOW, limit=120)

    assert due == sorted(tasks, key=lambda task: task.next_run_at or NOW)[:120]
    assert calls.counts == {"dynamodb.Query": 4, "dynamodb.BatchGetItem": 2}


def test_keys_left_unprocessed_are_read_again(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    tasks = [due_task(NOW - timedelta(seconds=seconds)) for seconds in range(1, 6)]
    for task in tasks:
        store.create_task(task)
    answered: list[int] = []

    def throttle_first_call(params: dict[str, Any], **_: Any) -> Any:
        if answered:
            return None  # moto answers
        answered.append(1)
        request = json.loads(params["body"])["RequestItems"]
        return _Http(200), {"Responses": {}, "UnprocessedKeys": request}

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchGetItem", throttle_first_call)

    with count_aws_calls(dynamodb_client) as calls:
        due = store.tasks_needing_attention(NOW, limit=10)

    assert due == sorted(tasks, key=lambda task: task.next_run_at or NOW)
    assert calls.counts == {"dynamodb.Query": 4, "dynamodb.BatchGetItem": 2}


def test_keys_left_unprocessed_every_time_raise_throttled(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    store.create_task(due_task(NOW - timedelta(seconds=1)))

    def unprocessed(params: dict[str, Any], **_: Any) -> Any:
        return _Http(200), {"Responses": {}, "UnprocessedKeys": json.loads(params["body"])["RequestItems"]}

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchGetItem", unprocessed)

    with pytest.raises(ThrottledError):
        store.tasks_needing_attention(NOW, limit=10)


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code
