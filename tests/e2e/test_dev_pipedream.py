"""The Pipedream flow against ``punctual dev``, over HTTP only: schedule a message a few seconds ahead, get it
on the SSE stream and on the events queue, on time and intact; a cancelled task never arrives."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from punctual.domain.timefmt import format_instant, parse_instant

from tests.e2e.harness import DevProcess, receive_from_queue, unique_key

pytestmark = pytest.mark.e2e

MESSAGE = {"text": 'héllo ✓ "quoted"\nnew line', "n": 42, "nested": {"list": [1, None, True, 2.5]}}


def test_a_scheduled_message_fires_on_time_and_a_cancelled_one_never_fires(dev: DevProcess) -> None:
    key = unique_key("pipedream")
    sqs = dev.sqs()
    events_queue = dev.events_queue_url()
    with dev.sse() as stream:
        at = format_instant(datetime.now(UTC) + timedelta(seconds=2.5))
        scheduled = dev.request("POST", "/schedule", key=key, json={"timestamp": at, "message": MESSAGE})
        assert scheduled.status_code == 200, scheduled.text
        kept = scheduled.json()["id"]
        assert scheduled.json()["message"] == f"Scheduled task at {at}"

        doomed = dev.request("POST", "/schedule", key=key, json={"timestamp": at, "message": "never"})
        assert doomed.status_code == 200, doomed.text
        dropped = doomed.json()["id"]
        cancelled = dev.request("POST", "/cancel", key=key, json={"id": dropped})
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json() == {"id": dropped, "status": "cancelled"}

        raw, event = stream.wait_for(lambda e: e["task_id"] == kept, timeout=15)
        arrived = datetime.now(UTC)

        assert event["type"] == "task.fired"
        assert event["message"] == MESSAGE
        assert parse_instant(event["scheduled_for"], "scheduled_for") == parse_instant(at, "at")
        assert arrived >= parse_instant(at, "at")  # never early
        assert 0 <= event["lateness_ms"] < 1000  # fires within a second
        assert parse_instant(event["fired_at"], "fired_at") >= parse_instant(at, "at")

        # The events queue (raw SNS delivery) got exactly the body the SSE stream showed.
        body, _ = receive_from_queue(sqs, events_queue, lambda e: e["task_id"] == kept, timeout=10)
        assert body == raw
        assert json.loads(body)["message"] == MESSAGE

        # Well past the instant both were due: the cancelled one never came.
        later = stream.drain(1.5)
        assert dropped not in [e["task_id"] for e in later]
    with pytest.raises(TimeoutError):
        receive_from_queue(sqs, events_queue, lambda e: e["task_id"] == dropped, timeout=1)
    # One readable terminal line per fired event.
    lines = [line for line in dev.output().splitlines() if f"task={kept}" in line]
    assert len(lines) == 1
    assert "fired" in lines[0]
    assert f"scheduled_for={event['scheduled_for']}" in lines[0]
    assert f"lateness={event['lateness_ms']} ms" in lines[0]
    assert not [line for line in dev.output().splitlines() if f"task={dropped}" in line]
    task = dev.request("GET", f"/tasks/{dropped}", key=key).json()
    assert task["status"] == "cancelled"
    assert dev.request("GET", f"/tasks/{kept}", key=key).json()["status"] == "completed"


def test_cancelling_after_the_fire_is_a_conflict_and_a_past_timestamp_fires_at_once(dev: DevProcess) -> None:
    key = unique_key("late")
    with dev.sse() as stream:
        past = format_instant(datetime.now(UTC) - timedelta(seconds=5))
        scheduled = dev.request("POST", "/schedule", key=key, json={"timestamp": past, "message": "late"})
        assert scheduled.status_code == 200, scheduled.text
        task_id = scheduled.json()["id"]
        _, event = stream.wait_for(lambda e: e["task_id"] == task_id, timeout=10)
        assert event["message"] == "late"
    again = dev.request("POST", "/cancel", key=key, json={"id": task_id})
    assert again.status_code == 409, again.text
