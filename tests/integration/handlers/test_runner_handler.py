"""The runner handler on moto: a fired HTTPS run handed to the delivery queue, called (signed) on a local
receiver, retried, recorded, and its outcome published on the topic with task.fired's attributes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from punctual.handlers import executor, runner

from tests.e2e.receiver import Receiver, running_receiver
from tests.integration.api.harness import FakeLambdaContext, Stack, call_api, sqs_event, sqs_record

DELIVERY_QUEUE = "https://sqs.us-east-1.amazonaws.com/123456789012/punctual-delivery"
pytestmark = pytest.mark.stack_env(
    DELIVERY_QUEUE_URL=DELIVERY_QUEUE, ALLOW_INSECURE_TARGETS="true", SIGNING_SECRET="stage-key"
)


@pytest.fixture
def receiver(stack: Stack) -> Iterator[Receiver]:
    stack.sqs.create_queue(QueueName="punctual-delivery")
    secret = call_api("GET", "/signing-secret")
    assert secret.status == 200
    with running_receiver(secret.json["secret"], now=lambda: stack.clock.now().timestamp()) as receiver:
        yield receiver


def deliveries(stack: Stack) -> list[tuple[dict[str, Any], int]]:
    return [
        (json.loads(p["MessageBody"]), int(p.get("DelaySeconds", 0)))
        for p in stack.sent_messages
        if p["QueueUrl"] == DELIVERY_QUEUE
    ]


def fire_https_task(stack: Stack, receiver: Receiver, path: str, **fields: Any) -> dict[str, Any]:
    target = {"type": "https", "url": receiver.url(path), "headers": {"X-Token": "hidden-token"}}
    created = call_api("POST", "/tasks", body={"at": "2026-01-01T12:00:30Z", "target": target, **fields})
    assert created.status == 201, created.raw_body
    link, _ = stack.delayed()[-1]
    from tests.fakes import DEFAULT_START

    stack.clock.set(DEFAULT_START.replace(second=30))
    result = executor.handler(sqs_event(sqs_record(json.dumps(link))), FakeLambdaContext())
    assert result == {"batchItemFailures": []}
    return dict(created.json)


def run_delivery(body: dict[str, Any]) -> Any:
    return runner.handler(sqs_event(sqs_record(json.dumps(body))), FakeLambdaContext())


def test_a_fired_run_is_called_signed_recorded_and_its_outcome_published(
    stack: Stack, receiver: Receiver
) -> None:
    task = fire_https_task(stack, receiver, "/ok")
    [(message, delay)] = deliveries(stack)
    assert message["attempt"] == 1 and delay == 0
    pending = call_api("GET", f"/runs/{message['tracking_id']}").json
    assert pending["status"] == "pending" and pending["target_type"] == "https"

    assert run_delivery(message) == {"batchItemFailures": []}

    [call] = receiver.calls_to("/ok")
    assert call.refusal is None and call.event["task_id"] == task["id"]
    assert call.headers["x-token"] == "hidden-token"
    run = call_api("GET", f"/runs/{message['tracking_id']}").json
    assert run["status"] == "completed" and run["attempt"] == 1 and run["response_status"] == 200
    events = stack.events()
    types = [json.loads(m["Body"])["type"] for m in events]
    assert types == ["task.fired", "task.completed"]
    fired, completed = events
    assert "hidden-token" not in fired["Body"]
    attributes = {name: value["StringValue"] for name, value in fired["MessageAttributes"].items()}
    outcome_attributes = {
        name: value["StringValue"] for name, value in completed["MessageAttributes"].items()
    }
    assert outcome_attributes == {**attributes, "type": "task.completed"}


def test_a_failed_call_is_retried_through_the_queue_then_fails_the_run(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.scripts["/down"] = [500]
    fire_https_task(
        stack, receiver, "/down", retry={"max_attempts": 2, "initial_delay": "1s", "max_delay": "1s"}
    )
    [(first, _)] = deliveries(stack)
    run_delivery(first)
    [_, (second, delay)] = deliveries(stack)
    assert second == {**first, "attempt": 2} and 0 <= delay <= 1

    run_delivery(second)
    run_delivery(second)  # SQS delivered it twice: no third call

    assert len(receiver.calls_to("/down")) == 2
    run = call_api("GET", f"/runs/{first['tracking_id']}").json
    assert run["status"] == "failed" and [a["response_status"] for a in run["attempts"]] == [500, 500]
    assert [json.loads(m["Body"])["type"] for m in stack.events()] == ["task.fired", "task.failed"]


def test_signing_secrets_are_per_tenant_and_rotate(stack: Stack) -> None:
    first = call_api("GET", "/signing-secret").json["secret"]
    other = call_api("GET", "/signing-secret", api_key_id="tenant-b").json["secret"]
    rotated = call_api("POST", "/signing-secret/rotate").json["secret"]
    assert len({first, other, rotated}) == 3
    assert call_api("GET", "/signing-secret").json["secret"] == rotated
    assert call_api("GET", "/signing-secret", api_key_id="tenant-b").json["secret"] == other


def test_a_record_that_is_not_a_delivery_is_dropped(stack: Stack) -> None:
    assert runner.handler(sqs_event(sqs_record("not json")), FakeLambdaContext()) == {"batchItemFailures": []}
