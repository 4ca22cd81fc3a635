"""``python -m tests.simulation --seed 1 --steps 100000 [--seeds 4]``: a long campaign (make simulate)."""

from __future__ import annotations

import argparse
import sys

from tests.simulation.simulation import run_simulation


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--seeds", type=int, default=1, help="run this many seeds from --seed on")
    parser.add_argument("--targets", action="store_true", help="with lambda/https targets and the runner")
    arguments = parser.parse_args()
    total, failed = 0, 0
    for seed in range(arguments.seed, arguments.seed + arguments.seeds):
        result = run_simulation(seed, arguments.steps, targets=arguments.targets)
        total += result.steps
        print(result.report(), f"({result.seconds:.1f} s)", flush=True)
        failed += bool(result.violations)
    print(f"{total} steps over {arguments.seeds} seeds, {failed} with a violation")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
