"""The TaskStore port on one DynamoDB table (see dynamodb_schema for the keys).

Every method is one round trip except where the contract needs more: ``task_for_idempotency_key`` (key
then task), paginated queries, and the sweeper's one Query per due shard (keys only) plus one consistent
BatchGetItem per 100 due tasks. Nothing here ever Scans.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from punctual.adapters import dynamodb_items as items
from punctual.adapters import dynamodb_listing as listing
from punctual.adapters import dynamodb_schema as schema
from punctual.adapters.aws_errors import (
    REASON_CONDITION_FAILED,
    TRANSACTION_CANCELLED,
    aws_errors,
    cancellation_codes,
    cancellation_error,
    error_code,
    translate,
)
from punctual.domain.errors import (
    AlreadyExistsError,
    DependencyError,
    ErrorDetail,
    PunctualError,
    StaleWriteError,
    ThrottledError,
    ValidationError,
)
from punctual.domain.model import Context, Run, Task
from punctual.service.ports import Claim, IdempotentReplay, StorePage, TaskFilter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

logger = logging.getLogger(__name__)

_ITEM_EXISTS = "attribute_exists(PK)"
_ITEM_ABSENT = "attribute_not_exists(PK)"
_BATCH_GET_ATTEMPTS = 3
_BATCH_GET_MAX_KEYS = 100  # DynamoDB's limit per BatchGetItem
_BATCH_WRITE_MAX_REQUESTS = 25  # DynamoDB's limit per BatchWriteItem
_BATCH_WRITE_ATTEMPTS = 3  # the first write of a chunk and two retries of what it left unprocessed
_CLAIMS_PER_TRANSACTION = 50  # DynamoDB allows 100 items a transaction; a claim is two


class DynamoDbTaskStore:
    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        due_shards: int = 4,
        run_retention: timedelta = timedelta(days=30),
        max_query_pages: int = 10,
    ) -> None:
        if due_shards < 1:
            raise ValueError("due_shards must be at least 1")
        self._table = table_name
        self._client_or_none = client
        self._due_shards = due_shards
        self._run_retention = run_retention
        # Bounds the work of one listing call when filters drop most items; the caller gets a short page
        # and a continuation instead of a timeout.
        self._max_query_pages = max_query_pages

    @property
    def _client(self) -> DynamoDBClient:
        if self._client_or_none is None:
            self._client_or_none = boto3.client("dynamodb", config=Config(retries={"mode": "standard"}))
        return self._client_or_none

    # --- tasks -------------------------------------------------------------------------------------

    def create_task(self, task: Task, *, request_fingerprint: str | None = None) -> None:
        # A message kept apart is written first, once: the task item (written last) is what makes the task
        # exist, so a failed create leaves at most an unreachable message item, which is then removed.
        text = items.message_text(task.message)
        apart = items.message_apart(text)
        if apart:
            message_put = self._put(items.message_item(task.id, text), _ITEM_ABSENT)
            self._put_new(message_put, f"task {task.id} already exists")
        try:
            self._create_task_item(task, request_fingerprint)
        except AlreadyExistsError:
            if apart:
                self._delete_message(task.id)
            raise

    def _create_task_item(self, task: Task, request_fingerprint: str | None) -> None:
        task_put = self._put(items.task_to_item(task, due_shards=self._due_shards), _ITEM_ABSENT)
        if task.idempotency_key is None:
            self._put_new(task_put, f"task {task.id} already exists")
            return
        reservation = items.idempotency_item(task.context, task.idempotency_key, task.id, request_fingerprint)
        codes = self._transact([{"Put": task_put}, {"Put": self._put(reservation, _ITEM_ABSENT)}])
        if codes is None:
            return
        if codes[1] == REASON_CONDITION_FAILED:
            raise AlreadyExistsError(f"idempotency key {task.idempotency_key!r} is already used")
        raise AlreadyExistsError(f"task {task.id} already exists")

    def create_tasks(
        self, tasks: Sequence[Task], *, request_fingerprints: Mapping[str, str] | None = None
    ) -> list[Exception | None]:
        """A task with an idempotency key goes through ``create_task``'s transaction (the reservation needs
        its condition); the others are put with BatchWriteItem, 25 items a request, without a condition (a
        new task's id is fresh: nothing can be there). Items DynamoDB leaves unprocessed are retried a few
        times, then their task is reported throttled; a task is never split across requests."""
        outcomes: dict[int, Exception | None] = {}
        batched: list[tuple[int, Task]] = []
        for position, task in enumerate(tasks):
            if task.idempotency_key is None:
                batched.append((position, task))
                continue
            try:
                self.create_task(task, request_fingerprint=(request_fingerprints or {}).get(task.id))
            except (AlreadyExistsError, PunctualError) as error:
                outcomes[position] = error
            else:
                outcomes[position] = None
        for chunk in self._write_chunks(batched):
            outcomes.update(self._batch_put(chunk))
        return [outcomes[position] for position in range(len(tasks))]

    def _new_task_items(self, task: Task) -> list[items.Item]:
        """Every item a new task is stored as (the one place the bulk create builds them): a long message's
        own item first, then the task."""
        text = items.message_text(task.message)
        message = [items.message_item(task.id, text)] if items.message_apart(text) else []
        return [*message, items.task_to_item(task, due_shards=self._due_shards)]

    def _write_chunks(self, tasks: list[tuple[int, Task]]) -> list[list[tuple[int, Task, list[items.Item]]]]:
        """Tasks packed into chunks of at most 25 items, each task whole in one chunk."""
        chunks: list[list[tuple[int, Task, list[items.Item]]]] = []
        size = _BATCH_WRITE_MAX_REQUESTS
        for position, task in tasks:
            task_items = self._new_task_items(task)
            if size + len(task_items) > _BATCH_WRITE_MAX_REQUESTS:
                chunks.append([])
                size = 0
            chunks[-1].append((position, task, task_items))
            size += len(task_items)
        return chunks

    def _batch_put(self, chunk: list[tuple[int, Task, list[items.Item]]]) -> dict[int, Exception | None]:
        """One chunk: per task position, None when all its items were written, else why not."""
        owner: dict[tuple[str, str], int] = {}
        requests: list[dict[str, Any]] = []
        for position, _, task_items in chunk:
            for item in task_items:
                owner[_primary_key(item)] = position
                requests.append({"PutRequest": {"Item": item}})
        failed: dict[int, Exception] = {}
        for _ in range(_BATCH_WRITE_ATTEMPTS):
            try:
                with aws_errors():
                    response = self._client.batch_write_item(RequestItems={self._table: requests})  # type: ignore[dict-item]
            except PunctualError as error:  # the request as a whole: none of what it carried was written
                failed.update((owner[_primary_key(r["PutRequest"]["Item"])], error) for r in requests)
                break
            requests = [dict(r) for r in response.get("UnprocessedItems", {}).get(self._table, [])]
            if not requests:
                break
        else:
            throttled = ThrottledError("DynamoDB left the task unprocessed; retry shortly")
            failed.update((owner[_primary_key(r["PutRequest"]["Item"])], throttled) for r in requests)
        for position, task, task_items in chunk:
            if position in failed and len(task_items) > 1:
                self._remove_partial(task)
        return {position: failed.get(position) for position, _, _ in chunk}

    def _remove_partial(self, task: Task) -> None:
        """A task some of whose items were written and others not: remove what was (best effort)."""
        try:
            self.delete_task(task)
        except PunctualError:
            logger.warning("could not remove the partly written task %s", task.id, exc_info=True)

    def task_for_idempotency_key(self, context: Context, key: str) -> Task | None:
        replay = self.idempotent_replay(context, key)
        return None if replay is None else replay.task

    def idempotent_replay(self, context: Context, key: str) -> IdempotentReplay | None:
        with aws_errors():
            response = self._client.get_item(
                TableName=self._table,
                Key=items.key_item(schema.idempotency_key(context.key, key)),
                ConsistentRead=True,
            )
        if "Item" not in response:
            return None
        task = self.get_task(items.idempotency_task_id(response["Item"]), consistent=True)
        if task is None or task.context != context:
            return None
        return IdempotentReplay(task, items.idempotency_fingerprint(response["Item"]))

    def delete_task(self, task: Task) -> None:
        task_key = items.key_item(schema.task_key(task.id))
        if items.message_apart(items.message_text(task.message)):
            self._delete_message(task.id)
        with aws_errors():
            if task.idempotency_key is None:
                self._client.delete_item(TableName=self._table, Key=task_key)
                return
            reservation_key = items.key_item(schema.idempotency_key(task.context.key, task.idempotency_key))
            self._client.transact_write_items(
                TransactItems=[
                    {"Delete": {"TableName": self._table, "Key": task_key}},
                    {"Delete": {"TableName": self._table, "Key": reservation_key}},
                ]
            )

    def get_task(self, task_id: str, *, consistent: bool = False) -> Task | None:
        with aws_errors():
            response = self._client.get_item(
                TableName=self._table, Key=items.key_item(schema.task_key(task_id)), ConsistentRead=consistent
            )
        if "Item" not in response:
            return None
        return self._tasks_of([response["Item"]], consistent=consistent)[0]

    def save_task(self, task: Task, *, expected_version: int, message_changed: bool = False) -> None:
        put = self._put(items.task_to_item(task, due_shards=self._due_shards), *_version_is(expected_version))
        text = items.message_text(task.message)
        if message_changed and items.message_apart(text):
            # The new message and the task that names it land together, or neither does.
            message_put = {"TableName": self._table, "Item": items.message_item(task.id, text)}
            if self._transact([{"Put": put}, {"Put": message_put}]) is not None:
                raise StaleWriteError(f"task {task.id} is no longer at version {expected_version}")
            return
        with aws_errors():
            old = self._client.put_item(**put, ReturnValues="ALL_OLD").get("Attributes", {})
        if message_changed and items.has_message_apart(old):
            self._delete_message(task.id)  # the message is inline now: its old item is unreachable

    def _delete_message(self, task_id: str) -> None:
        with aws_errors():
            self._client.delete_item(TableName=self._table, Key=items.key_item(schema.message_key(task_id)))

    def _tasks_of(self, task_items: Sequence[Mapping[str, Any]], *, consistent: bool) -> list[Task | None]:
        """Tasks from their items, with the messages kept apart read in one more BatchGetItem (only when a
        task has one); None for a task whose message item is gone (deleted meanwhile)."""
        apart = [item for item in task_items if items.has_message_apart(item)]
        messages: dict[str, Mapping[str, Any]] = {}
        if apart:
            keys = [items.key_item(schema.message_key(str(item["id"]["S"]))) for item in apart]
            for message in self._batch_get(keys, consistent=consistent):
                messages[str(message[schema.PARTITION_KEY]["S"])] = message
        tasks: list[Task | None] = []
        for item in task_items:
            if not items.has_message_apart(item):
                tasks.append(items.item_to_task(item))
                continue
            message_apart = messages.get(str(item[schema.PARTITION_KEY]["S"]))
            tasks.append(None if message_apart is None else items.item_to_task(item, message_apart))
        return tasks

    def _newest_first(self, gsi1_partition: str) -> dict[str, Any]:
        """A Query of one GSI1 partition (a context's tasks, a task's runs), newest first."""
        return {
            "TableName": self._table,
            "IndexName": schema.GSI1_NAME,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": schema.GSI1_PARTITION_KEY},
            "ExpressionAttributeValues": items.encode({":pk": gsi1_partition}),
            "ScanIndexForward": False,
        }

    def query_tasks(
        self, context: Context, task_filter: TaskFilter, *, limit: int, continuation: dict[str, Any] | None
    ) -> StorePage[Task]:
        _check_limit(limit)
        if task_filter.statuses is not None and not task_filter.statuses:
            return StorePage(items=[], continuation=None)
        after = _listing_after(continuation)
        index_filter = TaskFilter(name=task_filter.name, metadata=task_filter.metadata)
        requests = []
        for shard in range(schema.CONTEXT_SHARDS):
            request = self._newest_first(schema.context_partition(context.key, shard))
            if after is not None:
                request["KeyConditionExpression"] += " AND #sk < :after"
                request["ExpressionAttributeNames"]["#sk"] = schema.GSI1_SORT_KEY
                request["ExpressionAttributeValues"].update(items.encode({":after": after}))
            index_filtered = _add_filter(request, index_filter)
            requests.append(request)
        page = listing.list_context(
            query=self._query,
            read_records=self._records_in_order,
            shard_requests=requests,
            statuses=task_filter.statuses,
            index_filtered=index_filtered,
            limit=limit,
            max_queries=self._max_query_pages * schema.CONTEXT_SHARDS,
        )
        return StorePage(
            items=[task for task in self._tasks_of(page.records, consistent=False) if task is not None],
            continuation=None if page.after is None else {_AFTER: page.after},
        )

    # --- runs --------------------------------------------------------------------------------------

    def get_tasks_and_runs(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[Task | None, Run | None]]:
        keys: dict[tuple[str, str], items.Item] = {}
        for task_id, tracking_id in pairs:
            keys.setdefault(("task", task_id), items.key_item(schema.task_key(task_id)))
            keys.setdefault(("run", tracking_id), items.key_item(schema.run_key(tracking_id)))
        task_items: list[Mapping[str, Any]] = []
        runs: dict[str, Run] = {}
        for item in self._batch_get(list(keys.values())):
            entity = item.get(items.ENTITY, {}).get("S")
            if entity == items.TASK_ENTITY:
                task_items.append(item)
            elif entity == items.RUN_ENTITY:
                run = items.item_to_run(item)
                runs[run.tracking_id] = run
        tasks = {task.id: task for task in self._tasks_of(task_items, consistent=True) if task is not None}
        return [(tasks.get(task_id), runs.get(tracking_id)) for task_id, tracking_id in pairs]

    def claim(
        self, task: Task, *, expected_version: int, run: Run, expected_attempt: int | None = None
    ) -> None:
        claim = Claim(task, expected_version, run, expected_attempt)
        codes = self._transact([{"Put": put} for put in self._claim_puts(claim)])
        if codes is not None:
            raise _claim_error(claim, task_moved=codes[0] == REASON_CONDITION_FAILED)

    def claim_all(self, claims: Sequence[Claim]) -> list[Exception | None]:
        """One transaction for all the claims (the same write units as one transaction each, one round trip).
        When conditions cancel it, the claims that failed theirs get their error and the others go again."""
        results: list[Exception | None] = [None] * len(claims)
        alone: list[int] = []  # claims whose items met a conflict: tried on their own, not with the others
        for start in range(0, len(claims), _CLAIMS_PER_TRANSACTION):
            pending = list(range(start, min(start + _CLAIMS_PER_TRANSACTION, len(claims))))
            while pending:
                operations: list[dict[str, Any]] = []
                for index in pending:
                    operations.extend({"Put": put} for put in self._claim_puts(claims[index]))
                codes = self._cancellation_codes(operations)
                if codes is None:
                    break
                for position, index in enumerate(pending):
                    task_code, run_code = codes[2 * position], codes[2 * position + 1]
                    if REASON_CONDITION_FAILED in (task_code, run_code):
                        moved = task_code == REASON_CONDITION_FAILED
                        results[index] = _claim_error(claims[index], task_moved=moved)
                    elif task_code or run_code:  # e.g. a concurrent write's TransactionConflict
                        alone.append(index)
                settled = [index for index in pending if results[index] is not None or index in alone]
                if not settled:
                    raise DependencyError(
                        "AWS TransactWriteItems failed (transaction cancelled, no reason given)"
                    )
                pending = [index for index in pending if index not in settled]
        for index in alone:
            results[index] = self._claim_alone(claims[index])
        return results

    def _claim_alone(self, claim: Claim) -> Exception | None:
        try:
            self.claim(
                claim.task,
                expected_version=claim.expected_version,
                run=claim.run,
                expected_attempt=claim.expected_attempt,
            )
        except (StaleWriteError, AlreadyExistsError, ThrottledError, DependencyError) as error:
            return error
        return None

    def _cancellation_codes(self, operations: list[dict[str, Any]]) -> list[str | None] | None:
        """Run a write transaction: None when it committed, the per-operation reason codes when it was
        cancelled (for any reason); other failures raise domain errors."""
        try:
            self._client.transact_write_items(TransactItems=operations)  # type: ignore[arg-type]
        except ClientError as error:
            if error_code(error) != TRANSACTION_CANCELLED:
                raise translate(error) from error
            codes = cancellation_codes(error)
            return codes + [None] * (len(operations) - len(codes))
        except BotoCoreError as error:
            raise translate(error) from error
        return None

    def _claim_puts(self, claim: Claim) -> tuple[dict[str, Any], dict[str, Any]]:
        task_put = self._put(
            items.task_to_item(claim.task, due_shards=self._due_shards), *_version_is(claim.expected_version)
        )
        run_condition = (
            (_ITEM_ABSENT,) if claim.expected_attempt is None else _attempt_is(claim.expected_attempt)
        )
        return task_put, self._put(self._run_item(claim.run), *run_condition)

    def put_run(self, run: Run) -> None:
        self._put_new(self._put(self._run_item(run), _ITEM_ABSENT), f"run {run.tracking_id} already exists")

    def get_run(self, tracking_id: str) -> Run | None:
        with aws_errors():
            response = self._client.get_item(
                TableName=self._table, Key=items.key_item(schema.run_key(tracking_id)), ConsistentRead=True
            )
        return items.item_to_run(response["Item"]) if "Item" in response else None

    def save_run(self, run: Run, *, expected_attempt: int) -> None:
        with aws_errors():
            self._client.put_item(**self._put(self._run_item(run), *_attempt_is(expected_attempt)))

    def save_delivery(self, run: Run, *, expected_delivery_attempt: int) -> None:
        with aws_errors():
            self._client.put_item(
                **self._put(self._run_item(run), *_delivery_attempt_is(expected_delivery_attempt))
            )

    def list_runs(self, task_id: str, *, limit: int, continuation: dict[str, Any] | None) -> StorePage[Run]:
        _check_limit(limit)
        partition = schema.task_runs_partition(task_id)
        start = _start_key(continuation, partition, schema.run_key)
        request = {**self._newest_first(partition), "Limit": limit}
        response = self._query(request, start)
        runs = [items.item_to_run(item) for item in self._records_of(response.get("Items", []))]
        last_evaluated = response.get("LastEvaluatedKey")
        return StorePage(
            items=runs, continuation=_continuation_after(last_evaluated) if last_evaluated else None
        )

    # --- sweeper -----------------------------------------------------------------------------------

    def tasks_needing_attention(
        self, before: datetime, *, limit: int, continuation: dict[str, Any] | None = None
    ) -> StorePage[Task]:
        _check_limit(limit)
        upper = schema.due_upper_bound(before)
        after = _due_after(continuation)
        due: list[Mapping[str, Any]] = []
        for shard in range(self._due_shards):
            # One entry more than a page per shard: a shard holding more than ``limit`` due entries (all of
            # the rest may sit in one) must show that more follow, or the continuation would end the sweep.
            due.extend(self._due_in_shard(shard, after, upper, limit + 1))
        due.sort(key=lambda entry: str(entry[schema.GSI2_SORT_KEY]["S"]))
        page, more = due[:limit], len(due) > limit
        # The index holds keys only, and lags the table: read the tasks themselves, consistently, and keep
        # those the fresher record says still need attention (a claim or cancel may have moved them on).
        # A task whose wake-up moved while the shard was paged can show up twice; BatchGetItem refuses
        # duplicate keys.
        by_partition = {str(entry[schema.PARTITION_KEY]["S"]): entry for entry in page}
        table_keys = [
            {name: entry[name] for name in (schema.PARTITION_KEY, schema.SORT_KEY)}
            for entry in by_partition.values()
        ]
        needing: list[tuple[str, Task]] = []
        for task in self._tasks_of(self._batch_get(table_keys), consistent=True):
            if task is None:
                continue
            wake = items.wake_at(task)
            if items.in_due_index(task) and wake is not None and wake <= before:
                needing.append((schema.index_sort(wake, task.id), task))
        needing.sort(key=lambda entry: entry[0])
        next_page = {_AFTER: str(page[-1][schema.GSI2_SORT_KEY]["S"])} if more and page else None
        return StorePage([task for _, task in needing], next_page)

    def _due_in_shard(self, shard: int, after: str | None, upper: str, limit: int) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = []
        start: Mapping[str, Any] | None = None
        values = {":pk": schema.due_partition(shard), ":upper": upper}
        if after is None:
            key_condition = "#pk = :pk AND #sk <= :upper"
        else:
            key_condition = "#pk = :pk AND #sk BETWEEN :after AND :upper"
            values[":after"] = after
        while len(found) < limit:
            request: dict[str, Any] = {
                "TableName": self._table,
                "IndexName": schema.GSI2_NAME,
                "KeyConditionExpression": key_condition,
                "ExpressionAttributeNames": {"#pk": schema.GSI2_PARTITION_KEY, "#sk": schema.GSI2_SORT_KEY},
                "ExpressionAttributeValues": items.encode(values),
                "ScanIndexForward": True,  # oldest first
                "Limit": limit - len(found) + (after is not None),
            }
            response = self._query(request, start)
            # BETWEEN is inclusive: the entry the last page ended on is not handed out twice.
            found.extend(
                item for item in response.get("Items", []) if item[schema.GSI2_SORT_KEY]["S"] != after
            )
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        return found[:limit]

    # --- helpers -----------------------------------------------------------------------------------

    def _records_of(self, index_items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        """The records behind GSI1 entries (which carry keys and the filtered attributes only), read by key in
        one BatchGetItem per 100, in the entries' order; a record deleted meanwhile is left out. Eventually
        consistent, as the index itself is: a listing promises no more, at half the read units."""
        return [record for record in self._records_in_order(index_items) if record is not None]

    def _records_in_order(self, index_items: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any] | None]:
        """The records behind index entries, eventually consistent, in the entries' order; None where a record
        was deleted meanwhile."""
        keys = [
            {name: entry[name] for name in (schema.PARTITION_KEY, schema.SORT_KEY)} for entry in index_items
        ]
        by_key = {_primary_key(item): item for item in self._batch_get(keys, consistent=False)}
        return [by_key.get(_primary_key(key)) for key in keys]

    def _batch_get(self, keys: list[items.Item], *, consistent: bool = True) -> list[Mapping[str, Any]]:
        """Reads of primary ``keys`` (AttributeValue format; absent items are left out, order is not kept),
        consistent unless told otherwise: one BatchGetItem per 100 keys, retrying keys DynamoDB left
        unprocessed a few times before reporting throttling."""
        found: list[Mapping[str, Any]] = []
        for first in range(0, len(keys), _BATCH_GET_MAX_KEYS):
            pending = keys[first : first + _BATCH_GET_MAX_KEYS]
            for _ in range(_BATCH_GET_ATTEMPTS):
                with aws_errors():
                    response = self._client.batch_get_item(
                        RequestItems={self._table: {"Keys": pending, "ConsistentRead": consistent}}
                    )
                found.extend(response.get("Responses", {}).get(self._table, []))
                unprocessed = response.get("UnprocessedKeys", {}).get(self._table)
                if not unprocessed or not unprocessed.get("Keys"):
                    break
                pending = list(unprocessed["Keys"])
            else:
                raise ThrottledError("DynamoDB left keys unprocessed; retry shortly")
        return found

    def _run_item(self, run: Run) -> items.Item:
        return items.run_to_item(run, retention=self._run_retention)

    def _put(
        self,
        item: items.Item,
        condition: str,
        names: Mapping[str, str] | None = None,
        values: items.Item | None = None,
    ) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if names:
            put["ExpressionAttributeNames"] = dict(names)
        if values:
            put["ExpressionAttributeValues"] = values
        return put

    def _query(self, request: dict[str, Any], start: Mapping[str, Any] | None) -> dict[str, Any]:
        if start:
            request = {**request, "ExclusiveStartKey": start}
        with aws_errors():
            return dict(self._client.query(**request))

    def _put_new(self, put: dict[str, Any], exists_message: str) -> None:
        try:
            with aws_errors():
                self._client.put_item(**put)
        except StaleWriteError:
            raise AlreadyExistsError(exists_message) from None

    def _transact(self, operations: list[dict[str, Any]]) -> list[str | None] | None:
        """Run a write transaction. None when it committed; the per-operation reason codes when a
        condition cancelled it (the caller decides what that means); other failures raise domain errors."""
        codes = self._cancellation_codes(operations)
        if codes is not None and REASON_CONDITION_FAILED not in codes:
            raise cancellation_error("TransactWriteItems", codes)
        return codes


def _claim_error(claim: Claim, *, task_moved: bool) -> StaleWriteError | AlreadyExistsError:
    """What a claim whose transaction a condition cancelled raises. Both conditions are evaluated; a moved
    task is reported first (as the in-memory FakeStore does)."""
    if task_moved:
        return StaleWriteError(f"task {claim.task.id} is no longer at version {claim.expected_version}")
    if claim.expected_attempt is not None:
        return StaleWriteError(
            f"run {claim.run.tracking_id} is no longer at attempt {claim.expected_attempt}"
        )
    return AlreadyExistsError(f"run {claim.run.tracking_id} already exists")


def _primary_key(item: Mapping[str, Any]) -> tuple[str, str]:
    return str(item[schema.PARTITION_KEY]["S"]), str(item[schema.SORT_KEY]["S"])


def _check_limit(limit: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")


def _version_is(expected: int) -> tuple[str, dict[str, str], items.Item]:
    return (
        "#version = :expected_version",
        {"#version": "version"},
        items.encode({":expected_version": expected}),
    )


def _attempt_is(expected: int) -> tuple[str, dict[str, str], items.Item]:
    return (
        "#attempt = :expected_attempt",
        {"#attempt": "attempt"},
        items.encode({":expected_attempt": expected}),
    )


def _listing_after(continuation: Mapping[str, Any] | None) -> str | None:
    if continuation is None:
        return None
    after = continuation.get(_AFTER)
    if not isinstance(after, str) or not schema.id_from_index_sort(after) or set(continuation) != {_AFTER}:
        raise ValidationError("cursor is not valid", [ErrorDetail("cursor", "not a cursor of this listing")])
    return after


def _delivery_attempt_is(expected: int) -> tuple[str, dict[str, str], items.Item]:
    """The runner's fence: the stored run is at ``expected`` delivery attempts (absent means none yet)."""
    if expected == 0:
        return (
            "attribute_exists(#attempt) AND attribute_not_exists(#delivery)",
            {"#attempt": "attempt", "#delivery": "delivery_attempt"},
            {},
        )
    return (
        "#delivery = :expected_delivery",
        {"#delivery": "delivery_attempt"},
        items.encode({":expected_delivery": expected}),
    )


def _due_after(continuation: Mapping[str, Any] | None) -> str | None:
    if continuation is None:
        return None
    after = continuation.get(_AFTER)
    if not isinstance(after, str) or set(continuation) != {_AFTER}:
        raise ValueError("not a continuation of the due index")
    return after


def _add_filter(request: dict[str, Any], task_filter: TaskFilter) -> bool:
    """Add the FilterExpression for ``task_filter``'s name and metadata (what GSI1 projects) to a Query
    request; False when nothing filters."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    clauses: list[str] = []
    if task_filter.name is not None:
        names["#name"] = "name"
        values[":name"] = task_filter.name
        clauses.append("#name = :name")
    for index, (key, value) in enumerate(sorted(task_filter.metadata.items())):
        names["#metadata"] = "metadata"
        names[f"#meta{index}"] = key
        values[f":meta{index}"] = value
        clauses.append(f"#metadata.#meta{index} = :meta{index}")
    if not clauses:
        return False
    request["FilterExpression"] = " AND ".join(clauses)
    request["ExpressionAttributeNames"].update(names)
    request["ExpressionAttributeValues"].update(items.encode(values))
    return True


# A continuation is the index sort key of the last item handed out: ``{"after": "<instant>#<id>"}``. The
# rest of DynamoDB's start key is derived from it, so a continuation never reaches another partition.
_AFTER = "after"


def _continuation_after(key: Mapping[str, Any]) -> dict[str, Any]:
    return {_AFTER: str(key[schema.GSI1_SORT_KEY]["S"])}


def _start_key(
    continuation: Mapping[str, Any] | None, partition: str, record_key: Callable[[str], dict[str, str]]
) -> dict[str, Any] | None:
    if continuation is None:
        return None
    after = continuation.get(_AFTER)
    if not isinstance(after, str) or not schema.id_from_index_sort(after) or set(continuation) != {_AFTER}:
        raise ValidationError("cursor is not valid", [ErrorDetail("cursor", "not a cursor of this listing")])
    return items.key_item(
        {
            **record_key(schema.id_from_index_sort(after)),
            schema.GSI1_PARTITION_KEY: partition,
            schema.GSI1_SORT_KEY: after,
        }
    )
