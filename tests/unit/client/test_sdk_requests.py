"""The sync client's requests (method, path, query, body, headers) and the models it parses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from punctual_client import Cancelled, ItemResult, Punctual, Run, Task

from tests.unit.client.sdk_fakes import RUN, TASK, URL, Api, ok, run, task

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def client(api: Api, **options: object) -> Punctual:
    return Punctual(URL, api_key="k-1", transport=api.transport, sleep=api.sleep, **options)  # type: ignore[arg-type]


def test_create_posts_the_task_with_a_generated_idempotency_key(api: Api) -> None:
    api.script(ok(TASK, 201))
    created = client(api).tasks.create(
        at=AT, name="billOnDemand", message={"invoice": 42}, metadata={"customer": "c-17"}
    )
    request = api.requests[0]
    assert (request.method, str(request.url)) == ("POST", f"{URL}/tasks")
    assert api.body() == {
        "at": "2026-12-01T09:00:00Z",
        "name": "billOnDemand",
        "message": {"invoice": 42},
        "metadata": {"customer": "c-17"},
    }
    assert uuid.UUID(request.headers["Idempotency-Key"]).version == 4
    assert request.headers["x-api-key"] == "k-1"
    assert "X-Punctual-User" not in request.headers
    assert isinstance(created, Task)
    assert created.at == AT
    assert created.created_at == datetime(2026, 11, 30, 10, 0, 0, 123000, tzinfo=UTC)
    assert created.metadata == {"customer": "c-17"}


def test_each_create_gets_its_own_key_unless_one_is_given(api: Api) -> None:
    api.script(ok(TASK, 201), ok(TASK, 201), ok(TASK, 200))
    punctual = client(api)
    punctual.tasks.create(at=AT)
    punctual.tasks.create(at=AT)
    punctual.tasks.create(at=AT, idempotency_key="invoice-42")
    keys = [r.headers["Idempotency-Key"] for r in api.requests]
    assert keys[0] != keys[1]
    assert keys[2] == "invoice-42"


def test_create_takes_exactly_one_schedule(api: Api) -> None:
    punctual = client(api)
    with pytest.raises(ValueError, match="exactly one"):
        punctual.tasks.create()
    with pytest.raises(ValueError, match="exactly one"):
        punctual.tasks.create(at=AT, every="5 minutes")
    with pytest.raises(ValueError, match="aware"):
        punctual.tasks.create(at=datetime(2026, 12, 1, 9, 0))
    with pytest.raises(ValueError, match="aware"):
        punctual.tasks.create(every="1 hour", start_at=datetime(2026, 12, 1))
    assert api.requests == []


def test_create_schedule_forms(api: Api) -> None:
    api.script(*[ok(TASK, 201)] * 5)
    punctual = client(api)
    before = datetime.now(UTC)
    punctual.tasks.create(in_=timedelta(minutes=10))
    sent = datetime.fromisoformat(api.body()["at"])
    assert (
        before + timedelta(minutes=10) - timedelta(seconds=1)
        <= sent
        <= datetime.now(UTC) + timedelta(minutes=10)
    )
    punctual.tasks.create(every=(5, "minutes"))
    assert api.body() == {"every": "5 minutes"}
    punctual.tasks.create(every=timedelta(seconds=30), misfire="skip")
    assert api.body() == {"every": "30 seconds", "misfire": "skip"}
    punctual.tasks.create(
        cron="0 0/5 0 ? * * *",
        timezone="Europe/Berlin",
        start_at=datetime(2026, 12, 1, 1, 0, tzinfo=timezone(timedelta(hours=1))),
        end_at="2027-01-01T00:00:00Z",
    )
    assert api.body() == {
        "cron": "0 0/5 0 ? * * *",
        "timezone": "Europe/Berlin",
        "start_at": "2026-12-01T00:00:00Z",
        "end_at": "2027-01-01T00:00:00Z",
    }
    punctual.tasks.create(at="2026-12-01T10:00:00", timezone="Europe/Paris")
    assert api.body() == {"at": "2026-12-01T10:00:00", "timezone": "Europe/Paris"}


def test_fluent_builder(api: Api) -> None:
    api.script(ok(TASK, 201), ok(task(at=None, every="5 minutes"), 201), ok(task(at=None, cron="x"), 201))
    punctual = client(api)
    once = punctual.task("billOnDemand").message({"invoice": 42}).metadata(customer="c-17").run_once(AT)
    assert isinstance(once, Task)
    assert api.body() == {
        "at": "2026-12-01T09:00:00Z",
        "name": "billOnDemand",
        "message": {"invoice": 42},
        "metadata": {"customer": "c-17"},
    }
    assert "Idempotency-Key" in api.requests[-1].headers
    every = punctual.task("poll").timezone("UTC").run_every(5, "minutes")
    assert every.every == "5 minutes"
    assert api.body() == {"every": "5 minutes", "name": "poll", "timezone": "UTC"}
    punctual.task("sweep").misfire("skip").idempotency_key("k").run_every("0 0/5 0 ? * * *")
    assert api.body() == {"cron": "0 0/5 0 ? * * *", "name": "sweep", "misfire": "skip"}
    assert api.requests[-1].headers["Idempotency-Key"] == "k"
    with pytest.raises(ValueError):
        punctual.task().run_every(5)


def test_as_user_narrows_without_changing_the_original(api: Api) -> None:
    api.script(ok(TASK), ok(TASK))
    punctual = client(api)
    punctual.as_user("abcd1234").tasks.get("t-1")
    punctual.tasks.get("t-1")
    assert api.requests[0].headers["X-Punctual-User"] == "abcd1234"
    assert api.requests[0].headers["x-api-key"] == "k-1"
    assert "X-Punctual-User" not in api.requests[1].headers


def test_configuration_from_the_environment(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUNCTUAL_URL", URL + "/")
    monkeypatch.setenv("PUNCTUAL_API_KEY", "env-key")
    monkeypatch.setenv("PUNCTUAL_USER", "u-1")
    monkeypatch.setenv("PUNCTUAL_SECRET", "s3cret")
    api.script(ok({"status": "ok"}))
    assert Punctual(transport=api.transport).health() == {"status": "ok"}
    request = api.requests[0]
    assert str(request.url) == f"{URL}/health"
    assert request.headers["x-api-key"] == "env-key"
    assert request.headers["X-Punctual-User"] == "u-1"
    assert request.headers["X-Punctual-Secret"] == "s3cret"


def test_a_url_is_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUNCTUAL_URL", raising=False)
    with pytest.raises(ValueError, match="PUNCTUAL_URL"):
        Punctual()


def test_get_update_and_its_shortcuts(api: Api) -> None:
    api.script(*[ok(TASK)] * 6)
    punctual = client(api)
    punctual.tasks.get("a/b")
    assert str(api.requests[-1].url) == f"{URL}/tasks/a%2Fb"
    punctual.tasks.update("t-1", name="n", every=(2, "hours"), metadata={"a": "b"})
    assert (api.requests[-1].method, api.requests[-1].url.path) == ("PATCH", "/tasks/t-1")
    assert api.body() == {"name": "n", "every": "2 hours", "metadata": {"a": "b"}}
    punctual.tasks.reschedule("t-1", AT)
    assert api.body() == {"at": "2026-12-01T09:00:00Z"}
    punctual.tasks.pause("t-1")
    assert api.body() == {"paused": True}
    punctual.tasks.resume("t-1")
    assert api.body() == {"paused": False}
    punctual.tasks.cancel("t-1")
    assert (api.requests[-1].method, api.requests[-1].url.path) == ("DELETE", "/tasks/t-1")
    with pytest.raises(TypeError, match="cronn"):
        punctual.tasks.update("t-1", cronn="* * * * *")


def test_list_follows_the_cursor(api: Api) -> None:
    api.script(
        ok({"tasks": [task(id="a"), task(id="b")], "next_cursor": "c1"}),
        ok({"tasks": [task(id="c")], "next_cursor": None}),
    )
    listing = client(api).tasks.list(
        status=["scheduled", "paused"], name="poll", metadata={"customer": "c-17"}
    )
    assert [t.id for t in listing] == ["a", "b", "c"]
    first, second = api.requests
    assert dict(first.url.params) == {
        "status": "scheduled,paused",
        "name": "poll",
        "metadata.customer": "c-17",
    }
    assert second.url.params["cursor"] == "c1"
    assert second.url.params["name"] == "poll"


def test_list_pages(api: Api) -> None:
    api.script(ok({"tasks": [task(id="a")], "next_cursor": "c1"}), ok({"tasks": [], "next_cursor": None}))
    pages = list(client(api).tasks.list(page_size=1).pages())
    assert [[t.id for t in page.items] for page in pages] == [["a"], []]
    assert api.requests[0].url.params["limit"] == "1"


def test_bulk_delete_and_reschedule(api: Api) -> None:
    results = {
        "results": [
            {"id": "a", "status_code": 200, "task": TASK},
            {"id": "b", "status_code": 404, "error": {"code": "not_found", "message": "no", "details": []}},
        ],
        "succeeded": 1,
        "failed": 1,
    }
    api.script(ok(results), ok(results), ok(results))
    punctual = client(api)
    parsed = punctual.tasks.bulk_delete(["a", "b"])
    assert api.body() == {"ids": ["a", "b"]}
    assert api.requests[-1].url.path == "/tasks/bulk-delete"
    assert [r.ok for r in parsed] == [True, False]
    assert parsed[0].task is not None and parsed[0].task.id == "t-1"
    assert parsed[1].error is not None and parsed[1].error.code == "not_found"
    punctual.tasks.bulk_delete(filter={"metadata": {"customer": "c-17"}})
    assert api.body() == {"filter": {"metadata": {"customer": "c-17"}}}
    moved = punctual.tasks.bulk_reschedule([("a", AT), ("b", "2026-12-02T09:00:00Z")])
    assert api.requests[-1].url.path == "/tasks/bulk-reschedule"
    assert api.body() == {
        "updates": [{"id": "a", "at": "2026-12-01T09:00:00Z"}, {"id": "b", "at": "2026-12-02T09:00:00Z"}]
    }
    assert all(isinstance(r, ItemResult) for r in moved)
    with pytest.raises(ValueError):
        punctual.tasks.bulk_delete(["a"], filter={})
    with pytest.raises(ValueError):
        punctual.tasks.bulk_delete()


def test_delete_all_repeats_while_a_call_is_full(api: Api) -> None:
    def page(n: int) -> httpx.Response:
        items = [{"id": f"t{i}", "status_code": 200, "task": TASK} for i in range(n)]
        return ok({"results": items, "succeeded": n, "failed": 0})

    api.script(page(100), page(100), page(3))
    assert len(client(api).tasks.delete_all()) == 203
    assert [api.body(i) for i in range(3)] == [{"filter": {}}] * 3


def test_runs(api: Api) -> None:
    api.script(
        ok(RUN, 202),
        ok(run(status="completed", completed_at="2026-11-30T10:00:01Z")),
        ok({"runs": [RUN], "next_cursor": "n"}),
        ok({"runs": [run(tracking_id="r-0")], "next_cursor": None}),
    )
    punctual = client(api)
    started = punctual.tasks.run_now("t-1")
    assert (api.requests[-1].method, api.requests[-1].url.path) == ("POST", "/tasks/t-1/runs")
    assert isinstance(started, Run) and started.status == "pending" and not started.done
    fetched = punctual.runs.get("r-1")
    assert api.requests[-1].url.path == "/runs/r-1"
    assert fetched.done and fetched.completed_at == datetime(2026, 11, 30, 10, 0, 1, tzinfo=UTC)
    assert [r.tracking_id for r in punctual.tasks.runs("t-1")] == ["r-1", "r-0"]
    assert api.requests[-1].url.path == "/tasks/t-1/runs"
    assert api.requests[-1].url.params["cursor"] == "n"


def test_wait_polls_until_the_run_is_done(api: Api) -> None:
    api.script(ok(RUN), ok(run(status="running")), ok(run(status="skipped")))
    done = client(api).runs.wait("r-1", timeout=5, interval=0.5)
    assert done.status == "skipped"
    assert api.sleeps == [0.5, 0.5]


def test_wait_times_out(api: Api) -> None:
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    api.script(*[ok(RUN)] * 5)
    punctual = Punctual(URL, transport=api.transport, sleep=sleep, clock=lambda: now[0])
    with pytest.raises(TimeoutError, match="pending"):
        punctual.runs.wait("r-1", timeout=1, interval=0.4)
    assert len(api.requests) == 4  # at 0, 0.4, 0.8 and 1.0


def test_pipedream_schedule_and_cancel(api: Api) -> None:
    api.script(
        ok({"id": "t-1", "message": "Scheduled task at 2026-12-01T09:00:00Z", "task": TASK}),
        ok({"id": "t-1", "status": "cancelled"}),
    )
    punctual = client(api)
    scheduled = punctual.schedule(AT, {"name": "Luke"})
    assert api.requests[-1].url.path == "/schedule"
    assert api.body() == {"timestamp": "2026-12-01T09:00:00Z", "message": {"name": "Luke"}}
    assert scheduled.id == "t-1"
    assert punctual.cancel("t-1") == Cancelled("t-1", "cancelled")
    assert (api.requests[-1].method, api.requests[-1].url.path) == ("POST", "/cancel")
    assert api.body() == {"id": "t-1"}


def test_the_client_is_a_context_manager(api: Api) -> None:
    with client(api) as punctual:
        assert punctual.as_user("u").config.user == "u"
