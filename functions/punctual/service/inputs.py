"""Checks of caller input shared by the task and run use cases: names, messages, metadata, statuses, paging.

Each check raises a domain error with one ErrorDetail per offending field, before anything is written.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from punctual.domain.cursor import decode_cursor, encode_cursor
from punctual.domain.errors import ErrorDetail, NotFoundError, PayloadTooLargeError, ValidationError
from punctual.domain.jsontext import utf8_size
from punctual.domain.model import Context, MisfirePolicy, Schedule, TaskStatus
from punctual.domain.schedules import parse_schedule
from punctual.service.commands import ScheduleInput
from punctual.service.settings import ServiceSettings

MAX_NAME_CHARS = 200
MAX_METADATA_VALUE_CHARS = 256
MAX_IDEMPOTENCY_KEY_CHARS = 128
_METADATA_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Ids we issue are 32 hex characters; anything far from that cannot name a record, and must never reach a
# key condition (an empty or huge key is an AWS validation error, i.e. a 5xx for bad input).
_PLAUSIBLE_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def schedule_of(given: ScheduleInput, now: datetime, settings: ServiceSettings) -> Schedule:
    """The schedule a request describes, validated against the stage's limits (as a create reads it)."""
    return parse_schedule(
        at=given.at,
        every=given.every,
        cron=given.cron,
        timezone=given.timezone,
        start_at=given.start_at,
        end_at=given.end_at,
        now=now,
        limits=settings.limits,
        at_field=given.at_field,
    )


def plausible_id(record_id: object) -> bool:
    return isinstance(record_id, str) and bool(_PLAUSIBLE_ID.match(record_id))


def task_not_found(task_id: object) -> NotFoundError:
    return NotFoundError(f"task {task_id} not found", [ErrorDetail("id", "no such task")])


def check_name(name: object, field: str = "name") -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_NAME_CHARS or not name.strip():
        raise ValidationError(
            f"{field} must be 1-{MAX_NAME_CHARS} characters",
            [ErrorDetail(field, f"expected a non-blank string of at most {MAX_NAME_CHARS} characters")],
        )
    return name


def check_message(message: Any, settings: ServiceSettings) -> Any:
    """Any JSON value whose UTF-8 encoding fits ``max_message_bytes`` (the event must fit in SNS)."""
    try:
        size = utf8_size(message)
    except UnicodeEncodeError:  # a subclass of ValueError: say what is wrong
        raise ValidationError(
            "message contains a lone surrogate, which is not valid Unicode text",
            [ErrorDetail("message", "not encodable as UTF-8")],
        ) from None
    except (TypeError, ValueError, RecursionError):
        raise ValidationError(
            "message must be a JSON value", [ErrorDetail("message", "not representable as JSON")]
        ) from None
    if size > settings.max_message_bytes:
        raise PayloadTooLargeError(
            f"message is {size} bytes; the limit is {settings.max_message_bytes}",
            [ErrorDetail("message", f"at most {settings.max_message_bytes} bytes of JSON")],
        )
    return message


def check_metadata(metadata: object, settings: ServiceSettings, field: str = "metadata") -> dict[str, str]:
    """String keys ``[A-Za-z0-9_-]{1,64}`` and string values up to 256 characters; each becomes an SNS
    message attribute, hence the small key budget."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise ValidationError(
            f"{field} must be an object", [ErrorDetail(field, "expected an object of strings")]
        )
    details: list[ErrorDetail] = []
    if len(metadata) > settings.max_metadata_keys:
        details.append(ErrorDetail(field, f"at most {settings.max_metadata_keys} keys"))
    for key, value in metadata.items():
        if not isinstance(key, str) or not _METADATA_KEY.match(key):
            details.append(
                ErrorDetail(f"{field}.{key}", "keys are 1-64 characters of letters, digits, _ and -")
            )
        elif not isinstance(value, str):
            details.append(ErrorDetail(f"{field}.{key}", "values must be strings"))
        elif len(value) > MAX_METADATA_VALUE_CHARS:
            details.append(ErrorDetail(f"{field}.{key}", f"at most {MAX_METADATA_VALUE_CHARS} characters"))
    if details:
        raise ValidationError(f"invalid {field}", details)
    return dict(metadata)


def check_misfire(misfire: object) -> MisfirePolicy:
    if misfire is None:
        return MisfirePolicy.FIRE_ONCE
    choices = [policy.value for policy in MisfirePolicy]
    if not isinstance(misfire, str) or misfire not in choices:
        raise ValidationError(
            f"misfire must be one of {', '.join(choices)}",
            [ErrorDetail("misfire", f"expected one of {', '.join(choices)}")],
        )
    return MisfirePolicy(misfire)


def check_idempotency_key(key: object) -> str | None:
    if key is None:
        return None
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_CHARS:
        raise ValidationError(
            f"idempotency_key must be 1-{MAX_IDEMPOTENCY_KEY_CHARS} characters",
            [ErrorDetail("idempotency_key", f"expected 1-{MAX_IDEMPOTENCY_KEY_CHARS} characters")],
        )
    return key


def parse_statuses(status: str | None) -> frozenset[TaskStatus] | None:
    """None: the live statuses; ``all``: every status (returned as None, the store's "no filter");
    otherwise a comma-separated list of statuses."""
    if status is None:
        return frozenset({TaskStatus.SCHEDULED, TaskStatus.PAUSED})
    if status.strip() == "all":
        return None
    parts = [part.strip() for part in status.split(",")]
    known = {item.value for item in TaskStatus}
    unknown = [part for part in parts if part not in known]
    if unknown:
        choices = ", ".join(sorted(known))
        raise ValidationError(
            f"unknown status {', '.join(repr(part) for part in unknown)}",
            [ErrorDetail("status", f"expected 'all' or a comma-separated list of: {choices}")],
        )
    return frozenset(TaskStatus(part) for part in parts)


def page_limit(limit: object, settings: ServiceSettings) -> int:
    if limit is None:
        return settings.default_page_size
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= settings.max_page_size:
        raise ValidationError(
            f"limit must be an integer from 1 to {settings.max_page_size}",
            [ErrorDetail("limit", f"expected 1-{settings.max_page_size}")],
        )
    return limit


def continuation_from(
    cursor: str | None, context: Context, settings: ServiceSettings
) -> dict[str, Any] | None:
    return decode_cursor(cursor, context, settings.cursor_secret) if cursor else None


def cursor_from(
    continuation: dict[str, Any] | None, context: Context, settings: ServiceSettings
) -> str | None:
    return None if continuation is None else encode_cursor(continuation, context, settings.cursor_secret)
