"""Run use cases: run now, get a run by tracking id, a task's run history.

INTERFACE STUB — being implemented.
"""

from __future__ import annotations

from punctual.domain.model import Context, Run
from punctual.service.commands import Page
from punctual.service.ports import Clock, DelayQueue, IdGenerator, Metrics, TaskStore
from punctual.service.settings import ServiceSettings


class RunService:
    def __init__(
        self,
        store: TaskStore,
        queue: DelayQueue,
        clock: Clock,
        ids: IdGenerator,
        settings: ServiceSettings,
        metrics: Metrics,
    ) -> None:
        self._store, self._queue, self._clock = store, queue, clock
        self._ids, self._settings, self._metrics = ids, settings, metrics

    def run_now(self, context: Context, task_id: str) -> Run:
        """Record a PENDING manual run and enqueue a manual link with no delay; 409 unless the task is live."""
        raise NotImplementedError

    def get(self, context: Context, tracking_id: str) -> Run:
        raise NotImplementedError

    def history(self, context: Context, task_id: str, *, limit: int | None, cursor: str | None) -> Page[Run]:
        raise NotImplementedError
