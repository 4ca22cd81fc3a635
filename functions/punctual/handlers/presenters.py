"""Records as the API shows them: snake_case keys, instants in UTC with ``Z``, enums as their values."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from punctual.domain.model import Run, Schedule, ScheduleKind, Task
from punctual.domain.targets import TargetType, retry_json, target_json
from punctual.domain.timefmt import format_instant, format_optional
from punctual.handlers.http_errors import error_body, status_for
from punctual.service.commands import CreatedItem, ItemResult
from punctual.service.previews import SchedulePreview


def _expression(schedule: Schedule) -> dict[str, Any]:
    """Exactly one of at / every / cron, as the caller gave it."""
    if schedule.kind is ScheduleKind.AT:
        return {"at": format_optional(schedule.at)}
    if schedule.kind is ScheduleKind.EVERY:
        return {"every": schedule.every}
    return {"cron": schedule.cron}


def task_json(task: Task) -> dict[str, Any]:
    schedule = task.schedule
    body: dict[str, Any] = {"id": task.id, "name": task.name, "status": task.status.value}
    body.update(_expression(schedule))
    body.update(
        {
            "timezone": schedule.timezone,
            "start_at": format_optional(schedule.start_at),
            "end_at": format_optional(schedule.end_at),
            "next_run_at": format_optional(task.next_run_at),
            "version": task.version,
            "message": task.message,
            "metadata": dict(task.metadata),
            "misfire": task.misfire.value,
            "created_at": format_instant(task.created_at),
            "updated_at": format_instant(task.updated_at),
            "last_run_at": format_optional(task.last_run_at),
            "target": target_json(task.target),  # header values masked
            "retry": retry_json(task.retry),
            "overlap": task.overlap.value,
        }
    )
    return body


def run_json(run: Run) -> dict[str, Any]:
    body = _fire_json(run)
    if run.target_type is not TargetType.TOPIC:
        # The call's outcome: ``attempt`` counts calls of the target, each listed in ``attempts``.
        body.update(
            {
                "target_type": run.target_type.value,
                "attempt": run.delivery_attempt,
                "duration_ms": run.duration_ms,
                "response_status": run.response_status,
                "result": run.result,
                "attempts": [
                    {
                        "attempt": d.attempt,
                        "started_at": format_instant(d.started_at),
                        "duration_ms": d.duration_ms,
                        "response_status": d.response_status,
                        "error": d.error,
                    }
                    for d in run.deliveries
                ],
            }
        )
    else:
        body["target_type"] = TargetType.TOPIC.value
    return body


def _fire_json(run: Run) -> dict[str, Any]:
    return {
        "tracking_id": run.tracking_id,
        "task_id": run.task_id,
        "task_name": run.task_name,
        "kind": run.kind.value,
        "status": run.status.value,
        "scheduled_for": format_instant(run.scheduled_for),
        "triggered_at": format_instant(run.triggered_at),
        "started_at": format_optional(run.started_at),
        "completed_at": format_optional(run.completed_at),
        "fired_at": format_optional(run.fired_at),
        "lateness_ms": run.lateness_ms,
        "attempt": run.attempt,
        "error": run.error,
        # Occurrences the misfire policy coalesced into this run (fire_once) while punctual was behind.
        "missed_occurrences": run.missed,
    }


def item_result_json(result: ItemResult) -> dict[str, Any]:
    """One entry of a bulk answer: the HTTP status this item alone would have had, and the task or error."""
    if result.error is not None:
        return {"id": result.id, "status_code": status_for(result.error).value, **error_body(result.error)}
    return {
        "id": result.id,
        "status_code": 200,
        "task": None if result.task is None else task_json(result.task),
    }


def bulk_json(results: list[ItemResult]) -> dict[str, Any]:
    succeeded = sum(1 for result in results if result.ok)
    return {
        "results": [item_result_json(result) for result in results],
        "succeeded": succeeded,
        "failed": len(results) - succeeded,
    }


def created_item_json(result: CreatedItem) -> dict[str, Any]:
    """One entry of a bulk create's answer: 201 / 200 (replayed idempotency key) with the task, or the error."""
    if result.error is not None or result.task is None:
        assert result.error is not None
        return {
            "index": result.index,
            "id": None,
            "status_code": status_for(result.error).value,
            **error_body(result.error),
        }
    return {
        "index": result.index,
        "id": result.task.id,
        "status_code": 201 if result.created else 200,
        "task": task_json(result.task),
    }


def bulk_create_json(results: list[CreatedItem]) -> dict[str, Any]:
    succeeded = sum(1 for result in results if result.ok)
    return {
        "results": [created_item_json(result) for result in results],
        "succeeded": succeeded,
        "failed": len(results) - succeeded,
    }


def preview_json(preview: SchedulePreview) -> dict[str, Any]:
    schedule = preview.schedule
    zone = ZoneInfo(schedule.timezone)
    return {
        "schedule": {
            **_expression(schedule),
            "timezone": schedule.timezone,
            "start_at": format_optional(schedule.start_at),
            "end_at": format_optional(schedule.end_at),
        },
        "computed_at": format_instant(preview.computed_at),
        "occurrences": [
            {"at": format_instant(moment), "local": moment.astimezone(zone).isoformat()}
            for moment in preview.occurrences
        ],
    }
