"""The moto fixtures of the integration tests, for the simulation over the DynamoDB store."""

from tests.integration.conftest import (  # noqa: F401 - pytest finds fixtures by name
    aws,
    aws_credentials,
    dynamodb_client,
    store,
    table,
)
