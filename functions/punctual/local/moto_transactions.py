"""TransactWriteItems for the emulator without moto's whole-table copies.

moto snapshots the entire table (``copy.deepcopy``) once per item of every transaction so it can roll
back: with a few thousand items each claim took ~100 ms, and every fire makes two. The emulator serves
one request at a time (``SerializedApp``), so a transaction can instead check every condition first and
write only when all hold; should a write still fail, the few items already written are put back.

Installed only by the emulator process (``install``), never at import: tests using ``mock_aws`` keep
moto's own implementation.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import (
    ConditionalCheckFailed,
    MockValidationException,
    MultipleTransactionsException,
    TooManyTransactionsException,
    TransactionCanceledException,
    TransactWriteSingleOpException,
)
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item

_OPERATIONS = frozenset({"ConditionCheck", "Put", "Delete", "Update"})
_MAX_ITEMS = 100

Error = tuple[str, str, Any] | tuple[None, None, None]


def _key_of(backend: DynamoDBBackend, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attributes = op["Item"]
    key = {table.hash_key_attr: attributes[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes[table.range_key_attr]
    return key


def _check(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> tuple[list[Error], list[Any]]:
    """Every item's condition against the current state, nothing written. Returns (per-item errors in
    TransactionCanceledException's format, the writes to make)."""
    targets: set[tuple[str, str]] = set()
    errors: list[Error] = []
    writes: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for item in transact_items:
        if len(item) > 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        old: Any = None
        try:
            if op_type not in _OPERATIONS:
                raise ValueError("Unsupported transaction operation")
            key = _key_of(backend, op_type, op)
            target = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if target in targets:
                raise MultipleTransactionsException()
            targets.add(target)
            current = backend.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=old)
            writes.append((op_type, op, key))
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            raise
        except ConditionalCheckFailed as error:
            errors.append(("ConditionalCheckFailed", str(error.message), old))
        except Exception as error:
            errors.append((type(error).__name__, str(error), old))
    return errors, writes


def _write(backend: DynamoDBBackend, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    arguments: dict[str, Any] = {
        "condition_expression": op.get("ConditionExpression"),
        "expression_attribute_names": op.get("ExpressionAttributeNames"),
        "expression_attribute_values": op.get("ExpressionAttributeValues"),
    }
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"], **arguments)
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key, **arguments)
    elif op_type == "Update":
        backend.update_item(op["TableName"], key, update_expression=op["UpdateExpression"], **arguments)


def _restore(backend: DynamoDBBackend, table_name: str, key: dict[str, Any], before: Item | None) -> None:
    if before is None:
        table = backend.get_table(table_name)
        hash_value, range_value = backend.get_keys_value(table, key)
        if table.get_item(hash_value, range_value) is not None:
            table.delete_item(hash_value, range_value)
    else:
        backend.put_item(table_name, before.to_json()["Attributes"])


def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
    if len(transact_items) > _MAX_ITEMS:
        raise TooManyTransactionsException()
    errors, writes = _check(self, transact_items)
    if any(code is not None for code, _, _ in errors):
        raise TransactionCanceledException(errors)
    written: list[tuple[str, dict[str, Any], Item | None]] = []
    for index, (op_type, op, key) in enumerate(writes):
        if op_type == "ConditionCheck":
            continue
        before = copy.deepcopy(self.get_item(op["TableName"], key))
        try:
            _write(self, op_type, op, key)
        except Exception as error:
            for table_name, written_key, original in reversed(written):
                _restore(self, table_name, written_key, original)
            if isinstance(error, MockValidationException | MultipleTransactionsException):
                raise
            failed: list[Error] = [(None, None, None)] * len(transact_items)
            failed[index] = (type(error).__name__, str(error), None)
            raise TransactionCanceledException(failed) from error
        written.append((op["TableName"], key, before))


PATCHED: tuple[tuple[object, str], ...] = (
    (DynamoDBBackend, "transact_write_items"),
)  # what install replaces


def install() -> None:
    """Replace moto's TransactWriteItems in this process (the emulator's)."""
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
