"""The fire path end to end on moto: the api, executor and sweeper handlers over the real DynamoDB store
(conditional transactions, the sparse due index), SQS delay queue, EBS schedules and SNS -> SQS delivery.
The clock is injected; SQS delays are read from the requests rather than waited for."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from punctual.handlers import executor, sweeper

from tests.integration.api.harness import FakeLambdaContext, Stack, call_api, sqs_event, sqs_record

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)  # the harness's FakeClock starts here


def deliver_delayed(stack: Stack, *, receive_count: int = 1) -> dict[str, Any]:
    """Deliver every link sent to the delay queue so far, as one SQS batch at the current clock."""
    links = [link for link, _ in stack.delayed()]
    stack.sent_messages.clear()
    records = [sqs_record(json.dumps(link), receive_count=receive_count) for link in links]
    return dict(executor.handler(sqs_event(*records), FakeLambdaContext()))


def sweep() -> dict[str, Any]:
    return dict(sweeper.handler({}, FakeLambdaContext(function_name="punctual-test-sweeper")))


def fired(stack: Stack) -> list[dict[str, Any]]:
    return [json.loads(message["Body"]) for message in stack.events()]


def test_a_recurring_chain_fires_each_occurrence_once_on_the_second(stack: Stack) -> None:
    task = call_api("POST", "/tasks", body={"every": "1 minute", "message": "tick"}).json
    for minute in (1, 2, 3):
        [(_link, delay)] = stack.delayed()
        assert delay == 60 if minute == 1 else 59  # floor(T - now): the executor fires ~0.5 s early below
        stack.clock.set(T0 + timedelta(minutes=minute, milliseconds=-500))
        assert deliver_delayed(stack) == {"batchItemFailures": []}
        stack.clock.advance(milliseconds=500)
    events = fired(stack)
    assert [e["scheduled_for"] for e in events] == [
        "2026-01-01T12:01:00Z",
        "2026-01-01T12:02:00Z",
        "2026-01-01T12:03:00Z",
    ]
    assert all(e["lateness_ms"] == 0 and e["task_id"] == task["id"] for e in events)
    runs = call_api("GET", f"/tasks/{task['id']}/runs").json["runs"]
    assert [r["status"] for r in runs] == ["completed"] * 3


def test_after_a_two_hour_outage_fire_once_publishes_one_late_event(stack: Stack) -> None:
    task = call_api("POST", "/tasks", body={"every": "5 minutes", "message": "m"}).json
    stack.clock.set(T0 + timedelta(minutes=5))
    deliver_delayed(stack)
    stack.sent_messages.clear()  # the outage: the next link is lost
    stack.clock.set(T0 + timedelta(hours=2, minutes=5, seconds=100))

    assert sweep()["rearmed"] == 1
    deliver_delayed(stack)

    events = fired(stack)
    assert len(events) == 2  # one before the outage, exactly one after it: never 24
    assert events[1]["scheduled_for"] == "2026-01-01T14:05:00Z"
    assert events[1]["missed_occurrences"] == 23 and events[1]["lateness_ms"] == 100_000
    [(following, delay)] = stack.delayed()
    assert following["occurrence"].startswith("2026-01-01T14:10:00") and delay == 200
    assert call_api("GET", f"/tasks/{task['id']}").json["next_run_at"] == "2026-01-01T14:10:00Z"


def test_after_a_two_hour_outage_skip_records_one_skipped_run(stack: Stack) -> None:
    task = call_api("POST", "/tasks", body={"every": "5 minutes", "misfire": "skip"}).json
    stack.clock.set(T0 + timedelta(minutes=5))
    deliver_delayed(stack)
    stack.sent_messages.clear()
    stack.clock.set(T0 + timedelta(hours=2, minutes=5, seconds=100))

    assert sweep()["skipped"] == 1

    assert len(fired(stack)) == 1
    runs = call_api("GET", f"/tasks/{task['id']}/runs").json["runs"]
    assert [r["status"] for r in runs] == ["skipped", "completed"]
    [(following, _)] = stack.delayed()
    assert following["occurrence"].startswith("2026-01-01T14:10:00")


def test_a_cancel_after_the_claim_is_409_and_before_it_prevents_the_publish(stack: Stack) -> None:
    claimed = call_api("POST", "/tasks", body={"at": "2026-01-01T12:00:10Z"}).json
    cancelled = call_api("POST", "/tasks", body={"at": "2026-01-01T12:00:10Z"}).json
    assert call_api("DELETE", f"/tasks/{cancelled['id']}").status == 200
    topic = stack.env.TOPIC_ARN
    stack.sns.delete_topic(TopicArn=topic)  # SNS fails: the claimed occurrence stays in flight
    stack.clock.set(T0 + timedelta(seconds=10))

    result = deliver_delayed(stack)

    assert len(result["batchItemFailures"]) == 1  # the claimed one, to be retried
    assert call_api("DELETE", f"/tasks/{claimed['id']}").status == 409
    assert call_api("PATCH", f"/tasks/{claimed['id']}", body={"at": "2026-01-02T00:00:00Z"}).status == 409
    assert stack.events() == []


def test_the_sweeper_finds_a_lost_one_time_link_on_the_due_index(stack: Stack) -> None:
    far = call_api("POST", "/tasks", body={"at": "2026-01-01T13:00:00Z", "message": {"k": 1}}).json
    [schedule] = stack.schedules()  # an hour ahead: armed on EBS at T - 2 min
    assert schedule["ScheduleExpression"] == "at(2026-01-01T12:58:00)"
    stack.scheduler.delete_schedule(Name=schedule["Name"], GroupName=stack.env.SCHEDULE_GROUP)
    stack.clock.set(datetime(2026, 1, 1, 13, 5, tzinfo=UTC))  # past the sweep grace (240 s)

    assert sweep()["rearmed"] == 1
    deliver_delayed(stack)

    [event] = fired(stack)
    assert event["task_id"] == far["id"] and event["message"] == {"k": 1} and event["lateness_ms"] == 300_000
    assert call_api("GET", f"/tasks/{far['id']}").json["status"] == "completed"
    assert sweep()["examined"] == 0


def test_a_message_at_the_size_limit_in_non_ascii_text_is_published(stack: Stack) -> None:
    message = "界" * 66_000  # 198,000 bytes of UTF-8: accepted, and must fit SNS's 256 KiB once published
    raw = json.dumps(
        {"at": "2026-01-01T12:00:05Z", "message": message}, ensure_ascii=False
    )  # as clients send
    task = call_api("POST", "/tasks", raw_body=raw)
    assert task.status == 201
    stack.clock.set(T0 + timedelta(seconds=5))

    assert deliver_delayed(stack) == {"batchItemFailures": []}

    [event] = fired(stack)
    assert event["message"] == message
