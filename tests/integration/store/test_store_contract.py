"""One scenario suite, two stores: the in-memory FakeStore the service tests use and DynamoDbTaskStore on
moto must behave the same, so the fake cannot drift from the real thing (ports.TaskStore contract)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.model import Context, Run, RunKind, RunStatus, Task, TaskStatus
from punctual.service.ports import Claim, IdempotentReplay, StorePage, TaskFilter, TaskStore

from tests.fakes import FakeStore
from tests.integration.store.records import T0, TENANT_A, TENANT_A_USER_U, TENANT_B, make_run, make_task

OCCURRENCE = T0 + timedelta(hours=1)
NOW = T0 + timedelta(hours=2)


@pytest.fixture(params=["fake", "dynamodb"])
def any_store(request: pytest.FixtureRequest) -> TaskStore:
    if request.param == "fake":
        return FakeStore()
    store: TaskStore = request.getfixturevalue("store")
    return store


Item = TypeVar("Item")


def every_page(
    fetch: Callable[[dict[str, Any] | None], StorePage[Item]], *, page_limit: int | None = None
) -> list[Item]:
    """Every page's items, in order, each continuation passed back as JSON would carry it. Page boundaries
    may differ between stores (a short page with a continuation is allowed), the sequence may not."""
    found: list[Item] = []
    continuation: dict[str, Any] | None = None
    for _ in range(200):
        page = fetch(continuation)
        if page_limit is not None:
            assert len(page.items) <= page_limit
        found.extend(page.items)
        if page.continuation is None:
            return found
        continuation = json.loads(json.dumps(page.continuation))
    raise AssertionError("pagination did not terminate")


def all_tasks(store: TaskStore, context: Context, task_filter: TaskFilter, *, limit: int) -> list[Task]:
    return every_page(
        lambda continuation: store.query_tasks(context, task_filter, limit=limit, continuation=continuation),
        page_limit=limit,
    )


def all_due(store: TaskStore, before: Any, *, limit: int) -> list[Task]:
    """Every page of the due index, in order (the sweeper's walk)."""
    return every_page(
        lambda continuation: store.tasks_needing_attention(before, limit=limit, continuation=continuation),
        page_limit=limit,
    )


def all_runs(store: TaskStore, task_id: str, *, limit: int) -> list[Run]:
    return every_page(lambda continuation: store.list_runs(task_id, limit=limit, continuation=continuation))


def claimed(task: Task) -> Task:
    return task.evolve(
        version=task.version + 1, in_flight=OCCURRENCE, next_run_at=OCCURRENCE + timedelta(hours=1)
    )


def completed(run: Run) -> Run:
    return run.evolve(
        status=RunStatus.COMPLETED, completed_at=OCCURRENCE, fired_at=OCCURRENCE, lease_until=None
    )


def test_create_get_and_idempotency(any_store: TaskStore) -> None:
    task = make_task(idempotency_key="k", message=["any", {"json": None}], version=3)
    any_store.create_task(task)

    assert any_store.get_task(task.id) == task
    assert any_store.get_task(task.id, consistent=True) == task
    assert any_store.get_task("9" * 32) is None
    assert any_store.task_for_idempotency_key(TENANT_A, "k") == task
    assert any_store.task_for_idempotency_key(TENANT_B, "k") is None
    with pytest.raises(AlreadyExistsError):
        any_store.create_task(make_task(idempotency_key="k"))
    with pytest.raises(AlreadyExistsError):
        any_store.create_task(task.evolve(idempotency_key=None))
    other_context = make_task(context=TENANT_B, idempotency_key="k")
    any_store.create_task(other_context)
    assert any_store.task_for_idempotency_key(TENANT_B, "k") == other_context

    any_store.delete_task(task)
    assert any_store.get_task(task.id) is None
    assert any_store.task_for_idempotency_key(TENANT_A, "k") is None


def test_an_idempotency_reservation_keeps_its_request_fingerprint(any_store: TaskStore) -> None:
    remembered = make_task(idempotency_key="k")
    written_before_fingerprints = make_task(idempotency_key="old")
    any_store.create_task(remembered, request_fingerprint="f" * 64)
    any_store.create_task(written_before_fingerprints)

    assert any_store.idempotent_replay(TENANT_A, "k") == IdempotentReplay(remembered, "f" * 64)
    assert any_store.idempotent_replay(TENANT_A, "old") == IdempotentReplay(written_before_fingerprints, None)
    assert any_store.idempotent_replay(TENANT_B, "k") is None
    assert any_store.idempotent_replay(TENANT_A, "never") is None
    any_store.delete_task(remembered)
    assert any_store.idempotent_replay(TENANT_A, "k") is None


def test_save_task_is_fenced_by_version(any_store: TaskStore) -> None:
    task = make_task(version=2)
    any_store.create_task(task)
    moved = task.evolve(version=3, name="moved")

    any_store.save_task(moved, expected_version=2)
    with pytest.raises(StaleWriteError):
        any_store.save_task(task.evolve(version=3, name="lost"), expected_version=2)
    with pytest.raises(StaleWriteError):
        any_store.save_task(make_task(), expected_version=1)
    assert any_store.get_task(task.id) == moved


def test_query_tasks_isolation_order_filters_and_pages(any_store: TaskStore) -> None:
    statuses = [TaskStatus.SCHEDULED, TaskStatus.PAUSED, TaskStatus.COMPLETED, TaskStatus.CANCELLED]
    tasks = [
        make_task(
            created_at=T0 + timedelta(seconds=index),
            status=statuses[index % 4],
            name="even" if index % 2 == 0 else "odd",
            metadata={"shard": str(index % 3)},
        )
        for index in range(40)
    ]
    others = [make_task(context=context) for context in (TENANT_A_USER_U, TENANT_B)]
    for task in [*tasks, *others]:
        any_store.create_task(task)
    newest_first = tasks[::-1]
    live = frozenset({TaskStatus.SCHEDULED, TaskStatus.PAUSED})
    filters = [
        TaskFilter(),
        TaskFilter(statuses=live),
        TaskFilter(statuses=frozenset({TaskStatus.CANCELLED})),
        TaskFilter(name="even"),
        TaskFilter(metadata={"shard": "1"}),
        TaskFilter(statuses=live, name="odd", metadata={"shard": "2"}),
        TaskFilter(metadata={"missing": "x"}),
    ]

    for task_filter in filters:
        expected = [
            task
            for task in newest_first
            if (task_filter.statuses is None or task.status in task_filter.statuses)
            and (task_filter.name is None or task.name == task_filter.name)
            and all(task.metadata.get(k) == v for k, v in task_filter.metadata.items())
        ]
        for limit in (1, 3, 50):
            assert all_tasks(any_store, TENANT_A, task_filter, limit=limit) == expected, (task_filter, limit)
    assert all_tasks(any_store, TENANT_A_USER_U, TaskFilter(), limit=10) == [others[0]]
    assert all_tasks(any_store, TENANT_B, TaskFilter(), limit=10) == [others[1]]


def test_claim(any_store: TaskStore) -> None:
    task = make_task(version=4)
    any_store.create_task(task)
    run = make_run(task)

    with pytest.raises(StaleWriteError):
        any_store.claim(claimed(task), expected_version=3, run=run)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, None)

    any_store.claim(claimed(task), expected_version=4, run=run)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (claimed(task), run)

    with pytest.raises(StaleWriteError):  # redelivery: the task moved and the run exists
        any_store.claim(claimed(task), expected_version=4, run=run)
    with pytest.raises(AlreadyExistsError):  # the task is at the version, the run exists
        any_store.claim(claimed(claimed(task)), expected_version=5, run=run)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (claimed(task), run)


