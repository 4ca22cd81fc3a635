"""The Python SDK (clients/python) against ``punctual dev``: each seed flow through ``punctual_client``,
user isolation with ``as_user``, and a create whose response is dropped, retried into exactly one task."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from punctual_client import Cancelled, Invalid, NotFound, Punctual, events

from tests.e2e.harness import DevProcess, unique_key

pytestmark = pytest.mark.e2e

QUARTZ = "0 0/5 0 ? * * *"


def ahead(**delta: float) -> datetime:
    return (datetime.now(UTC) + timedelta(**delta)).replace(microsecond=0)


@pytest.fixture
def client(dev: DevProcess) -> Iterator[Punctual]:
    # Its own tenant (any x-api-key is one under punctual dev); retries never sleep for real.
    with Punctual(dev.api, api_key=unique_key("sdk"), sleep=lambda _: None) as punctual:
        yield punctual


def test_dynamic_tasks_fluent_list_and_delete_all(client: Punctual) -> None:
    at = ahead(hours=1)
    once = client.task("billOnDemand").message({"invoice": 42}).metadata(customer="c-17").run_once(at)
    every = client.task("poll").message("tick").run_every(5, "minutes")
    cron = client.task("sweep").timezone("Asia/Kolkata").run_every(QUARTZ)

    assert (once.at, once.status, once.metadata) == (at, "scheduled", {"customer": "c-17"})
    assert once.next_run_at == at
    assert every.every == "5 minutes" and every.next_run_at is not None
    assert every.next_run_at > datetime.now(UTC)
    assert (cron.cron, cron.timezone) == (QUARTZ, "Asia/Kolkata")
    assert cron.next_run_at is not None and cron.next_run_at.tzinfo is not None

    assert {t.id for t in client.tasks.list()} == {once.id, every.id, cron.id}
    assert [t.id for t in client.tasks.list(metadata={"customer": "c-17"})] == [once.id]
    assert [t.id for t in client.tasks.list(name="poll")] == [every.id]
    pages = list(client.tasks.list(page_size=1).pages())
    assert sorted(t.id for page in pages for t in page.items) == sorted([once.id, every.id, cron.id])
    assert len(pages) >= 3

    deleted = client.tasks.delete_all()
    assert sorted(r.id for r in deleted) == sorted([once.id, every.id, cron.id])
    assert all(r.ok for r in deleted)
    assert list(client.tasks.list()) == []
    assert client.tasks.get(once.id).status == "cancelled"


def test_agnost_run_now_then_wait_until_completed(dev: DevProcess, client: Punctual) -> None:
    task = client.tasks.create(at=ahead(hours=1), name="nightly report", message={"id": 7})
    with dev.sse() as stream:
        pending = client.tasks.run_now(task.id)
        assert (pending.status, pending.task_id, pending.task_name) == ("pending", task.id, "nightly report")
        done = client.runs.wait(pending.tracking_id, timeout=10, interval=0.1)
        raw, _ = stream.wait_for(lambda e: e.get("tracking_id") == pending.tracking_id, timeout=10)

    assert done.status == "completed"
    assert done.started_at is not None and done.completed_at is not None
    assert done.triggered_at <= done.started_at <= done.completed_at
    (event,) = events.parse(raw)
    assert (event.task_id, event.message, event.run_kind) == (task.id, {"id": 7}, "manual")
    assert pending.tracking_id in [r.tracking_id for r in client.tasks.runs(task.id)]
    assert client.tasks.get(task.id).status == "scheduled"


def test_hatchet_schedule_list_reschedule_and_bulk(client: Punctual) -> None:
    group = uuid.uuid4().hex[:8]
    at = ahead(hours=1)
    a, b, c = (client.tasks.create(at=at, name="report", metadata={"group": group}) for _ in range(3))
    assert {t.id for t in client.tasks.list(metadata={"group": group})} == {a.id, b.id, c.id}

    moved = client.tasks.reschedule(a.id, at + timedelta(minutes=10))
    assert moved.at == at + timedelta(minutes=10)
    assert moved.version > a.version
    paused = client.tasks.pause(b.id)
    assert paused.status == "paused"
    assert client.tasks.resume(b.id).status == "scheduled"
    assert client.tasks.update(c.id, name="renamed").name == "renamed"

    results = client.tasks.bulk_reschedule([(b.id, at + timedelta(minutes=20)), ("missing", at)])
    assert [(r.id, r.status_code) for r in results] == [(b.id, 200), ("missing", 404)]
    assert results[0].task is not None and results[0].task.at == at + timedelta(minutes=20)
    assert results[1].error is not None and results[1].error.code

    deleted = client.tasks.bulk_delete(filter={"metadata": {"group": group}})
    assert sorted(r.id for r in deleted) == sorted([a.id, b.id, c.id])
    assert list(client.tasks.list(metadata={"group": group})) == []
    assert {t.status for t in client.tasks.list(status="cancelled")} == {"cancelled"}


def test_pipedream_schedule_and_cancel(client: Punctual) -> None:
    task = client.schedule(ahead(hours=1), {"name": "Luke"})
    assert (task.status, task.message) == ("scheduled", {"name": "Luke"})
    assert client.cancel(task.id) == Cancelled(task.id, "cancelled")
    assert client.cancel(task.id) == Cancelled(task.id, "cancelled")  # also when it already was
    assert client.tasks.get(task.id).status == "cancelled"
    with pytest.raises(NotFound):
        client.cancel("no-such-task")


def test_as_user_contexts_cannot_see_each_other(client: Punctual) -> None:
    alice = client.as_user("abcd1234")
    bob = client.as_user("efgh5678")
    mine = alice.tasks.create(at=ahead(hours=1), name="alice's")
    assert [t.id for t in alice.tasks.list()] == [mine.id]
    assert list(bob.tasks.list()) == []
    assert list(client.tasks.list()) == []
    for other in (bob, client):
        with pytest.raises(NotFound):
            other.tasks.get(mine.id)
        with pytest.raises(NotFound):
            other.tasks.cancel(mine.id)
    assert bob.tasks.delete_all() == []
    assert alice.tasks.get(mine.id).status == "scheduled"


def test_errors_are_typed(client: Punctual) -> None:
    with pytest.raises(Invalid) as too_often:
        client.tasks.create(every="1 second")
    assert too_often.value.status == 422
    assert [d.field for d in too_often.value.details] == ["every"]
    with pytest.raises(Invalid) as malformed:
        client.tasks.create(cron="61 * * * *")
    assert malformed.value.status == 400


class DropFirstCreateResponse(httpx.BaseTransport):
    """Lets the first POST /tasks reach the server, then loses its answer (as a timed-out connection)."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.dropped = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path == "/tasks" and not self.dropped:
            response.read()
            response.close()
            self.dropped += 1
            raise httpx.ReadTimeout("the response was dropped", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def test_a_create_retried_after_a_dropped_response_makes_one_task(dev: DevProcess) -> None:
    transport = DropFirstCreateResponse()
    sleeps: list[float] = []
    with Punctual(
        dev.api, api_key=unique_key("sdk-drop"), transport=transport, sleep=sleeps.append
    ) as client:
        task = client.tasks.create(at=ahead(hours=1), name="once")
        assert transport.dropped == 1 and len(sleeps) == 1
        assert [t.id for t in client.tasks.list()] == [task.id]

        key = uuid.uuid4().hex
        first = client.tasks.create(every="1 hour", idempotency_key=key)
        again = client.tasks.create(every="1 hour", idempotency_key=key)
        assert again.id == first.id
        assert sorted(t.id for t in client.tasks.list()) == sorted([task.id, first.id])
