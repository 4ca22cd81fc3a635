"""walk_through against the one-by-one walk it replaces: intervals in closed form, crons capped then jumping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from punctual.domain.model import Schedule
from punctual.domain.schedules import (
    ScheduleLimits,
    first_occurrence,
    next_occurrence,
    parse_schedule,
    walk_through,
)

T0 = datetime(2026, 3, 28, 22, 0, tzinfo=UTC)  # the night of Europe's spring-forward
EVERIES = ("10 seconds", "45 seconds", "7 minutes", "1 hour", "1 day")
CRONS = ("*/1 * * * *", "0/20 * * ? * * *", "30 2 * * *", "0 0 1 * *", "*/15 9-17 * * 1-5")


def _naive(schedule: Schedule, start: datetime, now: datetime) -> tuple[datetime, int, datetime | None]:
    latest, passed = start, 0
    following = next_occurrence(schedule, start)
    while following is not None and following <= now:
        latest, passed = following, passed + 1
        following = next_occurrence(schedule, following)
    return latest, passed, following


def _schedule(every: str | None, cron: str | None, zone: str, end_hours: int | None) -> Schedule:
    end = None if end_hours is None else (T0 + timedelta(hours=end_hours)).isoformat()
    return parse_schedule(
        at=None,
        every=every,
        cron=cron,
        timezone=zone,
        start_at=None,
        end_at=end,
        now=T0,
        limits=ScheduleLimits(),
    )


@settings(max_examples=60, deadline=None)
@given(
    every=st.sampled_from(EVERIES),
    end_hours=st.one_of(st.none(), st.integers(25, 72)),
    late=st.integers(0, 3 * 86_400),
)
def test_an_interval_walk_is_exact_and_arithmetic(every: str, end_hours: int | None, late: int) -> None:
    schedule = _schedule(every, None, "UTC", end_hours)
    start = first_occurrence(schedule, T0)
    assert start is not None
    now = start + timedelta(seconds=late)
    assert walk_through(schedule, start, now, cap=3) == _naive(schedule, start, now)


@settings(max_examples=40, deadline=None)
@given(
    cron=st.sampled_from(CRONS),
    zone=st.sampled_from(("UTC", "Europe/Berlin")),
    late=st.integers(0, 2 * 86_400),
    cap=st.integers(0, 50),
)
def test_a_capped_cron_walk_lands_where_the_full_walk_does(cron: str, zone: str, late: int, cap: int) -> None:
    schedule = _schedule(None, cron, zone, None)
    start = first_occurrence(schedule, T0)
    assert start is not None
    now = start + timedelta(seconds=late)
    latest, passed, following = walk_through(schedule, start, now, cap=cap)
    full_latest, full_passed, full_following = _naive(schedule, start, now)
    assert (latest, following) == (full_latest, full_following)
    assert min(cap, full_passed) <= passed <= full_passed  # exact up to the cap, a lower bound after it
    if full_passed <= cap:
        assert passed == full_passed
