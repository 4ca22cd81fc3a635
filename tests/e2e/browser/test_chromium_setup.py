"""How the browser tests get their Chromium: found, installed by apt-get as root, or a clear failure."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import chromium


@pytest.fixture
def nothing_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUNCTUAL_CHROMIUM", raising=False)
    monkeypatch.setattr(chromium, "CANDIDATES", ("/nonexistent/chromium",))
    monkeypatch.setattr(
        chromium.shutil, "which", lambda name: "/usr/bin/apt-get" if name == "apt-get" else None
    )


def test_a_binary_named_by_the_environment_is_used(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "chromium"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("PUNCTUAL_CHROMIUM", str(binary))

    assert chromium.chromium_path() == str(binary)


@pytest.mark.usefixtures("nothing_installed")
def test_without_root_it_fails_with_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 1000)
    ran: list[Any] = []
    monkeypatch.setattr(chromium.subprocess, "run", lambda *args, **kwargs: ran.append(args))

    with pytest.raises(chromium.ChromiumUnavailable, match="apt-get install -y chromium"):
        chromium.chromium_path()
    assert ran == []


@pytest.mark.usefixtures("nothing_installed")
def test_as_root_it_installs_debians_package_then_finds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    installed = tmp_path / "chromium"
    commands: list[list[str]] = []

    def apt_get(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        if "install" in command:
            installed.write_text("#!/bin/sh\n")
            installed.chmod(0o755)
            monkeypatch.setattr(chromium, "CANDIDATES", (str(installed),))
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(chromium.subprocess, "run", apt_get)

    assert chromium.chromium_path() == str(installed)
    assert commands == [["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]]


@pytest.mark.usefixtures("nothing_installed")
def test_a_failed_install_says_what_apt_get_answered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chromium.os, "geteuid", lambda: 0)
    monkeypatch.setattr(
        chromium.subprocess,
        "run",
        lambda command, **_: subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package"),
    )

    with pytest.raises(chromium.ChromiumUnavailable, match="Unable to locate package"):
        chromium.chromium_path()
