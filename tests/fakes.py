"""In-memory implementations of every port in ``punctual.service.ports``, faithful to each contract.

Each fake records the calls it received (``calls``) and can be told to fail (``fail_next``) so tests can
pin down compensation and retry behaviour without I/O. Records are frozen dataclasses, so the fakes keep
them as they are (no copies needed).
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from punctual.domain.errors import AlreadyExistsError, StaleWriteError
from punctual.domain.model import Context, FiredEvent, Link, Run, Task, TaskStatus
from punctual.domain.timefmt import format_instant, sortable
from punctual.service.arming import Arming
from punctual.service.commands import CreateTask, ScheduleInput
from punctual.service.firing import FiringService
from punctual.service.ports import Claim, IdempotentReplay, NullMetrics, StorePage, TaskFilter
from punctual.service.runs import RunService
from punctual.service.settings import ServiceSettings
from punctual.service.tasks import TaskService

DEFAULT_START = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to (or when something sleeps on it)."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            raise ValueError("FakeClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if seconds > 0:
            self._now += timedelta(seconds=seconds)

    def advance(self, **delta: float) -> datetime:
        """``clock.advance(minutes=5)``: move forward by a timedelta built from the keyword arguments."""
        self._now += timedelta(**delta)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)


class SequentialIds:
    """Deterministic 32-lowercase-hex ids: 000...001, 000...002, ..."""

    def __init__(self, start: int = 1) -> None:
        self._next = start
        self.issued: list[str] = []

    def new_id(self) -> str:
        value = f"{self._next:032x}"
        self._next += 1
        self.issued.append(value)
        return value


class _FailureInjection:
    """``fail_next(method, exc)`` queues one failure for the next call of ``method``; calls are recorded."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._failures: dict[str, deque[BaseException]] = defaultdict(deque)

    def _queue_failure(self, method: str, exc: BaseException, times: int = 1) -> None:
        if not callable(getattr(self, method, None)):
            raise AttributeError(f"{type(self).__name__} has no method {method!r}")
        self._failures[method].extend([exc] * times)

    def _enter(self, method: str) -> None:
        """Record the call, then raise a queued failure (before any effect, like a failed AWS call)."""
        self.calls.append(method)
        pending = self._failures.get(method)
        if pending:
            raise pending.popleft()


def _task_sort_key(task: Task) -> str:
    return f"{sortable(task.created_at)}#{task.id}"


def _run_sort_key(run: Run) -> str:
    return f"{sortable(run.triggered_at)}#{run.tracking_id}"


def _wake_instant(task: Task) -> datetime | None:
    return task.in_flight if task.in_flight is not None else task.next_run_at


def _in_due_index(task: Task) -> bool:
    return task.status is TaskStatus.SCHEDULED or (
        task.status is TaskStatus.PAUSED and task.in_flight is not None
    )


def _matches(task: Task, task_filter: TaskFilter) -> bool:
    if task_filter.statuses is not None and task.status not in task_filter.statuses:
        return False
    if task_filter.name is not None and task.name != task_filter.name:
        return False
    return all(task.metadata.get(key) == value for key, value in task_filter.metadata.items())


