"""The ``punctual`` console entry (``python -m punctual.local.cli``, as the console script runs it) against
``punctual dev``: create, list, get, run --wait, cancel, a not-found exit code, and ``events tail`` printing a
task as it fires."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from typing import Any

import pytest

from tests.e2e.harness import REPO, DevProcess, unique_key

pytestmark = pytest.mark.e2e

TIMEOUT = 30


def cli_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PUNCTUAL_"))}
    paths = [str(REPO / "functions"), str(REPO / "tools"), str(REPO), env.get("PYTHONPATH", "")]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def command(dev: DevProcess, key: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "punctual.local.cli", "--url", dev.api, "--api-key", key, "--json", *args]


def punctual(dev: DevProcess, key: str, *args: str, expect: int = 0) -> Any:
    done = subprocess.run(
        command(dev, key, *args), capture_output=True, text=True, timeout=TIMEOUT, cwd=REPO, env=cli_env()
    )
    assert done.returncode == expect, f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return json.loads(done.stdout) if expect == 0 else json.loads(done.stderr)


def wait_for_line(stream: Any, needle: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    seen = ""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            line = stream.readline()
            if not line:
                break
            seen += line
            if needle in line:
                return line
    raise TimeoutError(f"no {needle!r} within {timeout} s; saw {seen!r}")


def test_the_cli_drives_punctual_dev(dev: DevProcess) -> None:
    key, name = unique_key("cli"), unique_key("cli-task")
    tail = subprocess.Popen(
        command(dev, key, "events", "tail", "--count", "1", "--name", name),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=cli_env(),
    )
    try:
        assert tail.stderr is not None
        wait_for_line(tail.stderr, "listening for fired events", TIMEOUT)

        task = punctual(dev, key, "tasks", "create", "--in", "2s", "--name", name, "--message", '{"hi": 1}')
        assert (task["name"], task["status"], task["message"]) == (name, "scheduled", {"hi": 1})
        assert [t["id"] for t in punctual(dev, key, "tasks", "list", "--name", name, "--status", "all")] == [
            task["id"]
        ]
        got = punctual(dev, key, "tasks", "get", task["id"])
        assert (got["id"], got["at"]) == (task["id"], task["at"])  # by now it may have fired

        other = punctual(dev, key, "tasks", "create", "--in", "1h", "--meta", "kind=manual")
        run = punctual(dev, key, "tasks", "run", other["id"], "--wait", "--timeout", "10")
        assert (run["task_id"], run["status"]) == (other["id"], "completed")
        assert punctual(dev, key, "tasks", "cancel", other["id"])["status"] == "cancelled"
        missing = punctual(dev, key, "tasks", "get", "no-such-task", expect=3)
        assert missing["error"]["code"] == "not_found"

        out, err = tail.communicate(timeout=TIMEOUT)
        assert tail.returncode == 0, err
        [event] = [json.loads(line) for line in out.splitlines()]
        assert (event["task_id"], event["name"], event["message"]) == (task["id"], name, {"hi": 1})
        assert event["run_kind"] == "scheduled"
        # The event is out before the executor records the run: the task turns completed within moments.
        deadline = time.monotonic() + 10
        while (status := punctual(dev, key, "tasks", "get", task["id"])["status"]) != "completed":
            assert status == "scheduled" and time.monotonic() < deadline, status
            time.sleep(0.2)
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.communicate()
