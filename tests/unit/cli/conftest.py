"""The CLI against a scripted API: ``punctual_cli.app.transport`` answers from ``tests.unit.client``'s fake."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import Result
from punctual_cli import app as cli_app
from typer.testing import CliRunner

from tests.unit.client.sdk_fakes import URL, Api

Invoke = Callable[..., Result]


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Api:
    fake = Api()
    monkeypatch.setattr(cli_app, "transport", lambda: fake.transport)
    for name in ("PUNCTUAL_URL", "PUNCTUAL_API_KEY", "PUNCTUAL_USER", "PUNCTUAL_SECRET"):
        monkeypatch.delenv(name, raising=False)
    return fake


@pytest.fixture
def invoke(api: Api) -> Invoke:
    """``invoke("tasks", "get", "t-1")``: runs the command against the fake at ``URL``."""

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        return CliRunner().invoke(cli_app.app, ["--url", URL, *args], input=input, env=env)

    return run
