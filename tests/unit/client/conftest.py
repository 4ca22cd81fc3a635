from __future__ import annotations

import pytest

from tests.unit.client.sdk_fakes import Api


@pytest.fixture
def api() -> Api:
    return Api()
