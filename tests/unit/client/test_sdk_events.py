"""punctual_client.events.parse: every shape a fired event reaches a subscriber in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from punctual_client import FiredEvent, events

BODY: dict[str, Any] = {
    "type": "task.fired",
    "task_id": "t-1",
    "tracking_id": "r-1",
    "name": "billOnDemand",
    "scheduled_for": "2026-12-01T09:00:00Z",
    "fired_at": "2026-12-01T09:00:00.112Z",
    "lateness_ms": 112,
    "message": {"invoice": 42},
    "metadata": {"customer": "c-17"},
    "attempt": 1,
    "dedup_key": "t-1#2026-12-01T09:00:00Z",
    "run_kind": "scheduled",
    "missed_occurrences": 0,
}
RAW = json.dumps(BODY)


def envelope(body: str) -> str:
    return json.dumps({"Type": "Notification", "MessageId": "m-1", "TopicArn": "arn:t", "Message": body})


def sqs_record(body: str) -> dict[str, Any]:
    return {"messageId": "m-1", "body": body, "eventSource": "aws:sqs", "messageAttributes": {}}


def sns_record(body: str) -> dict[str, Any]:
    return {
        "EventSource": "aws:sns",
        "Sns": {"Type": "Notification", "Message": body, "MessageAttributes": {}},
    }


def check(event: FiredEvent) -> None:
    assert event.task_id == "t-1"
    assert event.tracking_id == "r-1"
    assert event.scheduled_for == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert event.fired_at == datetime(2026, 12, 1, 9, 0, 0, 112000, tzinfo=UTC)
    assert event.lateness_ms == 112
    assert event.message == {"invoice": 42}
    assert event.metadata == {"customer": "c-17"}
    assert (event.attempt, event.run_kind, event.missed_occurrences) == (1, "scheduled", 0)
    assert event.dedup_key == "t-1#2026-12-01T09:00:00Z"


@pytest.mark.parametrize(
    "raw",
    [
        RAW,
        RAW.encode(),
        BODY,
        sqs_record(RAW),
        sqs_record(envelope(RAW)),
        sns_record(RAW),
        {"Body": RAW, "ReceiptHandle": "h"},  # a message from SQS ReceiveMessage
        envelope(RAW),
    ],
    ids=["str", "bytes", "dict", "sqs-raw", "sqs-sns-envelope", "sns-record", "receive-message", "envelope"],
)
def test_one_event_from_each_shape(raw: Any) -> None:
    (event,) = events.parse(raw)
    check(event)


def test_a_whole_lambda_event_yields_every_record() -> None:
    manual = json.dumps({**BODY, "tracking_id": "r-2", "run_kind": "manual"})
    sqs_event = {"Records": [sqs_record(RAW), sqs_record(envelope(manual))]}
    assert [e.tracking_id for e in events.parse(sqs_event)] == ["r-1", "r-2"]
    sns_event = json.dumps({"Records": [sns_record(RAW), sns_record(manual)]})
    parsed = events.parse(sns_event)
    assert [e.run_kind for e in parsed] == ["scheduled", "manual"]
    assert events.parse({"Records": []}) == []


@pytest.mark.parametrize(
    "raw", ["not json", "[1, 2]", {"hello": "world"}, {"type": "task.fired", "task_id": "t"}]
)
def test_anything_else_is_a_value_error(raw: Any) -> None:
    with pytest.raises(ValueError):
        events.parse(raw)
