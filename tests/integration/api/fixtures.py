"""pytest fixtures shared by tests/integration/api and tests/integration/handlers (each conftest imports them)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from punctual import bootstrap

from tests.integration.api.harness import Stack, install, make_stack

STACK_ENV_MARKER = "stack_env(**env): extra environment variables for the stack fixture"


@pytest.fixture(autouse=True)
def quiet_empty_metrics() -> Iterator[None]:
    # Powertools warns on every invocation that emitted no metric (reads, 4xx); that is expected here.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        yield


@pytest.fixture
def stack(request: pytest.FixtureRequest, table: str, dynamodb_client: Any) -> Iterator[Stack]:
    """A punctual stack on moto, installed as the handlers' container; ``@pytest.mark.stack_env(...)``
    adds environment variables (e.g. SHARED_SECRET)."""
    marker = request.node.get_closest_marker("stack_env")
    built = make_stack(dynamodb_client, table, **(marker.kwargs if marker else {}))
    install(built)
    yield built
    bootstrap.use_app(None)
