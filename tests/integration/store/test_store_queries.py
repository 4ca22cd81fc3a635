"""DynamoDbTaskStore.query_tasks: context isolation, filters, and pagination that neither skips nor repeats."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from punctual.adapters import dynamodb_items as items
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import ValidationError
from punctual.domain.model import Context, Task, TaskStatus
from punctual.service.ports import TaskFilter

from tests.integration.store.records import T0, TENANT_A, TENANT_A_USER_U, TENANT_B, make_task
from tests.support.aws_calls import count_aws_calls

EVERYTHING = TaskFilter()


def ids(tasks: list[Task]) -> list[str]:
    return [task.id for task in tasks]


def create_many(store: DynamoDbTaskStore, count: int, **fields: Any) -> list[Task]:
    """``count`` tasks created one second apart; returned newest first (the listing order)."""
    tasks = [make_task(created_at=T0 + timedelta(seconds=index), **fields) for index in range(count)]
    for task in tasks:
        store.create_task(task)
    return tasks[::-1]


def collect(
    store: DynamoDbTaskStore, context: Context, task_filter: TaskFilter, *, limit: int
) -> tuple[list[Task], list[int]]:
    """Every page until the store says there is no more: (all tasks in order, page sizes)."""
    found: list[Task] = []
    sizes: list[int] = []
    continuation: dict[str, Any] | None = None
    for _ in range(500):
        page = store.query_tasks(context, task_filter, limit=limit, continuation=continuation)
        assert len(page.items) <= limit
        found.extend(page.items)
        sizes.append(len(page.items))
        if page.continuation is None:
            return found, sizes
        # The service signs the continuation into a JSON cursor: it must survive that trip.
        continuation = json.loads(json.dumps(page.continuation))
    raise AssertionError("pagination did not terminate")


def test_each_context_sees_only_its_own_tasks(store: DynamoDbTaskStore) -> None:
    created = {
        context: create_many(store, 3, context=context) for context in (TENANT_A, TENANT_A_USER_U, TENANT_B)
    }

    for context, tasks in created.items():
        page = store.query_tasks(context, EVERYTHING, limit=50, continuation=None)
        assert ids(page.items) == ids(tasks)
        assert page.continuation is None
    assert store.query_tasks(Context("tenant-c"), EVERYTHING, limit=50, continuation=None).items == []


def test_tasks_are_listed_newest_first_and_one_page_is_one_query_per_shard_and_one_batch_read(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    tasks = create_many(store, 5)

    with count_aws_calls(dynamodb_client) as calls:
        page = store.query_tasks(TENANT_A, EVERYTHING, limit=10, continuation=None)

    assert ids(page.items) == ids(tasks)
    assert page.items == tasks
    # The index carries keys and the filtered attributes only: the page's records are read by key, at once.
    assert calls.counts == {"dynamodb.Query": schema.CONTEXT_SHARDS, "dynamodb.BatchGetItem": 1}


def test_a_context_s_tasks_spread_over_its_index_shards(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    tasks = create_many(store, 64)

    partitions = {
        dynamodb_client.get_item(TableName=store._table, Key=items.key_item(schema.task_key(task.id)))[
            "Item"
        ][schema.GSI1_PARTITION_KEY]["S"]
        for task in tasks
    }

    assert len(partitions) > schema.CONTEXT_SHARDS // 2  # 64 crc32 shards of 16: all but a few are used
    assert partitions <= {
        schema.context_partition(TENANT_A.key, shard) for shard in range(schema.CONTEXT_SHARDS)
    }


def test_status_filter_matches_any_status_of_the_set(store: DynamoDbTaskStore) -> None:
    statuses = [TaskStatus.SCHEDULED, TaskStatus.PAUSED, TaskStatus.COMPLETED, TaskStatus.CANCELLED]
    tasks = [
        make_task(created_at=T0 + timedelta(seconds=index), status=statuses[index % 4]) for index in range(12)
    ]
    for task in tasks:
        store.create_task(task)
    live = frozenset({TaskStatus.SCHEDULED, TaskStatus.PAUSED})

    page = store.query_tasks(TENANT_A, TaskFilter(statuses=live), limit=50, continuation=None)

    assert ids(page.items) == [task.id for task in reversed(tasks) if task.status in live]
    assert (
        store.query_tasks(TENANT_A, TaskFilter(statuses=frozenset()), limit=50, continuation=None).items == []
    )


def test_name_and_metadata_filters_must_all_match(store: DynamoDbTaskStore) -> None:
    wanted = make_task(name="billing", metadata={"team": "core", "env": "prod"}, created_at=T0)
    others = [
        make_task(
            name="billing", metadata={"team": "core", "env": "dev"}, created_at=T0 + timedelta(seconds=1)
        ),
        make_task(name="billing", metadata={"team": "core"}, created_at=T0 + timedelta(seconds=2)),
        make_task(
            name="reports", metadata={"team": "core", "env": "prod"}, created_at=T0 + timedelta(seconds=3)
        ),
        make_task(name=None, metadata={"team": "core", "env": "prod"}, created_at=T0 + timedelta(seconds=4)),
    ]
    for task in [wanted, *others]:
        store.create_task(task)

    by_both = TaskFilter(name="billing", metadata={"team": "core", "env": "prod"})
    assert ids(store.query_tasks(TENANT_A, by_both, limit=50, continuation=None).items) == [wanted.id]
    by_name = TaskFilter(name="billing")
    assert ids(store.query_tasks(TENANT_A, by_name, limit=50, continuation=None).items) == [
        others[1].id,
        others[0].id,
        wanted.id,
    ]
    by_metadata = TaskFilter(metadata={"env": "prod"})
    assert ids(store.query_tasks(TENANT_A, by_metadata, limit=50, continuation=None).items) == [
        others[3].id,
        others[2].id,
        wanted.id,
    ]


def test_metadata_keys_with_awkward_characters_are_filterable(store: DynamoDbTaskStore) -> None:
    task = make_task(metadata={"user.id": "u-1", "a b#c": "x:y", "clé": "välue"})
    store.create_task(task)
    store.create_task(make_task(metadata={"user.id": "u-2"}))

    task_filter = TaskFilter(metadata={"user.id": "u-1", "a b#c": "x:y", "clé": "välue"})
    assert ids(store.query_tasks(TENANT_A, task_filter, limit=50, continuation=None).items) == [task.id]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 10, 100])
def test_pages_where_filters_drop_items_neither_skip_nor_repeat(store: DynamoDbTaskStore, limit: int) -> None:
    # 80 tasks; every third one matches, so most DynamoDB pages carry filtered-out items.
    tasks = [
        make_task(created_at=T0 + timedelta(seconds=index), name="match" if index % 3 == 0 else "other")
        for index in range(80)
    ]
    for task in tasks:
        store.create_task(task)
    expected = [task.id for task in reversed(tasks) if task.name == "match"]

    found, sizes = collect(store, TENANT_A, TaskFilter(name="match"), limit=limit)

    assert ids(found) == expected
    assert all(size == limit for size in sizes[:-1])  # only the last page may be short


def test_a_bound_on_query_pages_gives_short_pages_but_still_every_match(
    table: str, dynamodb_client: Any
) -> None:
    store = DynamoDbTaskStore(table, client=dynamodb_client, max_query_pages=1)
    tasks = create_many(store, 300, name="other")  # ~19 a shard: several rounds of shard pages
    rare = [task.evolve(name="match") for task in tasks[::37]]
    for task in rare:
        store.save_task(task, expected_version=task.version)

    with count_aws_calls(dynamodb_client) as calls:
        found, sizes = collect(store, TENANT_A, TaskFilter(name="match"), limit=5)

    assert ids(found) == ids(rare)
    # One Query per shard per call, as bounded (and a call always examines something, so it moves on).
    assert calls.counts["dynamodb.Query"] == schema.CONTEXT_SHARDS * len(sizes)
    assert len(sizes) > 1 and min(sizes[:-1]) < 5  # a short page still points further on


def test_unfiltered_pages_split_exactly(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    tasks = create_many(store, 9)

    with count_aws_calls(dynamodb_client) as calls:
        found, sizes = collect(store, TENANT_A, EVERYTHING, limit=4)

    assert ids(found) == ids(tasks)
    assert sizes[:3] == [4, 4, 1]
    # A shard is read a few entries at a time (4 at least), so 9 tasks come from one Query per shard a page.
    assert calls.counts["dynamodb.Query"] == schema.CONTEXT_SHARDS * len(sizes)
    assert calls.counts["dynamodb.BatchGetItem"] == sum(1 for n in sizes if n)


def test_a_continuation_stays_valid_when_its_task_is_deleted(store: DynamoDbTaskStore) -> None:
    tasks = create_many(store, 6)
    first = store.query_tasks(TENANT_A, EVERYTHING, limit=2, continuation=None)
    assert first.continuation is not None
    store.delete_task(first.items[-1])

    rest, _ = collect_from(store, first.continuation)

    assert ids(first.items) + ids(rest) == ids(tasks)


def collect_from(store: DynamoDbTaskStore, continuation: dict[str, Any]) -> tuple[list[Task], int]:
    found: list[Task] = []
    pages = 0
    next_page: dict[str, Any] | None = continuation
    while next_page is not None:
        page = store.query_tasks(TENANT_A, EVERYTHING, limit=2, continuation=next_page)
        found.extend(page.items)
        next_page = page.continuation
        pages += 1
    return found, pages


def test_a_continuation_cannot_reach_another_context(store: DynamoDbTaskStore) -> None:
    create_many(store, 3, context=TENANT_A)
    theirs = create_many(store, 3, context=TENANT_B)
    page = store.query_tasks(TENANT_A, EVERYTHING, limit=1, continuation=None)
    assert page.continuation is not None

    elsewhere = store.query_tasks(TENANT_B, EVERYTHING, limit=50, continuation=page.continuation)

    assert set(ids(elsewhere.items)) <= set(ids(theirs))


@pytest.mark.parametrize(
    "continuation",
    [{}, {"after": 3}, {"after": ""}, {"after": "no-separator"}, {"after": "x#id", "PK": {"S": "TASK#x"}}],
)
def test_a_malformed_continuation_is_a_validation_error(
    store: DynamoDbTaskStore, continuation: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        store.query_tasks(TENANT_A, EVERYTHING, limit=5, continuation=continuation)
