"""Cold-start proxy: wall time to import each handler module in a fresh interpreter, against a bare
handler that only imports boto3 and builds a client (what any AWS-calling Lambda pays anyway).

Run: .venv/bin/python bench/bench_import_time.py [--runs 15]
Prints the median per module and its ratio to the bare-boto3 baseline (goal: <= 1.5x).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "bare boto3 handler"
# A minimal Lambda that talks to AWS: import boto3 and create one client, as every punctual handler does.
BASELINE_CODE = "import boto3; boto3.client('sqs', region_name='us-east-1')"
MODULES = {
    "punctual.handlers.api": "import punctual.handlers.api",
    "punctual.handlers.executor": "import punctual.handlers.executor",
    "punctual.handlers.sweeper": "import punctual.handlers.sweeper",
}
TIMER = (
    "import time; t = time.perf_counter(); exec(compile({code!r}, 'bench', 'exec')); "
    "print(time.perf_counter() - t)"
)


def measure(code: str) -> float:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT / "functions"),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "punctual",
        "POWERTOOLS_METRICS_NAMESPACE": "Punctual",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(code=code)], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    cases = {BASELINE: BASELINE_CODE, **MODULES}
    for code in cases.values():  # warm the bytecode cache so every run measures the same thing
        measure(code)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):  # interleaved, so machine noise spreads over every case alike
        for name, code in cases.items():
            samples[name].append(measure(code))
    base = statistics.median(samples[BASELINE])
    print(f"import time, median of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:30s} {median * 1000:7.1f} ms   {median / base:4.2f}x baseline")


if __name__ == "__main__":
    main()
