"""``punctual dev`` as a process: bad requests never take it down, startup says where everything is, and
SIGINT / SIGTERM stop it cleanly and free its ports."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import pytest

from tests.e2e.harness import HTTP_TIMEOUT, DevProcess, start_dev, unique_key

pytestmark = pytest.mark.e2e


def test_bad_requests_get_4xx_and_the_process_keeps_serving(dev: DevProcess) -> None:
    key = unique_key("bad")
    not_json = dev.request(
        "POST", "/schedule", key=key, data="{nope", headers={"content-type": "application/json"}
    )
    assert not_json.status_code == 400
    assert not_json.json()["error"]["code"]

    bad_instant = dev.request("POST", "/schedule", key=key, json={"timestamp": "tomorrow-ish", "message": 1})
    assert bad_instant.status_code == 400

    assert dev.request("GET", "/nope", key=key).status_code == 404
    assert dev.request("PUT", "/tasks", key=key).status_code == 405
    assert (
        dev.request("POST", "/tasks", key=key, data="x" * (300 * 1024)).status_code == 413
    )  # the handler's limit
    assert (
        dev.request("POST", "/tasks", key=key, data=b"x" * (11 * 1024 * 1024)).status_code == 413
    )  # the gateway's
    assert dev.request("POST", "/tasks", key=key, data=b"\xff\xfe\x00").status_code == 400

    with socket.create_connection(("127.0.0.1", dev.api_port), timeout=HTTP_TIMEOUT) as raw:
        raw.sendall(b"THIS IS NOT HTTP\r\n\r\n")
        raw.recv(1024)  # an error answer or a closed connection, either is fine

    assert dev.request("GET", "/health").json() == {"status": "ok"}
    assert dev.process.poll() is None


def test_openapi_and_docs_are_served(dev: DevProcess) -> None:
    document = dev.request("GET", "/openapi.json")
    assert document.status_code == 200
    assert "/schedule" in document.json()["paths"]
    assert "/openapi.json" in dev.request("GET", "/docs").text


def test_startup_prints_the_endpoints_and_the_events_queue(dev: DevProcess) -> None:
    output = dev.output()
    assert dev.api in output
    assert dev.aws in output
    assert dev.events_queue_url() in output
    assert f"{dev.api}/ui/" in output  # the dashboard
    assert "sqs receive-message" in output


def test_the_sweeper_runs_every_interval_without_errors(dev: DevProcess) -> None:
    deadline = time.monotonic() + 15
    while dev.output().count('"message":"sweep finished"') < 2:
        assert time.monotonic() < deadline, dev.output()[-3000:]
        time.sleep(0.2)
    assert "sweeper failed" not in dev.output()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_it_cleanly_and_frees_the_ports(tmp_path: Path, signum: int) -> None:
    dev = start_dev(tmp_path, "--no-jitter")
    with dev.sse():
        exit_code = dev.stop(signum)  # an open SSE stream must not hold the shutdown up
    assert exit_code == 0, dev.output()
    for port in (dev.api_port, dev.aws_port):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(("127.0.0.1", port))


def test_a_port_in_use_is_reported_not_hung_on(tmp_path: Path, dev: DevProcess) -> None:
    with pytest.raises(RuntimeError, match="not available"):
        start_dev(tmp_path, "--aws-port", str(dev.aws_port))
