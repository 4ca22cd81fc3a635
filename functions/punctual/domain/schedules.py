"""Schedule expressions: parsing/validation of at / every / cron and next-occurrence computation.

INTERFACE STUB — being implemented (see the helper brief). Signatures are the contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from punctual.domain.model import Schedule


@dataclass(frozen=True)
class ScheduleLimits:
    horizon: timedelta = timedelta(days=365)  # `at` and `start_at` further ahead are 422
    min_interval: timedelta = timedelta(seconds=10)  # `every` and cron occurrences closer than this are 422


def parse_schedule(
    *,
    at: str | None,
    every: str | None,
    cron: str | None,
    timezone: str | None,
    start_at: str | None,
    end_at: str | None,
    now: datetime,
    limits: ScheduleLimits,
) -> Schedule:
    """Validate the caller's schedule fields and build a Schedule (raises ValidationError 400 for malformed
    input, UnprocessableError 422 for well-formed but unacceptable input, each with ErrorDetail per field).
    For `every`, the anchor is start_at if given, else ``now``."""
    raise NotImplementedError


def first_occurrence(schedule: Schedule, now: datetime) -> datetime | None:
    """The first instant to arm at creation/resume: `at` itself (even if past: it fires at once); for
    recurring schedules the first occurrence >= max(now, start_at) and <= end_at, else None."""
    raise NotImplementedError


def next_occurrence(schedule: Schedule, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (None for `at`, or past end_at)."""
    raise NotImplementedError
