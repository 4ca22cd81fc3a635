"""PATCH: reschedule, change or adjust a recurrence, pause/resume, edit fields; version fencing and re-arming."""

from __future__ import annotations

from datetime import timedelta

import pytest
from punctual.domain.errors import (
    ConflictError,
    NotFoundError,
    PayloadTooLargeError,
    StaleWriteError,
    UnprocessableError,
    ValidationError,
)
from punctual.domain.model import Context, Link, MisfirePolicy, ScheduleKind, Task, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service.commands import CreateTask, ScheduleInput, UpdateTask

from tests.fakes import Services, create_one_time, create_recurring

ACME = Context("acme")


def _patch(**fields: object) -> UpdateTask:
    schedule_fields = {
        key: fields.pop(key) for key in list(fields) if key in ScheduleInput.__dataclass_fields__
    }
    provided = frozenset(schedule_fields) | frozenset(fields)
    return UpdateTask(provided=provided, schedule=ScheduleInput(**schedule_fields), **fields)  # type: ignore[arg-type]


def _in(services: Services, **delta: float) -> str:
    return format_instant(services.clock.now() + timedelta(**delta))


def _armed(services: Services) -> list[Link]:
    return list(services.scheduler.wakes) + [link for link, _ in services.queue.messages]


def test_reschedule_at_moves_the_task_and_swaps_its_link(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=1))
    services.clock.advance(minutes=1)
    updated = services.tasks.update(ACME, task.id, _patch(at=_in(services, hours=3)))

    assert updated.version == 2
    assert updated.next_run_at == services.clock.now() + timedelta(hours=3)
    assert updated.updated_at == services.clock.now()
    assert updated.created_at == task.created_at
    assert services.store.tasks[task.id] == updated
    assert services.scheduler.cancelled == [Link(task.id, 1, task.next_run_at)]  # type: ignore[arg-type]
    assert updated.next_run_at is not None
    assert _armed(services) == [Link(task.id, 2, updated.next_run_at)]
    assert services.metrics.counts["updated"] == 1


def test_a_new_expression_replaces_the_whole_schedule(services: Services) -> None:
    task = create_recurring(services, ACME, every="5 minutes")
    updated = services.tasks.update(ACME, task.id, _patch(cron="0 9 * * *", timezone="Europe/Paris"))
    assert updated.schedule.kind is ScheduleKind.CRON
    assert updated.schedule.every is None
    assert updated.next_run_at is not None
    assert updated.next_run_at > services.clock.now()
    assert Link(task.id, 2, updated.next_run_at) in _armed(services)

    one_time = services.tasks.update(ACME, task.id, _patch(at=_in(services, days=2)))
    assert one_time.schedule.kind is ScheduleKind.AT
    assert not one_time.schedule.recurring
    assert one_time.version == 3


def test_a_new_expression_keeps_the_time_zone_and_bounds_unless_sent(services: Services) -> None:
    end = _in(services, days=30)
    task, _ = services.tasks.create(
        ACME, CreateTask(ScheduleInput(cron="0 9 * * *", timezone="Europe/Berlin", end_at=end))
    )

    kept = services.tasks.update(ACME, task.id, _patch(cron="0 10 * * *"))
    assert kept.schedule.timezone == "Europe/Berlin" and kept.schedule.end_at == task.schedule.end_at
    assert kept.next_run_at is not None and kept.next_run_at.hour == 9  # 10:00 CET is 09:00Z in winter

    moved = services.tasks.update(ACME, task.id, _patch(cron="0 10 * * *", timezone="UTC", end_at=None))
    assert moved.schedule.timezone == "UTC" and moved.schedule.end_at is None

    one_time = services.tasks.update(ACME, task.id, _patch(at=_in(services, hours=5)))
    assert one_time.schedule.kind is ScheduleKind.AT and one_time.schedule.end_at is None


def test_adjusting_the_end_of_an_interval_keeps_its_phase(services: Services) -> None:
    task = create_recurring(services, ACME, every="1 hour")
    services.clock.advance(minutes=20)
    updated = services.tasks.update(ACME, task.id, _patch(end_at=_in(services, days=1)))
    assert updated.schedule.every == "1 hour"
    assert updated.schedule.anchor == task.schedule.anchor
    assert updated.schedule.end_at == services.clock.now() + timedelta(days=1)
    assert updated.next_run_at is not None and task.schedule.anchor is not None
    assert updated.next_run_at >= services.clock.now()
    assert (updated.next_run_at - task.schedule.anchor) % timedelta(hours=1) == timedelta(0)


