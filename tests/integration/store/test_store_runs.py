"""DynamoDbTaskStore: run records, the executor's claim/finish transactions and run history (moto)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.model import Run, RunKind, RunStatus, Task

from tests.integration.store.records import T0, make_run, make_task
from tests.support.aws_calls import count_aws_calls

OCCURRENCE = T0 + timedelta(hours=1)
FIRED = OCCURRENCE + timedelta(milliseconds=180)


def raw_run(client: Any, table: str, tracking_id: str) -> dict[str, Any]:
    key = {k: {"S": v} for k, v in schema.run_key(tracking_id).items()}
    item: dict[str, Any] = client.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    return item


def claimed(task: Task) -> Task:
    return task.evolve(
        version=task.version + 1, in_flight=OCCURRENCE, next_run_at=OCCURRENCE + timedelta(hours=1)
    )


def completed(run: Run) -> Run:
    return run.evolve(
        status=RunStatus.COMPLETED, fired_at=FIRED, completed_at=FIRED, lateness_ms=180, lease_until=None
    )


# --- plain run records -------------------------------------------------------------------------------


def test_a_run_with_every_field_round_trips(store: DynamoDbTaskStore) -> None:
    task = make_task()
    run = make_run(
        task,
        kind=RunKind.MANUAL,
        status=RunStatus.FAILED,
        fired_at=FIRED,
        completed_at=FIRED + timedelta(seconds=2),
        lateness_ms=180,
        attempt=5,
        error="SNS said no: ✗",
        missed=12,
        task_name="nightly ✓",
    )
    store.put_run(run)

    assert store.get_run(run.tracking_id) == run
    assert store.get_run("f" * 32) is None


def test_a_pending_run_with_only_required_fields_round_trips(store: DynamoDbTaskStore) -> None:
    task = make_task()
    run = make_run(
        task,
        kind=RunKind.MANUAL,
        status=RunStatus.PENDING,
        started_at=None,
        attempt=0,
        lease_until=None,
        task_name=None,
    )
    store.put_run(run)

    assert store.get_run(run.tracking_id) == run


def test_put_run_refuses_a_used_tracking_id(store: DynamoDbTaskStore) -> None:
    run = make_run(make_task())
    store.put_run(run)

    with pytest.raises(AlreadyExistsError):
        store.put_run(run.evolve(status=RunStatus.PENDING))
    assert store.get_run(run.tracking_id) == run


def test_runs_carry_a_ttl_after_their_latest_activity(table: str, dynamodb_client: Any) -> None:
    store = DynamoDbTaskStore(table, client=dynamodb_client, run_retention=timedelta(days=7))
    task = make_task()
    pending = make_run(task, status=RunStatus.PENDING, started_at=None, lease_until=None)
    store.put_run(pending)
    assert int(raw_run(dynamodb_client, table, pending.tracking_id)["expires_at"]["N"]) == int(
        (pending.triggered_at + timedelta(days=7)).timestamp()
    )

    done = completed(pending).evolve(completed_at=OCCURRENCE + timedelta(hours=3))
    store.save_run(done, expected_attempt=pending.attempt)

    item = raw_run(dynamodb_client, table, done.tracking_id)
    assert schema.TTL_ATTRIBUTE == "expires_at"
    assert int(item["expires_at"]["N"]) == int((OCCURRENCE + timedelta(hours=3, days=7)).timestamp())


def test_save_run_is_fenced_by_the_attempt(store: DynamoDbTaskStore) -> None:
    run = make_run(make_task(), attempt=2)
    store.put_run(run)
    taken = run.evolve(attempt=3, lease_until=run.triggered_at + timedelta(minutes=5))

    store.save_run(taken, expected_attempt=2)
    with pytest.raises(StaleWriteError):
        store.save_run(run.evolve(attempt=3, error="late"), expected_attempt=2)

    assert store.get_run(run.tracking_id) == taken
    with pytest.raises(StaleWriteError):
        store.save_run(make_run(make_task()), expected_attempt=0)  # no such run


# --- get_tasks_and_runs ------------------------------------------------------------------------------


def test_get_tasks_and_runs_is_one_consistent_batch_get(
    store: DynamoDbTaskStore, dynamodb_client: Any, table: str
) -> None:
    task = make_task()
    run = make_run(task)
    store.create_task(task)
    store.put_run(run)
    requests: list[dict[str, Any]] = []
    dynamodb_client.meta.events.register(
        "before-parameter-build.dynamodb.BatchGetItem", lambda params, **_: requests.append(dict(params))
    )

    with count_aws_calls(dynamodb_client) as calls:
        assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, run)
        assert store.get_tasks_and_runs([(task.id, "e" * 32)])[0] == (task, None)
        assert store.get_tasks_and_runs([("d" * 32, run.tracking_id)])[0] == (None, run)
        assert store.get_tasks_and_runs([("d" * 32, "e" * 32)])[0] == (None, None)

    assert calls.counts == {"dynamodb.BatchGetItem": 4}
    assert all(request["RequestItems"][table]["ConsistentRead"] for request in requests)


def test_get_tasks_and_runs_retries_unprocessed_keys(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    task = make_task()
    run = make_run(task)
    store.create_task(task)
    store.put_run(run)
    answered: list[bool] = []

    def throttle_once(params: dict[str, Any], **_: Any) -> Any:
        if answered:
            return None
        answered.append(True)
        requested = json.loads(params["body"])["RequestItems"]
        return _Http(200), {"Responses": {}, "UnprocessedKeys": requested}

    dynamodb_client.meta.events.register("before-call.dynamodb.BatchGetItem", throttle_once)

    with count_aws_calls(dynamodb_client) as calls:
        assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, run)
    assert calls.counts == {"dynamodb.BatchGetItem": 2}


class _Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


# --- claim -------------------------------------------------------------------------------------------


def test_claim_writes_task_and_run_in_one_transaction(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)

    with count_aws_calls(dynamodb_client) as calls:
        store.claim(claimed(task), expected_version=4, run=run)

    assert calls.counts == {"dynamodb.TransactWriteItems": 1}
    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (claimed(task), run)


def test_claim_of_a_moved_task_raises_stale_and_writes_nothing(store: DynamoDbTaskStore) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)

    with pytest.raises(StaleWriteError):
        store.claim(claimed(task), expected_version=3, run=run)

    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, None)


def test_a_second_claim_of_the_same_occurrence_finds_the_run(store: DynamoDbTaskStore) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)
    store.put_run(run)

    with pytest.raises(AlreadyExistsError):
        store.claim(claimed(task), expected_version=4, run=run.evolve(attempt=9))

    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, run)


def test_a_claim_that_loses_both_conditions_reports_the_moved_task(store: DynamoDbTaskStore) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)
    store.claim(claimed(task), expected_version=4, run=run)

    with pytest.raises(StaleWriteError):  # a redelivered link: task moved on and run exists
        store.claim(claimed(task), expected_version=4, run=run)


# --- finish ------------------------------------------------------------------------------------------


def test_finish_saves_run_and_task_in_one_transaction(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)
    store.claim(claimed(task), expected_version=4, run=run)
    done_task = claimed(task).evolve(in_flight=None, last_run_at=OCCURRENCE, fired_count=1)

    with count_aws_calls(dynamodb_client) as calls:
        saved = store.finish(
            completed(run), expected_attempt=1, task=done_task, expected_in_flight=OCCURRENCE
        )

    assert saved is True
    assert calls.counts == {"dynamodb.TransactWriteItems": 1}
    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (done_task, completed(run))


def test_finish_without_a_task_is_one_fenced_put(store: DynamoDbTaskStore, dynamodb_client: Any) -> None:
    run = make_run(make_task(), kind=RunKind.MANUAL)
    store.put_run(run)

    with count_aws_calls(dynamodb_client) as calls:
        assert store.finish(completed(run), expected_attempt=1, task=None, expected_in_flight=None) is True

    assert calls.counts == {"dynamodb.PutItem": 1}
    assert store.get_run(run.tracking_id) == completed(run)


def test_finish_expecting_no_in_flight_claim(store: DynamoDbTaskStore) -> None:
    task = make_task(version=2)
    store.create_task(task)
    run = make_run(task, kind=RunKind.MANUAL)
    store.put_run(run)
    touched = task.evolve(last_run_at=FIRED)

    assert store.finish(completed(run), expected_attempt=1, task=touched, expected_in_flight=None) is True
    assert store.get_task(task.id) == touched


def test_finish_falls_back_to_the_run_alone_when_a_newer_claim_owns_the_task(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)
    store.claim(claimed(task), expected_version=4, run=run)
    # Meanwhile a newer occurrence was claimed: in_flight moved on.
    newer = claimed(task).evolve(version=6, in_flight=OCCURRENCE + timedelta(hours=1))
    store.save_task(newer, expected_version=5)
    stale_task_view = claimed(task).evolve(in_flight=None, fired_count=1)

    with count_aws_calls(dynamodb_client) as calls:
        saved = store.finish(
            completed(run), expected_attempt=1, task=stale_task_view, expected_in_flight=OCCURRENCE
        )

    assert saved is False
    assert calls.counts == {"dynamodb.TransactWriteItems": 1, "dynamodb.PutItem": 1}
    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (newer, completed(run))


def test_finish_when_the_task_is_gone_saves_the_run(store: DynamoDbTaskStore) -> None:
    task = make_task()
    run = make_run(task)
    store.put_run(run)

    assert store.finish(completed(run), expected_attempt=1, task=task, expected_in_flight=None) is False
    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (None, completed(run))


def test_finish_after_another_delivery_took_the_run_over_is_stale(store: DynamoDbTaskStore) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)
    store.claim(claimed(task), expected_version=4, run=run)
    taken_over = run.evolve(attempt=2)
    store.save_run(taken_over, expected_attempt=1)

    with pytest.raises(StaleWriteError):
        store.finish(completed(run), expected_attempt=1, task=task, expected_in_flight=OCCURRENCE)
    with pytest.raises(StaleWriteError):  # even when the task moved too
        store.finish(completed(run), expected_attempt=1, task=task, expected_in_flight=T0)

    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (claimed(task), taken_over)


# --- history -----------------------------------------------------------------------------------------


def test_list_runs_is_newest_first_paginated_and_per_task(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task, other = make_task(), make_task()
    runs = [make_run(task, triggered_at=T0 + timedelta(minutes=index)) for index in range(7)]
    for run in [*runs, make_run(other, triggered_at=T0 + timedelta(minutes=3))]:
        store.put_run(run)

    pages: list[list[Run]] = []
    continuation: dict[str, Any] | None = None
    with count_aws_calls(dynamodb_client) as calls:
        while True:
            page = store.list_runs(task.id, limit=3, continuation=continuation)
            pages.append(page.items)
            if page.continuation is None:
                break
            continuation = json.loads(json.dumps(page.continuation))

    assert [run for items in pages for run in items] == runs[::-1]
    assert [len(items) for items in pages[:3]] == [3, 3, 1]
    assert calls.counts == {"dynamodb.Query": len(pages)}
    assert store.list_runs("c" * 32, limit=3, continuation=None).items == []
