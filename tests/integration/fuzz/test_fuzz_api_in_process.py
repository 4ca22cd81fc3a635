"""schemathesis over the API's own OpenAPI document, against the handler in-process (moto, fake clock).

Every built-in check runs (schemathesis' default is all of them): no 5xx, every status, header, content type
and body as documented, schema-invalid input refused, a missing or wrong API key refused (API Gateway's
part, played by ``WsgiApi``), 405 with ``Allow`` for undocumented methods. Generation is derandomized, so a
run is repeatable; ``make fuzz`` raises the count (``PUNCTUAL_FUZZ_EXAMPLES``) and may change the seed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from tests.integration.api.harness import Stack
from tests.integration.fuzz.wsgi_api import WsgiApi

API_KEY = "fuzz-key"
# 13 operations with inputs x 160 examples: at least 2,080 requests per run of the suite (the issue asks for
# 2,000); each such operation is held to EXAMPLES requests (probes and replays add more).
EXAMPLES = int(os.environ.get("PUNCTUAL_FUZZ_EXAMPLES", "160"))
# `make fuzz FUZZ_SEED=n` explores other inputs, repeatably (pytest --hypothesis-seed=n); the suite's runs
# are derandomized: the same requests every time.
DERANDOMIZE = "PUNCTUAL_FUZZ_SEED" not in os.environ
WITHOUT_INPUTS = frozenset({"GET /health"})  # hypothesis runs out of distinct requests long before
# positive_data_acceptance: the document states shapes; what values mean is the service's to judge (a cron
# expression, an instant beyond the horizon, exactly one of at/every/cron, a signed cursor, a status
# list), and it refuses a well-shaped but meaningless value with the documented 400 or 422.
CONFIG = SchemathesisConfig.from_str(
    f"""
[generation]
deterministic = {"true" if DERANDOMIZE else "false"}

[auth.openapi.apiKey]
api_key = "{API_KEY}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "404", "409", "422"]
"""
)

APP = WsgiApi(api_keys=frozenset({API_KEY}))
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP, config=CONFIG, headers={"x-api-key": API_KEY})


pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


@pytest.fixture(autouse=True)
def _counted(fuzz_stack: Stack, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each operation's request count, a report property summed by conftest's summary line."""
    before = APP.requests
    yield
    sent = APP.requests - before
    request.node.user_properties.append(("requests", sent))
    operation = request.node.name.partition("[")[2].rstrip("]")
    assert operation in WITHOUT_INPUTS or sent >= EXAMPLES, f"{operation}: only {sent} requests"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES, derandomize=DERANDOMIZE, deadline=None, suppress_health_check=list(HealthCheck)
)
def test_the_api_conforms_to_its_document(case: Case) -> None:
    case.call_and_validate()
