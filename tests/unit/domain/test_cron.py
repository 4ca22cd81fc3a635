"""Cron parsing and wall-clock matching, dialect by dialect (no time zones here)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from punctual.domain.cron import Dialect, ceil_second, parse_cron
from punctual.domain.errors import ValidationError


def walls(expression: str, start: datetime, count: int) -> list[datetime]:
    parsed = parse_cron(expression)
    found: list[datetime] = []
    moment: datetime | None = start
    while len(found) < count:
        assert moment is not None
        moment = parsed.next_wall_time(moment)
        if moment is None:
            break
        found.append(moment)
        moment += timedelta(seconds=1)
    return found


def d(text: str) -> datetime:
    return datetime.fromisoformat(text)


def problems(expression: str) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        parse_cron(expression)
    assert all(detail.field == "cron" for detail in caught.value.details)
    return [detail.message for detail in caught.value.details]


# --- dialect detection -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "dialect"),
    [
        ("0 9 * * 1", Dialect.UNIX),
        ("0 10 * * ? *", Dialect.EVENTBRIDGE),
        ("0 0/5 0 ? * * *", Dialect.QUARTZ),
        ("@daily", Dialect.UNIX),
        ("cron(0 10 * * ? *)", Dialect.EVENTBRIDGE),
    ],
)
def test_the_field_count_selects_the_dialect(expression: str, dialect: Dialect) -> None:
    assert parse_cron(expression).dialect is dialect


@pytest.mark.parametrize("expression", ["* * * *", "* * * * * * * *", "", "0"])
def test_other_field_counts_are_refused(expression: str) -> None:
    count = len(expression.split())
    assert problems(expression) == [
        f"cron expression must have 5 fields (Unix), 6 (EventBridge) or 7 (Quartz, with seconds); got {count}"
    ]


def test_whitespace_and_the_eventbridge_wrapper_are_normalized() -> None:
    assert parse_cron("  cron(0  10 *\t* ? *) ").text == "0 10 * * ? *"


# --- the seeds example and the EventBridge examples of the AWS documentation --------------------------------


def test_quartz_seed_example_fires_every_five_minutes_during_hour_zero() -> None:
    found = walls("0 0/5 0 ? * * *", d("2026-05-01T00:00:00"), 13)
    expected = [d("2026-05-01T00:00:00") + timedelta(minutes=5 * i) for i in range(12)]
    assert found == [*expected, d("2026-05-02T00:00:00")]


@pytest.mark.parametrize(
    ("expression", "start", "expected"),
    [
        ("0 10 * * ? *", "2026-01-01T11:00", ["2026-01-02T10:00", "2026-01-03T10:00"]),
        ("15 12 * * ? *", "2026-01-01T00:00", ["2026-01-01T12:15", "2026-01-02T12:15"]),
        # 2 January 2026 is a Friday.
        (
            "0 18 ? * MON-FRI *",
            "2026-01-02T17:00",
            ["2026-01-02T18:00", "2026-01-05T18:00", "2026-01-06T18:00"],
        ),
        ("0 8 1 * ? *", "2026-01-01T00:00", ["2026-01-01T08:00", "2026-02-01T08:00", "2026-03-01T08:00"]),
        ("0/15 * * * ? *", "2026-01-01T10:07", ["2026-01-01T10:15", "2026-01-01T10:30", "2026-01-01T10:45"]),
        (
            "0/10 * ? * MON-FRI *",
            "2026-01-02T23:45",
            ["2026-01-02T23:50", "2026-01-05T00:00", "2026-01-05T00:10"],
        ),
        (
            "0/5 8-17 ? * MON-FRI *",
            "2026-01-02T17:50",
            ["2026-01-02T17:50", "2026-01-02T17:55", "2026-01-05T08:00", "2026-01-05T08:05"],
        ),
        # First Monday of the month (EventBridge day-of-week 2 = MON).
        ("0 9 ? * 2#1 *", "2026-01-01T00:00", ["2026-01-05T09:00", "2026-02-02T09:00", "2026-03-02T09:00"]),
        ("0 0 L * ? *", "2026-01-01T00:00", ["2026-01-31T00:00", "2026-02-28T00:00", "2026-03-31T00:00"]),
        # 15 Feb and 15 Mar 2026 are Sundays (-> Monday 16); 15 Aug is a Saturday (-> Friday 14).
        ("0 0 15W * ? *", "2026-01-01T00:00", ["2026-01-15T00:00", "2026-02-16T00:00", "2026-03-16T00:00"]),
        ("0 0 15W 8 ? *", "2026-01-01T00:00", ["2026-08-14T00:00"]),
    ],
)
def test_eventbridge_documentation_examples(expression: str, start: str, expected: list[str]) -> None:
    assert parse_cron(expression).dialect is Dialect.EVENTBRIDGE
    assert walls(expression, d(start), len(expected)) == [d(text) for text in expected]


# --- day-of-week numbering ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expression",
    [
        "0 0 * * 0",
        "0 0 * * 7",
        "0 0 * * sun",
        "0 0 ? * 1 *",
        "0 0 ? * SUN *",
        "0 0 0 ? * 1 *",
        "0 0 0 ? * SUN *",
    ],
)
def test_sunday_in_every_dialect(expression: str) -> None:
    # 4 January 2026 is the first Sunday of the year.
    assert walls(expression, d("2026-01-01T00:00"), 2) == [d("2026-01-04T00:00"), d("2026-01-11T00:00")]


@pytest.mark.parametrize("expression", ["0 0 * * 1", "0 0 ? * 2 *", "0 0 0 ? * 2 *", "0 0 ? * MON *"])
def test_monday_in_every_dialect(expression: str) -> None:
    assert walls(expression, d("2026-01-01T00:00"), 1) == [d("2026-01-05T00:00")]


def test_unix_day_fields_both_restricted_match_either() -> None:
    # The 13th, or any Friday (Vixie cron).
    found = walls("0 0 13 * FRI", d("2026-01-01T00:00"), 4)
    assert found == [
        d("2026-01-02T00:00"),
        d("2026-01-09T00:00"),
        d("2026-01-13T00:00"),
        d("2026-01-16T00:00"),
    ]


def test_unix_day_of_month_with_a_star_day_of_week_matches_the_day_of_month_only() -> None:
    assert walls("0 0 13 * *", d("2026-01-01T00:00"), 2) == [d("2026-01-13T00:00"), d("2026-02-13T00:00")]


# --- lists, ranges, steps, names ---------------------------------------------------------------------------


def test_lists_ranges_steps_and_names() -> None:
    parsed = parse_cron("5/20 1-3,22 * jan,Mar-APR,DEC/1 *")
    assert parsed.minutes == (5, 25, 45)
    assert parsed.hours == (1, 2, 3, 22)
    assert parsed.months == frozenset({1, 3, 4, 12})


def test_a_range_that_starts_after_it_ends_wraps_around() -> None:
    assert parse_cron("0 22-2 * * *").hours == (0, 1, 2, 22, 23)
    assert parse_cron("0 22-3/2 * * *").hours == (0, 2, 22)
    # FRI-MON in Unix numbering is 5,6,0,1 -> Friday, Saturday, Sunday, Monday.
    assert walls("0 0 * * FRI-MON", d("2026-01-01T00:00"), 4) == [
        d("2026-01-02T00:00"),
        d("2026-01-03T00:00"),
        d("2026-01-04T00:00"),
        d("2026-01-05T00:00"),
    ]


def test_quartz_seconds_field() -> None:
    found = walls("15,45 30 9 ? * * *", d("2026-01-01T09:30:20"), 3)
    assert found == [d("2026-01-01T09:30:45"), d("2026-01-02T09:30:15"), d("2026-01-02T09:30:45")]


def test_macros_stand_for_unix_expressions() -> None:
    assert walls("@hourly", d("2026-01-01T10:01"), 1) == [d("2026-01-01T11:00")]
    assert walls("@weekly", d("2026-01-01T00:00"), 1) == [d("2026-01-04T00:00")]
    assert walls("@monthly", d("2026-01-01T00:01"), 1) == [d("2026-02-01T00:00")]
    assert walls("@yearly", d("2026-01-01T00:01"), 1) == [d("2027-01-01T00:00")]
    assert walls("@daily", d("2026-01-01T00:01"), 1) == [d("2026-01-02T00:00")]


@pytest.mark.parametrize(
    ("expression", "wildcard"),
    [
        ("*/15 * * * *", True),
        ("0 */2 * * *", True),
        ("0 *,5 * * *", True),  # the field starts with `*`, as Vixie cron tests it
        ("@hourly", True),
        ("cron(0/15 * * * ? *)", True),
        ("0 */10 * * * ? *", True),  # Quartz: the third field is the hour
        ("30 2 * * *", False),
        ("*/5 2 * * *", False),  # a wildcard minute alone does not count
        ("0 0-23 * * *", False),
        ("@daily", False),
        ("0 */2 0 ? * * *", False),  # Quartz: */2 is the minute field here
    ],
)
def test_an_hour_field_starting_with_a_star_is_a_wildcard(expression: str, wildcard: bool) -> None:
    assert parse_cron(expression).wildcard_hours is wildcard


def test_first_and_last_matching_times_between_two_wall_times() -> None:
    parsed = parse_cron("0 10,50 1,2 ? * * *")  # Quartz: 01:10 01:50 02:10 02:50
    assert parsed.first_and_last_between(d("2026-01-01T01:00"), d("2026-01-01T03:00")) == (
        d("2026-01-01T01:10"),
        d("2026-01-01T02:50"),
    )
    assert parsed.first_and_last_between(d("2026-01-01T01:10"), d("2026-01-01T02:50")) == (
        d("2026-01-01T01:10"),
        d("2026-01-01T02:10"),
    )  # the end is excluded
    assert parsed.first_and_last_between(d("2026-01-01T01:51"), d("2026-01-01T02:10")) is None
    across_midnight = parse_cron("0 0/20 23,0 ? * * *")
    assert across_midnight.first_and_last_between(d("2026-01-01T23:30"), d("2026-01-02T00:30")) == (
        d("2026-01-01T23:40"),
        d("2026-01-02T00:20"),
    )
    weekdays = parse_cron("0 12 * * MON-FRI")  # 2 January 2026 is a Friday
    assert weekdays.first_and_last_between(d("2026-01-02T00:00"), d("2026-01-05T00:00")) == (
        d("2026-01-02T12:00"),
        d("2026-01-02T12:00"),
    )


def test_ceil_second() -> None:
    assert ceil_second(d("2026-01-01T10:00:00.000001")) == d("2026-01-01T10:00:01")
    assert ceil_second(d("2026-01-01T10:00:00")) == d("2026-01-01T10:00:00")


# --- L, W, # -----------------------------------------------------------------------------------------------


def test_l_minus_n_is_days_before_the_last() -> None:
    assert walls("0 0 L-2 * ? *", d("2026-01-01T00:00"), 2) == [d("2026-01-29T00:00"), d("2026-02-26T00:00")]


def test_lw_is_the_last_weekday() -> None:
    # 31 Jan 2026 is a Saturday, 28 Feb a Saturday, 31 May a Sunday.
    found = walls("0 0 LW * ? *", d("2026-01-01T00:00"), 5)
    assert found == [d(f"2026-{day}T00:00") for day in ("01-30", "02-27", "03-31", "04-30", "05-29")]


def test_nearest_weekday_never_leaves_the_month() -> None:
    # 1 Aug 2026 is a Saturday -> Monday 3 Aug; 31 May 2026 is a Sunday -> Friday 29 May.
    assert walls("0 0 1W 8 ? *", d("2026-01-01T00:00"), 1) == [d("2026-08-03T00:00")]
    assert walls("0 0 31W 5 ? *", d("2026-01-01T00:00"), 1) == [d("2026-05-29T00:00")]


def test_nearest_weekday_to_a_day_the_month_lacks_does_not_fire_that_month() -> None:
    found = walls("0 0 31W * ? *", d("2026-04-01T00:00"), 2)
    assert found == [d("2026-05-29T00:00"), d("2026-07-31T00:00")]


def test_last_weekday_of_month_in_day_of_week() -> None:
    # Last Friday: EventBridge 6L, Unix 5L.
    expected = [d("2026-01-30T00:00"), d("2026-02-27T00:00")]
    assert walls("0 0 ? * 6L *", d("2026-01-01T00:00"), 2) == expected
    assert walls("0 0 * * 5L", d("2026-01-01T00:00"), 2) == expected
    assert walls("0 0 ? * FRIL *", d("2026-01-01T00:00"), 2) == expected


def test_l_alone_in_day_of_week_is_saturday() -> None:
    assert walls("0 0 ? * L *", d("2026-01-01T00:00"), 1) == [d("2026-01-03T00:00")]


def test_nth_weekday_that_a_month_lacks_is_skipped() -> None:
    # Fifth Friday: January 2026 has one (the 30th), February does not; May does (the 29th).
    assert walls("0 0 ? * FRI#5 *", d("2026-01-01T00:00"), 2) == [
        d("2026-01-30T00:00"),
        d("2026-05-29T00:00"),
    ]


def test_year_field_limits_the_occurrences() -> None:
    assert walls("0 0 1 1 ? 2027-2028", d("2026-01-01T00:00"), 5) == [
        d("2027-01-01T00:00"),
        d("2028-01-01T00:00"),
    ]
    assert walls("0 0 0 1 1 ? 2025", d("2026-01-01T00:00"), 1) == []
    assert walls("0 0 0 1 1 ? *", d("2026-01-01T00:01"), 1) == [d("2027-01-01T00:00")]


def test_impossible_dates_find_nothing() -> None:
    assert walls("0 0 30 2 *", d("2026-01-01T00:00"), 1) == []


def test_leap_days_across_the_skipped_leap_year_2100() -> None:
    assert walls("0 0 29 2 *", d("2096-03-01T00:00"), 1) == [d("2104-02-29T00:00")]


# --- error messages ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("61 * * * *", "cron minute field: 61 is out of range 0-59"),
        ("0 24 * * *", "cron hour field: 24 is out of range 0-23"),
        ("0 0 0 * *", "cron day-of-month field: 0 is out of range 1-31"),
        ("0 0 32 * *", "cron day-of-month field: 32 is out of range 1-31"),
        ("0 0 * 13 *", "cron month field: 13 is out of range 1-12"),
        ("0 0 * * 8", "cron day-of-week field: 8 is out of range 0-7"),
        ("0 0 ? * 0 *", "cron day-of-week field: 0 is out of range 1-7"),
        ("0 0 ? * 8 *", "cron day-of-week field: 8 is out of range 1-7"),
        ("60 0 0 ? * * *", "cron second field: 60 is out of range 0-59"),
        ("0 0 1 1 ? 1969", "cron year field: 1969 is out of range 1970-2199"),
        ("0 0 0 1 1 ? 2100", "cron year field: 2100 is out of range 1970-2099"),
        ("10-61 * * * *", "cron minute field: 61 is out of range 0-59"),
        ("*/0 * * * *", "cron minute field: step 0 is out of range 1-60"),
        ("*/61 * * * *", "cron minute field: step 61 is out of range 1-60"),
        ("*/x * * * *", "cron minute field: step 'x' in '*/x' is not a number"),
        ("a * * * *", "cron minute field: 'a' is not a number"),
        ("-5 * * * *", "cron minute field: '' is not a number"),
        ("0 0 * FOO *", "cron month field: 'FOO' is not a number 1-12 or a name JAN-DEC"),
        ("0 0 * * MONDAY", "cron day-of-week field: 'MONDAY' is not a number 0-7 or a name SUN-SAT"),
        ("1,,2 * * * *", "cron minute field: empty list item in '1,,2'"),
        ("0 0 ? * 2#6 *", "cron day-of-week field: '2#6': the number after # must be 1-5"),
        ("0 0 L-31 * ? *", "cron day-of-month field: 'L-31': the offset after L- must be 0-30"),
        ("0 0 1-5W * ? *", "cron day-of-month field: '1-5W': W needs a single day before it, e.g. 15W"),
        ("0 0 32W * ? *", "cron day-of-month field: 32 is out of range 1-31"),
        (
            "0 0 ? * ? *",
            "cron: day-of-month and day-of-week cannot both be ?; use ? in exactly one of them, e.g. 0 10 * * ? *",
        ),
        (
            "0 0 * * * *",
            "cron: exactly one of day-of-month and day-of-week must be ? in a 6-field (EventBridge) expression, "
            "e.g. 0 10 * * ? *",
        ),
        (
            "0 0 0 1 * MON *",
            "cron: exactly one of day-of-month and day-of-week must be ? in a 7-field (Quartz) expression, "
            "e.g. 0 0 10 * * ? *",
        ),
        (
            "0 0 ? * *",
            "cron day-of-month field: ? is only allowed in 6-field (EventBridge) and 7-field (Quartz) expressions",
        ),
        ("? 0 * * ? *", "cron minute field: ? is only allowed in day-of-month or day-of-week"),
        ("0 0 1,? * ? *", "cron day-of-month field: ? must be the whole field"),
        ("@reboot", "cron: unknown macro '@reboot'; use @yearly, @monthly, @weekly, @daily or @hourly"),
    ],
)
def test_precise_error_messages(expression: str, message: str) -> None:
    assert problems(expression) == [message]


def test_every_problem_is_reported_at_once() -> None:
    assert problems("61 24 * * 9") == [
        "cron minute field: 61 is out of range 0-59",
        "cron hour field: 24 is out of range 0-23",
        "cron day-of-week field: 9 is out of range 0-7",
    ]
    with pytest.raises(ValidationError) as caught:
        parse_cron("61 24 * * 9")
    assert caught.value.message.startswith("cron minute field: 61 is out of range 0-59; cron hour field")
