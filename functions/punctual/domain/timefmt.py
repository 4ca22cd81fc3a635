"""Instants on the wire: ISO-8601 in, UTC with a ``Z`` out. Everything inside punctual is an aware UTC datetime."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from punctual.domain.errors import ErrorDetail, ValidationError

# RFC 3339 date-time, with the seconds and the offset optional (no offset: UTC, or the task's timezone).
# ``datetime.fromisoformat`` alone also takes any character as the separator (a non-breaking space) and
# offsets with seconds (``-23:59:59.999999``), which no other ISO-8601 reader agrees on.
INSTANT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?([Zz]|[+-][0-9]{2}:[0-9]{2})?$"
_INSTANT = re.compile(INSTANT_PATTERN)


def parse_instant(text: object, field: str, *, zone: tzinfo | None = None) -> datetime:
    """Parse an ISO-8601 instant. A timestamp without an offset is read as UTC (documented in the README), or
    on ``zone``'s wall clock when one is given (PEP 495 fold=0: a time skipped by a spring-forward gap is read
    with the offset in force before it, a repeated time as its first instant)."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(
            f"{field} must be an ISO-8601 timestamp string",
            [ErrorDetail(field, "expected an ISO-8601 timestamp such as 2026-12-01T09:00:00Z")],
        )
    raw = text
    try:
        if not _INSTANT.match(raw):
            raise ValueError(raw)
        parsed = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw)
    except ValueError:
        raise ValidationError(
            f"{field} is not a valid ISO-8601 timestamp: {raw!r}",
            [ErrorDetail(field, "expected an ISO-8601 timestamp such as 2026-12-01T09:00:00Z")],
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC if zone is None else zone)
    try:
        utc = parsed.astimezone(UTC)  # OverflowError at the edges of year 1 and 9999
    except OverflowError:
        utc = None
    if utc is None or utc.year < 1970:
        raise ValidationError(
            f"{field} is out of range: {raw!r}",
            [ErrorDetail(field, "timestamps must lie between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z")],
        )
    return utc


def format_instant(moment: datetime) -> str:
    """``2026-12-01T09:00:00Z``, or with milliseconds when the instant has a sub-second part."""
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_optional(moment: datetime | None) -> str | None:
    return None if moment is None else format_instant(moment)


def sortable(moment: datetime) -> str:
    """Fixed-width UTC text that sorts like the instant itself (DynamoDB sort keys)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_sortable(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
