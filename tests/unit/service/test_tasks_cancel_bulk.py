"""Cancel (idempotent, 409 once fired or claimed) and the bulk operations with per-item results."""

from __future__ import annotations

from datetime import timedelta

import pytest
from punctual.domain.errors import (
    ConflictError,
    DependencyError,
    NotFoundError,
    StaleWriteError,
    ValidationError,
)
from punctual.domain.model import Context, Link, Task, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service import tasks as tasks_module
from punctual.service.commands import BulkDelete, BulkReschedule, RescheduleItem, TaskFilterInput

from tests.fakes import Services, create_one_time, create_recurring, make_services

ACME = Context("acme")
ALICE = Context("acme", "alice")
GLOBEX = Context("globex")


def _in(services: Services, **delta: float) -> str:
    return format_instant(services.clock.now() + timedelta(**delta))


# --- cancel ------------------------------------------------------------------------------------


def test_cancel_bumps_the_version_and_removes_the_wake_up(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=1))
    services.clock.advance(seconds=5)
    cancelled = services.tasks.cancel(ACME, task.id)
    assert cancelled.status is TaskStatus.CANCELLED
    assert cancelled.next_run_at is None
    assert cancelled.version == 2
    assert cancelled.updated_at == services.clock.now()
    assert services.store.tasks[task.id] == cancelled
    assert services.scheduler.wakes == {}
    assert services.scheduler.cancelled == [Link(task.id, 1, task.next_run_at)]  # type: ignore[arg-type]
    assert services.metrics.counts["cancelled"] == 1


def test_cancelling_a_queued_occurrence_leaves_a_stale_link(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(minutes=2))
    [(link, _)] = services.queue.messages
    cancelled = services.tasks.cancel(ACME, task.id)
    # SQS messages cannot be recalled: the executor ignores the link because the version moved on.
    assert link.version != cancelled.version
    assert services.scheduler.calls == []


def test_cancel_is_idempotent(services: Services) -> None:
    task = create_one_time(services, ACME)
    first = services.tasks.cancel(ACME, task.id)
    again = services.tasks.cancel(ACME, task.id)
    assert again == first
    assert services.metrics.counts["cancelled"] == 1


def test_a_paused_task_can_be_cancelled(services: Services) -> None:
    task = create_recurring(services, ACME)
    services.store.tasks[task.id] = task.evolve(status=TaskStatus.PAUSED, next_run_at=None)
    assert services.tasks.cancel(ACME, task.id).status is TaskStatus.CANCELLED


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.FAILED])
def test_cancelling_a_fired_task_is_409(services: Services, status: TaskStatus) -> None:
    task = create_one_time(services, ACME)
    fired = task.evolve(status=status, next_run_at=None, version=2)
    services.store.tasks[task.id] = fired
    with pytest.raises(ConflictError) as caught:
        services.tasks.cancel(ACME, task.id)
    assert "already fired" in caught.value.message
    assert services.store.tasks[task.id] == fired


def test_cancelling_a_claimed_occurrence_is_409(services: Services) -> None:
    task = create_recurring(services, ACME)
    claimed = task.evolve(in_flight=task.next_run_at)
    services.store.tasks[task.id] = claimed
    with pytest.raises(ConflictError):
        services.tasks.cancel(ACME, task.id)
    assert services.store.tasks[task.id] == claimed


@pytest.mark.parametrize("other", [GLOBEX, ALICE])
def test_cancelling_another_contexts_task_is_404(services: Services, other: Context) -> None:
    task = create_one_time(services, ACME)
    with pytest.raises(NotFoundError):
        services.tasks.cancel(other, task.id)
    assert services.store.tasks[task.id] == task


def test_cancel_retries_a_lost_race(services: Services) -> None:
    task = create_one_time(services, ACME)
    services.store.fail_next("save_task", StaleWriteError())
    assert services.tasks.cancel(ACME, task.id).status is TaskStatus.CANCELLED


def test_cancel_gives_up_with_409_after_repeated_races(services: Services) -> None:
    task = create_one_time(services, ACME)
    services.store.fail_next("save_task", StaleWriteError(), times=3)
    with pytest.raises(ConflictError):
        services.tasks.cancel(ACME, task.id)


# --- bulk delete -------------------------------------------------------------------------------


def test_bulk_delete_by_ids_reports_each_item(services: Services) -> None:
    mine = create_one_time(services, ACME)
    theirs = create_one_time(services, GLOBEX)
    fired = create_one_time(services, ACME)
    services.store.tasks[fired.id] = fired.evolve(status=TaskStatus.COMPLETED, next_run_at=None)

    results = services.tasks.bulk_delete(ACME, BulkDelete(ids=[mine.id, "f" * 32, theirs.id, fired.id]))

    assert [result.id for result in results] == [mine.id, "f" * 32, theirs.id, fired.id]
    assert results[0].ok
    assert results[0].task is not None and results[0].task.status is TaskStatus.CANCELLED
    assert isinstance(results[1].error, NotFoundError)
    assert isinstance(results[2].error, NotFoundError)
    assert isinstance(results[3].error, ConflictError)
    assert services.store.tasks[theirs.id] == theirs


def test_bulk_delete_processes_a_repeated_id_once(services: Services) -> None:
    task = create_one_time(services, ACME)
    results = services.tasks.bulk_delete(ACME, BulkDelete(ids=[task.id, task.id]))
    assert [result.id for result in results] == [task.id]


