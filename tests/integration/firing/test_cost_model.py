"""The billable units of each operation, pinned (bench/bench_cost.py prices the same measurements).

Counts only, never dollars or timings: DynamoDB write units (table and each GSI, by DynamoDB's item-size
rules) and read units, SQS / SNS / EBS / API Gateway requests and Lambda invocations. A change to the store's
items, indexes or transactions shows up here as a deliberate diff. "fire, batch of 10" is one executor
invocation delivering ten records (the 100 tasks/s case); "sqs_event_source" is the Lambda event source's
ReceiveMessage + DeleteMessageBatch around each delivery (modelled, not a handler call).
"""

from __future__ import annotations

from typing import Any

from tests.integration.api.harness import Stack
from tests.support.cost_model import measure_idle_sweep, measure_scenarios

FIRE_ONE_TIME: dict[str, Any] = {
    "calls": {
        "dynamodb.BatchGetItem": 1,
        "dynamodb.TransactWriteItems": 1,
        "dynamodb.PutItem": 2,
        "sns.PublishBatch": 1,
    },
    # The claim puts the task and the run, 2x in a transaction; the finish puts the run, then the task (two
    # single-item writes: 2 units where a transaction took 4); GSI1 (keys, name, metadata) takes
    # only the new run (no status is projected, so the one-time task's COMPLETED leaves the index alone); the
    # finish takes the task out of GSI2 (the due index).
    "wru": {"table": 6, "GSI1": 1, "GSI2": 1},
    "rru": 2.0,  # the task, and its run (absent: the minimum), consistently
    "sqs_event_source": 2,
    "sns": 1,
    "lambda": {"executor": 1},
}
FIRE_ONE_TIME_BATCH: dict[str, Any] = {
    "calls": {
        "dynamodb.BatchGetItem": 1,
        "dynamodb.TransactWriteItems": 1,  # the ten claims together (20 items, the same units as ten)
        "dynamodb.PutItem": 20,
        "sns.PublishBatch": 1,
    },
    "wru": {"table": 60, "GSI1": 10, "GSI2": 10},
    "rru": 20.0,
    "sqs_event_source": 2,  # per batch, not per task
    "sns": 10,  # one PublishBatch request is billed as ten publishes
    "lambda": {"executor": 1},
}


def _billable(scenario: Any) -> dict[str, Any]:
    parts: dict[str, Any] = {
        f"per_operation[{i}]": p.billable() for i, p in enumerate(scenario.per_operation)
    }
    if scenario.fire_alone is not None:
        parts["fire, 1 record"] = scenario.fire_alone.billable()
        parts["fire, batch of 10"] = scenario.fire_batch.billable()
    return parts


