"""What callers ask for, as plain values. Handlers build these from validated JSON; the service validates
their meaning (expressions, horizons, limits) and raises domain errors with field-level details."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from punctual.domain.errors import PunctualError
from punctual.domain.model import Task

T = TypeVar("T")


@dataclass(frozen=True)
class ScheduleInput:
    """Exactly one of at / every / cron (the service says which is missing or extra)."""

    at: str | None = None
    every: str | None = None
    cron: str | None = None
    timezone: str | None = None
    start_at: str | None = None
    end_at: str | None = None
    at_field: str = "at"  # the caller's name for ``at`` in error details (Pipedream's "timestamp")


@dataclass(frozen=True)
class CreateTask:
    schedule: ScheduleInput
    name: str | None = None
    message: Any = None
    metadata: dict[str, str] = field(default_factory=dict)
    idempotency_key: str | None = None
    misfire: str | None = None  # "fire_once" (default) | "skip"
    target: Any = None  # JSON: {"type": "topic" | "lambda" | "https", ...} (domain/targets.py)
    retry: Any = None
    overlap: str | None = None  # "allow" (default) | "skip"


@dataclass(frozen=True)
class UpdateTask:
    """PATCH: only the keys in ``provided`` change. Any of at/every/cron replaces the whole schedule
    (timezone/start_at/end_at alone adjust the current recurrence); ``paused`` pauses or resumes."""

    provided: frozenset[str]
    schedule: ScheduleInput = ScheduleInput()
    paused: bool | None = None
    name: str | None = None
    message: Any = None
    metadata: dict[str, str] | None = None
    misfire: str | None = None
    target: Any = None
    retry: Any = None
    overlap: str | None = None


@dataclass(frozen=True)
class ListTasks:
    status: str | None = None  # None: live tasks (scheduled, paused); "all"; or a comma-separated list
    name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    limit: int | None = None
    cursor: str | None = None


@dataclass(frozen=True)
class TaskFilterInput:
    status: str | None = None
    name: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BulkDelete:
    ids: list[str] | None = None
    filter: TaskFilterInput | None = None


@dataclass(frozen=True)
class RescheduleItem:
    id: str
    at: str


@dataclass(frozen=True)
class BulkReschedule:
    updates: list[RescheduleItem]


@dataclass(frozen=True)
class BulkCreate:
    """Many creates in one request. An item the handler could not even read arrives as its error, so it
    fails alone, in its place."""

    items: list[CreateTask | PunctualError]


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class ItemResult:
    """One item of a bulk operation: either the task after the change or the error it met."""

    id: str
    task: Task | None = None
    error: PunctualError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class CreatedItem:
    """One item of a bulk create, at its ``index`` in the request: the task (``created`` False when its
    idempotency key matched an existing task, which is returned unchanged) or the error it met."""

    index: int
    task: Task | None = None
    created: bool = False
    error: PunctualError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
