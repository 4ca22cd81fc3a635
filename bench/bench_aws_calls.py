"""AWS calls per operation (schedule, list page, fire, run now, ...), through the real handlers on moto.

Run: .venv/bin/python bench/bench_aws_calls.py
The same scenarios are pinned by tests/integration/firing/test_aws_call_economy.py.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "functions"), str(ROOT)]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_LOG_LEVEL="WARNING",  # keep the handlers' INFO lines out of the figures
    POWERTOOLS_METRICS_DISABLED="true",
)


def main() -> None:
    import boto3
    from moto import mock_aws
    from punctual import bootstrap
    from punctual.adapters import dynamodb_schema

    from tests.integration.api.harness import install, make_stack
    from tests.support.call_economy import measure_operations, total

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**dynamodb_schema.table_definition("punctual-bench"))
        stack = make_stack(dynamodb, "punctual-bench")
        install(stack)
        try:
            results = measure_operations(stack)
        finally:
            bootstrap.use_app(None)
    print("AWS calls per operation (real handlers, moto)")
    for name, counts in results.items():
        detail = ", ".join(f"{op} x{n}" if n > 1 else op for op, n in sorted(counts.items()))
        print(f"  {name:52s} {total(counts):2d}   {detail}")


if __name__ == "__main__":
    main()
