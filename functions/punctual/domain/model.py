"""The task and run records, their states, and the links that arm an occurrence. Immutable values."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from punctual.domain.errors import ErrorDetail, ValidationError
from punctual.domain.targets import DEFAULT_RETRY, TOPIC, Overlap, RetryPolicy, Target, TargetType

# The fields a caller may use to identify itself narrowly; safe in keys and SNS attributes.
_USER_PATTERN = re.compile(r"^[A-Za-z0-9._@:+=-]{1,128}$")


@dataclass(frozen=True)
class Context:
    """Whose tasks these are: the tenant (API key identity) and, optionally, one user of that tenant.

    Contexts are disjoint: a task created under a user is visible only under that user, and a task
    created without a user only without one.
    """

    tenant: str
    user: str | None = None

    @classmethod
    def of(cls, tenant: str, user: str | None) -> Context:
        if user is not None and not _USER_PATTERN.match(user):
            raise ValidationError(
                "X-Punctual-User must be 1-128 characters of letters, digits and ._@:+=-",
                [ErrorDetail("X-Punctual-User", "invalid user identifier")],
            )
        return cls(tenant=tenant, user=user or None)

    @property
    def key(self) -> str:
        return f"{self.tenant}|{self.user or ''}"


class TaskStatus(StrEnum):
    SCHEDULED = "scheduled"  # active: has a next occurrence armed
    PAUSED = "paused"  # keeps its schedule, arms nothing until resumed
    COMPLETED = "completed"  # a one-time task that fired, or a recurring task past its end_at
    CANCELLED = "cancelled"
    FAILED = "failed"  # the last occurrence could not be published after every retry


LIVE_STATUSES = frozenset({TaskStatus.SCHEDULED, TaskStatus.PAUSED})


class MisfirePolicy(StrEnum):
    FIRE_ONCE = "fire_once"  # missed occurrences coalesce into one late fire
    SKIP = "skip"  # missed occurrences are recorded as skipped; the chain resumes at the next future one


class ScheduleKind(StrEnum):
    AT = "at"
    EVERY = "every"
    CRON = "cron"


@dataclass(frozen=True)
class Schedule:
    """When a task fires. Exactly one of ``at`` / ``every`` / ``cron`` is set, per ``kind``.

    ``every_seconds`` is the parsed interval; occurrences of an ``every`` schedule are
    ``anchor + k * every_seconds``. ``cron`` keeps the caller's text; ``timezone`` is an IANA name.
    """

    kind: ScheduleKind
    at: datetime | None = None
    every: str | None = None
    every_seconds: int | None = None
    cron: str | None = None
    timezone: str = "UTC"
    start_at: datetime | None = None
    end_at: datetime | None = None
    anchor: datetime | None = None

    @property
    def recurring(self) -> bool:
        return self.kind is not ScheduleKind.AT


@dataclass(frozen=True)
class Task:
    id: str
    context: Context
    schedule: Schedule
    status: TaskStatus
    version: int
    created_at: datetime
    updated_at: datetime
    next_run_at: datetime | None
    name: str | None = None
    message: Any = None
    metadata: dict[str, str] = field(default_factory=dict)
    misfire: MisfirePolicy = MisfirePolicy.FIRE_ONCE
    idempotency_key: str | None = None
    # The run claimed by the executor and not yet finished: its instant (the occurrence, or a manual run's
    # trigger) and its tracking id. One run is in flight per task; cancel/reschedule answer 409 meanwhile.
    in_flight: datetime | None = None
    in_flight_run: str | None = None
    # When a schedule change (create, reschedule, resume) last set next_run_at: lateness and the misfire
    # policy count from max(occurrence, this), so a PATCH of anything else never resets them.
    schedule_changed_at: datetime | None = None
    last_run_at: datetime | None = None
    fired_count: int = 0
    # Occurrences the sweeper found missed and coalesced into next_run_at; the next claim records them.
    missed: int = 0
    # What a fire runs (domain/targets.py): the topic alone, or a Lambda/HTTPS call the runner makes after.
    target: Target = TOPIC
    retry: RetryPolicy = DEFAULT_RETRY
    overlap: Overlap = Overlap.ALLOW

    def evolve(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)


class RunKind(StrEnum):
    SCHEDULED = "scheduled"
    MANUAL = "manual"


class RunStatus(StrEnum):
    # run-now accepted, not yet picked up; for a target run, also: fired, its call queued (or its retry)
    PENDING = "pending"
    RUNNING = "running"  # claimed by the executor, publish under way; for a target run, the call under way
    COMPLETED = "completed"  # published to SNS (topic); the target answered with success (lambda/https)
    FAILED = "failed"  # could not be published, or the target failed its last attempt; ``error`` says why
    SKIPPED = "skipped"  # dropped by the skip misfire policy, or by the skip overlap policy


@dataclass(frozen=True)
class DeliveryAttempt:
    """One call of a run's target, as the runner recorded it."""

    attempt: int
    started_at: datetime
    duration_ms: int | None = None
    response_status: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Run:
    """One firing of a task, scheduled or manual. Its tracking id is what ``GET /runs/{id}`` takes."""

    tracking_id: str
    task_id: str
    context: Context
    kind: RunKind
    status: RunStatus
    triggered_at: datetime  # when the run came into being: the occurrence instant, or the run-now request
    scheduled_for: datetime
    task_name: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    fired_at: datetime | None = None
    lateness_ms: int | None = None
    attempt: int = 0
    error: str | None = None
    # The executor's lease on a RUNNING run; another delivery may take over only after it lapses.
    lease_until: datetime | None = None
    missed: int = 0  # occurrences coalesced into this (late) run by the misfire policy
    # Target runs (lambda/https) only. Once the fire is published the run is handed to the runner: the fire
    # path never writes it again (``fired_at`` is set), and the runner fences its writes on delivery_attempt.
    target_type: TargetType = TargetType.TOPIC
    delivery_attempt: int = 0
    deliveries: tuple[DeliveryAttempt, ...] = ()
    duration_ms: int | None = None
    response_status: int | None = None
    result: str | None = None  # the first 4 KB of the Lambda's return value or the response body
    outcome_published: bool = False  # task.completed / task.failed went out (after the outcome was recorded)
    retry_base: int = 0  # delivery_attempt when the run was last replayed: its retry budget counts from here

    @property
    def handed_to_runner(self) -> bool:
        """Published, and its outcome is the target's: the fire path is done with it."""
        return self.target_type is not TargetType.TOPIC and self.fired_at is not None

    def evolve(self, **changes: Any) -> Self:
        return dataclasses.replace(self, **changes)

    @property
    def dedup_key(self) -> str:
        from punctual.domain.timefmt import format_instant

        if self.kind is RunKind.MANUAL:
            return f"{self.task_id}#manual#{self.tracking_id}"
        return f"{self.task_id}#{format_instant(self.scheduled_for)}"


