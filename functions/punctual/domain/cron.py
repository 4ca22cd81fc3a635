"""Cron expressions in three dialects, told apart by their field count, and a wall-clock matcher.

- 5 fields, Unix: ``minute hour day-of-month month day-of-week``; day-of-week 0-7 (0 and 7 = Sunday).
  When both day fields are restricted (neither starts with ``*``, so ``*/2`` counts as unrestricted) a day
  matches if either matches (Vixie cron's rule, which croniter follows too).
- 6 fields, EventBridge: ``minute hour day-of-month month day-of-week year``; day-of-week 1-7 = SUN-SAT,
  year 1970-2199. Exactly one of the day fields must be ``?``.
- 7 fields, Quartz: ``second minute hour day-of-month month day-of-week year``; day-of-week 1-7 = SUN-SAT,
  year 1970-2099 (``*`` for any). Exactly one of the day fields must be ``?``. Quartz's year is optional,
  but a 6-field expression is always read as EventBridge: write a Quartz expression's year as ``*``.

Every field takes ``*``, values, ``a-b`` ranges (a range whose start is greater than its end wraps around,
as in Quartz: hours ``22-2``, ``FRI-MON``), ``/step`` on ``*``, a value or a range, and comma lists; months
take JAN-DEC and day-of-week SUN-SAT (any case). Day-of-month also takes ``L`` (last day), ``L-n`` (n days
before the last), ``nW`` (the weekday nearest day n, never leaving the month; no match in months shorter
than n) and ``LW`` (last weekday); day-of-week takes ``L`` alone (Saturday), ``dL`` (the last such weekday
of the month) and ``d#n`` (the n-th such weekday, n 1-5). ``@yearly``, ``@monthly``, ``@weekly``,
``@daily`` and ``@hourly`` stand for their Unix expressions, and an EventBridge ``cron(...)`` wrapper is
accepted.

An expression whose hour field starts with ``*`` (``*``, ``*/2``; also ``@hourly``) has *wildcard hours*,
which selects how daylight-saving changes treat it (see ``punctual.domain.wallclock``); ``0-23`` does not
count, as in Vixie cron, which tests the field's first character too.

This module knows nothing of time zones: ``CronExpression.next_wall_time`` finds matching naive wall-clock
times; ``punctual.domain.wallclock`` maps them to instants.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from typing import NoReturn, TypeVar

from punctual.domain.errors import ErrorDetail, ValidationError


class Dialect(StrEnum):
    UNIX = "unix"
    EVENTBRIDGE = "eventbridge"
    QUARTZ = "quartz"


_MONTH_NAMES = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
_DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Years searched ahead when the expression has no year field: enough for 29 February across 2100.
_SEARCH_YEARS = 10
_SATURDAY = 6
_T = TypeVar("_T")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None

    def out_of_range(self, value: int) -> str:
        return f"cron {self.name} field: {value} is out of range {self.low}-{self.high}"


_SECOND = _Field("second", 0, 59)
_MINUTE = _Field("minute", 0, 59)
_HOUR = _Field("hour", 0, 23)
_DAY_OF_MONTH = _Field("day-of-month", 1, 31)
_MONTH = _Field("month", 1, 12, _MONTH_NAMES)
_UNIX_DAY_OF_WEEK = _Field("day-of-week", 0, 7, {name: i for i, name in enumerate(_DAY_NAMES)})
_AWS_DAY_OF_WEEK = _Field("day-of-week", 1, 7, {name: i + 1 for i, name in enumerate(_DAY_NAMES)})
_EVENTBRIDGE_YEAR = _Field("year", 1970, 2199)
_QUARTZ_YEAR = _Field("year", 1970, 2099)


class _FieldError(Exception):
    """One problem in one field; parsing collects them and reports all at once."""


@dataclass(frozen=True)
class DayRule:
    """Which days of a month match. Days of week are 0 = Sunday .. 6 = Saturday internally."""

    any_day_of_month: bool = True
    days_of_month: frozenset[int] = frozenset()
    last_day_offsets: frozenset[int] = frozenset()  # L-n: n days before the last day (L = L-0)
    nearest_weekdays: frozenset[int] = frozenset()  # nW
    last_weekday_of_month: bool = False  # LW
    any_day_of_week: bool = True
    days_of_week: frozenset[int] = frozenset()
    nth_days_of_week: frozenset[tuple[int, int]] = frozenset()  # (weekday, n) for d#n
    last_days_of_week: frozenset[int] = frozenset()  # dL
    either: bool = False  # Unix: both day fields restricted -> a day matches if either matches

    def matching_days(self, year: int, month: int) -> tuple[int, ...]:
        first_weekday, length = calendar.monthrange(year, month)
        sunday_based_first = (first_weekday + 1) % 7
        special_days = self._special_days_of_month(year, month, length)
        matches = []
        for day in range(1, length + 1):
            weekday = (sunday_based_first + day - 1) % 7
            by_month = self.any_day_of_month or day in self.days_of_month or day in special_days
            by_week = (
                self.any_day_of_week
                or weekday in self.days_of_week
                or (weekday, (day - 1) // 7 + 1) in self.nth_days_of_week
                or (weekday in self.last_days_of_week and day + 7 > length)
            )
            if (by_month or by_week) if self.either else (by_month and by_week):
                matches.append(day)
        return tuple(matches)

    def _special_days_of_month(self, year: int, month: int, length: int) -> set[int]:
        days = {length - offset for offset in self.last_day_offsets if length - offset >= 1}
        days.update(
            _nearest_weekday(year, month, day, length) for day in self.nearest_weekdays if day <= length
        )
        if self.last_weekday_of_month:
            days.add(_nearest_weekday(year, month, length, length))
        return days


def _nearest_weekday(year: int, month: int, day: int, length: int) -> int:
    weekday = date(year, month, day).weekday()  # Monday = 0
    if weekday == 5:  # Saturday: the Friday before, unless that leaves the month
        return day - 1 if day > 1 else day + 2
    if weekday == 6:  # Sunday: the Monday after, unless that leaves the month
        return day + 1 if day < length else day - 2
    return day


@dataclass(frozen=True)
class CronExpression:
    text: str
    dialect: Dialect
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    months: frozenset[int]
    years: tuple[int, ...] | None  # None: any year
    days: DayRule
    wildcard_hours: bool = False  # the hour field starts with `*`: fires by the wall clock across DST changes
    _month_cache: dict[tuple[int, int], tuple[int, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @property
    def fires_per_day(self) -> int:
        """Matching times of day (on a matching day)."""
        return len(self.seconds) * len(self.minutes) * len(self.hours)

    def times_of_day(self) -> list[int]:
        """Matching times of day as seconds since midnight, ascending."""
        return [h * 3600 + m * 60 + s for h in self.hours for m in self.minutes for s in self.seconds]

    def days_of(self, year: int, month: int) -> tuple[int, ...]:
        if month not in self.months or (self.years is not None and year not in self.years):
            return ()
        key = (year, month)
        days = self._month_cache.get(key)
        if days is None:
            days = self.days.matching_days(year, month)
            self._month_cache[key] = days
        return days

    def next_wall_time(self, start: datetime) -> datetime | None:
        """The first matching naive wall-clock time >= ``start`` (whole seconds), or None if there is none
        within the expression's years (or the next ten years when it has no year field)."""
        start = ceil_second(start)
        last_year = self.years[-1] if self.years is not None else start.year + _SEARCH_YEARS
        year, month = start.year, start.month
        start_day = start.day
        start_time: tuple[int, int, int] | None = (start.hour, start.minute, start.second)
        while year <= last_year:
            if self.years is not None and year not in self.years:
                index = bisect_left(self.years, year)
                if index == len(self.years):
                    return None
                year, month, start_day, start_time = self.years[index], 1, 1, None
                continue
            for day in self.days_of(year, month):
                if day < start_day:
                    continue
                earliest = start_time if day == start_day else None
                found = self._first_time(*(earliest or (0, 0, 0)))
                if found is not None:
                    return datetime(year, month, day, *found)
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
            start_day, start_time = 1, None
        return None

    def first_and_last_between(self, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
        """The first and the last matching wall-clock times in [start, end), or None if there is none."""
        first = self.next_wall_time(start)
        if first is None or first >= end:
            return None
        times = self.times_of_day()
        day = (end - timedelta(seconds=1)).date()
        while (
            True
        ):  # back from end's day; first's day has a match before end, so this stops there at the latest
            if day.day in self.days_of(day.year, day.month):
                midnight = datetime(day.year, day.month, day.day)
                index = bisect_left(times, (end - midnight).total_seconds())
                if index:
                    return first, midnight + timedelta(seconds=times[index - 1])
            day -= timedelta(days=1)

    def _first_time(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        for h in self.hours[bisect_left(self.hours, hour) :]:
            if h > hour:
                return h, self.minutes[0], self.seconds[0]
            for m in self.minutes[bisect_left(self.minutes, minute) :]:
                if m > minute:
                    return h, m, self.seconds[0]
                index = bisect_left(self.seconds, second)
                if index < len(self.seconds):
                    return h, m, self.seconds[index]
        return None


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def ceil_second(moment: datetime) -> datetime:
    """The first whole second at or after ``moment`` (naive or aware)."""
    if moment.microsecond:
        return moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment


def normalize_cron_text(text: str) -> str:
    """The expression as stored: whitespace collapsed, an EventBridge ``cron(...)`` wrapper removed."""
    stripped = text.strip()
    wrapped = re.fullmatch(r"cron\((.*)\)", stripped, flags=re.IGNORECASE | re.DOTALL)
    if wrapped:
        stripped = wrapped.group(1)
    return " ".join(stripped.split())


@lru_cache(maxsize=512)
def parse_cron(text: str) -> CronExpression:
    """Parse and validate; raises ValidationError (field ``cron``) listing every problem found."""
    normalized = normalize_cron_text(text)
    expanded = _MACROS.get(normalized.lower(), normalized)
    if expanded.startswith("@"):
        _fail(f"cron: unknown macro {normalized!r}; use @yearly, @monthly, @weekly, @daily or @hourly")
    parts = expanded.split()
    if len(parts) == 5:
        parts = ["0", *parts]
        dialect = Dialect.UNIX
    elif len(parts) == 6:
        parts = ["0", *parts]
        dialect = Dialect.EVENTBRIDGE
    elif len(parts) == 7:
        dialect = Dialect.QUARTZ
    else:
        _fail(
            "cron expression must have 5 fields (Unix), 6 (EventBridge) or 7 (Quartz, with seconds); "
            f"got {len(parts)}"
        )
    second, minute, hour, day_of_month, month, day_of_week = parts[:6]
    year = parts[6] if len(parts) == 7 else None
    dow_field = _UNIX_DAY_OF_WEEK if dialect is Dialect.UNIX else _AWS_DAY_OF_WEEK
    year_field = _QUARTZ_YEAR if dialect is Dialect.QUARTZ else _EVENTBRIDGE_YEAR

    problems: list[str] = []

    def collect(parse: Callable[[], _T]) -> _T | None:
        try:
            return parse()
        except _FieldError as error:
            problems.append(str(error))
            return None

    seconds = collect(lambda: _values(second, _SECOND))
    minutes = collect(lambda: _values(minute, _MINUTE))
    hours = collect(lambda: _values(hour, _HOUR))
    months = collect(lambda: _values(month, _MONTH))
    years = collect(lambda: _years(year, year_field))
    dom = collect(lambda: _day_of_month(day_of_month, dialect))
    dow = collect(lambda: _day_of_week(day_of_week, dow_field, dialect))
    if dialect is not Dialect.UNIX and dom is not None and dow is not None:
        collect(lambda: _check_question_marks(day_of_month, day_of_week, dialect))
    if problems:
        raise ValidationError("; ".join(problems), [ErrorDetail("cron", problem) for problem in problems])
    assert seconds is not None and minutes is not None and hours is not None and months is not None
    assert dom is not None and dow is not None
    days = DayRule(
        any_day_of_month=dom.any_day_of_month,
        days_of_month=dom.days_of_month,
        last_day_offsets=dom.last_day_offsets,
        nearest_weekdays=dom.nearest_weekdays,
        last_weekday_of_month=dom.last_weekday_of_month,
        any_day_of_week=dow.any_day_of_week,
        days_of_week=dow.days_of_week,
        nth_days_of_week=dow.nth_days_of_week,
        last_days_of_week=dow.last_days_of_week,
        either=dialect is Dialect.UNIX
        and not day_of_month.startswith("*")
        and not day_of_week.startswith("*"),
    )
    return CronExpression(
        text=normalized,
        dialect=dialect,
        seconds=_sorted(seconds),
        minutes=_sorted(minutes),
        hours=_sorted(hours),
        months=frozenset(_sorted(months)),
        years=None if years is None else _sorted(years),
        days=days,
        wildcard_hours=hour.startswith("*"),
    )


def _sorted(values: set[int]) -> tuple[int, ...]:
    return tuple(sorted(values))


def _fail(message: str) -> NoReturn:
    raise ValidationError(message, [ErrorDetail("cron", message)])


def _check_question_marks(day_of_month: str, day_of_week: str, dialect: Dialect) -> None:
    example = "0 10 * * ? *" if dialect is Dialect.EVENTBRIDGE else "0 0 10 * * ? *"
    kind = "6-field (EventBridge)" if dialect is Dialect.EVENTBRIDGE else "7-field (Quartz)"
    if day_of_month == "?" and day_of_week == "?":
        raise _FieldError(
            f"cron: day-of-month and day-of-week cannot both be ?; use ? in exactly one of them, e.g. {example}"
        )
    if day_of_month != "?" and day_of_week != "?":
        raise _FieldError(
            f"cron: exactly one of day-of-month and day-of-week must be ? in a {kind} expression, e.g. {example}"
        )


def _items(text: str, spec: _Field) -> list[str]:
    items = text.split(",")
    if any(not item for item in items):
        raise _FieldError(f"cron {spec.name} field: empty list item in {text!r}")
    return items


def _values(text: str, spec: _Field) -> set[int]:
    if text == "?":
        raise _FieldError(f"cron {spec.name} field: ? is only allowed in day-of-month or day-of-week")
    values: set[int] = set()
    for item in _items(text, spec):
        values.update(_item_values(item, spec))
    return values


def _years(text: str | None, spec: _Field) -> set[int] | None:
    if text is None or text == "*":
        return None
    return _values(text, spec)


def _item_values(item: str, spec: _Field) -> list[int]:
    base, slash, step_text = item.partition("/")
    if base == "*":
        first, last = spec.low, spec.high
    elif "-" in base:
        start_text, _, end_text = base.partition("-")
        first, last = _value(start_text, spec), _value(end_text, spec)
    else:
        first = _value(base, spec)
        last = spec.high if slash else first
    span = spec.high - spec.low + 1
    step = 1
    if slash:
        if not _is_number(step_text):
            raise _FieldError(f"cron {spec.name} field: step {step_text!r} in {item!r} is not a number")
        step = int(step_text)
        if not 1 <= step <= span:
            raise _FieldError(f"cron {spec.name} field: step {step} is out of range 1-{span}")
    length = (last - first) % span + 1  # a range whose start is after its end wraps around
    return [spec.low + (first - spec.low + offset) % span for offset in range(0, length, step)]


def _value(text: str, spec: _Field) -> int:
    if _is_number(text):
        value = int(text)
    elif spec.names is not None and text.upper() in spec.names:
        value = spec.names[text.upper()]
    elif spec.names is not None:
        names = list(spec.names)
        raise _FieldError(
            f"cron {spec.name} field: {text!r} is not a number {spec.low}-{spec.high} "
            f"or a name {names[0]}-{names[-1]}"
        )
    else:
        raise _FieldError(f"cron {spec.name} field: {text!r} is not a number")
    if not spec.low <= value <= spec.high:
        raise _FieldError(spec.out_of_range(value))
    return value


def _day_of_month(text: str, dialect: Dialect) -> DayRule:
    spec = _DAY_OF_MONTH
    if text in ("*", "?"):
        _check_question_mark(text, spec, dialect)
        return DayRule()
    days: set[int] = set()
    offsets: set[int] = set()
    nearest: set[int] = set()
    last_weekday = False
    for item in _items(text, spec):
        upper = item.upper()
        if upper == "LW":
            last_weekday = True
        elif upper == "L":
            offsets.add(0)
        elif upper.startswith("L-"):
            offset_text = upper[2:]
            if not _is_number(offset_text) or not 0 <= int(offset_text) <= 30:
                raise _FieldError(f"cron {spec.name} field: {item!r}: the offset after L- must be 0-30")
            offsets.add(int(offset_text))
        elif upper.endswith("W"):
            day_text = upper[:-1]
            if not _is_number(day_text):
                raise _FieldError(
                    f"cron {spec.name} field: {item!r}: W needs a single day before it, e.g. 15W"
                )
            day = int(day_text)
            if not spec.low <= day <= spec.high:
                raise _FieldError(spec.out_of_range(day))
            nearest.add(day)
        elif item == "?":
            raise _FieldError(f"cron {spec.name} field: ? must be the whole field")
        else:
            days.update(_item_values(item, spec))
    return DayRule(
        any_day_of_month=False,
        days_of_month=frozenset(days),
        last_day_offsets=frozenset(offsets),
        nearest_weekdays=frozenset(nearest),
        last_weekday_of_month=last_weekday,
    )


def _day_of_week(text: str, spec: _Field, dialect: Dialect) -> DayRule:
    if text in ("*", "?"):
        _check_question_mark(text, spec, dialect)
        return DayRule()

    def weekday(value: int) -> int:  # the dialect's numbering -> 0 = Sunday .. 6 = Saturday
        return value % 7 if dialect is Dialect.UNIX else value - 1

    days: set[int] = set()
    nth: set[tuple[int, int]] = set()
    last: set[int] = set()
    for item in _items(text, spec):
        if item.upper() == "L":
            days.add(_SATURDAY)
        elif "#" in item:
            day_text, _, n_text = item.partition("#")
            if not _is_number(n_text) or not 1 <= int(n_text) <= 5:
                raise _FieldError(f"cron {spec.name} field: {item!r}: the number after # must be 1-5")
            nth.add((weekday(_value(day_text, spec)), int(n_text)))
        elif len(item) > 1 and item.upper().endswith("L"):
            last.add(weekday(_value(item[:-1], spec)))
        elif item == "?":
            raise _FieldError(f"cron {spec.name} field: ? must be the whole field")
        else:
            days.update(weekday(value) for value in _item_values(item, spec))
    return DayRule(
        any_day_of_week=False,
        days_of_week=frozenset(days),
        nth_days_of_week=frozenset(nth),
        last_days_of_week=frozenset(last),
    )


def _check_question_mark(text: str, spec: _Field, dialect: Dialect) -> None:
    if text == "?" and dialect is Dialect.UNIX:
        raise _FieldError(
            f"cron {spec.name} field: ? is only allowed in 6-field (EventBridge) and 7-field (Quartz) expressions"
        )


def minimum_gap_seconds(expression: CronExpression, wrap_matters: bool) -> int | None:
    """The shortest gap between two matching times of the same day (and, when ``wrap_matters``, between the
    last time of a day and the first of the next). None when the expression fires once a day at most."""
    times = expression.times_of_day()
    gaps = [later - earlier for earlier, later in pairwise(times)]
    if wrap_matters:
        gaps.append(times[0] + 86_400 - times[-1])
    return min(gaps) if gaps else None


def has_consecutive_days(expression: CronExpression, start: date, end: date) -> bool:
    """Whether two consecutive calendar days both match somewhere in [start, end]."""
    previous: date | None = None
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        for day in expression.days_of(year, month):
            current = date(year, month, day)
            if current < start or current > end:
                continue
            if previous is not None and current - previous == timedelta(days=1):
                return True
            previous = current
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return False
