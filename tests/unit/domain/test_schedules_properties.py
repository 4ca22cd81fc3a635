"""Property tests: cron occurrences against an independent brute-force walk in the time zone, and the
ordering/bounds of every occurrence sequence.

The generator builds each expression together with its meaning (the set of values per field and the day
rules), computed here without punctual's parser. The walk then steps through UTC instants one minute (one
second for Quartz) at a time and asks whether the instant fires, by the documented daylight-saving rules:
- hour field starting with ``*``: the instant fires when the zone's clock reading at it matches (both passes
  of a repeated hour fire, a skipped hour has no readings);
- any other hour field: the instant fires when some matching wall time maps to it, a wall time mapping to
  ``wall.replace(tzinfo=zone, fold=0)``.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from punctual.domain.errors import UnprocessableError, ValidationError
from punctual.domain.model import Schedule, ScheduleKind
from punctual.domain.schedules import ScheduleLimits, first_occurrence, next_occurrence, parse_schedule

ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
MONTH_NAMES = tuple(name.upper() for name in calendar.month_abbr[1:])
MAX_COMPARED = 250
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --- expressions with their meaning ------------------------------------------------------------------------


@dataclass(frozen=True)
class Meaning:
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    months: frozenset[int]
    years: frozenset[int] | None
    day_of_month: Callable[[date], bool] | None  # None: '*' or '?'
    day_of_week: Callable[[date], bool] | None
    either: bool  # Unix, both day fields restricted
    wall_clock: bool  # the hour field starts with '*': fires whenever the clock reads a matching time

    def matches(self, wall: datetime) -> bool:
        if wall.second not in self.seconds or wall.minute not in self.minutes or wall.hour not in self.hours:
            return False
        if wall.month not in self.months or (self.years is not None and wall.year not in self.years):
            return False
        day = wall.date()
        by_month = self.day_of_month is None or self.day_of_month(day)
        by_week = self.day_of_week is None or self.day_of_week(day)
        return (by_month or by_week) if self.either else (by_month and by_week)


def cyclic(low: int, high: int, first: int, last: int) -> list[int]:
    """first..last, wrapping from high to low when first > last."""
    if first <= last:
        return list(range(first, last + 1))
    return list(range(first, high + 1)) + list(range(low, last + 1))


@st.composite
def field(
    draw: st.DrawFn, low: int, high: int, names: tuple[str, ...] = (), name_base: int = 0
) -> tuple[str, set[int]]:
    """A comma list of values, names, ranges (possibly wrapping) and steps, with the values it stands for."""

    def token(value: int) -> str:
        use_name: bool = draw(st.booleans())
        # Unix day-of-week 7 has no name of its own: SUN is 0, so `SUN/2` starts at 0, not at 7.
        if use_name and 0 <= value - name_base < len(names):
            name = names[value - name_base]
            return draw(st.sampled_from([name, name.lower(), name.title()]))
        return str(value)

    texts: list[str] = []
    values: set[int] = set()
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["value", "range", "step", "range_step", "star_step", "dense"]))
        first = draw(st.integers(low, high))
        last = draw(st.integers(low, high))
        step = draw(st.integers(1, min(high - low + 1, 20)))
        if kind == "value":
            texts.append(token(first))
            values.add(first)
        elif kind == "range":
            texts.append(f"{token(first)}-{token(last)}")
            values.update(cyclic(low, high, first, last))
        elif kind == "range_step":
            texts.append(f"{token(first)}-{token(last)}/{step}")
            values.update(cyclic(low, high, first, last)[::step])
        elif kind == "step":
            texts.append(f"{token(first)}/{step}")
            values.update(range(first, high + 1, step))
        elif kind == "star_step":
            texts.append(f"*/{step}")
            values.update(range(low, high + 1, step))
        else:
            texts.append("*")
            values.update(range(low, high + 1))
    return ",".join(texts), values


def often_star(
    strategy: st.SearchStrategy[tuple[str, set[int]]], low: int, high: int
) -> st.SearchStrategy[tuple[str, set[int]]]:
    star = st.just(("*", set(range(low, high + 1))))
    return st.one_of(star, star, strategy)


def last_day(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def nearest_weekday(target: int, day: date) -> bool:
    """The Monday-Friday day of the same month closest to ``target``."""
    length = last_day(day)
    if target > length:
        return False
    weekdays = [d for d in range(1, length + 1) if date(day.year, day.month, d).weekday() < 5]
    return day.day == min(weekdays, key=lambda d: abs(d - target))


def day_in(values: frozenset[int], day: date) -> bool:
    return day.day in values


def days_before_last(n: int, day: date) -> bool:
    return day.day == last_day(day) - n


def last_weekday(day: date) -> bool:
    return nearest_weekday(last_day(day), day)


def any_rule(rules: tuple[Callable[[date], bool], ...], day: date) -> bool:
    return any(rule(day) for rule in rules)


def weekday_numbers(unix: bool, day: date) -> set[int]:
    """The dialect's numbers for this day's weekday (Unix: Sunday is 0 and 7; EventBridge/Quartz: 1 = SUN)."""
    sunday_based = (day.weekday() + 1) % 7
    if unix:
        return {0, 7} if sunday_based == 0 else {sunday_based}
    return {sunday_based + 1}


def weekday_in(unix: bool, values: frozenset[int], day: date) -> bool:
    return bool(weekday_numbers(unix, day) & values)


def nth_weekday(unix: bool, value: int, n: int, day: date) -> bool:
    return value in weekday_numbers(unix, day) and (day.day - 1) // 7 + 1 == n


def last_of_weekday(unix: bool, value: int, day: date) -> bool:
    return value in weekday_numbers(unix, day) and day.day + 7 > last_day(day)


@st.composite
def day_of_month(draw: st.DrawFn) -> tuple[str, Callable[[date], bool]]:
    texts: list[str] = []
    rules: list[Callable[[date], bool]] = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["plain", "plain", "L", "L-n", "W", "LW"]))
        if kind == "plain":
            text, values = draw(field(1, 31))
            texts.append(text)
            rules.append(partial(day_in, frozenset(values)))
        elif kind == "L":
            texts.append("L")
            rules.append(partial(days_before_last, 0))
        elif kind == "L-n":
            n = draw(st.integers(0, 5))
            texts.append(f"L-{n}")
            rules.append(partial(days_before_last, n))
        elif kind == "W":
            target = draw(st.integers(1, 31))
            texts.append(f"{target}W")
            rules.append(partial(nearest_weekday, target))
        else:
            texts.append("LW")
            rules.append(last_weekday)
    return ",".join(texts), partial(any_rule, tuple(rules))


@st.composite
def day_of_week(draw: st.DrawFn, unix: bool) -> tuple[str, Callable[[date], bool]]:
    low, high = (0, 7) if unix else (1, 7)

    def name(value: int) -> str:
        return DAY_NAMES[value % 7 if unix else value - 1]

    texts: list[str] = []
    rules: list[Callable[[date], bool]] = []
    for _ in range(draw(st.integers(1, 2))):
        kind = draw(st.sampled_from(["plain", "plain", "nth", "last", "L"]))
        value = draw(st.integers(low, high))
        label = draw(st.sampled_from([str(value), name(value)]))
        if kind == "plain":
            text, values = draw(field(low, high, DAY_NAMES, 0 if unix else 1))
            texts.append(text)
            rules.append(partial(weekday_in, unix, frozenset(values)))
        elif kind == "nth":
            n = draw(st.integers(1, 5))
            texts.append(f"{label}#{n}")
            rules.append(partial(nth_weekday, unix, value, n))
        elif kind == "last":
            texts.append(f"{label}L")
            rules.append(partial(last_of_weekday, unix, value))
        else:
            texts.append("L")
            rules.append(partial(weekday_in, unix, frozenset({7 if not unix else 6})))
    return ",".join(texts), partial(any_rule, tuple(rules))


@st.composite
def cron_expressions(draw: st.DrawFn, dialect: str) -> tuple[str, Meaning]:
    unix, quartz = dialect == "unix", dialect == "quartz"
    seconds_text, seconds = draw(field(0, 59)) if quartz else ("", {0})
    minutes_text, minutes = draw(field(0, 59))
    # Hours 1-3 hold the daylight-saving changes of the zones tested.
    hours_text, hours = draw(st.one_of(st.just(("1-3", {1, 2, 3})), often_star(field(0, 23), 0, 23)))
    months_text, months = draw(often_star(field(1, 12, MONTH_NAMES, 1), 1, 12))
    star_or_dom = st.one_of(st.just(("*", None)), st.just(("*", None)), day_of_month())
    star_or_dow = st.one_of(st.just(("*", None)), st.just(("*", None)), day_of_week(unix))
    dom_text, dom = draw(star_or_dom)
    dow_text, dow = draw(star_or_dow)
    if not unix:  # exactly one day field is '?'
        if draw(st.booleans()):
            dom_text, dom = "?", None
        else:
            dow_text, dow = "?", None
    years_text, years = "", None
    if not unix:
        years_text, years = draw(
            st.sampled_from(
                [
                    ("*", None),
                    ("2026", {2026}),
                    ("2025-2027", {2025, 2026, 2027}),
                    ("2026/2", set(range(2026, 2100, 2))),
                ]
            )
        )
    meaning = Meaning(
        seconds=frozenset(seconds),
        minutes=frozenset(minutes),
        hours=frozenset(hours),
        months=frozenset(months),
        years=None if years is None else frozenset(years),
        day_of_month=dom,
        day_of_week=dow,
        either=unix and not dom_text.startswith("*") and not dow_text.startswith("*"),  # Vixie rule
        wall_clock=hours_text.startswith("*"),  # Vixie's wildcard hour
    )
    parts = [minutes_text, hours_text, dom_text, months_text, dow_text]
    if quartz:
        parts = [seconds_text, *parts]
    if not unix:
        parts.append(years_text)
    return " ".join(parts), meaning


# --- the brute-force walk ----------------------------------------------------------------------------------


def fires_at(instant: datetime, zone: ZoneInfo, meaning: Meaning) -> bool:
    """Wildcard hours: whether the clock reading at ``instant`` matches. Otherwise: whether some wall-clock
    time that maps to ``instant`` matches."""
    if meaning.wall_clock:
        return meaning.matches(instant.astimezone(zone).replace(tzinfo=None))
    offsets = {
        (instant + shift).astimezone(zone).utcoffset()
        for shift in (timedelta(hours=-3), timedelta(0), timedelta(hours=3))
    }
    for offset in offsets:
        assert offset is not None
        wall = (instant + offset).replace(tzinfo=None)
        if wall.replace(tzinfo=zone, fold=0).astimezone(UTC) == instant and meaning.matches(wall):
            return True
    return False


def brute_force(
    meaning: Meaning, zone: ZoneInfo, start: datetime, end: datetime, step: timedelta
) -> list[datetime]:
    moment = start.replace(second=0, microsecond=0)
    found: list[datetime] = []
    while moment <= end and len(found) < MAX_COMPARED:
        if moment >= start and fires_at(moment, zone, meaning):
            found.append(moment)
        moment += step
    return found


def chain(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    found: list[datetime] = []
    moment = first_occurrence(schedule, start)
    while moment is not None and moment <= end and len(found) < MAX_COMPARED:
        found.append(moment)
        moment = next_occurrence(schedule, moment)
    return found


# Each zone with its own 2026 daylight-saving changes (UTC), where the wall clock misbehaves.
TRANSITIONS = {
    "Europe/Berlin": (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
    "America/New_York": (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)),
    # 30-minute changes: 02:00 -> 01:30 in April, 02:00 -> 02:30 in October.
    "Australia/Lord_Howe": (datetime(2026, 4, 4, 15, tzinfo=UTC), datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),
}


@st.composite
def zones_and_starts(draw: st.DrawFn, earliest: int = -26 * 60, latest: int = 3 * 60) -> tuple[str, datetime]:
    """Mostly a window starting ``earliest``..``latest`` minutes around one of the zone's daylight-saving
    changes; sometimes any zone, any instant."""
    if draw(st.integers(0, 3)) > 0:
        zone = draw(st.sampled_from(sorted(TRANSITIONS)))
        transition = draw(st.sampled_from(TRANSITIONS[zone]))
        offset = timedelta(minutes=draw(st.integers(earliest, latest)), seconds=draw(st.integers(0, 59)))
        return zone, transition + offset
    zone = draw(st.sampled_from(ZONES))
    return zone, draw(
        st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC))
    )


def check_against_brute_force(
    expression: str, meaning: Meaning, zone_name: str, start: datetime, span: timedelta, step: timedelta
) -> None:
    zone = ZoneInfo(zone_name)
    schedule = Schedule(kind=ScheduleKind.CRON, cron=expression, timezone=zone_name)
    end = start + span
    expected = brute_force(meaning, zone, start, end, step)
    actual = chain(schedule, start, end)
    assert actual == expected, expression
    event("fires in the window" if expected else "no fire in the window")
    event("wildcard hours" if meaning.wall_clock else "specific hours")
    if len({moment.astimezone(zone).utcoffset() for moment in expected}) > 1:
        event("fires on both sides of a daylight-saving change")
    # next_occurrence from an arbitrary instant agrees too.
    probe = start + span / 3
    later = [moment for moment in expected if moment > probe]
    if later and (len(expected) < MAX_COMPARED):
        assert next_occurrence(schedule, probe) == later[0], expression


@FAST
@given(cron_expressions("unix"), zones_and_starts())
def test_unix_cron_matches_a_minute_by_minute_walk(
    expr: tuple[str, Meaning], zone_and_start: tuple[str, datetime]
) -> None:
    check_against_brute_force(*expr, *zone_and_start, timedelta(hours=30), timedelta(minutes=1))


@FAST
@given(cron_expressions("eventbridge"), zones_and_starts())
def test_eventbridge_cron_matches_a_minute_by_minute_walk(
    expr: tuple[str, Meaning], zone_and_start: tuple[str, datetime]
) -> None:
    check_against_brute_force(*expr, *zone_and_start, timedelta(hours=30), timedelta(minutes=1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cron_expressions("quartz"), zones_and_starts(-100, 20))
def test_quartz_cron_matches_a_second_by_second_walk(
    expr: tuple[str, Meaning], zone_and_start: tuple[str, datetime]
) -> None:
    check_against_brute_force(*expr, *zone_and_start, timedelta(hours=2), timedelta(seconds=1))


@st.composite
def day_level_expressions(draw: st.DrawFn) -> tuple[str, Meaning]:
    """Day rules need months of calendar to show: one fire a day, walked day by day below."""
    dialect = draw(st.sampled_from(["unix", "eventbridge"]))
    expression, meaning = draw(cron_expressions(dialect))
    parts = expression.split()
    parts[0], parts[1] = "0", "12"
    return " ".join(parts), Meaning(
        seconds=frozenset({0}),
        minutes=frozenset({0}),
        hours=frozenset({12}),
        months=meaning.months,
        years=meaning.years,
        day_of_month=meaning.day_of_month,
        day_of_week=meaning.day_of_week,
        either=meaning.either,
        wall_clock=False,
    )


@FAST
@given(day_level_expressions(), st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)))
def test_day_rules_match_a_day_by_day_walk(expr: tuple[str, Meaning], first_day: date) -> None:
    expression, meaning = expr
    noon = datetime(first_day.year, first_day.month, first_day.day, 12, tzinfo=UTC)
    check_against_brute_force(expression, meaning, "UTC", noon, timedelta(days=400), timedelta(days=1))


# --- ordering and bounds -----------------------------------------------------------------------------------


@FAST
@given(
    st.sampled_from(["unix", "eventbridge", "quartz"]).flatmap(cron_expressions),
    zones_and_starts(),
    st.integers(0, 3 * 86_400),
    st.integers(60, 20 * 86_400),
)
def test_cron_occurrences_strictly_increase_within_start_and_end(
    expr: tuple[str, Meaning], zone_and_now: tuple[str, datetime], start_offset: int, length: int
) -> None:
    zone, now = zone_and_now
    start_at = now + timedelta(seconds=start_offset) - timedelta(days=1)
    end_at = start_at + timedelta(seconds=length)
    schedule = Schedule(kind=ScheduleKind.CRON, cron=expr[0], timezone=zone, start_at=start_at, end_at=end_at)
    found = chain(schedule, now, end_at + timedelta(days=30))[:60]
    assert all(earlier < later for earlier, later in itertools.pairwise(found))
    assert all(max(now, start_at) <= moment <= end_at for moment in found)
    assert all(moment.tzinfo is UTC and moment.microsecond == 0 for moment in found)


@FAST
@given(
    st.integers(10, 7 * 86_400),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)),
    st.datetimes(min_value=datetime(2019, 1, 1), max_value=datetime(2031, 1, 1), timezones=st.just(UTC)),
    st.one_of(st.none(), st.integers(1, 400 * 86_400)),
)
def test_every_occurrences_are_the_anchor_grid(
    seconds: int, anchor: datetime, after: datetime, length: int | None
) -> None:
    end_at = None if length is None else anchor + timedelta(seconds=length)
    schedule = Schedule(
        kind=ScheduleKind.EVERY,
        every=f"{seconds} seconds",
        every_seconds=seconds,
        start_at=anchor,
        end_at=end_at,
        anchor=anchor,
    )
    interval = timedelta(seconds=seconds)
    following = next_occurrence(schedule, after)
    first = first_occurrence(schedule, after)
    grid_point = anchor if after < anchor else anchor + ((after - anchor) // interval + 1) * interval
    assert following == (grid_point if end_at is None or grid_point <= end_at else None)
    if following is None:
        return
    assert following > after and following >= anchor
    assert (following - anchor) % interval == timedelta(0)
    assert following == anchor or following - interval <= after  # the smallest such grid point
    assert end_at is None or following <= end_at
    assert first is not None and first >= after and first <= following
    assert next_occurrence(schedule, following) in (None, following + interval)


# --- hostile input -----------------------------------------------------------------------------------------

CRON_TOKENS = st.sampled_from([*"0123456789*/-,?LW#", "MON", "JAN", "60", "²", "٣", "x"])
CRON_FIELD = st.lists(CRON_TOKENS, min_size=1, max_size=6).map("".join)
CRON_TEXT = st.one_of(
    st.lists(CRON_FIELD, min_size=5, max_size=7).map(" ".join),
    st.text(max_size=40),
)


@settings(max_examples=300, deadline=None)
@given(
    CRON_TEXT,
    st.one_of(st.none(), st.sampled_from(["UTC", "Europe/Berlin", "Europe", "../x", "a" * 300, "\x00"])),
)
def test_any_cron_text_is_a_schedule_or_a_caller_error(text: str, timezone: str | None) -> None:
    try:
        schedule = parse_schedule(
            at=None,
            every=None,
            cron=text,
            timezone=timezone,
            start_at=None,
            end_at=None,
            now=NOW,
            limits=ScheduleLimits(),
        )
    except (ValidationError, UnprocessableError) as error:
        assert error.details
    else:
        assert first_occurrence(schedule, NOW) is not None


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.from_regex(r"\A[+-]?[0-9²٣]{0,25} ?[a-zA-Z()]{0,10}\Z"), st.text(max_size=30)))
def test_any_every_text_is_a_schedule_or_a_caller_error(text: str) -> None:
    try:
        schedule = parse_schedule(
            at=None,
            every=text,
            cron=None,
            timezone=None,
            start_at=None,
            end_at=None,
            now=NOW,
            limits=ScheduleLimits(),
        )
    except (ValidationError, UnprocessableError) as error:
        assert error.details
    else:
        assert schedule.every_seconds is not None and schedule.every_seconds >= 10
