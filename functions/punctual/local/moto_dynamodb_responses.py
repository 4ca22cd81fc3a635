"""DynamoDB item responses for the emulator without moto's model-driven serializer.

moto turns each response into JSON by walking the operation's output shape from botocore's model, value by
value: for an item, every attribute and its type descriptor. Items in moto are already held in the wire
format (``{"S": ...}``), so for the item operations punctual makes on every fire the result is the JSON
document as it is. tests/integration/local/test_local_moto_dynamodb_responses.py holds the two
serializations equal on the store's traffic.

Installed only by the emulator process (``install``), never at import.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.responses import ActionResult
from moto.dynamodb.responses import DynamoHandler, DynamoResult

# The item operations punctual makes, whose results moto builds from wire-format items and plain values only
# (and the test holds equal). DeleteItem is not one: moto adds a ConsumedCapacityUnits the model drops.
FAST_ACTIONS = frozenset({"GetItem", "BatchGetItem", "PutItem", "Query", "TransactWriteItems"})
CONTENT_TYPE = "application/x-amz-json-1.0"

_model_serialized = DynamoHandler.serialized


def plain_response(handler: DynamoHandler, action_result: ActionResult) -> Any | None:
    """The response for an item operation's plain result; None for everything else (errors, paginated
    results, other operations), which moto's serializer keeps."""
    result = action_result.result
    if type(action_result) not in (ActionResult, DynamoResult) or not isinstance(result, dict):
        return None
    if handler._get_action() not in FAST_ACTIONS:
        return None
    headers = {"Content-Type": CONTENT_TYPE}
    headers.update(handler.response_headers)
    return 200, headers, json.dumps(result)


def fast_serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
    """``serialized`` with the plain JSON of the item operations."""
    response = plain_response(self, action_result)
    return response if response is not None else _model_serialized(self, action_result)


PATCHED: tuple[tuple[object, str], ...] = ((DynamoHandler, "serialized"),)  # what install replaces


def install() -> None:
    DynamoHandler.serialized = fast_serialized  # type: ignore[method-assign,assignment]
