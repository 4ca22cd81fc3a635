from __future__ import annotations

import pytest

from tests.integration.api.fixtures import STACK_ENV_MARKER, quiet_empty_metrics, stack

__all__ = ["quiet_empty_metrics", "stack"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", STACK_ENV_MARKER)


@pytest.fixture
def moto_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Put moto back as it was after the test: an in-process EmulatorServer installs the emulator's patches
    (punctual dev runs it in a child process), and the other tests use moto's own implementation."""
    from punctual.local.emulator import MOTO_PATCHES

    for patch in MOTO_PATCHES:
        for owner, name in patch.PATCHED:
            monkeypatch.setattr(owner, name, getattr(owner, name))
