"""Request bodies as pydantic models: shapes and types only. What the values mean (expressions, horizons,
sizes) is the service's to judge, so the rules live in one place for the API and ``punctual dev`` alike.

Every model defers building its validator to its first use (``defer_build``): a cold start pays only for
the bodies it actually reads."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

from punctual.domain.timefmt import INSTANT_PATTERN

# Generous bounds on free text; the service applies the real limits with clearer messages.
_NAME = Field(default=None, max_length=256)
_KEY = Field(default=None, min_length=1, max_length=255)
# Strict: no coercion ("yes" is not true, 1 is not "1"); a JSON body's types are the caller's to get right.
_CONFIG = ConfigDict(strict=True, defer_build=True)
_INSTANT_DESCRIPTION = "RFC 3339 instant (seconds and offset optional); without an offset it is UTC"


def _instant(schema: dict[str, Any]) -> None:
    """The document's grammar of an instant; the service checks it (domain/timefmt.py) with a clearer
    message than a regular expression would give, so pydantic does not."""
    schema.update(
        pattern=INSTANT_PATTERN, description=_INSTANT_DESCRIPTION, examples=["2026-12-01T09:00:00Z"]
    )


def _never_null_instant(schema: dict[str, Any]) -> None:
    _instant(schema)
    _no_default(schema)


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


_INSTANT = Field(default=None, max_length=64, json_schema_extra=_instant)
# The default of a field that may be left out but not sent as null (the type says what may be sent).
_ABSENT: Any = None


class _Strict(BaseModel):
    # An unknown field is most often a typo ("cronn"); refusing it beats silently ignoring it.
    model_config = ConfigDict(**_CONFIG, extra="forbid")


class PipedreamSchedule(BaseModel):
    """Pipedream's ``POST /schedule``. Other fields are ignored, as Pipedream's own source does."""

    model_config = ConfigDict(**_CONFIG, extra="ignore")

    timestamp: str = Field(max_length=64, json_schema_extra=_instant)
    message: Any = None
    secret: str | None = None


class PipedreamCancel(BaseModel):
    model_config = ConfigDict(**_CONFIG, extra="ignore")

    id: str = Field(min_length=1, max_length=64)
    secret: str | None = None


class ScheduleFields(_Strict):
    at: str | None = _INSTANT
    every: str | None = Field(default=None, max_length=64, examples=["5 minutes", "30 seconds", "1 hour"])
    cron: str | None = Field(default=None, max_length=256, examples=["0 0/5 0 ? * * *", "*/5 * * * *"])
    timezone: str | None = Field(default=None, max_length=64, examples=["Europe/Paris"])
    start_at: str | None = _INSTANT
    end_at: str | None = _INSTANT


class SchedulePreviewBody(ScheduleFields):
    """A schedule as ``POST /tasks`` takes it, and how many occurrences to list."""

    count: int | None = Field(default=None, description="1-50; 5 when absent")


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
    """Only the fields present change; ``paused`` pauses (true) or resumes (false). ``at``, ``every``,
    ``cron``, ``paused``, ``misfire`` and ``overlap`` cannot be null: a task always has them, so null could only mean
    "unchanged", which is what leaving the field out says."""

    # Absent is None (_ABSENT); an explicit null is refused (_no_null), so the document shows no null.
    at: str = Field(default=_ABSENT, max_length=64, json_schema_extra=_never_null_instant)
    every: str = Field(default=_ABSENT, max_length=64, examples=["5 minutes"], json_schema_extra=_no_default)
    cron: str = Field(default=_ABSENT, max_length=256, examples=["0 9 * * *"], json_schema_extra=_no_default)
    paused: bool = Field(default=_ABSENT, json_schema_extra=_no_default)
    name: str | None = _NAME
    message: Any = None
    metadata: dict[str, str] | None = None
    misfire: Literal["fire_once", "skip"] = Field(default=_ABSENT, json_schema_extra=_no_default)
    target: dict[str, Any] | None = _TARGET  # null: back to the topic
    retry: dict[str, Any] | None = _RETRY  # null: the stage's defaults
    overlap: Literal["allow", "skip"] = Field(default=_ABSENT, json_schema_extra=_no_default)

    @field_validator("at", "every", "cron", "paused", "misfire", "overlap", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("cannot be null: leave the field out to keep it unchanged")
        return value

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
    # Any string: a malformed instant fails its own item (400 in its result), as a missing task does, and the
    # other items go ahead; so the document gives the grammar in words, not as a pattern the body must match.
    at: str = Field(
        max_length=64, description=_INSTANT_DESCRIPTION + "; a malformed one fails its item alone"
    )


class BulkRescheduleBody(_Strict):
    updates: list[RescheduleItemBody] = Field(min_length=1)


BULK_CREATE_MAX_ITEMS = 100  # ServiceSettings.max_bulk_items: refused here before any item is read


class BulkCreateBody(_Strict):
    """Up to 100 tasks, each the body of ``POST /tasks``. The items are read one by one (by the route), so an
    invalid item fails alone, in its place, and the others are still created."""

    tasks: Annotated[
        list[dict[str, Any]],
        # The envelope holds objects; each is then read as POST /tasks's body, item by item, so an object that
        # is not a valid task is that item's own 400 in a 200 answer. Documenting the items as CreateTaskBody
        # would promise that such an object refuses the whole request.
        WithJsonSchema(
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "description": "The body of POST /tasks (CreateTaskBody), with idempotency_key per item",
                },
                "minItems": 1,
                "maxItems": BULK_CREATE_MAX_ITEMS,
            }
        ),
    ] = Field(min_length=1, max_length=BULK_CREATE_MAX_ITEMS)
