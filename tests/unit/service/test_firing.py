"""The fire path's invariants, over in-memory fakes with an injected clock (no I/O, no real sleeping)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from punctual.domain.errors import ConflictError, DependencyError, StaleWriteError, ThrottledError
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import (
    Context,
    Link,
    LinkKind,
    MisfirePolicy,
    RunKind,
    RunStatus,
    Schedule,
    ScheduleKind,
    Task,
    TaskStatus,
)
from punctual.service.firing import FireOutcome, OccurrenceBusy
from punctual.service.ports import Claim

from tests.fakes import Services, make_services

T0 = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)
ALICE = Context("tenant-a")


def add_task(
    s: Services,
    schedule: Schedule,
    first: datetime,
    *,
    misfire: MisfirePolicy = MisfirePolicy.FIRE_ONCE,
    task_id: str = "a" * 32,
) -> Link:
    """Store a scheduled task whose first occurrence is ``first`` and arm it, as TaskService.create does."""
    now = s.clock.now()
    task = Task(
        id=task_id,
        context=ALICE,
        schedule=schedule,
        status=TaskStatus.SCHEDULED,
        version=1,
        created_at=now,
        updated_at=now,
        next_run_at=first,
        name="billOnDemand",
        message={"name": "Luke"},
        metadata={"env": "prod"},
        misfire=misfire,
    )
    s.store.tasks[task.id] = task
    link = Link(task.id, 1, first)
    s.arming.arm(link, now)
    return link


def at(instant: datetime) -> Schedule:
    return Schedule(kind=ScheduleKind.AT, at=instant)


def one_time_task_due_now() -> tuple[Services, Link]:
    """A one-time task at T0, armed ten seconds before; its link taken off the queue and the clock at T0."""
    s = make_services(start=T0 - timedelta(seconds=10))
    add_task(s, at(T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0)
    return s, link


def every(seconds: int, anchor: datetime) -> Schedule:
    return Schedule(kind=ScheduleKind.EVERY, every=f"{seconds} seconds", every_seconds=seconds, anchor=anchor)


def deliver_next(s: Services) -> tuple[Link, FireOutcome]:
    """Play EBS and SQS for the single armed link: wake it if EBS holds it, then deliver it when its delay
    elapses (landing a little before the instant, as SQS does), and fire it."""
    if s.scheduler.wakes:
        assert len(s.scheduler.wakes) == 1, s.scheduler.wakes
        link, wake = s.scheduler.wakes.popitem()
        s.clock.set(max(s.clock.now(), wake + timedelta(seconds=20)))  # EBS: somewhere in the minute
        s.firing.wake(link)
    messages = s.queue.drain()
    assert len(messages) == 1, messages
    link, _delay = messages[0]
    s.clock.set(max(s.clock.now(), link.occurrence - timedelta(milliseconds=300)))
    return link, s.firing.fire(link)


def test_ebs_wake_early_queues_the_link_with_the_remaining_whole_seconds() -> None:
    s = make_services(start=T0 - timedelta(hours=3))
    occurrence = T0
    add_task(s, at(occurrence), occurrence)
    ((link, wake),) = s.scheduler.wakes.items()
    assert wake == occurrence - timedelta(minutes=2)
    s.clock.set(wake + timedelta(seconds=37, milliseconds=400))  # EBS fires late inside its minute

    s.firing.wake(link)

    assert s.queue.messages == [(link, 82)]  # floor(120 - 37.4)
    assert s.publisher.published == []


def test_a_due_message_publishes_exactly_once_on_the_second() -> None:
    s = make_services(start=T0 - timedelta(minutes=5))
    add_task(s, at(T0), T0)
    link, delay = s.queue.drain()[0]
    assert delay == 300
    s.clock.set(T0 - timedelta(milliseconds=400))

    assert s.firing.fire(link) == FireOutcome.PUBLISHED

    assert s.clock.sleeps == [pytest.approx(0.4)]
    (event,) = s.publisher.published
    body = event.body()
    assert body["type"] == "task.fired"
    assert body["task_id"] == link.task_id
    assert body["scheduled_for"] == "2026-12-01T09:00:00Z"
    assert body["fired_at"] == "2026-12-01T09:00:00Z"
    assert body["lateness_ms"] == 0
    assert body["message"] == {"name": "Luke"}
    assert body["metadata"] == {"env": "prod"}
    assert body["dedup_key"] == f"{link.task_id}#2026-12-01T09:00:00Z"
    assert body["tracking_id"] == occurrence_tracking_id(link.task_id, T0)
    assert event.tenant == "tenant-a"
    run = s.store.runs[occurrence_tracking_id(link.task_id, T0)]
    assert run.status is RunStatus.COMPLETED and run.lateness_ms == 0 and run.attempt == 1
    task = s.store.tasks[link.task_id]
    assert task.status is TaskStatus.COMPLETED and task.in_flight is None and task.fired_count == 1
    assert s.metrics.counts["fired"] == 1 and s.metrics.latenesses == [0]


def test_the_same_link_delivered_twice_publishes_once() -> None:
    s, link = one_time_task_due_now()

    assert s.firing.fire(link) == FireOutcome.PUBLISHED
    assert s.firing.fire(link) == FireOutcome.DUPLICATE

    assert len(s.publisher.published) == 1


@pytest.mark.parametrize(
    "move",
    [
        # rescheduled: the old link's occurrence is gone
        lambda task: task.evolve(
            version=2, schedule=at(T0 + timedelta(hours=1)), next_run_at=T0 + timedelta(hours=1)
        ),
        # paused, next_run_at left as it was
        lambda task: task.evolve(version=2, status=TaskStatus.PAUSED),
    ],
    ids=["occurrence-no-longer-next", "task-no-longer-scheduled"],
)
def test_a_link_the_task_moved_away_from_is_a_no_op(move: Callable[[Task], Task]) -> None:
    s = make_services(start=T0 - timedelta(seconds=10))
    add_task(s, at(T0), T0)
    link, _ = s.queue.drain()[0]
    s.store.tasks[link.task_id] = move(s.store.tasks[link.task_id])
    s.clock.set(T0)

    assert s.firing.fire(link) == FireOutcome.STALE
    assert s.publisher.published == []
    assert s.store.runs == {}


def test_an_older_link_version_of_the_same_occurrence_still_fires_once() -> None:
    # Every write bumps the version (claims and finishes too), so the version is not part of the check:
    # the occurrence decides, and its derived tracking id makes a second link for it a duplicate.
    s = make_services(start=T0 - timedelta(seconds=10))
    add_task(s, at(T0), T0)
    old, _ = s.queue.drain()[0]
    task = s.store.tasks[old.task_id]
    s.store.tasks[task.id] = task.evolve(version=2)  # rescheduled to the same instant: a new link exists
    new = Link(task.id, 2, T0)
    s.clock.set(T0)

    assert s.firing.fire(old) == FireOutcome.PUBLISHED
    assert s.firing.fire(new) == FireOutcome.DUPLICATE
    assert len(s.publisher.published) == 1


def test_a_cancel_that_wins_the_race_with_the_claim_prevents_the_publish() -> None:
    s, link = one_time_task_due_now()
    original_claim_all = s.store.claim_all

    def cancel_then_claim(claims: list[Claim]) -> list[Exception | None]:
        for claim in claims:
            stored = s.store.tasks[claim.task.id]
            s.store.tasks[claim.task.id] = stored.evolve(
                status=TaskStatus.CANCELLED, version=stored.version + 1
            )
        return original_claim_all(claims)

    s.store.claim_all = cancel_then_claim  # type: ignore[method-assign]

    assert s.firing.fire(link) == FireOutcome.STALE
    assert s.publisher.published == []
    assert s.store.runs == {}


def test_publish_failure_is_retried_and_the_recurring_chain_stays_armed() -> None:
    s = make_services(start=T0 - timedelta(seconds=30))
    add_task(s, every(60, T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.publisher.fail_next(DependencyError("SNS is down"))

    with pytest.raises(DependencyError):
        s.firing.fire(link)

    # The next occurrence was armed before the publish was attempted.
    ((next_link, delay),) = s.queue.drain()
    assert next_link.occurrence == T0 + timedelta(minutes=1) and delay == 60
    run = s.store.runs[occurrence_tracking_id(link.task_id, T0)]
    assert run.status is RunStatus.RUNNING and run.error == "publish failed: SNS is down"
    assert run.lease_until == s.clock.now()  # released so the redelivery can take over at once

    s.clock.advance(seconds=30)  # the visibility timeout elapses; SQS redelivers
    assert s.firing.fire(link) == FireOutcome.PUBLISHED
    (event,) = s.publisher.published
    assert event.attempt == 2 and event.scheduled_for == T0 and event.lateness_ms == 30_000
    assert s.store.tasks[link.task_id].in_flight is None
    assert s.store.runs[run.tracking_id].status is RunStatus.COMPLETED


def test_cancel_or_reschedule_of_a_claimed_occurrence_is_409() -> None:
    s, link = one_time_task_due_now()
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(link)

    with pytest.raises(ConflictError):
        s.tasks.cancel(ALICE, link.task_id)
    from punctual.service.commands import ScheduleInput, UpdateTask

    with pytest.raises(ConflictError):
        s.tasks.update(
            ALICE,
            link.task_id,
            UpdateTask(provided=frozenset({"at"}), schedule=ScheduleInput(at="2026-12-02T00:00:00Z")),
        )


def test_a_delivery_while_another_holds_the_lease_is_retried_not_dropped() -> None:
    s, link = one_time_task_due_now()
    # Every in-process attempt to record the published run fails: the message goes back for redelivery.
    failures = s.settings.record_attempts
    s.store.fail_next("save_run", RuntimeError("DynamoDB unreachable after publishing"), times=failures)
    with pytest.raises(RuntimeError):
        s.firing.fire(link)
    assert s.store.calls.count("save_run") == failures
    assert len(s.publisher.published) == 1

    with pytest.raises(OccurrenceBusy):
        s.firing.fire(link)
    assert len(s.publisher.published) == 1


def test_a_failed_record_of_a_published_run_is_retried_in_process_not_published_again() -> None:
    s, link = one_time_task_due_now()
    s.store.fail_next("save_run", RuntimeError("throttled"), times=s.settings.record_attempts - 1)

    assert s.firing.fire(link) == FireOutcome.PUBLISHED

    assert len(s.publisher.published) == 1
    assert s.store.calls.count("save_run") == s.settings.record_attempts
    backoff = s.settings.record_backoff.total_seconds()
    assert s.clock.sleeps[-(s.settings.record_attempts - 1) :] == [
        pytest.approx(backoff * attempt) for attempt in range(1, s.settings.record_attempts)
    ]
    assert s.metrics.counts["record_retried"] == s.settings.record_attempts - 1
    run = s.store.runs[occurrence_tracking_id(link.task_id, T0)]
    assert run.status is RunStatus.COMPLETED
    task = s.store.tasks[link.task_id]
    assert task.in_flight is None and task.in_flight_run is None and task.status is TaskStatus.COMPLETED


def test_a_run_recorded_without_its_task_s_release_is_released_by_the_redelivery_not_republished() -> None:
    s, link = one_time_task_due_now()
    # The run is saved, then every release of the task fails (the process might as well have died there).
    s.store.fail_next("save_task", RuntimeError("DynamoDB unreachable"), times=s.settings.record_attempts)
    with pytest.raises(RuntimeError):
        s.firing.fire(link)
    tracking_id = occurrence_tracking_id(link.task_id, T0)
    assert s.store.runs[tracking_id].status is RunStatus.COMPLETED
    assert s.store.tasks[link.task_id].in_flight_run == tracking_id  # still held

    assert s.firing.fire(link) == FireOutcome.DUPLICATE  # the redelivery

    assert len(s.publisher.published) == 1
    task = s.store.tasks[link.task_id]
    assert task.in_flight is None and task.in_flight_run is None
    assert task.status is TaskStatus.COMPLETED and task.fired_count == 1 and task.last_run_at == T0


def test_the_sweeper_releases_a_task_holding_a_recorded_run_and_counts_its_fire() -> None:
    s, link = one_time_task_due_now()
    s.store.fail_next("save_task", RuntimeError("DynamoDB unreachable"), times=s.settings.record_attempts)
    with pytest.raises(RuntimeError):
        s.firing.fire(link)

    s.clock.advance(seconds=300)
    s.firing.sweep()

    task = s.store.tasks[link.task_id]
    assert task.in_flight is None and task.status is TaskStatus.COMPLETED and task.fired_count == 1
    assert len(s.publisher.published) == 1


def test_a_claim_and_its_finish_each_bump_the_version_and_the_mark_names_the_run() -> None:
    s, link = one_time_task_due_now()
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(link)
    claimed = s.store.tasks[link.task_id]
    tracking_id = occurrence_tracking_id(link.task_id, T0)
    assert claimed.version == 2 and claimed.in_flight == T0 and claimed.in_flight_run == tracking_id

    s.clock.advance(seconds=30)
    assert s.firing.fire(link) == FireOutcome.PUBLISHED  # the take-over is a claim too
    finished = s.store.tasks[link.task_id]
    assert finished.version == 4 and finished.in_flight is None and finished.in_flight_run is None
    assert s.store.runs[tracking_id].attempt == 2


def test_the_last_failed_attempt_marks_the_run_and_the_one_time_task_failed() -> None:
    s = make_services(start=T0 - timedelta(seconds=10), max_attempts=2)
    add_task(s, at(T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.publisher.fail_times(2, DependencyError("SNS is down"))

    with pytest.raises(DependencyError):
        s.firing.fire(link)
    assert s.firing.fire(link) == FireOutcome.FAILED

    run = s.store.runs[occurrence_tracking_id(link.task_id, T0)]
    assert run.status is RunStatus.FAILED and run.error == "publish failed: SNS is down"
    assert s.store.tasks[link.task_id].status is TaskStatus.FAILED
    assert s.firing.fire(link) == FireOutcome.DUPLICATE
    assert s.publisher.published == []


def test_an_early_delivery_goes_back_to_the_queue() -> None:
    s = make_services(start=T0 - timedelta(seconds=100))
    add_task(s, at(T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0 - timedelta(seconds=5, milliseconds=500))

    assert s.firing.fire(link) == FireOutcome.REQUEUED
    assert s.queue.messages == [(link, 5)]
    assert s.publisher.published == []


def test_a_recurring_chain_fires_every_occurrence_once() -> None:
    s = make_services(start=T0 - timedelta(seconds=30))
    add_task(s, every(60, T0), T0)
    fired = []
    for _ in range(5):
        link, outcome = deliver_next(s)
        assert outcome == FireOutcome.PUBLISHED
        fired.append(link.occurrence)
    assert fired == [T0 + timedelta(minutes=k) for k in range(5)]
    assert [e.scheduled_for for e in s.publisher.published] == fired
    assert all(e.lateness_ms == 0 for e in s.publisher.published)
    assert s.store.tasks["a" * 32].fired_count == 5


def test_a_daily_cron_in_berlin_follows_the_dst_change() -> None:
    from punctual.domain.schedules import first_occurrence

    start = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    s = make_services(start=start)
    schedule = Schedule(kind=ScheduleKind.CRON, cron="0 9 * * *", timezone="Europe/Berlin")
    first = first_occurrence(schedule, start)
    assert first is not None
    add_task(s, schedule, first)

    fired = [deliver_next(s)[0].occurrence for _ in range(4)]

    # 09:00 CET is 08:00Z until 29 March 2026, 09:00 CEST is 07:00Z after it.
    assert fired == [
        datetime(2026, 3, 28, 8, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 7, 0, tzinfo=UTC),
        datetime(2026, 3, 31, 7, 0, tzinfo=UTC),
    ]
    assert len(s.publisher.published) == 4


def _outage(misfire: MisfirePolicy) -> Services:
    """A task every 5 minutes fires once, then every link is lost for two hours."""
    s = make_services(start=T0 - timedelta(seconds=30))
    add_task(s, every(300, T0), T0, misfire=misfire)
    deliver_next(s)
    s.queue.drain()  # the outage: the next link is lost
    s.clock.set(T0 + timedelta(hours=2, seconds=100))
    return s


def test_after_a_two_hour_outage_fire_once_publishes_one_late_event_not_24() -> None:
    s = _outage(MisfirePolicy.FIRE_ONCE)

    report = s.firing.sweep()

    assert report.rearmed == 1
    ((link, delay),) = s.queue.drain()
    assert delay == 0 and link.occurrence == T0 + timedelta(hours=2)  # the latest missed occurrence
    assert s.firing.fire(link) == FireOutcome.PUBLISHED
    assert len(s.publisher.published) == 2  # the one before the outage and exactly one after
    late = s.publisher.published[-1]
    assert late.missed == 23 and late.lateness_ms == 100_000
    ((next_link, _),) = s.queue.drain()
    assert next_link.occurrence == T0 + timedelta(hours=2, minutes=5)  # the chain resumes in the future
    run = s.store.runs[late.tracking_id]
    assert run.lateness_ms == 100_000 and run.missed == 23


def test_after_a_two_hour_outage_skip_records_the_miss_and_publishes_nothing() -> None:
    s = _outage(MisfirePolicy.SKIP)

    report = s.firing.sweep()

    assert report.skipped == 1
    assert len(s.publisher.published) == 1  # only the one before the outage
    skipped = [r for r in s.store.runs.values() if r.status is RunStatus.SKIPPED]
    assert len(skipped) == 1 and skipped[0].missed == 23
    assert skipped[0].scheduled_for == T0 + timedelta(minutes=5)
    ((next_link, delay),) = s.queue.drain()
    assert next_link.occurrence == T0 + timedelta(hours=2, minutes=5) and delay == 200
    assert s.metrics.counts["skipped"] == 24
    # The skip's lateness (the outage, ~2 h) is its own metric: the fired lateness p99 only saw the one fire.
    assert s.metrics.skipped_latenesses == [skipped[0].lateness_ms]
    assert skipped[0].lateness_ms == 7_000_000  # T0+5m missed until T0+2h+100s
    assert len(s.metrics.latenesses) == 1 and s.metrics.latenesses[0] < 1000


@pytest.mark.parametrize(("after", "outcome"), [(100, "rearmed"), (300, "skipped")])
def test_the_sweeper_counts_a_past_instant_late_from_when_it_was_scheduled(after: int, outcome: str) -> None:
    s = make_services(start=T0)
    past = T0 - timedelta(hours=3)
    link = add_task(s, at(past), past, misfire=MisfirePolicy.SKIP)
    task = s.store.tasks[link.task_id]
    s.store.tasks[task.id] = task.evolve(created_at=T0 - timedelta(days=1), schedule_changed_at=T0)
    s.queue.drain()  # the link (delay 0) is lost
    s.clock.advance(seconds=after)

    report = s.firing.sweep()

    # Late by ``after`` seconds (from the schedule change at T0, not from the instant three hours before):
    # skipped only once that reaches the sweep grace (240 s), re-sent to fire late otherwise.
    assert (report.rearmed, report.skipped) == ((1, 0) if outcome == "rearmed" else (0, 1))
    assert s.publisher.published == []
    if outcome == "rearmed":
        assert s.queue.drain() == [(Link(task.id, 1, past), 0)]
        assert s.store.runs == {}
    else:
        assert s.queue.messages == []
        (run,) = s.store.runs.values()
        assert run.status is RunStatus.SKIPPED and run.lateness_ms == after * 1000
        assert s.store.tasks[task.id].status is TaskStatus.COMPLETED


def test_the_sweeper_rearms_a_lost_link_and_the_occurrence_fires_once() -> None:
    s = make_services(start=T0 - timedelta(hours=1))
    add_task(s, at(T0), T0)
    s.scheduler.wakes.clear()  # the EBS schedule was lost (deleted by hand, say)
    s.clock.set(T0 + timedelta(minutes=5))  # past the sweep grace (240 s)

    s.store.calls.clear()
    assert s.firing.sweep().rearmed == 1
    ((link, delay),) = s.queue.drain()
    # The latest missed occurrence is next_run_at itself: re-sent as it is, the task not written (a repair
    # link that lags in the queue stays good).
    assert delay == 0 and link.version == 1 and link.occurrence == T0
    assert "save_task" not in s.store.calls and s.store.tasks[link.task_id].version == 1
    assert s.firing.fire(link) == FireOutcome.PUBLISHED
    assert s.publisher.published[0].lateness_ms == 300_000
    assert s.firing.sweep().examined == 0


def test_the_sweeper_resumes_a_claimed_run_whose_executor_died() -> None:
    s, link = one_time_task_due_now()
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(link)
    # The message was then lost for good; once the grace has passed the sweeper notices the stuck claim.
    s.clock.advance(seconds=s.settings.sweep_grace.total_seconds() + 30)

    assert s.firing.sweep().resumed == 1
    ((resume, delay),) = s.queue.drain()
    assert delay == 0
    assert s.firing.fire(resume) == FireOutcome.PUBLISHED
    assert len(s.publisher.published) == 1
    assert s.store.tasks[link.task_id].status is TaskStatus.COMPLETED


def test_a_stale_sweep_write_leaves_the_task_to_its_new_link() -> None:
    s = make_services(start=T0 - timedelta(hours=1))
    add_task(s, every(60, T0), T0)
    s.clock.set(T0 + timedelta(minutes=3))  # T0 .. T0+3m missed: moving next_run_at to T0+3m is a write
    s.store.fail_next("save_task", StaleWriteError("moved"))

    assert s.firing.sweep().rearmed == 0
    assert s.queue.messages == []


def test_run_now_goes_pending_then_completed_with_its_times() -> None:
    s = make_services(start=T0)
    add_task(s, every(3600, T0 + timedelta(hours=1)), T0 + timedelta(hours=1))
    s.queue.drain()
    s.scheduler.wakes.clear()

    run = s.runs.run_now(ALICE, "a" * 32)
    assert run.status is RunStatus.PENDING and run.kind is RunKind.MANUAL and run.triggered_at == T0
    ((link, delay),) = s.queue.drain()
    assert link.kind is LinkKind.MANUAL and link.tracking_id == run.tracking_id and delay == 0
    s.clock.advance(milliseconds=250)

    assert s.firing.fire(link) == FireOutcome.PUBLISHED

    done = s.runs.get(ALICE, run.tracking_id)
    assert done.status is RunStatus.COMPLETED
    assert done.triggered_at == T0
    assert done.started_at == T0 + timedelta(milliseconds=250)
    assert done.completed_at is not None and done.completed_at >= done.started_at
    (event,) = s.publisher.published
    assert event.kind is RunKind.MANUAL and event.tracking_id == run.tracking_id
    assert s.store.tasks["a" * 32].next_run_at == T0 + timedelta(hours=1)  # the schedule is untouched


def test_run_now_of_a_task_cancelled_before_it_started_fails_with_an_error() -> None:
    s = make_services(start=T0)
    add_task(s, at(T0 + timedelta(days=1)), T0 + timedelta(days=1))
    run = s.runs.run_now(ALICE, "a" * 32)
    ((link, _),) = [m for m in s.queue.drain() if m[0].kind is LinkKind.MANUAL]
    s.tasks.cancel(ALICE, "a" * 32)

    assert s.firing.fire(link) == FireOutcome.FAILED

    failed = s.runs.get(ALICE, run.tracking_id)
    assert failed.status is RunStatus.FAILED and failed.error is not None and "cancelled" in failed.error
    assert s.publisher.published == []


def test_a_later_occurrence_waits_while_an_earlier_one_is_retrying_then_fires_coalesced() -> None:
    s = make_services(start=T0 - timedelta(seconds=5))
    add_task(s, every(10, T0), T0)
    first, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(first)
    ((second, _),) = s.queue.drain()

    s.clock.set(second.occurrence)
    with pytest.raises(OccurrenceBusy):  # retried by SQS, not dropped
        s.firing.fire(second)
    assert s.publisher.published == []

    s.clock.set(T0 + timedelta(seconds=90))  # both messages come back after the visibility timeout
    assert s.firing.fire(first) == FireOutcome.PUBLISHED
    assert s.firing.fire(second) == FireOutcome.PUBLISHED
    assert [e.scheduled_for for e in s.publisher.published] == [T0, second.occurrence]
    late = s.publisher.published[-1]
    assert late.missed == 8 and late.lateness_ms == 80_000  # T0+20 ... T0+90 coalesced into one late fire
    task = s.store.tasks[first.task_id]
    assert task.in_flight is None and task.next_run_at == T0 + timedelta(seconds=100)


def test_a_retried_occurrence_never_publishes_after_a_cancel_returned_200() -> None:
    s = make_services(start=T0 - timedelta(seconds=5))
    add_task(s, every(10, T0), T0)
    first, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.publisher.fail_next(DependencyError("SNS blip"))
    with pytest.raises(DependencyError):
        s.firing.fire(first)
    ((second, _),) = s.queue.drain()
    s.clock.set(second.occurrence)
    with contextlib.suppress(OccurrenceBusy):
        s.firing.fire(second)
    s.clock.advance(seconds=5)
    try:
        s.tasks.cancel(ALICE, first.task_id)
    except ConflictError:
        return  # 409 while T0 is in flight is the documented answer; the invariant holds
    published = len(s.publisher.published)
    s.clock.set(T0 + timedelta(seconds=90))
    with contextlib.suppress(Exception):
        s.firing.fire(first)
    assert len(s.publisher.published) == published


def test_a_retried_run_now_never_publishes_after_a_cancel_returned_200() -> None:
    s = make_services(start=T0)
    add_task(s, at(T0 + timedelta(days=1)), T0 + timedelta(days=1))
    run = s.runs.run_now(ALICE, "a" * 32)
    ((link, _),) = [m for m in s.queue.drain() if m[0].kind is LinkKind.MANUAL]
    s.publisher.fail_next(DependencyError("SNS blip"))
    with pytest.raises(DependencyError):
        s.firing.fire(link)
    # The start claimed the task: the manual run is in flight on it, so a cancel cannot return 200 now.
    task = s.store.tasks["a" * 32]
    assert task.in_flight == run.scheduled_for and task.in_flight_run == run.tracking_id
    with pytest.raises(ConflictError):
        s.tasks.cancel(ALICE, "a" * 32)
    assert s.store.tasks["a" * 32].status is TaskStatus.SCHEDULED
    s.clock.advance(seconds=90)

    assert s.firing.fire(link) == FireOutcome.PUBLISHED
    assert len(s.publisher.published) == 1
    assert s.store.runs[run.tracking_id].status is RunStatus.COMPLETED
    released = s.store.tasks["a" * 32]
    assert released.in_flight is None and released.in_flight_run is None
    assert released.next_run_at == T0 + timedelta(days=1)  # a manual run leaves the schedule alone
    s.tasks.cancel(ALICE, "a" * 32)  # once it is recorded, the cancel goes through
    assert s.store.tasks["a" * 32].status is TaskStatus.CANCELLED
    assert len(s.publisher.published) == 1


def test_a_manual_run_meeting_another_in_flight_run_comes_back_in_a_second() -> None:
    s = make_services(start=T0 - timedelta(seconds=10))
    add_task(s, every(60, T0), T0)
    scheduled, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(scheduled)  # T0 stays in flight
    s.queue.drain()  # the next occurrence's link
    run = s.runs.run_now(ALICE, "a" * 32)
    ((manual, _),) = s.queue.drain()

    assert s.firing.fire(manual) == FireOutcome.REQUEUED
    assert s.queue.messages == [(manual, 1)]
    assert s.store.runs[run.tracking_id].status is RunStatus.PENDING
    assert s.publisher.published == []

    s.queue.drain()
    s.clock.advance(seconds=30)
    assert s.firing.fire(scheduled) == FireOutcome.PUBLISHED  # the occurrence's retry ends its flight
    assert s.firing.fire(manual) == FireOutcome.PUBLISHED
    assert [event.kind for event in s.publisher.published] == [RunKind.SCHEDULED, RunKind.MANUAL]


def test_an_occurrence_meeting_an_in_flight_run_now_comes_back_in_a_second() -> None:
    s = make_services(start=T0 - timedelta(seconds=10))
    add_task(s, every(60, T0), T0)
    scheduled, _ = s.queue.drain()[0]
    run = s.runs.run_now(ALICE, "a" * 32)
    ((manual, _),) = s.queue.drain()
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(manual)  # the run-now stays in flight
    s.clock.set(T0)

    assert s.firing.fire(scheduled) == FireOutcome.REQUEUED  # not OccurrenceBusy: no 90 s visibility wait
    assert s.queue.messages == [(scheduled, 1)]
    assert s.publisher.published == []

    s.queue.drain()
    s.clock.advance(seconds=1)
    assert s.firing.fire(manual) == FireOutcome.PUBLISHED  # the run-now's retry ends its flight
    assert s.firing.fire(scheduled) == FireOutcome.PUBLISHED
    assert [event.kind for event in s.publisher.published] == [RunKind.MANUAL, RunKind.SCHEDULED]
    assert s.store.runs[run.tracking_id].status is RunStatus.COMPLETED


def test_a_failed_arm_of_the_next_occurrence_does_not_hold_back_this_publish() -> None:
    s = make_services(start=T0 - timedelta(seconds=30))
    add_task(s, every(60, T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.queue.fail_next(DependencyError("SQS SendMessage failed"))

    assert s.firing.fire(link) == FireOutcome.PUBLISHED

    assert [e.scheduled_for for e in s.publisher.published] == [T0]
    task = s.store.tasks[link.task_id]
    assert task.in_flight is None and task.next_run_at == T0 + timedelta(minutes=1)
    assert s.metrics.counts["arm_failed"] == 1
    # The lost link is the sweeper's to repair: once, late, for the latest missed occurrence (T0+5m, the
    # sweep grace being 240 s, with T0+1m ... T0+4m coalesced into it), and the chain goes on.
    s.clock.set(T0 + timedelta(minutes=1) + s.settings.sweep_grace)
    assert s.clock.now() == T0 + timedelta(minutes=5)
    assert s.firing.sweep().rearmed == 1
    ((relink, _),) = s.queue.drain()
    assert s.firing.fire(relink) == FireOutcome.PUBLISHED
    assert [e.scheduled_for for e in s.publisher.published] == [T0, T0 + timedelta(minutes=5)]
    assert s.publisher.published[-1].missed == 4
    ((following, _),) = s.queue.drain()
    assert following.occurrence == T0 + timedelta(minutes=6)


def test_the_sweeper_clears_an_in_flight_mark_whose_run_already_ended() -> None:
    s = make_services(start=T0 - timedelta(seconds=10))
    add_task(s, every(60, T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0)
    s.firing.fire(link)
    task = s.store.tasks[link.task_id]
    marked = task.evolve(in_flight=T0, in_flight_run=occurrence_tracking_id(task.id, T0))
    s.store.tasks[task.id] = marked  # a finish whose task write was lost
    s.queue.drain()
    s.clock.set(T0 + timedelta(minutes=1) + s.settings.sweep_grace)  # next_run_at (T0+1m) is overdue too

    assert s.firing.sweep().resumed == 1
    cleared = s.store.tasks[task.id]
    assert cleared.in_flight is None and cleared.in_flight_run is None
    assert cleared.version == marked.version + 1 and cleared.status is TaskStatus.SCHEDULED
    assert s.firing.sweep().rearmed == 1  # and then the overdue chain is repaired as usual


@pytest.mark.parametrize(
    ("run_status", "task_status"),
    [
        (RunStatus.COMPLETED, TaskStatus.COMPLETED),
        (RunStatus.SKIPPED, TaskStatus.COMPLETED),
        (RunStatus.FAILED, TaskStatus.FAILED),
        (None, TaskStatus.FAILED),  # the run record is gone
    ],
)
def test_the_sweeper_ends_a_one_time_task_as_its_ended_run_did(
    run_status: RunStatus | None, task_status: TaskStatus
) -> None:
    s, link = one_time_task_due_now()
    s.publisher.fail_next(DependencyError("SNS is down"))
    with pytest.raises(DependencyError):
        s.firing.fire(link)  # claimed: in flight, next_run_at None, the run RUNNING
    tracking_id = occurrence_tracking_id(link.task_id, T0)
    if run_status is None:
        del s.store.runs[tracking_id]
    else:  # the run ended but its task write was lost
        s.store.runs[tracking_id] = s.store.runs[tracking_id].evolve(status=run_status, lease_until=None)
    claimed = s.store.tasks[link.task_id]
    s.clock.advance(seconds=s.settings.sweep_grace.total_seconds() + 1)

    assert s.firing.sweep().resumed == 1

    task = s.store.tasks[link.task_id]
    assert task.status is task_status and task.in_flight is None and task.in_flight_run is None
    assert task.version == claimed.version + 1
    assert s.queue.messages == [] and s.publisher.published == []


def test_fire_path_store_calls_are_minimal() -> None:
    s = make_services(start=T0 - timedelta(seconds=30))
    add_task(s, every(60, T0), T0)
    link, _ = s.queue.drain()[0]
    s.clock.set(T0)
    for fake in (s.store, s.queue, s.publisher, s.scheduler):
        fake.calls.clear()

    s.firing.fire(link)

    assert s.store.calls == ["get_tasks_and_runs", "claim_all", "save_run", "save_task"]
    assert s.queue.calls == ["enqueue"] and s.publisher.calls == ["publish_batch"]


def one_time_tasks_due_at_t0(count: int, *, now: datetime) -> tuple[Services, list[Link]]:
    """``count`` one-time tasks due at T0, their links delivered (taken off the queue), the clock at ``now``."""
    s = make_services(start=T0 - timedelta(seconds=30))
    links = [add_task(s, at(T0), T0, task_id=f"{index:032x}") for index in range(count)]
    s.queue.drain()
    s.clock.set(now)
    return s, links


def test_a_batch_is_read_in_one_call_and_published_in_one_call_per_instant() -> None:
    s, links = one_time_tasks_due_at_t0(10, now=T0 - timedelta(milliseconds=500))
    for fake in (s.store, s.publisher):
        fake.calls.clear()

    assert s.firing.fire_batch(links) == [FireOutcome.PUBLISHED] * 10
    assert s.store.calls == ["get_tasks_and_runs", "claim_all"] + ["save_run", "save_task"] * 10
    assert s.publisher.calls == ["publish_batch"]


def test_a_claim_of_a_batch_that_loses_its_condition_is_stale_and_the_others_publish() -> None:
    s, links = one_time_tasks_due_at_t0(3, now=T0)
    cancelled = links[1].task_id
    s.store.claim_all = _cancel_before(s, cancelled, s.store.claim_all)  # type: ignore[method-assign]

    outcomes = s.firing.fire_batch(links)

    assert outcomes == [FireOutcome.PUBLISHED, FireOutcome.STALE, FireOutcome.PUBLISHED]
    assert sorted(event.task_id for event in s.publisher.published) == [links[0].task_id, links[2].task_id]
    assert s.store.tasks[cancelled].status is TaskStatus.CANCELLED
    assert occurrence_tracking_id(cancelled, T0) not in s.store.runs


def _cancel_before(
    s: Services, task_id: str, claim_all: Callable[[list[Claim]], list[Exception | None]]
) -> Callable[[list[Claim]], list[Exception | None]]:
    """claim_all, with a cancel of ``task_id`` landing just before it."""

    def cancel_then_claim(claims: list[Claim]) -> list[Exception | None]:
        stored = s.store.tasks[task_id]
        s.store.tasks[task_id] = stored.evolve(status=TaskStatus.CANCELLED, version=stored.version + 1)
        return claim_all(claims)

    return cancel_then_claim


def test_two_links_of_one_task_in_a_batch_are_claimed_in_turn_and_publish_once() -> None:
    s, (link,) = one_time_tasks_due_at_t0(1, now=T0)
    task = s.store.tasks[link.task_id]
    s.store.tasks[task.id] = task.evolve(version=2)  # rescheduled to the same instant: a second link exists
    newer = Link(task.id, 2, T0)
    s.store.calls.clear()

    outcomes = s.firing.fire_batch([link, newer])

    assert sorted(outcomes) == sorted([FireOutcome.PUBLISHED, FireOutcome.STALE])
    assert len(s.publisher.published) == 1
    assert s.store.calls[:3] == ["get_tasks_and_runs", "claim_all", "claim_all"]


def test_a_failed_claim_write_sends_every_link_of_its_round_back() -> None:
    s, links = one_time_tasks_due_at_t0(3, now=T0)
    s.store.fail_next("claim_all", ThrottledError("slow down"))

    outcomes = s.firing.fire_batch(links)

    assert all(isinstance(outcome, ThrottledError) for outcome in outcomes)
    assert s.publisher.published == [] and s.store.runs == {}
    # The redelivery claims them.
    assert s.firing.fire_batch(links) == [FireOutcome.PUBLISHED] * 3


def test_runs_of_one_batch_due_at_different_instants_are_each_published_at_their_own() -> None:
    s = make_services(start=T0 - timedelta(seconds=30))
    instants = [T0, T0, T0 + timedelta(milliseconds=400), T0 + timedelta(milliseconds=900)]
    links = [
        add_task(s, at(instant), instant, task_id=f"{index:032x}") for index, instant in enumerate(instants)
    ]
    s.queue.drain()
    s.clock.set(T0 - timedelta(milliseconds=50))  # every claim may come up to a second early
    s.publisher.calls.clear()

    assert s.firing.fire_batch(links) == [FireOutcome.PUBLISHED] * 4
    assert [event.fired_at for event in s.publisher.published] == instants  # none early, none late
    assert s.publisher.calls == ["publish_batch"] * 3  # the two runs due at T0 went together


def test_an_event_sns_refuses_in_a_batch_is_retried_alone() -> None:
    s, links = one_time_tasks_due_at_t0(3, now=T0)
    s.publisher.fail_next(DependencyError("SNS refused the event"))  # the first event of the batch

    first, *others = s.firing.fire_batch(links)

    assert isinstance(first, DependencyError)  # its message stays in the queue and is redelivered
    assert others == [FireOutcome.PUBLISHED] * 2
    assert [event.task_id for event in s.publisher.published] == [link.task_id for link in links[1:]]
    failed_run = s.store.runs[occurrence_tracking_id(links[0].task_id, T0)]
    assert (
        failed_run.status is RunStatus.RUNNING and failed_run.error == "publish failed: SNS refused the event"
    )
    s.clock.advance(seconds=30)  # the visibility timeout elapses; SQS redelivers it

    assert s.firing.fire(links[0]) is FireOutcome.PUBLISHED
    assert len(s.publisher.published) == 3


def test_a_failed_batch_read_leaves_every_link_for_redelivery() -> None:
    s, links = one_time_tasks_due_at_t0(3, now=T0)
    s.store.fail_next("get_tasks_and_runs", DependencyError("DynamoDB is down"))

    results = s.firing.fire_batch(links)

    assert all(isinstance(result, DependencyError) for result in results)
    assert s.publisher.published == [] and s.store.runs == {}


def test_a_past_at_fires_at_once_even_under_skip_and_the_metric_counts_from_scheduling() -> None:
    s = make_services(start=T0)
    past = T0 - timedelta(hours=3)
    link = add_task(s, at(past), past, misfire=MisfirePolicy.SKIP)
    ((queued, delay),) = s.queue.drain()
    assert queued == link and delay == 0
    s.clock.advance(milliseconds=40)

    assert s.firing.fire(link) == FireOutcome.PUBLISHED

    (event,) = s.publisher.published
    assert event.lateness_ms == 3 * 3600 * 1000 + 40  # the event says how far past its instant it fired
    assert s.metrics.latenesses == [40]  # punctual's own lateness: from when it was scheduled
    assert "late" not in s.metrics.counts


def test_rescheduling_onto_an_instant_that_already_fired_is_409() -> None:
    from punctual.service.commands import ScheduleInput, UpdateTask

    s = make_services(start=T0 - timedelta(seconds=30))
    link = add_task(s, every(60, T0), T0)
    deliver_next(s)
    reschedule = UpdateTask(provided=frozenset({"at"}), schedule=ScheduleInput(at="2026-12-01T09:00:00Z"))

    with pytest.raises(ConflictError):
        s.tasks.update(ALICE, link.task_id, reschedule)

    later = UpdateTask(provided=frozenset({"at"}), schedule=ScheduleInput(at="2026-12-01T10:00:00Z"))
    assert s.tasks.update(ALICE, link.task_id, later).next_run_at == T0 + timedelta(hours=1)


def test_a_same_second_burst_is_claimed_before_the_instant_so_only_publishes_follow_it() -> None:
    s = make_services(start=T0 - timedelta(seconds=30))
    links = [add_task(s, at(T0), T0, task_id=f"{index:032x}") for index in range(10)]
    s.queue.drain()

    def slow(call):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            result = call(*args, **kwargs)
            s.clock.advance(milliseconds=20)  # every AWS call takes 20 ms
            return result

        return timed

    for fake, name in [
        (s.store, "get_tasks_and_runs"),
        (s.store, "claim"),
        (s.store, "save_run"),
        (s.store, "save_task"),
        (s.publisher, "publish_batch"),
    ]:
        setattr(fake, name, slow(getattr(fake, name)))
    s.clock.set(T0 - timedelta(milliseconds=900))  # the batch arrives up to a second early, as SQS delivers

    results = s.firing.fire_batch(links)

    assert results == [FireOutcome.PUBLISHED] * 10
    # The read and the ten claims happened before the instant; after it, one publish for all ten. Firing the
    # links one after another (read, claim, publish, finish) would have made the last one ~720 ms late.
    assert [event.lateness_ms for event in s.publisher.published] == [0] * 10


def test_the_same_message_twice_in_one_batch_is_one_publish_and_no_redelivery() -> None:
    s = make_services(start=T0 - timedelta(seconds=10))
    link = add_task(s, at(T0), T0)
    s.clock.set(T0)

    assert s.firing.fire_batch([link, link]) == [FireOutcome.PUBLISHED, FireOutcome.DUPLICATE]
    assert len(s.publisher.published) == 1


def test_a_publisher_that_raises_fails_its_events_and_fire_batch_still_answers_every_link() -> None:
    s, links = one_time_tasks_due_at_t0(3, now=T0)

    def broken(events):  # type: ignore[no-untyped-def]
        raise DependencyError("the SNS client blew up")

    s.publisher.publish_batch = broken  # type: ignore[method-assign]

    results = s.firing.fire_batch(links)

    assert [type(result) for result in results] == [DependencyError] * 3  # each redelivered


def test_a_claim_the_store_could_not_write_alone_sends_only_its_link_back() -> None:
    """claim_all's per-claim error other than a lost condition (its items met a concurrent write)."""
    s, links = one_time_tasks_due_at_t0(3, now=T0)
    original_claim_all = s.store.claim_all

    def second_one_conflicts(claims: list[Claim]) -> list[Exception | None]:
        results = original_claim_all([claims[0], claims[2]])
        return [results[0], ThrottledError("conflict"), results[1]]

    s.store.claim_all = second_one_conflicts  # type: ignore[method-assign]

    outcomes = s.firing.fire_batch(links)

    assert outcomes[0] is FireOutcome.PUBLISHED and outcomes[2] is FireOutcome.PUBLISHED
    assert isinstance(outcomes[1], ThrottledError)
    assert sorted(event.task_id for event in s.publisher.published) == [links[0].task_id, links[2].task_id]
    s.store.claim_all = original_claim_all  # type: ignore[method-assign]
    assert s.firing.fire_batch([links[1]]) == [FireOutcome.PUBLISHED]  # its redelivery
