"""Task and Run records <-> DynamoDB items in the low-level AttributeValue format.

Instants are ``timefmt.sortable`` strings (exact to the microsecond, and they sort). The message is JSON
text, so every JSON value (null, strings, lists, floats, unicode) comes back exactly as given; metadata is
a map so filters can say ``metadata.#k = :v``. Index attributes (GSI1/GSI2) and the run TTL are derived
here from the record, so every write keeps them in step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from punctual.adapters import dynamodb_schema as schema
from punctual.adapters import target_codec
from punctual.domain.model import (
    Context,
    MisfirePolicy,
    Run,
    RunKind,
    RunStatus,
    Schedule,
    ScheduleKind,
    Task,
    TaskStatus,
)
from punctual.domain.targets import Overlap, TargetType
from punctual.domain.timefmt import from_sortable, sortable

Item = dict[str, Any]  # attribute name -> AttributeValue ({"S": ...}, {"N": ...}, {"M": ...})

ENTITY = "entity"
TASK_ENTITY = "task"
RUN_ENTITY = "run"
IDEMPOTENCY_ENTITY = "idempotency"
# On an idempotency reservation: the SHA-256 of the create request it was made for (service/idempotency.py).
REQUEST_FINGERPRINT = "request_fingerprint"
RUN_STATUS = "run_status"
MESSAGE_ENTITY = "message"
# A message longer than this lives in its own item, written at create and when a PATCH changes it, and
# never by a claim or a finish (which rewrite the task): the task item stays within one write unit (1 KB).
MESSAGE_INLINE_BYTES = 400
MESSAGE_APART = "message_apart"  # on a task item: its message is the MESSAGE item beside it

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def encode(values: Mapping[str, Any]) -> Item:
    """Serialize plain values, leaving out None so absent fields are absent attributes."""
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def decode(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


def _instant(moment: datetime | None) -> str | None:
    return None if moment is None else sortable(moment)


def _optional_instant(values: Mapping[str, Any], name: str) -> datetime | None:
    text = values.get(name)
    return None if text is None else from_sortable(text)


def _int(values: Mapping[str, Any], name: str, default: int = 0) -> int:
    number = values.get(name)
    return default if number is None else int(number)


def _optional_int(values: Mapping[str, Any], name: str) -> int | None:
    number = values.get(name)
    return None if number is None else int(number)


def message_text(message: Any) -> str:
    """Compact JSON, non-ASCII kept as is (a third of the size of ``\\u`` escapes); a string holding a
    lone surrogate cannot travel as UTF-8, so that rare message is stored escaped."""
    text = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(message, separators=(",", ":"))
    return text


def message_apart(text: str) -> bool:
    return len(text.encode("utf-8")) > MESSAGE_INLINE_BYTES


def message_item(task_id: str, text: str) -> Item:
    return encode({**schema.message_key(task_id), ENTITY: MESSAGE_ENTITY, "message": text})


def has_message_apart(item: Mapping[str, Any]) -> bool:
    return MESSAGE_APART in item


def wake_at(task: Task) -> datetime | None:
    """When the sweeper should look at the task: an unfinished claim first, else the next occurrence."""
    return task.in_flight if task.in_flight is not None else task.next_run_at


def in_due_index(task: Task) -> bool:
    """Scheduled tasks, and paused ones with a run in flight (a manual run the sweeper may have to resume)."""
    return task.status is TaskStatus.SCHEDULED or (
        task.status is TaskStatus.PAUSED and task.in_flight is not None
    )


def task_to_item(task: Task, *, due_shards: int) -> Item:
    """The task item; a long message is left out (``MESSAGE_APART``): write ``message_item`` for it."""
    schedule = task.schedule
    due = wake_at(task) if in_due_index(task) else None
    text = message_text(task.message)
    apart = message_apart(text)
    values: dict[str, Any] = {
        **schema.task_key(task.id),
        schema.GSI1_PARTITION_KEY: schema.context_partition(task.context.key, schema.context_shard(task.id)),
        schema.GSI1_SORT_KEY: schema.index_sort(task.created_at, task.id),
        ENTITY: TASK_ENTITY,
        "id": task.id,
        "tenant": task.context.tenant,
        "user": task.context.user,
        "status": task.status.value,
        "version": task.version,
        "created_at": sortable(task.created_at),
        "updated_at": sortable(task.updated_at),
        "next_run_at": _instant(task.next_run_at),
        "name": task.name,
        "message": None if apart else text,
        MESSAGE_APART: True if apart else None,
        "metadata": dict(task.metadata),
        "misfire": task.misfire.value,
        "idempotency_key": task.idempotency_key,
        "in_flight": _instant(task.in_flight),
        "in_flight_run": task.in_flight_run,
        "schedule_changed_at": _instant(task.schedule_changed_at),
        "last_run_at": _instant(task.last_run_at),
        "fired_count": task.fired_count,
        "missed": task.missed,
        "schedule_kind": schedule.kind.value,
        "schedule_at": _instant(schedule.at),
        "schedule_every": schedule.every,
        "schedule_every_seconds": schedule.every_seconds,
        "schedule_cron": schedule.cron,
        "schedule_timezone": schedule.timezone,
        "schedule_start_at": _instant(schedule.start_at),
        "schedule_end_at": _instant(schedule.end_at),
        "schedule_anchor": _instant(schedule.anchor),
        # Absent for the defaults (topic, default retry, allow): a topic task's item is as before.
        "target": target_codec.target_text(task.target),
        "retry": target_codec.retry_text(task.retry),
        "overlap": None if task.overlap is Overlap.ALLOW else task.overlap.value,
    }
    if due is not None:
        values[schema.GSI2_PARTITION_KEY] = schema.due_partition(schema.due_shard(task.id, due_shards))
        values[schema.GSI2_SORT_KEY] = schema.index_sort(due, task.id)
    return encode(values)


def item_to_task(item: Mapping[str, Any], message_apart: Mapping[str, Any] | None = None) -> Task:
    """``message_apart``: the task's MESSAGE item, when ``has_message_apart(item)``."""
    values = decode(item)
    if has_message_apart(item):
        if message_apart is None:
            raise ValueError(f"task {values['id']} keeps its message apart: pass its message item")
        values["message"] = decode(message_apart)["message"]
    schedule = Schedule(
        kind=ScheduleKind(values["schedule_kind"]),
        at=_optional_instant(values, "schedule_at"),
        every=values.get("schedule_every"),
        every_seconds=_optional_int(values, "schedule_every_seconds"),
        cron=values.get("schedule_cron"),
        timezone=values.get("schedule_timezone", "UTC"),
        start_at=_optional_instant(values, "schedule_start_at"),
        end_at=_optional_instant(values, "schedule_end_at"),
        anchor=_optional_instant(values, "schedule_anchor"),
    )
    message_text = values.get("message")
    return Task(
        id=values["id"],
        context=Context(tenant=values["tenant"], user=values.get("user")),
        schedule=schedule,
        status=TaskStatus(values["status"]),
        version=_int(values, "version"),
        created_at=from_sortable(values["created_at"]),
        updated_at=from_sortable(values["updated_at"]),
        next_run_at=_optional_instant(values, "next_run_at"),
        name=values.get("name"),
        message=None if message_text is None else json.loads(message_text),
        metadata={str(key): str(value) for key, value in values.get("metadata", {}).items()},
        misfire=MisfirePolicy(values.get("misfire", MisfirePolicy.FIRE_ONCE.value)),
        idempotency_key=values.get("idempotency_key"),
        in_flight=_optional_instant(values, "in_flight"),
        in_flight_run=values.get("in_flight_run"),
        schedule_changed_at=_optional_instant(values, "schedule_changed_at"),
        last_run_at=_optional_instant(values, "last_run_at"),
        fired_count=_int(values, "fired_count"),
        missed=_int(values, "missed"),
        target=target_codec.target_from(values.get("target")),
        retry=target_codec.retry_from(values.get("retry")),
        overlap=Overlap(values.get("overlap", Overlap.ALLOW.value)),
    )


