"""The table: exactly the store's schema (dynamodb_schema.py), PITR, and data protection per stage."""

from __future__ import annotations

from typing import Any

from punctual.adapters import dynamodb_schema as schema

from tests.infra.synth import Synthesized

TABLE = "Storage/Table"


def _by_name(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def test_table_matches_the_store_schema(every_stack: Synthesized) -> None:
    expected = schema.table_definition("ignored")
    table = every_stack.props(TABLE)

    assert table["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == expected["KeySchema"]
    assert _by_name(table["AttributeDefinitions"], "AttributeName") == _by_name(
        expected["AttributeDefinitions"], "AttributeName"
    )
    assert _by_name(table["GlobalSecondaryIndexes"], "IndexName") == _by_name(
        expected["GlobalSecondaryIndexes"], "IndexName"
    )
    assert table["TimeToLiveSpecification"] == schema.ttl_specification()


def test_table_keys_and_indexes_are_the_documented_ones(dev: Synthesized) -> None:
    table = dev.props(TABLE)
    assert table["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    indexes = _by_name(table["GlobalSecondaryIndexes"], "IndexName")
    assert set(indexes) == {"GSI1", "GSI2"}
    assert [key["AttributeName"] for key in indexes["GSI1"]["KeySchema"]] == ["GSI1PK", "GSI1SK"]
    assert [key["AttributeName"] for key in indexes["GSI2"]["KeySchema"]] == ["GSI2PK", "GSI2SK"]
    # Whole records for listings; keys only on the due index, so claims and finishes do not copy the task.
    assert indexes["GSI1"]["Projection"] == {
        "ProjectionType": "INCLUDE",
        "NonKeyAttributes": ["name", "metadata"],
    }
    assert indexes["GSI2"]["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert not any("ProvisionedThroughput" in index for index in indexes.values())


def test_point_in_time_recovery_in_every_stage(every_stack: Synthesized) -> None:
    assert every_stack.props(TABLE)["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }


def test_prod_retains_the_table_and_protects_it_from_deletion(prod: Synthesized) -> None:
    table = prod.resource(TABLE)
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    assert table["Properties"]["DeletionProtectionEnabled"] is True


def test_dev_table_is_disposable(dev: Synthesized) -> None:
    table = dev.resource(TABLE)
    assert table["DeletionPolicy"] == "Delete"
    assert table["Properties"]["DeletionProtectionEnabled"] is False


def test_one_table_only(every_stack: Synthesized) -> None:
    assert len(every_stack.of_type("AWS::DynamoDB::Table")) == 1
    assert not every_stack.of_type("AWS::DynamoDB::GlobalTable")
