"""The simulation against the fire path as it was before each of issue 7's fixes, one at a time: proof that
the simulation finds each break unaided, and how many steps it needs.

``PYTHONPATH=. .venv/bin/python -m tests.simulation.reverted 4 --seeds 100`` reverts fix 4 in memory (nothing
on disk changes) and runs 20,000-step simulations from seed 1 on until a promise breaks.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from unittest import mock

from punctual.domain.errors import StaleWriteError
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import LIVE_STATUSES, Link, LinkKind, Run, RunKind, RunStatus, Task, TaskStatus
from punctual.service import firing, tasks
from punctual.service.firing import FireOutcome, FiringService, OccurrenceBusy, SweepReport, _bump, _Ready

from tests.simulation.simulation import run_simulation

Service = Any  # the FiringService the old method is bound to


def _manual_start_on_the_run_alone(self: Service, link: Link, task: Task | None, run: Run | None) -> Any:
    """Break 1: the start of a run-now was conditioned on the run's attempt only, not on the task."""
    if run is None or run.kind is not RunKind.MANUAL:
        return FireOutcome.STALE
    if run.status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.SKIPPED):
        return FireOutcome.DUPLICATE
    now = self._clock.now()
    if task is None or task.status not in LIVE_STATUSES:
        return self._give_up(None, run, now, reason="cancelled before the run started")
    if run.status is RunStatus.RUNNING:
        return self._resume(task, run)
    started = run.evolve(
        status=RunStatus.RUNNING,
        started_at=now,
        attempt=run.attempt + 1,
        lease_until=now + self._settings.lease,
    )
    try:
        self._store.save_run(started, expected_attempt=run.attempt)
    except StaleWriteError:
        return FireOutcome.DUPLICATE
    return _Ready(None, started, message_task=task)


def _record_once(
    self: Service, ended: Run, *, expected_attempt: int, task: Task | None, before_release: Any = None
) -> None:
    """Break 2: a failed record of a published run went straight back to the queue (no in-process retry)."""
    self._store.save_run(ended, expected_attempt=expected_attempt)
    if before_release is not None:
        before_release(ended)
    if task is not None and firing._holds(task, ended):
        self._store.save_task(firing._released(task, ended), expected_version=task.version)


def _due_since_last_update(task: Task, occurrence: datetime) -> datetime:
    """Break 3: lateness counted from ``updated_at``, which any PATCH moves."""
    return max(occurrence, task.updated_at)


def _take_over_on_the_run_alone(self: Service, task: Task | None, run: Run) -> Any:
    """Break 4 (with the two below): a take-over wrote the run alone, leaving the task's version as it was."""
    if run.status is not RunStatus.RUNNING:
        return FireOutcome.DUPLICATE
    now = self._clock.now()
    if run.lease_until is not None and run.lease_until > now:
        raise OccurrenceBusy(f"run {run.tracking_id} is leased")
    if task is None or not firing._holds(task, run):
        return self._give_up(task, run, now, reason="the task no longer holds this run")
    if run.attempt >= self._settings.max_attempts:
        return self._give_up(task, run, now)
    taken = run.evolve(attempt=run.attempt + 1, lease_until=now + self._settings.lease)
    try:
        self._store.save_run(taken, expected_attempt=run.attempt)
    except StaleWriteError:
        return FireOutcome.DUPLICATE
    return _Ready(task, taken, message_task=task)


_released_now = firing._released


def _released_at_the_same_version(task: Task, ended: Run) -> Task:
    """Break 4: a finish did not bump the task's version."""
    return _released_now(task, ended).evolve(version=task.version)


def _clear_from_the_snapshot(self: Service, task: Task, now: datetime, report: SweepReport) -> SweepReport:
    """Break 4: the sweeper cleared an in-flight mark from its snapshot, at that snapshot's version, and wrote
    COMPLETED for a one-time task whatever its run did."""
    assert task.in_flight is not None
    run = self._store.get_run(task.in_flight_run or occurrence_tracking_id(task.id, task.in_flight))
    if run is None or run.status is not RunStatus.RUNNING:
        done = TaskStatus.COMPLETED if task.next_run_at is None else task.status
        self._store.save_task(
            task.evolve(in_flight=None, in_flight_run=None, status=done), expected_version=task.version
        )
        return _bump(report, resumed=1)
    if run.lease_until is not None and run.lease_until > now:
        return report
    manual = run.kind is RunKind.MANUAL
    kind = LinkKind.MANUAL if manual else LinkKind.OCCURRENCE
    self._queue.enqueue(
        Link(task.id, task.version, run.scheduled_for, kind, run.tracking_id if manual else None), 0
    )
    return _bump(report, resumed=1)


def _already_fired_only_after_a_completed_run(self: Any, task: Task, instant: datetime) -> bool:
    """Break 5: the check for a run at the new instant was skipped while ``last_run_at`` was unset."""
    if task.last_run_at is None:
        return False
    return self._store.get_run(occurrence_tracking_id(task.id, instant)) is not None


def _sweep_one_page(self: Service) -> SweepReport:
    """Break 6: the sweeper read only the ``sweep_batch`` oldest due entries."""
    now = self._clock.now()
    page = self._store.tasks_needing_attention(
        now - self._settings.sweep_grace, limit=self._settings.sweep_batch
    )
    report = SweepReport(examined=len(page.items))
    for task in page.items:
        try:
            report = self._sweep_one(task, now, report)
        except Exception:
            report = _bump(report, errors=1)
    return report


_current_now = firing._link_is_current


def _current_at_its_version(task: Task | None, link: Link) -> bool:
    """Break 7: a link counted only at the task version it was armed for, so every write made it stale."""
    return _current_now(task, link) and task is not None and task.version == link.version


_REVERSIONS: dict[int, list[tuple[Any, str, Any]]] = {
    1: [(FiringService, "_fire_manual", _manual_start_on_the_run_alone)],
    2: [(FiringService, "_record", _record_once)],
    3: [(firing, "_due_since", _due_since_last_update)],
    4: [
        (FiringService, "_resume", _take_over_on_the_run_alone),
        (firing, "_released", _released_at_the_same_version),
        (FiringService, "_sweep_in_flight", _clear_from_the_snapshot),
    ],
    5: [(tasks.TaskService, "_already_fired_at", _already_fired_only_after_a_completed_run)],
    6: [(FiringService, "sweep", _sweep_one_page)],
    7: [(firing, "_link_is_current", _current_at_its_version)],
}


@contextlib.contextmanager
def reverted(fix: int) -> Iterator[None]:
    with contextlib.ExitStack() as stack:
        for owner, name, old in _REVERSIONS[fix]:
            stack.enter_context(mock.patch.object(owner, name, old))
        yield


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("fix", type=int, choices=sorted(_REVERSIONS))
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--steps", type=int, default=20_000)
    arguments = parser.parse_args()
    total = 0
    with reverted(arguments.fix):
        for seed in range(1, arguments.seeds + 1):
            result = run_simulation(seed, arguments.steps)
            total += result.steps
            if result.violations:
                print(f"fix {arguments.fix} reverted: found after {total} steps in all")
                print(result.report())
                return 0
    print(f"fix {arguments.fix} reverted: nothing found in {total} steps")
    return 1


if __name__ == "__main__":
    sys.exit(main())
