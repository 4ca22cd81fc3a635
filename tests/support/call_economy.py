"""AWS calls per user-facing operation, measured on a moto stack through the real handlers.

Shared by tests/integration/firing/test_aws_call_economy.py (which pins the numbers) and
bench/bench_aws_calls.py (which prints them), so both measure exactly the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from punctual.handlers import executor

from tests.integration.api.harness import FakeLambdaContext, Stack, call_api, sqs_event, sqs_record
from tests.support.aws_calls import AwsCallCounter


def _watch(stack: Stack) -> AwsCallCounter:
    return AwsCallCounter().watch(stack.dynamodb, stack.sqs, stack.sns, stack.scheduler)


def _deliver(stack: Stack, *links: dict[str, Any]) -> None:
    """One executor invocation with one SQS record per link (a batch when there are several)."""
    records = [sqs_record(json.dumps(link)) for link in links]
    result = executor.handler(sqs_event(*records), FakeLambdaContext())
    assert result == {"batchItemFailures": []}, result


def measure_operations(stack: Stack) -> dict[str, dict[str, int]]:
    """Run each operation once on ``stack`` and return the AWS calls it made, by ``service.Operation``."""
    results: dict[str, dict[str, int]] = {}

    def measure(name: str, operation: Callable[[], Any]) -> Any:
        counter = _watch(stack)
        try:
            value = operation()
        finally:
            counter.close()
        results[name] = counter.counts
        return value

    now = stack.clock.now()
    soon = (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    far = (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    near = measure(
        "schedule, within 15 min (SQS)",
        lambda: call_api("POST", "/schedule", body={"timestamp": soon, "message": "m"}),
    )
    burst = [call_api("POST", "/schedule", body={"timestamp": soon, "message": i}).json for i in range(10)]
    far_task = measure(
        "schedule, days ahead (EBS)", lambda: call_api("POST", "/tasks", body={"at": far})
    ).json
    recurring = measure(
        "schedule, every 1 minute", lambda: call_api("POST", "/tasks", body={"every": "1 minute"})
    ).json
    for index in range(60):  # a full page to list
        call_api("POST", "/tasks", body={"at": far, "name": f"filler-{index}"})
    measure("list, one page of 50", lambda: call_api("GET", "/tasks", query={"limit": "50"}))
    # 100 tasks in one request: 60 near (SQS), 40 days ahead (one EBS wake-up each: EBS has no batch create).
    hundred = [{"at": soon if index < 60 else far} for index in range(100)]
    measure(
        "schedule 100 in bulk (60 SQS, 40 EBS)",
        lambda: call_api("POST", "/tasks/bulk", body={"tasks": hundred}),
    )
    measure("get", lambda: call_api("GET", f"/tasks/{recurring['id']}"))

    # Fire the recurring task's first occurrence: claim, arm the next, publish, finish.
    stack.sent_messages.clear()
    stack.clock.set(now + timedelta(minutes=1))
    link = {
        "source": "punctual.link",
        "task_id": recurring["id"],
        "version": recurring["version"],
        "occurrence": recurring["next_run_at"],
        "kind": "occurrence",
        "tracking_id": None,
    }
    measure("fire, recurring (claim, arm next, publish, finish)", lambda: _deliver(stack, link))
    stack.sent_messages.clear()
    stack.clock.set(now + timedelta(minutes=5))
    one_time = _link_of(stack, near.json["id"])
    measure("fire, one-time", lambda: _deliver(stack, one_time))
    same_second = [_link_of(stack, task["id"]) for task in burst]
    measure("fire, a batch of 10 due in the same second", lambda: _deliver(stack, *same_second))

    run = measure("run now", lambda: call_api("POST", f"/tasks/{recurring['id']}/runs")).json
    [(manual, _)] = [(m, d) for m, d in stack.delayed() if m.get("kind") == "manual"]
    measure("fire, run now", lambda: _deliver(stack, manual))
    measure("get run", lambda: call_api("GET", f"/runs/{run['tracking_id']}"))
    measure("cancel, EBS-armed", lambda: call_api("DELETE", f"/tasks/{far_task['id']}"))
    return results


def _link_of(stack: Stack, task_id: str) -> dict[str, Any]:
    task = call_api("GET", f"/tasks/{task_id}").json
    return {
        "source": "punctual.link",
        "task_id": task_id,
        "version": task["version"],
        "occurrence": task["next_run_at"] or task["at"],
        "kind": "occurrence",
        "tracking_id": None,
    }


def total(counts: dict[str, int]) -> int:
    return sum(counts.values())
