"""punctual tasks create-bulk --file: the file's tasks sent 100 per request, one result per task in the file's
order, exit 1 when any was refused, and a bad file refused before anything is sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.cli.conftest import Invoke
from tests.unit.client.sdk_fakes import Api, ok, task


def _answer(request: httpx.Request) -> httpx.Response:
    """Creates every item of the request, except one whose name is "bad" (a per-item 400)."""
    results: list[dict[str, Any]] = []
    for index, item in enumerate(json.loads(request.content)["tasks"]):
        if item.get("name") == "bad":
            error = {
                "code": "validation_error",
                "message": "bad",
                "details": [{"field": "cron", "message": "x"}],
            }
            results.append({"index": index, "id": None, "status_code": 400, "error": error})
        else:
            results.append(
                {"index": index, "id": f"t-{index}", "status_code": 201, "task": task(id=f"t-{index}")}
            )
    failed = sum(1 for result in results if result["status_code"] >= 400)
    return ok({"results": results, "succeeded": len(results) - failed, "failed": failed})


def test_a_file_of_250_tasks_takes_three_requests_and_prints_each_result(
    api: Api, invoke: Invoke, tmp_path: Path
) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(json.dumps([{"at": "2026-12-01T09:00:00Z", "message": {"n": n}} for n in range(250)]))
    api.script(_answer, _answer, _answer)

    result = invoke("--json", "tasks", "create-bulk", "--file", str(path))

    assert result.exit_code == 0, result.output
    assert [request.url.path for request in api.requests] == ["/tasks/bulk"] * 3
    assert [len(api.body(index)["tasks"]) for index in range(3)] == [100, 100, 50]
    assert api.body(2)["tasks"][0]["message"] == {"n": 200}
    printed = json.loads(result.stdout)
    assert [item["index"] for item in printed] == list(range(250))
    assert all(item["status_code"] == 201 for item in printed)


def test_a_refused_task_is_shown_and_exits_1_from_stdin(api: Api, invoke: Invoke) -> None:
    api.script(_answer)
    tasks = {"tasks": [{"every": "5 minutes"}, {"cron": "61 * * * *", "name": "bad"}]}

    result = invoke("tasks", "create-bulk", "--file", "-", input=json.dumps(tasks))

    assert result.exit_code == 1
    assert "created" in result.stdout and "400" in result.stdout and "cron: x" in result.stdout
    assert "1 of 2 tasks created or found" in result.stdout


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("not json", "is not JSON"),
        ("[]", "non-empty JSON list"),
        ('{"at": "x"}', "non-empty JSON list"),
        ('[{"at": "x"}, 3]', "task 1 is not a JSON object"),
        ('[{"at": "x", "cronn": "y"}]', "unknown fields: cronn"),
        ('[{"at": "x", "every": "5 minutes"}]', "exactly one of at, every, cron"),
        ('[{"name": "n"}]', "exactly one of at, every, cron"),
    ],
)
def test_a_bad_file_is_usage_error_and_sends_nothing(
    api: Api, invoke: Invoke, tmp_path: Path, content: str, problem: str
) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(content)
    result = invoke("tasks", "create-bulk", "--file", str(path))
    assert result.exit_code == 2
    assert problem in " ".join(result.output.split())
    assert api.requests == []


def test_a_missing_file_is_usage_error(api: Api, invoke: Invoke, tmp_path: Path) -> None:
    result = invoke("tasks", "create-bulk", "--file", str(tmp_path / "absent.json"))
    assert result.exit_code == 2
    assert "cannot read" in result.output
