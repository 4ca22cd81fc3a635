"""Run use cases: run now, get a run by tracking id, a task's run history."""

from __future__ import annotations

import logging

from punctual.domain.errors import ConflictError, DependencyError, ErrorDetail, NotFoundError, StaleWriteError
from punctual.domain.model import LIVE_STATUSES, Context, Link, LinkKind, Run, RunKind, RunStatus, Task
from punctual.domain.targets import TargetType
from punctual.service import inputs
from punctual.service.commands import Page
from punctual.service.ports import Clock, DelayQueue, DeliveryQueue, IdGenerator, Metrics, TaskStore
from punctual.service.settings import ServiceSettings

logger = logging.getLogger(__name__)


def _run_not_found(tracking_id: str) -> NotFoundError:
    return NotFoundError(f"run {tracking_id} not found", [ErrorDetail("tracking_id", "no such run")])


class RunService:
    def __init__(
        self,
        store: TaskStore,
        queue: DelayQueue,
        clock: Clock,
        ids: IdGenerator,
        settings: ServiceSettings,
        metrics: Metrics,
        deliveries: DeliveryQueue | None = None,
    ) -> None:
        self._store, self._queue, self._clock = store, queue, clock
        self._ids, self._settings, self._metrics = ids, settings, metrics
        self._deliveries = deliveries

    def retry(self, context: Context, tracking_id: str) -> Run:
        """Replay a failed target run: PENDING again, with a fresh round of its task's retry policy, its
        next attempt queued now. The attempts before stay on the record. 409 unless it failed after firing."""
        run = self.get(context, tracking_id)
        if run.target_type is TargetType.TOPIC or run.fired_at is None or self._deliveries is None:
            raise ConflictError(
                "only a lambda or https run that fired can be retried",
                [ErrorDetail("tracking_id", "not a fired target run")],
            )
        if run.status is not RunStatus.FAILED:
            raise ConflictError(
                f"the run is {run.status.value}; only a failed run can be retried",
                [ErrorDetail("status", run.status.value)],
            )
        replayed = run.evolve(
            status=RunStatus.PENDING,
            completed_at=None,
            error=None,
            outcome_published=False,
            retry_base=run.delivery_attempt,
        )
        try:
            self._store.save_delivery(replayed, expected_delivery_attempt=run.delivery_attempt)
        except StaleWriteError:
            raise ConflictError("the run changed concurrently; retry the request") from None
        try:
            self._deliveries.send(run.tracking_id, run.delivery_attempt + 1, delay_seconds=0)
        except Exception as exc:
            self._store.save_delivery(
                run.evolve(error=f"the retry could not be queued: {exc}"),
                expected_delivery_attempt=run.delivery_attempt,
            )
            raise DependencyError("could not queue the retry; the run stays failed") from exc
        self._metrics.count("run_retried")
        return replayed

    def run_now(self, context: Context, task_id: str) -> Run:
        """Record a PENDING manual run and enqueue a manual link with no delay; 409 unless the task is live."""
        task = self._task(context, task_id)
        if task.status not in LIVE_STATUSES:
            raise ConflictError(
                f"the task is {task.status.value}; only scheduled or paused tasks can run now",
                [ErrorDetail("status", task.status.value)],
            )
        now = self._clock.now()
        run = Run(
            tracking_id=self._ids.new_id(),
            task_id=task.id,
            context=context,
            kind=RunKind.MANUAL,
            status=RunStatus.PENDING,
            triggered_at=now,
            scheduled_for=now,
            task_name=task.name,
        )
        self._store.put_run(run)
        link = Link(task.id, task.version, now, kind=LinkKind.MANUAL, tracking_id=run.tracking_id)
        try:
            self._queue.enqueue(link, delay_seconds=0)
        except Exception as exc:
            # A put cannot be taken back atomically; the run stays as a truthful FAILED record instead.
            self._record_enqueue_failure(run, exc)
            raise DependencyError("could not start the run; nothing will fire") from exc
        self._metrics.count("run_now")
        return run

    def _record_enqueue_failure(self, run: Run, exc: Exception) -> None:
        failed = run.evolve(
            status=RunStatus.FAILED, completed_at=self._clock.now(), error=f"not enqueued: {exc}"
        )
        try:
            self._store.save_run(failed, expected_attempt=run.attempt)
        except Exception:
            logger.exception("could not mark run %s failed after the enqueue failed", run.tracking_id)

    def get(self, context: Context, tracking_id: str) -> Run:
        if not inputs.plausible_id(tracking_id):
            raise _run_not_found(tracking_id)
        run = self._store.get_run(tracking_id)
        if run is None or run.context != context:
            raise _run_not_found(tracking_id)  # another context's run looks exactly like a missing one
        return run

    def history(self, context: Context, task_id: str, *, limit: int | None, cursor: str | None) -> Page[Run]:
        page_size = inputs.page_limit(limit, self._settings)
        continuation = inputs.continuation_from(cursor, context, self._settings)
        task = self._task(context, task_id)
        page = self._store.list_runs(task.id, limit=page_size, continuation=continuation)
        return Page(page.items, inputs.cursor_from(page.continuation, context, self._settings))

    def _task(self, context: Context, task_id: str) -> Task:
        if not inputs.plausible_id(task_id):
            raise inputs.task_not_found(task_id)
        task = self._store.get_task(task_id, consistent=True)  # a task cancelled a moment ago is 409, not 202
        if task is None or task.context != context:
            raise inputs.task_not_found(task_id)
        return task
