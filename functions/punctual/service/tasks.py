"""Task use cases: schedule, get, list, update (reschedule / recurrence / pause-resume), cancel, bulk.

INTERFACE STUB — being implemented. Signatures are the contract the handlers code against.
"""

from __future__ import annotations

from punctual.domain.model import Context, Task
from punctual.service.arming import Arming
from punctual.service.commands import BulkDelete, BulkReschedule, CreateTask, ItemResult, ListTasks, Page, UpdateTask
from punctual.service.ports import Clock, IdGenerator, Metrics, TaskStore
from punctual.service.settings import ServiceSettings


class TaskService:
    def __init__(
        self,
        store: TaskStore,
        arming: Arming,
        clock: Clock,
        ids: IdGenerator,
        settings: ServiceSettings,
        metrics: Metrics,
    ) -> None:
        self._store, self._arming, self._clock = store, arming, clock
        self._ids, self._settings, self._metrics = ids, settings, metrics

    def create(self, context: Context, command: CreateTask) -> tuple[Task, bool]:
        """Validate, store, arm the first occurrence. Returns (task, created); created is False when the
        idempotency key matched an existing task (that task is returned unchanged)."""
        raise NotImplementedError

    def get(self, context: Context, task_id: str) -> Task:
        raise NotImplementedError

    def list(self, context: Context, query: ListTasks) -> Page[Task]:
        raise NotImplementedError

    def update(self, context: Context, task_id: str, command: UpdateTask) -> Task:
        raise NotImplementedError

    def cancel(self, context: Context, task_id: str) -> Task:
        raise NotImplementedError

    def bulk_delete(self, context: Context, command: BulkDelete) -> list[ItemResult]:
        raise NotImplementedError

    def bulk_reschedule(self, context: Context, command: BulkReschedule) -> list[ItemResult]:
        raise NotImplementedError