class LinkKind(StrEnum):
    OCCURRENCE = "occurrence"
    MANUAL = "manual"


@dataclass(frozen=True)
class Link:
    """What an EBS schedule or a delay-queue message carries: ids only, never the payload.

    The executor acts on an occurrence link only while the task is scheduled with ``next_run_at ==
    occurrence``: cancel, reschedule and pause move ``next_run_at`` or the status, so older links become
    no-ops. ``version`` names the EBS schedule; it is not part of the check, because every write (claims and
    finishes included) bumps the version and a repair link must stay good while the queue lags.
    """

    task_id: str
    version: int
    occurrence: datetime
    kind: LinkKind = LinkKind.OCCURRENCE
    tracking_id: str | None = None  # manual runs only


@dataclass(frozen=True)
class FiredEvent:
    """The SNS message body subscribers receive (and ``punctual dev`` streams on ``GET /events``)."""

    task_id: str
    tracking_id: str
    name: str | None
    scheduled_for: datetime
    fired_at: datetime
    lateness_ms: int
    message: Any
    metadata: dict[str, str]
    attempt: int
    dedup_key: str
    tenant: str
    user: str | None
    kind: RunKind = RunKind.SCHEDULED
    missed: int = 0

    def body(self) -> dict[str, Any]:
        from punctual.domain.timefmt import format_instant

        return {
            "type": "task.fired",
            "task_id": self.task_id,
            "tracking_id": self.tracking_id,
            "name": self.name,
            "scheduled_for": format_instant(self.scheduled_for),
            "fired_at": format_instant(self.fired_at),
            "lateness_ms": self.lateness_ms,
            "message": self.message,
            "metadata": self.metadata,
            "attempt": self.attempt,
            "dedup_key": self.dedup_key,
            "run_kind": self.kind.value,
            "missed_occurrences": self.missed,
        }


class OutcomeType(StrEnum):
    COMPLETED = "task.completed"
    FAILED = "task.failed"


@dataclass(frozen=True)
class OutcomeEvent:
    """What a target run ended with, published after it is recorded (same attributes as ``task.fired``)."""

    type: OutcomeType
    run: Run
    name: str | None
    metadata: dict[str, str]

    def body(self) -> dict[str, Any]:
        from punctual.domain.timefmt import format_instant, format_optional

        run = self.run
        return {
            "type": self.type.value,
            "task_id": run.task_id,
            "tracking_id": run.tracking_id,
            "name": self.name,
            "scheduled_for": format_instant(run.scheduled_for),
            "started_at": format_optional(run.started_at),
            "completed_at": format_optional(run.completed_at),
            "attempt": run.delivery_attempt,
            "duration_ms": run.duration_ms,
            "response_status": run.response_status,
            "result": run.result,
            "error": run.error,
            "target_type": run.target_type.value,
            "metadata": self.metadata,
            "dedup_key": f"{run.dedup_key}#{self.type.value}",
            "run_kind": run.kind.value,
        }
