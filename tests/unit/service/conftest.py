"""Fixtures wiring the use cases over in-memory fakes (see tests/fakes.py)."""

from __future__ import annotations

import pytest

from tests.fakes import Services, make_services


@pytest.fixture
def services() -> Services:
    return make_services()