def test_claim_all_writes_each_claim_or_reports_its_lost_condition(any_store: TaskStore) -> None:
    """A delivered batch's claims in one call: each one as ``claim`` would make it, whatever the others do."""
    fresh, moved, claimed_before, resumed = (make_task(version=4) for _ in range(4))
    for task in (fresh, moved, claimed_before, resumed):
        any_store.create_task(task)
    fresh_run, moved_run, existing_run, held = (
        make_run(task) for task in (fresh, moved, claimed_before, resumed)
    )
    any_store.claim(claimed(claimed_before), expected_version=4, run=existing_run)
    any_store.claim(claimed(resumed), expected_version=4, run=held)
    taken_over = held.evolve(attempt=2)
    claims = [
        Claim(claimed(fresh), 4, fresh_run),
        Claim(claimed(moved), 3, moved_run),  # a cancel or a PATCH moved it since the read
        Claim(
            claimed(claimed(claimed_before)), 5, existing_run
        ),  # the task is at the version, the run exists
        Claim(claimed(claimed(resumed)), 5, taken_over, expected_attempt=1),
    ]

    results = any_store.claim_all(claims)

    assert results[0] is None and results[3] is None
    assert isinstance(results[1], StaleWriteError)
    assert isinstance(results[2], AlreadyExistsError)
    pairs = [(claim.task.id, claim.run.tracking_id) for claim in claims]
    assert any_store.get_tasks_and_runs(pairs) == [
        (claimed(fresh), fresh_run),
        (moved, None),
        (claimed(claimed_before), existing_run),
        (claimed(claimed(resumed)), taken_over),
    ]
    assert any_store.claim_all([]) == []


