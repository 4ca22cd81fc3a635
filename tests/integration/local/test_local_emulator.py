"""The emulated AWS endpoint: moto's server serving one request at a time (long polls excepted), which keeps
concurrent transactions from corrupting each other, and reporting a port in use instead of hanging."""

from __future__ import annotations

import io
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend
from punctual.adapters.dynamodb_schema import table_definition
from punctual.local import moto_transactions
from punctual.local.emulator import MOTO_PATCHES, EmulatorServer, SerializedApp, is_long_poll

JSON_RECEIVE = {"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}


@pytest.mark.parametrize(
    ("environ", "body", "expected"),
    [
        (JSON_RECEIVE, json.dumps({"QueueUrl": "q", "WaitTimeSeconds": 5}).encode(), True),
        (JSON_RECEIVE, json.dumps({"QueueUrl": "q", "WaitTimeSeconds": 0}).encode(), False),
        (JSON_RECEIVE, json.dumps({"QueueUrl": "q"}).encode(), False),
        ({}, b"Action=ReceiveMessage&QueueUrl=q&WaitTimeSeconds=20", True),
        ({}, b"Action=ReceiveMessage&QueueUrl=q", False),
        ({"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, b'{"WaitTimeSeconds": 5}', False),
        (JSON_RECEIVE, b"not json", False),
    ],
)
def test_long_polls_are_recognised_in_both_protocols(
    environ: dict[str, Any], body: bytes, expected: bool
) -> None:
    assert is_long_poll(environ, body) is expected


class BlockingApp:
    """A WSGI app that counts concurrent calls; calls whose body says ``block`` wait for ``release``."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        body = environ["wsgi.input"].read()
        with self.lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            if body == b"block":
                self.release.wait(5)
            else:
                time.sleep(0.01)
        finally:
            with self.lock:
                self.inside -= 1
        start_response("200 OK", [])
        return [body]


def call(app: SerializedApp, body: bytes, environ: dict[str, Any] | None = None) -> list[bytes]:
    request = {"CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), **(environ or {})}
    return list(app(request, lambda status, headers: None))


def test_requests_are_served_one_at_a_time_with_their_body_intact() -> None:
    inner = BlockingApp()
    app = SerializedApp(inner)
    threads = [threading.Thread(target=call, args=(app, b"x")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert inner.most_inside == 1
    assert call(app, b"payload") == [b"payload"]


def test_a_long_poll_does_not_hold_other_requests_up() -> None:
    inner = BlockingApp()
    app = SerializedApp(inner)
    long_poll = json.dumps({"WaitTimeSeconds": 20}).encode()
    waiting = threading.Thread(target=call, args=(app, b"block", JSON_RECEIVE))
    waiting.start()
    try:
        deadline = time.monotonic() + 5
        while inner.inside == 0 and time.monotonic() < deadline:
            time.sleep(0.001)
        # The first call is a short request holding the lock; a long poll still gets through.
        assert call(app, long_poll, JSON_RECEIVE) == [long_poll]
        assert inner.most_inside == 2
    finally:
        inner.release.set()
        waiting.join(5)


@pytest.fixture
def emulator(aws_credentials: None, moto_restored: None) -> Iterator[str]:
    server = EmulatorServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    assert server.error is None
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def test_concurrent_claims_of_the_same_items_succeed_exactly_once_each(emulator: str) -> None:
    client = boto3.client("dynamodb", endpoint_url=emulator, region_name="us-east-1")
    client.create_table(**table_definition("claims"))
    # Resolved once, before the threads: botocore builds a client's exception classes lazily, and threads
    # racing to do so can each get their own class, so one thread's raise escapes another's except clause.
    cancelled = client.exceptions.TransactionCanceledException
    won: list[str] = []
    lost: list[str] = []
    unexpected: list[Exception] = []
    together = threading.Barrier(4, timeout=30)  # all four writers go for the same item at once

    def claimer() -> None:
        for index in range(40):
            together.wait()
            try:
                client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": "claims",
                                "Item": {"PK": {"S": f"RUN#{index}"}, "SK": {"S": "RUN"}},
                                "ConditionExpression": "attribute_not_exists(PK)",
                            }
                        }
                    ]
                )
                won.append(str(index))
            except cancelled:
                lost.append(str(index))
            except Exception as error:
                unexpected.append(error)

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    switch_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads often: check-then-write races show up without the lock
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        sys.setswitchinterval(switch_interval)
    assert unexpected == []
    assert sorted(won, key=int) == [str(i) for i in range(40)]  # each item claimed by exactly one writer
    assert len(lost) == 120


def test_a_port_in_use_is_reported_instead_of_hanging(aws_credentials: None, moto_restored: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = EmulatorServer(ip_address="127.0.0.1", port=taken.getsockname()[1], verbose=False)
        server.start()
        assert server.error is not None  # werkzeug exits the thread (SystemExit) on a taken port
    assert DynamoDBBackend.transact_write_items is not moto_transactions.transact_write_items


@pytest.mark.parametrize("patch", MOTO_PATCHES, ids=lambda patch: patch.__name__.rsplit(".", 1)[-1])
def test_each_patch_replaces_exactly_what_it_lists(patch: Any, moto_restored: None) -> None:
    before = {(id(owner), name): owner.__dict__.get(name) for owner, name in patch.PATCHED}

    patch.install()

    assert all(owner.__dict__.get(name) is not before[(id(owner), name)] for owner, name in patch.PATCHED)
