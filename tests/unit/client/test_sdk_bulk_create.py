"""tasks.bulk_create in the sync and async clients: the request (one item per task, a key per item), the
per-item results, the checks made before sending, and a retry that repeats the same keys."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from punctual_client import AsyncPunctual, CreatedItem, Punctual

from tests.unit.client.sdk_fakes import TASK, URL, Api, error, ok, task

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANSWER: dict[str, Any] = {
    "results": [
        {"index": 0, "id": "t-1", "status_code": 201, "task": TASK},
        {"index": 1, "id": "t-2", "status_code": 200, "task": task(id="t-2")},
        {
            "index": 2,
            "id": None,
            "status_code": 400,
            "error": {
                "code": "validation_error",
                "message": "invalid cron",
                "details": [{"field": "cron", "message": "minute 61 is out of range 0-59"}],
            },
        },
    ],
    "succeeded": 2,
    "failed": 1,
}


def client(api: Api) -> Punctual:
    return Punctual(URL, api_key="k-1", transport=api.transport, sleep=api.sleep, rand=lambda: 1.0)


def test_posts_every_task_with_its_own_key_and_reads_each_result(api: Api) -> None:
    api.script(ok(ANSWER))

    results = client(api).tasks.bulk_create(
        [
            {"at": AT, "name": "a", "message": {"n": 1}, "metadata": {"customer": "c-17"}},
            {"every": (5, "minutes"), "idempotency_key": "invoice-42"},
            {"cron": "61 * * * *", "timezone": "Europe/Berlin"},
        ]
    )

    request = api.requests[0]
    assert (request.method, str(request.url)) == ("POST", f"{URL}/tasks/bulk")
    items = api.body()["tasks"]
    assert [{k: v for k, v in item.items() if k != "idempotency_key"} for item in items] == [
        {"at": "2026-12-01T09:00:00Z", "name": "a", "message": {"n": 1}, "metadata": {"customer": "c-17"}},
        {"every": "5 minutes"},
        {"cron": "61 * * * *", "timezone": "Europe/Berlin"},
    ]
    assert items[1]["idempotency_key"] == "invoice-42"
    generated = [items[0]["idempotency_key"], items[2]["idempotency_key"]]
    assert all(uuid.UUID(key).version == 4 for key in generated) and generated[0] != generated[1]
    assert [type(result) for result in results] == [CreatedItem] * 3
    created, replayed, failed = results
    assert created.created and created.ok and created.task is not None and created.task.at == AT
    assert replayed.ok and not replayed.created and replayed.id == "t-2"
    assert not failed.ok and failed.id is None and failed.task is None and failed.error is not None
    assert failed.error.details[0].field == "cron"


def test_a_retried_request_repeats_the_same_keys(api: Api) -> None:
    api.script(error(503), ok(ANSWER))
    client(api).tasks.bulk_create([{"at": AT}, {"in_": timedelta(minutes=5)}, {"every": "1 hour"}])
    assert api.body(0) == api.body(1)
    assert api.sleeps == [0.5]


@pytest.mark.parametrize(
    ("tasks", "kind", "match"),
    [
        ([], ValueError, "1 to 100"),
        ([{"at": AT}] * 101, ValueError, "1 to 100"),
        ([{"at": AT}, {"att": AT}], TypeError, r"tasks\[1\]: unknown task fields: att"),
        ([{"at": AT, "every": "5 minutes"}], ValueError, "exactly one"),
    ],
)
def test_bad_arguments_are_refused_before_sending(
    api: Api, tasks: list[dict[str, Any]], kind: type[Exception], match: str
) -> None:
    with pytest.raises(kind, match=match):
        client(api).tasks.bulk_create(tasks)
    assert api.requests == []


def test_the_async_client_sends_the_same_request(api: Api) -> None:
    api.script(ok(ANSWER))

    async def main() -> list[CreatedItem]:
        async with AsyncPunctual(
            URL, api_key="k", transport=api.transport, sleep=api.async_sleep
        ) as punctual:
            return await punctual.tasks.bulk_create(
                [{"at": AT}, {"every": "5 minutes"}, {"cron": "0 9 * * *"}]
            )

    results = asyncio.run(main())
    assert str(api.requests[0].url) == f"{URL}/tasks/bulk"
    assert len(api.body()["tasks"]) == 3
    assert [result.status_code for result in results] == [201, 200, 400]