class FakeStore(_FailureInjection):
    """Dict-backed TaskStore. Continuations are ``{"after": "<sortable instant>#<id>"}`` (the last item's
    index sort key), present only when more matching items follow."""

    def __init__(self) -> None:
        super().__init__()
        self.tasks: dict[str, Task] = {}
        self.runs: dict[str, Run] = {}
        self.idempotency: dict[tuple[str, str], str] = {}
        self._task_failures: deque[Exception] = deque()
        self.fingerprints: dict[tuple[str, str], str | None] = {}

    def fail_next(self, method: str, exc: BaseException, *, times: int = 1) -> None:
        self._queue_failure(method, exc, times)

    # --- tasks ---------------------------------------------------------------------------------
    def create_task(self, task: Task, *, request_fingerprint: str | None = None) -> None:
        self._enter("create_task")
        self._create(task, request_fingerprint)

    def _create(self, task: Task, request_fingerprint: str | None) -> None:
        if task.id in self.tasks:
            raise AlreadyExistsError(f"task {task.id} exists")
        if task.idempotency_key is not None:
            reservation = (task.context.key, task.idempotency_key)
            if reservation in self.idempotency:
                raise AlreadyExistsError(f"idempotency key {task.idempotency_key!r} is reserved")
            self.idempotency[reservation] = task.id
            self.fingerprints[reservation] = request_fingerprint
        self.tasks[task.id] = task

    def fail_tasks(self, exc: Exception, *, times: int = 1) -> None:
        """The next ``times`` tasks written through ``create_tasks`` fail alone with ``exc`` (nothing of them
        is written); ``fail_next("create_tasks", exc)`` fails the whole call instead."""
        self._task_failures.extend([exc] * times)

    def create_tasks(
        self, tasks: Sequence[Task], *, request_fingerprints: Mapping[str, str] | None = None
    ) -> list[Exception | None]:
        """One call; each task is created as ``create_task`` would, or fails alone (``fail_tasks``)."""
        self._enter("create_tasks")
        outcomes: list[Exception | None] = []
        for task in tasks:
            if self._task_failures:
                outcomes.append(self._task_failures.popleft())
                continue
            try:
                self._create(task, (request_fingerprints or {}).get(task.id))
            except AlreadyExistsError as error:
                outcomes.append(error)
            else:
                outcomes.append(None)
        return outcomes

    def task_for_idempotency_key(self, context: Context, key: str) -> Task | None:
        self._enter("task_for_idempotency_key")
        task_id = self.idempotency.get((context.key, key))
        return None if task_id is None else self.tasks.get(task_id)

    def idempotent_replay(self, context: Context, key: str) -> IdempotentReplay | None:
        self._enter("idempotent_replay")
        task_id = self.idempotency.get((context.key, key))
        task = None if task_id is None else self.tasks.get(task_id)
        if task is None:
            return None
        return IdempotentReplay(task, self.fingerprints.get((context.key, key)))

    def delete_task(self, task: Task) -> None:
        self._enter("delete_task")
        self.tasks.pop(task.id, None)
        if task.idempotency_key is not None:
            reservation = (task.context.key, task.idempotency_key)
            if self.idempotency.get(reservation) == task.id:
                del self.idempotency[reservation]

    def get_task(self, task_id: str, *, consistent: bool = False) -> Task | None:
        self._enter("get_task")
        return self.tasks.get(task_id)

    def save_task(self, task: Task, *, expected_version: int, message_changed: bool = False) -> None:
        self._enter("save_task")
        stored = self.tasks.get(task.id)
        if stored is None or stored.version != expected_version:
            raise StaleWriteError(f"task {task.id} is not at version {expected_version}")
        # The DynamoDB store writes a large message only when told it changed: hold callers to that.
        if not message_changed and _message_json(stored.message) != _message_json(task.message):
            raise AssertionError(f"task {task.id}'s message changed but save_task was not told so")
        self.tasks[task.id] = task

    def query_tasks(
        self, context: Context, task_filter: TaskFilter, *, limit: int, continuation: dict[str, Any] | None
    ) -> StorePage[Task]:
        self._enter("query_tasks")
        after = None if continuation is None else str(continuation["after"])
        matching = sorted(
            (
                task
                for task in self.tasks.values()
                if task.context == context
                and _matches(task, task_filter)
                and (after is None or _task_sort_key(task) < after)
            ),
            key=_task_sort_key,
            reverse=True,
        )
        page = matching[:limit]
        more = len(matching) > limit
        return StorePage(page, {"after": _task_sort_key(page[-1])} if more and page else None)

    def tasks_needing_attention(
        self, before: datetime, *, limit: int, continuation: dict[str, Any] | None = None
    ) -> StorePage[Task]:
        self._enter("tasks_needing_attention")
        after = None if continuation is None else str(continuation["after"])
        due = []
        for task in self.tasks.values():
            wake = _wake_instant(task)
            if _in_due_index(task) and wake is not None and wake <= before:
                key = f"{sortable(wake)}#{task.id}"
                if after is None or key > after:
                    due.append((key, task))
        due.sort(key=lambda pair: pair[0])
        page = due[:limit]
        more = len(due) > limit
        return StorePage([task for _, task in page], {"after": page[-1][0]} if more and page else None)

    # --- runs ----------------------------------------------------------------------------------
    def get_tasks_and_runs(self, pairs: Sequence[tuple[str, str]]) -> list[tuple[Task | None, Run | None]]:
        self._enter("get_tasks_and_runs")
        return [(self.tasks.get(task_id), self.runs.get(tracking_id)) for task_id, tracking_id in pairs]

    def claim(
        self, task: Task, *, expected_version: int, run: Run, expected_attempt: int | None = None
    ) -> None:
        """Both conditions are checked before anything is written; a moved task wins over an existing run."""
        self._enter("claim")
        self._claim(task, expected_version, run, expected_attempt)

    def _claim(self, task: Task, expected_version: int, run: Run, expected_attempt: int | None) -> None:
        stored = self.tasks.get(task.id)
        if stored is None or stored.version != expected_version:
            raise StaleWriteError(f"task {task.id} is not at version {expected_version}")
        if expected_attempt is None:
            if run.tracking_id in self.runs:
                raise AlreadyExistsError(f"run {run.tracking_id} exists")
        else:
            self._check_attempt(run, expected_attempt)
        self.tasks[task.id] = task
        self.runs[run.tracking_id] = run

    def claim_all(self, claims: Sequence[Claim]) -> list[Exception | None]:
        """One claim after another (the DynamoDB store writes them in one transaction where it can)."""
        self._enter("claim_all")
        assert len({claim.task.id for claim in claims}) == len(claims), "claims of one task in one call"
        assert len({claim.run.tracking_id for claim in claims}) == len(claims), (
            "claims of one run in one call"
        )
        results: list[Exception | None] = []
        for claim in claims:
            try:
                self._claim(claim.task, claim.expected_version, claim.run, claim.expected_attempt)
            except (StaleWriteError, AlreadyExistsError) as error:
                results.append(error)
            else:
                results.append(None)
        return results

    def put_run(self, run: Run) -> None:
        self._enter("put_run")
        if run.tracking_id in self.runs:
            raise AlreadyExistsError(f"run {run.tracking_id} exists")
        self.runs[run.tracking_id] = run

    def get_run(self, tracking_id: str) -> Run | None:
        self._enter("get_run")
        return self.runs.get(tracking_id)

    def save_run(self, run: Run, *, expected_attempt: int) -> None:
        self._enter("save_run")
        self._check_attempt(run, expected_attempt)
        self.runs[run.tracking_id] = run

    def save_delivery(self, run: Run, *, expected_delivery_attempt: int) -> None:
        self._enter("save_delivery")
        stored = self.runs.get(run.tracking_id)
        if stored is None or stored.delivery_attempt != expected_delivery_attempt:
            raise StaleWriteError(f"run {run.tracking_id} is not at delivery {expected_delivery_attempt}")
        self.runs[run.tracking_id] = run

    def list_runs(self, task_id: str, *, limit: int, continuation: dict[str, Any] | None) -> StorePage[Run]:
        self._enter("list_runs")
        after = None if continuation is None else str(continuation["after"])
        matching = sorted(
            (
                run
                for run in self.runs.values()
                if run.task_id == task_id and (after is None or _run_sort_key(run) < after)
            ),
            key=_run_sort_key,
            reverse=True,
        )
        page = matching[:limit]
        more = len(matching) > limit
        return StorePage(page, {"after": _run_sort_key(page[-1])} if more and page else None)

    def _check_attempt(self, run: Run, expected_attempt: int) -> None:
        stored = self.runs.get(run.tracking_id)
        if stored is None or stored.attempt != expected_attempt:
            raise StaleWriteError(f"run {run.tracking_id} is not at attempt {expected_attempt}")


