"""The sweeper's and a late claim's walk over missed occurrences: the time to coalesce a long outage of one
task, per schedule kind (the sweeper walks every overdue task in one 60 s invocation).

Run: .venv/bin/python bench/bench_missed_walk.py [--runs 7]
Prints the median per case (goal: a 90-day outage of a per-minute cron well under 50 ms).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from punctual.domain.schedules import ScheduleLimits, first_occurrence, parse_schedule, walk_through
from punctual.service.settings import ServiceSettings

T0 = datetime(2026, 1, 1, tzinfo=UTC)
CASES = {
    "every 10 seconds, 90 days missed": {"every": "10 seconds"},
    "cron */1 (Europe/Berlin), 90 days missed": {"cron": "*/1 * * * *", "timezone": "Europe/Berlin"},
    "cron 0/20 seconds (Quartz), 90 days missed": {"cron": "0/20 * * ? * * *"},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    cap = ServiceSettings().max_missed_count
    for name, fields in CASES.items():
        schedule = parse_schedule(
            at=None,
            every=fields.get("every"),
            cron=fields.get("cron"),
            timezone=fields.get("timezone"),
            start_at=None,
            end_at=None,
            now=T0,
            limits=ScheduleLimits(),
        )
        start = first_occurrence(schedule, T0)
        assert start is not None
        timings = []
        for _ in range(runs):
            began = time.perf_counter()
            _, counted, _ = walk_through(schedule, start, start + timedelta(days=90), cap=cap)
            timings.append(time.perf_counter() - began)
        print(f"{name}: median {statistics.median(timings) * 1000:.2f} ms, counted {counted} missed")


if __name__ == "__main__":
    main()
