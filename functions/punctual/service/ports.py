"""The ports the service needs. Adapters in ``punctual.adapters`` implement them with boto3;
``tests/fakes.py`` implements them in memory. Every method's contract is stated here, once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from punctual.domain.model import Context, FiredEvent, Link, OutcomeEvent, Run, Task, TaskStatus
from punctual.domain.targets import Target


class Clock(Protocol):
    def now(self) -> datetime:
        """Aware UTC now."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait (the executor waits out the sub-second remainder). Tests advance a fake clock instead."""
        ...


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A fresh opaque id (32 lowercase hex characters)."""
        ...


@dataclass(frozen=True)
class TaskFilter:
    """Filters for listing/bulk operations inside one context. ``statuses=None`` means every status."""

    statuses: frozenset[TaskStatus] | None = None
    name: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)


T = TypeVar("T")


@dataclass(frozen=True)
class StorePage(Generic[T]):
    items: list[T]
    # The store's own continuation (e.g. DynamoDB LastEvaluatedKey); the service signs it into a cursor.
    continuation: dict[str, Any] | None


@dataclass(frozen=True)
class IdempotentReplay:
    task: Task
    request_fingerprint: str | None


@dataclass(frozen=True)
class Claim:
    """One ``TaskStore.claim``'s arguments."""

    task: Task
    expected_version: int
    run: Run
    expected_attempt: int | None = None


class TaskStore(Protocol):
    """Task and run records. Conditional writes raise ``StaleWriteError`` / ``AlreadyExistsError``
    (punctual.domain.errors); throttling raises ``ThrottledError``; other AWS failures ``DependencyError``.
    """

    def create_task(self, task: Task, *, request_fingerprint: str | None = None) -> None:
        """Put a new task; if ``task.idempotency_key`` is set, also reserve (context, key) -> task id, with
        ``request_fingerprint``, in the same transaction. Raises AlreadyExistsError when the idempotency key
        is already reserved."""
        ...

    def create_tasks(
        self, tasks: Sequence[Task], *, request_fingerprints: Mapping[str, str] | None = None
    ) -> list[Exception | None]:
        """Put many new tasks in as few round trips as the store allows (a bulk create): per task, in order,
        None when it was written, else the error ``create_task`` would have raised for it alone
        (AlreadyExistsError for a reserved idempotency key, ThrottledError, DependencyError). A task that
        failed left nothing written. Never raises for one task's failure."""
        ...

    def task_for_idempotency_key(self, context: Context, key: str) -> Task | None: ...

    def idempotent_replay(self, context: Context, key: str) -> IdempotentReplay | None:
        """The task reserved under (context, key) and the fingerprint stored with the reservation (None for
        one written without); None when there is no reservation or its task is gone."""
        ...

    def delete_task(self, task: Task) -> None:
        """Remove a task (and its idempotency reservation) that was never armed: compensation only."""
        ...

    def get_task(self, task_id: str, *, consistent: bool = False) -> Task | None: ...

    def save_task(self, task: Task, *, expected_version: int, message_changed: bool = False) -> None:
        """Replace the task iff the stored version == expected_version (else StaleWriteError). The message is
        written only when ``message_changed`` (a store may keep a large message apart, written once)."""
        ...

    def query_tasks(
        self, context: Context, task_filter: TaskFilter, *, limit: int, continuation: dict[str, Any] | None
    ) -> StorePage[Task]:
        """Tasks of exactly this context, newest first, at most ``limit`` matching the filter."""
        ...

    def get_tasks_and_runs(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[Task | None, Run | None]]:
        """The task and the run of each (task id, tracking id) pair, in order, with strongly consistent reads,
        in as few round trips as the store allows (the executor's hot path: one for a whole delivered batch)."""
        ...

    def claim(
        self, task: Task, *, expected_version: int, run: Run, expected_attempt: int | None = None
    ) -> None:
        """Atomically: save ``task`` iff its stored version == expected_version, and save ``run`` iff no run
        with its tracking id exists (``expected_attempt`` None: a new claim) or the stored run is at
        ``expected_attempt`` (a manual start or a take-over). StaleWriteError if the task or the run moved;
        AlreadyExistsError if a new claim's run exists. Every start of a publish goes through here, so a
        cancel (which writes the task at the version it read) can never slip between a check and a publish."""
        ...

    def claim_all(self, claims: Sequence[Claim]) -> list[Exception | None]:
        """Make several claims, each exactly as ``claim`` would, in as few round trips as the store allows (the
        executor claims a delivered batch's due links together): per claim, in order, None when it was
        written, else the error ``claim`` would have raised for it alone (StaleWriteError, AlreadyExistsError;
        ThrottledError or DependencyError when only its own items met trouble, such as a concurrent write: one
        claim's conflict never fails the others). The claims name distinct tasks and runs. A failure of the
        whole request (throttling, AWS) raises, and may have written some claims, as a failed ``claim`` may
        have."""
        ...

    def put_run(self, run: Run) -> None:
        """Put a new run iff its tracking id is unused (AlreadyExistsError otherwise)."""
        ...

    def get_run(self, tracking_id: str) -> Run | None: ...

    def save_run(self, run: Run, *, expected_attempt: int) -> None:
        """Replace the run iff the stored attempt == expected_attempt (the executor's lease fencing)."""
        ...

    def save_delivery(self, run: Run, *, expected_delivery_attempt: int) -> None:
        """Replace a target run iff the stored run's ``delivery_attempt`` == expected (the runner's fence:
        one call per attempt, however often SQS delivers its message). StaleWriteError otherwise."""
        ...

    def list_runs(self, task_id: str, *, limit: int, continuation: dict[str, Any] | None) -> StorePage[Run]:
        """Runs of one task, newest ``triggered_at`` first."""
        ...

    def tasks_needing_attention(
        self, before: datetime, *, limit: int, continuation: dict[str, Any] | None = None
    ) -> StorePage[Task]:
        """Tasks with a wake-up instant (``in_flight`` if set, else ``next_run_at``) <= before: scheduled
        ones, and paused ones with a run in flight. At most ``limit``, oldest wake-up first, read
        consistently; the continuation pages on through the rest of the due index (the sweeper reads all of
        it, so entries it cannot move this minute never hide the ones after them). Served by the sparse due
        index (Query per shard, never Scan)."""
        ...


