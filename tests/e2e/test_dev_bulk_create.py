"""POST /tasks/bulk against ``punctual dev``, over HTTP: twenty tasks in one request (BatchWriteItem and
SendMessageBatch on the emulated AWS), each firing on time; an invalid item refused alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from punctual.domain.timefmt import format_instant, parse_instant

from tests.e2e.harness import DevProcess, unique_key

pytestmark = pytest.mark.e2e


def test_twenty_tasks_in_one_request_each_fire_on_time(dev: DevProcess) -> None:
    key = unique_key("bulk")
    with dev.sse() as stream:
        at = format_instant(datetime.now(UTC) + timedelta(seconds=3))
        items = [{"at": at, "message": {"n": n}, "idempotency_key": f"n-{n}"} for n in range(20)]
        response = dev.request(
            "POST", "/tasks/bulk", key=key, json={"tasks": [*items, {"every": "1 second"}]}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["succeeded"], body["failed"]) == (20, 1)
        assert body["results"][20]["status_code"] == 422
        ids = {result["id"] for result in body["results"][:20]}

        fired: dict[str, dict[str, object]] = {}
        while len(fired) < 20:
            _, event = stream.wait_for(
                lambda e: e["task_id"] in ids and e["task_id"] not in fired, timeout=20
            )
            fired[str(event["task_id"])] = event
    assert sorted(event["message"]["n"] for event in fired.values()) == list(range(20))  # type: ignore[index]
    for event in fired.values():
        assert parse_instant(str(event["scheduled_for"]), "scheduled_for") == parse_instant(at, "at")
        # Never early; on time within a couple of seconds even on a busy machine (lateness is benched elsewhere).
        assert 0 <= int(event["lateness_ms"]) < 2000  # type: ignore[call-overload]

    # The same request again creates nothing: each item's key answers its task.
    again = dev.request("POST", "/tasks/bulk", key=key, json={"tasks": items})
    assert [result["status_code"] for result in again.json()["results"]] == [200] * 20
    assert {result["id"] for result in again.json()["results"]} == ids
