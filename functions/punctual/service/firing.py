"""Firing use cases: wake (EBS -> delay queue), fire (claim -> arm next -> publish -> finish), sweep.

The task record decides. The executor acts on an occurrence link only while the task is scheduled with
``next_run_at`` equal to the link's occurrence. Every start of a publish, scheduled or manual, first or
retried, is one transaction that writes the task at the version it was read at (marking the run
``in_flight`` on it) and the run (new, or at the attempt it was read at): a cancel, which also writes the
task at the version it read and answers 409 while a run is in flight, can therefore never land between a
check and a publish. The run's tracking id is derived from (task, occurrence), so a duplicated or
redelivered link finds the claim. The next occurrence is armed before publishing, so a failed publish
never breaks a recurring chain. While a run is RUNNING it belongs to the delivery holding its lease; a
redelivery after a failure takes the lease over (fenced by ``attempt``). Every task write bumps the
version, so no writer ever saves an older snapshot over a newer state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import TypeVar

from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import (
    LIVE_STATUSES,
    FiredEvent,
    Link,
    LinkKind,
    MisfirePolicy,
    Run,
    RunKind,
    RunStatus,
    Task,
    TaskStatus,
)
from punctual.domain.schedules import walk_through
from punctual.domain.targets import Overlap
from punctual.service.arming import Arming
from punctual.service.ports import (
    Claim,
    Clock,
    DelayQueue,
    DeliveryQueue,
    EventPublisher,
    Metrics,
    TaskStore,
)
from punctual.service.settings import ServiceSettings

log = logging.getLogger(__name__)

# A manual start that loses its conditional write to a concurrent writer decides again on a fresh read.
_MANUAL_START_ATTEMPTS = 3


class FireOutcome(StrEnum):
    PUBLISHED = "published"
    REQUEUED = "requeued"  # too early: sent back to the delay queue / EBS
    STALE = "stale"  # the task moved on (cancelled, rescheduled, paused, new version): no-op
    DUPLICATE = "duplicate"  # the occurrence was already claimed and finished: no-op
    SKIPPED = "skipped"  # too late under the skip misfire policy: recorded, not published
    FAILED = "failed"  # publish failed on the last attempt; run marked failed


class OccurrenceBusy(Exception):
    """Another delivery holds the run's lease. Raised so the message is retried rather than dropped."""


@dataclass(frozen=True)
class _Ready:
    """A RUNNING run this delivery holds the lease on, ready to publish. ``task`` is the claimed task whose
    in-flight mark the run is (cleared on finish); ``message_task`` supplies the message and metadata."""

    task: Task | None
    run: Run
    message_task: Task | None = None


@dataclass(frozen=True)
class _Intent:
    """A scheduled occurrence's claim, decided and not yet written (a batch's are written together)."""

    claim: Claim
    following: datetime | None  # the next occurrence to arm once the claim is written
    skip: bool  # recorded as skipped (misfire or overlap policy), not published
    now: datetime


@dataclass(frozen=True)
class _Published:
    ready: _Ready
    event: FiredEvent
    our_lateness_ms: int


_Step = TypeVar("_Step")
# What a link of a batch is while fire_batch works on it: to claim, ready, published, or done (outcome or error).
_Result = FireOutcome | Exception | _Intent | _Ready | _Published


@dataclass(frozen=True)
class SweepReport:
    examined: int = 0
    rearmed: int = 0  # lost links of tasks due now re-sent (fire-once misfire: one late fire)
    skipped: int = 0  # missed occurrences dropped by the skip misfire policy (one run record per task)
    resumed: int = 0  # claimed runs whose executor died, handed back to the delay queue
    errors: int = 0


