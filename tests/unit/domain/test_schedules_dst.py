"""Cron across daylight-saving changes: wildcard-hour expressions fire by the wall clock (both passes of a
repeated hour, nothing in a skipped one); specific-hour expressions fire each matching wall time once.

Europe/Berlin 2026: 29 March 02:00 CET -> 03:00 CEST (01:00Z); 25 October 03:00 CEST -> 02:00 CET (01:00Z).
America/New_York 2026: 8 March 02:00 EST -> 03:00 EDT (07:00Z); 1 November 02:00 EDT -> 01:00 EST (06:00Z).
Australia/Lord_Howe 2026: 5 April 02:00 -> 01:30 (15:00Z on the 4th); 4 October 02:00 -> 02:30 (15:30Z on the 3rd).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from punctual.domain.errors import UnprocessableError
from punctual.domain.model import Schedule
from punctual.domain.schedules import ScheduleLimits, first_occurrence, next_occurrence, parse_schedule
from punctual.domain.wallclock import repeated_spans

NOW = datetime(2026, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def parse(**fields: Any) -> Schedule:
    arguments: dict[str, Any] = dict.fromkeys(("at", "every", "cron", "timezone", "start_at", "end_at"))
    arguments.update(fields)
    return parse_schedule(**arguments, now=NOW, limits=ScheduleLimits())


def occurrences(schedule: Schedule, now: datetime, count: int) -> list[datetime]:
    found: list[datetime] = []
    moment = first_occurrence(schedule, now)
    while moment is not None and len(found) < count:
        found.append(moment)
        moment = next_occurrence(schedule, moment)
    return found


def walls(schedule: Schedule, now: str, count: int, zone: ZoneInfo = BERLIN) -> list[str]:
    return [moment.astimezone(zone).isoformat() for moment in occurrences(schedule, utc(now), count)]


# --- wildcard hours: by the wall clock ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "cron", "first", "minutes", "count"),
    [
        ("Europe/Berlin", "*/15 * * * *", "2026-03-29T00:00:00", 15, 9),
        ("Europe/Berlin", "*/15 * * * *", "2026-10-25T00:00:00", 15, 9),
        ("Europe/Berlin", "0/15 * * * ? *", "2026-10-25T00:00:00", 15, 9),  # EventBridge
        ("Europe/Berlin", "0 */10 * * * ? *", "2026-03-29T00:00:00", 10, 13),  # Quartz
        ("Europe/Berlin", "0 */10 * * * ? *", "2026-10-25T00:00:00", 10, 13),
        ("Europe/Berlin", "@hourly", "2026-10-24T23:00:00", 60, 4),
        ("America/New_York", "*/15 * * * *", "2026-03-08T06:00:00", 15, 9),
        ("America/New_York", "*/15 * * * *", "2026-11-01T05:00:00", 15, 9),
        ("America/New_York", "0 */10 * * * ? *", "2026-11-01T05:00:00", 10, 13),
        ("Australia/Lord_Howe", "*/15 * * * *", "2026-04-04T14:00:00", 15, 9),  # half-hour changes
        ("Australia/Lord_Howe", "*/15 * * * *", "2026-10-03T14:30:00", 15, 9),
    ],
)
def test_a_wildcard_hour_cron_keeps_its_absolute_cadence_across_a_change(
    zone: str, cron: str, first: str, minutes: int, count: int
) -> None:
    schedule = parse(cron=cron, timezone=zone, start_at="2026-01-01T00:00:00Z")
    step = timedelta(minutes=minutes)
    expected = [utc(first) + i * step for i in range(count)]
    assert occurrences(schedule, utc(first), count) == expected  # none missing, none doubled
    for moment in expected:  # asked from anywhere in between, the next one is the next grid point
        assert next_occurrence(schedule, moment - step / 2) == moment
        assert first_occurrence(schedule, moment) == moment


def test_a_quarter_hourly_cron_fires_in_both_passes_of_the_repeated_hour() -> None:
    schedule = parse(cron="*/15 * * * *", timezone="Europe/Berlin", start_at="2026-10-01T00:00:00Z")
    assert walls(schedule, "2026-10-25T00:00:00", 10) == [
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:15:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:45:00+02:00",
        "2026-10-25T02:00:00+01:00",  # the same wall times again, an hour later
        "2026-10-25T02:15:00+01:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T02:45:00+01:00",
        "2026-10-25T03:00:00+01:00",
        "2026-10-25T03:15:00+01:00",
    ]
    # Asked from inside either pass, the next occurrence is the next quarter hour of absolute time.
    assert next_occurrence(schedule, utc("2026-10-25T00:50:00")) == utc("2026-10-25T01:00:00")
    assert next_occurrence(schedule, utc("2026-10-25T01:10:00")) == utc("2026-10-25T01:15:00")
    assert first_occurrence(schedule, utc("2026-10-25T01:45:00")) == utc("2026-10-25T01:45:00")


def test_a_quarter_hourly_cron_skips_only_the_nonexistent_hour() -> None:
    schedule = parse(cron="*/15 * * * *", timezone="Europe/Berlin")
    assert walls(schedule, "2026-03-28T23:40:00", 7) == [
        "2026-03-29T00:45:00+01:00",
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T01:15:00+01:00",
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T01:45:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:00-02:45 do not exist
        "2026-03-29T03:15:00+02:00",
    ]


def test_a_stepped_hour_field_counts_as_wildcard() -> None:
    schedule = parse(cron="0 */2 * * *", timezone="Europe/Berlin", start_at="2026-03-01T00:00:00Z")
    assert walls(schedule, "2026-10-24T21:30:00", 4) == [
        "2026-10-25T00:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T04:00:00+01:00",
    ]
    assert walls(schedule, "2026-03-28T22:30:00", 3) == [
        "2026-03-29T00:00:00+01:00",
        "2026-03-29T04:00:00+02:00",  # 02:00 does not exist, and no time stands in for it
        "2026-03-29T06:00:00+02:00",
    ]


# --- specific hours: each matching wall time once ----------------------------------------------------------


def test_a_daily_time_skipped_by_spring_forward_fires_once_after_the_gap() -> None:
    schedule = parse(cron="30 2 * * *", timezone="Europe/Berlin")
    assert walls(schedule, "2026-03-27T12:00:00", 4) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-30T02:30:00+02:00",
        "2026-03-31T02:30:00+02:00",
    ]


def test_a_daily_time_repeated_by_fall_back_fires_once_at_the_first_instant() -> None:
    schedule = parse(cron="30 2 * * *", timezone="Europe/Berlin", start_at="2026-10-20T00:00:00Z")
    assert walls(schedule, "2026-10-23T12:00:00", 4) == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-26T02:30:00+01:00",
        "2026-10-27T02:30:00+01:00",
    ]
    # Asked from the second pass, the next occurrence is the next day's.
    assert next_occurrence(schedule, utc("2026-10-25T01:10:00")) == utc("2026-10-26T01:30:00")


def test_daily_times_in_new_york_follow_the_same_rule() -> None:
    spring = parse(cron="30 2 * * *", timezone="America/New_York")
    assert walls(spring, "2026-03-07T12:00:00", 2, NEW_YORK) == [
        "2026-03-08T03:30:00-04:00",  # 02:30 EST does not exist
        "2026-03-09T02:30:00-04:00",
    ]
    autumn = parse(cron="30 1 * * *", timezone="America/New_York", start_at="2026-10-01T00:00:00Z")
    assert walls(autumn, "2026-10-31T12:00:00", 2, NEW_YORK) == [
        "2026-11-01T01:30:00-04:00",  # 01:30 EST, an hour later, does not fire again
        "2026-11-02T01:30:00-05:00",
    ]


def test_a_minute_wildcard_at_a_specific_hour_fires_each_time_once() -> None:
    # Unlike Vixie cron, only the hour field decides: */5 2 runs twelve times on both change days.
    schedule = parse(cron="*/5 2 * * *", timezone="Europe/Berlin", start_at="2026-03-01T00:00:00Z")
    autumn = occurrences(schedule, utc("2026-10-24T12:00:00"), 13)
    assert autumn == [
        *(utc("2026-10-25T00:00:00") + timedelta(minutes=5 * i) for i in range(12)),  # 02:xx CEST
        utc("2026-10-26T01:00:00"),
    ]
    spring = occurrences(schedule, utc("2026-03-28T12:00:00"), 13)
    assert spring == [
        *(utc("2026-03-29T01:00:00") + timedelta(minutes=5 * i) for i in range(12)),  # 03:xx CEST
        utc("2026-03-30T00:00:00"),
    ]


def test_an_hour_range_over_the_whole_day_is_not_a_wildcard() -> None:
    schedule = parse(cron="0 0-23 * * *", timezone="Europe/Berlin", start_at="2026-03-01T00:00:00Z")
    assert walls(schedule, "2026-10-24T22:30:00", 3) == [
        "2026-10-25T01:00:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T03:00:00+01:00",  # 02:00 CET is the second pass of 02:00: no fire
    ]
    assert walls(schedule, "2026-03-28T23:30:00", 3) == [
        "2026-03-29T01:00:00+01:00",
        "2026-03-29T03:00:00+02:00",  # 02:00 (shifted) and 03:00 are one instant: one fire
        "2026-03-29T04:00:00+02:00",
    ]


def test_just_after_spring_forward_a_skipped_time_still_to_come_is_found() -> None:
    # At 03:05 CEST, 02:30 (skipped, read as 03:30 CEST) is still ahead.
    schedule = parse(cron="30 2 * * *", timezone="Europe/Berlin")
    assert first_occurrence(schedule, utc("2026-03-29T01:05:00")) == utc("2026-03-29T01:30:00")
    assert next_occurrence(schedule, utc("2026-03-29T01:30:00")) == utc("2026-03-30T00:30:00")


def test_a_skipped_time_and_a_real_time_just_after_the_gap_come_out_in_order() -> None:
    # 02:50 is skipped (-> 03:50 CEST), 03:10 is real: 03:10 comes first.
    schedule = parse(cron="10,50 2,3 * * *", timezone="Europe/Berlin")
    assert walls(schedule, "2026-03-28T23:00:00", 4) == [
        "2026-03-29T03:10:00+02:00",
        "2026-03-29T03:50:00+02:00",
        "2026-03-30T02:10:00+02:00",
        "2026-03-30T02:50:00+02:00",
    ]


def test_a_daily_cron_keeps_its_wall_clock_time_across_both_changes() -> None:
    schedule = parse(cron="0 9 * * *", timezone="Europe/Berlin", start_at="2026-03-28T00:00:00Z")
    spring = occurrences(schedule, NOW, 2)
    assert spring == [utc("2026-03-28T08:00:00"), utc("2026-03-29T07:00:00")]
    autumn = occurrences(schedule, utc("2026-10-24T12:00:00"), 2)
    assert autumn == [utc("2026-10-25T08:00:00"), utc("2026-10-26T08:00:00")]


def test_quartz_seconds_across_fall_back() -> None:
    schedule = parse(cron="30 59 1,2 ? * * *", timezone="Europe/Berlin", start_at="2026-10-01T00:00:00Z")
    assert walls(schedule, "2026-10-24T22:00:00", 3) == [
        "2026-10-25T01:59:30+02:00",
        "2026-10-25T02:59:30+02:00",
        "2026-10-26T01:59:30+01:00",
    ]


def test_a_half_hour_gap_orders_skipped_and_real_times() -> None:
    # Australia/Lord_Howe springs forward from 02:00 to 02:30 on 4 October 2026: 02:20 is skipped and fires
    # at 02:50, after the real 02:40.
    schedule = parse(cron="20,40 2 * * *", timezone="Australia/Lord_Howe", start_at="2026-10-01T00:00:00Z")
    zone = ZoneInfo("Australia/Lord_Howe")
    assert walls(schedule, "2026-10-03T00:00:00", 4, zone) == [
        "2026-10-04T02:40:00+11:00",
        "2026-10-04T02:50:00+11:00",
        "2026-10-05T02:20:00+11:00",
        "2026-10-05T02:40:00+11:00",
    ]


# --- bare timestamps and the minimum interval --------------------------------------------------------------


def test_a_bare_at_in_a_gap_fires_after_it_and_in_an_overlap_at_the_first_instant() -> None:
    assert parse(at="2026-03-29T02:30:00", timezone="Europe/Berlin").at == utc("2026-03-29T01:30:00")
    assert parse(at="2026-10-25T02:30:00", timezone="Europe/Berlin").at == utc("2026-10-25T00:30:00")


def test_repeated_spans_are_the_wall_times_a_fall_back_repeats() -> None:
    year = (utc("2026-01-01T00:00:00"), utc("2027-01-01T00:00:00"))
    assert repeated_spans(BERLIN, *year) == [(datetime(2026, 10, 25, 2), datetime(2026, 10, 25, 3))]
    assert repeated_spans(ZoneInfo("Australia/Lord_Howe"), *year) == [
        (datetime(2026, 4, 5, 1, 30), datetime(2026, 4, 5, 2))
    ]
    assert repeated_spans(ZoneInfo("UTC"), *year) == []


def test_fires_closer_than_the_minimum_across_a_repeated_hour_are_422() -> None:
    # Even hours, at :00:00 :00:59 :59:00 :59:59: 59 s apart at least on an ordinary day, but Berlin's
    # repeated 02:xx puts 02:59:59 CEST one second before 02:00:00 CET. New York repeats 01:xx, which never fires.
    cron = "0,59 0,59 */2 ? * * *"
    with pytest.raises(UnprocessableError, match="minimum interval of 10 seconds"):
        parse(cron=cron, timezone="Europe/Berlin")
    parse(cron=cron, timezone="America/New_York")
    parse(cron=cron, timezone="UTC")
    parse(cron="*/10 * * ? * * *", timezone="Europe/Berlin")  # 02:59:50 CEST -> 02:00:00 CET is 10 s