class FakeScheduler(_FailureInjection):
    """EventBridge Scheduler: ``wakes`` maps each armed link to its wake-up instant."""

    def __init__(self) -> None:
        super().__init__()
        self.wakes: dict[Link, datetime] = {}
        self.cancelled: list[Link] = []

    def fail_next(self, exc: BaseException, method: str = "wake_at", *, times: int = 1) -> None:
        self._queue_failure(method, exc, times)

    def wake_at(self, link: Link, instant: datetime) -> None:
        self._enter("wake_at")
        self.wakes[link] = instant

    def cancel_wake(self, link: Link) -> None:
        self._enter("cancel_wake")
        self.cancelled.append(link)
        self.wakes.pop(link, None)


class FakeQueue(_FailureInjection):
    """The delay queue: ``messages`` holds (link, delay_seconds) in send order."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[Link, int]] = []
        self._entry_failures: deque[Exception] = deque()

    def fail_next(self, exc: BaseException, *, times: int = 1) -> None:
        self._queue_failure("enqueue", exc, times)

    def enqueue(self, link: Link, delay_seconds: int) -> None:
        self._enter("enqueue")
        if not 0 <= delay_seconds <= 900:
            raise ValueError(f"DelaySeconds must be 0..900, got {delay_seconds}")
        self.messages.append((link, delay_seconds))

    def enqueue_batch(self, entries: Sequence[tuple[Link, int]]) -> list[Exception | None]:
        """One call (``fail_next`` queues nothing for it: see ``fail_entries`` and ``fail_batch``)."""
        self._enter("enqueue_batch")
        outcomes: list[Exception | None] = []
        for link, delay_seconds in entries:
            if self._entry_failures:
                outcomes.append(self._entry_failures.popleft())
                continue
            if not 0 <= delay_seconds <= 900:
                raise ValueError(f"DelaySeconds must be 0..900, got {delay_seconds}")
            self.messages.append((link, delay_seconds))
            outcomes.append(None)
        return outcomes

    def fail_entries(self, exc: Exception, *, times: int = 1) -> None:
        """The next ``times`` entries sent through ``enqueue_batch`` fail alone with ``exc``."""
        self._entry_failures.extend([exc] * times)

    def fail_batch(self, exc: BaseException) -> None:
        """The next ``enqueue_batch`` call fails as a whole."""
        self._queue_failure("enqueue_batch", exc)

    def drain(self) -> list[tuple[Link, int]]:
        drained, self.messages = self.messages, []
        return drained


class FakePublisher(_FailureInjection):
    def __init__(self) -> None:
        super().__init__()
        self.published: list[FiredEvent] = []

    def fail_next(self, exc: BaseException) -> None:
        """The next event published fails with ``exc``."""
        self._queue_failure("publish_batch", exc)

    def fail_times(self, times: int, exc: BaseException) -> None:
        self._queue_failure("publish_batch", exc, times)

    def publish_batch(self, events: Sequence[FiredEvent]) -> list[str | Exception]:
        """One call; a queued failure fails the next event (the others of the batch go through)."""
        self.calls.append("publish_batch")
        results: list[str | Exception] = []
        for event in events:
            pending = self._failures.get("publish_batch")
            if pending:
                failure = pending.popleft()
                assert isinstance(failure, Exception)
                results.append(failure)
            else:
                self.published.append(event)
                results.append(f"msg-{len(self.published)}")
        return results


@dataclass
class Services:
    """Every use case wired over in-memory fakes, with the fakes exposed for assertions."""

    clock: FakeClock
    ids: SequentialIds
    store: FakeStore
    scheduler: FakeScheduler
    queue: FakeQueue
    publisher: FakePublisher
    metrics: NullMetrics
    settings: ServiceSettings
    arming: Arming
    tasks: TaskService
    runs: RunService
    firing: FiringService
    extra: dict[str, Any] = field(default_factory=dict)


def make_services(
    start: datetime = DEFAULT_START, settings: ServiceSettings | None = None, **setting_overrides: Any
) -> Services:
    """``make_services()``, or ``make_services(max_bulk_items=3)`` to override settings fields."""
    if settings is None:
        settings = ServiceSettings(cursor_secret=b"test", **setting_overrides)
    elif setting_overrides:
        raise TypeError("pass either settings or setting overrides, not both")
    clock, ids, store = FakeClock(start), SequentialIds(), FakeStore()
    scheduler, queue, publisher, metrics = FakeScheduler(), FakeQueue(), FakePublisher(), NullMetrics()
    arming = Arming(scheduler, queue, settings)
    return Services(
        clock=clock,
        ids=ids,
        store=store,
        scheduler=scheduler,
        queue=queue,
        publisher=publisher,
        metrics=metrics,
        settings=settings,
        arming=arming,
        tasks=TaskService(store, arming, clock, ids, settings, metrics),
        runs=RunService(store, queue, clock, ids, settings, metrics),
        firing=FiringService(store, arming, queue, publisher, clock, settings, metrics),
    )


def create_one_time(
    services: Services, context: Context, *, after: timedelta = timedelta(hours=1), **fields: Any
) -> Task:
    """Schedule a one-time task ``after`` from the fake now through the real use case."""
    at = format_instant(services.clock.now() + after)
    task, _ = services.tasks.create(context, CreateTask(ScheduleInput(at=at), **fields))
    return task


def create_recurring(
    services: Services, context: Context, *, every: str = "5 minutes", **fields: Any
) -> Task:
    task, _ = services.tasks.create(context, CreateTask(ScheduleInput(every=every), **fields))
    return task


def _message_json(message: Any) -> str:
    return json.dumps(message, sort_keys=True)