def run_expires_at(run: Run, retention: timedelta) -> int:
    """TTL in epoch seconds: ``retention`` after the run's latest activity."""
    moments = [run.triggered_at, run.started_at, run.fired_at, run.completed_at]
    latest = max(moment for moment in moments if moment is not None)
    return int((latest + retention).timestamp())


def run_to_item(run: Run, *, retention: timedelta) -> Item:
    values: dict[str, Any] = {
        **schema.run_key(run.tracking_id),
        schema.GSI1_PARTITION_KEY: schema.task_runs_partition(run.task_id),
        schema.GSI1_SORT_KEY: schema.index_sort(run.triggered_at, run.tracking_id),
        schema.TTL_ATTRIBUTE: run_expires_at(run, retention),
        ENTITY: RUN_ENTITY,
        "tracking_id": run.tracking_id,
        "task_id": run.task_id,
        "tenant": run.context.tenant,
        "user": run.context.user,
        "kind": run.kind.value,
        # Not "status": GSI1 projects that (a task's, for listing filters), and a run's status changes twice
        # per fire; under its own name it never rewrites the index.
        RUN_STATUS: run.status.value,
        "triggered_at": sortable(run.triggered_at),
        "scheduled_for": sortable(run.scheduled_for),
        "task_name": run.task_name,
        "started_at": _instant(run.started_at),
        "completed_at": _instant(run.completed_at),
        "fired_at": _instant(run.fired_at),
        "lateness_ms": run.lateness_ms,
        "attempt": run.attempt,
        "error": run.error,
        "lease_until": _instant(run.lease_until),
        "missed": run.missed,
        # Target runs only (absent on a topic run, whose item is as before).
        "target_type": None if run.target_type is TargetType.TOPIC else run.target_type.value,
        "delivery_attempt": run.delivery_attempt or None,
        "deliveries": target_codec.deliveries_text(run.deliveries),
        "duration_ms": run.duration_ms,
        "response_status": run.response_status,
        "result": run.result,
        "outcome_published": run.outcome_published or None,
        "retry_base": run.retry_base or None,
    }
    return encode(values)


