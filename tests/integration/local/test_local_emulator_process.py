"""The emulator as a child process: it serves AWS calls once started, outlives a Ctrl-C meant for its parent,
goes away when stopped or when its parent closes the pipe, and reports a port in use."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from punctual.local.emulator_process import EmulatorProcess, EmulatorStartError


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sqs(port: int) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def emulator() -> Iterator[EmulatorProcess]:
    process = EmulatorProcess("127.0.0.1", free_port())
    process.start()
    try:
        yield process
    finally:
        process.stop()


def child_pid(emulator: EmulatorProcess) -> int:
    assert emulator._process is not None
    return emulator._process.pid


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not running
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def test_it_serves_aws_calls(emulator: EmulatorProcess) -> None:
    client = sqs(emulator.port)
    url = client.create_queue(QueueName="q")["QueueUrl"]
    client.send_message(QueueUrl=url, MessageBody="hello")

    assert [m["Body"] for m in client.receive_message(QueueUrl=url)["Messages"]] == ["hello"]


def test_a_ctrl_c_meant_for_the_parent_does_not_stop_it(emulator: EmulatorProcess) -> None:
    os.kill(child_pid(emulator), signal.SIGINT)
    time.sleep(0.2)

    assert sqs(emulator.port).list_queues().get("QueueUrls", []) == []


def test_stop_ends_the_child(emulator: EmulatorProcess) -> None:
    pid = child_pid(emulator)

    emulator.stop()

    assert not is_running(pid)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", emulator.port), timeout=1).close()


def test_a_port_in_use_is_reported() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = EmulatorProcess("127.0.0.1", taken.getsockname()[1])
        with pytest.raises(EmulatorStartError, match="Address already in use"):
            process.start()


def test_the_child_goes_when_its_parent_dies_without_stopping_it() -> None:
    import subprocess
    import sys

    port = free_port()
    parent = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os; from punctual.local.emulator_process import EmulatorProcess\n"
            f"p = EmulatorProcess('127.0.0.1', {port}); p.start()\n"
            "print(p._process.pid, flush=True); os._exit(0)  # no stop(): a killed parent",
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    pid = int(parent.stdout.split()[0])
    deadline = time.monotonic() + 10
    while is_running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)

    assert not is_running(pid)
