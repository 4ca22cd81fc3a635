"""AsyncPunctual: the same calls as the sync client (shared core), awaited."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar

import httpx
import pytest
from punctual_client import AsyncPunctual, Conflict, Invalid, NotFound, RateLimited, Task, Unavailable

from tests.unit.client.sdk_fakes import RUN, TASK, URL, Api, error, ok, run, task

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
T = TypeVar("T")


def drive(body: Callable[[AsyncPunctual], Awaitable[T]], api: Api, **options: float) -> T:
    async def main() -> T:
        async with AsyncPunctual(
            URL,
            api_key="k",
            transport=api.transport,
            sleep=api.async_sleep,
            rand=lambda: 1.0,
            **options,  # type: ignore[arg-type]
        ) as punctual:
            return await body(punctual)

    return asyncio.run(main())


def test_create_and_fluent_forms(api: Api) -> None:
    api.script(ok(TASK, 201), ok(task(at=None, every="5 minutes"), 201), ok(task(at=None, cron="c"), 201))

    async def body(punctual: AsyncPunctual) -> list[Task]:
        narrowed = punctual.as_user("abcd1234")
        return [
            await narrowed.tasks.create(at=AT, name="n"),
            await punctual.task("poll").metadata({"a": "b"}).run_every(5, "minutes"),
            await punctual.task().run_every("*/5 * * * *"),
        ]

    created = drive(body, api)
    assert [t.id for t in created] == ["t-1"] * 3
    assert api.requests[0].headers["X-Punctual-User"] == "abcd1234"
    assert api.requests[0].headers["x-api-key"] == "k"
    assert "X-Punctual-User" not in api.requests[1].headers
    assert api.body(0) == {"at": "2026-12-01T09:00:00Z", "name": "n"}
    assert api.body(1) == {"every": "5 minutes", "name": "poll", "metadata": {"a": "b"}}
    assert api.body(2) == {"cron": "*/5 * * * *"}
    assert all("Idempotency-Key" in r.headers for r in api.requests)


def test_pagination(api: Api) -> None:
    api.script(
        ok({"tasks": [task(id="a")], "next_cursor": "c1"}),
        ok({"tasks": [task(id="b")], "next_cursor": None}),
        ok({"runs": [RUN], "next_cursor": None}),
    )

    async def body(punctual: AsyncPunctual) -> tuple[list[str], list[str]]:
        ids = [t.id async for t in punctual.tasks.list(metadata={"customer": "c-17"})]
        runs = [r.tracking_id for r in await punctual.tasks.runs("t-1").collect()]
        return ids, runs

    assert drive(body, api) == (["a", "b"], ["r-1"])
    assert api.requests[1].url.params["cursor"] == "c1"
    assert api.requests[1].url.params["metadata.customer"] == "c-17"


def test_pages(api: Api) -> None:
    api.script(ok({"tasks": [task(id="a")], "next_cursor": "c1"}), ok({"tasks": [], "next_cursor": None}))

    async def body(punctual: AsyncPunctual) -> int:
        return len([page async for page in punctual.tasks.list().pages()])

    assert drive(body, api) == 2


def test_a_retried_create_keeps_its_key_and_uses_the_injected_sleep(api: Api) -> None:
    api.script(error(429, **{"Retry-After": "3"}), httpx.ReadTimeout("dropped"), ok(TASK, 200))

    async def body(punctual: AsyncPunctual) -> Task:
        return await punctual.tasks.create(every="1 hour")

    drive(body, api)
    assert len({r.headers["Idempotency-Key"] for r in api.requests}) == 1
    assert api.sleeps == [3.0, 1.0]


def test_run_now_is_not_retried(api: Api) -> None:
    api.script(error(503), ok(RUN, 202))

    async def body(punctual: AsyncPunctual) -> object:
        return await punctual.tasks.run_now("t-1")

    with pytest.raises(Unavailable):
        drive(body, api)
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("status", "kind"), [(404, NotFound), (409, Conflict), (422, Invalid), (429, RateLimited)]
)
def test_errors(api: Api, status: int, kind: type[Exception]) -> None:
    api.script(error(status))

    async def body(punctual: AsyncPunctual) -> object:
        return await punctual.tasks.get("t-1")

    with pytest.raises(kind):
        drive(body, api, max_retries=0)


def test_runs_wait_and_bulk(api: Api) -> None:
    full = ok(
        {
            "results": [{"id": str(i), "status_code": 200, "task": TASK} for i in range(100)],
            "succeeded": 100,
            "failed": 0,
        }
    )
    api.script(
        ok(RUN),
        ok(run(status="completed")),
        full,
        ok({"results": [], "succeeded": 0, "failed": 0}),
        ok({"results": [{"id": "t-1", "status_code": 200, "task": TASK}], "succeeded": 1, "failed": 0}),
        ok({"id": "t-1", "message": "m", "task": TASK}),
        ok({"id": "t-1", "status": "cancelled"}),
    )

    async def body(punctual: AsyncPunctual) -> tuple[str, int, int, str, str]:
        done = await punctual.runs.wait("r-1", interval=0.2)
        deleted = await punctual.tasks.delete_all()
        moved = await punctual.tasks.bulk_reschedule([("t-1", AT)])
        scheduled = await punctual.schedule("2026-12-01T09:00:00Z", {"x": 1})
        cancelled = await punctual.cancel("t-1")
        return done.status, len(deleted), len(moved), scheduled.id, cancelled.status

    assert drive(body, api) == ("completed", 100, 1, "t-1", "cancelled")
    assert api.sleeps == [0.2]
