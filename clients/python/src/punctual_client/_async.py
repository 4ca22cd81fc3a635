"""``AsyncPunctual``: the asyncio client over ``httpx.AsyncClient``; the same calls as ``Punctual``
(built and parsed by _core), awaited."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
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


class AsyncPaginator(Generic[T]):
    """``async for`` over every item across pages; ``pages()`` yields the pages."""

    def __init__(
        self,
        send: Callable[[_core.Call[_core.Page[T]]], Awaitable[_core.Page[T]]],
        page: Callable[[str | None], _core.Call[_core.Page[T]]],
    ) -> None:
        self._send = send
        self._page = page

    async def pages(self) -> AsyncIterator[_core.Page[T]]:
        cursor: str | None = None
        while True:
            page = await self._send(self._page(cursor))
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    async def _items(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items()

    async def collect(self) -> list[T]:
        return [item async for item in self]


class AsyncTasks:
    def __init__(self, client: AsyncPunctual) -> None:
        self._client = client

    async def create(
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
        return await self._client.send(
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

    async def get(self, task_id: str) -> Task:
        return await self._client.send(_core.get_task(task_id))

    def list(
        self,
        *,
        status: str | Sequence[str] | None = None,
        name: str | None = None,
        metadata: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> AsyncPaginator[Task]:
        return AsyncPaginator(
            self._client.send,
            lambda cursor: _core.list_tasks(
                status=status, name=name, metadata=metadata, limit=page_size, cursor=cursor
            ),
        )

    async def update(self, task_id: str, **fields: Any) -> Task:
        return await self._client.send(_core.update_task(task_id, fields))

    async def reschedule(self, task_id: str, at: _core.Instant) -> Task:
        return await self.update(task_id, at=at)

    async def pause(self, task_id: str) -> Task:
        return await self.update(task_id, paused=True)

    async def resume(self, task_id: str) -> Task:
        return await self.update(task_id, paused=False)

    async def cancel(self, task_id: str) -> Task:
        return await self._client.send(_core.cancel_task(task_id))

    async def bulk_delete(
        self, ids: Sequence[str] | None = None, *, filter: Mapping[str, Any] | None = None
    ) -> ItemResults:
        return await self._client.send(_core.bulk_delete(ids, filter))

    async def delete_all(self) -> ItemResults:
        results: ItemResults = []
        while True:
            batch = await self.bulk_delete(filter={})
            results.extend(batch)
            if not _core.more_to_delete(batch):
                return results

    async def bulk_create(self, tasks: Sequence[Mapping[str, Any]]) -> CreatedItems:
        """Up to 100 tasks in one request, each given as ``create``'s keyword arguments; one result per task,
        in order (an invalid task fails alone: see ``CreatedItem.error``)."""
        return await self._client.send(_core.bulk_create(tasks))

    async def bulk_reschedule(self, updates: Sequence[tuple[str, _core.Instant]]) -> ItemResults:
        return await self._client.send(_core.bulk_reschedule(updates))

    async def run_now(self, task_id: str) -> Run:
        return await self._client.send(_core.run_now(task_id))

    def runs(self, task_id: str, *, page_size: int | None = None) -> AsyncPaginator[Run]:
        return AsyncPaginator(
            self._client.send, lambda cursor: _core.list_runs(task_id, limit=page_size, cursor=cursor)
        )


class AsyncRuns:
    def __init__(self, client: AsyncPunctual) -> None:
        self._client = client

    async def get(self, tracking_id: str) -> Run:
        return await self._client.send(_core.get_run(tracking_id))

    async def wait(self, tracking_id: str, *, timeout: float = 30.0, interval: float = 0.25) -> Run:
        clock = self._client.config.clock
        deadline = clock() + timeout
        while True:
            run = await self.get(tracking_id)
            if run.done:
                return run
            remaining = deadline - clock()
            if remaining <= 0:
                raise TimeoutError(f"run {tracking_id} is still {run.status} after {timeout} s")
            await self._client.sleep(min(interval, remaining))


class AsyncPunctual:
    """The asyncio client; arguments as ``Punctual``'s, with an async ``sleep`` (default asyncio.sleep)."""

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
        sleep: Callable[[float], Awaitable[None]] | None = None,
        rand: Callable[[], float] | None = None,
        clock: Callable[[], float] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = _core.Config.resolve(
            url, api_key, user, secret, timeout, max_retries, backoff, max_backoff, rand, clock
        )
        self.sleep: Callable[[float], Awaitable[None]] = sleep or asyncio.sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(transport=transport, timeout=timeout)
        self.tasks = AsyncTasks(self)
        self.runs = AsyncRuns(self)

    def as_user(self, user: str | None) -> AsyncPunctual:
        narrowed = object.__new__(AsyncPunctual)
        narrowed.config = dataclasses.replace(self.config, user=user or None)
        narrowed.sleep = self.sleep
        narrowed._owns_http = False
        narrowed._http = self._http
        narrowed.tasks = AsyncTasks(narrowed)
        narrowed.runs = AsyncRuns(narrowed)
        return narrowed

    def task(self, name: str | None = None) -> TaskBuilder[Coroutine[Any, Any, Task]]:
        return TaskBuilder(self.send, name)

    async def schedule(self, timestamp: _core.Instant, message: Any = None) -> Task:
        return await self.send(_core.pipedream_schedule(timestamp, message))

    async def cancel(self, task_id: str) -> Cancelled:
        return await self.send(_core.pipedream_cancel(task_id))

    async def health(self) -> dict[str, Any]:
        return await self.send(_core.health())

    async def send(self, call: _core.Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.send(call.request(self._http, self.config))
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
            await self.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        await self.aclose()
