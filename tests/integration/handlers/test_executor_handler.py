"""The executor handler on moto: EBS wake-ups, delay-queue batches, duplicates and publish failures."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from punctual import bootstrap
from punctual.adapters.link_codec import link_to_json
from punctual.domain.model import Link
from punctual.handlers import executor
from punctual.handlers.env import HandlerEnv

from tests.integration.api.harness import (
    EXECUTOR_ARN,
    REGION,
    TENANT_A,
    FakeLambdaContext,
    Stack,
    call_api,
    ebs_event,
    sqs_event,
    sqs_record,
)

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def create(body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = call_api("POST", "/tasks", body=body, **kwargs)
    assert response.status == 201, response.raw_body
    return dict(response.json)


def invoke(event: dict[str, Any], context: FakeLambdaContext | None = None) -> Any:
    return executor.handler(event, context or FakeLambdaContext())


def last_delayed_record(stack: Stack, **kwargs: Any) -> dict[str, Any]:
    """The newest delay-queue message as the SQS record Lambda would deliver."""
    body, _ = stack.delayed()[-1]
    return sqs_record(json.dumps(body), **kwargs)


def test_an_ebs_wake_up_hands_the_link_to_the_delay_queue_for_the_remaining_seconds(stack: Stack) -> None:
    task = create({"at": "2026-01-01T12:30:00Z"})
    [schedule] = stack.schedules()
    assert schedule["ScheduleExpression"] == "at(2026-01-01T12:28:00)"
    assert schedule["Target"]["Arn"] == EXECUTOR_ARN
    stack.clock.set(datetime(2026, 1, 1, 12, 28, 0, 400_000, tzinfo=UTC))  # EBS fires late in its minute

    result = invoke(json.loads(schedule["Target"]["Input"]))

    assert result is None
    [(link, delay)] = stack.delayed()
    assert link["task_id"] == task["id"]
    assert link["occurrence"] == "2026-01-01T12:30:00Z"
    assert delay == 119  # floor(119.6): the executor waits out the rest


def test_a_due_record_publishes_exactly_one_event_to_subscribers(stack: Stack) -> None:
    task = create(
        {
            "at": "2026-01-01T12:00:05Z",
            "name": "remind",
            "message": {"to": "luke"},
            "metadata": {"plan": "pro"},
        },
        user="alice",
    )
    record = last_delayed_record(stack)
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, 250_000, tzinfo=UTC))

    result = invoke(sqs_event(record))

    assert result == {"batchItemFailures": []}
    [message] = stack.events()
    event = json.loads(message["Body"])
    assert event["type"] == "task.fired"
    assert event["task_id"] == task["id"]
    assert event["name"] == "remind"
    assert event["message"] == {"to": "luke"}
    assert event["metadata"] == {"plan": "pro"}
    assert event["scheduled_for"] == "2026-01-01T12:00:05Z"
    assert event["fired_at"] == "2026-01-01T12:00:05.250Z"
    assert event["lateness_ms"] == 250
    assert event["dedup_key"] == f"{task['id']}#2026-01-01T12:00:05Z"
    attributes = {name: value["StringValue"] for name, value in message["MessageAttributes"].items()}
    assert attributes == {
        "type": "task.fired",
        "task_id": task["id"],
        "tenant": TENANT_A,
        "user": "alice",
        "name": "remind",
        "metadata.plan": "pro",
        "run_kind": "scheduled",
    }
    run = call_api("GET", f"/runs/{event['tracking_id']}", user="alice").json
    assert run["status"] == "completed"
    assert run["lateness_ms"] == 250
    assert call_api("GET", f"/tasks/{task['id']}", user="alice").json["status"] == "completed"
    assert stack.metrics.counts["fired"] == 1
    assert stack.metrics.latenesses == [250]


def test_the_same_record_delivered_twice_publishes_once(stack: Stack) -> None:
    create({"at": "2026-01-01T12:00:05Z"})
    record = last_delayed_record(stack)
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC))

    first = invoke(sqs_event(record))
    second = invoke(sqs_event(sqs_record(record["body"], receive_count=2)))
    in_one_batch = invoke(sqs_event(sqs_record(record["body"]), sqs_record(record["body"])))

    assert first == second == in_one_batch == {"batchItemFailures": []}
    assert len(stack.events()) == 1


def test_a_failing_publish_reports_only_that_record(stack: Stack) -> None:
    stale = create({"at": "2026-01-01T12:00:04Z"})
    stale_record = last_delayed_record(stack, message_id="stale")
    call_api("DELETE", f"/tasks/{stale['id']}")
    task = create({"at": "2026-01-01T12:00:05Z"})
    record = last_delayed_record(stack, message_id="will-fail")
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC))
    stack.sns.delete_topic(TopicArn=stack.env.TOPIC_ARN)  # SNS answers NotFound from now on

    result = invoke(sqs_event(stale_record, record))

    assert result == {"batchItemFailures": [{"itemIdentifier": "will-fail"}]}
    assert stack.events() == []
    [run] = call_api("GET", f"/tasks/{task['id']}/runs").json["runs"]
    assert run["status"] == "running"  # SQS redelivers it; it fails only after the last attempt
    assert "publish failed" in run["error"]


def test_a_redelivery_after_a_failed_publish_publishes_once(stack: Stack) -> None:
    task = create({"at": "2026-01-01T12:00:05Z"})
    record = last_delayed_record(stack, message_id="m-1")
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC))
    stack.sns.delete_topic(TopicArn=stack.env.TOPIC_ARN)
    assert invoke(sqs_event(record)) == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    topic_arn = stack.sns.create_topic(Name="punctual-events")["TopicArn"]
    assert topic_arn == stack.env.TOPIC_ARN
    queue_arn = stack.sqs.get_queue_attributes(QueueUrl=stack.events_queue_url, AttributeNames=["QueueArn"])
    stack.sns.subscribe(
        TopicArn=topic_arn,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )
    stack.clock.advance(seconds=30)  # the visibility timeout

    assert invoke(sqs_event(sqs_record(record["body"], receive_count=2))) == {"batchItemFailures": []}
    assert invoke(sqs_event(sqs_record(record["body"], receive_count=3))) == {"batchItemFailures": []}

    [message] = stack.events()
    assert json.loads(message["Body"])["attempt"] == 2
    [run] = call_api("GET", f"/tasks/{task['id']}/runs").json["runs"]
    assert (run["status"], run["attempt"], run["error"]) == ("completed", 2, None)


def test_records_that_are_not_links_are_dropped_and_the_rest_fire(stack: Stack) -> None:
    create({"at": "2026-01-01T12:00:05Z"})
    good = last_delayed_record(stack, message_id="good")
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC))

    result = invoke(
        sqs_event(
            sqs_record("not json", message_id="garbage"),
            sqs_record(json.dumps({"source": "punctual.link", "task_id": "x"}), message_id="partial"),
            good,
        )
    )

    assert result == {"batchItemFailures": []}
    assert len(stack.events()) == 1


def test_a_batch_fires_in_occurrence_order(stack: Stack) -> None:
    later = create({"at": "2026-01-01T12:00:09Z", "name": "later"})
    later_record = last_delayed_record(stack)
    earlier = create({"at": "2026-01-01T12:00:07Z", "name": "earlier"})
    earlier_record = last_delayed_record(stack)
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC))

    invoke(sqs_event(later_record, earlier_record))

    published = [json.loads(message["Body"])["task_id"] for message in stack.events()]
    assert published == [earlier["id"], later["id"]]


def test_a_recurring_task_arms_its_next_occurrence_when_it_fires(stack: Stack) -> None:
    task = create({"every": "1 hour", "start_at": "2026-01-01T12:00:05Z"})
    record = last_delayed_record(stack)
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC))

    invoke(sqs_event(record))

    assert len(stack.events()) == 1
    [schedule] = stack.schedules()
    assert schedule["ScheduleExpression"] == "at(2026-01-01T12:58:05)"
    link = json.loads(schedule["Target"]["Input"])
    assert link["task_id"] == task["id"]
    assert link["occurrence"] == "2026-01-01T13:00:05Z"


def test_a_record_for_a_cancelled_task_publishes_nothing(stack: Stack) -> None:
    task = create({"at": "2026-01-01T12:00:05Z"})
    record = last_delayed_record(stack)
    assert call_api("DELETE", f"/tasks/{task['id']}").status == 200
    stack.clock.set(datetime(2026, 1, 1, 12, 0, 5, tzinfo=UTC))

    assert invoke(sqs_event(record)) == {"batchItemFailures": []}
    assert stack.events() == []


def test_run_now_fires_through_the_executor(stack: Stack) -> None:
    task = create({"every": "1 day", "message": "now please"})
    run = call_api("POST", f"/tasks/{task['id']}/runs").json
    record = last_delayed_record(stack)
    stack.clock.advance(seconds=1)

    invoke(sqs_event(record))

    [message] = stack.events()
    assert json.loads(message["Body"])["tracking_id"] == run["tracking_id"]
    status = call_api("GET", f"/runs/{run['tracking_id']}").json
    assert status["status"] == "completed"
    assert status["started_at"] == status["completed_at"] == "2026-01-01T12:00:01Z"


def test_an_invalid_wake_up_is_dropped(stack: Stack) -> None:
    assert invoke({"source": "punctual.link", "task_id": "x"}) is None
    assert invoke({"something": "else"}) is None
    assert stack.delayed() == []


def test_unqualified_arn() -> None:
    assert executor.unqualified_arn(EXECUTOR_ARN + ":live") == EXECUTOR_ARN
    assert executor.unqualified_arn(EXECUTOR_ARN) == EXECUTOR_ARN


def test_without_executor_arn_the_executor_targets_its_own_unqualified_arn(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The container the executor builds from the environment arms EBS wake-ups at itself."""
    environment = stack.env.model_dump(exclude_none=True) | {"TOPIC_FIFO": "false"}
    environment.pop("EXECUTOR_ARN")
    for name, value in environment.items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.delenv("EXECUTOR_ARN", raising=False)
    real_build = bootstrap.build_app

    def build_with_test_clock(env: HandlerEnv, **kwargs: Any) -> bootstrap.Punctual:
        assert env.EXECUTOR_ARN is None
        clients = bootstrap.AwsClients(
            dynamodb=stack.dynamodb, sns=stack.sns, sqs=stack.sqs, scheduler=stack.scheduler
        )
        return real_build(env, clock=stack.clock, clients=clients, **kwargs)

    monkeypatch.setattr(bootstrap, "build_app", build_with_test_clock)
    bootstrap.use_app(None)
    stack.clock.set(datetime(2026, 1, 1, 12, 40, tzinfo=UTC))
    link = Link("a" * 32, 1, datetime(2026, 1, 1, 13, 0, tzinfo=UTC))  # still 20 minutes away

    invoke(ebs_event(link), FakeLambdaContext(invoked_function_arn=EXECUTOR_ARN + ":live"))

    [schedule] = stack.schedules()
    assert schedule["Target"]["Arn"] == EXECUTOR_ARN
    assert json.loads(schedule["Target"]["Input"]) == json.loads(link_to_json(link))


def test_build_app_needs_an_executor_arn_somewhere(stack: Stack) -> None:
    env = stack.env.model_copy(update={"EXECUTOR_ARN": None})

    with pytest.raises(ValueError, match="EXECUTOR_ARN"):
        bootstrap.build_app(
            env, clients=bootstrap.AwsClients(dynamodb=boto3.client("dynamodb", region_name=REGION))
        )
