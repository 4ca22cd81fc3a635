"""EventBridge Scheduler's schedule-expression grammar for ``at`` and ``rate``, written from the AWS docs
(Scheduler User Guide, "Schedule types"). moto accepts any string, so tests check expressions here.

- one-time: ``at(yyyy-mm-ddThh:mm:ss)`` — a real calendar date and time, no zone suffix, no fraction;
- rate: ``rate(value unit)`` — value a positive integer, unit minute|minutes|hour|hours|day|days, the
  singular exactly when value is 1 (``rate(1 hours)`` and ``rate(5 hour)`` are rejected).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_AT = re.compile(r"at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)")
_RATE = re.compile(r"rate\(([1-9][0-9]*) (minute|minutes|hour|hours|day|days)\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def parse_at(expression: str) -> datetime:
    """The instant of a valid ``at(...)`` expression, read as UTC; ValueError otherwise."""
    match = _AT.fullmatch(expression)
    if not match:
        raise ValueError(f"not an at(yyyy-mm-ddThh:mm:ss) expression: {expression!r}")
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError as error:
        raise ValueError(f"at() names no real instant ({error}): {expression!r}") from None


def parse_rate(expression: str) -> timedelta:
    """The period of a valid ``rate(value unit)`` expression; ValueError otherwise."""
    match = _RATE.fullmatch(expression)
    if not match:
        raise ValueError(f"not a rate(value unit) expression: {expression!r}")
    value, unit = int(match.group(1)), match.group(2)
    singular = not unit.endswith("s")
    if singular != (value == 1):
        raise ValueError(f"rate unit must be singular exactly when the value is 1: {expression!r}")
    return timedelta(seconds=value * _UNIT_SECONDS[unit.rstrip("s")])


def validate_expression(expression: str) -> None:
    """Raise ValueError unless ``expression`` is a valid at() or rate() expression."""
    if expression.startswith("at("):
        parse_at(expression)
    elif expression.startswith("rate("):
        parse_rate(expression)
    else:
        raise ValueError(f"expected an at() or rate() expression: {expression!r}")
