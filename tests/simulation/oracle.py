"""The promises P1-P5, checked from outside the service: from what the API answered, what SNS received, and
the records as stored. A broken promise is recorded as a Violation with the task it concerns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from punctual.adapters import dynamodb_items as items
from punctual.adapters.dynamodb_store import DynamoDbTaskStore
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import (
    FiredEvent,
    MisfirePolicy,
    OutcomeEvent,
    OutcomeType,
    Run,
    RunKind,
    RunStatus,
    Schedule,
    Task,
    TaskStatus,
)
from punctual.service.ports import TaskStore
from punctual.service.settings import ServiceSettings

from tests.fakes import FakeStore
from tests.simulation.targets import TargetCall
from tests.simulation.world import VISIBILITY, Operation

# Slack for the clock moving while an operation runs (the executor waits out up to a second).
_SLACK = timedelta(seconds=2)


@dataclass(frozen=True)
class Violation:
    promise: str
    task_id: str
    what: str


@dataclass
class Records:
    tasks: dict[str, Task]
    runs: dict[str, list[Run]]  # by task id


class _Tracked(dict[str, Any]):
    """A FakeStore table that remembers which tasks were written since the oracle last looked."""

    def __init__(self, dirty: set[str], by_task: dict[str, dict[str, Run]] | None = None) -> None:
        super().__init__()
        self._dirty, self._by_task = dirty, by_task

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        if self._by_task is None:
            self._dirty.add(key)
        else:
            self._dirty.add(value.task_id)
            self._by_task.setdefault(value.task_id, {})[key] = value


class TrackedStore(FakeStore):
    """The in-memory store, with what changed since the last check at hand (so checks cost what changed)."""

    def __init__(self) -> None:
        super().__init__()
        self.dirty: set[str] = set()
        self.runs_by_task: dict[str, dict[str, Run]] = {}
        self.tasks = _Tracked(self.dirty)
        self.runs = _Tracked(self.dirty, self.runs_by_task)

    def changed_records(self, also: set[str]) -> Records:
        ids = self.dirty | also
        self.dirty.clear()
        tasks = {task_id: self.tasks[task_id] for task_id in ids if task_id in self.tasks}
        runs = {task_id: list(self.runs_by_task.get(task_id, {}).values()) for task_id in tasks}
        return Records(tasks, runs)


def runs_of(store: TaskStore, task_id: str) -> list[Run]:
    """One task's runs as stored."""
    if isinstance(store, TrackedStore):
        return list(store.runs_by_task.get(task_id, {}).values())
    runs: list[Run] = []
    continuation = None
    while True:
        page = store.list_runs(task_id, limit=100, continuation=continuation)
        runs += page.items
        continuation = page.continuation
        if continuation is None:
            return runs


def read_records(store: TaskStore) -> Records:
    """Every task and run as stored, bypassing the failure injection."""
    if isinstance(store, FakeStore):
        tasks, runs = dict(store.tasks), list(store.runs.values())
    else:
        assert isinstance(store, DynamoDbTaskStore)
        tasks, runs = {}, []
        client: Any = store._client
        pages = client.get_paginator("scan").paginate(TableName=store._table, ConsistentRead=True)
        for page in pages:
            for item in page["Items"]:
                entity = item.get(items.ENTITY, {}).get("S")
                if entity == items.TASK_ENTITY:
                    task = items.item_to_task(item)
                    tasks[task.id] = task
                elif entity == items.RUN_ENTITY:
                    runs.append(items.item_to_run(item))
    by_task: dict[str, list[Run]] = {}
    for run in runs:
        by_task.setdefault(run.task_id, []).append(run)
    return Records(tasks, by_task)