def test_each_operation_costs_the_pinned_units(stack: Stack) -> None:
    idle = measure_idle_sweep(stack)
    scenarios = {name: _billable(scenario) for name, scenario in measure_scenarios(stack).items()}

    # One sweep of an idle stage: one Query per due shard (32, eventually consistent, nothing found).
    assert idle.billable() == {
        "calls": {"dynamodb.Query": 32},
        "rru": 16.0,
        "ebs_invoke": 1,
        "lambda": {"sweeper": 1},
    }
    assert idle.metrics == set()  # a custom metric costs $0.30 a month it gets data: none when idle
    assert scenarios["one-time, SQS path (within 15 min)"] == {
        "per_operation[0]": {
            "calls": {"dynamodb.PutItem": 1, "sqs.SendMessage": 1},
            "wru": {"table": 1, "GSI1": 1, "GSI2": 1},
            "sqs": 1,
            "apigw": 1,
            "lambda": {"api": 1},
        },
        "fire, 1 record": FIRE_ONE_TIME,
        "fire, batch of 10": FIRE_ONE_TIME_BATCH,
    }
    # A 10 KB message lives in its own item, written once at create (10 units, and 1 for the task item); the
    # fire writes only the small task item and reads the message in one more BatchGetItem (3 units).
    assert scenarios["one-time, SQS path, 10 KB message"] == {
        "per_operation[0]": {
            "calls": {"dynamodb.PutItem": 2, "sqs.SendMessage": 1},
            "wru": {"table": 11, "GSI1": 1, "GSI2": 1},
            "sqs": 1,
            "apigw": 1,
            "lambda": {"api": 1},
        },
        "fire, 1 record": {
            **FIRE_ONE_TIME,
            "calls": {**FIRE_ONE_TIME["calls"], "dynamodb.BatchGetItem": 2},
            "rru": 5.0,
        },
        "fire, batch of 10": {
            **FIRE_ONE_TIME_BATCH,
            "calls": {**FIRE_ONE_TIME_BATCH["calls"], "dynamodb.BatchGetItem": 2},
            "rru": 50.0,
        },
    }
    # 100 tasks in one request: 4 BatchWriteItem (25 each, no transaction: 1 WRU a task in the table and each
    # index, as one by one) and 10 SendMessageBatch (billed as one request each); one API request, one invocation.
    assert scenarios["one-time, created in bulk (100 per request)"] == {
        "per_operation[0]": {
            "calls": {"dynamodb.BatchWriteItem": 4, "sqs.SendMessageBatch": 10},
            "wru": {"table": 100, "GSI1": 100, "GSI2": 100},
            "sqs": 10,
            "apigw": 1,
            "lambda": {"api": 1},
        },
        "fire, 1 record": FIRE_ONE_TIME,
        "fire, batch of 10": FIRE_ONE_TIME_BATCH,
    }
    assert scenarios["one-time, EBS path (days ahead)"] == {
        "per_operation[0]": {
            "calls": {"dynamodb.PutItem": 1, "scheduler.CreateSchedule": 1},
            "wru": {"table": 1, "GSI1": 1, "GSI2": 1},
            "ebs_create": 1,
            "apigw": 1,
            "lambda": {"api": 1},
        },
        # The wake-up: EBS invokes the executor, which hands the link to the delay queue.
        "per_operation[1]": {
            "calls": {"sqs.SendMessage": 1},
            "sqs": 1,
            "ebs_invoke": 1,
            "lambda": {"executor": 1},
        },
        "fire, 1 record": FIRE_ONE_TIME,
        "fire, batch of 10": FIRE_ONE_TIME_BATCH,
    }
    # Arming the next occurrence moves the task within GSI2 (a delete and a put) and sends one message.
    assert scenarios["recurring fire (every 1 minute)"] == {
        "fire, 1 record": {
            **FIRE_ONE_TIME,
            "calls": {**FIRE_ONE_TIME["calls"], "sqs.SendMessage": 1},
            "wru": {"table": 6, "GSI1": 1, "GSI2": 2},
            "sqs": 1,
        },
        "fire, batch of 10": {
            **FIRE_ONE_TIME_BATCH,
            "calls": {**FIRE_ONE_TIME_BATCH["calls"], "sqs.SendMessage": 10},
            "wru": {"table": 60, "GSI1": 10, "GSI2": 20},
            "sqs": 10,
        },
    }
    # The start marks the run in flight on the task and the finish clears it: each moves its GSI2 entry.
    assert scenarios["run now (+ its fire)"] == {
        "per_operation[0]": {
            "calls": {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "sqs.SendMessage": 1},
            "wru": {"table": 1, "GSI1": 1},
            "rru": 1.0,
            "sqs": 1,
            "apigw": 1,
            "lambda": {"api": 1},
        },
        # The run exists since the API put it (in GSI1 then): its start and finish touch GSI1 no more.
        "fire, 1 record": {**FIRE_ONE_TIME, "wru": {"table": 6, "GSI2": 4}},
        "fire, batch of 10": {
            **FIRE_ONE_TIME_BATCH,
            # A manual start is claimed on its own (it re-reads and tries again when it loses a race).
            "calls": {**FIRE_ONE_TIME_BATCH["calls"], "dynamodb.TransactWriteItems": 10},
            "wru": {"table": 60, "GSI2": 40},
        },
    }
    assert scenarios["list, one page of 50"] == {
        # GSI1 carries keys and the filtered attributes: the page's 50 tasks are then read by key (eventually
        # consistent, as the index is: half a unit each).
        "per_operation[0]": {
            # One small Query per index shard of the context (the shards spread its creates' writes).
            "calls": {"dynamodb.Query": 16, "dynamodb.BatchGetItem": 1},
            "rru": 33.0,
            "apigw": 1,
            "lambda": {"api": 1},
        },
    }
    assert scenarios["cancel (EBS-armed)"] == {
        "per_operation[0]": {
            "calls": {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "scheduler.DeleteSchedule": 1},
            "wru": {"table": 1, "GSI2": 1},
            "rru": 1.0,
            "ebs_delete": 1,
            "apigw": 1,
            "lambda": {"api": 1},
        },
    }
