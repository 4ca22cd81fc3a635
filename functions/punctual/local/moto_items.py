"""DynamoDB items for the emulator without a quadratic size check.

moto builds an item attribute by attribute into a dict that, on every insertion, re-measures everything
already in it against DynamoDB's item size limit: ~n²/2 measurements for n attributes, ~450 for a
punctual task, on every put (each fire puts four items). Here the attributes are measured once and the
same limit applied to the total: the partial sums never exceed it unless the total does, so the same
items are refused.

Installed only by the emulator process (``install``), never at import.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.exceptions import ItemSizeTooLarge
from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict
from moto.dynamodb.models.utilities import bytesize

# moto's limit (DynamoDB's 400 KB, as moto measures it; see LimitedSizeDict.__setitem__).
ITEM_SIZE_LIMIT = 405_000


def item_size(attributes: dict[str, DynamoType]) -> int:
    """moto's measure of an item: its attribute names' and values' sizes."""
    return sum(bytesize(name) + value.size() for name, value in attributes.items())


def init_item(self: Item, hash_key: DynamoType, range_key: DynamoType | None, attrs: dict[str, Any]) -> None:
    """``Item.__init__`` with one size check for the whole item."""
    self.hash_key = hash_key
    self.range_key = range_key
    converted = {name: DynamoType(value) for name, value in attrs.items()}
    if item_size(converted) > ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    self.attrs = LimitedSizeDict.__new__(LimitedSizeDict)  # later single-attribute updates are still checked
    dict.update(self.attrs, converted)


PATCHED: tuple[tuple[object, str], ...] = ((Item, "__init__"),)  # what install replaces


def install() -> None:
    Item.__init__ = init_item  # type: ignore[method-assign]
