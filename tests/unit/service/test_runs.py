"""Run now, a run by tracking id, and a task's run history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from punctual.domain.errors import ConflictError, DependencyError, NotFoundError, ValidationError
from punctual.domain.model import Context, Link, LinkKind, Run, RunKind, RunStatus, TaskStatus

from tests.fakes import Services, create_one_time, create_recurring

ACME = Context("acme")
ALICE = Context("acme", "alice")
GLOBEX = Context("globex")


def _scheduled_run(services: Services, task_id: str, triggered_at_offset: timedelta) -> Run:
    at = services.clock.now() + triggered_at_offset
    run = Run(
        tracking_id=services.ids.new_id(),
        task_id=task_id,
        context=services.store.tasks[task_id].context,
        kind=RunKind.SCHEDULED,
        status=RunStatus.COMPLETED,
        triggered_at=at,
        scheduled_for=at,
    )
    services.store.runs[run.tracking_id] = run
    return run


def test_run_now_records_a_pending_manual_run_and_enqueues_it_without_delay(services: Services) -> None:
    task = create_one_time(services, ACME, name="report")
    services.clock.advance(minutes=1)
    now = services.clock.now()

    run = services.runs.run_now(ACME, task.id)

    assert run.kind is RunKind.MANUAL
    assert run.status is RunStatus.PENDING
    assert run.task_id == task.id
    assert run.task_name == "report"
    assert run.context == ACME
    assert run.triggered_at == run.scheduled_for == now
    assert len(run.tracking_id) == 32
    assert services.store.runs == {run.tracking_id: run}
    link = Link(task.id, task.version, now, kind=LinkKind.MANUAL, tracking_id=run.tracking_id)
    assert services.queue.messages == [(link, 0)]
    # Running now does not touch the schedule.
    assert services.store.tasks[task.id] == task
    assert services.metrics.counts["run_now"] == 1


def test_each_run_now_gets_its_own_tracking_id(services: Services) -> None:
    task = create_recurring(services, ACME)
    first, second = services.runs.run_now(ACME, task.id), services.runs.run_now(ACME, task.id)
    assert first.tracking_id != second.tracking_id


def test_a_paused_task_can_run_now(services: Services) -> None:
    task = create_recurring(services, ACME)
    services.store.tasks[task.id] = task.evolve(status=TaskStatus.PAUSED, next_run_at=None)
    assert services.runs.run_now(ACME, task.id).status is RunStatus.PENDING


@pytest.mark.parametrize("status", [TaskStatus.CANCELLED, TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_run_now_of_a_finished_task_is_409_and_writes_nothing(services: Services, status: TaskStatus) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=2))
    services.store.tasks[task.id] = task.evolve(status=status, next_run_at=None)
    with pytest.raises(ConflictError):
        services.runs.run_now(ACME, task.id)
    assert services.store.runs == {}
    assert services.queue.messages == []


@pytest.mark.parametrize("other", [GLOBEX, ALICE])
def test_run_now_of_another_contexts_task_is_404(services: Services, other: Context) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=2))
    with pytest.raises(NotFoundError):
        services.runs.run_now(other, task.id)
    with pytest.raises(NotFoundError):
        services.runs.run_now(ACME, "f" * 32)
    assert services.store.runs == {}
    assert services.queue.messages == []


def test_enqueue_failure_leaves_a_failed_run_and_is_503(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=2))
    services.queue.fail_next(RuntimeError("sqs down"))
    with pytest.raises(DependencyError):
        services.runs.run_now(ACME, task.id)
    [run] = services.store.runs.values()
    assert run.status is RunStatus.FAILED
    assert run.error is not None and "sqs down" in run.error
    assert run.completed_at == services.clock.now()
    assert services.queue.messages == []


def test_a_failing_put_enqueues_nothing(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=2))
    services.store.fail_next("put_run", DependencyError("dynamodb down"))
    with pytest.raises(DependencyError):
        services.runs.run_now(ACME, task.id)
    assert services.queue.messages == []


def test_get_returns_a_run_of_the_callers_context(services: Services) -> None:
    task = create_recurring(services, ACME)
    run = services.runs.run_now(ACME, task.id)
    assert services.runs.get(ACME, run.tracking_id) == run


@pytest.mark.parametrize("other", [GLOBEX, ALICE])
def test_another_contexts_run_is_404_like_a_missing_one(services: Services, other: Context) -> None:
    task = create_recurring(services, ACME)
    run = services.runs.run_now(ACME, task.id)
    with pytest.raises(NotFoundError) as foreign:
        services.runs.get(other, run.tracking_id)
    with pytest.raises(NotFoundError) as missing:
        services.runs.get(other, "f" * 32)
    assert foreign.value.details == missing.value.details
    with pytest.raises(NotFoundError):
        services.runs.get(ACME, "")


def test_history_is_newest_first_and_only_this_tasks_runs(services: Services) -> None:
    task = create_recurring(services, ACME)
    other = create_recurring(services, ACME)
    older = _scheduled_run(services, task.id, timedelta(minutes=5))
    newer = _scheduled_run(services, task.id, timedelta(minutes=10))
    _scheduled_run(services, other.id, timedelta(minutes=7))
    services.clock.advance(minutes=11)
    manual = services.runs.run_now(ACME, task.id)

    page = services.runs.history(ACME, task.id, limit=None, cursor=None)
    assert [run.tracking_id for run in page.items] == [
        manual.tracking_id,
        newer.tracking_id,
        older.tracking_id,
    ]
    assert page.next_cursor is None


def test_history_pages_with_a_signed_cursor(services: Services) -> None:
    task = create_recurring(services, ACME)
    runs = [_scheduled_run(services, task.id, timedelta(minutes=5 * i)) for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        page = services.runs.history(ACME, task.id, limit=2, cursor=cursor)
        seen += [run.tracking_id for run in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [run.tracking_id for run in reversed(runs)]


def test_history_rejects_forged_and_foreign_cursors(services: Services) -> None:
    mine = create_recurring(services, ACME)
    theirs = create_recurring(services, GLOBEX)
    for offset in range(3):
        _scheduled_run(services, mine.id, timedelta(minutes=offset))
        _scheduled_run(services, theirs.id, timedelta(minutes=offset))
    foreign_cursor = services.runs.history(GLOBEX, theirs.id, limit=1, cursor=None).next_cursor
    assert foreign_cursor is not None
    for cursor in (foreign_cursor, foreign_cursor[:-2], "garbage"):
        with pytest.raises(ValidationError) as caught:
            services.runs.history(ACME, mine.id, limit=1, cursor=cursor)
        assert [detail.field for detail in caught.value.details] == ["cursor"]


@pytest.mark.parametrize("limit", [0, 101])
def test_history_limits_are_bounded(services: Services, limit: int) -> None:
    task = create_recurring(services, ACME)
    with pytest.raises(ValidationError):
        services.runs.history(ACME, task.id, limit=limit, cursor=None)


@pytest.mark.parametrize("other", [GLOBEX, ALICE])
def test_history_of_another_contexts_task_is_404(services: Services, other: Context) -> None:
    task = create_recurring(services, ACME)
    _scheduled_run(services, task.id, timedelta(minutes=1))
    with pytest.raises(NotFoundError):
        services.runs.history(other, task.id, limit=None, cursor=None)
    assert "list_runs" not in services.store.calls