class FiringService:
    def __init__(
        self,
        store: TaskStore,
        arming: Arming,
        queue: DelayQueue,
        publisher: EventPublisher,
        clock: Clock,
        settings: ServiceSettings,
        metrics: Metrics,
        deliveries: DeliveryQueue | None = None,
    ) -> None:
        self._store, self._arming, self._queue, self._publisher = store, arming, queue, publisher
        self._clock, self._settings, self._metrics = clock, settings, metrics
        # Where a published run of a lambda/https task goes for its call (the runner's queue). Without one
        # (a stage with no runner) such runs complete on publish, as topic runs do.
        self._deliveries = deliveries

    # ---- wake: an EBS one-time schedule fired at (T - lead) -------------------------------------------

    def wake(self, link: Link) -> None:
        """Hand the link to the delay queue for the remaining whole seconds (or back to EBS if still far)."""
        self._arming.arm(link, self._clock.now())

    # ---- fire: a delay-queue message arrived -----------------------------------------------------------

    def fire(self, link: Link) -> FireOutcome:
        """Act on one link. Raises when the message must be retried (publish failed with attempts left,
        or another delivery holds the lease); returns the outcome otherwise."""
        (result,) = self.fire_batch([link])
        if isinstance(result, Exception):
            raise result
        return result

    def fire_batch(self, links: Sequence[Link]) -> list[FireOutcome | Exception]:
        """Act on a delivered batch, in the order given (the executor sorts it by occurrence), with one result
        per link: its outcome, or the exception that means "redeliver this one".

        Passes, so that after an instant only its publish remains: one read of every link's task and run;
        every due link claimed (the scheduled ones in one write) and its next occurrence armed (a claim needs
        no waiting: it may come up to a second early); the claimed runs published as their instants come,
        together when they share one; every outcome recorded."""
        results: list[_Result] = []
        fresh: list[tuple[int, Link, str]] = []
        seen: set[Link] = set()
        for index, link in enumerate(links):
            tracking_id = _tracking_id_of(link)
            if link in seen:  # SQS delivered the same message twice in one batch
                self._metrics.count("duplicate")
                results.append(FireOutcome.DUPLICATE)
            elif tracking_id is None:  # a manual link without its run: nothing to act on
                results.append(FireOutcome.STALE)
            else:
                results.append(FireOutcome.STALE)  # replaced below
                fresh.append((index, link, tracking_id))
            seen.add(link)
        snapshots = self._attempt(
            partial(self._store.get_tasks_and_runs, [(link.task_id, tracking) for _, link, tracking in fresh])
        )
        for position, (index, link, _) in enumerate(fresh):
            if isinstance(snapshots, Exception):
                results[index] = snapshots
            else:
                task, run = snapshots[position]
                results[index] = self._attempt(partial(self._prepare, link, task, run))
        self._claim_all(results)
        self._publish_ready(results)
        for index, published in enumerate(results):
            if isinstance(published, _Published):
                results[index] = self._attempt(partial(self._finish, published))
        final: list[FireOutcome | Exception] = []
        for result in results:
            assert isinstance(result, FireOutcome | Exception), result  # every pass ran to its end
            final.append(result)
        return final

    @staticmethod
    def _attempt(step: Callable[[], _Step]) -> _Step | Exception:
        try:
            return step()
        except Exception as error:  # reported per link; the others of the batch go on
            return error

    def _prepare(self, link: Link, task: Task | None, run: Run | None) -> FireOutcome | _Intent | _Ready:
        """Everything before the instant, from the link's task and run as read: check, then the claim of a
        scheduled occurrence to write (with the batch's), or a resumed or manual run claimed here."""
        if link.kind is LinkKind.MANUAL:
            return self._fire_manual(link, task, run)
        if run is not None:
            return self._resume(task, run)
        if not _link_is_current(task, link):
            self._metrics.count("stale")
            return FireOutcome.STALE
        assert task is not None  # _link_is_current checked it
        if task.in_flight is not None:
            if _holds_a_manual_run(task):
                # A run-now holds the task for the milliseconds of its publish: come back in a second rather
                # than after the delay queue's visibility timeout.
                self._queue.enqueue(link, 1)
                return FireOutcome.REQUEUED
            # One claimed occurrence per task at a time: while an earlier one is still being retried, a later
            # one waits (and then fires coalesced), so a cancel that saw no in-flight occurrence is final.
            raise OccurrenceBusy(f"task {task.id} is still firing {task.in_flight.isoformat()}")

        now = self._clock.now()
        if (link.occurrence - now).total_seconds() >= 1:
            self._arming.arm(link, now)
            return FireOutcome.REQUEUED
        return self._intent(task, link.occurrence, occurrence_tracking_id(task.id, link.occurrence), now)

    def _claim_all(self, results: list[_Result]) -> None:
        """Write the claims of ``results`` (one store call for a batch), each replaced by what follows from
        it. Two links of one task (a duplicate, or a link of an older version) cannot share a write: the later
        ones go in another round, where the first one's claim has moved the task (stale)."""
        waiting = [(index, result) for index, result in enumerate(results) if isinstance(result, _Intent)]
        while waiting:
            this_round: list[tuple[int, _Intent]] = []
            later: list[tuple[int, _Intent]] = []
            tasks: set[str] = set()
            for index, intent in waiting:
                (later if intent.claim.task.id in tasks else this_round).append((index, intent))
                tasks.add(intent.claim.task.id)
            written = self._attempt(
                partial(self._store.claim_all, [intent.claim for _, intent in this_round])
            )
            for position, (index, intent) in enumerate(this_round):
                if isinstance(written, Exception):
                    results[index] = written  # not a condition: the claim is retried with the message
                else:
                    results[index] = self._attempt(partial(self._claimed, intent, written[position]))
            waiting = later

    def _claim(
        self, task: Task, occurrence: datetime, tracking_id: str, now: datetime
    ) -> FireOutcome | _Ready:
        intent = self._intent(task, occurrence, tracking_id, now)
        claim = intent.claim
        try:
            self._store.claim(claim.task, expected_version=claim.expected_version, run=claim.run)
        except (StaleWriteError, AlreadyExistsError) as error:
            return self._claimed(intent, error)
        return self._claimed(intent, None)

    def _intent(self, task: Task, occurrence: datetime, tracking_id: str, now: datetime) -> _Intent:
        """The claim of ``occurrence``: the run to start (or to record as skipped) and the task holding it."""
        following, passed = self._following(task, occurrence, now)
        late = now - _due_since(task, occurrence)
        misfired = task.misfire is MisfirePolicy.SKIP and late >= self._settings.sweep_grace
        overlapping = not misfired and self._previous_run_unfinished(task)
        skip = misfired or overlapping
        reason = (
            f"missed by {_milliseconds(late)} ms; skipped by the misfire policy"
            if misfired
            else "the previous run was still going; skipped by the overlap policy"
        )
        run = Run(
            tracking_id=tracking_id,
            task_id=task.id,
            context=task.context,
            kind=RunKind.SCHEDULED,
            status=RunStatus.SKIPPED if skip else RunStatus.RUNNING,
            triggered_at=occurrence,
            scheduled_for=occurrence,
            task_name=task.name,
            started_at=now,
            completed_at=now if skip else None,
            attempt=1,
            lease_until=None if skip else now + self._settings.lease,
            missed=task.missed + passed,
            lateness_ms=_milliseconds(late) if skip else None,
            error=reason if skip else None,
            target_type=task.target.type,
        )
        claimed = task.evolve(
            version=task.version + 1,
            next_run_at=following,
            in_flight=None if skip else occurrence,
            in_flight_run=None if skip else tracking_id,
            missed=0,
            status=TaskStatus.COMPLETED if skip and following is None else task.status,
        )
        return _Intent(Claim(claimed, task.version, run), following, skip, now)

    def _claimed(self, intent: _Intent, error: Exception | None) -> FireOutcome | _Ready:
        """What follows a claim's write: ``error`` is the condition it lost, if it did."""
        if isinstance(error, StaleWriteError):
            self._metrics.count("stale")  # a cancel/reschedule/another claim won the race
            return FireOutcome.STALE
        if isinstance(error, AlreadyExistsError):
            self._metrics.count("duplicate")
            return FireOutcome.DUPLICATE
        if error is not None:
            raise error
        claimed, run, following = intent.claim.task, intent.claim.run, intent.following
        # Arm the next occurrence before publishing: a failed publish must not break the chain.
        if following is not None:
            self._arm_next(Link(claimed.id, claimed.version, following), intent.now)
        if intent.skip:
            self._metrics.count("skipped", 1 + run.missed)
            self._metrics.skipped_lateness(run.lateness_ms or 0)  # never the fired lateness (its p99 alarms)
            return FireOutcome.SKIPPED
        return _Ready(claimed, run, message_task=claimed)

    def _previous_run_unfinished(self, task: Task) -> bool:
        """Overlap skip: whether the task's last published occurrence is still queued for, or in, its call.
        One read, only for tasks that asked for it."""
        if task.overlap is not Overlap.SKIP or not task.target.runs_something or task.last_run_at is None:
            return False
        previous = self._store.get_run(occurrence_tracking_id(task.id, task.last_run_at))
        return previous is not None and previous.status in (RunStatus.PENDING, RunStatus.RUNNING)

    def _following(self, task: Task, occurrence: datetime, now: datetime) -> tuple[datetime | None, int]:
        """The next occurrence to arm after ``occurrence``, and how many already passed (coalesced)."""
        _, passed, following = walk_through(
            task.schedule, occurrence, now, cap=self._settings.max_missed_count
        )
        return following, passed

    def _resume(self, task: Task | None, run: Run) -> FireOutcome | _Ready:
        """The run was claimed before: a duplicate, or a redelivery after a failed/crashed attempt."""
        if run.status is not RunStatus.RUNNING or run.handed_to_runner:
            # A target call never started may have died with its queueing: queue it again, before any release
            # (while the task holds the run, its mark brings the sweeper back if this delivery dies too).
            self._hand_over_again(run)
            if task is not None and _holds(task, run):
                # The run was recorded but its task's release was not (a crash between the two writes).
                self._release_ended(task, run)
            self._metrics.count("duplicate")
            return FireOutcome.DUPLICATE
        now = self._clock.now()
        if run.lease_until is not None and run.lease_until > now:
            raise OccurrenceBusy(f"run {run.tracking_id} is leased until {run.lease_until.isoformat()}")
        if task is None or not _holds(task, run):
            # Only a finish or a give-up clears the mark, and both end the run: nothing may publish it now.
            return self._give_up(task, run, now, reason="the task no longer holds this run")
        if run.attempt >= self._settings.max_attempts:
            return self._give_up(task, run, now)
        taken = run.evolve(attempt=run.attempt + 1, lease_until=now + self._settings.lease)
        holding = task.evolve(version=task.version + 1)
        try:
            self._store.claim(holding, expected_version=task.version, run=taken, expected_attempt=run.attempt)
        except StaleWriteError:
            self._metrics.count("duplicate")  # a concurrent redelivery took it over, or finished it
            return FireOutcome.DUPLICATE
        if run.kind is RunKind.SCHEDULED and holding.next_run_at is not None:
            # The crash may have come before the next occurrence was armed; arming is idempotent.
            self._arm_next(Link(holding.id, holding.version, holding.next_run_at), now)
        return _Ready(holding, taken, message_task=holding)

    def _arm_next(self, link: Link, now: datetime) -> None:
        """Arm the following occurrence without holding back this one's publish if EBS/SQS fail: the task
        then sits in the due index with an overdue next_run_at and the sweeper re-arms it."""
        try:
            self._arming.arm(link, now)
        except Exception:
            self._metrics.count("arm_failed")
            log.exception("could not arm the next occurrence", extra={"task_id": link.task_id})

    def _fire_manual(self, link: Link, task: Task | None, run: Run | None) -> FireOutcome | _Ready:
        """Run now: the run record (PENDING) was written by the API; publish once for it, unless the task was
        cancelled first. The start claims the task, so a cancel either lands before it (the run fails) or
        meets the in-flight run (409)."""
        for _ in range(_MANUAL_START_ATTEMPTS):
            if run is None or run.kind is not RunKind.MANUAL:
                return FireOutcome.STALE
            if (
                run.status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.SKIPPED)
                or run.handed_to_runner
            ):
                self._metrics.count("duplicate")
                self._hand_over_again(run)
                return FireOutcome.DUPLICATE
            if run.status is RunStatus.RUNNING:
                return self._resume(task, run)
            now = self._clock.now()
            if task is None or task.status not in LIVE_STATUSES:
                return self._give_up(
                    None, run, now, reason="the task was cancelled or finished before the run started"
                )
            if task.in_flight is not None:
                # Another run holds the task (a scheduled occurrence publishing now): come back in a second.
                self._queue.enqueue(link, 1)
                return FireOutcome.REQUEUED
            started = run.evolve(
                status=RunStatus.RUNNING,
                started_at=now,
                attempt=run.attempt + 1,
                lease_until=now + self._settings.lease,
                target_type=task.target.type,
            )
            holding = task.evolve(
                version=task.version + 1, in_flight=run.scheduled_for, in_flight_run=run.tracking_id
            )
            try:
                self._store.claim(
                    holding, expected_version=task.version, run=started, expected_attempt=run.attempt
                )
            except StaleWriteError:
                # The task or the run moved between the read and the start: decide again on a fresh read.
                ((task, run),) = self._store.get_tasks_and_runs([(link.task_id, run.tracking_id)])
                continue
            return _Ready(holding, started, message_task=holding)
        raise OccurrenceBusy(f"run {link.tracking_id} kept losing its start to concurrent writers")

    # ---- publish and finish --------------------------------------------------------------------------

    def _publish_ready(self, results: list[_Result]) -> None:
        """Publish every ready run of ``results`` at its instant (a claim may come up to a second early), the
        runs whose instants have come in one batch; each is replaced by its _Published or its failure."""
        waiting = [index for index, result in enumerate(results) if isinstance(result, _Ready)]
        while waiting:
            now = self._clock.now()
            due = [index for index in waiting if not _is_early(_ready_at(results, index), now)]
            if not due:
                earliest = min(_ready_at(results, index).run.scheduled_for for index in waiting)
                self._clock.sleep((earliest - now).total_seconds())
                continue
            waiting = [index for index in waiting if index not in due]
            built: list[tuple[int, FiredEvent, int]] = []
            for index in due:
                made = self._attempt(partial(self._event_for, _ready_at(results, index), now))
                if isinstance(made, tuple):
                    built.append((index, *made))
                else:
                    results[index] = made
            if not built:
                continue
            sent = self._publish_events([event for _, event, _ in built])
            for (index, event, our_lateness_ms), outcome in zip(built, sent, strict=True):
                ready = _ready_at(results, index)
                if isinstance(outcome, Exception):
                    results[index] = self._attempt(
                        partial(self._publish_failed, ready.task, ready.run, outcome)
                    )
                else:
                    results[index] = _Published(ready, event, our_lateness_ms)

    def _publish_events(self, events: list[FiredEvent]) -> list[str | Exception]:
        """One result per event, whatever the publisher does: should it raise or miscount (its contract says
        it does not), each event is failed with that error and redelivered."""
        try:
            sent = self._publisher.publish_batch(events)
        except Exception as error:
            return [error] * len(events)
        if len(sent) != len(events):
            return [RuntimeError(f"{len(sent)} publish results for {len(events)} events")] * len(events)
        return sent

    def _event_for(self, ready: _Ready, fired_at: datetime) -> tuple[FiredEvent, int] | FireOutcome:
        """The event to publish for a ready run, and punctual's own lateness for it (the metric and its
        alarm: not the time before a past instant was scheduled)."""
        task, run = ready.task, ready.run
        source = task or ready.message_task or self._store.get_task(run.task_id, consistent=True)
        if source is None:
            return self._give_up(None, run, fired_at, reason="the task no longer exists")
        event = FiredEvent(
            task_id=run.task_id,
            tracking_id=run.tracking_id,
            name=source.name,
            scheduled_for=run.scheduled_for,
            fired_at=fired_at,
            lateness_ms=_milliseconds(fired_at - run.scheduled_for),
            message=source.message,
            metadata=dict(source.metadata),
            attempt=run.attempt,
            dedup_key=run.dedup_key,
            tenant=source.context.tenant,
            user=source.context.user,
            kind=run.kind,
            missed=run.missed,
        )
        return event, _milliseconds(fired_at - _due_since(source, run.scheduled_for))

    def _finish(self, published: _Published) -> FireOutcome:
        """Record a published run (and clear its task's in-flight mark)."""
        run, event = published.ready.run, published.event
        source = published.ready.message_task or published.ready.task
        hand_off = self._deliveries is not None and source is not None and source.target.runs_something
        done = run.evolve(
            # A target run is not over when its event is out: it waits (PENDING) for the runner's call.
            status=RunStatus.PENDING if hand_off else RunStatus.COMPLETED,
            fired_at=event.fired_at,
            completed_at=None if hand_off else self._clock.now(),
            lateness_ms=event.lateness_ms,
            lease_until=None,
            error=None,
            target_type=source.target.type if hand_off and source is not None else run.target_type,
        )
        try:
            # The call is queued after the run is recorded and before the task is released: until the release,
            # the task's mark brings the link's redelivery or the sweeper back to queue it again if we die.
            self._record(
                done,
                expected_attempt=run.attempt,
                task=published.ready.task,
                before_release=self._hand_to_runner if hand_off else None,
            )
        except StaleWriteError:
            # Our lease lapsed mid-publish and another delivery took over; it records the outcome. The event
            # may reach subscribers twice in this rare case: that is what its dedup_key is for.
            log.warning("lost the lease while publishing", extra={"tracking_id": run.tracking_id})
        self._metrics.count("fired")
        self._metrics.lateness(published.our_lateness_ms)
        if published.our_lateness_ms > 1000:
            self._metrics.count("late")
        log.info(
            "fired",
            extra={"task_id": run.task_id, "tracking_id": run.tracking_id, "lateness_ms": event.lateness_ms},
        )
        return FireOutcome.PUBLISHED

    def _hand_to_runner(self, run: Run) -> None:
        """Queue the target call of a recorded run: the call happens in the runner, never on this path, so a
        slow target delays no other task's fire. Only after the run is recorded as handed over, so the runner
        always finds it; a failed enqueue fails the run with the reason (POST /runs/{id}/retry replays it), and
        when that cannot be recorded either, this raises so the task stays held and the fire comes back."""
        assert self._deliveries is not None
        try:
            self._deliveries.send(run.tracking_id, 1, delay_seconds=0)
        except Exception as error:
            self._metrics.count("delivery_enqueue_failed")
            log.exception("could not queue the target call", extra={"tracking_id": run.tracking_id})
            failed = run.evolve(
                status=RunStatus.FAILED,
                completed_at=self._clock.now(),
                error=f"the target call could not be queued: {error}",
            )
            # Neither queued nor recorded as failed: raise, so the task is not released and the fire's message
            # comes back (its redelivery queues the call again).
            self._store.save_delivery(failed, expected_delivery_attempt=0)

    def _hand_over_again(self, run: Run) -> None:
        """A redelivered fire of a run recorded as handed over, whose first call was never started: the
        delivery that recorded it may have died before queueing the call. Queue it (again: a second copy of
        attempt 1 is a no-op in the runner); a failure here sends the fire message back to try once more."""
        untouched = run.status is RunStatus.PENDING and run.delivery_attempt == 0
        if self._deliveries is not None and run.handed_to_runner and untouched:
            self._deliveries.send(run.tracking_id, 1, delay_seconds=0)

    def _record(
        self,
        ended: Run,
        *,
        expected_attempt: int,
        task: Task | None,
        before_release: Callable[[Run], None] | None = None,
    ) -> None:
        """Save an ended run, then release its task: two single-item writes, half the write units of one
        transaction. A crash between them leaves the task holding an ended run; the link's redelivery or the
        sweeper releases it (the run being ended, nothing can publish it again). Retried in process (bounded)
        so that a throttled or failed write after a publish does not send the message back for a second
        publish. Raises StaleWriteError when the run's lease was lost, or the last error once the attempts
        are spent (the message is then redelivered after its visibility timeout)."""
        snapshot = task
        run_saved = False
        handed = before_release is None
        for attempt in range(1, self._settings.record_attempts + 1):
            try:
                if not run_saved:
                    self._store.save_run(ended, expected_attempt=expected_attempt)
                    run_saved = True
                if not handed:
                    assert before_release is not None
                    before_release(ended)
                    handed = True
                if snapshot is None or not _holds(snapshot, ended):
                    return
                self._store.save_task(_released(snapshot, ended), expected_version=snapshot.version)
                return
            except StaleWriteError:
                if not run_saved:
                    raise  # the run moved on: our lease was lost
                # Only the task moved: decide again on a fresh read.
            except Exception:
                if attempt == self._settings.record_attempts:
                    raise
                self._metrics.count("record_retried")
                self._clock.sleep(self._settings.record_backoff.total_seconds() * attempt)
            # The task moved, or a write failed (perhaps after taking effect): decide again on a fresh read.
            try:
                snapshot = self._store.get_task(ended.task_id, consistent=True)
            except Exception:
                log.warning("could not re-read the task", extra={"task_id": ended.task_id})
        # Not StaleWriteError (that means a lost lease): the message must come back and record it again.
        raise RuntimeError(f"task {ended.task_id} kept moving while run {ended.tracking_id} was recorded")

    def _publish_failed(self, task: Task | None, run: Run, error: Exception) -> FireOutcome:
        now = self._clock.now()
        if run.attempt >= self._settings.max_attempts:
            return self._give_up(task, run, now, reason=f"publish failed: {error}")
        # Release the lease so the redelivery can take over at once, and keep the error visible meanwhile.
        try:
            released = run.evolve(lease_until=now, error=f"publish failed: {error}")
            self._store.save_run(released, expected_attempt=run.attempt)
        except Exception:  # the retry works without this bookkeeping; the lease simply lapses later
            log.warning("could not record publish failure", extra={"tracking_id": run.tracking_id})
        raise error

    def _give_up(
        self, task: Task | None, run: Run, now: datetime, *, reason: str | None = None
    ) -> FireOutcome:
        failed = run.evolve(
            status=RunStatus.FAILED,
            completed_at=now,
            lease_until=None,
            error=reason or run.error or "gave up after the last attempt",
        )
        try:
            self._record(failed, expected_attempt=run.attempt, task=task)
        except StaleWriteError:
            return FireOutcome.DUPLICATE
        self._metrics.count("failed")
        log.error(
            "run failed",
            extra={"task_id": run.task_id, "tracking_id": run.tracking_id, "error": failed.error},
        )
        return FireOutcome.FAILED

    # ---- sweep: every minute, repair lost links and apply the misfire policy --------------------------

    def sweep(self) -> SweepReport:
        """Read the whole due index, page by page (at most ``sweep_max_tasks`` a minute): a task the sweep
        cannot move this minute (leased, or its repair link still lagging in the queue) never hides the
        ones after it."""
        now = self._clock.now()
        report = SweepReport()
        continuation = None
        while report.examined < self._settings.sweep_max_tasks:
            page = self._store.tasks_needing_attention(
                now - self._settings.sweep_grace, limit=self._settings.sweep_batch, continuation=continuation
            )
            report = _bump(report, examined=len(page.items))
            for task in page.items:
                try:
                    report = self._sweep_one(task, now, report)
                except Exception:  # one bad record must not stop the repair of the others
                    log.exception("sweep failed for a task", extra={"task_id": task.id})
                    report = _bump(report, errors=1)
            continuation = page.continuation
            if continuation is None:
                break
        return report

    def _sweep_one(self, task: Task, now: datetime, report: SweepReport) -> SweepReport:
        if task.in_flight is not None:
            return self._sweep_in_flight(task, now, report)
        if task.status is not TaskStatus.SCHEDULED or task.next_run_at is None:
            return report
        late = now - _due_since(task, task.next_run_at)
        if task.misfire is MisfirePolicy.SKIP and late >= self._settings.sweep_grace:
            # Record the outage once and move the chain to the next future occurrence. The claim decides the
            # skip from the same instant, so nothing is published here (the sweeper has no topic).
            tracking_id = occurrence_tracking_id(task.id, task.next_run_at)
            outcome = self._claim(task, task.next_run_at, tracking_id, now)
            assert not isinstance(outcome, _Ready), "a sweep claim is always a skip"
            return _bump(report, skipped=1) if outcome is FireOutcome.SKIPPED else report
        # Fire once, late, for the latest missed occurrence; the others are coalesced into it.
        latest, missed = self._latest_missed(task, now)
        version = task.version
        if latest != task.next_run_at:
            moved = task.evolve(version=task.version + 1, next_run_at=latest, missed=task.missed + missed - 1)
            try:
                self._store.save_task(moved, expected_version=task.version)
            except StaleWriteError:
                return report  # the task changed meanwhile; its new link is current
            version = moved.version
        # Re-sending the same occurrence bumps nothing: a repair link that lags in the queue stays good.
        self._queue.enqueue(Link(task.id, version, latest), 0)
        return _bump(report, rearmed=1)

    def _sweep_in_flight(self, task: Task, now: datetime, report: SweepReport) -> SweepReport:
        assert task.in_flight is not None
        tracking_id = task.in_flight_run or occurrence_tracking_id(task.id, task.in_flight)
        run = self._store.get_run(tracking_id)
        if run is None or run.status is not RunStatus.RUNNING or run.handed_to_runner:
            # The run ended, or was handed to the runner (or never was), but the task kept its mark: clear it,
            # or the task would answer 409 forever. A handed-over call the runner never started may have died
            # with its queueing (and the fire's message be lost): queue it again first (a copy is a no-op).
            if run is not None:
                self._hand_over_again(run)
            if self._release_ended(task, run):
                return _bump(report, resumed=1)
            return report
        if run.lease_until is not None and run.lease_until > now:
            return report
        # Claimed but never finished (executor died, message dead-lettered): let a delivery resume it.
        if run.kind is RunKind.MANUAL:
            link = Link(task.id, task.version, run.scheduled_for, LinkKind.MANUAL, run.tracking_id)
        else:
            link = Link(task.id, task.version, run.scheduled_for)
        self._queue.enqueue(link, 0)
        return _bump(report, resumed=1)

    def _release_ended(self, task: Task, run: Run | None) -> bool:
        """Clear the mark of a task that still holds an ended run (or a run that was never written), from this
        very snapshot: a release landing meanwhile bumps the version, and this write then loses. A run that
        was published is counted here, as the lost release would have counted it."""
        if run is None:
            released = task.evolve(
                version=task.version + 1, in_flight=None, in_flight_run=None, status=_status_after(task, None)
            )
        else:
            released = _released(task, run)
        try:
            self._store.save_task(released, expected_version=task.version)
        except StaleWriteError:
            return False
        return True

    def _latest_missed(self, task: Task, now: datetime) -> tuple[datetime, int]:
        """The last occurrence at or before now, counting from next_run_at, and how many there were."""
        assert task.next_run_at is not None
        cap = self._settings.max_missed_count - 1
        latest, passed, _ = walk_through(task.schedule, task.next_run_at, now, cap=cap)
        return latest, passed + 1


