"""Task use cases: schedule, get, list, update (reschedule / recurrence / pause-resume), cancel, bulk.

The task record decides: every change is a conditional write that bumps the version, so links armed for an
older version become no-ops in the executor. Links are armed after the record is written.
"""

from __future__ import annotations

import builtins
import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from punctual.domain.errors import (
    AlreadyExistsError,
    ConflictError,
    DependencyError,
    ErrorDetail,
    PunctualError,
    StaleWriteError,
    ThrottledError,
    UnprocessableError,
    ValidationError,
)
from punctual.domain.ids import occurrence_tracking_id
from punctual.domain.model import LIVE_STATUSES, Context, Link, Schedule, ScheduleKind, Task, TaskStatus
from punctual.domain.schedules import first_occurrence, next_occurrence
from punctual.domain.targets import TOPIC, Target, parse_overlap, parse_retry, parse_target
from punctual.domain.timefmt import format_optional
from punctual.service import idempotency, inputs
from punctual.service.arming import Arming
from punctual.service.commands import (
    BulkCreate,
    BulkDelete,
    BulkReschedule,
    CreatedItem,
    CreateTask,
    ItemResult,
    ListTasks,
    Page,
    ScheduleInput,
    TaskFilterInput,
    UpdateTask,
)
from punctual.service.ports import Clock, IdGenerator, Metrics, TaskFilter, TaskStore
from punctual.service.settings import ServiceSettings
from punctual.service.target_policy import TargetPolicy

logger = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.FAILED})
_EXPRESSION_FIELDS = frozenset({"at", "every", "cron"})
_RECURRENCE_FIELDS = frozenset({"timezone", "start_at", "end_at"})
# Conditional writes that lose to a concurrent writer are retried on a fresh read this many times.
_WRITE_ATTEMPTS = 3
_EARLY_CLAIM = timedelta(seconds=1)  # the executor claims an occurrence up to a second before its instant
# A filtered bulk delete cancels at most this many tasks per call (~3 AWS calls each: well inside the API's
# 29 s); a call that returns this many results may have left more, so callers repeat it until one returns fewer.
BULK_FILTER_CAP = 100
_BULK_PAGE = 100


def _in_flight_conflict() -> ConflictError:
    return ConflictError("an occurrence is being fired right now; retry shortly")


def _armed_link(task: Task) -> Link | None:
    """The link that may currently be armed for this task (none unless it is scheduled)."""
    if task.status is TaskStatus.SCHEDULED and task.next_run_at is not None:
        return Link(task.id, task.version, task.next_run_at)
    return None


def _fingerprint(task: Task, command: CreateTask) -> str | None:
    """The request a keyed create remembers with its key (a replay under the key must be the same request)."""
    return None if task.idempotency_key is None else idempotency.request_fingerprint(command)


def _arm_error(error: Exception) -> PunctualError:
    """What the caller of a create hears when its task could not be armed (and was removed again)."""
    if isinstance(error, ThrottledError):
        return error
    return DependencyError("could not arm the task; nothing was scheduled")


def _never_fires(schedule: Schedule, at_field: str = "at") -> UnprocessableError:
    field = "end_at" if schedule.end_at is not None else schedule.kind.value
    field = at_field if field == "at" else field
    return UnprocessableError(
        "the schedule has no occurrence from now on", [ErrorDetail(field, "no occurrence left to fire")]
    )


