"""The in-memory fakes honour the port contracts the adapters implement (so service tests mean something)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.model import (
    Context,
    Link,
    Run,
    RunKind,
    RunStatus,
    Schedule,
    ScheduleKind,
    Task,
    TaskStatus,
)
from punctual.service.ports import TaskFilter

from tests.fakes import FakeClock, FakePublisher, FakeQueue, FakeScheduler, FakeStore, SequentialIds

T0 = datetime(2026, 1, 1, tzinfo=UTC)
ACME = Context("acme")


def _task(task_id: str, *, created: int = 0, **changes: object) -> Task:
    task = Task(
        id=task_id,
        context=ACME,
        schedule=Schedule(ScheduleKind.AT, at=T0 + timedelta(hours=1)),
        status=TaskStatus.SCHEDULED,
        version=1,
        created_at=T0 + timedelta(seconds=created),
        updated_at=T0,
        next_run_at=T0 + timedelta(hours=1),
    )
    return task.evolve(**changes)


def _run(tracking_id: str, task_id: str = "t1", *, at: int = 0, attempt: int = 0) -> Run:
    instant = T0 + timedelta(seconds=at)
    return Run(
        tracking_id, task_id, ACME, RunKind.SCHEDULED, RunStatus.RUNNING, instant, instant, attempt=attempt
    )


def test_clock_moves_only_when_told() -> None:
    clock = FakeClock(T0)
    assert clock.now() == T0
    clock.sleep(0.25)
    clock.advance(minutes=1)
    assert clock.now() == T0 + timedelta(minutes=1, seconds=0.25)
    assert clock.sleeps == [0.25]


def test_sequential_ids_are_32_hex() -> None:
    ids = SequentialIds()
    first, second = ids.new_id(), ids.new_id()
    assert first != second
    assert len(first) == 32 and int(first, 16) == 1


def test_create_reserves_the_idempotency_key_per_context() -> None:
    store = FakeStore()
    store.create_task(_task("t1", idempotency_key="k"))
    with pytest.raises(AlreadyExistsError):
        store.create_task(_task("t2", idempotency_key="k"))
    store.create_task(_task("t3", idempotency_key="k", context=Context("acme", "alice")))
    assert store.task_for_idempotency_key(ACME, "k") == store.tasks["t1"]
    store.delete_task(store.tasks["t1"])
    assert store.task_for_idempotency_key(ACME, "k") is None
    store.create_task(_task("t2", idempotency_key="k"))


def test_save_is_conditional_on_the_version() -> None:
    store = FakeStore()
    store.create_task(_task("t1"))
    store.save_task(_task("t1", version=2), expected_version=1)
    with pytest.raises(StaleWriteError):
        store.save_task(_task("t1", version=3), expected_version=1)
    with pytest.raises(StaleWriteError):
        store.save_task(_task("missing", version=2), expected_version=1)
    assert store.tasks["t1"].version == 2


def test_query_is_newest_first_filtered_and_continues() -> None:
    store = FakeStore()
    for index in range(5):
        store.create_task(_task(f"t{index}", created=index, metadata={"n": str(index % 2)}))
    store.create_task(_task("other", created=9, context=Context("globex")))
    page = store.query_tasks(ACME, TaskFilter(metadata={"n": "0"}), limit=2, continuation=None)
    assert [task.id for task in page.items] == ["t4", "t2"]
    assert page.continuation is not None
    rest = store.query_tasks(ACME, TaskFilter(metadata={"n": "0"}), limit=2, continuation=page.continuation)
    assert [task.id for task in rest.items] == ["t0"]
    assert rest.continuation is None


def test_claim_checks_the_task_version_and_the_run() -> None:
    store = FakeStore()
    store.create_task(_task("t1"))
    store.claim(_task("t1", version=2), expected_version=1, run=_run("r1"))
    with pytest.raises(StaleWriteError):
        store.claim(_task("t1", version=3), expected_version=1, run=_run("r2"))
    with pytest.raises(AlreadyExistsError):
        store.claim(_task("t1", version=3), expected_version=2, run=_run("r1"))
    assert store.tasks["t1"].version == 2
    assert set(store.runs) == {"r1"}


def test_claim_with_an_expected_attempt_replaces_the_run_at_that_attempt() -> None:
    store = FakeStore()
    store.create_task(_task("t1"))
    store.put_run(_run("r1", attempt=1))
    with pytest.raises(StaleWriteError):  # the run moved on
        store.claim(_task("t1", version=2), expected_version=1, run=_run("r1", attempt=3), expected_attempt=2)
    with pytest.raises(StaleWriteError):  # a run that does not exist is not at any attempt
        store.claim(_task("t1", version=2), expected_version=1, run=_run("r9", attempt=1), expected_attempt=0)
    with pytest.raises(StaleWriteError):  # the task moved on: nothing written
        store.claim(_task("t1", version=5), expected_version=4, run=_run("r1", attempt=2), expected_attempt=1)
    assert store.tasks["t1"].version == 1
    assert store.runs["r1"].attempt == 1
    assert set(store.runs) == {"r1"}

    store.claim(_task("t1", version=2), expected_version=1, run=_run("r1", attempt=2), expected_attempt=1)
    assert store.tasks["t1"].version == 2
    assert store.runs["r1"].attempt == 2


def test_runs_list_newest_first_with_continuation() -> None:
    store = FakeStore()
    for index in range(3):
        store.put_run(_run(f"r{index}", at=index))
    store.put_run(_run("x", "t2", at=10))
    page = store.list_runs("t1", limit=2, continuation=None)
    assert [run.tracking_id for run in page.items] == ["r2", "r1"]
    rest = store.list_runs("t1", limit=2, continuation=page.continuation)
    assert [run.tracking_id for run in rest.items] == ["r0"]


def test_tasks_needing_attention_uses_in_flight_first_scheduled_and_paused_in_flight() -> None:
    store = FakeStore()
    store.create_task(_task("late", next_run_at=T0))
    store.create_task(_task("stuck", next_run_at=T0 + timedelta(days=1), in_flight=T0 - timedelta(minutes=1)))
    store.create_task(_task("future", next_run_at=T0 + timedelta(hours=1)))
    store.create_task(_task("paused", status=TaskStatus.PAUSED, next_run_at=T0))
    store.create_task(
        _task("manual", status=TaskStatus.PAUSED, next_run_at=None, in_flight=T0 - timedelta(seconds=30))
    )
    store.create_task(_task("cancelled", status=TaskStatus.CANCELLED, in_flight=T0 - timedelta(minutes=2)))
    page = store.tasks_needing_attention(T0, limit=10)
    assert [task.id for task in page.items] == ["stuck", "manual", "late"]
    assert page.continuation is None
    first = store.tasks_needing_attention(T0, limit=1)
    assert [task.id for task in first.items] == ["stuck"]
    assert first.continuation is not None


def test_tasks_needing_attention_pages_through_every_due_task_once_in_order() -> None:
    store = FakeStore()
    for index in range(7):  # pairs share a wake-up: the task id orders them
        store.create_task(_task(f"t{index}", next_run_at=T0 - timedelta(minutes=10 - index // 2)))
    store.create_task(_task("later", next_run_at=T0 + timedelta(seconds=1)))
    expected = [task.id for task in store.tasks_needing_attention(T0, limit=100).items]
    assert expected == [f"t{index}" for index in range(7)]

    seen: list[str] = []
    continuation = None
    pages = 0
    while True:
        page = store.tasks_needing_attention(T0, limit=3, continuation=continuation)
        pages += 1
        assert len(page.items) <= 3
        seen.extend(task.id for task in page.items)
        continuation = page.continuation
        if continuation is None:
            break
        assert set(continuation) == {"after"}
    assert seen == expected
    assert pages == 3


def test_failures_are_injected_once_before_any_effect() -> None:
    store, scheduler, queue, publisher = FakeStore(), FakeScheduler(), FakeQueue(), FakePublisher()
    store.fail_next("create_task", RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        store.create_task(_task("t1"))
    assert store.tasks == {}
    store.create_task(_task("t1"))
    assert store.calls == ["create_task", "create_task"]

    link = Link("t1", 1, T0)
    scheduler.fail_next(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        scheduler.wake_at(link, T0)
    scheduler.wake_at(link, T0)
    scheduler.cancel_wake(link)
    assert scheduler.wakes == {}

    queue.fail_next(RuntimeError("boom"))
    with pytest.raises(RuntimeError):
        queue.enqueue(link, 5)
    queue.enqueue(link, 5)
    assert queue.drain() == [(link, 5)]
    assert queue.messages == []

    publisher.fail_times(2, RuntimeError("boom"))
    results = publisher.publish_batch([None, None, None])  # type: ignore[list-item]
    assert [type(result) for result in results] == [RuntimeError, RuntimeError, str]
    assert publisher.published == [None]
    with pytest.raises(AttributeError):
        store.fail_next("no_such_method", RuntimeError())
