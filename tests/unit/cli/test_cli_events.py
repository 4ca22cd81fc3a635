"""``events tail``: the SSE stream of punctual dev and an SQS queue, --count, filters, --json."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from punctual_cli import app as cli_app
from punctual_cli import tail

from tests.unit.cli.conftest import Invoke
from tests.unit.client.sdk_fakes import Api


def fired(task_id: str = "t-1", name: str | None = "billOnDemand", **changes: Any) -> dict[str, Any]:
    return {
        "type": "task.fired",
        "task_id": task_id,
        "tracking_id": f"{task_id}#run",
        "name": name,
        "scheduled_for": "2026-12-01T09:00:00Z",
        "fired_at": "2026-12-01T09:00:00.112Z",
        "lateness_ms": 112,
        "message": {"invoice": 42},
        "metadata": {"customer": "c-17"},
        "attempt": 1,
        "dedup_key": f"{task_id}#2026-12-01T09:00:00Z",
        "run_kind": "scheduled",
        "missed_occurrences": 0,
        **changes,
    }


def sse(*bodies: dict[str, Any]) -> httpx.Response:
    text = ": subscribed to fired events\n\n" + "".join(f"data: {json.dumps(b)}\n\n" for b in bodies)
    text += ": keep-alive\n\ndata: not json\n\n"
    return httpx.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})


def test_sse_payloads_join_multi_line_data_and_announce_the_subscription() -> None:
    announced: list[bool] = []
    lines = [": subscribed", "", "data: a", "data: b", "", "event: x", "data:c", "", "data: tail"]
    assert list(tail.sse_payloads(iter(lines), lambda: announced.append(True))) == ["a\nb", "c", "tail"]
    assert announced == [True]


def test_tail_reads_the_dev_stream_until_count(api: Api, invoke: Invoke) -> None:
    api.script(sse(fired("t-1"), fired("t-2"), fired("t-3")))
    result = invoke("--json", "events", "tail", "--count", "2")
    assert result.exit_code == 0, result.output
    assert api.requests[0].url.path == "/events"
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["task_id"] for e in printed] == ["t-1", "t-2"]
    assert printed[0]["fired_at"] == "2026-12-01T09:00:00.112Z"
    assert "listening for fired events" in result.stderr


def test_tail_filters_by_task_and_name_and_skips_what_is_not_an_event(api: Api, invoke: Invoke) -> None:
    api.script(
        sse(fired("t-1"), fired("t-2", name="other"), fired("t-3")),
        sse(fired("t-1"), fired("t-2", name="other")),
    )
    result = invoke("events", "tail", "--task", "t-3")
    assert result.exit_code == 0, result.output  # the stream ended
    assert "t-3" in result.stdout and "t-1" not in result.stdout
    assert "not a fired event" in result.stderr
    result = invoke("events", "tail", "--name", "other", "--count", "1")
    assert "t-2" in result.stdout and "billOnDemand" not in result.stdout


def test_tail_against_something_without_events_says_so(api: Api, invoke: Invoke) -> None:
    api.script(httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}}))
    result = invoke("events", "tail")
    assert result.exit_code == 1
    assert "--queue-url" in result.stderr


def test_ctrl_c_ends_the_tail_cleanly(api: Api, invoke: Invoke) -> None:
    def interrupted(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    api.script(interrupted)
    result = invoke("events", "tail")
    assert result.exit_code == 0
    assert "stopped" in result.stderr


class FakeSqs:
    def __init__(self, *batches: list[dict[str, Any]]) -> None:
        self.batches = list(batches)
        self.deleted: list[str] = []
        self.asked: list[int] = []

    def receive_message(
        self, QueueUrl: str, MaxNumberOfMessages: int, WaitTimeSeconds: int
    ) -> dict[str, Any]:
        self.asked.append(MaxNumberOfMessages)
        if not self.batches:
            raise KeyboardInterrupt
        return {"Messages": self.batches.pop(0)}

    def delete_message(self, QueueUrl: str, ReceiptHandle: str) -> None:
        self.deleted.append(ReceiptHandle)


def message(handle: str, body: Any) -> dict[str, Any]:
    return {
        "MessageId": handle,
        "ReceiptHandle": handle,
        "Body": body if isinstance(body, str) else json.dumps(body),
    }


def test_tail_a_queue_deletes_what_it_printed(
    api: Api, invoke: Invoke, monkeypatch: pytest.MonkeyPatch
) -> None:
    envelope = {"Type": "Notification", "Message": json.dumps(fired("t-2"))}
    sqs = FakeSqs([], [message("h1", fired("t-1")), message("bad", "nope"), message("h2", envelope)])
    made: list[tuple[str, str | None]] = []

    def factory(queue_url: str, endpoint_url: str | None) -> FakeSqs:
        made.append((queue_url, endpoint_url))
        return sqs

    monkeypatch.setattr(cli_app, "sqs_client", factory)
    url = "https://sqs.eu-west-1.amazonaws.com/123456789012/punctual-dev-events"
    result = invoke("--json", "events", "tail", "--queue-url", url, "--count", "2")
    assert result.exit_code == 0, result.output
    assert made == [(url, None)]
    assert [json.loads(line)["task_id"] for line in result.stdout.splitlines()] == ["t-1", "t-2"]
    assert sqs.deleted == ["h1", "h2"]  # the message that is no event stays on the queue
    assert sqs.asked == [2, 2]
    assert "not a fired event" in result.stderr
    assert api.requests == []


def test_tail_a_queue_until_ctrl_c(api: Api, invoke: Invoke, monkeypatch: pytest.MonkeyPatch) -> None:
    sqs = FakeSqs([message("h1", fired("t-1"))])
    monkeypatch.setattr(cli_app, "sqs_client", lambda queue_url, endpoint_url: sqs)
    result = invoke("events", "tail", "--queue-url", "http://127.0.0.1:4566/123456789012/q")
    assert result.exit_code == 0, result.output
    assert "t-1" in result.stdout and "stopped" in result.stderr
    assert sqs.asked == [10, 10]


def test_sqs_client_region_and_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    local = tail.sqs_client("http://127.0.0.1:4566/123456789012/punctual-local-events", None)
    assert local.meta.endpoint_url == "http://127.0.0.1:4566"
    assert local.meta.region_name == "us-east-1"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "y")
    aws = tail.sqs_client("https://sqs.eu-west-1.amazonaws.com/123456789012/q", None)
    assert aws.meta.region_name == "eu-west-1"
