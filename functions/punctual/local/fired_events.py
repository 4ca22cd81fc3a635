"""Fired events as the developer sees them: one terminal line each, and the ``GET /events`` SSE stream.

The dev process reads them from its own queue subscribed to the topic with raw delivery, so what it
prints and streams is exactly the SNS message body subscribers get.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

Printer = Callable[[str], None]


def describe(body: str, now: datetime | None = None) -> str:
    """One readable line: task id, name, scheduled_for, lateness."""
    prefix = f"{now:%H:%M:%S.%f}"[:-3] + "  " if now else ""
    try:
        event = json.loads(body)
    except ValueError:
        return f"{prefix}fired  (not JSON) {body[:200]}"
    if not isinstance(event, dict):
        return f"{prefix}fired  {body[:200]}"
    name = event.get("name")
    if event.get("type") in ("task.completed", "task.failed"):
        outcome = "completed" if event["type"] == "task.completed" else "FAILED"
        detail = (
            f"error={event.get('error')}" if event.get("error") else f"status={event.get('response_status')}"
        )
        return (
            f"{prefix}{outcome}  task={event.get('task_id')}  run={event.get('tracking_id')}  "
            f"attempt={event.get('attempt')}  {event.get('duration_ms')} ms  {detail}"
        )
    parts = [
        f"{prefix}fired  task={event.get('task_id')}",
        f"name={json.dumps(name) if name is not None else '-'}",
        f"scheduled_for={event.get('scheduled_for')}",
        f"lateness={event.get('lateness_ms')} ms",
    ]
    if event.get("run_kind") == "manual":
        parts.append("(run now)")
    if (event.get("attempt") or 1) > 1:
        parts.append(f"attempt={event.get('attempt')}")
    if event.get("missed_occurrences"):
        parts.append(f"missed={event.get('missed_occurrences')}")
    return "  ".join(parts)


def sse_message(body: str) -> str:
    """``data: <body>`` lines ending with a blank line (a multi-line body keeps one event)."""
    return "".join(f"data: {line}\n" for line in body.split("\n")) + "\n"


@dataclass(eq=False)
class _Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[str | None]


class EventHub:
    """Fans fired-event bodies out to every open SSE stream. Publishing is thread-safe; streams are async."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: set[_Subscriber] = set()
        self._closed = False

    def publish(self, body: str) -> None:
        self._send(body)

    def close(self) -> None:
        """End every stream (shutdown)."""
        with self._lock:
            self._closed = True
        self._send(None)

    def _send(self, item: str | None) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for subscriber in subscribers:
            with contextlib.suppress(RuntimeError):  # that stream's event loop is gone
                subscriber.loop.call_soon_threadsafe(subscriber.queue.put_nowait, item)

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscribers)

    async def stream(self, keepalive_seconds: float = 15.0) -> AsyncIterator[str]:
        """SSE text: a comment when subscribed (so a client knows it will see later events), one message
        per fired event, a keep-alive comment when idle."""
        subscriber = _Subscriber(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            if self._closed:
                return
            self._subscribers.add(subscriber)
        try:
            yield ": subscribed to fired events\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(subscriber.queue.get(), timeout=keepalive_seconds)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is None:
                    return
                yield sse_message(item)
        finally:
            with self._lock:
                self._subscribers.discard(subscriber)


class FiredEventSink:
    """The tap queue's consumer: prints each event and hands it to the hub. Shaped like a Lambda handler
    so the queue poller can drive it."""

    def __init__(self, hub: EventHub, printer: Printer, now: Callable[[], datetime]) -> None:
        self._hub, self._print, self._now = hub, printer, now

    def __call__(self, event: dict[str, Any]) -> None:
        for record in event.get("Records", []):
            body = record["body"]
            self._print(describe(body, self._now()))
            self._hub.publish(body)
