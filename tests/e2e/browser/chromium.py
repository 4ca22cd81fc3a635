"""Debian's Chromium for the browser tests: found, or installed with apt-get when running as root (how CI
runs); anywhere else a clear failure, never a skip. Playwright drives it (``executable_path``), since the
browser builds Playwright would download are not reachable here."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
PACKAGES = ("chromium",)
INSTALL_TIMEOUT = 900


class ChromiumUnavailable(RuntimeError):
    pass


def _found() -> str | None:
    for candidate in (os.environ.get("PUNCTUAL_CHROMIUM"), *CANDIDATES):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


def _apt_get(*args: str) -> None:
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    result = subprocess.run(
        ["apt-get", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise ChromiumUnavailable(
            f"apt-get {' '.join(args)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )


def chromium_path() -> str:
    """The browser's path, installing Debian's ``chromium`` package first when it is missing and we are root."""
    found = _found()
    if found is not None:
        return found
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ChromiumUnavailable(
            "The browser tests need Chromium and could not find it (looked for "
            f"{', '.join(CANDIDATES)} and $PUNCTUAL_CHROMIUM). Install it with "
            "`sudo apt-get install -y chromium`, or point PUNCTUAL_CHROMIUM at a Chromium binary."
        )
    _apt_get("update", "-qq")
    _apt_get("install", "-y", "-qq", *PACKAGES)
    found = _found()
    if found is None:
        raise ChromiumUnavailable(f"apt-get installed {', '.join(PACKAGES)} but no Chromium binary appeared")
    return found
