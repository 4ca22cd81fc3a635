"""schemathesis over the API's own OpenAPI document, against the handler in-process (moto, fake clock)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case

from tests.integration.api.harness import Stack
from tests.integration.fuzz.wsgi_api import WsgiApi

APP = WsgiApi()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
EXAMPLES = int(os.environ.get("PUNCTUAL_FUZZ_EXAMPLES", "150"))


@pytest.fixture(autouse=True)
def _stack(fuzz_stack: Stack) -> Stack:
    return fuzz_stack


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_document(case: Case) -> None:
    case.call_and_validate()
