"""moto-backed AWS for the adapter tests. Never real AWS: fake credentials, everything inside mock_aws."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

REGION = "us-east-1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


@pytest.fixture
def scheduler_client(aws: None) -> Any:
    return boto3.client("scheduler", region_name=REGION)


@pytest.fixture
def sqs_client(aws: None) -> Any:
    return boto3.client("sqs", region_name=REGION)


@pytest.fixture
def sns_client(aws: None) -> Any:
    return boto3.client("sns", region_name=REGION)
