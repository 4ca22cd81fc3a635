"""One moto-backed punctual stack for the whole fuzz module: schemathesis drives thousands of requests and
the state they build up (tasks, runs, idempotency keys) is part of what is being tested."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from punctual import bootstrap
from punctual.adapters import dynamodb_schema

from tests.integration.api.harness import REGION, Stack, install, make_stack

TABLE_NAME = "punctual-fuzz"
# Each operation's request count, from its report property "requests", for the summary line (shown when
# the module runs in one process, as `make fuzz` does; under xdist the workers' counts stay with them).
_requests: list[int] = []  # one entry per operation (they share one node id)
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@pytest.fixture(scope="module")
def fuzz_stack() -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as patch, warnings.catch_warnings():
        # Powertools warns on every invocation that emitted no metric (reads, 4xx); that is expected here.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name=REGION)
            dynamodb.create_table(**dynamodb_schema.table_definition(TABLE_NAME))
            stack = make_stack(dynamodb, TABLE_NAME)
            install(stack)
            try:
                yield stack
            finally:
                bootstrap.use_app(None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Each operation's count (its teardown report carries it). Under xdist the controller never loads this
    conftest, so the summary line shows only in one-process runs such as `make fuzz`."""
    if report.when == "teardown":
        for name, value in report.user_properties:
            if name == "requests":
                _requests.append(int(value))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _requests:
        total = sum(_requests)
        terminalreporter.write_line(f"schemathesis: {total} requests over {len(_requests)} operations")