def test_claim_expecting_an_attempt(any_store: TaskStore) -> None:
    """A manual start or a take-over: the run exists, and is replaced only at the attempt it was read at."""
    task = make_task(version=4, schedule_changed_at=T0)
    any_store.create_task(task)
    run = make_run(task, kind=RunKind.MANUAL, status=RunStatus.PENDING, attempt=0, lease_until=None)
    any_store.put_run(run)
    started = run.evolve(status=RunStatus.RUNNING, attempt=1, lease_until=NOW)
    holding = task.evolve(version=5, in_flight=run.scheduled_for, in_flight_run=run.tracking_id)

    with pytest.raises(StaleWriteError):  # the run moved on
        any_store.claim(holding, expected_version=4, run=started, expected_attempt=1)
    with pytest.raises(StaleWriteError):  # the task moved on
        any_store.claim(holding, expected_version=3, run=started, expected_attempt=0)
    with pytest.raises(StaleWriteError):  # no such run: it is at no attempt (never AlreadyExists)
        any_store.claim(holding, expected_version=4, run=make_run(task), expected_attempt=0)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (task, run)

    any_store.claim(holding, expected_version=4, run=started, expected_attempt=0)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (holding, started)
    with pytest.raises(StaleWriteError):  # the same start again: both moved
        any_store.claim(holding, expected_version=4, run=started, expected_attempt=0)

    taken = started.evolve(attempt=2)
    again = holding.evolve(version=6)
    any_store.claim(again, expected_version=5, run=taken, expected_attempt=1)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (again, taken)


def test_runs_put_save_and_history(any_store: TaskStore) -> None:
    task = make_task()
    runs = [make_run(task, triggered_at=T0 + timedelta(minutes=index)) for index in range(5)]
    for run in [*runs, make_run(make_task())]:
        any_store.put_run(run)

    with pytest.raises(AlreadyExistsError):
        any_store.put_run(runs[0])
    any_store.save_run(runs[0].evolve(attempt=2), expected_attempt=1)
    with pytest.raises(StaleWriteError):
        any_store.save_run(runs[0].evolve(attempt=3), expected_attempt=1)
    with pytest.raises(StaleWriteError):
        any_store.save_run(make_run(task), expected_attempt=0)
    assert any_store.get_run(runs[0].tracking_id) == runs[0].evolve(attempt=2)
    assert any_store.get_run("8" * 32) is None

    expected = [runs[0].evolve(attempt=2) if run is runs[0] else run for run in runs[::-1]]
    for limit in (1, 2, 5, 10):
        assert all_runs(any_store, task.id, limit=limit) == expected


