"""Regression tests for the promises an older design broke, one example per break (see each docstring).

Every scenario runs the real use cases over the in-memory fakes with a fake clock. Where a race matters, a
port call of one use case is wrapped so that the other use case runs at exactly that point.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual.domain.errors import ConflictError, DependencyError
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import Context, FiredEvent, Link, LinkKind, Run, RunStatus, Task, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service.commands import ScheduleInput, UpdateTask
from punctual.service.firing import FireOutcome

from tests.fakes import Services, create_one_time, create_recurring, make_services

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
ALICE = Context("tenant-a")


def only_link(s: Services) -> Link:
    """Take the single message off the delay queue (it is then never delivered unless the test fires it)."""
    ((link, _delay),) = s.queue.drain()
    return link


def fire_with_failed_publish(s: Services, link: Link, *, keep_lease: bool = False) -> None:
    """Deliver ``link`` while SNS fails: the run stays RUNNING and the task keeps its in-flight mark. The
    lease is released for the redelivery, unless ``keep_lease`` (the release itself fails too)."""
    s.publisher.fail_next(DependencyError("SNS is down"))
    if keep_lease:
        s.store.fail_next("save_run", DependencyError("DynamoDB is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(link)


def published_for(s: Services, tracking_id: str) -> list[FiredEvent]:
    return [event for event in s.publisher.published if event.tracking_id == tracking_id]


# ---- break 1 ---------------------------------------------------------------------------------------------


def test_a_cancel_answered_200_before_a_manual_run_starts_keeps_it_from_publishing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Break 1: a manual run read PENDING, then a 200 cancel, then the start: the run fails, nothing publishes."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(hours=1))
    run = s.runs.run_now(ALICE, task.id)
    link = only_link(s)
    assert link.kind is LinkKind.MANUAL and link.tracking_id == run.tracking_id

    real_read = s.store.get_tasks_and_runs
    cancelled: list[Task] = []

    def read_then_cancel(pairs: Sequence[tuple[str, str]]) -> list[tuple[Task | None, Run | None]]:
        snapshot = real_read(pairs)  # the executor holds a live task and a PENDING run...
        if not cancelled:  # ...when the cancel commits and answers 200
            cancelled.append(s.tasks.cancel(ALICE, task.id))
        return snapshot

    monkeypatch.setattr(s.store, "get_tasks_and_runs", read_then_cancel)

    outcome = s.firing.fire(link)

    assert cancelled[0].status is TaskStatus.CANCELLED
    assert outcome is FireOutcome.FAILED
    assert published_for(s, run.tracking_id) == []
    assert s.publisher.published == []
    assert s.store.runs[run.tracking_id].status is RunStatus.FAILED
    assert s.store.tasks[task.id].status is TaskStatus.CANCELLED


def test_a_cancel_while_a_manual_run_is_publishing_answers_409(monkeypatch: pytest.MonkeyPatch) -> None:
    """Break 1: once a manual run has started (the task marked in flight), a cancel is a ConflictError."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(hours=1))
    run = s.runs.run_now(ALICE, task.id)
    link = only_link(s)

    real_publish = s.publisher.publish_batch
    answers: list[Task | Exception] = []

    def cancel_then_publish(events: Sequence[FiredEvent]) -> list[str | Exception]:
        assert s.store.tasks[task.id].in_flight_run == run.tracking_id  # the start marked the task
        try:
            answers.append(s.tasks.cancel(ALICE, task.id))
        except ConflictError as error:
            answers.append(error)
        return real_publish(events)

    monkeypatch.setattr(s.publisher, "publish_batch", cancel_then_publish)

    assert s.firing.fire(link) is FireOutcome.PUBLISHED

    (answer,) = answers
    assert isinstance(answer, ConflictError)
    assert len(published_for(s, run.tracking_id)) == 1
    assert s.store.runs[run.tracking_id].status is RunStatus.COMPLETED
    stored = s.store.tasks[task.id]
    assert stored.status is TaskStatus.SCHEDULED and stored.in_flight is None


