"""The API's answers as dataclasses; every instant is an aware (UTC) datetime."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from punctual_client.errors import ErrorDetail


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO-8601 instant, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"expected an instant with an offset, got {value!r}")
    return parsed


def parse_optional_time(value: Any) -> datetime | None:
    return None if value is None else parse_time(value)


def _metadata(value: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (value or {}).items()}


@dataclass(frozen=True)
class Task:
    """Exactly one of ``at``, ``every``, ``cron`` is set."""

    id: str
    name: str | None
    status: str
    timezone: str
    version: int
    message: Any
    metadata: dict[str, str]
    misfire: str
    created_at: datetime
    updated_at: datetime
    at: datetime | None = None
    every: str | None = None
    cron: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    next_run_at: datetime | None = None
    last_run_at: datetime | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Task:
        return cls(
            id=str(data["id"]),
            name=data.get("name"),
            status=str(data["status"]),
            timezone=str(data.get("timezone") or "UTC"),
            version=int(data.get("version") or 0),
            message=data.get("message"),
            metadata=_metadata(data.get("metadata")),
            misfire=str(data.get("misfire") or "fire_once"),
            created_at=parse_time(data["created_at"]),
            updated_at=parse_time(data["updated_at"]),
            at=parse_optional_time(data.get("at")),
            every=data.get("every"),
            cron=data.get("cron"),
            start_at=parse_optional_time(data.get("start_at")),
            end_at=parse_optional_time(data.get("end_at")),
            next_run_at=parse_optional_time(data.get("next_run_at")),
            last_run_at=parse_optional_time(data.get("last_run_at")),
        )


@dataclass(frozen=True)
class Run:
    """A run-now or a scheduled occurrence; ``status`` is pending, running, completed, failed or skipped."""

    tracking_id: str
    task_id: str
    task_name: str | None
    status: str
    triggered_at: datetime
    kind: str = "manual"
    scheduled_for: datetime | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    fired_at: datetime | None = None
    lateness_ms: int | None = None
    attempt: int = 0
    error: str | None = None
    missed_occurrences: int = 0

    FINAL_STATUSES: ClassVar[frozenset[str]] = frozenset({"completed", "failed", "skipped"})

    @property
    def done(self) -> bool:
        return self.status in self.FINAL_STATUSES

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Run:
        lateness = data.get("lateness_ms")
        return cls(
            tracking_id=str(data["tracking_id"]),
            task_id=str(data["task_id"]),
            task_name=data.get("task_name"),
            status=str(data["status"]),
            triggered_at=parse_time(data["triggered_at"]),
            kind=str(data.get("kind") or "manual"),
            scheduled_for=parse_optional_time(data.get("scheduled_for")),
            started_at=parse_optional_time(data.get("started_at")),
            completed_at=parse_optional_time(data.get("completed_at")),
            fired_at=parse_optional_time(data.get("fired_at")),
            lateness_ms=None if lateness is None else int(lateness),
            attempt=int(data.get("attempt") or 0),
            error=data.get("error"),
            missed_occurrences=int(data.get("missed_occurrences") or 0),
        )


@dataclass(frozen=True)
class ItemError:
    code: str
    message: str
    details: list[ErrorDetail] = field(default_factory=list)


@dataclass(frozen=True)
class ItemResult:
    """One item of a bulk call: ``task`` when it succeeded, ``error`` otherwise."""

    id: str
    status_code: int
    task: Task | None = None
    error: ItemError | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemResult:
        task = data.get("task")
        return cls(
            id=str(data["id"]),
            status_code=int(data["status_code"]),
            task=None if task is None else Task.from_json(task),
            error=_item_error(data.get("error")),
        )


def _item_error(error: dict[str, Any] | None) -> ItemError | None:
    if error is None:
        return None
    return ItemError(
        code=str(error.get("code", "")),
        message=str(error.get("message", "")),
        details=[
            ErrorDetail(str(d.get("field", "")), str(d.get("message", "")))
            for d in error.get("details") or []
        ],
    )


@dataclass(frozen=True)
class CreatedItem:
    """One item of a bulk create, at ``index`` in the request: ``status_code`` 201 (created), 200 (its
    idempotency key was seen: the existing task) or the item's error status, with ``error``."""

    index: int
    status_code: int
    id: str | None = None
    task: Task | None = None
    error: ItemError | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def created(self) -> bool:
        return self.status_code == 201

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CreatedItem:
        task = data.get("task")
        task_id = data.get("id")
        return cls(
            index=int(data["index"]),
            status_code=int(data["status_code"]),
            id=None if task_id is None else str(task_id),
            task=None if task is None else Task.from_json(task),
            error=_item_error(data.get("error")),
        )


@dataclass(frozen=True)
class Cancelled:
    """The answer of the Pipedream-compatible ``cancel``."""

    id: str
    status: str


@dataclass(frozen=True)
class FiredEvent:
    """The body of one fired occurrence (or run-now) as published on SNS."""

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
    run_kind: str
    missed_occurrences: int
    type: str = "task.fired"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FiredEvent:
        return cls(
            type=str(data.get("type") or "task.fired"),
            task_id=str(data["task_id"]),
            tracking_id=str(data["tracking_id"]),
            name=data.get("name"),
            scheduled_for=parse_time(data["scheduled_for"]),
            fired_at=parse_time(data["fired_at"]),
            lateness_ms=int(data.get("lateness_ms") or 0),
            message=data.get("message"),
            metadata=_metadata(data.get("metadata")),
            attempt=int(data.get("attempt") or 1),
            dedup_key=str(data["dedup_key"]),
            run_kind=str(data.get("run_kind") or "scheduled"),
            missed_occurrences=int(data.get("missed_occurrences") or 0),
        )