class TaskService:
    def __init__(
        self,
        store: TaskStore,
        arming: Arming,
        clock: Clock,
        ids: IdGenerator,
        settings: ServiceSettings,
        metrics: Metrics,
        targets: TargetPolicy | None = None,
    ) -> None:
        self._store, self._arming, self._clock = store, arming, clock
        self._ids, self._settings, self._metrics = ids, settings, metrics
        self._targets = targets  # None: a stage without a runner, where only the topic target exists

    def _check_target(self, value: object) -> Target:
        target = parse_target(value)
        if target is TOPIC or not target.runs_something:
            return target
        if self._targets is None:
            raise UnprocessableError(
                "this stage has no runner; only the topic target is available",
                [ErrorDetail("target.type", "only topic on this stage")],
            )
        self._targets.check(target)
        return target

    # --- create --------------------------------------------------------------------------------
    def create(self, context: Context, command: CreateTask) -> tuple[Task, bool]:
        """Validate, store, arm the first occurrence. Returns (task, created); created is False when the
        idempotency key matched an existing task (that task is returned unchanged)."""
        now = self._clock.now()
        task = self._new_task(context, command, now)
        fingerprint = _fingerprint(task, command)
        try:
            self._store.create_task(task, request_fingerprint=fingerprint)
        except AlreadyExistsError:
            return self._replay(context, task.idempotency_key, fingerprint), False
        assert task.next_run_at is not None
        link = Link(task.id, task.version, task.next_run_at)
        try:
            self._arming.arm(link, now)
        except Exception as exc:
            self._compensate_create(task)
            error = _arm_error(exc)
            if error is exc:
                raise
            raise error from exc
        self._metrics.count("scheduled")
        return task, True

    def _new_task(self, context: Context, command: CreateTask, now: datetime) -> Task:
        """The task a create would write, validated (nothing is written here)."""
        name = inputs.check_name(command.name)
        message = inputs.check_message(command.message, self._settings)
        metadata = inputs.check_metadata(command.metadata, self._settings)
        misfire = inputs.check_misfire(command.misfire)
        target = self._check_target(command.target)
        retry = parse_retry(command.retry, self._settings.default_retry)
        overlap = parse_overlap(command.overlap)
        idempotency_key = inputs.check_idempotency_key(command.idempotency_key)
        schedule = self._parse(command.schedule, now)
        next_run_at = first_occurrence(schedule, now)
        if next_run_at is None:
            raise _never_fires(schedule, command.schedule.at_field)
        return Task(
            id=self._ids.new_id(),
            context=context,
            schedule=schedule,
            status=TaskStatus.SCHEDULED,
            version=1,
            created_at=now,
            updated_at=now,
            next_run_at=next_run_at,
            schedule_changed_at=now,
            name=name,
            message=message,
            metadata=metadata,
            misfire=misfire,
            idempotency_key=idempotency_key,
            target=target,
            retry=retry,
            overlap=overlap,
        )

    def _replay(self, context: Context, idempotency_key: str | None, fingerprint: str | None) -> Task:
        existing = None
        if idempotency_key is not None:
            existing = self._store.idempotent_replay(context, idempotency_key)
        if existing is None or fingerprint is None:
            # The reservation exists but its task is gone (a create being compensated right now).
            raise ConflictError(
                "a request with this idempotency key is in progress; retry shortly",
                [ErrorDetail("idempotency_key", "in use")],
            )
        idempotency.check_same_request(existing.request_fingerprint, fingerprint)
        return existing.task

    def _compensate_create(self, task: Task) -> None:
        try:
            self._store.delete_task(task)
        except Exception:
            # The task stays stored but unarmed; the sweeper arms it once it is overdue.
            logger.exception("compensating delete of task %s failed", task.id)

    # --- bulk create ---------------------------------------------------------------------------
    def create_many(self, context: Context, command: BulkCreate) -> builtins.list[CreatedItem]:
        """Up to ``max_bulk_items`` creates: every item validated alone, the valid ones written together and
        armed together (a delay-queue batch for the near ones). An item fails alone, with the error a create
        of it would have had, and leaves nothing written; a replayed idempotency key returns its task."""
        count = len(command.items)
        if not 1 <= count <= self._settings.max_bulk_items:
            raise ValidationError(
                f"tasks must hold 1 to {self._settings.max_bulk_items} items",
                [ErrorDetail("tasks", f"expected 1-{self._settings.max_bulk_items} items, got {count}")],
            )
        now = self._clock.now()
        results: dict[int, CreatedItem] = {}
        pending: builtins.list[tuple[int, Task, str | None]] = []
        first_with_key: dict[str, tuple[int, str | None]] = {}
        repeats: dict[int, int] = {}  # item -> the earlier item with the same idempotency key
        for index, item in enumerate(command.items):
            try:
                if isinstance(item, PunctualError):
                    raise item
                task = self._new_task(context, item, now)
                fingerprint = _fingerprint(task, item)
                key = task.idempotency_key
                if key is not None and key in first_with_key:
                    first, first_fingerprint = first_with_key[key]
                    if first_fingerprint is not None and fingerprint is not None:
                        idempotency.check_same_request(first_fingerprint, fingerprint)
                    repeats[index] = first
                    continue
            except PunctualError as error:
                results[index] = CreatedItem(index, error=error)
                continue
            if key is not None:
                first_with_key[key] = (index, fingerprint)
            pending.append((index, task, fingerprint))
        written = self._write_all(context, pending, results)
        self._arm_all(written, now, results)
        for index, first in repeats.items():
            # The same key twice in one request (for the same task): the second is a replay of the first.
            earlier = results[first]
            results[index] = dataclasses.replace(earlier, index=index, created=False)
        created = sum(1 for result in results.values() if result.created)
        if created:
            self._metrics.count("scheduled", created)
        return [results[index] for index in range(count)]

    def _write_all(
        self,
        context: Context,
        pending: builtins.list[tuple[int, Task, str | None]],
        results: dict[int, CreatedItem],
    ) -> builtins.list[tuple[int, Task]]:
        """Store the tasks; the written ones are returned, the others get their result here."""
        if not pending:
            return []
        fingerprints = {task.id: fingerprint for _, task, fingerprint in pending if fingerprint is not None}
        try:
            outcomes = self._store.create_tasks(
                [task for _, task, _ in pending], request_fingerprints=fingerprints
            )
        except PunctualError as error:
            outcomes = [error] * len(pending)
        written = []
        for (index, task, fingerprint), outcome in zip(pending, outcomes, strict=True):
            if outcome is None:
                written.append((index, task))
            elif isinstance(outcome, AlreadyExistsError):
                replay = partial(self._replay, context, task.idempotency_key, fingerprint)
                results[index] = self._item_of(index, replay)
            elif isinstance(outcome, PunctualError):
                results[index] = CreatedItem(index, error=outcome)
            else:
                logger.error("bulk create: could not store task %s: %r", task.id, outcome)
                results[index] = CreatedItem(index, error=DependencyError("could not store the task"))
        return written

    def _arm_all(
        self, written: builtins.list[tuple[int, Task]], now: datetime, results: dict[int, CreatedItem]
    ) -> None:
        links = []
        for _, task in written:
            assert task.next_run_at is not None
            links.append(Link(task.id, task.version, task.next_run_at))
        outcomes = self._arming.arm_many(links, now) if links else []
        for (index, task), outcome in zip(written, outcomes, strict=True):
            if outcome is None:
                results[index] = CreatedItem(index, task=task, created=True)
            else:
                logger.warning("bulk create: could not arm task %s: %r", task.id, outcome)
                self._compensate_create(task)
                results[index] = CreatedItem(index, error=_arm_error(outcome))

    @staticmethod
    def _item_of(index: int, replay: Callable[[], Task]) -> CreatedItem:
        try:
            return CreatedItem(index, task=replay(), created=False)
        except PunctualError as error:
            return CreatedItem(index, error=error)

    # --- read ----------------------------------------------------------------------------------
    def get(self, context: Context, task_id: str, *, consistent: bool = False) -> Task:
        if not inputs.plausible_id(task_id):
            raise inputs.task_not_found(task_id)
        task = self._store.get_task(task_id, consistent=consistent)
        if task is None or task.context != context:
            # Another context's task is reported exactly like a missing one: no leak.
            raise inputs.task_not_found(task_id)
        return task

    def list(self, context: Context, query: ListTasks) -> Page[Task]:
        task_filter = self._filter(TaskFilterInput(query.status, query.name, query.metadata))
        limit = inputs.page_limit(query.limit, self._settings)
        continuation = inputs.continuation_from(query.cursor, context, self._settings)
        page = self._store.query_tasks(context, task_filter, limit=limit, continuation=continuation)
        return Page(page.items, inputs.cursor_from(page.continuation, context, self._settings))

    def _filter(self, given: TaskFilterInput) -> TaskFilter:
        return TaskFilter(
            statuses=inputs.parse_statuses(given.status),
            name=inputs.check_name(given.name),
            metadata=inputs.check_metadata(given.metadata, self._settings),
        )

    # --- update --------------------------------------------------------------------------------
    def update(self, context: Context, task_id: str, command: UpdateTask) -> Task:
        return self._update(context, task_id, command, one_time_only=False)

    def _update(self, context: Context, task_id: str, command: UpdateTask, *, one_time_only: bool) -> Task:
        for _ in range(_WRITE_ATTEMPTS):
            now = self._clock.now()
            task = self.get(context, task_id, consistent=True)
            if task.status in TERMINAL_STATUSES:
                raise ConflictError(
                    f"the task is {task.status.value} and can no longer change",
                    [ErrorDetail("status", task.status.value)],
                )
            if task.in_flight is not None:
                raise _in_flight_conflict()
            if one_time_only and task.schedule.recurring:
                raise ConflictError(
                    "the task is recurring; use PATCH to change a recurrence",
                    [ErrorDetail("at", "only one-time tasks can be rescheduled in bulk")],
                )
            changed = self._apply(task, command, now)
            try:
                self._store.save_task(
                    changed, expected_version=task.version, message_changed="message" in command.provided
                )
            except StaleWriteError:
                continue
            self._relink(task, changed, now)
            self._metrics.count("updated")
            return changed
        raise ConflictError("the task changed concurrently; retry the request")

    def _apply(self, task: Task, command: UpdateTask, now: datetime) -> Task:
        """The task after the update (version + 1), validated; nothing is written here."""
        provided = command.provided
        changes: dict[str, object] = {"version": task.version + 1, "updated_at": now}
        if "name" in provided:
            changes["name"] = inputs.check_name(command.name)
        if "message" in provided:
            changes["message"] = inputs.check_message(command.message, self._settings)
        if "metadata" in provided:
            changes["metadata"] = inputs.check_metadata(command.metadata, self._settings)
        if "misfire" in provided:
            changes["misfire"] = inputs.check_misfire(command.misfire)
        if "target" in provided:
            changes["target"] = self._check_target(command.target)
        if "retry" in provided:
            changes["retry"] = parse_retry(command.retry, self._settings.default_retry)
        if "overlap" in provided:
            changes["overlap"] = parse_overlap(command.overlap)

        schedule = self._updated_schedule(task, command, now)
        status = task.status
        if "paused" in provided:
            if not isinstance(command.paused, bool):
                raise ValidationError(
                    "paused must be true or false", [ErrorDetail("paused", "expected a boolean")]
                )
            status = TaskStatus.PAUSED if command.paused else TaskStatus.SCHEDULED

        if schedule is not None or status is not task.status:
            current = schedule or task.schedule
            upcoming = self._first_unfired(task, current, now)
            if upcoming is None:
                raise _never_fires(current)
            # A paused task arms nothing; resuming arms the first occurrence from now.
            changes["next_run_at"] = upcoming if status is TaskStatus.SCHEDULED else None
            changes["status"] = status
            changes["missed"] = 0  # occurrences coalesced into the old next_run_at no longer apply
            changes["schedule_changed_at"] = now  # lateness counts from here for an instant already past
            if schedule is not None:
                changes["schedule"] = schedule
        return task.evolve(**changes)

    def _first_unfired(self, task: Task, schedule: Schedule, now: datetime) -> datetime | None:
        """The first occurrence to arm from ``now``. A recurrence changed (or resumed) at the very instant of an
        occurrence that just fired would otherwise arm that instant again: its link would meet the old run,
        stop as a duplicate, and the chain with it. Only an instant within the executor's early claim (a
        second) can already have a run, so later ones need no read."""
        upcoming = first_occurrence(schedule, now)
        if (
            upcoming is not None
            and schedule.recurring
            and upcoming <= now + _EARLY_CLAIM
            and self._already_fired_at(task, upcoming)
        ):
            return next_occurrence(schedule, upcoming)
        return upcoming

    def _updated_schedule(self, task: Task, command: UpdateTask, now: datetime) -> Schedule | None:
        if command.provided & _EXPRESSION_FIELDS:
            schedule = self._parse_replacement(task, command, now)
            if schedule.at is not None and self._already_fired_at(task, schedule.at):
                raise ConflictError(
                    f"the task already fired at {format_optional(schedule.at)}; choose another instant",
                    [ErrorDetail("at", "an occurrence at this instant was already fired")],
                )
            return schedule
        return self._adjusted_recurrence(task, command, now)

    def _already_fired_at(self, task: Task, instant: datetime) -> bool:
        """Re-firing an instant that already has a run (completed, failed or skipped) would collide with that
        run's claim and with the dedup key subscribers already saw: the new link would meet the old run and
        stop, and the chain with it. One read, whatever the task's history (a skipped or failed occurrence
        leaves ``last_run_at`` unset)."""
        return self._store.get_run(occurrence_tracking_id(task.id, instant)) is not None

    def _parse_replacement(self, task: Task, command: UpdateTask, now: datetime) -> Schedule:
        """A new at/every/cron keeps the task's time zone, and a new recurrence its bounds, unless sent anew."""
        provided, given, current = command.provided, command.schedule, task.schedule
        keep_bounds = current.recurring and "at" not in provided
        return self._parse(
            dataclasses.replace(
                given,
                timezone=given.timezone if "timezone" in provided else current.timezone,
                start_at=given.start_at
                if "start_at" in provided or not keep_bounds
                else format_optional(current.start_at),
                end_at=given.end_at
                if "end_at" in provided or not keep_bounds
                else format_optional(current.end_at),
            ),
            now,
        )

    def _adjusted_recurrence(self, task: Task, command: UpdateTask, now: datetime) -> Schedule | None:
        provided, given = command.provided, command.schedule
        adjusted = provided & _RECURRENCE_FIELDS
        if not adjusted:
            return None
        current = task.schedule
        if not current.recurring:
            raise ValidationError(
                "timezone, start_at and end_at apply to recurring schedules; send at to reschedule",
                [ErrorDetail(field, "only for every/cron schedules") for field in sorted(adjusted)],
            )
        schedule = self._parse(
            ScheduleInput(
                every=current.every if current.kind is ScheduleKind.EVERY else None,
                cron=current.cron if current.kind is ScheduleKind.CRON else None,
                timezone=given.timezone if "timezone" in adjusted else current.timezone,
                start_at=given.start_at if "start_at" in adjusted else format_optional(current.start_at),
                end_at=given.end_at if "end_at" in adjusted else format_optional(current.end_at),
            ),
            now,
        )
        if "start_at" not in adjusted:
            # Keep an interval's phase: re-parsing would re-anchor it at now.
            schedule = dataclasses.replace(schedule, anchor=current.anchor)
        return schedule

    def _relink(self, before: Task, after: Task, now: datetime) -> None:
        old, new = _armed_link(before), _armed_link(after)
        if old is not None:
            try:
                self._arming.disarm(old, now)
            except Exception:
                # Harmless: the old link carries a stale version, so the executor ignores it.
                logger.warning("could not disarm %s; it will be a no-op", old, exc_info=True)
        if new is not None:
            try:
                self._arming.arm(new, now)
            except Exception:
                # Not rolled back: the record is the truth and already saved. An unarmed scheduled task
                # becomes overdue and the sweeper re-arms it (applying the misfire policy).
                logger.exception("could not arm %s; the sweeper will repair it", new)
                self._metrics.count("arm_failed")

    # --- cancel --------------------------------------------------------------------------------
    def cancel(self, context: Context, task_id: str) -> Task:
        for _ in range(_WRITE_ATTEMPTS):
            now = self._clock.now()
            task = self.get(context, task_id, consistent=True)
            if task.status is TaskStatus.CANCELLED:
                return task
            if task.status in TERMINAL_STATUSES:
                raise ConflictError(
                    f"the task already fired (status {task.status.value})",
                    [ErrorDetail("status", task.status.value)],
                )
            if task.in_flight is not None:
                raise _in_flight_conflict()
            cancelled = task.evolve(
                status=TaskStatus.CANCELLED, next_run_at=None, version=task.version + 1, updated_at=now
            )
            try:
                self._store.save_task(cancelled, expected_version=task.version)
            except StaleWriteError:
                continue
            self._relink(task, cancelled, now)
            self._metrics.count("cancelled")
            return cancelled
        raise ConflictError("the task changed concurrently; retry the request")

    # --- bulk ----------------------------------------------------------------------------------
    def bulk_delete(self, context: Context, command: BulkDelete) -> builtins.list[ItemResult]:
        """Cancel by ids, or every task of the context matching a filter (at most BULK_FILTER_CAP per call;
        an empty filter means every live task)."""
        if (command.ids is None) == (command.filter is None):
            raise ValidationError(
                "send exactly one of ids or filter",
                [
                    ErrorDetail("ids", "exactly one of ids / filter"),
                    ErrorDetail("filter", "exactly one of ids / filter"),
                ],
            )
        if command.ids is not None:
            results: builtins.list[ItemResult] = []
            for task_id in self._bulk_ids(command.ids, "ids"):
                results.append(self._item(task_id, partial(self.cancel, context, task_id)))
            return results
        assert command.filter is not None
        given = self._filter(command.filter)
        # Only live tasks can be cancelled (terminal ones would come back on every repeat and never leave).
        live = LIVE_STATUSES if given.statuses is None else given.statuses & LIVE_STATUSES
        task_filter = dataclasses.replace(given, statuses=frozenset(live))
        results = []
        continuation = None
        while len(results) < BULK_FILTER_CAP:
            limit = min(_BULK_PAGE, BULK_FILTER_CAP - len(results))
            page = self._store.query_tasks(context, task_filter, limit=limit, continuation=continuation)
            for task in page.items:
                results.append(self._item(task.id, partial(self.cancel, context, task.id)))
            continuation = page.continuation
            if continuation is None:
                break
        return results

    def bulk_reschedule(self, context: Context, command: BulkReschedule) -> builtins.list[ItemResult]:
        """Move one-time tasks to a new ``at``; a recurring task gets a per-item 409 (use PATCH)."""
        self._bulk_ids([item.id for item in command.updates], "updates")
        results = []
        for item in command.updates:
            reschedule = UpdateTask(provided=frozenset({"at"}), schedule=ScheduleInput(at=item.at))
            results.append(
                self._item(item.id, partial(self._update, context, item.id, reschedule, one_time_only=True))
            )
        return results

    def _bulk_ids(self, ids: builtins.list[str], field: str) -> builtins.list[str]:
        if not 1 <= len(ids) <= self._settings.max_bulk_items:
            raise ValidationError(
                f"{field} must hold 1 to {self._settings.max_bulk_items} items",
                [ErrorDetail(field, f"expected 1-{self._settings.max_bulk_items} items")],
            )
        return list(dict.fromkeys(ids))  # a repeated id is processed once, in first-seen order

    @staticmethod
    def _item(task_id: str, action: Callable[[], Task]) -> ItemResult:
        try:
            return ItemResult(task_id, task=action())
        except PunctualError as error:
            return ItemResult(task_id, error=error)

    # --- helpers -------------------------------------------------------------------------------
    def _parse(self, given: ScheduleInput, now: datetime) -> Schedule:
        return inputs.schedule_of(given, now, self._settings)
