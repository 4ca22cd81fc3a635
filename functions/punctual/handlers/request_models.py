"""Request bodies as pydantic models: shapes and types only. What the values mean (expressions, horizons,
sizes) is the service's to judge, so the rules live in one place for the API and ``punctual dev`` alike.

Every model defers building its validator to its first use (``defer_build``): a cold start pays only for
the bodies it actually reads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Generous bounds on free text; the service applies the real limits with clearer messages.
_NAME = Field(default=None, max_length=256)
_KEY = Field(default=None, min_length=1, max_length=255)
_INSTANT = Field(default=None, max_length=64, description="ISO-8601 instant; without an offset it is UTC")


class _Strict(BaseModel):
    # An unknown field is most often a typo ("cronn"); refusing it beats silently ignoring it.
    model_config = ConfigDict(extra="forbid", defer_build=True)


class PipedreamSchedule(BaseModel):
    """Pipedream's ``POST /schedule``. Other fields are ignored, as Pipedream's own source does."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    timestamp: str = Field(max_length=64, description="ISO-8601 instant, up to a year ahead")
    message: Any = None
    secret: str | None = None


class PipedreamCancel(BaseModel):
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: str = Field(min_length=1, max_length=64)
    secret: str | None = None


class ScheduleFields(_Strict):
    at: str | None = _INSTANT
    every: str | None = Field(default=None, max_length=64, examples=["5 minutes", "30 seconds", "1 hour"])
    cron: str | None = Field(default=None, max_length=256, examples=["0 0/5 0 ? * * *", "*/5 * * * *"])
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Paris"])
    start_at: str | None = _INSTANT
    end_at: str | None = _INSTANT


# Targets and retry policies are checked by the service (domain/targets.py), which names each bad field in a
# 422; here they are JSON objects, described for the document.
_TARGET = Field(
    default=None,
    description="Where the fired event goes: {type: topic} (default), {type: lambda, function, timeout} or "
    "{type: https, url, method, headers, timeout}",
    examples=[{"type": "https", "url": "https://example.com/hook", "headers": {"Authorization": "Bearer x"}}],
)
_RETRY = Field(
    default=None,
    description="Retries of a lambda/https call: max_attempts 1-20, initial_delay, max_delay (1s-15m), "
    "backoff exponential|fixed, retry_4xx",
    examples=[{"max_attempts": 5, "initial_delay": "10s", "max_delay": "10m", "backoff": "exponential"}],
)


class CreateTaskBody(ScheduleFields):
    name: str | None = _NAME
    message: Any = None
    metadata: dict[str, str] = Field(default_factory=dict)
    idempotency_key: str | None = _KEY
    misfire: Literal["fire_once", "skip"] | None = None
    target: dict[str, Any] | None = _TARGET
    retry: dict[str, Any] | None = _RETRY
    overlap: Literal["allow", "skip"] | None = None


class UpdateTaskBody(ScheduleFields):
    """Only the fields present change; ``paused`` pauses (true) or resumes (false)."""

    paused: bool | None = None
    name: str | None = _NAME
    message: Any = None
    metadata: dict[str, str] | None = None
    misfire: Literal["fire_once", "skip"] | None = None
    target: dict[str, Any] | None = _TARGET
    retry: dict[str, Any] | None = _RETRY
    overlap: Literal["allow", "skip"] | None = None

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateTaskBody:
        if not self.model_fields_set:
            raise ValueError("the body names nothing to change")
        return self


class TaskFilterBody(_Strict):
    status: str | None = Field(default=None, max_length=128)
    name: str | None = _NAME
    metadata: dict[str, str] = Field(default_factory=dict)


class BulkDeleteBody(_Strict):
    """Exactly one of ``ids`` or ``filter``; an empty filter means every task of the caller's context."""

    ids: list[str] | None = None
    filter: TaskFilterBody | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> BulkDeleteBody:
        if (self.ids is None) == (self.filter is None):
            raise ValueError("give exactly one of ids or filter")
        return self


class RescheduleItemBody(_Strict):
    id: str = Field(min_length=1, max_length=64)
    at: str = Field(max_length=64)


class BulkRescheduleBody(_Strict):
    updates: list[RescheduleItemBody] = Field(min_length=1)