def test_adjusting_a_recurrence_field_of_a_one_time_task_is_400(services: Services) -> None:
    task = create_one_time(services, ACME)
    for fields in ({"timezone": "Europe/Paris"}, {"end_at": _in(services, days=1)}):
        with pytest.raises(ValidationError):
            services.tasks.update(ACME, task.id, _patch(**fields))
    assert services.store.tasks[task.id] == task
    assert "save_task" not in services.store.calls


def test_an_end_before_the_next_occurrence_is_422_and_changes_nothing(services: Services) -> None:
    task = create_recurring(services, ACME, every="1 hour")
    services.clock.advance(minutes=1)
    with pytest.raises(UnprocessableError):
        services.tasks.update(ACME, task.id, _patch(end_at=_in(services, minutes=5)))
    assert services.store.tasks[task.id] == task


def test_pause_disarms_and_resume_arms_from_now(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=1))
    paused = services.tasks.update(ACME, task.id, _patch(paused=True))
    assert paused.status is TaskStatus.PAUSED
    assert paused.next_run_at is None
    assert paused.version == 2
    assert _armed(services) == []

    services.clock.advance(minutes=10)
    resumed = services.tasks.update(ACME, task.id, _patch(paused=False))
    assert resumed.status is TaskStatus.SCHEDULED
    assert resumed.version == 3
    assert resumed.next_run_at == task.next_run_at  # a one-time task keeps its instant
    assert _armed(services) == [Link(task.id, 3, task.next_run_at)]  # type: ignore[arg-type]


def test_resuming_a_recurrence_starts_from_now_not_from_the_past(services: Services) -> None:
    task = create_recurring(services, ACME, every="5 minutes")
    services.tasks.update(ACME, task.id, _patch(paused=True))
    services.clock.advance(hours=2, seconds=30)
    resumed = services.tasks.update(ACME, task.id, _patch(paused=False))
    assert resumed.next_run_at is not None
    now = services.clock.now()
    assert now <= resumed.next_run_at <= now + timedelta(minutes=5)


def test_rescheduling_a_paused_task_keeps_it_paused(services: Services) -> None:
    task = create_one_time(services, ACME)
    services.tasks.update(ACME, task.id, _patch(paused=True))
    updated = services.tasks.update(ACME, task.id, _patch(at=_in(services, hours=5)))
    assert updated.status is TaskStatus.PAUSED
    assert updated.next_run_at is None
    assert updated.schedule.at == services.clock.now() + timedelta(hours=5)
    assert _armed(services) == []


def test_pausing_twice_is_harmless(services: Services) -> None:
    task = create_one_time(services, ACME)
    services.tasks.update(ACME, task.id, _patch(paused=True))
    again = services.tasks.update(ACME, task.id, _patch(paused=True))
    assert again.status is TaskStatus.PAUSED
    assert _armed(services) == []


def test_paused_must_be_a_boolean(services: Services) -> None:
    task = create_one_time(services, ACME)
    with pytest.raises(ValidationError):
        services.tasks.update(ACME, task.id, _patch(paused=None))


def test_editing_fields_bumps_the_version_and_rearms_the_same_instant(services: Services) -> None:
    task = create_one_time(services, ACME, name="old")
    updated = services.tasks.update(
        ACME,
        task.id,
        _patch(name="new", message={"v": 2}, metadata={"k": "v"}, misfire="skip"),
    )
    assert (updated.name, updated.message, updated.metadata, updated.misfire) == (
        "new",
        {"v": 2},
        {"k": "v"},
        MisfirePolicy.SKIP,
    )
    assert updated.schedule == task.schedule
    assert updated.next_run_at == task.next_run_at
    assert _armed(services) == [Link(task.id, 2, task.next_run_at)]  # type: ignore[arg-type]


