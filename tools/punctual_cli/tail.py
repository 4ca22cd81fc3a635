"""``punctual events tail``: fired events from punctual dev's ``GET /events`` stream (Server-Sent Events), or
from an SQS queue subscribed to the topic (the stack's ``EventsQueueUrl``), long-polled with boto3."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
from punctual_client import FiredEvent, PunctualError, events

OnEvent = Callable[[FiredEvent], bool]  # True: it counted (it matched the filters)


def sse_payloads(lines: Iterator[str], on_subscribed: Callable[[], None]) -> Iterator[str]:
    """The ``data`` of each SSE message (multi-line data joined with newlines); ``on_subscribed`` runs at the
    first comment, which punctual dev sends as soon as the stream is subscribed."""
    subscribed = False
    data: list[str] = []
    for line in lines:
        if line.startswith(":"):
            if not subscribed:
                subscribed = True
                on_subscribed()
            continue
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        field, _, value = line.partition(":")
        if field == "data":
            data.append(value.removeprefix(" "))
    if data:
        yield "\n".join(data)


def tail_sse(
    url: str,
    headers: dict[str, str],
    transport: httpx.BaseTransport | None,
    count: int | None,
    on_subscribed: Callable[[], None],
    on_event: OnEvent,
    on_bad: Callable[[str], None],
) -> None:
    seen = 0
    timeout = httpx.Timeout(10.0, read=None)  # the stream is idle between events (keep-alives every 15 s)
    with (
        httpx.Client(transport=transport, timeout=timeout) as http,
        http.stream(
            "GET", url.rstrip("/") + "/events", headers={**headers, "accept": "text/event-stream"}
        ) as answer,
    ):
        if answer.status_code != 200:
            answer.read()
            hint = " (GET /events is served by punctual dev only; on AWS pass --queue-url)"
            raise PunctualError(
                answer.status_code,
                f"http_{answer.status_code}",
                f"GET {url}/events answered {answer.status_code}"
                + (hint if answer.status_code == 404 else ""),
            )
        for payload in sse_payloads(answer.iter_lines(), on_subscribed):
            try:
                fired = events.parse(payload)
            except ValueError as error:
                on_bad(str(error))
                continue
            for event in fired:
                if on_event(event):
                    seen += 1
                    if count is not None and seen >= count:
                        return


def sqs_client(queue_url: str, endpoint_url: str | None) -> Any:
    """A boto3 SQS client for the queue: its region from the URL (sqs.<region>.amazonaws.com); a queue not
    on amazonaws.com (punctual dev's emulator) is its own endpoint, with the emulator's credentials unless
    some are set."""
    import boto3

    parts = urlsplit(queue_url)
    host = parts.hostname or ""
    kwargs: dict[str, Any] = {}
    if host.endswith("amazonaws.com"):
        labels = host.split(".")
        if len(labels) >= 4 and labels[0] == "sqs":
            kwargs["region_name"] = labels[1]
    else:
        endpoint_url = endpoint_url or f"{parts.scheme}://{parts.netloc}"
        if not os.environ.get("AWS_ACCESS_KEY_ID"):
            kwargs["aws_access_key_id"] = "testing"
            kwargs["aws_secret_access_key"] = "testing"
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    if "region_name" not in kwargs and not (
        os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    ):
        kwargs["region_name"] = "us-east-1"
    return boto3.client("sqs", **kwargs)


def tail_sqs(
    sqs: Any,
    queue_url: str,
    count: int | None,
    on_subscribed: Callable[[], None],
    on_event: OnEvent,
    on_bad: Callable[[str], None],
    wait_seconds: int = 20,
) -> None:
    """Long-polls the queue; each message is deleted once its events are printed. A message that is not a
    fired event is reported and left on the queue."""
    seen = 0
    on_subscribed()
    while count is None or seen < count:
        batch = 10 if count is None else max(1, min(10, count - seen))
        answer = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=batch, WaitTimeSeconds=wait_seconds
        )
        for message in answer.get("Messages", []):
            if count is not None and seen >= count:
                break  # left on the queue: it comes back after its visibility timeout
            try:
                fired = events.parse(message)
            except ValueError as error:
                on_bad(f"message {message.get('MessageId', '?')}: {error}")
                continue
            for event in fired:
                if on_event(event):
                    seen += 1
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
