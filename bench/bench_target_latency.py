"""Target call latency on ``punctual dev``: N one-time tasks spread over the next seconds, each with an HTTPS
target on a local receiver (which verifies every signature), and the time from each task's instant to the
receiver's arrival of its call (this process's clock). Also the run-now path with a local Lambda function.

Run: .venv/bin/python bench/bench_target_latency.py [--tasks 100] [--spread 30] [--seed 1]
Prints p50 / p99 / max call latency after the instant and the counts (sent, called, refused signatures,
duplicates). Goal (issue 11): p99 <= 1 s. ``punctual dev`` runs as a subprocess with the EBS jitter on.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT), str(ROOT / "clients" / "python" / "src")]

from punctual.domain.timefmt import format_instant  # noqa: E402

from tests.e2e.harness import running_dev_with_temporary_log  # noqa: E402
from tests.e2e.receiver import running_receiver  # noqa: E402

LEAD_IN_SECONDS = 8
DRAIN_SECONDS = 15


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--spread", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    functions = ("--function", "sleepy=tests.e2e.target_functions:sleep_200ms")
    with running_dev_with_temporary_log("--seed", str(args.seed), *functions) as dev:
        secret = dev.request("GET", "/signing-secret").json()["secret"]
        with running_receiver(secret) as receiver:
            start = datetime.now(UTC) + timedelta(seconds=LEAD_IN_SECONDS)
            instants = sorted(
                start + timedelta(seconds=rng.uniform(0, args.spread)) for _ in range(args.tasks)
            )

            def create(index_instant: tuple[int, datetime]) -> None:
                index, instant = index_instant
                body = {
                    "at": format_instant(instant),
                    "target": {"type": "https", "url": receiver.url(f"/t/{index}")},
                    "retry": {"max_attempts": 1},
                }
                response = dev.request("POST", "/tasks", json=body)
                assert response.status_code == 201, response.text

            began = time.monotonic()
            with ThreadPoolExecutor(4) as pool:
                list(pool.map(create, enumerate(instants)))
            print(f"created {args.tasks} tasks in {time.monotonic() - began:.1f} s")
            deadline = (instants[-1] - datetime.now(UTC)).total_seconds() + DRAIN_SECONDS
            time.sleep(max(0.0, deadline))
            with receiver.lock:
                calls = list(receiver.calls)

            paths = Counter(call.path for call in calls)
            latencies = []
            for call in calls:
                index = int(call.path.rsplit("/", 1)[-1])
                latencies.append(call.received_at - instants[index].timestamp())
            refused = sum(1 for call in calls if call.refusal is not None)
            print(
                f"https: sent {args.tasks}, called {len(paths)}, refused signatures {refused}, "
                f"duplicates {sum(n - 1 for n in paths.values())}, missing {args.tasks - len(paths)}"
            )
            if latencies:
                print(
                    f"https call latency after the instant: p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                    f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms"
                )

        # Run now with a local Lambda that takes 200 ms: request -> completed, and started -> completed.
        task = dev.request(
            "POST",
            "/tasks",
            json={
                "at": format_instant(datetime.now(UTC) + timedelta(days=1)),
                "target": {"type": "lambda", "function": "sleepy"},
            },
        ).json()
        totals, durations = [], []
        for _ in range(20):
            began = time.monotonic()
            tracking = dev.request("POST", f"/tasks/{task['id']}/runs").json()["tracking_id"]
            while True:
                run = dev.request("GET", f"/runs/{tracking}").json()
                if run["status"] in ("completed", "failed"):
                    break
                time.sleep(0.02)
            totals.append(time.monotonic() - began)
            durations.append(run["duration_ms"] / 1000)
        print(
            f"lambda run now (200 ms function), request -> completed: p50 {percentile(totals, 0.5) * 1000:.0f} ms, "
            f"p99 {percentile(totals, 0.99) * 1000:.0f} ms; recorded duration p50 "
            f"{percentile(durations, 0.5) * 1000:.0f} ms"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
