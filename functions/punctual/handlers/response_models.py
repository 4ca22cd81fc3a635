"""What the API answers, as pydantic models for the OpenAPI document. The presenters build the same shapes
as plain dicts (a test validates their output against these models, so the document cannot drift)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# Every instant the API answers is RFC 3339 UTC ("2026-12-01T09:00:00Z", milliseconds when there are any).
_INSTANT = Field(json_schema_extra={"format": "date-time"})
_ABSENT_INSTANT = Field(default=None, json_schema_extra={"format": "date-time"})


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorDetailOut(_Out):
    field: str
    message: str


class ErrorBodyOut(_Out):
    code: str = Field(examples=["validation_error"])
    message: str
    details: list[ErrorDetailOut]


class ErrorOut(_Out):
    error: ErrorBodyOut


class GatewayErrorOut(_Out):
    """API Gateway's own answer when it refuses a request before the handler (a missing or unknown key)."""

    message: str = Field(examples=["Forbidden"])


class TargetOut(_Out):
    """Where a fire goes: ``topic`` (the stage's SNS topic), ``lambda`` or ``https``. Header values are
    always masked."""

    type: str = Field(examples=["topic", "lambda", "https"])
    function: str | None = None
    url: str | None = None
    method: str | None = None
    headers: dict[str, str] | None = None
    timeout: str | None = Field(default=None, examples=["10s"])


class RetryOut(_Out):
    max_attempts: int
    initial_delay: str = Field(examples=["10s"])
    max_delay: str = Field(examples=["10m"])
    backoff: str = Field(examples=["exponential", "fixed"])
    retry_4xx: bool


class TaskOut(_Out):
    """Exactly one of ``at``, ``every``, ``cron`` is present."""

    id: str
    name: str | None
    status: str = Field(examples=["scheduled", "paused", "completed", "cancelled", "failed"])
    at: str | None = _ABSENT_INSTANT
    every: str | None = None
    cron: str | None = None
    timezone: str
    start_at: str | None = _INSTANT
    end_at: str | None = _INSTANT
    next_run_at: str | None = _INSTANT
    version: int
    message: Any
    metadata: dict[str, str]
    misfire: str = Field(examples=["fire_once", "skip"])
    created_at: str = _INSTANT
    updated_at: str = _INSTANT
    last_run_at: str | None = _INSTANT
    target: TargetOut
    retry: RetryOut
    overlap: str = Field(examples=["allow", "skip"])


class TaskPageOut(_Out):
    tasks: list[TaskOut]
    next_cursor: str | None


class AttemptOut(_Out):
    attempt: int
    started_at: str
    duration_ms: int | None
    response_status: int | None
    error: str | None


class SigningSecretOut(_Out):
    secret: str
    header: str = Field(examples=["Punctual-Signature"])


class RunOut(_Out):
    tracking_id: str
    task_id: str
    task_name: str | None
    kind: str = Field(examples=["scheduled", "manual"])
    status: str = Field(examples=["pending", "running", "completed", "failed", "skipped"])
    scheduled_for: str = _INSTANT
    triggered_at: str = _INSTANT
    started_at: str | None = _INSTANT
    completed_at: str | None = _INSTANT
    fired_at: str | None = _INSTANT
    lateness_ms: int | None
    attempt: int
    error: str | None
    missed_occurrences: int
    target_type: str = Field(examples=["topic", "lambda", "https"])
    # Lambda/HTTPS runs only: the calls of the target.
    duration_ms: int | None = None
    response_status: int | None = None
    result: str | None = None
    attempts: list[AttemptOut] | None = None


class RunPageOut(_Out):
    runs: list[RunOut]
    next_cursor: str | None


class ScheduledOut(_Out):
    id: str
    message: str = Field(examples=["Scheduled task at 2026-12-01T09:00:00Z"])
    task: TaskOut


class CancelledOut(_Out):
    id: str
    status: str = Field(examples=["cancelled"])


class ItemResultOut(_Out):
    """``task`` when the item succeeded, ``error`` otherwise; ``status_code`` as if it were alone."""

    id: str
    status_code: int
    task: TaskOut | None = None
    error: ErrorBodyOut | None = None


class BulkOut(_Out):
    results: list[ItemResultOut]
    succeeded: int
    failed: int


class CreatedItemOut(_Out):
    """One item of a bulk create, at ``index`` in the request: ``status_code`` 201 (created), 200 (its
    idempotency key matched an existing task, returned unchanged) or the error's, as if it were alone."""

    index: int
    id: str | None
    status_code: int
    task: TaskOut | None = None
    error: ErrorBodyOut | None = None


class BulkCreateOut(_Out):
    results: list[CreatedItemOut]
    succeeded: int
    failed: int


class OccurrenceOut(_Out):
    at: str = Field(description="UTC")
    local: str = Field(description="The same instant on the schedule's time zone, with its offset")


class PreviewScheduleOut(_Out):
    """Exactly one of ``at``, ``every``, ``cron`` is present, normalized as a task would store it."""

    at: str | None = None
    every: str | None = None
    cron: str | None = None
    timezone: str
    start_at: str | None
    end_at: str | None


class SchedulePreviewOut(_Out):
    schedule: PreviewScheduleOut
    computed_at: str
    occurrences: list[OccurrenceOut]


class HealthOut(_Out):
    status: str = Field(examples=["ok"])
