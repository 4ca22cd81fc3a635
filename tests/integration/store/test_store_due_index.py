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
from punctual.service.ports import StorePage

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


def last(page: StorePage[Task]) -> StorePage[Task]:
    """``page``, having checked it is the last one (no continuation: nothing more is due)."""
    assert page.continuation is None, page.continuation
    return page


def every_page(store: DynamoDbTaskStore, before: datetime, *, limit: int) -> list[StorePage[Task]]:
    pages = [store.tasks_needing_attention(before, limit=limit)]
    while pages[-1].continuation is not None:
        assert len(pages) < 100, "the continuation does not move on"
        pages.append(store.tasks_needing_attention(before, limit=limit, continuation=pages[-1].continuation))
    return pages


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
        due = last(store.tasks_needing_attention(NOW, limit=100)).items

    assert ids(due) == ids(sorted(tasks, key=lambda task: task.next_run_at or NOW))
    assert due == sorted(tasks, key=lambda task: task.next_run_at or NOW)  # whole tasks, every field
    assert calls.counts == {"dynamodb.Query": 4, "dynamodb.BatchGetItem": 1}  # a Query per shard, no Scan


def test_the_bound_is_inclusive_and_later_tasks_are_left_out(store: DynamoDbTaskStore) -> None:
    exactly = due_task(NOW)
    just_after = due_task(NOW + timedelta(microseconds=1))
    later = due_task(NOW + timedelta(hours=1))
    for task in (exactly, just_after, later):
        store.create_task(task)

    assert ids(last(store.tasks_needing_attention(NOW, limit=10)).items) == [exactly.id]


def test_limit_keeps_the_oldest_across_all_shards(store: DynamoDbTaskStore) -> None:
    tasks = [due_task(NOW - timedelta(seconds=seconds)) for seconds in range(1, 21)]
    for task in tasks:
        store.create_task(task)

    page = store.tasks_needing_attention(NOW, limit=5)

    oldest = sorted(tasks, key=lambda task: task.next_run_at or NOW)[:5]
    assert ids(page.items) == ids(oldest)
    assert page.continuation == {"after": schema.index_sort(oldest[-1].next_run_at or NOW, oldest[-1].id)}


def test_exactly_limit_due_tasks_leave_no_continuation(store: DynamoDbTaskStore) -> None:
    tasks = [due_task(NOW - timedelta(seconds=seconds)) for seconds in range(1, 6)]
    for task in tasks:
        store.create_task(task)
    store.create_task(due_task(NOW + timedelta(seconds=1)))  # not due: no reason to page on

    page = store.tasks_needing_attention(NOW, limit=5)

    assert page == StorePage(sorted(tasks, key=lambda task: task.next_run_at or NOW), None)


