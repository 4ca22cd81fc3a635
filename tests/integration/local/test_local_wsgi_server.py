"""The emulator's HTTP/1.1 server: many requests per connection, bodies framed by Content-Length or chunked,
HEAD, and clear answers when a request or the application fails."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from punctual.local.wsgi_server import KeepAliveWsgiServer


def echo(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers with what it saw; ``/fail`` raises; ``/write`` uses the WSGI write() callable."""
    if environ["PATH_INFO"] == "/fail":
        raise RuntimeError("boom")
    body = environ["wsgi.input"].read()
    seen = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "raw_uri": environ["RAW_URI"],
        "body": body.decode(),
        "content_type": environ.get("CONTENT_TYPE"),
        "target": environ.get("HTTP_X_AMZ_TARGET"),
        "peer_port": environ["REMOTE_PORT"],
    }
    write = start_response("200 OK", [("Content-Type", "application/json"), ("Connection", "keep-alive")])
    if environ["PATH_INFO"] == "/write":
        write(b'{"written": ')
        return [b"true}"]
    return [json.dumps(seen).encode()]


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    httpd = KeepAliveWsgiServer(("127.0.0.1", 0), echo)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield "127.0.0.1", httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_requests_share_one_connection(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    answers = []
    for index in range(3):
        connection.request("POST", f"/q{index}?a=1", body=f"body-{index}", headers={"X-Amz-Target": "Svc.Op"})
        response = connection.getresponse()
        assert response.status == 200 and response.getheader("Connection") is None
        answers.append(json.loads(response.read()))

    assert [a["body"] for a in answers] == ["body-0", "body-1", "body-2"]
    assert {a["peer_port"] for a in answers} == {answers[0]["peer_port"]}  # one TCP connection
    assert answers[0]["path"] == "/q0" and answers[0]["query"] == "a=1" and answers[0]["target"] == "Svc.Op"


def test_a_percent_encoded_path_is_decoded_and_kept_raw(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    connection.request("GET", "/123/queue%2Dname%20x")
    answer = json.loads(connection.getresponse().read())

    assert answer["path"] == "/123/queue-name x" and answer["raw_uri"] == "/123/queue%2Dname%20x"


def test_a_chunked_body_is_read_whole(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    connection.request("POST", "/", body=iter([b"Action=", b"SendMessage"]), encode_chunked=True)
    answer = json.loads(connection.getresponse().read())

    assert answer["body"] == "Action=SendMessage"


def test_head_has_the_length_but_no_body_and_the_connection_goes_on(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    connection.request("HEAD", "/")
    head = connection.getresponse()
    assert head.status == 200 and int(head.getheader("Content-Length")) > 0 and head.read() == b""
    connection.request("GET", "/write")

    assert json.loads(connection.getresponse().read()) == {"written": True}


def test_an_application_error_is_a_500_and_the_server_goes_on(server: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*server, timeout=5)
    connection.request("GET", "/fail")
    failed = connection.getresponse()
    assert failed.status == 500 and failed.read() == b"emulator error"
    connection.request("GET", "/after")

    assert json.loads(connection.getresponse().read())["path"] == "/after"


def test_a_malformed_chunked_body_is_a_400_that_closes_the_connection(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as raw:
        raw.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 400 ") and b"Connection: close" in answer


def test_connection_close_is_honoured(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=5) as raw:
        raw.sendall(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := raw.recv(4096):  # returns b"" once the server closes
            answer += chunk

    assert answer.startswith(b"HTTP/1.1 200 ") and b"Connection: close" in answer


def test_every_answer_carries_the_current_date(server: tuple[str, int]) -> None:
    from email.utils import parsedate_to_datetime

    before = time.time()
    connection = http.client.HTTPConnection(*server)
    dates = []
    for _ in range(3):
        connection.request("GET", "/")
        response = connection.getresponse()
        response.read()
        dates.append(parsedate_to_datetime(response.headers["Date"]).timestamp())
    connection.close()

    assert all(int(before) <= date <= time.time() + 1 for date in dates)