def _tracking_id_of(link: Link) -> str | None:
    """The run a link acts on: the occurrence's (derived), or the manual run's the API wrote."""
    if link.kind is LinkKind.MANUAL:
        return link.tracking_id
    return occurrence_tracking_id(link.task_id, link.occurrence)


def _ready_at(results: list[_Result], index: int) -> _Ready:
    ready = results[index]
    assert isinstance(ready, _Ready), ready
    return ready


def _is_early(ready: _Ready, now: datetime) -> bool:
    """A scheduled run is published at its instant, not before; a manual one at once."""
    return ready.run.kind is RunKind.SCHEDULED and ready.run.scheduled_for > now


def _link_is_current(task: Task | None, link: Link) -> bool:
    return task is not None and task.status is TaskStatus.SCHEDULED and task.next_run_at == link.occurrence


def _holds(task: Task, run: Run) -> bool:
    """Whether the task's in-flight mark is this run (records from before in_flight_run name it by instant)."""
    if task.in_flight_run is not None:
        return task.in_flight_run == run.tracking_id
    return run.kind is RunKind.SCHEDULED and task.in_flight == run.scheduled_for


def _holds_a_manual_run(task: Task) -> bool:
    """Whether the task's in-flight mark is a run-now's (a scheduled run's tracking id derives from its instant)."""
    return (
        task.in_flight is not None
        and task.in_flight_run is not None
        and task.in_flight_run != occurrence_tracking_id(task.id, task.in_flight)
    )


