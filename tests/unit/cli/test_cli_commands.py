"""The commands against a scripted API: what each sends, what it prints (tables or --json), exit codes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from punctual.local import cli as local_cli

from tests.unit.cli.conftest import Invoke
from tests.unit.client.sdk_fakes import Api, error, ok, run, task


def test_create_at_sends_the_schedule_and_prints_json(api: Api, invoke: Invoke) -> None:
    api.script(ok(task(), 201))
    result = invoke(
        "--json", "tasks", "create", "--at", "2026-12-01T09:00:00Z", "--name", "billOnDemand",
        "--message", '{"invoice": 42}', "--meta", "customer=c-17", "--meta", "env=dev",
        "--misfire", "skip", "--tz", "Europe/Berlin", "--idempotency-key", "invoice-42",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sent = api.requests[0]
    assert (sent.method, sent.url.path) == ("POST", "/tasks")
    assert sent.headers["Idempotency-Key"] == "invoice-42"
    assert api.body(0) == {
        "at": "2026-12-01T09:00:00Z",
        "timezone": "Europe/Berlin",
        "name": "billOnDemand",
        "misfire": "skip",
        "message": {"invoice": 42},
        "metadata": {"customer": "c-17", "env": "dev"},
    }
    printed = json.loads(result.stdout)
    assert printed["id"] == "t-1"
    assert printed["at"] == "2026-12-01T09:00:00Z"
    assert printed["created_at"] == "2026-11-30T10:00:00.123Z"
    assert printed["message"] == {"invoice": 42}


def test_create_in_is_now_plus_the_duration(api: Api, invoke: Invoke) -> None:
    api.script(ok(task(), 201))
    before = datetime.now(UTC)
    result = invoke("tasks", "create", "--in", "1h30m", "--message", '"hi"')
    assert result.exit_code == 0, result.output
    at = datetime.fromisoformat(api.body()["at"])
    assert (
        before + timedelta(minutes=90) - timedelta(seconds=1)
        <= at
        <= datetime.now(UTC) + timedelta(minutes=90)
    )
    assert api.body()["message"] == "hi"
    assert "task created" in result.stdout and "t-1" in result.stdout  # the rich panel


def test_create_every_and_cron_and_a_message_file(api: Api, invoke: Invoke, tmp_path: Path) -> None:
    path = tmp_path / "message.json"
    path.write_text('{"from": "file"}')
    api.script(ok(task(at=None, every="5 minutes"), 201), ok(task(at=None, cron="0 9 * * *"), 201))
    assert invoke("tasks", "create", "--every", "5 minutes", "--message", f"@{path}").exit_code == 0
    assert api.body(0) == {"every": "5 minutes", "message": {"from": "file"}}
    result = invoke("tasks", "create", "--cron", "0 9 * * *", "--message", "@-", input="[1, 2]")
    assert result.exit_code == 0, result.output
    assert api.body(1) == {"cron": "0 9 * * *", "message": [1, 2]}


@pytest.mark.parametrize(
    "args",
    [
        ["tasks", "create"],
        ["tasks", "create", "--at", "2026-12-01T09:00:00Z", "--in", "5m"],
        ["tasks", "create", "--in", "soon"],
        ["tasks", "create", "--in", "5m", "--message", "not json"],
        ["tasks", "create", "--in", "5m", "--message", "@/nonexistent/message.json"],
        ["tasks", "create", "--in", "5m", "--meta", "novalue"],
        ["tasks", "create", "--in", "5m", "--misfire", "sometimes"],
        ["tasks", "reschedule", "t-1"],
        ["tasks", "get"],
        ["tasks", "frobnicate"],
    ],
)
def test_bad_usage_is_exit_2_and_sends_nothing(api: Api, invoke: Invoke, args: list[str]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert api.requests == []


def test_list_follows_pages_with_filters(api: Api, invoke: Invoke) -> None:
    api.script(
        ok({"tasks": [task(id="t-1")], "next_cursor": "c2"}),
        ok({"tasks": [task(id="t-2", name=None, at=None, cron="*/5 * * * *", timezone="Europe/Berlin")], "next_cursor": None}),
    )  # fmt: skip
    result = invoke(
        "tasks",
        "list",
        "--status",
        "scheduled",
        "--status",
        "paused",
        "--name",
        "n",
        "--meta",
        "customer=c-17",
    )
    assert result.exit_code == 0, result.output
    params = api.requests[0].url.params
    assert (params["status"], params["name"], params["metadata.customer"]) == (
        "scheduled,paused",
        "n",
        "c-17",
    )
    assert api.requests[1].url.params["cursor"] == "c2"
    assert "t-1" in result.stdout and "t-2" in result.stdout and "2 tasks" in result.stdout


def test_list_json_and_limit(api: Api, invoke: Invoke) -> None:
    api.script(ok({"tasks": [task(id="t-1"), task(id="t-2")], "next_cursor": "more"}))
    result = invoke("--json", "tasks", "list", "--limit", "1")
    assert result.exit_code == 0, result.output
    assert [t["id"] for t in json.loads(result.stdout)] == ["t-1"]
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("command", "method", "path", "body"),
    [
        (["tasks", "get", "t-1"], "GET", "/tasks/t-1", None),
        (["tasks", "cancel", "t-1"], "DELETE", "/tasks/t-1", None),
        (["tasks", "pause", "t-1"], "PATCH", "/tasks/t-1", {"paused": True}),
        (["tasks", "resume", "t-1"], "PATCH", "/tasks/t-1", {"paused": False}),
        (["tasks", "reschedule", "t-1", "--at", "2026-12-02T09:00:00Z"], "PATCH", "/tasks/t-1", {"at": "2026-12-02T09:00:00Z"}),
    ],
)  # fmt: skip
def test_single_task_commands(
    api: Api, invoke: Invoke, command: list[str], method: str, path: str, body: object
) -> None:
    api.script(ok(task()))
    result = invoke("--json", *command)
    assert result.exit_code == 0, result.output
    assert (api.requests[0].method, api.requests[0].url.path) == (method, path)
    if body is not None:
        assert api.body() == body
    assert json.loads(result.stdout)["id"] == "t-1"


def test_reschedule_in(api: Api, invoke: Invoke) -> None:
    api.script(ok(task()))
    assert invoke("tasks", "reschedule", "t-1", "--in", "2h").exit_code == 0
    at = datetime.fromisoformat(api.body()["at"])
    assert abs((at - datetime.now(UTC)) - timedelta(hours=2)) < timedelta(seconds=5)


@pytest.mark.parametrize(
    ("status", "code", "exit_code"),
    [(404, "not_found", 3), (409, "conflict", 4), (422, "validation_error", 1), (401, "unauthorized", 1)],
)
def test_api_errors_map_to_exit_codes_with_code_and_message_on_stderr(
    api: Api, invoke: Invoke, status: int, code: str, exit_code: int
) -> None:
    api.script(error(status, code, "the server says no"))
    result = invoke("tasks", "get", "t-1")
    assert result.exit_code == exit_code
    assert f"{code}: the server says no" in result.stderr
    assert "at: bad" in result.stderr  # the field details
    assert result.stdout == ""


def test_api_errors_in_json_mode_are_json_on_stderr(api: Api, invoke: Invoke) -> None:
    api.script(error(409, "conflict", "being published"))
    result = invoke("--json", "tasks", "cancel", "t-1")
    assert result.exit_code == 4
    assert json.loads(result.stderr)["error"]["code"] == "conflict"


def test_connection_refused_is_exit_1(api: Api, invoke: Invoke) -> None:
    api.script(*[httpx.ConnectError("refused")] * 4)  # the first try and three retries
    result = invoke("runs", "get", "r-1")
    assert result.exit_code == 1
    assert "connection_error" in result.stderr


def test_run_now_and_wait(api: Api, invoke: Invoke) -> None:
    api.script(ok(run(), 202), ok(run(status="completed", completed_at="2026-11-30T10:00:01Z")))
    result = invoke("--json", "tasks", "run", "t-1", "--wait")
    assert result.exit_code == 0, result.output
    assert (api.requests[0].method, api.requests[0].url.path) == ("POST", "/tasks/t-1/runs")
    assert api.requests[1].url.path == "/runs/r-1"
    assert json.loads(result.stdout)["status"] == "completed"


def test_run_now_without_wait_prints_the_tracking_id(api: Api, invoke: Invoke) -> None:
    api.script(ok(run(), 202))
    result = invoke("tasks", "run", "t-1")
    assert result.exit_code == 0, result.output
    assert "r-1" in result.stdout and "pending" in result.stdout


def test_runs_get_and_a_failed_wait(api: Api, invoke: Invoke) -> None:
    api.script(ok(run(status="running")), ok(run(status="failed", error="boom")))
    assert json.loads(invoke("--json", "runs", "get", "r-1").stdout)["status"] == "running"
    result = invoke("runs", "wait", "r-1", "--timeout", "5")
    assert result.exit_code == 1
    assert "boom" in result.stdout


def test_runs_wait_timeout_is_exit_1(api: Api, invoke: Invoke) -> None:
    api.script(ok(run(status="running")))
    result = invoke("runs", "wait", "r-1", "--timeout", "0")
    assert result.exit_code == 1
    assert "timeout" in result.stderr


def test_target_options_and_environment(api: Api, invoke: Invoke) -> None:
    api.script(ok(task()), ok(task()))
    assert invoke("--api-key", "k1", "--user", "u1", "tasks", "get", "t-1").exit_code == 0
    assert (api.requests[0].headers["x-api-key"], api.requests[0].headers["X-Punctual-User"]) == ("k1", "u1")
    assert invoke("tasks", "get", "t-1", env={"PUNCTUAL_API_KEY": "k2", "PUNCTUAL_USER": "u2"}).exit_code == 0
    assert (api.requests[1].headers["x-api-key"], api.requests[1].headers["X-Punctual-User"]) == ("k2", "u2")


def test_the_default_url_is_punctual_dev(api: Api) -> None:
    from punctual_cli import app as cli_app
    from typer.testing import CliRunner

    api.script(ok(task()))
    assert CliRunner().invoke(cli_app.app, ["tasks", "get", "t-1"]).exit_code == 0
    assert str(api.requests[0].url) == "http://127.0.0.1:8000/tasks/t-1"


def test_the_console_script_dispatches(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    api.script(ok(task()))
    assert local_cli.main(["--url", "http://x.test", "--json", "tasks", "get", "t-1"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "t-1"
    assert local_cli.main(["tasks", "get", "t-2", "--bogus"]) == 2
    assert local_cli.main(["--help"]) == 0
    help_text = capsys.readouterr().out
    assert "Exit codes" in help_text and "dev" in help_text and "tasks" in help_text


def test_punctual_dev_and_the_functions_never_load_typer_or_rich() -> None:
    import subprocess
    import sys

    code = "import sys, punctual.local.cli; assert not {'typer', 'rich', 'punctual_cli'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
