"""The emulator's item construction (one size check per item) refuses and keeps exactly what moto's own does."""

from __future__ import annotations

from typing import Any

import pytest
from moto.dynamodb.models.dynamo_type import Item
from punctual.local import moto_items

ORIGINAL = Item.__init__


@pytest.fixture(params=["moto", "emulator"])
def client(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, dynamodb_client: Any) -> Any:
    monkeypatch.setattr(Item, "__init__", moto_items.init_item if request.param == "emulator" else ORIGINAL)
    dynamodb_client.create_table(
        TableName="items",
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return dynamodb_client


def item_of_size(total: int) -> dict[str, Any]:
    """An item moto measures at exactly ``total`` bytes: PK=k (3 bytes) plus a padded attribute."""
    fixed = len("PK") + len("k") + len("pad")
    return {"PK": {"S": "k"}, "n": {"N": "1"}, "pad": {"S": "x" * (total - fixed - len("n") - 1)}}


def measured(item: dict[str, Any]) -> int:
    from moto.dynamodb.models.dynamo_type import DynamoType

    return moto_items.item_size({name: DynamoType(value) for name, value in item.items()})


@pytest.mark.parametrize("total", [moto_items.ITEM_SIZE_LIMIT - 1, moto_items.ITEM_SIZE_LIMIT])
def test_an_item_at_the_limit_is_kept_whole(client: Any, total: int) -> None:
    item = item_of_size(total)
    assert measured(item) == total

    client.put_item(TableName="items", Item=item)

    assert client.get_item(TableName="items", Key={"PK": {"S": "k"}}, ConsistentRead=True)["Item"] == item


def test_an_item_over_the_limit_is_refused(client: Any) -> None:
    item = item_of_size(moto_items.ITEM_SIZE_LIMIT + 1)

    with pytest.raises(client.exceptions.ClientError, match="Item size has exceeded"):
        client.put_item(TableName="items", Item=item)
    assert "Item" not in client.get_item(TableName="items", Key={"PK": {"S": "k"}})


def test_install_replaces_the_constructor(moto_restored: None) -> None:
    moto_items.install()
    assert Item.__init__ is moto_items.init_item
