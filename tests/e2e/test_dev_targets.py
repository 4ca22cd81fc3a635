"""Lambda and HTTPS targets end to end under ``punctual dev``: signed calls to a local receiver, retries,
outcome events on /events, the Agnost run-now flow with a local Lambda, overlap skip, and SSRF refusals on a
stage that allows neither http:// nor private addresses."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from punctual.domain.timefmt import format_instant

from tests.e2e.harness import DevProcess, running_dev, unique_key
from tests.e2e.receiver import Receiver, running_receiver

pytestmark = pytest.mark.e2e

FAST_RETRY = {"max_attempts": 3, "initial_delay": "1s", "max_delay": "1s", "backoff": "fixed"}


@pytest.fixture
def key() -> str:
    return unique_key("targets")


@pytest.fixture
def receiver(dev: DevProcess, key: str) -> Iterator[Receiver]:
    response = dev.request("GET", "/signing-secret", key=key)
    assert response.status_code == 200, response.text
    with running_receiver(response.json()["secret"]) as receiver:
        yield receiver


def create(dev: DevProcess, key: str, **body: Any) -> dict[str, Any]:
    response = dev.request("POST", "/tasks", key=key, json=body)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


def soon(seconds: float = 2) -> str:
    return format_instant(datetime.now(UTC) + timedelta(seconds=seconds))


def wait_for_run(
    dev: DevProcess, key: str, tracking_id: str, statuses: set[str], timeout: float
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    run: dict[str, Any] = {}
    while time.monotonic() < deadline:
        run = dev.request("GET", f"/runs/{tracking_id}", key=key).json()
        if run.get("status") in statuses:
            return run
        time.sleep(0.1)
    raise TimeoutError(f"run {tracking_id} is not {statuses} after {timeout} s: {run}")


def runs_of(dev: DevProcess, key: str, task_id: str) -> list[dict[str, Any]]:
    response = dev.request("GET", f"/tasks/{task_id}/runs", key=key)
    assert response.status_code == 200, response.text
    runs: list[dict[str, Any]] = response.json()["runs"]
    return runs


def test_500_twice_then_200_is_three_signed_attempts_and_one_completed_event(
    dev: DevProcess, key: str, receiver: Receiver
) -> None:
    receiver.scripts["/flaky"] = [500, 500, 200]
    target = {
        "type": "https",
        "url": receiver.url("/flaky"),
        "headers": {"Authorization": "Bearer e2e-secret"},
    }
    with dev.sse() as events:
        task = create(dev, key, at=soon(), target=target, retry=FAST_RETRY, message={"hello": "world"})
        _, completed = events.wait_for(
            lambda e: e.get("type") == "task.completed" and e["task_id"] == task["id"], timeout=30
        )
        later = events.drain(2)

    calls = receiver.calls_to("/flaky")
    assert len(calls) == 3
    assert all(call.refusal is None for call in calls), [
        call.refusal for call in calls
    ]  # verified signatures
    assert all(call.headers["authorization"] == "Bearer e2e-secret" for call in calls)
    assert [call.event["attempt"] for call in calls] == [1, 2, 3]
    assert calls[0].event["message"] == {"hello": "world"}
    assert completed["attempt"] == 3 and completed["response_status"] == 200
    outcome_events = [e for e in later if e.get("task_id") == task["id"] and e.get("type") != "task.fired"]
    assert [e["type"] for e in outcome_events] == ["task.completed"]  # exactly one
    fired = [e for e in later if e.get("task_id") == task["id"] and e.get("type") == "task.fired"]
    assert all("e2e-secret" not in str(e) for e in fired)  # target headers never travel in task.fired

    run = wait_for_run(dev, key, completed["tracking_id"], {"completed"}, timeout=5)
    assert run["attempt"] == 3 and [a["response_status"] for a in run["attempts"]] == [500, 500, 200]
    assert run["result"] == '{"handled": true}'
    shown = dev.request("GET", f"/tasks/{task['id']}", key=key).json()
    assert shown["target"]["headers"] == {"Authorization": "********"}
    listed = dev.request("GET", "/tasks", key=key, params={"status": "all"}).json()["tasks"]
    assert "e2e-secret" not in str(listed)


def test_an_always_failing_receiver_fails_the_run_after_max_attempts(
    dev: DevProcess, key: str, receiver: Receiver
) -> None:
    receiver.scripts["/down"] = [503]
    target = {"type": "https", "url": receiver.url("/down")}
    with dev.sse() as events:
        task = create(dev, key, at=soon(), target=target, retry=FAST_RETRY)
        _, failed = events.wait_for(
            lambda e: e.get("type") == "task.failed" and e["task_id"] == task["id"], timeout=30
        )
    assert len(receiver.calls_to("/down")) == 3
    run = wait_for_run(dev, key, failed["tracking_id"], {"failed"}, timeout=5)
    assert run["attempt"] == 3 and run["response_status"] == 503 and "3 attempts" in run["error"]

    # Replay: the receiver is back; one more attempt completes the run.
    receiver.scripts["/down"] = [503, 503, 503, 200]
    replay = dev.request("POST", f"/runs/{failed['tracking_id']}/retry", key=key)
    assert replay.status_code == 202, replay.text
    done = wait_for_run(dev, key, failed["tracking_id"], {"completed"}, timeout=15)
    assert len(done["attempts"]) == 4


def test_agnost_run_now_with_a_lambda_that_takes_200_ms(dev: DevProcess, key: str) -> None:
    task = create(
        dev,
        key,
        at=format_instant(datetime.now(UTC) + timedelta(days=1)),
        target={"type": "lambda", "function": "sleepy"},
    )
    accepted = dev.request("POST", f"/tasks/{task['id']}/runs", key=key)
    assert accepted.status_code == 202, accepted.text

    run = wait_for_run(dev, key, accepted.json()["tracking_id"], {"completed", "failed"}, timeout=20)

    assert run["status"] == "completed", run
    elapsed = datetime.fromisoformat(run["completed_at"]) - datetime.fromisoformat(run["started_at"])
    assert elapsed >= timedelta(milliseconds=200)
    assert '"slept_ms": 200' in run["result"] and task["id"] in run["result"]


def test_a_lambda_that_raises_fails_the_run_with_its_error(dev: DevProcess, key: str) -> None:
    task = create(
        dev,
        key,
        at=format_instant(datetime.now(UTC) + timedelta(days=1)),
        target={"type": "lambda", "function": "explode"},
        retry={"max_attempts": 1},
    )
    accepted = dev.request("POST", f"/tasks/{task['id']}/runs", key=key).json()
    run = wait_for_run(dev, key, accepted["tracking_id"], {"failed"}, timeout=20)
    assert "the business logic failed" in run["error"]


def test_a_function_that_is_not_registered_is_422(dev: DevProcess, key: str) -> None:
    response = dev.request(
        "POST", "/tasks", key=key, json={"at": soon(60), "target": {"type": "lambda", "function": "nope"}}
    )
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "target.function"


def test_overlap_skip_with_a_slow_target_records_skipped_runs(dev: DevProcess, key: str) -> None:
    # Every 10 s, a function that takes 12 s: the second occurrence meets the first still running.
    task = create(
        dev,
        key,
        every="10 seconds",
        target={"type": "lambda", "function": "slow", "timeout": "30s"},
        overlap="skip",
    )
    deadline = time.monotonic() + 45
    skipped: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not skipped:
        time.sleep(1)
        skipped = [run for run in runs_of(dev, key, task["id"]) if run["status"] == "skipped"]
    dev.request("DELETE", f"/tasks/{task['id']}", key=key)
    runs = runs_of(dev, key, task["id"])
    assert skipped, runs
    assert "overlap" in skipped[0]["error"]
    running_or_done = [run for run in runs if run["status"] in ("pending", "running", "completed")]
    assert running_or_done  # the first occurrence was called, not skipped


@pytest.fixture(scope="module")
def strict_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevProcess]:
    args = ("--no-jitter", "--strict-targets", "--resolve", "internal.example.test=10.0.0.1")
    with running_dev(Path(tmp_path_factory.mktemp("strict")), *args) as process:
        yield process


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://internal.example.test/hook",
        "http://[::1]/",
        "https://[::1]/",
        "https://127.0.0.1/",
    ],
)
def test_ssrf_attempts_are_422_on_a_strict_stage(strict_dev: DevProcess, url: str) -> None:
    response = strict_dev.request(
        "POST", "/tasks", json={"at": soon(60), "target": {"type": "https", "url": url}}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["details"][0]["field"] == "target.url"
