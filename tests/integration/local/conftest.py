from __future__ import annotations

import pytest

from tests.integration.api.fixtures import STACK_ENV_MARKER, quiet_empty_metrics, stack

__all__ = ["quiet_empty_metrics", "stack"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", STACK_ENV_MARKER)
