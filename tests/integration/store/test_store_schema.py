"""The table definition in dynamodb_schema is what CDK and `punctual dev` build: pin its shape."""

from __future__ import annotations

from typing import Any

from punctual.adapters import dynamodb_schema as schema


def test_the_table_has_the_keys_and_indexes_the_store_uses(table: str, dynamodb_client: Any) -> None:
    description = dynamodb_client.describe_table(TableName=table)["Table"]

    assert description["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert description["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    indexes = {index["IndexName"]: index for index in description["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1", "GSI2"}
    for name, partition, sort in (("GSI1", "GSI1PK", "GSI1SK"), ("GSI2", "GSI2PK", "GSI2SK")):
        assert indexes[name]["KeySchema"] == [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ]
    # Listings hand out whole records from GSI1; the due index only names tasks (the sweeper reads them).
    assert indexes["GSI1"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["name", "metadata"],
    }
    assert indexes["GSI2"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert {attribute["AttributeType"] for attribute in description["AttributeDefinitions"]} == {"S"}


def test_run_records_expire_through_the_ttl_attribute(table: str, dynamodb_client: Any) -> None:
    ttl = dynamodb_client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_key_formats() -> None:
    assert schema.task_key("abc") == {"PK": "TASK#abc", "SK": "TASK"}
    assert schema.run_key("def") == {"PK": "RUN#def", "SK": "RUN"}
    assert schema.idempotency_key("t|u", "k#1") == {"PK": "IDEMP#t|u#k#1", "SK": "IDEMP"}
    assert schema.context_partition("t|", 3) == "CTX#t|#3"
    assert schema.task_runs_partition("abc") == "TASKRUNS#abc"
    assert schema.due_partition(3) == "DUE#3"
    assert schema.id_from_index_sort("2026-03-01T12:00:00.000000Z#abc") == "abc"
    assert schema.id_from_index_sort("abc") == ""