def test_paging_returns_every_due_task_once_oldest_first(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    # Pairs of tasks share a wake-up (the id orders them), and the tasks span every shard.
    tasks = [
        due_task(NOW - timedelta(minutes=30 - index // 2), task_id=f"{0xFA6E000 + index:032x}")
        for index in range(23)
    ]
    for task in tasks:
        store.create_task(task)
    store.create_task(due_task(NOW + timedelta(minutes=1)))  # not due
    assert {schema.due_shard(task.id, 4) for task in tasks} == set(range(4))
    expected = sorted(tasks, key=lambda task: schema.index_sort(task.next_run_at or NOW, task.id))

    with count_aws_calls(dynamodb_client) as calls:
        pages = every_page(store, NOW, limit=5)

    assert [len(page.items) for page in pages] == [5, 5, 5, 5, 3]
    assert [task for page in pages for task in page.items] == expected  # each once, in order
    for page in pages[:-1]:
        assert page.continuation == {
            "after": schema.index_sort(page.items[-1].next_run_at or NOW, page.items[-1].id)
        }
    assert calls.counts == {"dynamodb.Query": 4 * len(pages), "dynamodb.BatchGetItem": len(pages)}


def test_paging_one_task_at_a_time_within_one_shard(store: DynamoDbTaskStore) -> None:
    # Every due entry sits in one shard, so no other shard's answer shows that more follow: that shard's
    # own must. And the continuation's entry is the lower bound of the next Query (BETWEEN is inclusive):
    # it must not come back, nor cost the page its task.
    shard_of_first = schema.due_shard(f"{0xB0B000:032x}", 4)
    same_shard = [
        f"{n:032x}" for n in range(0xB0B000, 0xB0B100) if schema.due_shard(f"{n:032x}", 4) == shard_of_first
    ][:4]
    tasks = [due_task(NOW - timedelta(seconds=10), task_id=task_id) for task_id in same_shard]
    for task in tasks:
        store.create_task(task)

    pages = every_page(store, NOW, limit=1)

    assert [ids(page.items) for page in pages] == [[task.id] for task in sorted(tasks, key=lambda t: t.id)]


def test_a_continuation_not_of_the_due_index_is_refused(store: DynamoDbTaskStore) -> None:
    with pytest.raises(ValueError):
        store.tasks_needing_attention(NOW, limit=10, continuation={"PK": {"S": "TASK#x"}})


@pytest.mark.parametrize(
    "status", [TaskStatus.PAUSED, TaskStatus.CANCELLED, TaskStatus.COMPLETED, TaskStatus.FAILED]
)
def test_only_scheduled_tasks_and_paused_ones_in_flight_are_in_the_index(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str, status: TaskStatus
) -> None:
    task = due_task(NOW - timedelta(minutes=1), status=status)
    store.create_task(task)

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([], None)
    assert schema.GSI2_PARTITION_KEY not in raw_task(dynamodb_client, table, task.id)


@pytest.mark.parametrize("status", [TaskStatus.CANCELLED, TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_an_ended_task_with_an_in_flight_mark_is_not_in_the_index(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str, status: TaskStatus
) -> None:
    task = due_task(None, status=status, in_flight=NOW - timedelta(minutes=1), in_flight_run=new_id())
    store.create_task(task)

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([], None)
    assert schema.GSI2_PARTITION_KEY not in raw_task(dynamodb_client, table, task.id)


def test_a_paused_task_with_a_manual_run_in_flight_is_in_the_index(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    in_flight = due_task(
        NOW + timedelta(hours=1),  # the paused schedule's own instant does not count
        status=TaskStatus.PAUSED,
        in_flight=NOW - timedelta(minutes=1),
        in_flight_run=new_id(),
    )
    not_yet = due_task(None, status=TaskStatus.PAUSED, in_flight=NOW + timedelta(seconds=1))
    for task in (in_flight, not_yet):
        store.create_task(task)

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([in_flight], None)
    item = raw_task(dynamodb_client, table, in_flight.id)
    assert item[schema.GSI2_SORT_KEY]["S"] == schema.index_sort(NOW - timedelta(minutes=1), in_flight.id)

    released = in_flight.evolve(version=2, in_flight=None, in_flight_run=None)
    store.save_task(released, expected_version=1)
    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([], None)
    assert schema.GSI2_PARTITION_KEY not in raw_task(dynamodb_client, table, in_flight.id)


def test_a_task_without_a_wake_up_is_not_in_the_index(store: DynamoDbTaskStore) -> None:
    store.create_task(due_task(None))
    assert store.tasks_needing_attention(NOW + timedelta(days=400), limit=10) == StorePage([], None)


def test_in_flight_wins_over_next_run_at(store: DynamoDbTaskStore) -> None:
    stuck = due_task(NOW + timedelta(hours=1), in_flight=NOW - timedelta(minutes=3))
    not_yet = due_task(NOW - timedelta(hours=1), in_flight=NOW + timedelta(minutes=3))
    for task in (stuck, not_yet):
        store.create_task(task)

    assert ids(last(store.tasks_needing_attention(NOW, limit=10)).items) == [stuck.id]


def test_saving_a_task_moves_it_in_and_out_of_the_index(store: DynamoDbTaskStore) -> None:
    task = due_task(NOW - timedelta(minutes=1))
    store.create_task(task)
    paused = task.evolve(status=TaskStatus.PAUSED, version=2)
    store.save_task(paused, expected_version=1)
    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([], None)

    resumed = paused.evolve(status=TaskStatus.SCHEDULED, version=3, next_run_at=NOW + timedelta(minutes=1))
    store.save_task(resumed, expected_version=2)
    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([], None)
    assert store.tasks_needing_attention(NOW + timedelta(minutes=1), limit=10) == StorePage([resumed], None)


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
        due = last(store.tasks_needing_attention(NOW, limit=100)).items

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
        assert store.tasks_needing_attention(NOW, limit=10) == StorePage([], None)
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

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([still_due], None)


def test_a_re_read_task_paused_with_a_run_in_flight_is_still_due(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    indexed = due_task(NOW - timedelta(minutes=1))
    current = indexed.evolve(
        version=2, status=TaskStatus.PAUSED, in_flight=NOW - timedelta(seconds=30), in_flight_run=new_id()
    )
    store_lagging_index(dynamodb_client, table, indexed, current)

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([current], None)


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

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([kept], None)


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
        assert store.tasks_needing_attention(NOW, limit=10) == StorePage([task], None)
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

    assert store.tasks_needing_attention(NOW, limit=10) == StorePage([first, moved], None)


def test_more_than_a_hundred_due_tasks_are_read_in_chunks_of_a_hundred(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    tasks = [due_task(NOW - timedelta(seconds=seconds)) for seconds in range(1, 151)]
    for task in tasks:
        store.create_task(task)

    with count_aws_calls(dynamodb_client) as calls:
        page = store.tasks_needing_attention(NOW, limit=120)

    assert page.items == sorted(tasks, key=lambda task: task.next_run_at or NOW)[:120]
    assert page.continuation is not None  # 30 more are due
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
        page = store.tasks_needing_attention(NOW, limit=10)

    assert page == StorePage(sorted(tasks, key=lambda task: task.next_run_at or NOW), None)
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
