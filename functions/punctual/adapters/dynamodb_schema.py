"""The single table's shape: key names, indexes, TTL attribute and key formats.

The CDK stack, ``punctual dev`` and the store all read this module, so a key name lives in one place.

- Task        PK=``TASK#<id>``                       SK=``TASK``
- Message     PK=``TASK#<id>``                       SK=``MESSAGE``  (a long message, apart from its task)
- Run         PK=``RUN#<tracking_id>``               SK=``RUN``
- Idempotency PK=``IDEMP#<context.key>#<key>``        SK=``IDEMP``  (-> task id)
- GSI1: tasks by context ``CTX#<context.key>#<shard>`` / ``<created_at>#<id>`` (CONTEXT_SHARDS shards);
        runs by task ``TASKRUNS#<task_id>`` / ``<triggered_at>#<tracking_id>``.
- GSI2: the sparse due index ``DUE#<shard>`` / ``<wake_at>#<id>``, present only on scheduled tasks
        that have a wake-up instant (``in_flight`` if set, else ``next_run_at``). Keys only: the sweeper
        reads the tasks themselves, consistently, by key.
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from punctual.domain.timefmt import sortable

PARTITION_KEY = "PK"
SORT_KEY = "SK"

GSI1_NAME = "GSI1"
GSI1_PARTITION_KEY = "GSI1PK"
GSI1_SORT_KEY = "GSI1SK"

GSI2_NAME = "GSI2"
GSI2_PARTITION_KEY = "GSI2PK"
GSI2_SORT_KEY = "GSI2SK"

# GSI1 serves listings and run history. It projects only what the index filters read (a task's name and
# metadata), which no fire changes, so a claim or a finish never writes a context's index partitions; a
# listing reads its page's records by key afterwards (and filters their status there).
GSI1_PROJECTION = "INCLUDE"
GSI1_INCLUDED = ("name", "metadata")
# A context's tasks spread over this many GSI1 partitions, so one tenant creating 10,000 tasks a second
# writes ~625 a second to each (a partition takes ~1,000). A listing reads every shard: only ever raise it
# (a higher count still reads the old shards; a lower one would hide tasks).
CONTEXT_SHARDS = 16
# GSI2 only says which tasks to look at. Every claim and finish rewrites the whole task (its message can be
# ~200 KB); projecting keys only keeps those writes from copying the item into the index too, and the
# sweeper reads the tasks by key (consistently) anyway.
GSI2_PROJECTION = "KEYS_ONLY"

TTL_ATTRIBUTE = "expires_at"  # epoch seconds, on run items only

TASK_SORT = "TASK"
MESSAGE_SORT = "MESSAGE"
RUN_SORT = "RUN"
IDEMPOTENCY_SORT = "IDEMP"

# Sorts after every id character, so ``<instant>~`` bounds all keys ``<instant>#<id>`` of that instant.
_AFTER_ANY_ID = "~"


def task_key(task_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"TASK#{task_id}", SORT_KEY: TASK_SORT}


def message_key(task_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"TASK#{task_id}", SORT_KEY: MESSAGE_SORT}


def run_key(tracking_id: str) -> dict[str, str]:
    return {PARTITION_KEY: f"RUN#{tracking_id}", SORT_KEY: RUN_SORT}


def idempotency_key(context_key: str, key: str) -> dict[str, str]:
    return {PARTITION_KEY: f"IDEMP#{context_key}#{key}", SORT_KEY: IDEMPOTENCY_SORT}


def context_partition(context_key: str, shard: int) -> str:
    return f"CTX#{context_key}#{shard}"


def context_shard(task_id: str) -> int:
    return zlib.crc32(task_id.encode()) % CONTEXT_SHARDS


def task_runs_partition(task_id: str) -> str:
    return f"TASKRUNS#{task_id}"


def due_partition(shard: int) -> str:
    return f"DUE#{shard}"


def index_sort(moment: datetime, item_id: str) -> str:
    """``<sortable instant>#<id>``: GSI1SK of tasks and runs, GSI2SK of due tasks."""
    return f"{sortable(moment)}#{item_id}"


def id_from_index_sort(value: str) -> str:
    """The id at the end of ``<instant>#<id>``; empty when ``value`` has not that shape."""
    instant, separator, item_id = value.rpartition("#")
    return item_id if separator and instant else ""


def due_upper_bound(before: datetime) -> str:
    """The largest GSI2SK at or before ``before`` (inclusive of tasks due exactly then)."""
    return sortable(before) + _AFTER_ANY_ID


def due_shard(task_id: str, shards: int) -> int:
    """Stable across processes and Python versions (unlike ``hash``). Every writer and the sweeper must use
    the same shard count. Raising DUE_SHARDS is safe (the sweeper reads every shard below the new count, old
    entries included); lowering it strands tasks in shards the sweeper no longer reads."""
    return zlib.crc32(task_id.encode()) % shards


def table_definition(name: str) -> dict[str, Any]:
    """``create_table`` keyword arguments (on-demand capacity). Enable TTL separately: ``ttl_specification``."""

    def index(
        index_name: str, partition: str, sort: str, projection: str, included: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        projected: dict[str, Any] = {"ProjectionType": projection}
        if included:
            projected["NonKeyAttributes"] = list(included)
        return {
            "IndexName": index_name,
            "KeySchema": [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "Projection": projected,
        }

    key_attributes = (
        PARTITION_KEY,
        SORT_KEY,
        GSI1_PARTITION_KEY,
        GSI1_SORT_KEY,
        GSI2_PARTITION_KEY,
        GSI2_SORT_KEY,
    )
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"} for key in key_attributes],
        "GlobalSecondaryIndexes": [
            index(GSI1_NAME, GSI1_PARTITION_KEY, GSI1_SORT_KEY, GSI1_PROJECTION, GSI1_INCLUDED),
            index(GSI2_NAME, GSI2_PARTITION_KEY, GSI2_SORT_KEY, GSI2_PROJECTION),
        ],
    }


def ttl_specification() -> dict[str, Any]:
    """``update_time_to_live`` keyword ``TimeToLiveSpecification``."""
    return {"Enabled": True, "AttributeName": TTL_ATTRIBUTE}