# ---- break 2 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("took_effect", [False, True], ids=["fails-before-writing", "fails-after-writing"])
@pytest.mark.parametrize("write", ["save_run", "save_task"])
def test_a_finish_failing_once_after_publish_is_retried_in_process_and_never_republished(
    monkeypatch: pytest.MonkeyPatch, took_effect: bool, write: str
) -> None:
    """Break 2: a failed record (the run's write, or its task's release) after a good publish is retried in
    process; the redelivery is a DUPLICATE."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(minutes=5))
    link = only_link(s)
    tracking_id = occurrence_tracking_id(task.id, link.occurrence)

    if took_effect:
        real_write = getattr(s.store, write)
        failures: list[bool] = []

        def write_then_fail(record: Any, **kwargs: Any) -> None:
            real_write(record, **kwargs)
            if not failures:
                failures.append(True)
                raise DependencyError("the response was lost after the write")

        monkeypatch.setattr(s.store, write, write_then_fail)
    else:
        s.store.fail_next(write, DependencyError("throttled"))
    s.clock.set(link.occurrence)

    assert s.firing.fire(link) is FireOutcome.PUBLISHED

    run = s.store.runs[tracking_id]
    assert run.status is RunStatus.COMPLETED and run.attempt == 1
    stored = s.store.tasks[task.id]
    assert stored.status is TaskStatus.COMPLETED and stored.in_flight is None and stored.fired_count == 1
    assert len(s.publisher.published) == 1

    # SQS redelivers the message anyway, at once and after its visibility timeout (past the lease too).
    assert s.firing.fire(link) is FireOutcome.DUPLICATE
    s.clock.advance(seconds=s.settings.lease.total_seconds() + 90)
    assert s.firing.fire(link) is FireOutcome.DUPLICATE

    assert len(s.publisher.published) == 1
    assert s.store.runs[tracking_id].attempt == 1


# ---- break 3 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("repair", ["sweep", "late-delivery"])
def test_a_metadata_patch_does_not_reset_an_overdue_skip_tasks_lateness(repair: str) -> None:
    """Break 3: a PATCH of metadata only leaves a two-hour-late skip occurrence to be SKIPPED, not published."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(minutes=5), misfire="skip")
    occurrence = only_link(s).occurrence  # the link is lost
    s.clock.set(occurrence + timedelta(hours=2))

    patched = s.tasks.update(
        ALICE, task.id, UpdateTask(provided=frozenset({"metadata"}), metadata={"team": "billing"})
    )
    assert patched.next_run_at == occurrence

    relinked = only_link(s)  # the PATCH re-armed the occurrence for the new version
    if repair == "sweep":
        assert s.firing.sweep().skipped == 1
    else:
        assert s.firing.fire(relinked) is FireOutcome.SKIPPED

    run = s.store.runs[occurrence_tracking_id(task.id, occurrence)]
    assert run.status is RunStatus.SKIPPED
    assert run.lateness_ms == 2 * 3600 * 1000
    assert s.publisher.published == []
    assert s.store.tasks[task.id].status is TaskStatus.COMPLETED


# ---- break 4 ---------------------------------------------------------------------------------------------


def test_a_finish_landing_between_the_sweepers_reads_keeps_its_fired_count_and_last_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Break 4: the sweeper never saves its stale snapshot over a finish that landed after it read the task."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(minutes=5))
    link = only_link(s)
    occurrence = link.occurrence
    tracking_id = occurrence_tracking_id(task.id, occurrence)
    s.clock.set(occurrence)
    fire_with_failed_publish(s, link)  # RUNNING, lease released, task in flight
    s.clock.set(occurrence + s.settings.sweep_grace + timedelta(seconds=30))  # past the sweep grace

    real_get_run = s.store.get_run
    redelivered: list[FireOutcome] = []

    def redeliver_then_read(run_id: str) -> Run | None:
        if not redelivered:  # the sweeper holds the in-flight task; the redelivery publishes and finishes
            redelivered.append(s.firing.fire(link))
        return real_get_run(run_id)

    monkeypatch.setattr(s.store, "get_run", redeliver_then_read)

    s.firing.sweep()

    assert redelivered == [FireOutcome.PUBLISHED]
    assert s.store.runs[tracking_id].status is RunStatus.COMPLETED
    stored = s.store.tasks[task.id]
    assert stored.fired_count == 1
    assert stored.last_run_at == occurrence
    assert stored.status is TaskStatus.COMPLETED and stored.in_flight is None
    assert len(s.publisher.published) == 1