def item_to_run(item: Mapping[str, Any]) -> Run:
    values = decode(item)
    return Run(
        tracking_id=values["tracking_id"],
        task_id=values["task_id"],
        context=Context(tenant=values["tenant"], user=values.get("user")),
        kind=RunKind(values["kind"]),
        status=RunStatus(values.get(RUN_STATUS) or values["status"]),  # "status": records written before
        triggered_at=from_sortable(values["triggered_at"]),
        scheduled_for=from_sortable(values["scheduled_for"]),
        task_name=values.get("task_name"),
        started_at=_optional_instant(values, "started_at"),
        completed_at=_optional_instant(values, "completed_at"),
        fired_at=_optional_instant(values, "fired_at"),
        lateness_ms=_optional_int(values, "lateness_ms"),
        attempt=_int(values, "attempt"),
        error=values.get("error"),
        lease_until=_optional_instant(values, "lease_until"),
        missed=_int(values, "missed"),
        target_type=TargetType(values.get("target_type", TargetType.TOPIC.value)),
        delivery_attempt=_int(values, "delivery_attempt"),
        deliveries=target_codec.deliveries_from(values.get("deliveries")),
        duration_ms=_optional_int(values, "duration_ms"),
        response_status=_optional_int(values, "response_status"),
        result=values.get("result"),
        outcome_published=bool(values.get("outcome_published", False)),
        retry_base=_int(values, "retry_base"),
    )


def idempotency_item(
    context: Context, key: str, task_id: str, request_fingerprint: str | None = None
) -> Item:
    values: dict[str, Any] = {
        **schema.idempotency_key(context.key, key),
        ENTITY: IDEMPOTENCY_ENTITY,
        "task_id": task_id,
        "tenant": context.tenant,
        "user": context.user,
        "idempotency_key": key,
    }
    if request_fingerprint is not None:
        values[REQUEST_FINGERPRINT] = request_fingerprint
    return encode(values)


def idempotency_task_id(item: Mapping[str, Any]) -> str:
    return str(decode(item)["task_id"])


def idempotency_fingerprint(item: Mapping[str, Any]) -> str | None:
    """None for a reservation written before fingerprints were kept."""
    value = decode(item).get(REQUEST_FINGERPRINT)
    return None if value is None else str(value)


def key_item(key: Mapping[str, str]) -> Item:
    """A primary key (or ExclusiveStartKey) in AttributeValue format."""
    return encode(key)
