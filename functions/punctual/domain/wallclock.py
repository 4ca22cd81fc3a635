"""Wall-clock times in an IANA time zone, and the daylight-saving rules punctual applies to cron.

Where a change of UTC offset skips wall-clock times (spring forward) or repeats them (fall back), a cron
expression follows one of two rules, chosen by its hour field as Vixie cron does:

- Wildcard hours (the hour field starts with ``*``: ``*``, ``*/2``, ``@hourly``): the expression runs by the
  wall clock. It fires at every instant at which the zone's clock shows a matching time: in both passes of
  a repeated hour, and never inside a skipped one (the next time that exists is simply the next
  occurrence). ``*/15 * * * *`` keeps firing every 15 minutes of absolute time across both changes.
- Specific hours (any other hour field: ``30 2 * * *``, ``*/5 2 * * *``, ``0 1-3 * * *``, even ``0-23``):
  each matching wall time L fires once, at ``L.replace(tzinfo=zone, fold=0)`` (PEP 495). A time skipped by
  a spring-forward gap is read with the offset in force before the gap, so it fires the same wall-clock
  distance after the gap (02:30 on Europe/Berlin's spring-forward day fires at 03:30 CEST; where that is
  also a matching time, the instant fires once); a time repeated by a fall-back overlap fires once, at its
  first (earlier, summer-time) instant.

Unlike Vixie cron, a ``*`` in the minute field alone does not make an expression wildcard, skipped times
of specific-hour expressions fire shifted by the gap rather than all at once just after it, and both rules
apply to every offset change whatever its size (Vixie treats changes of 3 hours or more as clock resets).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from punctual.domain.cron import CronExpression, ceil_second
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
    """A naive wall-clock time's fold=0 reading: the instant it fires at under the specific-hours rule."""
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
    """The first instant >= ``earliest`` at which the expression fires in ``zone`` (aware UTC, whole seconds),
    under the rule for its hour field (see the module docstring)."""
    earliest = ceil_second(earliest)
    if expression.wildcard_hours:
        return _first_by_wall_clock(expression, zone, earliest)
    return _first_once_per_wall_time(expression, zone, earliest)


def _first_by_wall_clock(expression: CronExpression, zone: ZoneInfo, earliest: datetime) -> datetime | None:
    """Wildcard hours: the first instant >= ``earliest`` whose wall-clock reading matches.

    Readings with fold=0 (every existing wall time once, the first pass of a repeated one) grow with the wall
    time, so the first of them is the first existing match from ``earliest``'s reading on, or from the end of
    the repeated hour when ``earliest`` is in its second pass. Second-pass readings (fold=1) can come sooner
    only inside the repeated hour ``earliest``'s reading belongs to, so only that one is searched.
    """
    local = earliest.astimezone(zone)
    start = local.replace(tzinfo=None)
    candidates: list[datetime] = []
    if is_repeated(start, zone):
        overlap_end = _region_end(start, zone, is_repeated)
        if local.fold == 1:
            second_pass_from, start = start, overlap_end
        else:  # all of the second pass is still ahead
            second_pass_from = overlap_end - (_offset(start, zone, 0) - _offset(start, zone, 1))
        repeated = expression.next_wall_time(second_pass_from)
        if repeated is not None and repeated < overlap_end:
            candidates.append(repeated.replace(tzinfo=zone, fold=1).astimezone(UTC))
    wall = expression.next_wall_time(start)
    while wall is not None and is_skipped(wall, zone):
        wall = expression.next_wall_time(_region_end(wall, zone, is_skipped))
    if wall is not None:
        candidates.append(to_instant(wall, zone))
    return min(candidates, default=None)


def _first_once_per_wall_time(
    expression: CronExpression, zone: ZoneInfo, earliest: datetime
) -> datetime | None:
    """Specific hours: the first ``to_instant(wall)`` >= ``earliest`` over the matching walls.

    Wall-clock time runs backwards only at the end of a gap (skipped walls read with the earlier offset land
    after the gap), so besides the first matching wall time at or after ``earliest`` we also consider
    skipped walls just before it, and real walls just after the gap a matching skipped wall belongs to.
    """
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
    offset_before = local.utcoffset()
    day_before = (earliest - _ONE_DAY).astimezone(zone).utcoffset()
    if offset_before is not None and day_before is not None and day_before < offset_before:
        skipped_start = (earliest + day_before).replace(tzinfo=None)
        if is_skipped(skipped_start, zone):
            skipped = expression.next_wall_time(skipped_start)
            if skipped is not None and is_skipped(skipped, zone):
                candidates.append(to_instant(skipped, zone))
    return min((c for c in candidates if c >= earliest), default=None)


def repeated_spans(zone: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The naive wall-clock spans [begin, finish) repeated by the fall-back changes between the instants
    ``start`` and ``end``. Samples the offset daily, so it assumes offset changes at least a day apart."""
    spans: list[tuple[datetime, datetime]] = []
    moment = start.astimezone(UTC).replace(microsecond=0)
    offset = _offset_at(moment, zone)
    while moment < end:
        following = moment + _ONE_DAY
        next_offset = _offset_at(following, zone)
        if next_offset < offset:
            # Seconds after `moment`: the old offset at low, the new one at high.
            low, high = 0, int(_ONE_DAY.total_seconds())
            while high - low > 1:
                middle = (low + high) // 2
                if _offset_at(moment + timedelta(seconds=middle), zone) == offset:
                    low = middle
                else:
                    high = middle
            change = (moment + timedelta(seconds=high)).replace(tzinfo=None)
            spans.append((change + next_offset, change + offset))
        moment, offset = following, next_offset
    return spans


def shortest_repeat_gap(
    expression: CronExpression, zone: ZoneInfo, start: datetime, end: datetime
) -> int | None:
    """Wildcard hours fire in both passes of a repeated span [begin, finish): from the last fire of the first
    pass to the first fire of the second, (finish - last) + (first - begin) pass. The shortest such gap in
    seconds over the fall-backs between the instants ``start`` and ``end``; None if no span holds a match."""
    gaps: list[int] = []
    for begin, finish in repeated_spans(zone, start, end):
        found = expression.first_and_last_between(begin, finish)
        if found is not None:
            first, last = found
            gaps.append(int(((finish - last) + (first - begin)).total_seconds()))
    return min(gaps, default=None)


def _offset_at(moment: datetime, zone: ZoneInfo) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None
    return offset


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
