"""DynamoDbTaskStore: task records, idempotency reservations and versioned writes (moto)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.model import MisfirePolicy, Schedule, ScheduleKind, TaskStatus

from tests.integration.store.records import T0, TENANT_A, TENANT_A_USER_U, TENANT_B, make_task
from tests.support.aws_calls import count_aws_calls


def raw_item(client: Any, table: str, key: dict[str, str]) -> dict[str, Any] | None:
    response = client.get_item(
        TableName=table, Key={k: {"S": v} for k, v in key.items()}, ConsistentRead=True
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def test_a_task_with_every_field_set_round_trips_exactly(store: DynamoDbTaskStore) -> None:
    task = make_task(
        context=TENANT_A_USER_U,
        schedule=Schedule(
            kind=ScheduleKind.CRON,
            cron="0 0/5 0 ? * * *",
            timezone="Europe/Paris",
            start_at=T0 + timedelta(microseconds=1),
            end_at=T0 + timedelta(days=90, milliseconds=250),
            anchor=T0,
        ),
        status=TaskStatus.SCHEDULED,
        version=7,
        updated_at=T0 + timedelta(seconds=3, microseconds=999_999),
        next_run_at=T0 + timedelta(minutes=5),
        name="nightly ✓",
        message={"nested": [1, 2.5, {"deep": None}], "flag": True},
        metadata={"team": "core", "région": "eu-west-3", "empty": ""},
        misfire=MisfirePolicy.SKIP,
        idempotency_key="create-1",
        in_flight=T0 + timedelta(minutes=4, microseconds=123_456),
        in_flight_run="c" * 32,
        schedule_changed_at=T0 + timedelta(seconds=1, microseconds=7),
        last_run_at=T0 - timedelta(days=1),
        fired_count=41,
        missed=3,
    )
    store.create_task(task)

    assert store.get_task(task.id) == task
    assert store.get_task(task.id, consistent=True) == task


def test_an_every_schedule_and_absent_optionals_round_trip(store: DynamoDbTaskStore) -> None:
    task = make_task(
        schedule=Schedule(kind=ScheduleKind.EVERY, every="30 seconds", every_seconds=30, anchor=T0),
        name=None,
        message=None,
        metadata={},
        next_run_at=None,
    )
    store.create_task(task)

    assert store.get_task(task.id) == task


@pytest.mark.parametrize(
    "message",
    [
        "plain text",
        "",
        "héllo wörld — 日本語 🎉",
        "lone surrogate \ud800 kept",
        {"a": {"b": [1, "two", 3.25, None, False]}, "unicode": "ü"},
        [1, "two", {"three": 3}, [], {}],
        None,
        0,
        -12345678901234567890,
        0.1,
        1e-7,
        True,
    ],
)
def test_any_json_message_round_trips_exactly(store: DynamoDbTaskStore, message: Any) -> None:
    task = make_task(message=message)
    store.create_task(task)

    stored = store.get_task(task.id)

    assert stored is not None
    assert stored.message == message
    assert type(stored.message) is type(message)


def test_create_without_idempotency_key_is_one_conditional_put(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task = make_task()
    with count_aws_calls(dynamodb_client) as calls:
        store.create_task(task)
    assert calls.counts == {"dynamodb.PutItem": 1}

    with pytest.raises(AlreadyExistsError):
        store.create_task(task.evolve(name="other"))
    assert store.get_task(task.id) == task


def test_create_with_idempotency_key_reserves_it_in_one_transaction(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    task = make_task(idempotency_key="order-42")
    with count_aws_calls(dynamodb_client) as calls:
        store.create_task(task)
    assert calls.counts == {"dynamodb.TransactWriteItems": 1}

    reservation = raw_item(dynamodb_client, table, schema.idempotency_key(TENANT_A.key, "order-42"))
    assert reservation is not None
    assert reservation["task_id"] == {"S": task.id}
    assert store.task_for_idempotency_key(TENANT_A, "order-42") == task


def test_a_reused_idempotency_key_is_refused_and_writes_nothing(store: DynamoDbTaskStore) -> None:
    first = make_task(idempotency_key="order-42")
    store.create_task(first)
    second = make_task(idempotency_key="order-42", name="second")

    with pytest.raises(AlreadyExistsError):
        store.create_task(second)

    assert store.get_task(second.id) is None
    assert store.task_for_idempotency_key(TENANT_A, "order-42") == first


def test_idempotency_keys_are_per_context(store: DynamoDbTaskStore) -> None:
    tasks = {
        context: make_task(context=context, idempotency_key="same-key")
        for context in (TENANT_A, TENANT_A_USER_U, TENANT_B)
    }
    for task in tasks.values():
        store.create_task(task)

    for context, task in tasks.items():
        assert store.task_for_idempotency_key(context, "same-key") == task
    assert store.task_for_idempotency_key(TENANT_A, "unknown-key") is None


def test_delete_task_removes_the_task_and_frees_its_idempotency_key(store: DynamoDbTaskStore) -> None:
    task = make_task(idempotency_key="retry-me")
    plain = make_task()
    store.create_task(task)
    store.create_task(plain)

    store.delete_task(task)
    store.delete_task(plain)

    assert store.get_task(task.id) is None
    assert store.get_task(plain.id) is None
    assert store.task_for_idempotency_key(TENANT_A, "retry-me") is None
    store.create_task(make_task(idempotency_key="retry-me"))  # the key can be reserved again


def test_get_task_reads_consistently_only_when_asked(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    task = make_task()
    store.create_task(task)
    requests: list[dict[str, Any]] = []
    dynamodb_client.meta.events.register(
        "before-parameter-build.dynamodb.GetItem", lambda params, **_: requests.append(dict(params))
    )

    store.get_task(task.id)
    store.get_task(task.id, consistent=True)

    assert [request["ConsistentRead"] for request in requests] == [False, True]
    assert store.get_task("0" * 32) is None


def test_save_task_replaces_the_task_at_the_expected_version(store: DynamoDbTaskStore) -> None:
    task = make_task(version=3)
    store.create_task(task)
    changed = task.evolve(
        version=4, name="renamed", metadata={"team": "ops"}, updated_at=T0 + timedelta(hours=2)
    )

    store.save_task(changed, expected_version=3)

    assert store.get_task(task.id) == changed


def test_save_task_at_a_stale_version_raises_and_changes_nothing(store: DynamoDbTaskStore) -> None:
    task = make_task(version=3)
    store.create_task(task)

    with pytest.raises(StaleWriteError):
        store.save_task(task.evolve(version=4, name="lost"), expected_version=2)
    with pytest.raises(StaleWriteError):
        store.save_task(make_task(version=2), expected_version=1)  # never created

    assert store.get_task(task.id) == task