def test_bulk_delete_needs_exactly_one_of_ids_and_filter(services: Services) -> None:
    with pytest.raises(ValidationError):
        services.tasks.bulk_delete(ACME, BulkDelete())
    with pytest.raises(ValidationError):
        services.tasks.bulk_delete(ACME, BulkDelete(ids=["a"], filter=TaskFilterInput()))


def test_bulk_delete_id_count_is_bounded() -> None:
    services = make_services(max_bulk_items=2)
    with pytest.raises(ValidationError):
        services.tasks.bulk_delete(ACME, BulkDelete(ids=[]))
    with pytest.raises(ValidationError):
        services.tasks.bulk_delete(ACME, BulkDelete(ids=["a", "b", "c"]))
    assert services.store.calls == []


def test_bulk_delete_by_filter_cancels_only_matching_tasks_of_the_context(services: Services) -> None:
    prod = [create_one_time(services, ACME, metadata={"env": "prod"}) for _ in range(3)]
    dev = create_one_time(services, ACME, metadata={"env": "dev"})
    other = create_one_time(services, GLOBEX, metadata={"env": "prod"})

    results = services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput(metadata={"env": "prod"})))

    assert sorted(result.id for result in results) == sorted(task.id for task in prod)
    assert all(result.ok for result in results)
    assert all(services.store.tasks[task.id].status is TaskStatus.CANCELLED for task in prod)
    assert services.store.tasks[dev.id].status is TaskStatus.SCHEDULED
    assert services.store.tasks[other.id].status is TaskStatus.SCHEDULED


def test_an_empty_filter_cancels_every_live_task_of_the_context(services: Services) -> None:
    live = [create_one_time(services, ACME), create_recurring(services, ACME)]
    done = create_one_time(services, ACME)
    services.store.tasks[done.id] = done.evolve(status=TaskStatus.COMPLETED, next_run_at=None)
    user_task = create_one_time(services, ALICE)

    results = services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput()))

    assert sorted(result.id for result in results) == sorted(task.id for task in live)
    assert services.store.tasks[done.id].status is TaskStatus.COMPLETED
    assert services.store.tasks[user_task.id].status is TaskStatus.SCHEDULED


def test_a_filter_over_every_status_still_only_touches_live_tasks(services: Services) -> None:
    live = create_one_time(services, ACME)
    done = create_one_time(services, ACME)
    services.store.tasks[done.id] = done.evolve(status=TaskStatus.COMPLETED, next_run_at=None)

    results = services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput(status="all")))

    assert [result.id for result in results] == [live.id]  # so repeating the call always makes progress
    assert services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput(status="all"))) == []


def test_filtered_bulk_delete_pages_and_stops_at_the_cap(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tasks_module, "BULK_FILTER_CAP", 5)
    monkeypatch.setattr(tasks_module, "_BULK_PAGE", 2)
    created = []
    for _ in range(7):
        created.append(create_one_time(services, ACME))
        services.clock.advance(seconds=1)

    results = services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput()))

    newest_first = [task.id for task in reversed(created)]
    assert [result.id for result in results] == newest_first[:5]
    assert services.store.calls.count("query_tasks") == 3
    # The caller repeats the call for the rest.
    rest = services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput()))
    assert [result.id for result in rest] == newest_first[5:]


def test_a_bad_filter_is_400(services: Services) -> None:
    with pytest.raises(ValidationError):
        services.tasks.bulk_delete(ACME, BulkDelete(filter=TaskFilterInput(status="nope")))


def test_an_item_whose_write_fails_is_reported_not_raised(services: Services) -> None:
    first, second = create_one_time(services, ACME), create_one_time(services, ACME)
    services.store.fail_next("save_task", DependencyError("dynamodb down"))
    results = services.tasks.bulk_delete(ACME, BulkDelete(ids=[first.id, second.id]))
    assert isinstance(results[0].error, DependencyError)
    assert results[1].ok


# --- bulk reschedule ---------------------------------------------------------------------------


def test_bulk_reschedule_moves_one_time_tasks_and_reports_each_item(services: Services) -> None:
    one_time = create_one_time(services, ACME)
    recurring = create_recurring(services, ACME)
    foreign = create_one_time(services, GLOBEX)
    new_at = _in(services, hours=6)

    results = services.tasks.bulk_reschedule(
        ACME,
        BulkReschedule(
            updates=[
                RescheduleItem(one_time.id, new_at),
                RescheduleItem(recurring.id, new_at),
                RescheduleItem(foreign.id, new_at),
                RescheduleItem("f" * 32, new_at),
                RescheduleItem(one_time.id, "not a time"),
            ]
        ),
    )

    assert results[0].ok
    moved: Task | None = results[0].task
    assert moved is not None and moved.next_run_at == services.clock.now() + timedelta(hours=6)
    assert Link(one_time.id, 2, moved.next_run_at) in services.scheduler.wakes
    assert isinstance(results[1].error, ConflictError)
    assert "PATCH" in results[1].error.message
    assert isinstance(results[2].error, NotFoundError)
    assert isinstance(results[3].error, NotFoundError)
    assert isinstance(results[4].error, ValidationError)
    assert services.store.tasks[recurring.id] == recurring
    assert services.store.tasks[foreign.id] == foreign


def test_bulk_reschedule_count_is_bounded() -> None:
    services = make_services(max_bulk_items=1)
    with pytest.raises(ValidationError):
        services.tasks.bulk_reschedule(ACME, BulkReschedule(updates=[]))
    with pytest.raises(ValidationError):
        services.tasks.bulk_reschedule(
            ACME, BulkReschedule(updates=[RescheduleItem("a", "2026-02-01T00:00:00Z")] * 2)
        )
