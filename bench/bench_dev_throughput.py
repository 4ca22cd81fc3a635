"""Throughput of ``punctual dev``:

(a) scheduling: tasks scheduled per second over HTTP (``POST /schedule``) with a few client threads, for
    tasks an hour ahead (an EBS wake-up each) and ten minutes ahead (straight to the delay queue);
(b) firing: 1,000 tasks that fall due in the same second; from that second until all 1,000 are on the
    events queue (emulated AWS endpoint) -> fired/s, and none lost, none duplicated (by dedup_key).

Run: .venv/bin/python bench/bench_dev_throughput.py [--threads 4] [--schedule 300] [--burst 1000]
Goal: >= 100/s each. Each part runs on its own ``punctual dev`` subprocess (free ports, jitter on), so the
wake-ups of (a) do not weigh on (b); both are stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]

from punctual.domain.timefmt import format_instant, parse_instant  # noqa: E402

from tests.e2e.harness import DevProcess, running_dev_with_temporary_log  # noqa: E402

GOAL_PER_SECOND = 100
RECEIVERS = 4
FIRE_TIMEOUT_SECONDS = 120  # give up on (b) this long after the due second
DEV_ARGS = ("--jitter", "--seed", "1", "--log-level", "WARNING")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def schedule_many(dev: DevProcess, instants: list[datetime], threads: int) -> tuple[list[str], float]:
    """POST /schedule for each instant with ``threads`` clients; returns the ids and the wall seconds."""
    local = threading.local()

    def schedule(instant: datetime) -> str:
        if not hasattr(local, "session"):
            import requests

            local.session = requests.Session()  # keep-alive, as a real client would
        timestamp = format_instant(instant)
        response = local.session.post(
            dev.api + "/schedule", json={"timestamp": timestamp, "message": {"n": timestamp}}, timeout=30
        )
        response.raise_for_status()
        return str(response.json()["id"])

    started = time.monotonic()
    with ThreadPoolExecutor(threads) as pool:
        ids = list(pool.map(schedule, instants))
    return ids, time.monotonic() - started


def scheduling_rate(threads: int, count: int) -> float:
    print(f"(a) scheduling over HTTP, {threads} client threads")
    rates = []
    with running_dev_with_temporary_log(*DEV_ARGS) as dev:
        schedule_many(dev, [datetime.now(UTC) + timedelta(hours=2)] * 20, threads)  # warm-up
        for label, ahead in (
            ("an hour ahead (EBS wake-up)", timedelta(hours=1)),
            ("10 minutes ahead (delay queue)", timedelta(minutes=10)),
        ):
            base = datetime.now(UTC) + ahead
            instants = [base + timedelta(milliseconds=i) for i in range(count)]
            ids, took = schedule_many(dev, instants, threads)
            rate = len(set(ids)) / took
            rates.append(rate)
            print(f"  {label:32s} {len(set(ids))} tasks in {took:5.2f} s = {rate:6.1f} tasks/s")
    return min(rates)


def receive_all(
    sqs: Any,
    queue_url: str,
    arrivals: list[tuple[float, dict[str, Any]]],
    lock: threading.Lock,
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        now = time.time()
        if not messages:
            continue
        with lock:
            arrivals.extend((now, json.loads(m["Body"])) for m in messages)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )


def firing_rate(threads: int, burst: int, schedule_rate: float) -> float:
    print(f"(b) {burst} tasks due in the same second")
    with running_dev_with_temporary_log(*DEV_ARGS) as dev:
        sqs_clients = [dev.sqs() for _ in range(RECEIVERS)]
        queue_url = dev.events_queue_url()
        # Far enough ahead that every task is scheduled before the second comes (from the rate of (a)).
        lead = max(15.0, 2.5 * burst / schedule_rate + 5)  # the queue grows, so sending slows
        due = (datetime.now(UTC) + timedelta(seconds=lead)).replace(microsecond=0)
        # Spread over the second's milliseconds: one second, 1,000 distinct instants.
        instants = [due + timedelta(microseconds=(i * 1_000_000) // burst) for i in range(burst)]
        ids, took = schedule_many(dev, instants, threads)
        print(
            f"  scheduled {len(set(ids))} in {took:.1f} s for {format_instant(due)} "
            f"({(due - datetime.now(UTC)).total_seconds():.1f} s to spare)"
        )

        arrivals: list[tuple[float, dict[str, Any]]] = []
        lock, stop = threading.Lock(), threading.Event()
        receivers = [
            threading.Thread(target=receive_all, args=(sqs, queue_url, arrivals, lock, stop), daemon=True)
            for sqs in sqs_clients
        ]
        for receiver in receivers:
            receiver.start()
        wanted = set(ids)
        deadline = due.timestamp() + FIRE_TIMEOUT_SECONDS
        while time.time() < deadline:
            with lock:
                seen = {event["task_id"] for _, event in arrivals}
            if wanted <= seen:
                break
            time.sleep(0.05)
        time.sleep(2)  # a duplicate would arrive right behind
        stop.set()
        for receiver in receivers:
            receiver.join(timeout=5)
        log = dev.output()
    return report_burst(wanted, arrivals, due, log)


def report_burst(
    wanted: set[str], arrivals: list[tuple[float, dict[str, Any]]], due: datetime, log: str
) -> float:
    ours = [(at, event) for at, event in arrivals if event["task_id"] in wanted]
    dedup = Counter(event["dedup_key"] for _, event in ours)
    duplicates = sum(count - 1 for count in dedup.values())
    distinct = {event["task_id"] for _, event in ours}
    missing = len(wanted - distinct)
    start = due.timestamp()
    received = sorted(at - start for at, _ in ours)
    fired = sorted(parse_instant(event["fired_at"], "fired_at").timestamp() - start for _, event in ours)
    lateness = [float(event["lateness_ms"]) for _, event in ours]
    print(
        f"  sent {len(wanted)}, received {len(ours)}, distinct {len(distinct)}, duplicates {duplicates}, "
        f"missing {missing}"
    )
    if not received:
        print("  nothing arrived")
        return 0.0
    all_in = received[-1]
    rate = len(distinct) / all_in if all_in > 0 else float("inf")
    print(f"  first received {received[0]:.2f} s after the second, last {all_in:.2f} s -> {rate:.1f} fired/s")
    print(
        f"  fired_at (server) first {fired[0]:.2f} s, last {fired[-1]:.2f} s after the second; "
        f"lateness p50 {percentile(lateness, 0.5):.0f} ms, p99 {percentile(lateness, 0.99):.0f} ms, "
        f"max {max(lateness):.0f} ms"
    )
    per_second = Counter(int(value) for value in fired if value >= 0)
    counts = " ".join(str(per_second.get(second, 0)) for second in range(int(fired[-1]) + 1))
    print(f"  fired per second from the due second on: {counts}")
    errors = [line for line in log.splitlines() if "ERROR" in line or "Traceback" in line]
    if errors:
        print(f"  punctual dev logged {len(errors)} error line(s), e.g.: {errors[0][:300]}")
    return rate if not missing and not duplicates else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=4, help="client threads scheduling (default 4)")
    parser.add_argument("--schedule", type=int, default=300, help="tasks per scheduling measurement (300)")
    parser.add_argument("--burst", type=int, default=1000, help="tasks due in the same second (1000)")
    args = parser.parse_args()

    schedule_rate = scheduling_rate(args.threads, args.schedule)
    fire_rate = firing_rate(args.threads, args.burst, schedule_rate)
    print()
    for label, value in (
        ("scheduled/s (slower path)", schedule_rate),
        ("fired/s, none lost or doubled", fire_rate),
    ):
        verdict = "met" if value >= GOAL_PER_SECOND else "MISSED"
        print(f"  {label:32s} {value:7.1f}   goal >= {GOAL_PER_SECOND}: {verdict}")


if __name__ == "__main__":
    main()
