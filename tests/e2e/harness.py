"""``punctual dev`` as a subprocess on free ports, and the clients the e2e tests drive it with: HTTP for the
API, an SSE reader for ``GET /events``, and SQS (over HTTP, at the emulator's endpoint) for the events
queue. Every wait has a deadline; the process is always stopped, killed if it does not stop."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import requests

REPO = Path(__file__).resolve().parents[2]
HTTP_TIMEOUT = 10
STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 15
EVENTS_QUEUE = "punctual-local-events"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def unique_key(label: str) -> str:
    return f"{label}-{uuid.uuid4().hex[:12]}"


@dataclass
class DevProcess:
    process: subprocess.Popen[bytes]
    api_port: int
    aws_port: int
    log_path: Path

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def aws(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    # --- HTTP ---------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if key is not None:
            headers["x-api-key"] = key
        return requests.request(method, self.api + path, headers=headers, timeout=HTTP_TIMEOUT, **kwargs)

    # --- the emulator, over HTTP ----------------------------------------------------------------------
    def sqs(self) -> Any:
        return boto3.client(
            "sqs",
            endpoint_url=self.aws,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def events_queue_url(self) -> str:
        return str(self.sqs().get_queue_url(QueueName=EVENTS_QUEUE)["QueueUrl"])

    def sse(self) -> SseStream:
        return SseStream(self.api_port)

    # --- lifecycle ------------------------------------------------------------------------------------
    def stop(self, signum: int = signal.SIGINT) -> int:
        """Signal, wait, and kill if it does not stop in time. Returns the exit code of the signalled stop
        (or -9 when it had to be killed)."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT)
            return -9


def start_dev(log_dir: Path, *args: str) -> DevProcess:
    api_port, aws_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "functions"), str(REPO), env.get("PYTHONPATH", "")])
    log_path = log_dir / f"punctual-dev-{api_port}.log"
    command = [sys.executable, "-m", "punctual.local.cli", "dev", "--api-port", str(api_port)]
    command += ["--aws-port", str(aws_port), *args]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    dev = DevProcess(process, api_port, aws_port, log_path)
    try:
        wait_until_healthy(dev)
    except BaseException:
        dev.stop()
        raise
    return dev


def wait_until_healthy(dev: DevProcess) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if dev.process.poll() is not None:
            raise RuntimeError(f"punctual dev exited with {dev.process.returncode}:\n{dev.output()}")
        try:
            if requests.get(dev.api + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"punctual dev was not healthy within {STARTUP_TIMEOUT} s:\n{dev.output()}")


@contextmanager
def running_dev(log_dir: Path, *args: str) -> Iterator[DevProcess]:
    dev = start_dev(log_dir, *args)
    try:
        yield dev
    finally:
        dev.stop()


@contextmanager
def running_dev_with_temporary_log(*args: str) -> Iterator[DevProcess]:
    """``running_dev`` with its log in a temporary directory, removed afterwards (the benchmarks)."""
    with (
        tempfile.TemporaryDirectory(prefix="punctual-dev-") as log_dir,
        running_dev(Path(log_dir), *args) as dev,
    ):
        yield dev


class SseStream:
    """Reads ``GET /events`` on a thread; ``data:`` payloads arrive (as text) on a queue. A plain
    http.client connection, so leaving can shut the socket down under a blocked read at once."""

    def __init__(self, port: int) -> None:
        self._port = port
        self._payloads: queue.Queue[str] = queue.Queue()
        self._subscribed = threading.Event()
        self._connection: http.client.HTTPConnection | None = None
        self._socket: socket.socket | None = None
        self.seen: list[str] = []

    def __enter__(self) -> SseStream:
        self._connection = http.client.HTTPConnection("127.0.0.1", self._port, timeout=60)
        self._connection.request("GET", "/events", headers={"Accept": "text/event-stream"})
        self._socket = self._connection.sock
        response = self._connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"GET /events answered {response.status}")
        threading.Thread(target=self._read, args=(response,), daemon=True).start()
        if not self._subscribed.wait(HTTP_TIMEOUT):
            raise TimeoutError("the SSE stream never confirmed the subscription")
        return self

    def __exit__(self, *_: object) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        if self._connection is not None:
            self._connection.close()

    def _read(self, response: http.client.HTTPResponse) -> None:
        try:
            while line := response.readline():
                text = line.decode("utf-8").rstrip("\r\n")
                if text.startswith(":"):
                    self._subscribed.set()
                elif text.startswith("data: "):
                    self._payloads.put(text.removeprefix("data: "))
        except Exception:  # __exit__ shut the socket under the read; http.client fails in several ways
            return

    def wait_for(
        self, matches: Callable[[dict[str, Any]], bool], timeout: float
    ) -> tuple[str, dict[str, Any]]:
        """The first event (raw text, parsed) that matches, or TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event on /events within {timeout} s; saw {self.seen}")
            try:
                raw = self._payloads.get(timeout=remaining)
            except queue.Empty:
                continue
            self.seen.append(raw)
            event = json.loads(raw)
            if matches(event):
                return raw, event

    def drain(self, seconds: float) -> list[dict[str, Any]]:
        """Everything that arrives within ``seconds`` (used to show that something does NOT arrive)."""
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                self.seen.append(self._payloads.get(timeout=remaining))
            except queue.Empty:
                break
        return [json.loads(raw) for raw in self.seen]


def receive_from_queue(
    sqs: Any, queue_url: str, matches: Callable[[dict[str, Any]], bool], timeout: float
) -> tuple[str, list[str]]:
    """Receive (and delete) messages until one's body matches; returns (that body, every body seen)."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        for message in messages:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            seen.append(message["Body"])
        for body in seen:
            if matches(json.loads(body)):
                return body, seen
    raise TimeoutError(f"no matching message on {queue_url} within {timeout} s; saw {seen}")