@dataclass
class Oracle:
    settings: ServiceSettings
    violations: list[Violation] = field(default_factory=list)
    publishes: dict[str, int] = field(default_factory=dict)  # dedup key -> times published
    attempts: dict[str, int] = field(default_factory=dict)  # dedup key -> last attempt published
    excused: dict[str, int] = field(default_factory=dict)  # dedup key -> republishes P1 allows
    cancelled: set[str] = field(default_factory=set)  # tasks whose cancel returned 200
    paused: set[str] = field(default_factory=set)  # tasks whose pause returned 200 (until a resume did)
    # After a change returned: no scheduled occurrence before this instant that was unclaimed then may fire.
    # Each rule keeps the schedule the change left: a change that committed later (one that crashed before
    # answering, say) ends it, and the records then say what holds.
    superseded: dict[str, tuple[datetime, frozenset[str], Schedule]] = field(default_factory=dict)
    # When a schedule change last set next_run_at, and the schedule it set.
    due_from: dict[str, tuple[datetime, Schedule]] = field(default_factory=dict)
    # When the latest change that may move a task's due instant started (answered or not): see due_may_move.
    due_moving: dict[str, datetime] = field(default_factory=dict)
    accepted_runs: set[str] = field(default_factory=set)  # manual runs whose run-now answered 202
    change_versions: dict[str, int] = field(default_factory=dict)  # task -> version of its latest change
    overdue_since: dict[str, tuple[datetime | None, datetime]] = field(default_factory=dict)

    def fail(self, promise: str, task_id: str, what: str) -> None:
        self.violations.append(Violation(promise, task_id, what))

    # ---- what the API answered ----------------------------------------------------------------------

    def created(self, task: Task, started: datetime) -> None:
        self.due_from[task.id] = (started, task.schedule)

    def changed(self, before: Task | None, after: Task, started: datetime, runs: list[Run]) -> None:
        """An update (or a bulk reschedule item) returned 200 with ``after``. Changes count in commit order,
        which is version order (every write bumps it): one that an interleaved change committed over before
        this one returned says nothing about the task any more."""
        if after.version <= self.change_versions.get(after.id, 0):
            return
        self.change_versions[after.id] = after.version
        if after.status is TaskStatus.PAUSED:
            self.paused.add(after.id)
        else:
            self.paused.discard(after.id)
        if before is None or (before.schedule, before.status) != (after.schedule, after.status):
            self.due_from[after.id] = (started, after.schedule)
        if after.next_run_at is not None:
            claimed = frozenset(run.tracking_id for run in runs)
            self.superseded[after.id] = (after.next_run_at, claimed, after.schedule)

    def due_may_move(self, task_id: str, started: datetime) -> None:
        """A change of schedule or status started: from the moment it commits, before it answers (an interleaved
        delivery may fire in between), or even if it then answers an error, the task is due from ``started``
        at the latest; the skip policy is judged from there."""
        self.due_moving[task_id] = started

    def cancel_returned(self, task: Task) -> None:
        if task.status is TaskStatus.CANCELLED:
            self.cancelled.add(task.id)

    # ---- what SNS received ------------------------------------------------------------------------

    def published(self, event: FiredEvent, operation: Operation, run: Run | None, task: Task | None) -> None:
        key = event.dedup_key
        if event.task_id in self.cancelled:
            self.fail("P2", event.task_id, f"published {key} after its cancel returned 200")
        if event.kind is RunKind.SCHEDULED:
            if event.task_id in self.paused and task is not None and task.status is TaskStatus.PAUSED:
                self.fail("P2", event.task_id, f"published {key} while paused (the pause returned 200)")
            superseded = self.superseded.get(event.task_id)
            if superseded is not None and task is not None and task.schedule == superseded[2]:
                before, claimed, _ = superseded
                if event.scheduled_for < before and event.tracking_id not in claimed:
                    self.fail(
                        "P2", event.task_id, f"published {key}, an instant a reschedule to {before} replaced"
                    )
            self._check_not_a_skip(event, run, task)
        count = self.publishes.get(key, 0) + 1
        self.publishes[key] = count
        if count > 1 + self.excused.get(key, 0):
            self.fail("P1", event.task_id, f"published {key} {count} times (attempt {event.attempt})")
        elif count > 1 and event.attempt <= self.attempts.get(key, 0):
            self.fail("P1", event.task_id, f"republished {key} without a higher attempt")
        self.attempts[key] = event.attempt

    def _check_not_a_skip(self, event: FiredEvent, run: Run | None, task: Task | None) -> None:
        if task is None or run is None or task.misfire is not MisfirePolicy.SKIP or run.started_at is None:
            return
        # A create that answered an error may still have left its task (the compensating delete failed):
        # it was scheduled when it was created.
        changed_at, schedule = self.due_from.get(event.task_id, (task.created_at, task.schedule))
        if schedule != task.schedule:
            return  # a change the oracle never saw answered (it crashed after committing) set the clock
        due = max(event.scheduled_for, changed_at, self.due_moving.get(event.task_id, changed_at))
        if run.started_at - due >= self.settings.sweep_grace + _SLACK:
            self.fail(
                "P4",
                event.task_id,
                f"published {event.dedup_key} claimed {run.started_at - due} after it was due: skip policy",
            )

    def excuse(self, operation: Operation) -> None:
        """A publish whose run could not be recorded (the process died, SNS answered an error after accepting
        it, or every in-process retry of the record failed) may be published again with a higher attempt: P1's
        one exception. Called as soon as such a fault is injected (an interleaved delivery may republish
        before this operation ends) and when it ends; each publish is excused once."""
        for event in operation.published:
            if event.dedup_key in operation.excused:
                continue
            exhausted = operation.record_failures.get(event.tracking_id, 0) >= self.settings.record_attempts
            if operation.crashed or exhausted or event.dedup_key in operation.accepted_but_failed:
                operation.excused.add(event.dedup_key)
                self.excused[event.dedup_key] = self.excused.get(event.dedup_key, 0) + 1

    # ---- the records ------------------------------------------------------------------------------

    def check_records(self, records: Records, now: datetime, *, lag: timedelta) -> None:
        for task in records.tasks.values():
            runs = records.runs.get(task.id, [])
            self._check_counts(task, runs)
            self._check_one_time_end(task, runs)
            self._check_chain_moves(task, now, lag)

    def _check_counts(self, task: Task, runs: list[Run]) -> None:
        # Fired: published (a topic run), or published and handed to the runner (a target run, whatever its call
        # then gives). A run is recorded before its task is released (two writes): a fired run the task still
        # holds is counted by the release, which the link's redelivery or the sweeper makes if a crash came
        # between.
        fired = [
            r
            for r in runs
            if r.kind is RunKind.SCHEDULED
            and (r.status is RunStatus.COMPLETED or r.handed_to_runner)
            and task.in_flight_run != r.tracking_id
        ]
        if task.fired_count != len(fired):
            self.fail("P5", task.id, f"fired_count {task.fired_count} but {len(fired)} completed runs")
        # The occurrence of the run fired last (a reschedule to a past instant may fire an earlier one later;
        # two fired at one simulated instant are in no order the records show).
        last_fired = max((run.fired_at or run.scheduled_for for run in fired), default=None)
        candidates = {run.scheduled_for for run in fired if (run.fired_at or run.scheduled_for) == last_fired}
        if (task.last_run_at is None) != (last_fired is None) or (
            candidates and task.last_run_at not in candidates
        ):
            self.fail(
                "P5", task.id, f"last_run_at {task.last_run_at} but the runs fired last are for {candidates}"
            )

    def _check_one_time_end(self, task: Task, runs: list[Run]) -> None:
        if task.schedule.recurring or task.status not in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            return
        ended = [r for r in runs if r.kind is RunKind.SCHEDULED]
        statuses = {run.status for run in ended}
        if any(run.handed_to_runner for run in ended):
            if task.status is TaskStatus.FAILED:
                self.fail(
                    "P5", task.id, "task FAILED although its occurrence fired (its call decides its run)"
                )
            return
        if task.status is TaskStatus.COMPLETED and not statuses & {RunStatus.COMPLETED, RunStatus.SKIPPED}:
            self.fail("P5", task.id, f"task COMPLETED but its runs are {sorted(statuses)}")
        if task.status is TaskStatus.FAILED and RunStatus.COMPLETED in statuses:
            self.fail("P5", task.id, "task FAILED but its run COMPLETED")
        if task.status is TaskStatus.FAILED and RunStatus.FAILED not in statuses:
            self.fail("P5", task.id, f"task FAILED but its runs are {sorted(statuses)}")

    def _check_chain_moves(self, task: Task, now: datetime, lag: timedelta) -> None:
        """P3: a live task that is due fires (or is skipped) within the sweeper's grace, two sweeps, the
        delay queue's lag, one visibility timeout and one lease."""
        due = task.status is TaskStatus.SCHEDULED and task.next_run_at is not None and task.next_run_at <= now
        if not due:
            self.overdue_since.pop(task.id, None)
            return
        seen = self.overdue_since.get(task.id)
        if seen is None or seen[0] != task.next_run_at:
            self.overdue_since[task.id] = (task.next_run_at, now)
            return
        bound = (
            self.settings.sweep_grace + timedelta(minutes=2) + lag + VISIBILITY + self.settings.lease + _SLACK
        )
        if now - seen[1] > bound:
            self.fail("P3", task.id, f"due at {task.next_run_at} and still not fired after {now - seen[1]}")
            self.overdue_since.pop(task.id, None)

    # ---- targets (P6: one call per attempt; a cancel stops later attempts; no outcome unrecorded) ---------

    def outcome(self, event: OutcomeEvent, stored: Run | None) -> None:
        """An outcome event was published: its outcome must already be the run's record."""
        expected = RunStatus.COMPLETED if event.type is OutcomeType.COMPLETED else RunStatus.FAILED
        run = event.run
        if stored is None or stored.status is not expected or stored.delivery_attempt != run.delivery_attempt:
            recorded = None if stored is None else (stored.status.value, stored.delivery_attempt)
            self.fail(
                "P6",
                run.task_id,
                f"{event.type.value} for {run.tracking_id} attempt {run.delivery_attempt} published, "
                f"but the run is recorded as {recorded}",
            )

    def check_targets(self, records: Records, calls: list[TargetCall], outcomes: list[OutcomeEvent]) -> None:
        """At quiescence: each attempt called the target at most once; no call began after the task's cancel
        returned; every ended target run has its outcome event."""
        seen: dict[tuple[str, int], int] = {}
        for call in calls:
            key = (call.tracking_id, call.attempt)
            seen[key] = seen.get(key, 0) + 1
            if seen[key] == 2:
                self.fail("P6", call.task_id, f"attempt {call.attempt} of {call.tracking_id} called twice")
            if call.cancelled_before_the_delivery:
                self.fail(
                    "P6", call.task_id, f"called {call.tracking_id} attempt {call.attempt} after the cancel"
                )
        published = {(event.run.tracking_id, event.type) for event in outcomes}
        for task_id, runs in records.runs.items():
            for run in runs:
                if not run.handed_to_runner or run.status not in (RunStatus.COMPLETED, RunStatus.FAILED):
                    continue
                if run.error is not None and run.error.startswith("the target call could not be queued"):
                    continue  # the hand-off failed: no call was made, and no outcome is promised
                kind = OutcomeType.COMPLETED if run.status is RunStatus.COMPLETED else OutcomeType.FAILED
                if (run.tracking_id, kind) not in published:
                    self.fail(
                        "P6", task_id, f"run {run.tracking_id} ended {run.status.value} without its event"
                    )
                numbers = [d.attempt for d in run.deliveries]
                unrecorded = run.delivery_attempt - len(numbers)
                ended_uncalled = run.error is not None and (
                    "cancelled" in run.error or "no longer" in run.error
                )
                if numbers != sorted(set(numbers)) or not (
                    unrecorded == 0 or (unrecorded == 1 and ended_uncalled)
                ):
                    self.fail(
                        "P6",
                        task_id,
                        f"run {run.tracking_id} at attempt {run.delivery_attempt} records attempts {numbers}",
                    )

    def clock_jumped(self, now: datetime) -> None:
        for task_id, (instant, _) in list(self.overdue_since.items()):
            self.overdue_since[task_id] = (instant, now)

    def check_quiescent(
        self,
        records: Records,
        armed: set[tuple[str, datetime]],
        now: datetime,
        queued_calls: frozenset[str] = frozenset(),
    ) -> None:
        """After everything drained and every instant passed: every live task armed, every due occurrence
        fired or skipped, every run ended (or, for a target run, its next call queued: recurring tasks keep
        firing while the simulation drains, so the last ones may still be waiting out a retry delay)."""
        for task in records.tasks.values():
            runs = records.runs.get(task.id, [])
            for run in runs:
                # A run-now that failed (503) may leave a PENDING record that nothing will ever start.
                accepted = run.kind is RunKind.SCHEDULED or run.tracking_id in self.accepted_runs
                waiting = run.handed_to_runner and run.tracking_id in queued_calls
                if not waiting and (
                    run.status is RunStatus.RUNNING or (run.status is RunStatus.PENDING and accepted)
                ):
                    self.fail("P3", task.id, f"run {run.tracking_id} still {run.status.value} at quiescence")
            if task.in_flight is not None:
                self.fail("P3", task.id, "still in flight at quiescence")
            if task.status is not TaskStatus.SCHEDULED or task.next_run_at is None:
                continue
            if task.next_run_at <= now - self.settings.sweep_grace - timedelta(minutes=2):
                self.fail("P3", task.id, f"next_run_at {task.next_run_at} never fired")
            elif (task.id, task.next_run_at) not in armed:
                self.fail("P3", task.id, f"live but nothing armed for {task.next_run_at}")
            if not task.schedule.recurring:
                tracking_id = occurrence_tracking_id(task.id, task.next_run_at)
                if any(run.tracking_id == tracking_id for run in runs):
                    self.fail("P3", task.id, "armed for an occurrence that already has a run")
