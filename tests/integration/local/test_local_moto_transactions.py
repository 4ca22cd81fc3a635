"""The emulator's TransactWriteItems (no whole-table copies) behaves as moto's own: the same answers and
the same table afterwards, for successes, failed conditions, duplicates and failing writes. It is also
what the store's claims rely on: a second claim of the same occurrence is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto.dynamodb.models import DynamoDBBackend
from punctual.adapters.dynamodb_schema import table_definition
from punctual.local import moto_transactions

TABLE = "tx"
ORIGINAL = DynamoDBBackend.transact_write_items


@pytest.fixture(params=["moto", "emulator"])
def dynamodb(request: pytest.FixtureRequest, aws: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    if request.param == "emulator":
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", moto_transactions.transact_write_items)
    else:
        monkeypatch.setattr(DynamoDBBackend, "transact_write_items", ORIGINAL)
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.create_table(**table_definition(TABLE))
    client.put_item(TableName=TABLE, Item=item("existing", version=1))
    return client


def item(name: str, version: int = 1, **extra: str) -> dict[str, Any]:
    return {
        "PK": {"S": f"TASK#{name}"},
        "SK": {"S": "TASK"},
        "version": {"N": str(version)},
        "GSI2PK": {"S": "DUE#0"},
        "GSI2SK": {"S": f"2030#{name}"},
        **{k: {"S": v} for k, v in extra.items()},
    }


def key(name: str) -> dict[str, Any]:
    return {"PK": {"S": f"TASK#{name}"}, "SK": {"S": "TASK"}}


def put_if_absent(name: str) -> dict[str, Any]:
    return {
        "Put": {"TableName": TABLE, "Item": item(name), "ConditionExpression": "attribute_not_exists(PK)"}
    }


def bump_if_version(name: str, version: int) -> dict[str, Any]:
    return {
        "Update": {
            "TableName": TABLE,
            "Key": key(name),
            "UpdateExpression": "SET version = :next",
            "ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":next": {"N": str(version + 1)}, ":expected": {"N": str(version)}},
        }
    }


def state(client: Any) -> list[dict[str, Any]]:
    items = client.scan(TableName=TABLE)["Items"]
    due = client.query(
        TableName=TABLE,
        IndexName="GSI2",
        KeyConditionExpression="GSI2PK = :p",
        ExpressionAttributeValues={":p": {"S": "DUE#0"}},
    )["Items"]
    return [*sorted(items, key=str), {"due": sorted(d["PK"]["S"] for d in due)}]


def cancellation(call: Callable[[], Any]) -> tuple[str, list[str]]:
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response
    reasons = [r.get("Code", "None") for r in error.get("CancellationReasons", [])]  # type: ignore[attr-defined]
    return error["Error"]["Code"], reasons


def test_all_conditions_hold_so_every_write_happens(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put_if_absent("new"), bump_if_version("existing", 1)])
    stored = dynamodb.get_item(TableName=TABLE, Key=key("existing"))["Item"]
    assert stored["version"] == {"N": "2"}
    assert "Item" in dynamodb.get_item(TableName=TABLE, Key=key("new"))
    assert state(dynamodb)[-1] == {"due": ["TASK#existing", "TASK#new"]}


def test_one_failed_condition_cancels_everything(dynamodb: Any) -> None:
    before = state(dynamodb)
    code, reasons = cancellation(
        lambda: dynamodb.transact_write_items(
            TransactItems=[put_if_absent("new"), bump_if_version("existing", 7)]
        )
    )
    assert code == "TransactionCanceledException"
    assert reasons == ["None", "ConditionalCheckFailed"]
    assert state(dynamodb) == before


def test_a_second_put_if_absent_is_refused(dynamodb: Any) -> None:
    dynamodb.transact_write_items(TransactItems=[put_if_absent("run")])
    code, reasons = cancellation(lambda: dynamodb.transact_write_items(TransactItems=[put_if_absent("run")]))
    assert (code, reasons) == ("TransactionCanceledException", ["ConditionalCheckFailed"])


def test_two_operations_on_one_item_are_a_validation_error(dynamodb: Any) -> None:
    before = state(dynamodb)
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(
            TransactItems=[bump_if_version("existing", 1), bump_if_version("existing", 1)]
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert state(dynamodb) == before


def test_condition_checks_and_deletes(dynamodb: Any) -> None:
    dynamodb.put_item(TableName=TABLE, Item=item("gone"))
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": key("existing"),
                    "ConditionExpression": "attribute_exists(PK)",
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key("gone")}},
        ]
    )
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key("gone"))
    assert state(dynamodb)[-1] == {"due": ["TASK#existing"]}


def test_a_write_that_fails_after_others_were_written_leaves_nothing_behind(dynamodb: Any) -> None:
    before = state(dynamodb)
    bad_update = {
        "Update": {
            "TableName": TABLE,
            "Key": key("existing"),
            "UpdateExpression": "SET version = version + :text",  # a number plus a string fails while writing
            "ExpressionAttributeValues": {":text": {"S": "x"}},
        }
    }
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(TransactItems=[put_if_absent("new"), bad_update])
    assert state(dynamodb) == before
