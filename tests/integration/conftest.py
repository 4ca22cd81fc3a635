"""Shared moto fixtures for integration tests. Nothing here reaches real AWS: credentials are fake and every
client is created inside ``mock_aws``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from punctual.adapters import dynamodb_schema
from punctual.adapters.dynamodb_store import DynamoDbTaskStore

REGION = "us-east-1"
TABLE_NAME = "punctual-test"


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SECURITY_TOKEN", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws(aws_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb_client(aws: None) -> Any:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def table(dynamodb_client: Any) -> str:
    """The punctual table, created from the schema module (the same definition CDK and `punctual dev` use)."""
    dynamodb_client.create_table(**dynamodb_schema.table_definition(TABLE_NAME))
    dynamodb_client.update_time_to_live(
        TableName=TABLE_NAME, TimeToLiveSpecification=dynamodb_schema.ttl_specification()
    )
    return TABLE_NAME


@pytest.fixture
def store(table: str, dynamodb_client: Any) -> DynamoDbTaskStore:
    """The real DynamoDB TaskStore on the moto table (4 due shards, 30-day run retention)."""
    return DynamoDbTaskStore(table, client=dynamodb_client)
