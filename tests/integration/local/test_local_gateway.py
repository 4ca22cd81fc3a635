"""The local API Gateway of ``punctual dev``: real HTTP in, REST API proxy events to the handler, the
handler's answer out; API Gateway's own 413/502 where the handler cannot answer; fired events on SSE.
Served by uvicorn on a free port; the api handler runs on a moto stack (tests/integration/api/harness)."""

from __future__ import annotations

import base64
import json
import queue
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from punctual.domain.timefmt import format_instant
from punctual.local.fired_events import EventHub
from punctual.local.functions import LambdaContext, LocalFunction
from punctual.local.gateway import Gateway, ServingThread, api_key_id, http_response, proxy_event

from tests.integration.api.harness import Stack

TIMEOUT = 10


class RecordingApi:
    """Stands in for the api handler: records events and answers what it is told."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer: Callable[[dict[str, Any]], Any] = lambda event: {
            "statusCode": 200,
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"ok": True}),
        }

    def __call__(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        return self.answer(event)


def serve(api: Callable[[Any], Any], hub: EventHub, **options: Any) -> Iterator[str]:
    server = ServingThread(Gateway(api, hub, **options), "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        hub.close()
        server.stop()


@pytest.fixture
def hub() -> EventHub:
    return EventHub()


@pytest.fixture
def fake_api() -> RecordingApi:
    return RecordingApi()


@pytest.fixture
def fake_url(fake_api: RecordingApi, hub: EventHub) -> Iterator[str]:
    yield from serve(fake_api, hub, max_body_bytes=1024)


@pytest.fixture
def real_url(stack: Stack, hub: EventHub) -> Iterator[str]:
    api = LocalFunction(
        "punctual-local-api", "arn:aws:lambda:us-east-1:123456789012:function:api", "punctual.handlers.api"
    )
    yield from serve(api.invoke, hub)


# --- translation -----------------------------------------------------------------------------------
def test_a_request_becomes_a_rest_proxy_event(fake_url: str, fake_api: RecordingApi) -> None:
    response = requests.post(
        f"{fake_url}/tasks/abc/runs?status=scheduled&metadata.team=a&metadata.team=b",
        data=b'{"x": 1}',
        headers={"x-api-key": "secret-key", "X-Punctual-User": "alice", "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.json() == {"ok": True}

    (event,) = fake_api.events
    assert event["httpMethod"] == "POST"
    assert event["path"] == "/tasks/abc/runs"
    assert event["resource"] == "/{proxy+}"
    assert event["pathParameters"] == {"proxy": "tasks/abc/runs"}
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    assert event["queryStringParameters"] == {"status": "scheduled", "metadata.team": "b"}
    assert event["multiValueQueryStringParameters"]["metadata.team"] == ["a", "b"]
    assert event["headers"]["x-punctual-user"] == "alice"
    identity = event["requestContext"]["identity"]
    assert identity["apiKey"] == "secret-key"
    assert identity["apiKeyId"] == api_key_id("secret-key")
    assert "secret" not in identity["apiKeyId"]
    assert identity["sourceIp"] == "127.0.0.1"
    assert event["requestContext"]["stage"] == "local"
    assert event["requestContext"]["httpMethod"] == "POST"


def test_api_key_ids_are_stable_and_distinct_and_absent_without_a_key() -> None:
    assert api_key_id("a") == api_key_id("a") != api_key_id("b")
    assert api_key_id(None) is None
    assert api_key_id("") is None
    event = proxy_event(method="GET", path="/tasks", query=[], headers=[], body=b"")
    assert event["requestContext"]["identity"]["apiKeyId"] is None
    assert event["body"] is None
    assert event["queryStringParameters"] is None


def test_a_body_that_is_not_utf8_is_passed_as_text_like_a_stage_without_binary_media_types(
    fake_url: str, fake_api: RecordingApi
) -> None:
    requests.post(f"{fake_url}/tasks", data=b"\xff{}", timeout=TIMEOUT)
    (event,) = fake_api.events
    assert event["isBase64Encoded"] is False
    assert event["body"] == "\ufffd{}"


def test_the_handlers_status_headers_and_body_are_returned(fake_url: str, fake_api: RecordingApi) -> None:
    fake_api.answer = lambda event: {
        "statusCode": 405,
        "headers": {"Allow": "GET"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"binary!").decode(),
        "isBase64Encoded": True,
    }
    response = requests.delete(f"{fake_url}/health", timeout=TIMEOUT)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.raw.headers.getlist("set-cookie") == ["a=1", "b=2"]
    assert response.content == b"binary!"


@pytest.mark.parametrize(
    "answer",
    [
        None,
        "not a dict",
        {"body": "no status"},
        {"statusCode": 999, "body": ""},
        {"statusCode": 200, "body": {"not": "a string"}},
    ],
)
def test_a_malformed_handler_answer_is_a_502(fake_url: str, fake_api: RecordingApi, answer: Any) -> None:
    fake_api.answer = lambda event: answer
    response = requests.get(f"{fake_url}/health", timeout=TIMEOUT)
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}


def test_a_handler_that_raises_is_a_502_and_the_gateway_keeps_serving(
    fake_url: str, fake_api: RecordingApi
) -> None:
    def explode(event: dict[str, Any]) -> Any:
        raise RuntimeError("handler bug")

    fake_api.answer = explode
    assert requests.get(f"{fake_url}/tasks", timeout=TIMEOUT).status_code == 502
    fake_api.answer = lambda event: {"statusCode": 204, "body": ""}
    assert requests.get(f"{fake_url}/tasks", timeout=TIMEOUT).status_code == 204


def test_a_body_over_the_gateway_limit_is_refused_before_the_handler(
    fake_url: str, fake_api: RecordingApi
) -> None:
    response = requests.post(f"{fake_url}/tasks", data=b"x" * 2048, timeout=TIMEOUT)
    assert response.status_code == 413
    assert fake_api.events == []


def test_http_response_accepts_only_proxy_responses() -> None:
    assert http_response({"statusCode": 201, "body": "{}"}) == (201, [], b"{}")
    assert http_response({"statusCode": 200, "body": "%%%", "isBase64Encoded": True})[0] == 502


# --- the real api handler ----------------------------------------------------------------------------
def test_bad_input_gets_the_handlers_4xx(real_url: str) -> None:
    not_json = requests.post(f"{real_url}/tasks", data="{not json", timeout=TIMEOUT)
    assert not_json.status_code == 400
    assert "error" in not_json.json()

    unknown = requests.get(f"{real_url}/no/such/route", timeout=TIMEOUT)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "route_not_found"

    oversized = requests.post(f"{real_url}/schedule", data="x" * (300 * 1024), timeout=TIMEOUT)
    assert oversized.status_code == 413
    assert oversized.json()["error"]["code"] == "payload_too_large"

    not_utf8 = requests.post(f"{real_url}/tasks", data=b"\xff\xfe\x00", timeout=TIMEOUT)
    assert not_utf8.status_code == 400

    assert requests.get(f"{real_url}/health", timeout=TIMEOUT).json() == {"status": "ok"}


def test_each_api_key_is_its_own_tenant_and_no_key_is_the_default_tenant(real_url: str, stack: Stack) -> None:
    at = format_instant(stack.clock.now() + timedelta(hours=1))
    created = requests.post(
        f"{real_url}/tasks", json={"at": at, "name": "mine"}, headers={"x-api-key": "key-a"}, timeout=TIMEOUT
    )
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]

    assert requests.get(f"{real_url}/tasks/{task_id}", headers={"x-api-key": "key-a"}, timeout=TIMEOUT).ok
    assert (
        requests.get(
            f"{real_url}/tasks/{task_id}", headers={"x-api-key": "key-b"}, timeout=TIMEOUT
        ).status_code
        == 404
    )
    assert requests.get(f"{real_url}/tasks/{task_id}", timeout=TIMEOUT).status_code == 404
    listed = requests.get(f"{real_url}/tasks", timeout=TIMEOUT).json()["tasks"]
    assert task_id not in [task["id"] for task in listed]


# --- fired events ------------------------------------------------------------------------------------
def read_sse(url: str, lines: queue.Queue[str], ready: threading.Event) -> None:
    with requests.get(url, stream=True, timeout=TIMEOUT) as response:
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                ready.set()
            lines.put(line)


def test_events_streams_each_published_body_as_one_sse_message(fake_url: str, hub: EventHub) -> None:
    lines: queue.Queue[str] = queue.Queue()
    ready = threading.Event()
    reader = threading.Thread(target=read_sse, args=(f"{fake_url}/events", lines, ready), daemon=True)
    reader.start()
    assert ready.wait(TIMEOUT)

    body = json.dumps({"type": "task.fired", "task_id": "t1", "message": "hi"})
    hub.publish(body)
    hub.publish("first line\nsecond line")

    data = []
    while len(data) < 3:
        line = lines.get(timeout=TIMEOUT)
        if line.startswith("data: "):
            data.append(line.removeprefix("data: "))
    assert data == [body, "first line", "second line"]

    hub.close()  # shutdown ends the stream
    reader.join(TIMEOUT)
    assert not reader.is_alive()


def test_docs_serve_swagger_ui_pointing_at_the_openapi_document(
    fake_url: str, fake_api: RecordingApi
) -> None:
    response = requests.get(f"{fake_url}/docs", timeout=TIMEOUT)
    assert response.status_code == 200
    assert "/openapi.json" in response.text
    assert fake_api.events == []


def test_the_lambda_context_has_what_powertools_reads() -> None:
    context = LambdaContext("fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", 3.0)
    assert 0 < context.get_remaining_time_in_millis() <= 3000
    assert context.aws_request_id != LambdaContext("fn", "arn", 3.0).aws_request_id
    assert context.log_group_name == "/aws/lambda/fn"
