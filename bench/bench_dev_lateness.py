"""Lateness end to end on ``punctual dev``: schedule N one-time tasks spread over the next minute with the
Pipedream call (``POST /schedule {timestamp}``), read the fired events from the events queue on the emulated
AWS endpoint, and measure received_at (this process's clock) - timestamp.

Run: .venv/bin/python bench/bench_dev_lateness.py [--tasks 200] [--spread 60] [--seed 1]
Prints p50 / p99 / max lateness and the counts (sent, received, duplicates, missing). Goal: p99 <= 1 s.
``punctual dev`` runs as a subprocess on free ports with the EBS jitter on, and is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from punctual.domain.timefmt import format_instant, parse_instant  # noqa: E402

from tests.e2e.harness import DevProcess, running_dev_with_temporary_log  # noqa: E402

SCHEDULING_THREADS = 4
LEAD_IN_SECONDS = 8  # the first task falls due after every task has been scheduled
DRAIN_SECONDS = 20  # after the last instant, how long to wait for stragglers (and duplicates)


@dataclass
class Received:
    """Fired events as they arrive, by the client's clock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    arrivals: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    def add(self, at: datetime, event: dict[str, Any]) -> None:
        with self.lock:
            self.arrivals.append((at, event))

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def receive_events(sqs: Any, queue_url: str, into: Received, stop: threading.Event) -> None:
    while not stop.is_set():
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        now = datetime.now(UTC)
        for message in messages:
            into.add(now, json.loads(message["Body"]))
        if messages:
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )


def schedule_all(dev: DevProcess, instants: list[datetime]) -> tuple[dict[str, datetime], float]:
    """POST /schedule for every instant (a few client threads); returns task id -> instant and the seconds
    it took."""

    def schedule(instant: datetime) -> tuple[str, datetime]:
        timestamp = format_instant(instant)
        response = dev.request(
            "POST", "/schedule", json={"timestamp": timestamp, "message": {"at": timestamp}}
        )
        response.raise_for_status()
        return response.json()["id"], parse_instant(timestamp, "timestamp")

    started = time.monotonic()
    with ThreadPoolExecutor(SCHEDULING_THREADS) as pool:
        scheduled = dict(pool.map(schedule, instants))
    return scheduled, time.monotonic() - started


def run(dev: DevProcess, tasks: int, spread: float, rng: random.Random) -> None:
    sqs = dev.sqs()
    queue_url = dev.events_queue_url()
    received = Received()
    stop = threading.Event()
    receiver = threading.Thread(target=receive_events, args=(sqs, queue_url, received, stop), daemon=True)
    receiver.start()

    start = datetime.now(UTC) + timedelta(seconds=LEAD_IN_SECONDS)
    # Random instants (with milliseconds) across the window: sub-second remainders of every size.
    instants = sorted(start + timedelta(seconds=rng.uniform(0, spread)) for _ in range(tasks))
    scheduled, took = schedule_all(dev, instants)
    first_due = min(scheduled.values())
    print(
        f"scheduled {len(scheduled)} tasks in {took:.1f} s; due from {format_instant(first_due)} over {spread:.0f} s"
    )
    if datetime.now(UTC) > first_due:
        print("  warning: scheduling ran past the first instant; those tasks fire late by construction")

    deadline = max(scheduled.values()) + timedelta(seconds=DRAIN_SECONDS)
    while datetime.now(UTC) < deadline:
        ids = {event["task_id"] for _, event in list(received.arrivals)}
        if set(scheduled) <= ids and datetime.now(UTC) > max(scheduled.values()) + timedelta(seconds=3):
            break  # everything arrived; a few more seconds to catch a duplicate
        time.sleep(0.5)
    stop.set()
    receiver.join(timeout=5)

    report(scheduled, received.arrivals)


def report(scheduled: dict[str, datetime], arrivals: list[tuple[datetime, dict[str, Any]]]) -> None:
    ours = [(at, event) for at, event in arrivals if event.get("task_id") in scheduled]
    dedup = Counter(event["dedup_key"] for _, event in ours)
    duplicates = sum(count - 1 for count in dedup.values())
    first: dict[str, tuple[datetime, dict[str, Any]]] = {}
    for at, event in ours:
        first.setdefault(event["task_id"], (at, event))
    missing = sorted(set(scheduled) - set(first))
    client_ms = [(at - scheduled[task_id]).total_seconds() * 1000 for task_id, (at, _) in first.items()]
    server_ms = [float(event["lateness_ms"]) for _, event in first.values()]
    early = sum(1 for value in client_ms if value < 0)
    wrong_instant = sum(
        1
        for task_id, (_, event) in first.items()
        if parse_instant(event["scheduled_for"], "scheduled_for") != scheduled[task_id]
    )

    print()
    print("punctual dev lateness (jitter on)")
    print(
        f"  sent {len(scheduled)}, received {len(ours)}, distinct {len(first)}, duplicates {duplicates}, "
        f"missing {len(missing)}, early {early}, wrong scheduled_for {wrong_instant}"
    )
    if client_ms:
        for label, values in (
            ("received_at - timestamp (client clock)", client_ms),
            ("fired_at - scheduled_for (server)", server_ms),
        ):
            print(
                f"  {label:40s} p50 {percentile(values, 0.5):7.1f} ms   p99 {percentile(values, 0.99):7.1f} ms"
                f"   max {max(values):7.1f} ms   min {min(values):7.1f} ms"
            )
        p99 = percentile(client_ms, 0.99)
        verdict = "met" if p99 <= 1000 and not missing and not duplicates else "MISSED"
        print(f"  goal p99 <= 1000 ms, none missing or duplicated: {verdict} (p99 {p99:.1f} ms)")
    if missing:
        print(f"  missing task ids (first 5): {missing[:5]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="tasks to schedule (default 200)")
    parser.add_argument("--spread", type=float, default=60.0, help="seconds the instants spread over (60)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the instants and of the EBS jitter")
    args = parser.parse_args()
    with running_dev_with_temporary_log(
        "--jitter", "--seed", str(args.seed), "--log-level", "WARNING"
    ) as dev:
        try:
            run(dev, args.tasks, args.spread, random.Random(args.seed))
        finally:
            problems = [line for line in dev.output().splitlines() if "ERROR" in line or "Traceback" in line]
            if problems:
                print(f"punctual dev logged {len(problems)} error line(s), e.g.: {problems[0][:300]}")


if __name__ == "__main__":
    main()
