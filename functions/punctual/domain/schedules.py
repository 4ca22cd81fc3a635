"""Schedule expressions: parsing/validation of at / every / cron and next-occurrence computation.

- ``at``: an ISO-8601 instant. A timestamp without an offset is read in ``timezone`` when one is given, else in
  UTC. Past instants are accepted and fire at once; instants beyond the horizon (365 days) are refused.
- ``every``: a whole number and a unit ("30 seconds", "5 minutes", "1 hour", "2 days", "1 week"; also s, sec,
  m, min, h, hr, d, w ...). Occurrences are ``anchor + k * interval`` (k >= 0), where the anchor is
  ``start_at`` if given, else the creation instant (whole seconds) plus one interval: "every 5 minutes" first
  fires five minutes after it is created. Intervals are absolute durations, unaffected by daylight saving.
- ``cron``: 5-field Unix, 6-field EventBridge or 7-field Quartz (with seconds), evaluated on the wall clock
  of ``timezone`` (an IANA name, default UTC); see ``punctual.domain.cron`` for the syntax.
- ``start_at`` / ``end_at`` (recurring schedules only) bound the occurrences, both inclusive.

Daylight saving time (any change of the zone's UTC offset), by the cron's hour field as in Vixie cron:
- hour field starting with ``*`` (``*``, ``*/2``, ``@hourly``): the cron runs by the wall clock. It fires
  whenever the zone's clock shows a matching time: in both passes of a repeated hour, never in a skipped
  one (the next existing time is the next occurrence). ``*/15 * * * *`` fires every 15 minutes of absolute
  time straight through both changes.
- any other hour field (``30 2 * * *``, ``*/5 2 * * *``, even ``0-23``): each matching time fires once. A
  time that does not exist on a spring-forward day fires the same wall-clock distance after the gap (02:30
  on Europe/Berlin's spring-forward day fires at 03:30 CEST; if 03:30 matches too, that instant fires once);
  a time that occurs twice on a fall-back day fires at its first (earlier, summer-time) instant.
A bare ``at``/``start_at``/``end_at`` is read like a specific-hour time. See ``punctual.domain.wallclock``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from punctual.domain.cron import has_consecutive_days, minimum_gap_seconds, normalize_cron_text, parse_cron
from punctual.domain.errors import ErrorDetail, UnprocessableError, ValidationError
from punctual.domain.model import Schedule, ScheduleKind
from punctual.domain.timefmt import format_instant, parse_instant
from punctual.domain.wallclock import first_cron_instant, load_zone, shortest_repeat_gap

_MICROSECOND = timedelta(microseconds=1)
_SECONDS_PER_DAY = 86_400


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
    at_field: str = "at",
) -> Schedule:
    """Validate the caller's schedule fields and build a Schedule (raises ValidationError 400 for malformed
    input, UnprocessableError 422 for well-formed but unacceptable input, each with ErrorDetail per field).
    For `every`, the anchor is start_at if given, else ``now`` (whole seconds) plus one interval.
    ``at_field`` is what the caller called the instant (Pipedream's ``/schedule`` says ``timestamp``)."""
    kind = _kind(at=at, every=every, cron=cron)
    zone = load_zone(timezone)
    zone_name = zone.key
    if kind is ScheduleKind.AT:
        if start_at is not None or end_at is not None:
            fields = [
                name for name, value in (("start_at", start_at), ("end_at", end_at)) if value is not None
            ]
            raise ValidationError(
                "start_at and end_at apply only to recurring schedules (every or cron)",
                [ErrorDetail(name, "only allowed with every or cron, not with at") for name in fields],
            )
        instant = parse_instant(at, at_field, zone=zone)
        if instant > now + limits.horizon:
            raise UnprocessableError(
                f"{at_field} is more than {_describe(limits.horizon)} ahead; the latest allowed is "
                f"{format_instant(now + limits.horizon)}",
                [ErrorDetail(at_field, f"must be at most {_describe(limits.horizon)} from now")],
            )
        return Schedule(kind=kind, at=instant, timezone=zone_name)

    start = None if start_at is None else parse_instant(start_at, "start_at", zone=zone)
    end = None if end_at is None else parse_instant(end_at, "end_at", zone=zone)
    _check_bounds(start, end, now, limits)
    if kind is ScheduleKind.EVERY:
        text, seconds = parse_every(every, limits)
        interval = timedelta(seconds=seconds)
        anchor = start if start is not None else now.astimezone(UTC).replace(microsecond=0) + interval
        schedule = Schedule(
            kind=kind,
            every=text,
            every_seconds=seconds,
            timezone=zone_name,
            start_at=start,
            end_at=end,
            anchor=anchor,
        )
    else:
        if not isinstance(cron, str):
            raise ValidationError(
                "cron must be a string",
                [ErrorDetail("cron", "expected a cron expression such as 0 9 * * MON-FRI")],
            )
        schedule = Schedule(
            kind=kind, cron=normalize_cron_text(cron), timezone=zone_name, start_at=start, end_at=end
        )
        _check_cron_interval(schedule, zone, max(now, start or now), limits)
    _check_fires(schedule, now, limits)
    return schedule


def first_occurrence(schedule: Schedule, now: datetime) -> datetime | None:
    """The first instant to arm at creation/resume: `at` itself (even if past: it fires at once); for
    recurring schedules the first occurrence >= max(now, start_at) and <= end_at, else None."""
    if schedule.kind is ScheduleKind.AT:
        return schedule.at
    return _within_end(schedule, _at_or_after(schedule, now))


def next_occurrence(schedule: Schedule, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (None for `at`, or past end_at)."""
    if schedule.kind is ScheduleKind.AT:
        return None
    return _within_end(schedule, _at_or_after(schedule, after + _MICROSECOND))


def _at_or_after(schedule: Schedule, earliest: datetime) -> datetime | None:
    if schedule.start_at is not None and schedule.start_at > earliest:
        earliest = schedule.start_at
    if schedule.kind is ScheduleKind.EVERY:
        return _every_at_or_after(schedule, earliest)
    assert schedule.cron is not None
    return first_cron_instant(parse_cron(schedule.cron), ZoneInfo(schedule.timezone), earliest)


def _every_at_or_after(schedule: Schedule, earliest: datetime) -> datetime:
    """Arithmetic, not a walk: the smallest anchor + k * interval >= earliest, k >= 0."""
    anchor = schedule.anchor or schedule.start_at
    if anchor is None or not schedule.every_seconds:
        raise ValueError("an every schedule needs an anchor and an interval")
    anchor = anchor.astimezone(UTC)
    if earliest <= anchor:
        return anchor
    interval_us = schedule.every_seconds * 1_000_000
    elapsed_us = (earliest - anchor) // _MICROSECOND
    steps = -(-elapsed_us // interval_us)  # ceiling division
    return anchor + timedelta(microseconds=steps * interval_us)


def _within_end(schedule: Schedule, occurrence: datetime | None) -> datetime | None:
    if occurrence is None or (schedule.end_at is not None and occurrence > schedule.end_at):
        return None
    return occurrence


# --- validation -------------------------------------------------------------------------------------------


def _kind(*, at: str | None, every: str | None, cron: str | None) -> ScheduleKind:
    given = [name for name, value in (("at", at), ("every", every), ("cron", cron)) if value is not None]
    if not given:
        message = "exactly one of at, every or cron is required"
        raise ValidationError(message, [ErrorDetail(name, message) for name in ("at", "every", "cron")])
    if len(given) > 1:
        raise ValidationError(
            f"only one of at, every or cron may be given; got {' and '.join(given)}",
            [
                ErrorDetail(name, f"cannot be combined with {' and '.join(n for n in given if n != name)}")
                for name in given
            ],
        )
    return ScheduleKind(given[0])


def _check_bounds(
    start: datetime | None, end: datetime | None, now: datetime, limits: ScheduleLimits
) -> None:
    if start is not None and start > now + limits.horizon:
        raise UnprocessableError(
            f"start_at is more than {_describe(limits.horizon)} ahead",
            [ErrorDetail("start_at", f"must be at most {_describe(limits.horizon)} from now")],
        )
    if end is not None and start is not None and end <= start:
        raise UnprocessableError(
            "end_at must be after start_at", [ErrorDetail("end_at", "must be after start_at")]
        )
    if end is not None and end < now:
        raise UnprocessableError("end_at is in the past", [ErrorDetail("end_at", "must be in the future")])


_UNITS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), ("second", 1)),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), ("minute", 60)),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), ("hour", 3600)),
    **dict.fromkeys(("d", "day", "days"), ("day", _SECONDS_PER_DAY)),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), ("week", 7 * _SECONDS_PER_DAY)),
}
_EVERY_PATTERN = re.compile(r"(?:every\s+)?([+-]?[0-9]+)\s*([a-z]+)", re.IGNORECASE | re.ASCII)
_EVERY_EXAMPLE = "such as '30 seconds', '5 minutes', '1 hour' or '2 days'"


def parse_every(text: object, limits: ScheduleLimits) -> tuple[str, int]:
    """``every`` as (normalized text such as "5 minutes", seconds); 400 if malformed, 422 if out of limits."""
    if not isinstance(text, str):
        raise ValidationError(
            "every must be a string", [ErrorDetail("every", f"expected an interval {_EVERY_EXAMPLE}")]
        )
    raw = text.strip()
    rate = re.fullmatch(r"rate\((.*)\)", raw, re.IGNORECASE)  # EventBridge's rate(5 minutes)
    match = _EVERY_PATTERN.fullmatch((rate.group(1) if rate else raw).strip())
    if match is None:
        raise ValidationError(
            f"every is not an interval: {text!r}",
            [ErrorDetail("every", f"expected a whole number and a unit, {_EVERY_EXAMPLE}")],
        )
    count, unit_text = int(match.group(1)), match.group(2).lower()
    unit = _UNITS.get(unit_text)
    if unit is None:
        raise ValidationError(
            f"every has an unknown unit {match.group(2)!r}",
            [
                ErrorDetail(
                    "every", f"unknown unit {match.group(2)!r}; use seconds, minutes, hours, days or weeks"
                )
            ],
        )
    if count <= 0:
        raise ValidationError(
            f"every must be a positive interval; got {text!r}",
            [ErrorDetail("every", f"must be a positive interval, {_EVERY_EXAMPLE}")],
        )
    name, unit_seconds = unit
    seconds = count * unit_seconds
    normalized = f"{count} {name}{'' if count == 1 else 's'}"
    if seconds < limits.min_interval.total_seconds():
        raise UnprocessableError(
            f"every must be at least {_describe(limits.min_interval)}; got {normalized}",
            [ErrorDetail("every", f"the minimum interval is {_describe(limits.min_interval)}")],
        )
    if seconds > limits.horizon.total_seconds():
        raise UnprocessableError(
            f"every must be at most {_describe(limits.horizon)}; got {normalized}",
            [ErrorDetail("every", f"the maximum interval is {_describe(limits.horizon)}")],
        )
    return normalized, seconds


def _check_cron_interval(schedule: Schedule, zone: ZoneInfo, start: datetime, limits: ScheduleLimits) -> None:
    """Refuse expressions whose occurrences come closer than the minimum interval (seconds fields, mostly)."""
    assert schedule.cron is not None
    expression = parse_cron(schedule.cron)
    minimum = limits.min_interval.total_seconds()
    if minimum <= 0:
        return
    fires = expression.fires_per_day
    gap: float | None
    if fires * minimum > _SECONDS_PER_DAY:  # more fires a day than fit at the minimum spacing
        gap = _SECONDS_PER_DAY / fires
    else:
        times = expression.times_of_day()
        wraps = times[0] + _SECONDS_PER_DAY - times[-1] < minimum and has_consecutive_days(
            expression,
            start.astimezone(zone).date(),
            (start + limits.horizon).astimezone(zone).date(),
        )
        gap = minimum_gap_seconds(expression, wrap_matters=wraps)
    if expression.wildcard_hours and (gap is None or gap >= minimum):
        # Fires in both passes of a repeated hour can come closer than any two on an ordinary day (*/2 hours).
        across = shortest_repeat_gap(expression, zone, start, start + limits.horizon)
        if across is not None and (gap is None or across < gap):
            gap = across
    if gap is not None and gap < minimum:
        raise UnprocessableError(
            f"cron fires more often than the minimum interval of {_describe(limits.min_interval)}",
            [ErrorDetail("cron", f"occurrences must be at least {_describe(limits.min_interval)} apart")],
        )


def _check_fires(schedule: Schedule, now: datetime, limits: ScheduleLimits) -> None:
    """A recurring schedule must fire within the horizon of its start, and before its end_at."""
    start = max(now, schedule.start_at or now)
    first = _at_or_after(schedule, start)
    field = schedule.kind.value
    if first is None or first > start + limits.horizon:
        raise UnprocessableError(
            f"{field} never fires within {_describe(limits.horizon)} of {format_instant(start)}",
            [ErrorDetail(field, f"must fire at least once within {_describe(limits.horizon)}")],
        )
    if schedule.end_at is not None and first > schedule.end_at:
        raise UnprocessableError(
            f"{field} never fires between {format_instant(start)} and end_at {format_instant(schedule.end_at)}",
            [ErrorDetail("end_at", f"is before the first occurrence, {format_instant(first)}")],
        )


def _describe(duration: timedelta) -> str:
    seconds = int(duration.total_seconds())
    for name, size in (("day", _SECONDS_PER_DAY), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {name}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def walk_through(
    schedule: Schedule, start: datetime, now: datetime, *, cap: int
) -> tuple[datetime, int, datetime | None]:
    """From the occurrence ``start``, step over every later occurrence at or before ``now``.

    Returns (the last occurrence at or before now — ``start`` itself if none followed it, how many followed
    it, the first occurrence after now or None). A late fire and the sweeper both coalesce missed occurrences
    with it instead of bursting the backlog. Intervals are arithmetic (exact, O(1)); a cron walks at most
    ``cap`` occurrences and then jumps to the last one before now, so the count is then a lower bound."""
    if schedule.kind is ScheduleKind.EVERY:
        return _every_walk(schedule, start, now)
    latest, passed = start, 0
    following = next_occurrence(schedule, start)
    while following is not None and following <= now:
        if passed == cap:
            return _jump_to_latest(schedule, following, now, passed)
        latest, passed = following, passed + 1
        following = next_occurrence(schedule, following)
    return latest, passed, following


def _every_walk(schedule: Schedule, start: datetime, now: datetime) -> tuple[datetime, int, datetime | None]:
    assert schedule.every_seconds
    following = next_occurrence(schedule, start)
    if following is None or following > now:
        return start, 0, following
    interval_us = schedule.every_seconds * 1_000_000
    last = now if schedule.end_at is None else min(now, schedule.end_at)
    later = ((last - following) // _MICROSECOND) // interval_us  # occurrences after `following`, up to last
    latest = following + timedelta(microseconds=later * interval_us)
    return latest, later + 1, next_occurrence(schedule, latest)


# Windows before now searched, smallest first, for the last occurrence of a long-missed cron.
_JUMP_WINDOWS = tuple(timedelta(seconds=seconds) for seconds in (60, 3600, 86_400, 32 * 86_400, 367 * 86_400))


def _jump_to_latest(
    schedule: Schedule, pending: datetime, now: datetime, passed: int
) -> tuple[datetime, int, datetime | None]:
    """The walk from ``pending`` (an occurrence <= now) gave up counting: find the last occurrence <= now from
    the smallest window before now that holds one, and count only what that short walk steps over."""
    for window in _JUMP_WINDOWS:
        candidate = _within_end(schedule, _at_or_after(schedule, max(pending, now - window)))
        if candidate is not None and candidate <= now:
            latest, counted = candidate, 1
            following = next_occurrence(schedule, latest)
            while following is not None and following <= now:
                latest, counted = following, counted + 1
                following = next_occurrence(schedule, following)
            return latest, passed + counted, following
    # Rarer than once a year (a leap day): few enough to walk.
    return walk_through(schedule, pending, now, cap=_UNCAPPED)


_UNCAPPED = -1  # a cap the walk never reaches
