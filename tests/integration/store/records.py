"""Builders for Task and Run records used by the store tests (valid, fully specified, easy to vary)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from punctual.domain.model import (
    Context,
    Run,
    RunKind,
    RunStatus,
    Schedule,
    ScheduleKind,
    Task,
    TaskStatus,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TENANT_A = Context("tenant-a")
TENANT_A_USER_U = Context("tenant-a", "u")
TENANT_B = Context("tenant-b")

_serial = itertools.count(1)


def new_id() -> str:
    return f"{next(_serial):032x}"


def make_task(
    task_id: str | None = None,
    *,
    context: Context = TENANT_A,
    created_at: datetime = T0,
    next_run_at: datetime | None = T0 + timedelta(hours=1),
    **changes: Any,
) -> Task:
    task = Task(
        id=task_id or new_id(),
        context=context,
        schedule=Schedule(kind=ScheduleKind.AT, at=next_run_at),
        status=TaskStatus.SCHEDULED,
        version=1,
        created_at=created_at,
        updated_at=created_at,
        next_run_at=next_run_at,
        name="report",
        message={"hello": "world"},
        metadata={"team": "core"},
    )
    return task.evolve(**changes)


def make_run(
    task: Task,
    *,
    tracking_id: str | None = None,
    triggered_at: datetime = T0 + timedelta(hours=1),
    **changes: Any,
) -> Run:
    run = Run(
        tracking_id=tracking_id or new_id(),
        task_id=task.id,
        context=task.context,
        kind=RunKind.SCHEDULED,
        status=RunStatus.RUNNING,
        triggered_at=triggered_at,
        scheduled_for=triggered_at,
        task_name=task.name,
        started_at=triggered_at + timedelta(milliseconds=120),
        attempt=1,
        lease_until=triggered_at + timedelta(seconds=60),
    )
    return run.evolve(**changes)
