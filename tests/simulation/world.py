"""The simulated AWS around the real service layer: a delay queue that lags, duplicates, drops and redelivers;
EBS wake-ups that fire anywhere in their minute; and every port call a place where the world may fail the call
(before it takes effect, or after), crash the process, or run another whole operation in between.

Everything is driven by one ``random.Random(seed)``, so a seed replays the same interleaving exactly.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from punctual.domain.errors import DependencyError, ThrottledError
from punctual.domain.model import FiredEvent, Link, LinkKind, OutcomeEvent, Run, RunStatus, Task
from punctual.domain.targets import TargetType
from punctual.local.resources import StackShape
from punctual.service.arming import Arming
from punctual.service.firing import FiringService
from punctual.service.ports import Claim, NullMetrics, StorePage, TaskStore
from punctual.service.runner import RunnerPorts, RunnerService
from punctual.service.runs import RunService
from punctual.service.settings import ServiceSettings
from punctual.service.target_policy import TargetPolicy
from punctual.service.tasks import TaskService

from tests.fakes import FakeClock, SequentialIds
from tests.simulation.targets import DELIVERY_VISIBILITY, Delivery, SimDeliveries, SimOutcomes, SimTarget
from tests.target_fakes import FakeResolver, FakeSecrets

# The delay queue's visibility timeout: punctual dev's copy of infra/firing.py's (tests/infra holds them equal).
VISIBILITY = timedelta(seconds=StackShape().delay_queue.visibility_timeout_seconds)


class Crash(BaseException):
    """The process died at this port call: the operation stops here, its message comes back later."""


@dataclass
class Faults:
    """Per port call probabilities. ``calm()`` turns everything off (quiescence)."""

    before: float = 0.015  # the call fails and takes no effect
    after: float = 0.01  # the call takes effect, then the caller sees an error
    crash: float = 0.004  # the process dies before (or after) the call
    nest: float = 0.04  # another whole operation runs at this point
    lag_episode: float = 0.002  # per step: the delay queue starts lagging by minutes
    duplicate: float = 0.03  # a delivered message is also kept (delivered again later)
    drop: float = 0.005  # per step: an occurrence link or a wake-up is lost

    def calm(self) -> None:
        self.before = self.after = self.crash = self.nest = self.lag_episode = self.duplicate = self.drop = (
            0.0
        )


@dataclass
class Message:
    id: int
    link: Link
    visible_at: datetime


@dataclass
class Operation:
    """One top-level or nested operation, with what the oracle needs to excuse or blame it."""

    kind: str
    faults: int = 0
    crashed: bool = False
    published: list[FiredEvent] = field(default_factory=list)
    record_failures: dict[str, int] = field(default_factory=dict)  # tracking id -> failed record writes
    accepted_but_failed: set[str] = field(default_factory=set)  # dedup keys SNS took while reporting an error
    excused: set[str] = field(default_factory=set)  # dedup keys the oracle already allowed a second publish


class SimQueue:
    def __init__(self, world: World) -> None:
        self._world = world
        self.messages: dict[int, Message] = {}
        self._ids = itertools.count(1)

    def enqueue(self, link: Link, delay_seconds: int) -> None:
        if not 0 <= delay_seconds <= 900:
            raise ValueError(f"DelaySeconds must be 0..900, got {delay_seconds}")
        now = self._world.clock.now()
        visible = now + timedelta(seconds=delay_seconds) + self._world.current_lag()
        message_id = next(self._ids)
        self.messages[message_id] = Message(message_id, link, visible)

    def enqueue_batch(self, entries: Any) -> list[Exception | None]:
        outcomes: list[Exception | None] = []
        for link, delay_seconds in entries:
            self.enqueue(link, delay_seconds)
            outcomes.append(None)
        return outcomes


class SimScheduler:
    def __init__(self) -> None:
        self.wakes: dict[Link, datetime] = {}

    def wake_at(self, link: Link, instant: datetime) -> None:
        self.wakes[link] = instant

    def cancel_wake(self, link: Link) -> None:
        self.wakes.pop(link, None)


class SimPublisher:
    def __init__(self, world: World) -> None:
        self._world = world
        self.published: list[FiredEvent] = []

    def publish_batch(self, events: Any) -> list[str | Exception]:
        results: list[str | Exception] = []
        for event in events:
            self.published.append(event)
            self._world.on_published(event)
            results.append(f"msg-{len(self.published)}")
        return results


class Interposer:
    """Wraps a port: each method call is a point where the world may nest an operation, fail or crash."""

    def __init__(self, world: World, port: str, target: Any) -> None:
        self._world, self._port, self._target = world, port, target

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._target, name)
        if not callable(method) or name.startswith("_"):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self._world.before_call(self._port, name, args, kwargs)
            result = method(*args, **kwargs)
            return self._world.after_call(self._port, name, args, kwargs, result)

        return call


class World:
    def __init__(
        self,
        seed: int,
        store: TaskStore,
        *,
        start: datetime,
        settings: ServiceSettings,
        faults: Faults | None = None,
        targets: bool = False,
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.clock = FakeClock(start)
        self.raw_store = store
        self.settings = settings
        self.faults = faults or Faults()
        self.queue = SimQueue(self)
        self.scheduler = SimScheduler()
        self.publisher = SimPublisher(self)
        self.metrics = NullMetrics()
        self.ops: list[Operation] = []
        self.lag = timedelta(0)
        self.lag_until = start
        self.max_lag_seen = timedelta(0)
        self.trace: list[str] = []
        self.focus: str | None = None  # the task the innermost operation last named
        self.nested_runner: Callable[[int], None] | None = None  # set by the simulation: runs one random op
        self.on_publish: Callable[[FiredEvent, Operation], None] | None = None
        self.on_excusable: Callable[[Operation], None] | None = (
            None  # at a fault that may excuse a republish, and at the end
        )
        self.on_outcome: Callable[[OutcomeEvent], None] | None = None
        # Targets (opt-in, so the default campaign and its seeds stay as they were).
        self.deliveries = SimDeliveries(self)
        self.target = SimTarget(self)
        self.outcomes = SimOutcomes(self)
        store_port = Interposer(self, "store", store)
        queue_port = Interposer(self, "queue", self.queue)
        scheduler_port = Interposer(self, "scheduler", self.scheduler)
        publisher_port = Interposer(self, "publisher", self.publisher)
        ids = SequentialIds(start=seed * 1_000_000 + 1)
        arming = Arming(scheduler_port, queue_port, settings)
        deliveries_port = Interposer(self, "deliveries", self.deliveries) if targets else None
        policy = TargetPolicy(settings, FakeResolver()) if targets else None
        self.tasks = TaskService(store_port, arming, self.clock, ids, settings, self.metrics, policy)
        self.runs = RunService(
            store_port, queue_port, self.clock, ids, settings, self.metrics, deliveries_port
        )
        self.firing = FiringService(
            store_port,
            arming,
            queue_port,
            publisher_port,
            self.clock,
            settings,
            self.metrics,
            deliveries_port,
        )
        self.runner: RunnerService | None = None
        if deliveries_port is not None:
            ports = RunnerPorts(
                {TargetType.HTTPS: self.target},
                deliveries_port,
                Interposer(self, "outcomes", self.outcomes),
                FakeSecrets(),
            )
            self.runner = RunnerService(store_port, ports, self.clock, self.metrics, rng=random.Random(seed))
        self.cancelled: set[str] = set()  # tasks whose cancel returned 200 (the oracle's view)

    # ---- operations ------------------------------------------------------------------------------

    @property
    def op(self) -> Operation:
        return self.ops[-1]

    def run_op(self, kind: str, action: Callable[[], Any]) -> tuple[Operation, Any]:
        """Run ``action`` as one operation; a Crash ends it silently (returns the Crash as its result)."""
        operation = Operation(kind)
        self.ops.append(operation)
        try:
            result: Any = action()
        except Crash as crash:
            operation.crashed = True
            result = crash
        except Exception as error:  # an API error answered to the caller, or a handler failure
            result = error
        finally:
            self.ops.pop()
        if self.on_excusable is not None:
            self.on_excusable(operation)
        return operation, result

    def log(self, line: str) -> None:
        self.trace.append(f"{self.clock.now().isoformat()} {'  ' * len(self.ops)}{line}")

    # ---- the points between port calls ------------------------------------------------------------

    def before_call(self, port: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        if not self.ops:
            return
        self._focus_on((*args, *kwargs.values()))
        self._maybe_nest()
        roll = self.rng.random()
        if roll < self.faults.crash / 2:
            self._fault(f"crash before {port}.{name}")
            raise Crash(f"{port}.{name}")
        if roll < self.faults.crash / 2 + self.faults.before:
            self._fault(f"fail before {port}.{name}")
            self._note_record_failure(name, args, kwargs)
            raise self._error()

    def after_call(
        self, port: str, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], result: Any
    ) -> Any:
        if not self.ops:
            return result
        roll = self.rng.random()
        if roll < self.faults.crash / 2:
            self._fault(f"crash after {port}.{name}")
            raise Crash(f"{port}.{name}")
        if roll < self.faults.crash / 2 + self.faults.after:
            self._fault(f"fail after {port}.{name} took effect")
            if name == "publish_batch":  # SNS accepted, the caller saw an error: republishing is excused
                events = args[0] if args else kwargs["events"]
                self.op.accepted_but_failed.update(event.dedup_key for event in events)
                self._faulted()
                return [self._error() for _ in result]
            self._note_record_failure(name, args, kwargs)
            raise self._error()
        self._focus_on((result,))
        self._maybe_nest()
        return result

    def _focus_on(self, values: tuple[Any, ...]) -> None:
        """Remember the task the current operation is working on, so that an interleaved operation can race
        it on that very task (a delivery of its link, a cancel of it) rather than on a random one."""
        for value in values:
            if isinstance(value, StorePage):
                value = value.items
            for item in value[:1] if isinstance(value, list) else (value,):
                if isinstance(item, tuple) and item:  # (task, run) or (task id, tracking id) pairs
                    item = item[0]
                if isinstance(item, Claim):  # a batch's claims: race the first one's task
                    item = item.task
                if isinstance(item, Task):
                    self.focus = item.id
                elif isinstance(item, Run | Link | FiredEvent):
                    self.focus = item.task_id

    def _maybe_nest(self) -> None:
        if self.nested_runner is not None and len(self.ops) < 3 and self.rng.random() < self.faults.nest:
            self.nested_runner(len(self.ops))

    def _fault(self, what: str) -> None:
        self.op.faults += 1
        self.log(f"! {what}")

    def _error(self) -> Exception:
        if self.rng.random() < 0.5:
            return ThrottledError("injected throttling")
        return DependencyError("injected failure")

    def _note_record_failure(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        run = (args[0] if args else kwargs.get("run")) if name == "save_run" else None
        # Recording an ended run (its save_run) is what the executor retries in process; a save_run that
        # only hands back a lease (the run still RUNNING) is not a record.
        if isinstance(run, Run) and run.status is not RunStatus.RUNNING:
            failures = self.op.record_failures
            failures[run.tracking_id] = failures.get(run.tracking_id, 0) + 1
            self._faulted()

    def _faulted(self) -> None:
        if self.on_excusable is not None:
            self.on_excusable(self.op)

    def on_published(self, event: FiredEvent) -> None:
        if self.ops:
            self.op.published.append(event)
        self.log(f"published {event.dedup_key} attempt {event.attempt}")
        if self.on_publish is not None and self.ops:
            self.on_publish(event, self.op)

    # ---- the delay queue's weather ------------------------------------------------------------------

    def current_lag(self) -> timedelta:
        if self.clock.now() < self.lag_until:
            return self.lag
        return timedelta(0)

    def maybe_start_lag(self) -> None:
        if self.clock.now() >= self.lag_until and self.rng.random() < self.faults.lag_episode:
            self.lag = timedelta(seconds=self.rng.randint(60, 20 * 60))
            self.lag_until = self.clock.now() + timedelta(minutes=self.rng.randint(10, 60))
            self.max_lag_seen = max(self.max_lag_seen, self.lag)
            self.log(f"~ the delay queue lags {self.lag} until {self.lag_until.isoformat()}")

    def visible_messages(self) -> list[Message]:
        now = self.clock.now()
        return sorted(
            (message for message in self.queue.messages.values() if message.visible_at <= now),
            key=lambda message: message.id,
        )

    def deliver(self, messages: list[Message], *, keep: bool = False) -> None:
        """Hand ``messages`` to one executor invocation, as Lambda's SQS event source does."""
        now = self.clock.now()
        for message in messages:  # received: invisible for the visibility timeout
            message.visible_at = now + VISIBILITY
        ordered = sorted(messages, key=lambda message: message.link.occurrence)
        self.log("deliver " + ", ".join(_describe(message.link) for message in ordered))
        operation, results = self.run_op("deliver", lambda: self.firing.fire_batch([m.link for m in ordered]))
        if operation.crashed:
            return  # every message of the batch comes back after its visibility timeout
        assert isinstance(results, list), results
        for message, result in zip(ordered, results, strict=True):
            if isinstance(result, Exception):
                self.log(f"  -> retry {_describe(message.link)}: {type(result).__name__}")
                continue
            self.log(f"  -> {result} {_describe(message.link)}")
            if not keep:
                self.queue.messages.pop(message.id, None)

    def run_delivery(self, message: Delivery, *, keep: bool = False) -> None:
        """Hand one delivery message to the runner, as the delivery queue's event source does (batches of one)."""
        assert self.runner is not None
        runner = self.runner
        message.visible_at = self.clock.now() + DELIVERY_VISIBILITY
        self.log(f"run {message.tracking_id[-6:]} attempt {message.attempt}")
        run = self.raw_store.get_run(message.tracking_id)
        outer = self.target.cancelled_at_delivery_start  # a delivery nested in another restores its flag
        self.target.cancelled_at_delivery_start = run is not None and run.task_id in self.cancelled
        operation, result = self.run_op("run", lambda: runner.deliver(message.tracking_id, message.attempt))
        self.target.cancelled_at_delivery_start = outer
        if operation.crashed or isinstance(result, Exception):
            self.log(f"  -> retry the delivery: {type(result).__name__}")
            return
        self.log(f"  -> {result}")
        if not keep:
            self.deliveries.messages.pop(message.id, None)

    def wake(self, link: Link) -> None:
        self.log(f"wake {_describe(link)}")
        operation, result = self.run_op("wake", lambda: self.firing.wake(link))
        if not operation.crashed and not isinstance(result, Exception):
            self.scheduler.wakes.pop(link, None)  # ActionAfterCompletion=DELETE

    def due_wakes(self) -> list[tuple[Link, datetime]]:
        now = self.clock.now()
        return sorted(
            ((link, instant) for link, instant in self.scheduler.wakes.items() if instant <= now),
            key=lambda pair: (pair[1], pair[0].task_id),
        )

    def drop_something(self) -> None:
        occurrence_links = [m for m in self.queue.messages.values() if m.link.kind is LinkKind.OCCURRENCE]
        wakes = list(self.scheduler.wakes)
        if occurrence_links and (not wakes or self.rng.random() < 0.7):
            message = self.rng.choice(sorted(occurrence_links, key=lambda m: m.id))
            del self.queue.messages[message.id]
            self.log(f"~ lost the message {_describe(message.link)}")
        elif wakes:
            link = self.rng.choice(sorted(wakes, key=lambda link: (link.task_id, link.occurrence)))
            del self.scheduler.wakes[link]
            self.log(f"~ lost the wake-up {_describe(link)}")


def _describe(link: Link) -> str:
    suffix = f" manual {link.tracking_id[-6:]}" if link.tracking_id else ""
    return f"{link.task_id[-6:]}@{link.occurrence.strftime('%H:%M:%S.%f')[:-3]} v{link.version}{suffix}"


__all__ = ["Crash", "Faults", "Interposer", "Message", "Operation", "World"]
