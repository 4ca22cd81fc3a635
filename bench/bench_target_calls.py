"""AWS calls a target run adds, through the real handlers on moto: the executor's fire of a topic task vs an
HTTPS task, and the runner's one successful attempt (HTTPS, on a local receiver) and one failed-then-retried
attempt. Priced with bench_cost's price table at one request unit per DynamoDB call (run items stay under
1 KB unless the result is large: a 4 KB result makes the completed run's writes up to 5 units; the fire's
transactions cost double, the same for both kinds of task). Not counted: the event source's own SQS
receive/delete requests for the delivery queue (about 2 per message, $0.80/M).

Run: .venv/bin/python bench/bench_target_calls.py
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [
    str(ROOT / "functions"),
    str(ROOT),
    str(ROOT / "clients" / "python" / "src"),
    str(ROOT / "bench"),
]
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    POWERTOOLS_LOG_LEVEL="WARNING",
    POWERTOOLS_METRICS_DISABLED="true",
)
DELIVERY_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/punctual-delivery"
# The runner's own time per attempt, besides the target's: a few DynamoDB calls and one SNS publish.
RUNNER_SECONDS_PER_ATTEMPT = 0.1
RUNNER_MEMORY_GB = 0.5


def price(counts: dict[str, int], prices: dict[str, float], lambda_invocations: int) -> float:
    dynamodb_reads = sum(n for k, n in counts.items() if k in ("dynamodb.GetItem", "dynamodb.BatchGetItem"))
    dynamodb_writes = sum(n for k, n in counts.items() if k.startswith("dynamodb.")) - dynamodb_reads
    sqs = sum(n for k, n in counts.items() if k.startswith("sqs."))
    sns = sum(n for k, n in counts.items() if k.startswith("sns."))
    gb_seconds = lambda_invocations * RUNNER_SECONDS_PER_ATTEMPT * RUNNER_MEMORY_GB
    return 1e6 * (
        dynamodb_reads * prices["dynamodb_read_request_unit"]
        + dynamodb_writes * prices["dynamodb_write_request_unit"]
        + sqs * prices["sqs_request"]
        + sns * prices["sns_publish"]
        + lambda_invocations * prices["lambda_request"]
        + gb_seconds * prices["lambda_gb_second_arm64"]
    )


def main() -> None:
    import boto3
    from bench_cost import PRICES
    from moto import mock_aws
    from punctual import bootstrap
    from punctual.adapters import dynamodb_schema
    from punctual.handlers import executor, runner

    from tests.e2e.receiver import running_receiver
    from tests.fakes import DEFAULT_START
    from tests.integration.api.harness import (
        FakeLambdaContext,
        call_api,
        install,
        make_stack,
        sqs_event,
        sqs_record,
    )
    from tests.support.aws_calls import count_aws_calls

    warnings.filterwarnings("ignore", message="No application metrics to publish")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(**dynamodb_schema.table_definition("punctual-bench"))
        stack = make_stack(
            dynamodb,
            "punctual-bench",
            DELIVERY_QUEUE_URL=DELIVERY_QUEUE,
            ALLOW_INSECURE_TARGETS="true",
            SIGNING_SECRET="bench-key",
        )
        stack.sqs.create_queue(QueueName="punctual-delivery")
        install(stack)
        clients = (stack.dynamodb, stack.sqs, stack.sns)
        secret = call_api("GET", "/signing-secret").json["secret"]
        results: dict[str, dict[str, int]] = {}
        invocations: dict[str, int] = {}
        try:
            with running_receiver(secret, now=lambda: stack.clock.now().timestamp()) as receiver:
                receiver.scripts["/flaky"] = [500, 200]
                for second, (label, target) in enumerate(
                    [
                        ("fire: topic task", None),
                        ("fire: https task (+ hand-off)", {"type": "https", "url": receiver.url("/ok")}),
                        ("fire: https task, flaky", {"type": "https", "url": receiver.url("/flaky")}),
                    ],
                    start=10,
                ):
                    body: dict[str, Any] = {
                        "at": DEFAULT_START.replace(second=second).strftime("%Y-%m-%dT%H:%M:%SZ")
                    }
                    if target is not None:
                        body["target"] = target
                        body["retry"] = {"max_attempts": 3, "initial_delay": "1s", "max_delay": "1s"}
                    assert call_api("POST", "/tasks", body=body).status == 201
                    link, _ = stack.delayed()[-1]
                    stack.clock.set(DEFAULT_START.replace(second=second))
                    with count_aws_calls(*clients) as calls:
                        executor.handler(sqs_event(sqs_record(json.dumps(link))), FakeLambdaContext())
                    results[label] = calls.counts
                    invocations[label] = 0  # the executor's invocation is the topic fire's, unchanged

                def deliveries() -> list[dict[str, Any]]:
                    return [
                        json.loads(p["MessageBody"])
                        for p in stack.sent_messages
                        if p["QueueUrl"] == DELIVERY_QUEUE
                    ]

                ok, flaky = deliveries()
                with count_aws_calls(*clients) as calls:
                    runner.handler(sqs_event(sqs_record(json.dumps(ok))), FakeLambdaContext())
                results["runner: one successful https attempt"] = calls.counts
                invocations["runner: one successful https attempt"] = 1
                with count_aws_calls(*clients) as calls:
                    runner.handler(sqs_event(sqs_record(json.dumps(flaky))), FakeLambdaContext())
                results["runner: a failed attempt, retry queued"] = calls.counts
                invocations["runner: a failed attempt, retry queued"] = 1
        finally:
            bootstrap.use_app(None)

    print("AWS calls per step (real handlers on moto); $ per million at 1 unit per DynamoDB call")
    print(
        f"Prices: {PRICES and 'bench_cost.PRICES'}; runner {RUNNER_MEMORY_GB * 1024:.0f} MB x {RUNNER_SECONDS_PER_ATTEMPT} s per attempt"
    )
    for label, counts in results.items():
        detail = ", ".join(f"{k} {n}" for k, n in sorted(counts.items()))
        dollars = price(counts, PRICES, invocations[label])
        print(f"  {label:42s} {sum(counts.values()):2d} calls  ${dollars:6.2f}/M  ({detail})")
    topic = price(results["fire: topic task"], PRICES, 0)
    https = price(results["fire: https task (+ hand-off)"], PRICES, 0) + price(
        results["runner: one successful https attempt"], PRICES, 1
    )
    print(f"  added per https run (one attempt):          ${https - topic:6.2f}/M over a topic fire")
    print(
        "  a lambda run: the same calls minus the signing-secret GetItem, plus one lambda.Invoke "
        f"(${PRICES['lambda_request'] * 1e6:.2f}/M) and the target function's own compute"
    )


if __name__ == "__main__":
    main()
