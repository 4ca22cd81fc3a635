"""Every expression and name the EBS adapter produces must be one EventBridge Scheduler accepts.
moto accepts anything, so the grammar is checked here against tests/support/ebs_expressions.py."""

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from punctual.adapters.eventbridge_scheduler import at_expression, schedule_name
from punctual.domain.model import Link, LinkKind

from tests.support.ebs_expressions import parse_at, parse_rate, validate_expression

EBS_NAME = re.compile(r"^[0-9a-zA-Z_.-]{1,64}$")
SWEEPER_EXPRESSION = "rate(1 minute)"  # the sweeper's schedule (DESIGN.md, data flow)

instants = st.datetimes(
    min_value=datetime(2000, 1, 1),
    max_value=datetime(9999, 12, 30),
    timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]),
)
task_ids = st.text("0123456789abcdef", min_size=32, max_size=32)


@pytest.mark.parametrize(
    "expression",
    [
        "at(2026-12-01T09:00:00)",
        "at(2028-02-29T23:59:59)",
        "rate(1 minute)",
        "rate(5 minutes)",
        "rate(1 hour)",
        "rate(12 hours)",
        "rate(1 day)",
        "rate(30 days)",
    ],
)
def test_grammar_accepts_documented_forms(expression: str) -> None:
    validate_expression(expression)


@pytest.mark.parametrize(
    "expression",
    [
        "at(2026-12-01T09:00:00Z)",
        "at(2026-12-01T09:00)",
        "at(2026-12-01 09:00:00)",
        "at(2026-12-01T09:00:00.500)",
        "at(2027-02-29T09:00:00)",
        "at(2026-13-01T09:00:00)",
        "at(2026-12-01T24:00:00)",
        "at(2026-12-01T09:00:00) ",
        "rate(1 minutes)",
        "rate(5 minute)",
        "rate(1 hours)",
        "rate(2 day)",
        "rate(0 minutes)",
        "rate(-1 minutes)",
        "rate(01 minute)",
        "rate(1.5 hours)",
        "rate(30 seconds)",
        "rate(1  minute)",
        "rate(1 Minute)",
        "every(1 minute)",
        "",
    ],
)
def test_grammar_rejects_what_ebs_rejects(expression: str) -> None:
    with pytest.raises(ValueError):
        validate_expression(expression)


def test_rate_period() -> None:
    assert parse_rate("rate(1 minute)") == timedelta(minutes=1)
    assert parse_rate("rate(3 days)") == timedelta(days=3)


def test_sweeper_expression_is_valid_and_runs_every_minute() -> None:
    assert parse_rate(SWEEPER_EXPRESSION) == timedelta(minutes=1)


@given(instants)
def test_every_at_expression_is_valid_utc_and_truncated_to_the_second(instant: datetime) -> None:
    expression = at_expression(instant)

    validate_expression(expression)
    woken = parse_at(expression)
    assert woken == instant.astimezone(UTC).replace(microsecond=0)
    assert timedelta(0) <= instant - woken < timedelta(seconds=1)


def test_at_expression_example() -> None:
    paris = timezone(timedelta(hours=1))
    assert (
        at_expression(datetime(2026, 12, 1, 10, 58, 30, 999_999, tzinfo=paris)) == "at(2026-12-01T09:58:30)"
    )


@given(task_ids, st.integers(min_value=0, max_value=10**15), instants)
def test_every_schedule_name_is_a_valid_ebs_name(task_id: str, version: int, occurrence: datetime) -> None:
    name = schedule_name(Link(task_id, version, occurrence))

    assert EBS_NAME.match(name), name
    epoch = int(occurrence.timestamp() // 1)
    assert name == f"p-{task_id}-{version}-{epoch}"


@given(task_ids, st.integers(min_value=0, max_value=10**6), instants)
def test_schedule_names_differ_per_version_and_occurrence(
    task_id: str, version: int, occurrence: datetime
) -> None:
    name = schedule_name(Link(task_id, version, occurrence))

    assert name != schedule_name(Link(task_id, version + 1, occurrence))
    assert name != schedule_name(Link(task_id, version, occurrence + timedelta(seconds=1)))
    assert name == schedule_name(Link(task_id, version, occurrence.astimezone(UTC)))


def test_manual_link_name_is_distinct_from_the_occurrence_chain() -> None:
    occurrence = datetime(2026, 12, 1, 9, tzinfo=UTC)
    task_id, tracking_id = "a" * 32, "b" * 32

    manual = schedule_name(Link(task_id, 1, occurrence, LinkKind.MANUAL, tracking_id))

    assert EBS_NAME.match(manual)
    assert manual != schedule_name(Link(task_id, 1, occurrence))
    assert manual == f"m-{tracking_id}-{int(occurrence.timestamp())}"


def test_a_name_over_64_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="schedule name"):
        schedule_name(Link("a" * 32, 10**30, datetime(2026, 12, 1, tzinfo=UTC)))
