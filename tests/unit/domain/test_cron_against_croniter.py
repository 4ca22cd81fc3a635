"""A second, independent oracle for 5-field Unix cron: croniter (the reference implementation DESIGN.md names).

punctual evaluates cron with its own matcher (domain/cron.py) because it must also speak EventBridge and
Quartz dialects, with their `?`/`L`/`W`/`#` rules, day-of-week numbering and a stated DST behaviour. For the
dialect croniter implements natively, in UTC, both must agree occurrence for occurrence.
"""

from __future__ import annotations

from datetime import UTC, datetime

from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st
from punctual.domain.model import Schedule
from punctual.domain.schedules import ScheduleLimits, first_occurrence, next_occurrence, parse_schedule

NOW = datetime(2026, 11, 22, 10, 17, 31, tzinfo=UTC)


def field(low: int, high: int, *, star_steps: bool = True) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    single = value.map(str)
    # Degenerate ranges (`5-5`) are left out: croniter 7.0.0 reads them as `*` (`0 0 * * 5-5` gives a Monday),
    # one reason punctual owns its matcher; tests/unit/domain/test_cron.py pins punctual's answer for them.
    ranged = st.tuples(value, value).filter(lambda p: p[0] != p[1]).map(lambda p: f"{min(p)}-{max(p)}")
    starts = ["*", f"{low}"] if star_steps else [f"{low}"]
    stepped = st.tuples(st.sampled_from(starts), st.integers(1, max(1, (high - low) // 2))).map(
        lambda p: f"{p[0]}/{p[1]}" if p[0] == "*" else f"{p[0]}-{high}/{p[1]}"
    )
    listed = st.lists(value, min_size=2, max_size=4, unique=True).map(
        lambda xs: ",".join(map(str, sorted(xs)))
    )
    return st.one_of(st.just("*"), single, ranged, stepped, listed)


# `*/n` in a day field is left out: Vixie cron counts a day field starting with `*` as unrestricted (so the
# two day fields AND), and croniter is inconsistent about it; the Vixie rule is pinned below.
unix_cron = st.tuples(
    field(0, 59), field(0, 23), field(1, 28, star_steps=False), field(1, 12), field(0, 6, star_steps=False)
).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(unix_cron)
def test_unix_cron_occurrences_match_croniter(expression: str) -> None:
    schedule = _utc_cron(expression)
    reference = croniter(expression, NOW)  # strictly after NOW; NOW has seconds, so never equal
    ours = first_occurrence(schedule, NOW)
    for _ in range(12):
        expected = reference.get_next(datetime).astimezone(UTC)
        assert ours == expected, expression
        ours = next_occurrence(schedule, ours)


def test_a_single_value_range_means_that_value_only() -> None:
    assert _first("0 0 * * 5-5") == datetime(2026, 11, 27, tzinfo=UTC)  # the next Friday


def _utc_cron(expression: str) -> Schedule:
    return parse_schedule(
        at=None,
        every=None,
        cron=expression,
        timezone="UTC",
        start_at=None,
        end_at=None,
        now=NOW,
        limits=ScheduleLimits(),
    )


def _first(expression: str) -> datetime | None:
    return first_occurrence(_utc_cron(expression), NOW)


def test_vixie_day_rule_restricted_fields_or_and_a_star_field_ands() -> None:
    # Both day fields restricted: the 1st of the month OR a Friday (2026-11-27 is the next Friday).
    assert _first("0 0 1 * 5") == datetime(2026, 11, 27, tzinfo=UTC)
    # A day field starting with `*` is unrestricted, so the fields AND: the 1st, whatever its weekday.
    assert _first("0 0 1 * */1") == datetime(2026, 12, 1, tzinfo=UTC)
    # ... and `*/2` in day-of-month ANDs with Tuesday: odd days that are Tuesdays (2026-12-01).
    assert _first("0 0 */2 * 2") == datetime(2026, 12, 1, tzinfo=UTC)
