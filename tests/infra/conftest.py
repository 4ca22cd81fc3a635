"""One synthesized stack per configuration, shared by every infra test of the session (a synth takes ~10 s)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.synth import Synthesized, synthesize

# A dev stage with every optional feature switched on, and the operator settings away from their defaults.
VARIANT = {
    "fifo_topic": True,
    "shared_secret": True,
    "alarm_email": "ops@example.com",
    "xray": True,
    "log_level": "WARN",
    "api_reserved_concurrency": 20,
    "executor_reserved_concurrency": 30,
    "sweeper_reserved_concurrency": 2,
    "executor_max_concurrency": 25,
    "events_queue_retention_days": 1,
}


@pytest.fixture(scope="session")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize("dev", tmp_path_factory.mktemp("dev"))


@pytest.fixture(scope="session")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize("prod", tmp_path_factory.mktemp("prod"))


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize("dev", tmp_path_factory.mktemp("variant"), **VARIANT)


@pytest.fixture(scope="session", params=["dev", "prod", "variant"])
def every_stack(request: pytest.FixtureRequest) -> Synthesized:
    synthesized: Synthesized = request.getfixturevalue(request.param)
    return synthesized


@pytest.fixture(scope="session")
def region(dev: Synthesized) -> dict[str, Any]:
    """The punctual-region stack's template (the same whatever the stage)."""
    return dev.region_template
