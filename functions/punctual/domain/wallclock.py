"""Wall-clock times in an IANA time zone, and the daylight-saving rule punctual applies to them.

A wall-clock time L (naive) becomes the instant ``L.replace(tzinfo=zone)`` with ``fold=0`` (PEP 495):
- a time skipped by a spring-forward gap is read with the offset in force before the gap, so it fires once,
  the same wall-clock distance after the gap (02:30 on Europe/Berlin's spring-forward day fires at 03:30 CEST);
- a time repeated by a fall-back overlap fires once, at its first (earlier, summer-time) instant.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from punctual.domain.cron import CronExpression
from punctual.domain.errors import ErrorDetail, ValidationError

_ONE_SECOND = timedelta(seconds=1)
_ONE_DAY = timedelta(days=1)


def load_zone(name: str | None, field: str = "timezone") -> ZoneInfo:
    if name is None:
        return ZoneInfo("UTC")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError(
            f"{field} must be an IANA time zone name",
            [ErrorDetail(field, "expected an IANA time zone name such as Europe/Berlin")],
        )
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory, a name too long
        raise ValidationError(
            f"unknown time zone {name!r}",
            [ErrorDetail(field, f"unknown time zone {name!r}; use an IANA name such as Europe/Berlin")],
        ) from None


def to_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The instant a naive wall-clock time fires at (see the module docstring)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def is_skipped(wall: datetime, zone: ZoneInfo) -> bool:
    """Inside a spring-forward gap: PEP 495 gives the offset before the gap for fold=0, after it for fold=1."""
    return _offset(wall, zone, 0) < _offset(wall, zone, 1)


def is_repeated(wall: datetime, zone: ZoneInfo) -> bool:
    return _offset(wall, zone, 0) > _offset(wall, zone, 1)


def _offset(wall: datetime, zone: ZoneInfo, fold: int) -> timedelta:
    offset = wall.replace(tzinfo=zone, fold=fold).utcoffset()
    assert offset is not None
    return offset


def first_cron_instant(expression: CronExpression, zone: ZoneInfo, earliest: datetime) -> datetime | None:
    """The first instant >= ``earliest`` at which the expression fires in ``zone`` (aware UTC, whole seconds).

    Wall-clock time runs backwards only at the end of a gap (skipped walls read with the earlier offset land
    after the gap), so besides the first matching wall time at or after ``earliest`` we also consider
    skipped walls just before it, and real walls just after the gap a matching skipped wall belongs to.
    """
    if earliest.microsecond:
        earliest = earliest.replace(microsecond=0) + _ONE_SECOND
    local = earliest.astimezone(zone)
    start = local.replace(tzinfo=None)
    if local.fold == 1 and is_repeated(start, zone):
        # `earliest` lies in the second pass of a repeated hour, which never fires: resume after it.
        start = _region_end(start, zone, is_repeated)
    candidates: list[datetime] = []
    wall = expression.next_wall_time(start)
    if wall is not None:
        candidates.append(to_instant(wall, zone))
        if is_skipped(wall, zone):
            after_gap = expression.next_wall_time(_region_end(wall, zone, is_skipped))
            if after_gap is not None:
                candidates.append(to_instant(after_gap, zone))
    # Just after a spring-forward transition, skipped walls before `start` map to instants >= earliest.
    offset_before = earliest.astimezone(zone).utcoffset()
    day_before = (earliest - _ONE_DAY).astimezone(zone).utcoffset()
    if offset_before is not None and day_before is not None and day_before < offset_before:
        skipped_start = (earliest + day_before).replace(tzinfo=None)
        if is_skipped(skipped_start, zone):
            skipped = expression.next_wall_time(skipped_start)
            if skipped is not None and is_skipped(skipped, zone):
                candidates.append(to_instant(skipped, zone))
    return min((c for c in candidates if c >= earliest), default=None)


def _region_end(wall: datetime, zone: ZoneInfo, inside: Callable[[datetime, ZoneInfo], bool]) -> datetime:
    """The first whole-second wall time after ``wall`` for which ``inside`` (is_skipped/is_repeated) is false."""
    span = timedelta(hours=1)
    while inside(wall + span, zone) and span < timedelta(days=3):
        span *= 2
    low, high = 0, int(span.total_seconds())  # inside at low, outside at high
    while high - low > 1:
        middle = (low + high) // 2
        if inside(wall + timedelta(seconds=middle), zone):
            low = middle
        else:
            high = middle
    return wall + timedelta(seconds=high)
