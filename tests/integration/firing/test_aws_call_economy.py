"""AWS call economy: the calls each operation makes, pinned (bench/bench_aws_calls.py prints the same table)."""

from __future__ import annotations

from punctual.adapters.dynamodb_schema import CONTEXT_SHARDS

from tests.integration.api.harness import Stack
from tests.support.call_economy import measure_operations


def test_each_operation_makes_the_fewest_aws_calls(stack: Stack) -> None:
    calls = measure_operations(stack)

    assert calls["schedule, within 15 min (SQS)"] == {"dynamodb.PutItem": 1, "sqs.SendMessage": 1}
    assert calls["schedule, days ahead (EBS)"] == {"dynamodb.PutItem": 1, "scheduler.CreateSchedule": 1}
    assert calls["schedule 100 in bulk (60 SQS, 40 EBS)"] == {
        "dynamodb.BatchWriteItem": 4,  # 25 tasks each
        "sqs.SendMessageBatch": 6,  # 10 links each
        "scheduler.CreateSchedule": 40,
    }
    # A context's tasks are spread over its index shards (write scaling): one small Query per shard.
    assert calls["list, one page of 50"] == {"dynamodb.Query": CONTEXT_SHARDS, "dynamodb.BatchGetItem": 1}
    assert calls["get"] == {"dynamodb.GetItem": 1}
    assert calls["fire, recurring (claim, arm next, publish, finish)"] == {
        "dynamodb.BatchGetItem": 1,  # task + run, consistent
        "dynamodb.TransactWriteItems": 1,  # the claim (task + run)
        "dynamodb.PutItem": 2,  # the finish: the run, then the task's release
        "sqs.SendMessage": 1,  # the next occurrence
        "sns.PublishBatch": 1,
    }
    assert calls["fire, one-time"] == {
        "dynamodb.BatchGetItem": 1,
        "dynamodb.TransactWriteItems": 1,
        "dynamodb.PutItem": 2,
        "sns.PublishBatch": 1,
    }
    assert calls["fire, a batch of 10 due in the same second"] == {
        "dynamodb.BatchGetItem": 1,  # ten tasks and their (absent) runs
        "dynamodb.TransactWriteItems": 1,  # ten claims in one transaction, each conditional on its own task
        "dynamodb.PutItem": 20,  # ten finishes: each a run, then its task
        "sns.PublishBatch": 1,  # ten events, one request
    }
    assert calls["run now"] == {"dynamodb.GetItem": 1, "dynamodb.PutItem": 1, "sqs.SendMessage": 1}
    assert calls["fire, run now"] == {
        "dynamodb.BatchGetItem": 1,
        # The start writes the run and the task together (it marks the run in flight on the task, so a cancel
        # meanwhile is 409), conditional on the task; the finish writes the run, then clears the task's mark.
        "dynamodb.TransactWriteItems": 1,
        "dynamodb.PutItem": 2,
        "sns.PublishBatch": 1,
    }
    assert calls["get run"] == {"dynamodb.GetItem": 1}
    assert calls["cancel, EBS-armed"] == {
        "dynamodb.GetItem": 1,
        "dynamodb.PutItem": 1,
        "scheduler.DeleteSchedule": 1,
    }
