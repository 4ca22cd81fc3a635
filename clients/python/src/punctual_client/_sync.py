"""``Punctual``: the blocking client over ``httpx.Client``."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, Generic, Self, TypeVar

import httpx

from punctual_client import _core
from punctual_client._builder import TaskBuilder
from punctual_client.errors import PunctualError
from punctual_client.models import Cancelled, CreatedItem, ItemResult, Run, Task

T = TypeVar("T")
ItemResults = list[ItemResult]  # named here: the classes below have a method called list
CreatedItems = list[CreatedItem]


class Paginator(Generic[T]):
    """Iterates every item across pages (following ``next_cursor``); ``pages()`` yields the pages."""

    def __init__(
        self,
        send: Callable[[_core.Call[_core.Page[T]]], _core.Page[T]],
        page: Callable[[str | None], _core.Call[_core.Page[T]]],
    ) -> None:
        self._send = send
        self._page = page

    def pages(self) -> Iterator[_core.Page[T]]:
        cursor: str | None = None
        while True:
            page = self._send(self._page(cursor))
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class Tasks:
    def __init__(self, client: Punctual) -> None:
        self._client = client

    def create(
        self,
        *,
        at: _core.Instant | None = None,
        in_: timedelta | None = None,
        every: _core.Every | None = None,
        cron: str | None = None,
        timezone: str | None = None,
        start_at: _core.Instant | None = None,
        end_at: _core.Instant | None = None,
        name: str | None = None,
        message: Any = None,
        metadata: Mapping[str, str] | None = None,
        misfire: str | None = None,
        idempotency_key: str | None = None,
    ) -> Task:
        return self._client.send(
            _core.create_task(
                at=at,
                in_=in_,
                every=every,
                cron=cron,
                timezone=timezone,
                start_at=start_at,
                end_at=end_at,
                name=name,
                message=message,
                metadata=metadata,
                misfire=misfire,
                idempotency_key=idempotency_key,
            )
        )

    def get(self, task_id: str) -> Task:
        return self._client.send(_core.get_task(task_id))

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> Paginator[Task]:
        return Paginator(
            self._client.send,
            lambda cursor: _core.list_tasks(
                status=status, name=name, metadata=metadata, limit=page_size, cursor=cursor
            ),
        )

    def update(self, task_id: str, **fields: Any) -> Task:
        return self._client.send(_core.update_task(task_id, fields))

    def reschedule(self, task_id: str, at: _core.Instant) -> Task:
        return self.update(task_id, at=at)

    def pause(self, task_id: str) -> Task:
        return self.update(task_id, paused=True)

    def resume(self, task_id: str) -> Task:
        return self.update(task_id, paused=False)

    def cancel(self, task_id: str) -> Task:
        return self._client.send(_core.cancel_task(task_id))

    def bulk_delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> ItemResults:
        return self._client.send(_core.bulk_delete(ids, filter))

    def delete_all(self) -> ItemResults:
        """Cancels every live task of this context (repeating the filtered delete while it is full)."""
        results: ItemResults = []
        while True:
            batch = self.bulk_delete(filter={})
            results.extend(batch)
            if not _core.more_to_delete(batch):
                return results

    def bulk_create(self, tasks: Sequence[Mapping[str, Any]]) -> CreatedItems:
        """Up to 100 tasks in one request, each given as ``create``'s keyword arguments; one result per task,
        in order (an invalid task fails alone: see ``CreatedItem.error``)."""
        return self._client.send(_core.bulk_create(tasks))

    def bulk_reschedule(self, updates: Sequence[tuple[str, _core.Instant]]) -> ItemResults:
        return self._client.send(_core.bulk_reschedule(updates))

    def run_now(self, task_id: str) -> Run:
        return self._client.send(_core.run_now(task_id))

    def runs(self, task_id: str, *, page_size: int | None = None) -> Paginator[Run]:
        return Paginator(
            self._client.send, lambda cursor: _core.list_runs(task_id, limit=page_size, cursor=cursor)
        )


class Runs:
    def __init__(self, client: Punctual) -> None:
        self._client = client

    def get(self, tracking_id: str) -> Run:
        return self._client.send(_core.get_run(tracking_id))

    def wait(self, tracking_id: str, *, timeout: float = 30.0, interval: float = 0.25) -> Run:
        """Polls until the run is completed, failed or skipped; TimeoutError after ``timeout`` seconds."""
        clock = self._client.config.clock
        deadline = clock() + timeout
        while True:
            run = self.get(tracking_id)
            if run.done:
                return run
            remaining = deadline - clock()
            if remaining <= 0:
                raise TimeoutError(f"run {tracking_id} is still {run.status} after {timeout} s")
            self._client.sleep(min(interval, remaining))


class Punctual:
    """The blocking client. ``url``/``api_key``/``user``/``secret`` default to PUNCTUAL_URL,
    PUNCTUAL_API_KEY, PUNCTUAL_USER, PUNCTUAL_SECRET. ``sleep`` (default ``time.sleep``) is what it waits
    with between retries and polls."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        user: str | None = None,
        secret: str | None = None,
        *,
        timeout: float = _core.DEFAULT_TIMEOUT,
        max_retries: int = _core.DEFAULT_MAX_RETRIES,
        backoff: float = _core.DEFAULT_BACKOFF,
        max_backoff: float = _core.DEFAULT_MAX_BACKOFF,
        sleep: Callable[[float], None] | None = None,
        rand: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.config = _core.Config.resolve(
            url, api_key, user, secret, timeout, max_retries, backoff, max_backoff, rand, clock
        )
        self.sleep: Callable[[float], None] = sleep or time.sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)
        self.tasks = Tasks(self)
        self.runs = Runs(self)

    def as_user(self, user: str | None) -> Punctual:
        """A client narrowed to one user of the tenant (X-Punctual-User), sharing this one's connections."""
        narrowed = object.__new__(Punctual)
        narrowed.config = dataclasses.replace(self.config, user=user or None)
        narrowed.sleep = self.sleep
        narrowed._owns_http = False
        narrowed._http = self._http
        narrowed.tasks = Tasks(narrowed)
        narrowed.runs = Runs(narrowed)
        return narrowed

    def task(self, name: str | None = None) -> TaskBuilder[Task]:
        return TaskBuilder(self.send, name)

    def schedule(self, timestamp: _core.Instant, message: Any = None) -> Task:
        """Pipedream's ``POST /schedule``: a one-time task."""
        return self.send(_core.pipedream_schedule(timestamp, message))

    def cancel(self, task_id: str) -> Cancelled:
        """Pipedream's ``POST /cancel``."""
        return self.send(_core.pipedream_cancel(task_id))

    def health(self) -> dict[str, Any]:
        return self.send(_core.health())

    def send(self, call: _core.Call[T]) -> T:
        """Sends one call, retrying it (when it is safe to) on 429, 503 and connection errors."""
        attempt = 0
        while True:
            try:
                response = self._http.send(call.request(self._http, self.config))
            except httpx.TransportError as failure:
                error: PunctualError = _core.connection_error(failure)
                error.__cause__ = failure
            else:
                try:
                    return _core.parse_response(call, response)
                except PunctualError as failure:
                    error = failure
            delay = _core.retry_delay(self.config, call, attempt, error)
            if delay is None:
                raise error
            self.sleep(delay)
            attempt += 1

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