def _released(task: Task, ended: Run) -> Task:
    """The task once ``ended`` is recorded: the mark cleared; a published occurrence counted; a one-time task
    finished as its run did."""
    changes: dict[str, object] = {"version": task.version + 1, "in_flight": None, "in_flight_run": None}
    if ended.kind is RunKind.SCHEDULED:
        if ended.status is RunStatus.COMPLETED or ended.handed_to_runner:
            changes["last_run_at"] = ended.scheduled_for
            changes["fired_count"] = task.fired_count + 1
        changes["status"] = _status_after(task, ended)
    return task.evolve(**changes)


def _status_after(task: Task, run: Run | None) -> TaskStatus:
    """A one-time task (nothing left to arm) ends as its scheduled run did; anything else keeps its status."""
    if task.next_run_at is not None or task.status is not TaskStatus.SCHEDULED:
        return task.status  # a paused task has no next_run_at either, and keeps its status
    if run is not None and run.kind is RunKind.MANUAL:
        return task.status
    if run is not None and (run.status in (RunStatus.COMPLETED, RunStatus.SKIPPED) or run.handed_to_runner):
        return TaskStatus.COMPLETED  # a one-time task with a target is done firing; its run reports the call
    if run is None or run.status is RunStatus.FAILED:
        return TaskStatus.FAILED
    return task.status


def _due_since(task: Task, occurrence: datetime) -> datetime:
    """When punctual became due to fire ``occurrence``: the instant itself, or, for an instant already past
    when a schedule change set it (a past ``at`` fires at once), the moment of that change. A PATCH of
    anything but the schedule leaves it alone."""
    return max(occurrence, task.schedule_changed_at or task.created_at)


def _milliseconds(delta: timedelta) -> int:
    return int(delta.total_seconds() * 1000)


def _bump(report: SweepReport, **increments: int) -> SweepReport:
    values = {name: getattr(report, name) + increments.get(name, 0) for name in report.__dataclass_fields__}
    return SweepReport(**values)
