"""The SQS event source emulation of ``punctual dev``: batches become Lambda SQS events, succeeded records
are deleted, reported failures stay for redelivery, and the redrive policy moves a poison message to the
DLQ. The queues are moto's, with a zero visibility timeout so redelivery needs no waiting."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from punctual.local.event_source import QueuePoller, failed_ids

MAX_RECEIVES = 3


@pytest.fixture
def sqs(aws: None) -> Any:
    return boto3.client("sqs", region_name="us-east-1")


@pytest.fixture
def queues(sqs: Any) -> tuple[str, str]:
    dlq_url = sqs.create_queue(QueueName="delay-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName="delay",
        Attributes={
            "VisibilityTimeout": "0",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVES}),
        },
    )["QueueUrl"]
    return url, dlq_url


class Handler:
    """Records every event; fails the records whose body is in ``failing`` (or raises when ``crash``)."""

    def __init__(self, failing: set[str] | None = None, crash: bool = False) -> None:
        self.events: list[dict[str, Any]] = []
        self.failing = failing or set()
        self.crash = crash

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        if self.crash:
            raise RuntimeError("boom")
        return {
            "batchItemFailures": [
                {"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in self.failing
            ]
        }

    def bodies(self) -> list[list[str]]:
        return [[r["body"] for r in event["Records"]] for event in self.events]


def visible_bodies(sqs: Any, url: str) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", []
    )
    return sorted(m["Body"] for m in messages)


def test_a_batch_becomes_a_lambda_sqs_event(sqs: Any, queues: tuple[str, str]) -> None:
    url, _ = queues
    sqs.send_message(
        QueueUrl=url, MessageBody="one", MessageAttributes={"k": {"DataType": "String", "StringValue": "v"}}
    )
    handler = Handler()

    assert QueuePoller(sqs, url, handler).poll_once() == 1

    (record,) = handler.events[0]["Records"]
    assert record["body"] == "one"
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"].endswith(":delay")
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert record["messageAttributes"]["k"]["stringValue"] == "v"
    assert record["receiptHandle"]
    assert visible_bodies(sqs, url) == []  # succeeded: deleted


def test_batches_hold_up_to_ten_records(sqs: Any, queues: tuple[str, str]) -> None:
    url, _ = queues
    for index in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    handler = Handler()
    poller = QueuePoller(sqs, url, handler, batch_size=10)
    while poller.poll_once():
        pass
    assert max(len(b) for b in handler.bodies()) <= 10
    assert sorted(body for batch in handler.bodies() for body in batch) == sorted(str(i) for i in range(12))


def test_reported_failures_are_redelivered_with_a_growing_receive_count(
    sqs: Any, queues: tuple[str, str]
) -> None:
    url, dlq_url = queues
    sqs.send_message(QueueUrl=url, MessageBody="good")
    sqs.send_message(QueueUrl=url, MessageBody="bad")
    handler = Handler(failing={"bad"})
    poller = QueuePoller(sqs, url, handler)

    poller.poll_once()
    poller.poll_once()

    assert handler.bodies()[1] == ["bad"]  # "good" was deleted, "bad" came back
    assert handler.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert visible_bodies(sqs, dlq_url) == []


def test_a_record_failing_max_receive_count_times_moves_to_the_dlq(sqs: Any, queues: tuple[str, str]) -> None:
    url, dlq_url = queues
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    handler = Handler(failing={"poison"})
    poller = QueuePoller(sqs, url, handler)

    for _ in range(MAX_RECEIVES + 2):
        poller.poll_once()

    assert len(handler.events) == MAX_RECEIVES
    assert visible_bodies(sqs, dlq_url) == ["poison"]


def test_a_handler_that_raises_leaves_the_whole_batch(sqs: Any, queues: tuple[str, str]) -> None:
    url, _ = queues
    sqs.send_message(QueueUrl=url, MessageBody="a")
    sqs.send_message(QueueUrl=url, MessageBody="b")
    QueuePoller(sqs, url, Handler(crash=True), batch_size=10).poll_once()
    assert visible_bodies(sqs, url) == ["a", "b"]


@pytest.mark.parametrize(
    ("result", "failed"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m1"}]}, {"m1"}),
        # Lambda fails the whole batch on a malformed response.
        ({"batchItemFailures": [{"itemIdentifier": "unknown"}]}, {"m1", "m2"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"m1", "m2"}),
        ({"batchItemFailures": [{"id": "m1"}]}, {"m1", "m2"}),
        ({"batchItemFailures": "m1"}, {"m1", "m2"}),
    ],
)
def test_batch_item_failures_are_read_as_lambda_reads_them(result: Any, failed: set[str]) -> None:
    assert failed_ids(result, {"m1", "m2"}) == failed


def test_the_running_poller_processes_batches_concurrently_and_stops(sqs: Any) -> None:
    # In flight means invisible: a real visibility timeout, so no record is handed out twice.
    url = sqs.create_queue(QueueName="busy", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    for index in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=str(index))
    both_inside = threading.Barrier(2, timeout=5)  # passes only if two invocations overlap
    seen: list[str] = []

    def handler(event: dict[str, Any]) -> None:
        seen.extend(r["body"] for r in event["Records"])
        if len(seen) <= 2:
            both_inside.wait()

    stop = threading.Event()
    poller = QueuePoller(sqs, url, handler, batch_size=1, concurrency=2, idle_seconds=0.01)
    thread = threading.Thread(target=poller.run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while len(seen) < 3 and time.monotonic() < deadline:
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(timeout=5)
    assert not thread.is_alive()
    assert sorted(seen) == ["0", "1", "2"]
    assert not both_inside.broken
    assert visible_bodies(sqs, url) == []