def test_fields_not_provided_are_kept_and_provided_nulls_clear(services: Services) -> None:
    task = create_one_time(services, ACME, name="keep", metadata={"k": "v"}, message="m")
    updated = services.tasks.update(ACME, task.id, _patch(name=None))
    assert updated.name is None
    assert (updated.metadata, updated.message) == ({"k": "v"}, "m")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"name": ""}, ValidationError),
        ({"metadata": {"bad key": "v"}}, ValidationError),
        ({"misfire": "never"}, ValidationError),
        ({"message": "m" * 200_001}, PayloadTooLargeError),
        ({"at": "not a time"}, ValidationError),
        ({"at": "2026-02-01T00:00:00Z", "cron": "0 9 * * *"}, ValidationError),
    ],
)
def test_invalid_updates_write_nothing(services: Services, fields: dict[str, object], error: type) -> None:
    task = create_one_time(services, ACME)
    armed = _armed(services)
    with pytest.raises(error):
        services.tasks.update(ACME, task.id, _patch(**fields))
    assert services.store.tasks[task.id] == task
    assert _armed(services) == armed
    assert services.scheduler.cancelled == []


@pytest.mark.parametrize("status", [TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.FAILED])
def test_terminal_tasks_cannot_change(services: Services, status: TaskStatus) -> None:
    task = create_one_time(services, ACME)
    services.store.tasks[task.id] = task.evolve(status=status, next_run_at=None)
    with pytest.raises(ConflictError):
        services.tasks.update(ACME, task.id, _patch(name="x"))


def test_a_task_being_fired_is_409(services: Services) -> None:
    task = create_one_time(services, ACME)
    claimed = task.evolve(in_flight=task.next_run_at)
    services.store.tasks[task.id] = claimed
    with pytest.raises(ConflictError) as caught:
        services.tasks.update(ACME, task.id, _patch(at=_in(services, hours=4)))
    assert "being fired" in caught.value.message
    assert services.store.tasks[task.id] == claimed


def test_another_contexts_task_is_404(services: Services) -> None:
    task = create_one_time(services, ACME)
    with pytest.raises(NotFoundError):
        services.tasks.update(Context("acme", "mallory"), task.id, _patch(name="x"))
    assert services.store.tasks[task.id] == task


def test_a_lost_race_is_retried_on_a_fresh_read(services: Services) -> None:
    task = create_one_time(services, ACME)
    services.store.fail_next("save_task", StaleWriteError())
    updated = services.tasks.update(ACME, task.id, _patch(name="x"))
    assert updated.version == 2
    assert services.store.calls.count("save_task") == 2


def test_a_concurrent_writer_wins_over_stale_data(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The retry re-reads: a cancel that lands between our read and our write makes the update a 409."""
    task = create_one_time(services, ACME)
    original_save = services.store.save_task

    def cancel_then_lose(changed: Task, *, expected_version: int, message_changed: bool = False) -> None:
        monkeypatch.setattr(services.store, "save_task", original_save)
        services.store.tasks[task.id] = task.evolve(status=TaskStatus.CANCELLED, version=2)
        original_save(changed, expected_version=expected_version, message_changed=message_changed)

    monkeypatch.setattr(services.store, "save_task", cancel_then_lose)
    with pytest.raises(ConflictError):
        services.tasks.update(ACME, task.id, _patch(name="x"))
    assert services.store.tasks[task.id].status is TaskStatus.CANCELLED
    assert services.store.tasks[task.id].name is None


def test_losing_every_retry_is_409(services: Services) -> None:
    task = create_one_time(services, ACME)
    services.store.fail_next("save_task", StaleWriteError(), times=3)
    with pytest.raises(ConflictError):
        services.tasks.update(ACME, task.id, _patch(name="x"))
    assert services.store.tasks[task.id] == task


def test_arming_failure_after_the_save_is_left_to_the_sweeper(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=1))
    services.scheduler.fail_next(RuntimeError("scheduler down"))
    updated = services.tasks.update(ACME, task.id, _patch(at=_in(services, hours=2)))
    # Saved, not rolled back; the task is overdue-detectable by the sweeper.
    assert services.store.tasks[task.id] == updated
    assert updated.version == 2
    assert _armed(services) == []
    assert services.metrics.counts["arm_failed"] == 1


def test_disarm_failure_is_ignored(services: Services) -> None:
    task = create_one_time(services, ACME, after=timedelta(hours=1))
    services.scheduler.fail_next(RuntimeError("scheduler down"), method="cancel_wake")
    updated = services.tasks.update(ACME, task.id, _patch(at=_in(services, hours=2)))
    assert services.store.tasks[task.id] == updated
    assert Link(task.id, 2, updated.next_run_at) in services.scheduler.wakes  # type: ignore[arg-type]
