"""The billable units of each user-facing operation, measured on a moto stack through the real handlers.

Shared by tests/integration/firing/test_cost_model.py (which pins the counts) and bench/bench_cost.py (which
prices them), so both measure exactly the same thing. Counts only here: prices live in the bench.

A :class:`BillingMeter` hooks botocore on the watched clients and turns each request into billable units:

- DynamoDB write request units by DynamoDB's rules (item size = attribute names + values; 1 WRU per started
  KB; the larger of the old and new item for a put/update; the deleted item's size for a delete; 2x inside a
  transaction), for the table and for each GSI the item lands in, moves within or leaves (projected size).
  The old item is read, before the write, with a separate client the meter does not watch.
- DynamoDB read request units (1 per started 4 KB strongly consistent, half that eventually consistent, 2x in
  a transaction; BatchGetItem per item, a missing item at the minimum; Query by the total size of the items
  it read, before any filter, per started 4 KB).
- SQS and SNS billed requests (one per started 64 KB of payload; a PublishBatch entry is one request each).
- EventBridge Scheduler CreateSchedule / DeleteSchedule calls.

The :class:`Probe` invokes the handlers, timing each invocation and capturing the bytes it logs (Powertools
JSON lines and EMF metric lines), and counts what the stack's wiring would add outside the handlers:
API Gateway requests, EBS invocations, and the Lambda SQS event source's ReceiveMessage / DeleteMessageBatch.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from punctual import bootstrap
from punctual.bootstrap import AwsClients, build_app
from punctual.handlers import executor, sweeper
from punctual.handlers.observability import PowertoolsMetrics
from punctual.handlers.observability import logger as powertools_logger

from tests.integration.api.harness import (
    REGION,
    TENANT_B,
    ApiResponse,
    FakeLambdaContext,
    Stack,
    call_api,
    sqs_event,
    sqs_record,
)
from tests.support.aws_calls import AwsCallCounter

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
PAYLOAD_CHUNK_BYTES = 64 * 1024
TRANSACTION_FACTOR = 2
# Whether a GSI write caused by a transactional write costs 2x too. AWS documents the 2x for the items of the
# transaction; index maintenance happens after the commit, so it is counted here as a standard write.
TRANSACTION_GSI_FACTOR = 1
BATCH_SIZE = 10  # the executor's SQS batch size (infra/firing.py EXECUTOR_BATCH_SIZE)

API, EXECUTOR, SWEEPER = "api", "executor", "sweeper"


# --- DynamoDB item sizes ------------------------------------------------------------------------------------
def number_size(text: str) -> int:
    """(significant digits / 2, rounded up) + 1 byte; leading and trailing zeros trimmed."""
    digits = Decimal(text).normalize().as_tuple().digits
    significant = str(int("".join(map(str, digits)) or "0")).rstrip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """The size of one AttributeValue (without its name)."""
    (kind, payload), *_ = value.items()
    if kind == "S":
        return len(payload.encode())
    if kind == "N":
        return number_size(payload)
    if kind == "B":
        return len(payload)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(element.encode()) for element in payload)
    if kind == "NS":
        return sum(number_size(element) for element in payload)
    if kind == "BS":
        return sum(len(element) for element in payload)
    if kind == "M":  # 3 bytes, plus each element (name + value) and 1 byte per element
        return 3 + sum(len(name.encode()) + value_size(inner) + 1 for name, inner in payload.items())
    if kind == "L":
        return 3 + sum(value_size(inner) + 1 for inner in payload)
    raise ValueError(f"unknown AttributeValue type {kind}")


def item_size(item: dict[str, Any] | None) -> int:
    """Sum of attribute name lengths and value sizes (0 for no item)."""
    if not item:
        return 0
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT_BYTES))


def read_units(size: int, *, consistent: bool) -> float:
    units = max(1, math.ceil(size / READ_UNIT_BYTES))
    return float(units) if consistent else units / 2


def payload_requests(size: int) -> int:
    """SQS and SNS bill one request per started 64 KB of payload."""
    return max(1, math.ceil(size / PAYLOAD_CHUNK_BYTES))


def _message_attributes_size(attributes: dict[str, Any] | None) -> int:
    total = 0
    for name, attribute in (attributes or {}).items():
        total += len(name.encode()) + len(attribute.get("DataType", "").encode())
        if "StringValue" in attribute:
            total += len(attribute["StringValue"].encode())
        if "BinaryValue" in attribute:
            total += len(attribute["BinaryValue"])
    return total


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]
    projection: str
    included: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableShape:
    table_keys: tuple[str, ...]
    indexes: tuple[Index, ...]


@dataclass
class Units:
    """Billable units of one measured stretch (one operation, or one executor invocation)."""

    calls: Counter[str] = field(default_factory=Counter)
    write_units: Counter[str] = field(default_factory=Counter)  # "table" and each GSI name
    read_units: float = 0.0
    sqs_requests: int = 0  # sent by the handlers (per 64 KB chunk)
    sns_requests: int = 0  # billed publishes (PublishBatch: per entry, per 64 KB chunk)
    ebs_creates: int = 0
    ebs_deletes: int = 0
    # Added by the wiring around the handlers, modelled rather than seen:
    api_requests: int = 0
    ebs_invocations: int = 0
    esm_sqs_requests: int = 0  # the SQS event source's ReceiveMessage + DeleteMessageBatch
    invocations: Counter[str] = field(default_factory=Counter)
    # Measured, varying run to run (never pinned):
    seconds: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    log_bytes: Counter[str] = field(default_factory=Counter)  # what the handlers printed, per function
    access_log_bytes: int = 0  # API Gateway access log lines
    metrics: set[str] = field(default_factory=set)  # EMF custom metrics emitted: "name{dimension,...}"
    aws_seconds: float = 0.0  # of the handler time, spent inside the (moto) AWS calls
    meter_seconds: float = 0.0  # spent by the meter itself (its own reads): taken out of ``seconds``

    def billable(self) -> dict[str, Any]:
        """The deterministic counts, zeros left out: what tests/integration/firing/test_cost_model.py pins."""
        counts = {
            "calls": dict(sorted(self.calls.items())),
            "wru": {name: units for name, units in sorted(self.write_units.items()) if units},
            "rru": self.read_units,
            "sqs": self.sqs_requests,
            "sqs_event_source": self.esm_sqs_requests,
            "sns": self.sns_requests,
            "ebs_create": self.ebs_creates,
            "ebs_delete": self.ebs_deletes,
            "ebs_invoke": self.ebs_invocations,
            "apigw": self.api_requests,
            "lambda": dict(sorted(self.invocations.items())),
        }
        return {key: value for key, value in counts.items() if value}

    def counts(self) -> dict[str, Any]:
        """The deterministic part, for pinning: everything but timings and log bytes."""
        return {
            "calls": dict(sorted(self.calls.items())),
            "write_units": dict(sorted(self.write_units.items())),
            "read_units": self.read_units,
            "sqs_requests": self.sqs_requests,
            "esm_sqs_requests": self.esm_sqs_requests,
            "sns_requests": self.sns_requests,
            "ebs_creates": self.ebs_creates,
            "ebs_deletes": self.ebs_deletes,
            "ebs_invocations": self.ebs_invocations,
            "api_requests": self.api_requests,
            "invocations": dict(sorted(self.invocations.items())),
        }


class BillingMeter:
    """botocore hooks on the watched clients that add each request's billable units to ``units``."""

    def __init__(self, stack: Stack, reader: Any, shape: TableShape) -> None:
        self.units = Units()
        self._stack = stack
        self._reader = reader  # a client the meter does not watch: reads old and new item images
        self._shape = shape
        self._pending: list[
            tuple[str, dict[str, Any], list[tuple[str, dict[str, Any], dict[str, Any] | None]]]
        ] = []
        self._calls = AwsCallCounter().watch(stack.dynamodb, stack.sqs, stack.sns, stack.scheduler)
        self._registered: list[tuple[Any, str, Callable[..., None]]] = []
        self._on(stack.dynamodb, "before-parameter-build.dynamodb.*", self._before_dynamodb)
        self._on(stack.dynamodb, "after-call.dynamodb.*", self._after_dynamodb)
        self._on(stack.sqs, "before-parameter-build.sqs.*", self._before_sqs)
        self._on(stack.sns, "before-parameter-build.sns.*", self._before_sns)
        self._on(stack.scheduler, "before-parameter-build.scheduler.*", self._before_scheduler)
        self._started: list[float] = []
        for client, service in (
            (stack.dynamodb, "dynamodb"),
            (stack.sqs, "sqs"),
            (stack.sns, "sns"),
            (stack.scheduler, "scheduler"),
        ):
            # Last before the request and first after it, so the meter's own reads are not the call's time.
            self._on(client, f"before-parameter-build.{service}.*", self._call_started)
            self._on(client, f"after-call.{service}.*", self._call_ended, first=True)
            self._on(client, f"after-call-error.{service}.*", self._call_ended, first=True)

    def close(self) -> None:
        self._calls.close()
        for emitter, event, handler in self._registered:
            emitter.unregister(event, handler)
        self._registered.clear()
        self.units.calls.update(self._calls.counts)

    def _on(self, client: Any, event: str, handler: Callable[..., None], *, first: bool = False) -> None:
        if first:
            client.meta.events.register_first(event, handler)
        else:
            client.meta.events.register(event, handler)
        self._registered.append((client.meta.events, event, handler))

    @staticmethod
    def describe(reader: Any, table: str) -> TableShape:
        """The table's key names and its GSIs' keys and projections."""
        description = reader.describe_table(TableName=table)["Table"]
        table_keys = tuple(key["AttributeName"] for key in description["KeySchema"])
        indexes = tuple(
            Index(
                name=index["IndexName"],
                keys=table_keys + tuple(key["AttributeName"] for key in index["KeySchema"]),
                projection=index["Projection"]["ProjectionType"],
                included=tuple(index["Projection"].get("NonKeyAttributes", ())),
            )
            for index in description.get("GlobalSecondaryIndexes", [])
        )
        return TableShape(table_keys, indexes)

    def _call_started(self, **_: Any) -> None:
        self._started.append(time.perf_counter())

    def _call_ended(self, **_: Any) -> None:
        if self._started:
            self.units.aws_seconds += time.perf_counter() - self._started.pop()

    # --- DynamoDB ---------------------------------------------------------------------------------------
    def _key_of(self, item: dict[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self._shape.table_keys}

    def _old(self, table: str, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self._reader.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return dict(found) if found else None

    def _before_dynamodb(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        started = time.perf_counter()
        try:
            self._snapshot(params, model.name)
        finally:
            self.units.meter_seconds += time.perf_counter() - started

    def _after_dynamodb(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        started = time.perf_counter()
        try:
            self._charge(parsed, model.name)
        finally:
            self.units.meter_seconds += time.perf_counter() - started

    def _snapshot(self, params: dict[str, Any], operation: str) -> None:
        writes: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []  # (kind, action, old item)
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            key = self._key_of(params["Item"]) if operation == "PutItem" else params["Key"]
            writes.append((operation, params, self._old(params["TableName"], key)))
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, action),) = entry.items()
                key = self._key_of(action["Item"]) if kind == "Put" else action["Key"]
                writes.append((f"Transact{kind}", action, self._old(action["TableName"], key)))
        elif operation == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        action = {"TableName": table, **request["PutRequest"]}
                        key = self._key_of(action["Item"])
                        writes.append(("PutItem", action, self._old(table, key)))
                    else:
                        action = {"TableName": table, **request["DeleteRequest"]}
                        writes.append(("DeleteItem", action, self._old(table, action["Key"])))
        self._pending.append((operation, params, writes))

    def _charge(self, parsed: dict[str, Any], name: str) -> None:
        operation, params, writes = self._pending.pop()
        assert operation == name, (operation, name)
        failed = "Error" in parsed
        for kind, action, old in writes:
            self._charge_write(kind, action, old, failed=failed)
        if failed:
            return
        if operation == "GetItem":
            self.units.read_units += read_units(
                item_size(parsed.get("Item")), consistent=bool(params.get("ConsistentRead"))
            )
        elif operation == "BatchGetItem":
            for table, request in params["RequestItems"].items():
                found = parsed.get("Responses", {}).get(table, [])
                sizes = [item_size(item) for item in found]
                sizes += [0] * (len(request["Keys"]) - len(found))  # a missing item costs the minimum
                consistent = bool(request.get("ConsistentRead"))
                self.units.read_units += sum(read_units(size, consistent=consistent) for size in sizes)
        elif operation == "TransactGetItems":
            for response in parsed.get("Responses", []):
                size = item_size(response.get("Item"))
                self.units.read_units += TRANSACTION_FACTOR * read_units(size, consistent=True)
        elif operation == "Query":
            self.units.read_units += self._query_units(params)

    def _query_units(self, params: dict[str, Any]) -> float:
        """Read units of a Query: the items it evaluated (before any filter), in their stored (projected) form."""
        request = {
            key: value
            for key, value in params.items()
            if key not in ("FilterExpression", "ProjectionExpression", "Select", "ReturnConsumedCapacity")
        }
        index = self._index(params.get("IndexName"))
        request["Select"] = "ALL_PROJECTED_ATTRIBUTES" if index else "ALL_ATTRIBUTES"
        # Drop the names and values only the filter or projection used (DynamoDB refuses unused ones).
        used = " ".join(str(params.get(name, "")) for name in ("KeyConditionExpression",))
        if "ExpressionAttributeNames" in request:
            request["ExpressionAttributeNames"] = {
                k: v for k, v in request["ExpressionAttributeNames"].items() if k in used
            }
            if not request["ExpressionAttributeNames"]:
                del request["ExpressionAttributeNames"]
        if "ExpressionAttributeValues" in request:
            request["ExpressionAttributeValues"] = {
                k: v for k, v in request["ExpressionAttributeValues"].items() if k in used
            }
            if not request["ExpressionAttributeValues"]:
                del request["ExpressionAttributeValues"]
        found = self._reader.query(**request).get("Items", [])
        size = sum(item_size(self._project(item, index) if index else item) for item in found)
        consistent = bool(params.get("ConsistentRead")) and index is None
        return read_units(size, consistent=consistent)

    def _index(self, name: str | None) -> Index | None:
        if name is None:
            return None
        return next(index for index in self._shape.indexes if index.name == name)

    @staticmethod
    def _in_index(item: dict[str, Any] | None, index: Index) -> bool:
        return item is not None and all(key in item for key in index.keys)

    @staticmethod
    def _project(item: dict[str, Any], index: Index) -> dict[str, Any]:
        if index.projection == "ALL":
            return dict(item)
        kept = set(index.keys) | (set(index.included) if index.projection == "INCLUDE" else set())
        return {name: value for name, value in item.items() if name in kept}

    def _charge_write(
        self, kind: str, action: dict[str, Any], old: dict[str, Any] | None, *, failed: bool
    ) -> None:
        factor = TRANSACTION_FACTOR if kind.startswith("Transact") else 1
        gsi_factor = TRANSACTION_GSI_FACTOR if kind.startswith("Transact") else 1
        base = kind.removeprefix("Transact")
        if base == "Put":
            base = "PutItem"
        elif base in ("Update", "Delete"):
            base = f"{base}Item"
        if base == "PutItem":
            new: dict[str, Any] | None = action["Item"]
        elif base == "UpdateItem":
            new = None if failed else self._old(action["TableName"], action["Key"])
        elif base == "DeleteItem":
            new = None
        else:  # ConditionCheck: charged as a write of the checked item
            self.units.write_units["table"] += factor * write_units(item_size(old))
            return
        if base == "DeleteItem":
            self.units.write_units["table"] += factor * write_units(item_size(old))
        else:
            self.units.write_units["table"] += factor * write_units(max(item_size(old), item_size(new)))
        if failed:
            return
        for index in self._shape.indexes:
            self.units.write_units[index.name] += gsi_factor * self._index_write_units(index, old, new)

    def _index_write_units(self, index: Index, old: dict[str, Any] | None, new: dict[str, Any] | None) -> int:
        was, now = self._in_index(old, index), self._in_index(new, index)
        if not was and not now:
            return 0
        assert old is not None or new is not None
        if was and not now:
            assert old is not None
            return write_units(item_size(self._project(old, index)))
        if now and not was:
            assert new is not None
            return write_units(item_size(self._project(new, index)))
        assert old is not None and new is not None
        old_projection, new_projection = self._project(old, index), self._project(new, index)
        key_moved = any(old[key] != new[key] for key in index.keys)
        if key_moved:  # a delete of the old index entry and a put of the new one
            return write_units(item_size(old_projection)) + write_units(item_size(new_projection))
        if old_projection == new_projection:
            return 0  # nothing projected changed: the index is not written
        return write_units(max(item_size(old_projection), item_size(new_projection)))

    # --- SQS, SNS, EBS --------------------------------------------------------------------------------
    def _before_sqs(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "SendMessage":
            size = len(params["MessageBody"].encode()) + _message_attributes_size(
                params.get("MessageAttributes")
            )
            self.units.sqs_requests += payload_requests(size)
        elif model.name == "SendMessageBatch":
            size = sum(
                len(entry["MessageBody"].encode()) + _message_attributes_size(entry.get("MessageAttributes"))
                for entry in params["Entries"]
            )
            self.units.sqs_requests += payload_requests(size)
        else:
            self.units.sqs_requests += 1

    def _before_sns(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "Publish":
            size = len(params["Message"].encode()) + _message_attributes_size(params.get("MessageAttributes"))
            self.units.sns_requests += payload_requests(size)
        elif model.name == "PublishBatch":
            for entry in params["PublishBatchRequestEntries"]:
                size = len(entry["Message"].encode()) + _message_attributes_size(
                    entry.get("MessageAttributes")
                )
                self.units.sns_requests += payload_requests(size)
        else:
            self.units.sns_requests += 1

    def _before_scheduler(self, model: Any, **_: Any) -> None:
        if model.name == "CreateSchedule":
            self.units.ebs_creates += 1
        elif model.name == "DeleteSchedule":
            self.units.ebs_deletes += 1


# --- log capture --------------------------------------------------------------------------------------------
class _ByteSink:
    """A text stream that only counts the UTF-8 bytes written to it, per function."""

    def __init__(self) -> None:
        self.function = API
        self.units: Units | None = None

    def write(self, text: str) -> int:
        if self.units is not None:
            self.units.log_bytes[self.function] += len(text.encode())
            if '"_aws"' in text:
                self._metrics(text)
        return len(text)

    def _metrics(self, text: str) -> None:
        assert self.units is not None
        for line in text.splitlines():
            try:
                document = json.loads(line)
            except ValueError:
                continue
            for directive in document.get("_aws", {}).get("CloudWatchMetrics", []):
                for dimensions in directive.get("Dimensions", [[]]):
                    for metric in directive.get("Metrics", []):
                        self.units.metrics.add(f"{metric['Name']}{{{','.join(dimensions)}}}")

    def flush(self) -> None:
        pass


class _RootSink(logging.Handler):
    """Standard-library log records (the service's own ``logging`` loggers), as Lambda's runtime prints them."""

    def __init__(self, sink: _ByteSink) -> None:
        super().__init__(level=logging.WARNING)
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        # [LEVEL]\t<iso timestamp>\t<request id>\t<message>\n
        self._sink.write(
            f"[{record.levelname}]\t2026-01-01T00:00:00.000Z\t{'0' * 36}\t{self.format(record)}\n"
        )


def access_log_line(method: str, path: str, response: ApiResponse) -> str:
    """The API Gateway access log line of json_with_standard_fields as infra/api.py configures it."""
    return json.dumps(
        {
            "requestId": "00000000-0000-0000-0000-000000000000",
            "ip": "203.0.113.10",
            "requestTime": "30/Nov/2026:12:00:00 +0000",
            "httpMethod": method,
            "resourcePath": "/{proxy+}" if path != "/" else "/",
            "status": str(response.status),
            "protocol": "HTTP/1.1",
            "responseLength": str(len(response.raw_body.encode())),
        },
        separators=(",", ":"),
    )


# --- the probe ----------------------------------------------------------------------------------------------
class Probe:
    """Invokes the handlers the way Lambda would, and measures each stretch of work into a :class:`Units`."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self._reader = boto3.client("dynamodb", region_name=REGION)
        self._shape = BillingMeter.describe(self._reader, stack.env.TABLE_NAME)
        self._sink = _ByteSink()
        self._units: Units | None = None

    @contextlib.contextmanager
    def measuring(self) -> Iterator[Units]:
        meter = BillingMeter(self.stack, self._reader, self._shape)
        self._units = meter.units
        self._sink.units = meter.units
        try:
            yield meter.units
        finally:
            meter.close()
            self._units = None
            self._sink.units = None

    @contextlib.contextmanager
    def _invocation(self, function: str) -> Iterator[None]:
        handler = powertools_logger.registered_handler
        assert isinstance(handler, logging.StreamHandler)
        root = _RootSink(self._sink)
        previous = handler.setStream(self._sink)
        logging.getLogger().addHandler(root)
        self._sink.function = function
        started = time.perf_counter()
        metered = self._units.meter_seconds if self._units is not None else 0.0
        try:
            with contextlib.redirect_stdout(self._sink):
                yield
        finally:
            elapsed = time.perf_counter() - started
            if self._units is not None:
                elapsed -= self._units.meter_seconds - metered  # the meter's own reads are not the handler's
            handler.setStream(previous or sys.stdout)
            logging.getLogger().removeHandler(root)
            if self._units is not None:
                self._units.invocations[function] += 1
                self._units.seconds[function] += elapsed

    def api(self, method: str, path: str, **kwargs: Any) -> ApiResponse:
        """One REST request through API Gateway to the api function."""
        with self._invocation(API):
            response = call_api(method, path, **kwargs)
        if self._units is not None:
            self._units.api_requests += 1
            self._units.access_log_bytes += len(access_log_line(method, path, response).encode()) + 1
        assert response.status < 400, (method, path, response.status, response.raw_body)
        return response

    def wake(self, schedule_input: dict[str, Any]) -> None:
        """EBS invokes the executor (asynchronously) with a wake-up schedule's input."""
        with self._invocation(EXECUTOR):
            result = executor.handler(schedule_input, FakeLambdaContext())
        assert result is None, result
        if self._units is not None:
            self._units.ebs_invocations += 1

    def deliver(self, *links: dict[str, Any]) -> None:
        """The SQS event source receives a batch (one ReceiveMessage), invokes the executor, deletes the batch
        (one DeleteMessageBatch)."""
        records = [sqs_record(json.dumps(link)) for link in links]
        with self._invocation(EXECUTOR):
            result = executor.handler(sqs_event(*records), FakeLambdaContext())
        assert result == {"batchItemFailures": []}, result
        if self._units is not None:
            self._units.esm_sqs_requests += 2

    def sweep(self) -> dict[str, int]:
        with self._invocation(SWEEPER):
            report: dict[str, int] = sweeper.handler(
                {}, FakeLambdaContext(function_name="punctual-test-sweeper")
            )
        if self._units is not None:
            self._units.ebs_invocations += 1
        return report


def with_production_metrics(stack: Stack) -> Stack:
    """The same stack with the container rebuilt on Powertools metrics (EMF lines on stdout, as in Lambda)
    instead of the harness's NullMetrics, and installed: the metric lines are part of the logs ingested."""
    app = build_app(
        stack.env,
        clock=stack.clock,
        clients=AwsClients(
            dynamodb=stack.dynamodb,
            sns=stack.sns,
            sqs=stack.sqs,
            scheduler=stack.scheduler,
            secretsmanager=boto3.client("secretsmanager", region_name=REGION),
        ),
        metrics=PowertoolsMetrics(),
    )
    stack = dataclasses.replace(stack, app=app)
    bootstrap.use_app(app)
    return stack


# --- scenarios ----------------------------------------------------------------------------------------------
SQS_PATH = "one-time, SQS path (within 15 min)"
SQS_PATH_10KB = "one-time, SQS path, 10 KB message"
BULK = "one-time, created in bulk (100 per request)"
BULK_SIZE = 100  # tasks per POST /tasks/bulk: the request and its api invocation are shared by all of them


@dataclass
class Scenario:
    """One user-facing operation: parts paid per operation at any load, and the executor's firing, measured
    alone (1 task/s: every batch holds one record) and as a batch of ``BATCH_SIZE`` (100 tasks/s)."""

    name: str
    per_operation: list[Units]
    fire_alone: Units | None = None
    fire_batch: Units | None = None
    per_request: int = 1  # operations that share each per_operation part (a bulk create: BULK_SIZE)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _link(task: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": "punctual.link",
        "task_id": task["id"],
        "version": task["version"],
        "occurrence": task["next_run_at"] or task["at"],
        "kind": "occurrence",
        "tracking_id": None,
    }


def _last_delayed(stack: Stack) -> dict[str, Any]:
    link, _ = stack.delayed()[-1]
    return link


def measure_scenarios(stack: Stack) -> dict[str, Scenario]:
    """Run each scenario on ``stack`` (a fresh one: the scenarios move its clock) and measure its parts."""
    probe = Probe(stack)
    scenarios: dict[str, Scenario] = {}
    start = stack.clock.now()
    # Every scenario fires BATCH_SIZE + 1 tasks: one alone, the others in one batch.
    count = BATCH_SIZE + 1

    # One-time, SQS path: scheduled 5 minutes ahead, fired from the delay queue; with a tiny message, and with
    # a 10 KB one (the task item carries its message, and every claim and finish rewrites the task).
    soon = start + timedelta(minutes=5)
    near: dict[str, tuple[Units, list[dict[str, Any]]]] = {}
    for label, message in ((SQS_PATH, {"n": 0}), (SQS_PATH_10KB, "x" * 10_000)):
        tasks: list[dict[str, Any]] = []
        for index in range(count):
            body = {"timestamp": _iso(soon), "message": message if index == 0 else [message, index]}
            if index == 0:
                with probe.measuring() as schedule_near:
                    tasks.append(probe.api("POST", "/schedule", body=body).json["task"])
            else:
                tasks.append(probe.api("POST", "/schedule", body=body).json["task"])
        near[label] = (schedule_near, tasks)
    # The same, created in bulk: one request for BULK_SIZE tasks; count of them are fired as above.
    items = [{"at": _iso(soon), "message": {"n": index}} for index in range(BULK_SIZE)]
    with probe.measuring() as bulk_create:
        results = probe.api("POST", "/tasks/bulk", body={"tasks": items}).json["results"]
    assert all(result["status_code"] == 201 for result in results), results
    near[BULK] = (bulk_create, [result["task"] for result in results[:count]])
    # One-time, EBS path: three days ahead; EBS wakes the executor 2 minutes early, which hands it to SQS.
    far_at = start + timedelta(days=3)
    far: list[dict[str, Any]] = []
    with probe.measuring() as schedule_far:
        far.append(probe.api("POST", "/tasks", body={"at": _iso(far_at), "message": {"n": 0}}).json)
    for index in range(1, count + 1):  # one more, to cancel
        far.append(probe.api("POST", "/tasks", body={"at": _iso(far_at), "message": {"n": index}}).json)
    # Recurring: every minute.
    recurring: list[dict[str, Any]] = []
    for index in range(count):
        recurring.append(
            probe.api("POST", "/tasks", body={"every": "1 minute", "message": {"n": index}}).json
        )
    # A full page to list, in a tenant of its own: every item the same size, so the read units are exact.
    for index in range(60):
        probe.api(
            "POST", "/tasks", body={"at": _iso(far_at), "name": f"filler-{index:02d}"}, api_key_id=TENANT_B
        )
    with probe.measuring() as list_page:
        probe.api("GET", "/tasks", query={"limit": "50"}, api_key_id=TENANT_B)
    with probe.measuring() as cancel:
        probe.api("DELETE", f"/tasks/{far[-1]['id']}")
    far = far[:-1]  # the cancelled one

    # Fire the recurring tasks' first occurrence (claim, arm the next, publish, finish).
    stack.clock.set(start + timedelta(minutes=1))
    with probe.measuring() as recurring_alone:
        probe.deliver(_link(recurring[0]))
    with probe.measuring() as recurring_batch:
        probe.deliver(*(_link(task) for task in recurring[1:]))
    scenarios["recurring fire (every 1 minute)"] = Scenario(
        "recurring fire (every 1 minute)", [], recurring_alone, recurring_batch
    )

    # Run now (on a recurring task) and its fire.
    manual_links: list[dict[str, Any]] = []
    for index, task in enumerate(recurring):
        stack.sent_messages.clear()
        if index == 0:
            with probe.measuring() as run_now:
                probe.api("POST", f"/tasks/{task['id']}/runs")
        else:
            probe.api("POST", f"/tasks/{task['id']}/runs")
        [manual] = [link for link, _ in stack.delayed() if link.get("kind") == "manual"]
        manual_links.append(manual)
    with probe.measuring() as manual_alone:
        probe.deliver(manual_links[0])
    with probe.measuring() as manual_batch:
        probe.deliver(*manual_links[1:])
    scenarios["run now (+ its fire)"] = Scenario(
        "run now (+ its fire)", [run_now], manual_alone, manual_batch
    )

    # Fire the SQS-path one-time tasks.
    stack.clock.set(soon)
    for label, (schedule_near, tasks) in near.items():
        with probe.measuring() as near_alone:
            probe.deliver(_link(tasks[0]))
        with probe.measuring() as near_batch:
            probe.deliver(*(_link(task) for task in tasks[1:]))
        per_request = BULK_SIZE if label == BULK else 1
        scenarios[label] = Scenario(label, [schedule_near], near_alone, near_batch, per_request)

    # Wake the EBS-path ones (one asynchronous invocation each), then fire them.
    inputs = {}
    for page in stack.scheduler.get_paginator("list_schedules").paginate(GroupName=stack.env.SCHEDULE_GROUP):
        for entry in page["Schedules"]:
            schedule = stack.scheduler.get_schedule(Name=entry["Name"], GroupName=stack.env.SCHEDULE_GROUP)
            link = json.loads(schedule["Target"]["Input"])
            inputs[link["task_id"]] = link
    stack.clock.set(far_at - timedelta(minutes=2))
    woken: list[dict[str, Any]] = []
    for index, task in enumerate(far):
        stack.sent_messages.clear()
        if index == 0:
            with probe.measuring() as wake:
                probe.wake(inputs[task["id"]])
        else:
            probe.wake(inputs[task["id"]])
        woken.append(_last_delayed(stack))
    stack.clock.set(far_at)
    with probe.measuring() as far_alone:
        probe.deliver(woken[0])
    with probe.measuring() as far_batch:
        probe.deliver(*woken[1:])
    scenarios["one-time, EBS path (days ahead)"] = Scenario(
        "one-time, EBS path (days ahead)", [schedule_far, wake], far_alone, far_batch
    )
    scenarios["list, one page of 50"] = Scenario("list, one page of 50", [list_page])
    scenarios["cancel (EBS-armed)"] = Scenario("cancel (EBS-armed)", [cancel])
    return dict(sorted(scenarios.items(), key=lambda item: _ORDER.index(item[0])))


_ORDER = [
    SQS_PATH,
    SQS_PATH_10KB,
    BULK,
    "one-time, EBS path (days ahead)",
    "recurring fire (every 1 minute)",
    "run now (+ its fire)",
    "list, one page of 50",
    "cancel (EBS-armed)",
]


def measure_idle_sweep(stack: Stack) -> Units:
    """One sweep of a stack where nothing is due: the idle stage's every-minute cost. Run it on a fresh stack,
    before the scenarios (it arms one task a month ahead first, so the due index is not empty)."""
    probe = Probe(stack)
    later = stack.clock.now() + timedelta(days=30)
    probe.api("POST", "/tasks", body={"at": _iso(later)})
    with probe.measuring() as units:
        report = probe.sweep()
    assert not any(report.values()) or report.get("examined") == 0, report
    return units
