"""The runner: calls a fired run's Lambda or HTTPS target, records each attempt, retries, reports the outcome.

One delivery-queue message per attempt: ``(tracking id, attempt n)``. The run record decides. A message acts
only when the run is at attempt n - 1 (``delivery_attempt``); marking it RUNNING at n is a conditional write,
so however often SQS delivers a message, its call is made once. After the call the attempt is recorded, and
then either the run ends (COMPLETED / FAILED) and its outcome event is published — only after the outcome is
recorded — or attempt n + 1 is queued with the retry policy's delay. A cancelled task gets no further
attempt. A runner that dies mid-call leaves the run RUNNING past its lease: the message's redelivery counts
that attempt as failed and goes on from there.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from punctual.domain.errors import StaleWriteError
from punctual.domain.jsontext import compact_json
from punctual.domain.model import (
    DeliveryAttempt,
    FiredEvent,
    OutcomeEvent,
    OutcomeType,
    Run,
    RunStatus,
    Task,
    TaskStatus,
)
from punctual.domain.retries import retry_after_seconds, retry_delay_seconds, worth_retrying
from punctual.domain.signatures import HEADER as SIGNATURE_HEADER
from punctual.domain.signatures import sign
from punctual.domain.targets import TargetType
from punctual.service.ports import (
    CallOutcome,
    Clock,
    DeliveryQueue,
    Metrics,
    OutcomePublisher,
    SigningSecrets,
    TargetInvoker,
    TaskStore,
)

log = logging.getLogger(__name__)

MAX_RESULT_BYTES = 4096
MAX_ERROR_CHARS = 1000
# A RUNNING attempt belongs to its runner for the target's timeout plus this; after that a redelivery may
# count it as failed (the runner's own timeout is shorter than timeout + margin).
LEASE_MARGIN = timedelta(seconds=30)


class DeliveryOutcome(StrEnum):
    COMPLETED = "completed"
    RETRYING = "retrying"  # this attempt failed; the next is queued
    FAILED = "failed"  # the last attempt failed, or the task was cancelled
    DUPLICATE = "duplicate"  # the attempt was already made (a redelivered message): nothing done
    GONE = "gone"  # no such run (expired), or not a target run


class AttemptBusy(Exception):
    """Another runner is making this attempt now; the message comes back after its visibility timeout."""


@dataclass(frozen=True)
class RunnerPorts:
    invokers: dict[TargetType, TargetInvoker]
    deliveries: DeliveryQueue
    outcomes: OutcomePublisher
    secrets: SigningSecrets


class RunnerService:
    def __init__(
        self,
        store: TaskStore,
        ports: RunnerPorts,
        clock: Clock,
        metrics: Metrics,
        rng: random.Random | None = None,
    ) -> None:
        self._store, self._ports, self._clock, self._metrics = store, ports, clock, metrics
        self._random = (rng or random.Random()).random

    def deliver(self, tracking_id: str, attempt: int) -> DeliveryOutcome:
        """Act on one delivery message. Raises when the message must come back (a store or SNS failure,
        or another runner holding the attempt)."""
        run = self._store.get_run(tracking_id)
        if run is None or run.target_type is TargetType.TOPIC or run.fired_at is None:
            return DeliveryOutcome.GONE
        if run.delivery_attempt >= attempt:
            return self._redelivered(run, attempt)
        if run.delivery_attempt != attempt - 1 or run.status is not RunStatus.PENDING:
            self._metrics.count("delivery_duplicate")
            return DeliveryOutcome.DUPLICATE
        task = self._store.get_task(run.task_id, consistent=True)
        if task is None or task.status is TaskStatus.CANCELLED:
            return self._end(
                run.evolve(delivery_attempt=attempt),
                expected=run.delivery_attempt,
                failed_reason="the task was cancelled; no further attempt",
                task=task,
            )
        now = self._clock.now()
        running = run.evolve(
            status=RunStatus.RUNNING,
            started_at=now,
            delivery_attempt=attempt,
            lease_until=now + timedelta(seconds=task.target.timeout_seconds) + LEASE_MARGIN,
        )
        try:
            self._store.save_delivery(running, expected_delivery_attempt=attempt - 1)
        except StaleWriteError:
            self._metrics.count("delivery_duplicate")
            return DeliveryOutcome.DUPLICATE
        outcome = self._call(task, running)
        return self._after_call(task, running, outcome)

    # ---- the call -------------------------------------------------------------------------------------

    def _call(self, task: Task, run: Run) -> CallOutcome:
        target = task.target
        body = compact_json(self._event(task, run).body()).encode()
        headers: dict[str, str] = {}
        if target.type is TargetType.HTTPS:
            # The invoker checks the URL's addresses again right before connecting (DNS may have changed).
            secret = self._ports.secrets.secret_for(task.context.tenant)
            headers = {
                **target.headers,
                SIGNATURE_HEADER: sign(body, secret, int(self._clock.now().timestamp())),
            }
        invoker = self._ports.invokers.get(target.type)
        if invoker is None:
            return CallOutcome(ok=False, error=f"no invoker for {target.type.value} targets on this stage")
        try:
            return invoker.call(target, body, headers)
        except Exception as error:  # the contract says never; a bug must still fail the attempt, not the run
            return CallOutcome(ok=False, error=f"invoker error: {error!r}")

    def _event(self, task: Task, run: Run) -> FiredEvent:
        assert run.fired_at is not None
        return FiredEvent(
            task_id=run.task_id,
            tracking_id=run.tracking_id,
            name=task.name,
            scheduled_for=run.scheduled_for,
            fired_at=run.fired_at,
            lateness_ms=run.lateness_ms or 0,
            message=task.message,
            metadata=dict(task.metadata),
            attempt=run.delivery_attempt,
            dedup_key=run.dedup_key,
            tenant=task.context.tenant,
            user=task.context.user,
            kind=run.kind,
            missed=run.missed,
        )

    # ---- after the call -------------------------------------------------------------------------------

    def _after_call(self, task: Task, run: Run, outcome: CallOutcome) -> DeliveryOutcome:
        now = self._clock.now()
        assert run.started_at is not None
        duration_ms = int((now - run.started_at).total_seconds() * 1000)
        error = None if outcome.ok else _clip(outcome.error or f"the target answered {outcome.status}")
        attempted = run.evolve(
            deliveries=(
                *run.deliveries,
                DeliveryAttempt(run.delivery_attempt, run.started_at, duration_ms, outcome.status, error),
            ),
            duration_ms=duration_ms,
            response_status=outcome.status,
            result=_first_bytes(outcome.result),
            error=error,
            lease_until=None,
        )
        self._metrics.count("target_call_ok" if outcome.ok else "target_call_failed")
        if outcome.ok:
            return self._end(attempted, expected=run.delivery_attempt, task=task)
        policy = task.retry
        attempts_this_round = run.delivery_attempt - run.retry_base
        if task.status is TaskStatus.CANCELLED or not worth_retrying(outcome.status, policy):
            return self._end(attempted, expected=run.delivery_attempt, failed_reason=error, task=task)
        if attempts_this_round >= policy.max_attempts:
            reason = f"{error} (after {attempts_this_round} attempts)"
            return self._end(attempted, expected=run.delivery_attempt, failed_reason=reason, task=task)
        delay = retry_delay_seconds(
            policy,
            attempts_this_round,
            random=self._random,
            retry_after=retry_after_seconds(outcome.status, outcome.retry_after, now),
        )
        waiting = attempted.evolve(status=RunStatus.PENDING)
        try:
            self._store.save_delivery(waiting, expected_delivery_attempt=run.delivery_attempt)
        except StaleWriteError:
            return DeliveryOutcome.DUPLICATE
        self._ports.deliveries.send(run.tracking_id, run.delivery_attempt + 1, delay_seconds=delay)
        log.info(
            "target call failed; retrying",
            extra={"tracking_id": run.tracking_id, "attempt": run.delivery_attempt, "delay_seconds": delay},
        )
        return DeliveryOutcome.RETRYING

    def _end(
        self, run: Run, *, expected: int, task: Task | None, failed_reason: str | None = None
    ) -> DeliveryOutcome:
        """Record the run's outcome, then publish it."""
        ended = run.evolve(
            status=RunStatus.FAILED if failed_reason is not None else RunStatus.COMPLETED,
            completed_at=self._clock.now(),
            error=failed_reason,
            lease_until=None,
        )
        try:
            self._store.save_delivery(ended, expected_delivery_attempt=expected)
        except StaleWriteError:
            return DeliveryOutcome.DUPLICATE
        self._publish(ended, task)
        log.info(
            "target run ended",
            extra={
                "tracking_id": ended.tracking_id,
                "status": ended.status.value,
                "attempt": ended.delivery_attempt,
            },
        )
        return DeliveryOutcome.COMPLETED if failed_reason is None else DeliveryOutcome.FAILED

    def _publish(self, ended: Run, task: Task | None) -> None:
        """Publish the recorded outcome, then note that it went out (a redelivery publishes it otherwise)."""
        kind = OutcomeType.COMPLETED if ended.status is RunStatus.COMPLETED else OutcomeType.FAILED
        if task is None:
            task = self._store.get_task(ended.task_id)
        self._ports.outcomes.publish_outcome(
            OutcomeEvent(
                kind,
                ended,
                name=task.name if task is not None else ended.task_name,
                metadata=dict(task.metadata) if task is not None else {},
            )
        )
        self._metrics.count("outcome_published")
        try:
            self._store.save_delivery(
                ended.evolve(outcome_published=True), expected_delivery_attempt=ended.delivery_attempt
            )
        except Exception:  # at worst a redelivery publishes it again; the dedup_key says it is the same one
            log.warning("could not note the published outcome", extra={"tracking_id": ended.tracking_id})

    def _redelivered(self, run: Run, attempt: int) -> DeliveryOutcome:
        """A message for an attempt that was already started: finish what its first delivery left undone."""
        if run.delivery_attempt != attempt:
            return DeliveryOutcome.DUPLICATE
        if run.status in (RunStatus.COMPLETED, RunStatus.FAILED):
            if not run.outcome_published:
                self._publish(run, None)
            return DeliveryOutcome.DUPLICATE
        if run.status is RunStatus.PENDING:
            # Recorded as failed and waiting, but the next attempt may not have been queued: queue it (again;
            # the fence makes a second copy a no-op).
            self._ports.deliveries.send(run.tracking_id, attempt + 1, delay_seconds=0)
            return DeliveryOutcome.RETRYING
        now = self._clock.now()
        if run.lease_until is not None and run.lease_until > now:
            raise AttemptBusy(f"run {run.tracking_id} attempt {attempt} is in progress")
        task = self._store.get_task(run.task_id, consistent=True)
        if task is None:
            return self._end(run, expected=attempt, task=None, failed_reason="the task no longer exists")
        lost = CallOutcome(ok=False, error="the runner stopped during the call")
        return self._after_call(task, run, lost)


def _first_bytes(text: str | None) -> str | None:
    if text is None:
        return None
    return text.encode("utf-8")[:MAX_RESULT_BYTES].decode("utf-8", "ignore")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
