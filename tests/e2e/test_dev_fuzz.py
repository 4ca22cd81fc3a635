"""schemathesis against a running ``punctual dev``, over HTTP: the same document and checks as the in-process
run (tests/integration/fuzz), through uvicorn and the local gateway, with fewer examples.

The document is built here from the same routes (the dev process serves the same one: a test compares them),
so that ``@schema.parametrize()`` knows the operations at collection time, before ``punctual dev`` starts.
"""

from __future__ import annotations

import json
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from punctual.handlers import api
from schemathesis import Case
from schemathesis.config import SchemathesisConfig

from tests.e2e.harness import HTTP_TIMEOUT, DevProcess

pytestmark = pytest.mark.e2e

API_KEY = "e2e-fuzz-key"  # its own tenant: nothing the other e2e tests list or count
EXAMPLES = int(os.environ.get("PUNCTUAL_DEV_FUZZ_EXAMPLES", "20"))
# As in tests/integration/fuzz: the service, not the document, judges what values mean (400/422).
# ignored_auth and missing_required_header are off here only: `punctual dev` accepts any key and none (each
# key its own tenant, none the default one); refusing them is API Gateway's part on AWS, which the in-process
# run plays and checks. For the same reason no request is generated without the key
# (with-security-parameters = false): dev's 2xx for it would read as accepting a schema-violating request.
CONFIG = SchemathesisConfig.from_str(
    f"""
[generation]
deterministic = true
with-security-parameters = false

[auth.openapi.apiKey]
api_key = "{API_KEY}"

[checks.positive_data_acceptance]
expected-statuses = ["2xx", "400", "404", "409", "422"]

[checks.ignored_auth]
enabled = false

[checks.missing_required_header]
enabled = false
"""
)


DOCUMENT = json.loads(api._openapi())
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


def test_punctual_dev_serves_the_document_fuzzed_here(dev: DevProcess) -> None:
    served = requests.get(f"{dev.api}/openapi.json", timeout=HTTP_TIMEOUT)

    assert served.json() == DOCUMENT


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_punctual_dev_conforms_to_its_document(case: Case, dev: DevProcess) -> None:
    case.call_and_validate(base_url=dev.api)


def test_bytes_that_are_not_utf8_are_refused_through_the_local_gateway(dev: DevProcess) -> None:
    response = requests.post(
        f"{dev.api}/tasks",
        data=b'{"every": "1 hour", "name": "caf\xe9"}',
        headers={"Content-Type": "application/json", "x-api-key": API_KEY},
        timeout=HTTP_TIMEOUT,
    )

    assert response.status_code == 400
    assert response.json()["error"]["message"] == "the request body is not valid UTF-8"
