"""SigningSecrets: each tenant's Punctual-Signature secret, derived, never stored.

secret = hex HMAC-SHA256(stage signing key, "<tenant>|<generation>"). The stage key lives in Secrets
Manager (encrypted at rest; ``punctual dev`` passes one in plain text); the table keeps only each tenant's
generation (``PK=SIGNING#<tenant>``), which a rotation bumps. A tenant knows its own secret and nothing
that would let it compute another's, so no tenant can forge another's calls. On a stage the list-cursor key
derives from the same stage key (``derive_cursor_secret``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING

import boto3

from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.aws_errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SORT = "SIGNING"


def derive(stage_key: str, tenant: str, generation: int) -> str:
    return hmac.new(stage_key.encode(), f"{tenant}|{generation}".encode(), hashlib.sha256).hexdigest()


# No "|" in it, so no tenant's "<tenant>|<generation>" input can ever equal it: the list-cursor key is
# never a tenant's secret, and knowing either tells nothing about the stage key or the other.
_CURSOR_KEY_INPUT = b"list-cursor-key"


def derive_cursor_secret(stage_key: str) -> bytes:
    """The key that signs list cursors, derived from the stage key instead of a secret of its own."""
    return hmac.new(stage_key.encode(), _CURSOR_KEY_INPUT, hashlib.sha256).hexdigest().encode()


class DynamoDbSigningSecrets:
    def __init__(
        self, table: str, stage_key: Callable[[], str | None], *, client: DynamoDBClient | None = None
    ) -> None:
        self._table, self._stage_key = table, stage_key
        self._client = client or boto3.client("dynamodb")

    def _key(self, tenant: str) -> dict[str, dict[str, str]]:
        return {schema.PARTITION_KEY: {"S": f"SIGNING#{tenant}"}, schema.SORT_KEY: {"S": _SORT}}

    def _secret(self, tenant: str, generation: int) -> str:
        key = self._stage_key()
        if not key:
            raise RuntimeError("this stage has no signing key (SIGNING_SECRET / SIGNING_SECRET_ARN)")
        return derive(key, tenant, generation)

    def secret_for(self, tenant: str) -> str:
        with aws_errors():
            item = self._client.get_item(TableName=self._table, Key=self._key(tenant), ConsistentRead=True)
        generation = int(item.get("Item", {}).get("generation", {}).get("N", "1"))
        return self._secret(tenant, generation)

    def rotate(self, tenant: str) -> str:
        with aws_errors():
            updated = self._client.update_item(
                TableName=self._table,
                Key=self._key(tenant),
                # An unrotated tenant is at generation 1 (no item): its first rotation makes 2.
                UpdateExpression="SET generation = if_not_exists(generation, :one) + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        return self._secret(tenant, int(updated["Attributes"]["generation"]["N"]))