def test_the_sweeper_ends_a_one_time_task_whose_failed_run_kept_its_mark_as_failed() -> None:
    """Break 4: a one-time task marked in flight by a FAILED run is cleared by the sweeper to FAILED."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(minutes=5))
    link = only_link(s)
    tracking_id = occurrence_tracking_id(task.id, link.occurrence)
    s.clock.set(link.occurrence)
    fire_with_failed_publish(s, link)
    # The run was recorded FAILED on its own (as an older executor did), and the task kept its mark.
    running = s.store.runs[tracking_id]
    s.store.runs[tracking_id] = running.evolve(
        status=RunStatus.FAILED, completed_at=s.clock.now(), lease_until=None, error="publish failed"
    )
    assert s.store.tasks[task.id].in_flight == link.occurrence
    s.clock.set(link.occurrence + s.settings.sweep_grace + timedelta(seconds=30))

    assert s.firing.sweep().resumed == 1

    stored = s.store.tasks[task.id]
    assert stored.status is TaskStatus.FAILED
    assert stored.in_flight is None and stored.in_flight_run is None
    assert stored.fired_count == 0 and stored.last_run_at is None
    assert s.publisher.published == []


# ---- break 5 ---------------------------------------------------------------------------------------------


def _end_first_occurrence(s: Services, task: Task, how: str) -> datetime:
    """End the recurring task's first occurrence without a publish: FAILED or SKIPPED. Returns its instant."""
    link = only_link(s)
    occurrence = link.occurrence
    if how == "failed":
        s.clock.set(occurrence)
        s.publisher.fail_next(DependencyError("SNS is down"))
        assert s.firing.fire(link) is FireOutcome.FAILED  # max_attempts=1: the only attempt failed
    else:
        s.clock.set(occurrence + s.settings.sweep_grace + timedelta(seconds=10))  # the link was lost
        assert s.firing.sweep().skipped == 1
    return occurrence


@pytest.mark.parametrize("how", ["failed", "skipped"])
def test_rescheduling_onto_an_occurrence_that_already_has_a_run_answers_409(how: str) -> None:
    """Break 5: PATCH {at: X} where X's run is FAILED or SKIPPED (last_run_at unset) is a ConflictError."""
    s = make_services(start=T0, max_attempts=1)
    task = create_recurring(s, ALICE, every="5 minutes", misfire="skip" if how == "skipped" else None)
    occurrence = _end_first_occurrence(s, task, how)
    before = s.store.tasks[task.id]
    assert before.last_run_at is None and before.in_flight is None
    assert s.store.runs[occurrence_tracking_id(task.id, occurrence)].status is RunStatus(how)
    s.queue.drain()

    with pytest.raises(ConflictError):
        s.tasks.update(
            ALICE,
            task.id,
            UpdateTask(provided=frozenset({"at"}), schedule=ScheduleInput(at=format_instant(occurrence))),
        )

    assert s.store.tasks[task.id] == before  # nothing written
    assert s.queue.messages == []  # nothing armed


# ---- break 6 ---------------------------------------------------------------------------------------------


def test_one_sweep_rearms_every_lost_task_behind_a_page_of_leased_ones() -> None:
    """Break 6: in-flight, still-leased tasks filling the first page never hide later lost chains."""
    s = make_services(start=T0, sweep_batch=2)
    leased = [create_one_time(s, ALICE, after=timedelta(minutes=1)) for _ in range(2)]
    lost = [create_one_time(s, ALICE, after=timedelta(seconds=90)) for _ in range(3)]
    links = {link.task_id: link for link, _ in s.queue.drain()}  # every link is taken off the queue

    # The two oldest due entries are in flight, taken over a moment ago by a redelivery: leased for a minute.
    s.clock.set(T0 + timedelta(minutes=1))
    for task in leased:
        fire_with_failed_publish(s, links[task.id])
    s.clock.set(T0 + timedelta(minutes=5))
    for task in leased:
        fire_with_failed_publish(s, links[task.id], keep_lease=True)
    # Past the sweep grace (240 s) for the lost ones too, still inside the leased ones' lease.
    s.clock.set(T0 + timedelta(minutes=5, seconds=30))
    assert s.clock.now() - timedelta(seconds=90) >= T0 + s.settings.sweep_grace
    for task in leased:
        run = s.store.runs[occurrence_tracking_id(task.id, links[task.id].occurrence)]
        assert run.status is RunStatus.RUNNING and run.lease_until is not None
        assert run.lease_until > s.clock.now()
    assert s.queue.drain() == []

    report = s.firing.sweep()

    assert report.examined == 5 and report.rearmed == 3
    rearmed = {link.task_id: link for link, _ in s.queue.messages}
    assert set(rearmed) == {task.id for task in lost}
    for task in lost:
        assert rearmed[task.id].occurrence == links[task.id].occurrence
    assert s.publisher.published == []


