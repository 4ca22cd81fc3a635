"""parse_schedule's rules and messages, and first/next occurrences of at / every / cron schedules."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from punctual.domain.errors import PunctualError, UnprocessableError, ValidationError
from punctual.domain.model import Schedule, ScheduleKind
from punctual.domain.schedules import ScheduleLimits, first_occurrence, next_occurrence, parse_schedule

NOW = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
LIMITS = ScheduleLimits()
BERLIN = ZoneInfo("Europe/Berlin")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def parse(now: datetime = NOW, limits: ScheduleLimits = LIMITS, **fields: Any) -> Schedule:
    arguments: dict[str, Any] = dict.fromkeys(("at", "every", "cron", "timezone", "start_at", "end_at"))
    arguments.update(fields)
    return parse_schedule(**arguments, now=now, limits=limits)


def refused(error: type[PunctualError], now: datetime = NOW, **fields: Any) -> PunctualError:
    with pytest.raises(error) as caught:
        parse(now=now, **fields)
    assert type(caught.value) is error
    assert caught.value.details, "every error names the field(s) at fault"
    return caught.value


def occurrences(schedule: Schedule, now: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment = first_occurrence(schedule, now)
    while moment is not None and len(found) < count:
        found.append(moment)
        moment = next_occurrence(schedule, moment)
    return found


# --- exactly one of at / every / cron ----------------------------------------------------------------------


def test_none_of_the_three_is_400_naming_them() -> None:
    error = refused(ValidationError)
    assert error.message == "exactly one of at, every or cron is required"
    assert [detail.field for detail in error.details] == ["at", "every", "cron"]


def test_more_than_one_is_400_naming_those_given() -> None:
    error = refused(ValidationError, at="2026-03-02T00:00:00Z", cron="0 9 * * *")
    assert error.message == "only one of at, every or cron may be given; got at and cron"
    assert [(detail.field, detail.message) for detail in error.details] == [
        ("at", "cannot be combined with cron"),
        ("cron", "cannot be combined with at"),
    ]
    error = refused(ValidationError, at="2026-03-02T00:00:00Z", every="5 minutes", cron="0 9 * * *")
    assert error.message == "only one of at, every or cron may be given; got at and every and cron"


# --- at ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        ("2026-03-02T09:00:00Z", None, "2026-03-02T09:00:00"),
        ("2026-03-02T09:00:00+02:00", None, "2026-03-02T07:00:00"),
        ("2026-03-02T09:00:00+02:00", "America/New_York", "2026-03-02T07:00:00"),
        ("2026-03-02T09:00:00", None, "2026-03-02T09:00:00"),  # bare: UTC
        ("2026-07-01T09:00:00", "Europe/Berlin", "2026-07-01T07:00:00"),  # bare: read in the zone (CEST)
        ("2026-03-02T09:00:00.123Z", None, "2026-03-02T09:00:00.123"),
    ],
)
def test_at_reads_iso_8601(text: str, timezone: str | None, expected: str) -> None:
    schedule = parse(at=text, timezone=timezone)
    assert schedule.kind is ScheduleKind.AT
    assert schedule.at == utc(expected)
    assert schedule.timezone == (timezone or "UTC")
    assert first_occurrence(schedule, NOW) == utc(expected)
    assert next_occurrence(schedule, utc(expected)) is None


def test_a_bare_at_in_a_spring_forward_gap_fires_after_the_gap() -> None:
    assert parse(at="2026-03-29T02:30:00", timezone="Europe/Berlin").at == utc("2026-03-29T01:30:00")


def test_a_past_at_is_accepted_and_fires_at_once() -> None:
    schedule = parse(at="2020-01-01T00:00:00Z")
    assert first_occurrence(schedule, NOW) == utc("2020-01-01T00:00:00")


def test_at_up_to_the_horizon_is_accepted_and_beyond_is_422() -> None:
    parse(at="2027-03-01T12:00:00.250Z")
    error = refused(UnprocessableError, at="2027-03-01T12:00:01Z")
    assert error.message == "at is more than 365 days ahead; the latest allowed is 2027-03-01T12:00:00.250Z"
    assert error.details[0].field == "at"
    custom = ScheduleLimits(horizon=timedelta(days=7))
    with pytest.raises(UnprocessableError, match="more than 7 days ahead"):
        parse(at="2026-03-09T00:00:00Z", limits=custom)


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01T00:00:00Z", "", "  "])
def test_a_malformed_at_is_400(text: str) -> None:
    error = refused(ValidationError, at=text)
    assert error.details[0].field == "at"


@pytest.mark.parametrize(
    ("field", "text"),
    [
        ("at", "0001-01-01T00:00:00Z"),
        ("at", "1969-12-31T23:59:59Z"),
        ("at", "0001-01-01T00:00:00+05:00"),  # not even expressible in UTC
        ("at", "9999-12-31T23:59:59-05:00"),
        ("start_at", "0001-01-01T00:00:00"),
    ],
)
def test_instants_before_1970_or_outside_utc_are_400(field: str, text: str) -> None:
    fields: dict[str, Any] = (
        {"at": text} if field == "at" else {"every": "1 hour", field: text, "timezone": "Europe/Berlin"}
    )
    error = refused(ValidationError, **fields)
    assert error.message == f"{field} is out of range: {text!r}"
    assert error.details[0].field == field


def test_start_at_and_end_at_with_at_are_400() -> None:
    error = refused(ValidationError, at="2026-03-02T00:00:00Z", start_at="2026-03-01T00:00:00Z")
    assert error.message == "start_at and end_at apply only to recurring schedules (every or cron)"
    assert [detail.field for detail in error.details] == ["start_at"]
    error = refused(ValidationError, at="2026-03-02T00:00:00Z", start_at="2026-03-01T00:00:00Z", end_at="x")
    assert [detail.field for detail in error.details] == ["start_at", "end_at"]


# --- timezone ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe/Berlinn", "../etc/passwd", ""])
def test_an_unknown_timezone_is_400(zone: str) -> None:
    error = refused(ValidationError, cron="0 9 * * *", timezone=zone)
    assert error.details[0].field == "timezone"


def test_unknown_zone_message() -> None:
    error = refused(ValidationError, cron="0 9 * * *", timezone="Mars/Olympus")
    assert error.message == "unknown time zone 'Mars/Olympus'"
    assert (
        error.details[0].message == "unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Berlin"
    )


# --- every -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "normalized", "seconds"),
    [
        ("30 seconds", "30 seconds", 30),
        ("5 minutes", "5 minutes", 300),
        ("1 hour", "1 hour", 3600),
        ("2 days", "2 days", 172_800),
        ("10s", "10 seconds", 10),
        ("15 sec", "15 seconds", 15),
        ("45 secs", "45 seconds", 45),
        ("1 second", "1 second", 1),
        ("5m", "5 minutes", 300),
        ("1 min", "1 minute", 60),
        ("90 mins", "90 minutes", 5400),
        ("1 minute", "1 minute", 60),
        ("2h", "2 hours", 7200),
        ("1 hr", "1 hour", 3600),
        ("3 hrs", "3 hours", 10_800),
        ("1d", "1 day", 86_400),
        ("1 day", "1 day", 86_400),
        ("1w", "1 week", 604_800),
        ("2 week", "2 weeks", 1_209_600),
        ("  5   MINUTES ", "5 minutes", 300),
        ("every 5 minutes", "5 minutes", 300),
        ("rate(5 minutes)", "5 minutes", 300),
    ],
)
def test_every_accepts_units_and_abbreviations(text: str, normalized: str, seconds: int) -> None:
    limits = ScheduleLimits(min_interval=timedelta(seconds=1))
    schedule = parse(every=text, limits=limits)
    assert (schedule.kind, schedule.every, schedule.every_seconds) == (
        ScheduleKind.EVERY,
        normalized,
        seconds,
    )


@pytest.mark.parametrize(
    "text", ["five minutes", "5", "minutes", "1.5 hours", "5 minutes 3 seconds", "", "5 fortnights"]
)
def test_an_unparsable_every_is_400(text: str) -> None:
    error = refused(ValidationError, every=text)
    assert error.details[0].field == "every"


def test_every_messages() -> None:
    assert refused(ValidationError, every="five minutes").details[0].message == (
        "expected a whole number and a unit, such as '30 seconds', '5 minutes', '1 hour' or '2 days'"
    )
    assert refused(ValidationError, every="5 fortnights").details[0].message == (
        "unknown unit 'fortnights'; use seconds, minutes, hours, days or weeks"
    )


@pytest.mark.parametrize("text", ["0 minutes", "-5 minutes", "0s"])
def test_a_non_positive_every_is_400(text: str) -> None:
    error = refused(ValidationError, every=text)
    assert error.message == f"every must be a positive interval; got {text!r}"


def test_every_below_the_minimum_interval_is_422_stating_the_minimum() -> None:
    error = refused(UnprocessableError, every="5 seconds")
    assert error.message == "every must be at least 10 seconds; got 5 seconds"
    assert (error.details[0].field, error.details[0].message) == (
        "every",
        "the minimum interval is 10 seconds",
    )
    parse(every="10 seconds")
    with pytest.raises(UnprocessableError, match="at least 1 minute; got 30 seconds"):
        parse(every="30 seconds", limits=ScheduleLimits(min_interval=timedelta(minutes=1)))


def test_every_longer_than_the_horizon_is_422() -> None:
    error = refused(UnprocessableError, every="53 weeks")
    assert error.message == "every must be at most 365 days; got 53 weeks"


def test_every_first_fires_one_interval_after_creation() -> None:
    schedule = parse(every="5 minutes")
    assert schedule.anchor == utc("2026-03-01T12:05:00")  # whole seconds
    assert occurrences(schedule, NOW, 3) == [utc(f"2026-03-01T12:{m}:00") for m in ("05", "10", "15")]


def test_every_with_start_at_is_anchored_there() -> None:
    schedule = parse(every="1 hour", start_at="2026-03-02T08:30:00Z")
    assert schedule.anchor == utc("2026-03-02T08:30:00")
    assert occurrences(schedule, NOW, 2) == [utc("2026-03-02T08:30:00"), utc("2026-03-02T09:30:00")]


def test_every_with_a_past_start_at_resumes_on_its_grid() -> None:
    schedule = parse(every="1 hour", start_at="2026-02-01T00:10:00Z")
    assert first_occurrence(schedule, NOW) == utc("2026-03-01T12:10:00")
    assert first_occurrence(schedule, utc("2026-03-01T12:10:00")) == utc("2026-03-01T12:10:00")
    assert next_occurrence(schedule, utc("2026-03-01T12:10:00")) == utc("2026-03-01T13:10:00")


def test_every_next_occurrence_is_arithmetic_not_a_walk() -> None:
    anchor = utc("2026-01-01T00:00:00")
    schedule = Schedule(kind=ScheduleKind.EVERY, every="10 seconds", every_seconds=10, anchor=anchor)
    after = utc("2036-06-15T13:14:15.5")
    started = time.perf_counter()
    found = next_occurrence(schedule, after)
    assert time.perf_counter() - started < 0.01
    assert found == utc("2036-06-15T13:14:20")
    assert next_occurrence(schedule, utc("2036-06-15T13:14:20")) == utc("2036-06-15T13:14:30")
    assert next_occurrence(schedule, anchor - timedelta(days=1)) == anchor


def test_every_ignores_daylight_saving() -> None:
    schedule = parse(every="1 hour", timezone="Europe/Berlin", start_at="2026-03-29T00:00:00+01:00")
    found = occurrences(schedule, NOW, 4)
    assert [b - a for a, b in itertools.pairwise(found)] == [timedelta(hours=1)] * 3
    assert [moment.astimezone(BERLIN).hour for moment in found] == [0, 1, 3, 4]


# --- start_at / end_at -------------------------------------------------------------------------------------


def test_end_at_not_after_start_at_is_422() -> None:
    error = refused(
        UnprocessableError, every="1 hour", start_at="2026-03-02T00:00:00Z", end_at="2026-03-02T00:00:00Z"
    )
    assert (error.message, error.details[0].field) == ("end_at must be after start_at", "end_at")


def test_end_at_in_the_past_is_422() -> None:
    error = refused(UnprocessableError, cron="0 9 * * *", end_at="2026-03-01T11:00:00Z")
    assert (error.message, error.details[0].field) == ("end_at is in the past", "end_at")


def test_start_at_beyond_the_horizon_is_422() -> None:
    error = refused(UnprocessableError, cron="0 9 * * *", start_at="2027-03-02T00:00:00Z")
    assert (error.message, error.details[0].field) == ("start_at is more than 365 days ahead", "start_at")


def test_a_malformed_start_at_is_400() -> None:
    assert refused(ValidationError, cron="0 9 * * *", start_at="soon").details[0].field == "start_at"


def test_bare_start_and_end_are_read_in_the_timezone() -> None:
    schedule = parse(
        cron="0 * * * *", timezone="Europe/Berlin", start_at="2026-03-02T10:00", end_at="2026-03-02T12:00"
    )
    assert (schedule.start_at, schedule.end_at) == (utc("2026-03-02T09:00:00"), utc("2026-03-02T11:00:00"))


def test_occurrences_respect_start_and_end_inclusive() -> None:
    schedule = parse(cron="0 * * * *", start_at="2026-03-02T10:00:00Z", end_at="2026-03-02T12:00:00Z")
    assert occurrences(schedule, NOW, 10) == [utc(f"2026-03-02T{h}:00:00") for h in (10, 11, 12)]
    assert next_occurrence(schedule, utc("2026-03-02T12:00:00")) is None
    assert first_occurrence(schedule, utc("2026-03-02T12:00:01")) is None
    every = parse(every="1 hour", start_at="2026-03-02T10:00:00Z", end_at="2026-03-02T11:30:00Z")
    assert occurrences(every, NOW, 10) == [utc("2026-03-02T10:00:00"), utc("2026-03-02T11:00:00")]


def test_a_schedule_that_ends_before_its_first_occurrence_is_422() -> None:
    error = refused(UnprocessableError, cron="0 9 * * *", end_at="2026-03-01T13:00:00Z")
    assert (
        error.message == "cron never fires between 2026-03-01T12:00:00.250Z and end_at 2026-03-01T13:00:00Z"
    )
    assert error.details[0].field == "end_at"
    error = refused(UnprocessableError, every="1 hour", end_at="2026-03-01T12:30:00Z")
    assert error.details[0].field == "end_at"


# --- cron --------------------------------------------------------------------------------------------------


def test_the_seeds_quartz_example() -> None:
    schedule = parse(cron="0 0/5 0 ? * * *")
    assert (schedule.kind, schedule.cron, schedule.timezone) == (ScheduleKind.CRON, "0 0/5 0 ? * * *", "UTC")
    expected = [utc("2026-03-02T00:00:00") + timedelta(minutes=5 * i) for i in range(12)]
    assert occurrences(schedule, NOW, 13) == [*expected, utc("2026-03-03T00:00:00")]


def test_cron_in_a_timezone() -> None:
    schedule = parse(cron="0 9 * * MON-FRI", timezone="America/New_York")
    # Monday 2 March 2026, 09:00 EST.
    assert first_occurrence(schedule, NOW) == utc("2026-03-02T14:00:00")


def test_a_malformed_cron_is_400_with_the_field_message() -> None:
    error = refused(ValidationError, cron="61 * * * *")
    assert (error.details[0].field, error.details[0].message) == (
        "cron",
        "cron minute field: 61 is out of range 0-59",
    )


@pytest.mark.parametrize("expression", ["0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 1 1 ? 2025", "0 0 29 2 *"])
def test_a_cron_that_never_fires_within_the_horizon_is_422(expression: str) -> None:
    # 29 February: the next one (2028) is more than 365 days away.
    error = refused(UnprocessableError, cron=expression)
    assert error.message == "cron never fires within 365 days of 2026-03-01T12:00:00.250Z"
    assert error.details[0].field == "cron"


def test_the_horizon_counts_from_start_at() -> None:
    schedule = parse(cron="0 0 1 1 *", start_at="2027-01-02T00:00:00Z")
    assert first_occurrence(schedule, NOW) == utc("2028-01-01T00:00:00")


@pytest.mark.parametrize(
    "expression",
    [
        "* * * ? * * *",  # every second
        "*/5 * * ? * * *",  # every 5 seconds
        "0,5 0 0 ? * * *",  # two fires 5 s apart once a day
        "0,59 0,59 0,23 ? * * *",  # 23:59:59 then 00:00:00 the next day
    ],
)
def test_cron_occurrences_closer_than_the_minimum_interval_are_422(expression: str) -> None:
    error = refused(UnprocessableError, cron=expression)
    assert error.message == "cron fires more often than the minimum interval of 10 seconds"
    assert error.details[0].message == "occurrences must be at least 10 seconds apart"


@pytest.mark.parametrize(
    "expression",
    [
        "*/10 * * ? * * *",
        "0,10 0 0 ? * * *",
        "0,59 0,59 0,23 ? * MON *",  # Monday 23:59:59 is not followed by a Tuesday 00:00:00 fire
        "* * * * *",
    ],
)
def test_cron_occurrences_at_the_minimum_interval_are_accepted(expression: str) -> None:
    parse(cron=expression)


def test_a_custom_minimum_interval_applies_to_cron() -> None:
    with pytest.raises(UnprocessableError, match="minimum interval of 2 minutes"):
        parse(cron="* * * * *", limits=ScheduleLimits(min_interval=timedelta(minutes=2)))


def test_next_occurrence_is_strictly_after() -> None:
    schedule = parse(cron="0 9 * * *")
    assert next_occurrence(schedule, utc("2026-03-02T09:00:00")) == utc("2026-03-03T09:00:00")
    assert next_occurrence(schedule, utc("2026-03-02T08:59:59.999")) == utc("2026-03-02T09:00:00")
    assert first_occurrence(schedule, utc("2026-03-02T09:00:00")) == utc("2026-03-02T09:00:00")
