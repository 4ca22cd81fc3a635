"""DynamoDbTaskStore: run records, the executor's claim transactions, fenced run writes and run history (moto)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.errors import AlreadyExistsError, StaleWriteError, ThrottledError
from punctual.domain.model import Run, RunKind, RunStatus, Task, TaskStatus
from punctual.service.ports import Claim

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


def test_a_run_keeps_its_status_out_of_the_listing_index(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    run = make_run(make_task(), status=RunStatus.RUNNING)
    store.put_run(run)
    key = {name: {"S": value} for name, value in schema.run_key(run.tracking_id).items()}
    item = dynamodb_client.get_item(TableName=store._table, Key=key)["Item"]

    assert "status" not in item  # GSI1 projects "status": a run's changes would rewrite the index
    assert item["run_status"] == {"S": "running"}

    # A run recorded before the rename still reads back.
    item["status"] = item.pop("run_status")
    dynamodb_client.put_item(TableName=store._table, Item=item)
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


def _stored_with_claims(store: DynamoDbTaskStore, count: int) -> tuple[list[Task], list[Claim]]:
    """``count`` stored tasks at version 4, and a new claim of each (its occurrence's run)."""
    tasks = [make_task(version=4) for _ in range(count)]
    for task in tasks:
        store.create_task(task)
    return tasks, [Claim(claimed(task), 4, make_run(task)) for task in tasks]


def test_claim_all_writes_a_batch_in_one_transaction_per_50_claims(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    _, claims = _stored_with_claims(store, 60)

    with count_aws_calls(dynamodb_client) as calls:
        assert store.claim_all(claims) == [None] * 60

    assert calls.counts == {"dynamodb.TransactWriteItems": 2}  # DynamoDB's 100 items a transaction
    pairs = [(claim.task.id, claim.run.tracking_id) for claim in claims]
    assert store.get_tasks_and_runs(pairs) == [(claim.task, claim.run) for claim in claims]


def test_claim_all_writes_the_others_again_when_one_claim_cancels_the_transaction(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    tasks, claims = _stored_with_claims(store, 3)
    store.save_task(tasks[1].evolve(version=5, status=TaskStatus.CANCELLED), expected_version=4)

    with count_aws_calls(dynamodb_client) as calls:
        results = store.claim_all(claims)

    assert results[0] is None and results[2] is None and isinstance(results[1], StaleWriteError)
    assert calls.counts == {"dynamodb.TransactWriteItems": 2}
    pairs = [(claim.task.id, claim.run.tracking_id) for claim in claims]
    found = store.get_tasks_and_runs(pairs)
    assert found[0] == (claims[0].task, claims[0].run) and found[2] == (claims[2].task, claims[2].run)
    assert found[1][1] is None and found[1][0] is not None and found[1][0].status is TaskStatus.CANCELLED


def _conflicts(monkeypatch: pytest.MonkeyPatch, dynamodb_client: Any, *script: frozenset[int]) -> list[int]:
    """TransactWriteItems as scripted: call n is cancelled with TransactionConflict on the operations in
    ``script[n]`` (a concurrent write to those items, which moto never produces); an empty set, or a call
    past the script, goes through to moto. Returns each call's item count."""
    real = dynamodb_client.transact_write_items
    sizes: list[int] = []

    def transact_write_items(**request: Any) -> Any:
        conflicted = script[len(sizes)] if len(sizes) < len(script) else frozenset()
        sizes.append(len(request["TransactItems"]))
        if conflicted:
            reasons = [
                {"Code": "TransactionConflict" if position in conflicted else "None"}
                for position in range(len(request["TransactItems"]))
            ]
            response: Any = {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": reasons,
            }
            raise ClientError(response, "TransactWriteItems")
        return real(**request)

    monkeypatch.setattr(dynamodb_client, "transact_write_items", transact_write_items)
    return sizes


def test_a_claim_whose_items_met_a_conflict_is_tried_alone_and_never_fails_the_others(
    store: DynamoDbTaskStore, dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, claims = _stored_with_claims(store, 3)
    sizes = _conflicts(monkeypatch, dynamodb_client, frozenset({2}))  # the second claim's task

    assert store.claim_all(claims) == [None, None, None]

    assert sizes == [6, 4, 2]  # all three; the other two together; the conflicted one alone
    pairs = [(claim.task.id, claim.run.tracking_id) for claim in claims]
    assert store.get_tasks_and_runs(pairs) == [(claim.task, claim.run) for claim in claims]


def test_a_claim_that_meets_a_conflict_again_alone_reports_it_and_the_others_are_written(
    store: DynamoDbTaskStore, dynamodb_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    tasks, claims = _stored_with_claims(store, 2)
    # The second claim's run conflicts in the batch, then again when it goes alone (the third call).
    sizes = _conflicts(monkeypatch, dynamodb_client, frozenset({3}), frozenset(), frozenset({1}))

    results = store.claim_all(claims)

    assert sizes == [4, 2, 2]
    assert results[0] is None and isinstance(results[1], ThrottledError)  # retryable: its message comes back
    found = store.get_tasks_and_runs([(claim.task.id, claim.run.tracking_id) for claim in claims])
    assert found == [(claims[0].task, claims[0].run), (tasks[1], None)]


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


def test_a_claim_expecting_an_attempt_replaces_task_and_run_in_one_transaction(
    store: DynamoDbTaskStore, dynamodb_client: Any
) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task, kind=RunKind.MANUAL, status=RunStatus.PENDING, attempt=0, lease_until=None)
    store.put_run(run)
    started = run.evolve(status=RunStatus.RUNNING, attempt=1, lease_until=FIRED + timedelta(seconds=60))
    holding = task.evolve(version=5, in_flight=run.scheduled_for, in_flight_run=run.tracking_id)

    with count_aws_calls(dynamodb_client) as calls:
        store.claim(holding, expected_version=4, run=started, expected_attempt=0)

    assert calls.counts == {"dynamodb.TransactWriteItems": 1}
    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (holding, started)


@pytest.mark.parametrize(
    ("expected_version", "expected_attempt"),
    [(4, 1), (3, 0), (3, 1)],
    ids=["run-moved", "task-moved", "both-moved"],
)
def test_a_claim_expecting_an_attempt_that_loses_a_condition_is_stale_and_writes_nothing(
    store: DynamoDbTaskStore, expected_version: int, expected_attempt: int
) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task, attempt=0)
    store.put_run(run)
    holding = task.evolve(version=5, in_flight=run.scheduled_for, in_flight_run=run.tracking_id)

    with pytest.raises(StaleWriteError):
        store.claim(
            holding,
            expected_version=expected_version,
            run=run.evolve(attempt=1),
            expected_attempt=expected_attempt,
        )

    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, run)


def test_a_claim_expecting_an_attempt_of_a_missing_run_is_stale(store: DynamoDbTaskStore) -> None:
    task = make_task(version=4)
    store.create_task(task)
    run = make_run(task)

    with pytest.raises(StaleWriteError):
        store.claim(claimed(task), expected_version=4, run=run, expected_attempt=0)

    assert store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, None)


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
    read = sum(1 for items in pages if items)  # one read by key of each page that found runs
    assert calls.counts == {"dynamodb.Query": len(pages), "dynamodb.BatchGetItem": read}
    assert store.list_runs("c" * 32, limit=3, continuation=None).items == []
