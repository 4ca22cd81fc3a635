"""A context's task listing over its GSI1 shards: newest first, filtered, one page at a time.

A context's tasks are spread over ``schema.CONTEXT_SHARDS`` index partitions, so creating many tasks never
concentrates writes on one partition (a partition takes about 1,000 writes a second). A page merges the
shards: each shard is read a few entries at a time and topped up whenever it runs dry before the page is
full, so the newest entries of all shards are handed out in order. Name and metadata filters run in the
index; the status filter runs on the records, read by key afterwards, because status is not projected: a
one-time task's status changes when it fires, and fires never write the index.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from punctual.adapters import dynamodb_items as items
from punctual.adapters import dynamodb_schema as schema
from punctual.domain.model import TaskStatus

Entry = Mapping[str, Any]
Query = Callable[[dict[str, Any], Mapping[str, Any] | None], dict[str, Any]]
ReadRecords = Callable[[Sequence[Entry]], list[Mapping[str, Any] | None]]  # by key, in order; None: gone

_MIN_SHARD_PAGE = 4
_MIN_FILTERED_SHARD_PAGE = 8  # with an index filter, DynamoDB's Limit counts entries read before filtering


@dataclass
class _Shard:
    request: dict[str, Any]
    start: Mapping[str, Any] | None = None
    buffer: deque[Entry] = field(default_factory=deque)
    done: bool = False

    def head(self) -> str:
        return _sort_key(self.buffer[0])

    def position(self) -> str:
        """The last entry the index evaluated for this shard (only while it is not done)."""
        assert self.start is not None
        return _sort_key(self.start)

    def fill(self, query: Query, page_size: int) -> None:
        response = query({**self.request, "Limit": page_size}, self.start)
        self.buffer.extend(response.get("Items", []))
        self.start = response.get("LastEvaluatedKey")
        self.done = self.start is None


@dataclass(frozen=True)
class ListedPage:
    records: list[Mapping[str, Any]]
    after: str | None  # the GSI1 sort key the next page starts below; None: nothing more


def list_context(
    *,
    query: Query,
    read_records: ReadRecords,
    shard_requests: Sequence[dict[str, Any]],
    statuses: frozenset[TaskStatus] | None,
    index_filtered: bool,
    limit: int,
    max_queries: int,
) -> ListedPage:
    """One page of up to ``limit`` records, newest first. ``shard_requests`` are the shards' Query requests
    (key condition already below the previous page's ``after``). A page stops short, pointing further on,
    when it has spent ``max_queries`` Query calls (filters that drop most entries)."""
    shards = [_Shard(request) for request in shard_requests]
    floor = _MIN_FILTERED_SHARD_PAGE if index_filtered or statuses is not None else _MIN_SHARD_PAGE
    # Twice a shard's fair share: hashing is uneven, and a top-up round costs a Query and a BatchGetItem
    # while a few more index entries cost next to nothing (they are small, and read in 4 KB units).
    page_size = max(floor, math.ceil(2 * limit / len(shards)) + 2)
    wanted = None if statuses is None else {status.value for status in statuses}
    found: list[Mapping[str, Any]] = []
    queries = 0
    while len(found) < limit:
        # A shard that ran dry but is not done may hold the next-newest entry: top it up before merging.
        dry = [shard for shard in shards if not shard.buffer and not shard.done]
        if dry and queries + len(dry) <= max_queries:
            for shard in dry:
                shard.fill(query, page_size)
                queries += 1
            continue
        # Out of queries: only entries newer than every dry shard's position are known to come first, and
        # the next page starts at the newest such position (entries between it and an older position were
        # already filtered out, so reading them again hands out nothing twice).
        frontier = max((shard.position() for shard in dry), default=None)
        candidates, frontier = _merge(shards, limit - len(found), above=frontier)
        if not candidates and frontier is None:
            return ListedPage(found, None)
        for entry, record in zip(candidates, read_records(candidates), strict=True) if candidates else ():
            if record is None or (wanted is not None and _status(record) not in wanted):
                continue
            found.append(record)
            if len(found) == limit:
                more = entry is not candidates[-1] or any(shard.buffer or not shard.done for shard in shards)
                return ListedPage(found, _sort_key(entry) if more else None)
        if frontier is not None:
            return ListedPage(found, frontier)
    return ListedPage(found, None)


def _merge(shards: Sequence[_Shard], count: int, *, above: str | None) -> tuple[list[Entry], str | None]:
    """Up to ``count`` newest buffered entries, and the frontier after them. Without a frontier (queries
    left) it stops when a shard that is not done runs dry, to be topped up. With one (out of queries) it
    takes only entries newer than the frontier, which rises to the position of each shard running dry."""
    taken: list[Entry] = []
    while len(taken) < count:
        live = [shard for shard in shards if shard.buffer and (above is None or shard.head() > above)]
        if not live:
            break
        newest = max(live, key=_Shard.head)
        taken.append(newest.buffer.popleft())
        if not newest.buffer and not newest.done:
            if above is None:
                break
            above = max(above, newest.position())
    return taken, above


def _sort_key(entry: Entry) -> str:
    return str(entry[schema.GSI1_SORT_KEY]["S"])


def _status(record: Mapping[str, Any]) -> str:
    return str(items.decode({"status": record["status"]})["status"])
