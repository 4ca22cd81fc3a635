"""Error mapping (every status to its class) and the retry policy: what is retried, with which delays,
and that a retried create carries the same Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from punctual_client import (
    Conflict,
    Invalid,
    NotFound,
    Punctual,
    PunctualError,
    RateLimited,
    TooLarge,
    Unauthorized,
    Unavailable,
)

from tests.unit.client.sdk_fakes import RUN, TASK, URL, Api, error, ok

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def client(api: Api, **options: float) -> Punctual:
    return Punctual(URL, transport=api.transport, sleep=api.sleep, rand=lambda: 1.0, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, Invalid),
        (401, Unauthorized),
        (403, Unauthorized),
        (404, NotFound),
        (409, Conflict),
        (413, TooLarge),
        (422, Invalid),
        (429, RateLimited),
        (500, Unavailable),
        (502, Unavailable),
        (503, Unavailable),
    ],
)
def test_each_status_maps_to_its_error(api: Api, status: int, kind: type[PunctualError]) -> None:
    api.script(error(status, code="the_code", message="the message"))
    with pytest.raises(kind) as raised:
        client(api, max_retries=0).tasks.get("t-1")
    assert type(raised.value) is kind
    assert (raised.value.status, raised.value.code, raised.value.message) == (
        status,
        "the_code",
        "the message",
    )
    assert [(d.field, d.message) for d in raised.value.details] == [("at", "bad")]


def test_an_unmapped_status_is_the_base_error(api: Api) -> None:
    api.script(error(405, code="method_not_allowed"))
    with pytest.raises(PunctualError) as raised:
        client(api).tasks.get("t-1")
    assert type(raised.value) is PunctualError
    assert raised.value.code == "method_not_allowed"


def test_an_error_without_a_json_body(api: Api) -> None:
    api.script(httpx.Response(502, text="<html>bad gateway</html>"))
    with pytest.raises(Unavailable) as raised:
        client(api).tasks.get("t-1")
    assert (raised.value.status, raised.value.code, raised.value.details) == (502, "http_502", [])


def test_rate_limited_carries_retry_after(api: Api) -> None:
    api.script(error(429, **{"Retry-After": "2"}))
    with pytest.raises(RateLimited) as raised:
        client(api, max_retries=0).tasks.get("t-1")
    assert raised.value.retry_after == 2.0


def test_a_connection_error_is_unavailable_with_status_0(api: Api) -> None:
    api.script(httpx.ConnectError("refused"))
    with pytest.raises(Unavailable) as raised:
        client(api, max_retries=0).tasks.get("t-1")
    assert raised.value.status == 0
    assert raised.value.code == "connection_error"
    assert isinstance(raised.value.__cause__, httpx.ConnectError)


def test_a_retried_create_keeps_its_idempotency_key(api: Api) -> None:
    api.script(
        error(503), httpx.ConnectError("refused"), httpx.ReadTimeout("response dropped"), ok(TASK, 200)
    )
    created = client(api).tasks.create(at=AT)
    assert created.id == "t-1"
    keys = {request.headers["Idempotency-Key"] for request in api.requests}
    assert len(api.requests) == 4 and len(keys) == 1
    assert api.sleeps == [0.5, 1.0, 2.0]  # full jitter at its top (rand=1): backoff * 2**attempt


def test_backoff_is_jittered_and_capped(api: Api) -> None:
    api.script(*[error(503)] * 5)
    punctual = Punctual(
        URL,
        transport=api.transport,
        sleep=api.sleep,
        rand=lambda: 0.5,
        max_retries=4,
        backoff=1,
        max_backoff=3,
    )
    with pytest.raises(Unavailable):
        punctual.tasks.get("t-1")
    assert api.sleeps == [0.5, 1.0, 1.5, 1.5]
    assert len(api.requests) == 5


def test_retry_after_is_honoured(api: Api) -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    api.script(error(429, **{"Retry-After": "7"}), error(429, **{"Retry-After": later}), ok(TASK))
    client(api).tasks.get("t-1")
    assert api.sleeps[0] == 7.0
    assert 25 < api.sleeps[1] <= 30


def test_gives_up_after_max_retries(api: Api) -> None:
    api.script(*[error(429)] * 3)
    with pytest.raises(RateLimited):
        client(api, max_retries=2).tasks.cancel("t-1")
    assert len(api.requests) == 3
    assert len(api.sleeps) == 2


@pytest.mark.parametrize("failure", [error(503), error(429), httpx.ConnectError("refused")])
def test_run_now_is_never_retried(api: Api, failure: httpx.Response | Exception) -> None:
    api.script(failure, ok(RUN, 202))
    with pytest.raises((Unavailable, RateLimited)):
        client(api).tasks.run_now("t-1")
    assert len(api.requests) == 1
    assert api.sleeps == []


def test_pipedream_schedule_is_never_retried(api: Api) -> None:
    api.script(error(503))
    with pytest.raises(Unavailable):
        client(api).schedule(AT, "hi")
    assert len(api.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500])
def test_other_errors_are_not_retried(api: Api, status: int) -> None:
    api.script(error(status))
    with pytest.raises(PunctualError):
        client(api).tasks.get("t-1")
    assert len(api.requests) == 1


def test_safe_writes_are_retried(api: Api) -> None:
    results = {"results": [], "succeeded": 0, "failed": 0}
    api.script(
        error(503), ok(TASK),  # PATCH
        error(503), ok(TASK),  # DELETE
        error(503), ok(results),  # bulk delete
        error(503), ok(results),  # bulk reschedule
        error(503), ok({"id": "t-1", "status": "cancelled"}),  # POST /cancel
    )  # fmt: skip
    punctual = client(api)
    punctual.tasks.pause("t-1")
    punctual.tasks.cancel("t-1")
    punctual.tasks.bulk_delete(["t-1"])
    punctual.tasks.bulk_reschedule([("t-1", AT)])
    punctual.cancel("t-1")
    assert len(api.requests) == 10


def test_a_success_body_that_is_not_json(api: Api) -> None:
    api.script(httpx.Response(200, text="nope"))
    with pytest.raises(PunctualError, match="not JSON"):
        client(api).tasks.get("t-1")