# ---- break 7 ---------------------------------------------------------------------------------------------


def test_a_repair_link_held_back_across_later_sweeps_still_fires_the_occurrence_once() -> None:
    """Break 7: later sweeps do not turn a lagging repair link stale; it fires its occurrence exactly once."""
    s = make_services(start=T0)
    task = create_recurring(s, ALICE, every="1 hour")
    occurrence = task.next_run_at
    assert occurrence is not None
    s.scheduler.wakes.clear()  # the EBS wake-up is lost
    s.clock.set(occurrence + s.settings.sweep_grace + timedelta(seconds=30))

    repairs: list[Link] = []
    for _ in range(3):
        assert s.firing.sweep().rearmed == 1
        repairs.extend(link for link, _ in s.queue.drain())  # held back: the queue lags
        s.clock.advance(minutes=1)
    assert len(repairs) == 3

    assert s.firing.fire(repairs[0]) is FireOutcome.PUBLISHED
    for later in repairs[1:]:
        assert s.firing.fire(later) is FireOutcome.DUPLICATE

    (event,) = s.publisher.published
    assert event.scheduled_for == occurrence
    stored = s.store.tasks[task.id]
    assert stored.fired_count == 1 and stored.last_run_at == occurrence
    assert stored.next_run_at == occurrence + timedelta(hours=1)


# ---- break 8 ---------------------------------------------------------------------------------------------


def test_the_sweeper_rearms_a_recently_scheduled_past_instant_through_the_queue_without_publishing() -> None:
    """Break 8: the sweeper never publishes; a skip task not yet late enough to skip is re-armed via the queue."""
    s = make_services(start=T0)
    task = create_one_time(s, ALICE, after=timedelta(hours=1), misfire="skip")
    s.clock.set(T0 + timedelta(hours=2))
    past = T0 + timedelta(minutes=30)
    s.tasks.update(
        ALICE,
        task.id,
        UpdateTask(provided=frozenset({"at"}), schedule=ScheduleInput(at=format_instant(past))),
    )
    only_link(s)  # the PATCH's link is lost
    s.clock.advance(seconds=60)  # less than the sweep grace since the PATCH

    report = s.firing.sweep()

    assert report.rearmed == 1 and report.skipped == 0
    assert s.publisher.published == []
    repair = only_link(s)
    assert repair.occurrence == past

    assert s.firing.fire(repair) is FireOutcome.PUBLISHED
    (event,) = s.publisher.published
    assert event.scheduled_for == past
    assert s.store.runs[occurrence_tracking_id(task.id, past)].status is RunStatus.COMPLETED


# ---- found by a longer campaign: a recurrence changed at the instant that just fired ----------------------


@pytest.mark.parametrize("change", ["cron", "resume"])
def test_a_recurrence_changed_at_the_instant_that_just_fired_arms_the_next_one(change: str) -> None:
    """Seed 108: a cron PATCH landing at the very instant of the occurrence just fired armed that instant
    again; its link met the old run, stopped as a duplicate, and the chain died (P3)."""
    s = make_services(start=T0 - timedelta(minutes=1))
    task = create_recurring(s, ALICE, every="1 minute")
    link = only_link(s)
    fired_at = link.occurrence
    assert fired_at == T0  # on a whole minute, where the new cron matches too
    s.clock.set(fired_at)
    assert s.firing.fire(link) is FireOutcome.PUBLISHED
    s.queue.drain()  # the next occurrence's link: the change below replaces it
    if change == "resume":
        s.tasks.update(ALICE, task.id, UpdateTask(provided=frozenset({"paused"}), paused=True))
        changed = s.tasks.update(ALICE, task.id, UpdateTask(provided=frozenset({"paused"}), paused=False))
    else:
        every_minute = ScheduleInput(cron="* * * * *")
        changed = s.tasks.update(
            ALICE, task.id, UpdateTask(provided=frozenset({"cron"}), schedule=every_minute)
        )

    assert changed.next_run_at == fired_at + timedelta(minutes=1)
    next_link = only_link(s)
    s.clock.set(next_link.occurrence)
    assert s.firing.fire(next_link) is FireOutcome.PUBLISHED
