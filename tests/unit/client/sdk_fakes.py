"""A scripted API for the SDK's unit tests: an httpx.MockTransport that answers from a list and records
every request, and sample bodies shaped as the API's presenters make them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

URL = "http://punctual.test"

TASK: dict[str, Any] = {
    "id": "t-1",
    "name": "billOnDemand",
    "status": "scheduled",
    "at": "2026-12-01T09:00:00Z",
    "timezone": "UTC",
    "start_at": None,
    "end_at": None,
    "next_run_at": "2026-12-01T09:00:00Z",
    "version": 1,
    "message": {"invoice": 42},
    "metadata": {"customer": "c-17"},
    "misfire": "fire_once",
    "created_at": "2026-11-30T10:00:00.123Z",
    "updated_at": "2026-11-30T10:00:00.123Z",
    "last_run_at": None,
}

RUN: dict[str, Any] = {
    "tracking_id": "r-1",
    "task_id": "t-1",
    "task_name": "billOnDemand",
    "kind": "manual",
    "status": "pending",
    "scheduled_for": "2026-11-30T10:00:00Z",
    "triggered_at": "2026-11-30T10:00:00Z",
    "started_at": None,
    "completed_at": None,
    "fired_at": None,
    "lateness_ms": None,
    "attempt": 0,
    "error": None,
    "missed_occurrences": 0,
}


def task(**changes: Any) -> dict[str, Any]:
    return {**TASK, **changes}


def run(**changes: Any) -> dict[str, Any]:
    return {**RUN, **changes}


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def error(status: int, code: str = "some_error", message: str = "no", **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": message, "details": [{"field": "at", "message": "bad"}]}}
    return httpx.Response(status, json=body, headers=headers)


Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Api:
    """Answers each request with the next scripted answer (a response, an exception to raise, or a
    function of the request); ``requests`` keeps what was sent."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []

    def script(self, *answers: Answer) -> Api:
        self.answers.extend(answers)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return answer(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def body(self, index: int = -1) -> Any:
        return json.loads(self.requests[index].content)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    async def async_sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