def test_a_finish_saves_the_run_then_releases_the_task_each_write_fenced(any_store: TaskStore) -> None:
    """The executor's finish (FiringService._record): the ended run at the attempt it holds, then the task's
    release at the version it was read at, two single-item writes."""
    task = make_task(version=4)
    any_store.create_task(task)
    run = make_run(task)
    holding = claimed(task).evolve(in_flight_run=run.tracking_id)
    any_store.claim(holding, expected_version=4, run=run)
    released = holding.evolve(version=6, in_flight=None, in_flight_run=None, fired_count=1)

    # Another delivery took the run over (the attempt moved): the late one's record is refused.
    with pytest.raises(StaleWriteError):
        any_store.save_run(completed(run), expected_attempt=2)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (holding, run)

    # The run is recorded on its own; a release from a snapshot the task has left is refused, writing nothing.
    any_store.save_run(completed(run), expected_attempt=1)
    with pytest.raises(StaleWriteError):
        any_store.save_task(released, expected_version=4)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (holding, completed(run))

    # Released from a fresh read; the same release again (a redelivery's stale snapshot) is refused.
    any_store.save_task(released, expected_version=5)
    with pytest.raises(StaleWriteError):
        any_store.save_task(released, expected_version=5)
    assert any_store.get_tasks_and_runs([(task.id, run.tracking_id)])[0] == (released, completed(run))

    # A run whose task is gone is still recorded; the release does not bring the task back.
    orphan = make_run(make_task())
    any_store.put_run(orphan)
    any_store.save_run(completed(orphan), expected_attempt=1)
    with pytest.raises(StaleWriteError):
        any_store.save_task(make_task(), expected_version=1)
    assert any_store.get_run(orphan.tracking_id) == completed(orphan)
    assert any_store.get_task(orphan.task_id) is None


def test_tasks_needing_attention(any_store: TaskStore) -> None:
    due = [make_task(next_run_at=NOW - timedelta(minutes=minutes)) for minutes in (7, 1, 30, 12, 0)]
    due.append(make_task(next_run_at=NOW - timedelta(minutes=7)))  # a tie: the id orders it
    stuck = make_task(next_run_at=NOW + timedelta(hours=1), in_flight=NOW - timedelta(minutes=20))
    manual = make_task(  # paused, with a manual run in flight
        status=TaskStatus.PAUSED,
        next_run_at=None,
        in_flight=NOW - timedelta(minutes=3),
        in_flight_run="f" * 32,
    )
    not_due = [
        make_task(next_run_at=NOW + timedelta(microseconds=1)),
        make_task(next_run_at=NOW - timedelta(hours=1), in_flight=NOW + timedelta(minutes=1)),
        make_task(next_run_at=None),
        make_task(status=TaskStatus.PAUSED, next_run_at=None, in_flight=NOW + timedelta(seconds=1)),
        *(
            make_task(next_run_at=NOW - timedelta(minutes=5), status=status)
            for status in (TaskStatus.PAUSED, TaskStatus.CANCELLED, TaskStatus.COMPLETED, TaskStatus.FAILED)
        ),
    ]
    for task in [*due, stuck, manual, *not_due]:
        any_store.create_task(task)

    def wake(task: Task) -> Any:
        return task.in_flight or task.next_run_at

    expected = sorted([*due, stuck, manual], key=lambda task: (wake(task), task.id))
    whole = any_store.tasks_needing_attention(NOW, limit=100)
    assert whole.items == expected and whole.continuation is None
    first = any_store.tasks_needing_attention(NOW, limit=3)
    assert first.items == expected[:3] and first.continuation is not None
    for limit in (1, 2, 3, 7, 8, 100):  # every due task once, oldest first, however it is paged
        assert all_due(any_store, NOW, limit=limit) == expected


def test_get_tasks_and_runs_answers_each_pair_in_order(any_store: TaskStore) -> None:
    first, second = make_task(), make_task(id="b" * 32)
    any_store.create_task(first)
    any_store.create_task(second)
    run = make_run(first)
    any_store.claim(claimed(first), expected_version=first.version, run=run)
    absent_run, absent_task = "e" * 32, "d" * 32

    found = any_store.get_tasks_and_runs(
        [
            (second.id, absent_run),
            (first.id, run.tracking_id),
            (absent_task, absent_run),
            (first.id, run.tracking_id),  # the same pair twice (a duplicated message): answered twice
        ]
    )

    assert found == [(second, None), (claimed(first), run), (None, None), (claimed(first), run)]
    assert any_store.get_tasks_and_runs([]) == []