class LinkScheduler(Protocol):
    """EventBridge Scheduler: one-time wake-ups far ahead of an occurrence."""

    def wake_at(self, link: Link, instant: datetime) -> None:
        """Create a one-time schedule ``at(instant)`` (UTC, deterministic name per task/version/occurrence,
        ActionAfterCompletion=DELETE) targeting the executor with the link as input. Idempotent."""
        ...

    def cancel_wake(self, link: Link) -> None:
        """Best-effort delete of the schedule for this link; a missing schedule is fine."""
        ...


class DelayQueue(Protocol):
    """The SQS delay queue the executor consumes."""

    def enqueue(self, link: Link, delay_seconds: int) -> None:
        """Send the link with DelaySeconds (0..900)."""
        ...

    def enqueue_batch(self, entries: Sequence[tuple[Link, int]]) -> list[Exception | None]:
        """Send many (link, delay seconds) in as few round trips as the queue allows: per entry, in order,
        None when it was sent, else the domain error that kept it from being sent. Never raises for one
        entry's failure."""
        ...


class EventPublisher(Protocol):
    def publish_batch(self, events: Sequence[FiredEvent]) -> list[str | Exception]:
        """Publish each event to SNS with filterable attributes, in as few round trips as SNS allows; per
        event, in order, its message id or the domain error that kept it from being published. Never raises."""
        ...


class DeliveryQueue(Protocol):
    """The SQS queue the runner consumes: one message per call of a run's target."""

    def send(self, tracking_id: str, attempt: int, *, delay_seconds: int) -> None:
        """Queue attempt ``attempt`` (1-based) of the run's call, ``delay_seconds`` (0..900) from now."""
        ...


@dataclass(frozen=True)
class CallOutcome:
    """What one call of a target gave: success, or the failure the retry policy judges."""

    ok: bool
    status: int | None = None  # the HTTP status (https), or 200 / None for a Lambda that returned / raised
    result: str | None = None  # the first 4 KB of the response body or the Lambda's return value
    error: str | None = None
    retry_after: str | None = None  # the Retry-After header, as sent


class TargetInvoker(Protocol):
    def call(self, target: Target, body: bytes, headers: Mapping[str, str]) -> CallOutcome:
        """Call the target once with the event as ``body`` (and, for HTTPS, ``headers`` besides its own),
        within its timeout. Never raises: every failure is an unsuccessful outcome."""
        ...


class OutcomePublisher(Protocol):
    def publish_outcome(self, event: OutcomeEvent) -> None:
        """Publish task.completed / task.failed with the attributes task.fired carries; raises on failure."""
        ...


class SigningSecrets(Protocol):
    def secret_for(self, tenant: str) -> str:
        """The tenant's current secret for Punctual-Signature."""
        ...

    def rotate(self, tenant: str) -> str:
        """Replace the tenant's secret; returns the new one."""
        ...


class HostResolver(Protocol):
    def addresses(self, host: str) -> list[str]:
        """Every IP address ``host`` resolves to (an IP literal resolves to itself); [] if it does not."""
        ...


class Metrics(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...

    def lateness(self, milliseconds: int) -> None:
        """How late a published occurrence fired: what punctual promises, and what its p99 alarm reads."""
        ...

    def skipped_lateness(self, milliseconds: int) -> None:
        """How long past its instant an occurrence was skipped by its misfire policy: an outage's size. Kept
        apart from ``lateness`` on purpose, so an intended skip (hours late) never moves the lateness p99."""
        ...


@dataclass
class NullMetrics:
    """Metrics sink that records what it was told; the handlers pass a Powertools-backed one."""

    counts: dict[str, int] = field(default_factory=dict)
    latenesses: list[int] = field(default_factory=list)
    skipped_latenesses: list[int] = field(default_factory=list)

    def count(self, name: str, value: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    def lateness(self, milliseconds: int) -> None:
        self.latenesses.append(milliseconds)

    def skipped_lateness(self, milliseconds: int) -> None:
        self.skipped_latenesses.append(milliseconds)


__all__ = [
    "CallOutcome",
    "Claim",
    "Clock",
    "DelayQueue",
    "DeliveryQueue",
    "EventPublisher",
    "HostResolver",
    "IdGenerator",
    "LinkScheduler",
    "Metrics",
    "NullMetrics",
    "OutcomePublisher",
    "SigningSecrets",
    "StorePage",
    "TargetInvoker",
    "TaskFilter",
    "TaskStore",
]
