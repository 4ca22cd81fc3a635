"""A deterministic simulation of the whole service: a seeded scheduler picks API calls, deliveries, wake-ups,
sweeps and clock moves; the world fails, crashes and interleaves them at port calls; the oracle checks P1-P5
at every publish, every few steps, and once everything has drained.

``python -m tests.simulation --seed 7 --steps 200000`` runs a campaign; one seed replays one run exactly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from punctual.domain.errors import PunctualError
from punctual.domain.model import Context, FiredEvent, OutcomeEvent, Run, RunKind, Task, TaskStatus
from punctual.domain.timefmt import format_instant
from punctual.service.commands import (
    BulkCreate,
    BulkDelete,
    BulkReschedule,
    CreateTask,
    RescheduleItem,
    ScheduleInput,
    TaskFilterInput,
    UpdateTask,
)
from punctual.service.ports import TaskStore
from punctual.service.settings import ServiceSettings

from tests.simulation.oracle import Oracle, TrackedStore, Violation, read_records, runs_of
from tests.simulation.world import Faults, Operation, World

# Small pages, so the sweeper's paging through the due index is exercised.
SETTINGS = ServiceSettings(cursor_secret=b"simulation", sweep_batch=1, max_missed_count=1_000)
# Just before Europe's spring-forward: cron tasks in Berlin cross a DST change.
START = datetime(2026, 3, 29, 0, 40, tzinfo=UTC)
CONTEXTS = (Context("tenant-a"), Context("tenant-b", "user-1"))
MAX_LIVE_TASKS = 10
SWEEP_EVERY = timedelta(minutes=1)
EVERIES = ("10 seconds", "30 seconds", "1 minute", "2 minutes", "5 minutes", "20 minutes")
CRONS = ("*/1 * * * *", "*/2 * * * *", "0/20 * * ? * * *", "30 1 * * *")
ZONES = ("UTC", "Europe/Berlin", "America/New_York")


@dataclass
class Result:
    seed: int
    steps: int
    violations: list[Violation]
    trace: list[str]
    published: int
    seconds: float
    target_calls: int = 0
    outcomes: int = 0

    def report(self) -> str:
        if not self.violations:
            return f"seed {self.seed}: {self.steps} steps, {self.published} published, no violation"
        first = self.violations[0]
        mark = first.task_id[-6:]
        related = [line for line in self.trace if mark in line][-80:]
        return "\n".join(
            [
                f"seed {self.seed}: {first.promise} broken at step {self.steps}: {first.what} (task {first.task_id})",
                f"replay: make simulate SEED={self.seed} STEPS={self.steps}",
                "the trace of that task:",
                *related,
            ]
        )


class Simulation:
    def __init__(
        self,
        seed: int,
        store: TaskStore,
        *,
        faults: Faults | None = None,
        check_every: int = 5,
        targets: bool = False,
    ) -> None:
        self.world = World(seed, store, start=START, settings=SETTINGS, faults=faults, targets=targets)
        self.oracle = Oracle(SETTINGS)
        self.targets = targets
        self.world.cancelled = self.oracle.cancelled  # one set: the runner's calls are judged against it
        self.world.on_outcome = self._on_outcome
        self.rng = self.world.rng
        self.check_every = check_every
        self.world.nested_runner = self._nested
        self.world.on_publish = self._on_publish
        self.world.on_excusable = self.oracle.excuse
        self.contexts: dict[str, Context] = {}
        self.task_ids: list[str] = []  # in creation order
        self._unrepaired: dict[str, int] = {}  # task -> fault-free sweeps that left its lost link lost
        self.next_sweep = START + SWEEP_EVERY
        self.steps = 0
        self._live: set[str] = set()

    # ---- the run ---------------------------------------------------------------------------------

    def run(self, steps: int) -> Result:
        began = time.perf_counter()
        logging.disable(logging.CRITICAL)  # the service logs every injected failure
        while self.steps < steps and not self.oracle.violations:
            self.step()
            if self.steps % self.check_every == 0:
                self.check()
        if not self.oracle.violations:
            self.quiesce()
        logging.disable(logging.NOTSET)
        return Result(
            self.world.seed,
            self.steps,
            self.oracle.violations,
            self.world.trace,
            len(self.world.publisher.published),
            time.perf_counter() - began,
            len(self.world.target.calls),
            len(self.world.outcomes.published),
        )

    def step(self) -> None:
        self.steps += 1
        world, rng = self.world, self.rng
        world.maybe_start_lag()
        if rng.random() < world.faults.drop:
            world.drop_something()
        now = world.clock.now()
        overdue_wakes = [link for link, at in world.due_wakes() if now - at > timedelta(seconds=60)]
        if now >= self.next_sweep:
            self.next_sweep = now + SWEEP_EVERY
            self.sweep()
        elif overdue_wakes:  # EBS fires inside the minute of its schedule
            world.wake(overdue_wakes[0])
        else:
            self._random_op(depth=0)

    def _random_op(self, depth: int) -> None:
        choices: list[tuple[int, Any]] = [
            (8, self.create),
            (2, self.bulk_create),
            (5, self._on_a_task(self.update)),
            (3, self._on_a_task(self.cancel)),
            (3, self._on_a_task(self.run_now)),
            (1, self._on_a_task(self.bulk_delete)),
            (1, self._on_a_task(self.bulk_reschedule)),
            (4, self.wake),
        ]
        if self.targets:
            choices.append((12, self.run_delivery))
        if depth == 0:
            choices += [(25, self.deliver), (22, self.advance)]
        else:
            choices += [(12, self.deliver_any), (2, self.sweep)]
        total = sum(weight for weight, _ in choices)
        roll = self.rng.uniform(0, total)
        for weight, action in choices:
            roll -= weight
            if roll <= 0:
                action()
                return
        choices[-1][1]()

    def _focus(self) -> str | None:
        """Inside an interleaved operation, mostly the task the interrupted one is working on."""
        focus = self.world.focus
        if self.world.ops and focus in self.contexts and self.rng.random() < 0.7:
            return focus
        return None

    def _nested(self, depth: int) -> None:
        self.world.log("[interleaved]")
        self._random_op(depth)

    # ---- environment steps -----------------------------------------------------------------------

    def advance(self) -> None:
        roll = self.rng.random()
        if roll < 0.7:
            seconds = self.rng.uniform(0, 3)
        elif roll < 0.98:
            seconds = self.rng.uniform(3, 60)
        else:
            seconds = self.rng.uniform(120, 30 * 60)
            self.world.log(f"~ the clock jumps {seconds:.0f} s")
        self.world.clock.advance(seconds=seconds)
        if seconds > 60:  # the whole service was away meanwhile: its repair time starts now
            self.oracle.clock_jumped(self.world.clock.now())

    def deliver(self) -> None:
        visible = self.world.visible_messages()
        if not visible:
            return self.advance()
        batch = self.rng.sample(visible, min(len(visible), self.rng.randint(1, 3)))
        self.world.deliver(batch, keep=self.rng.random() < self.world.faults.duplicate)

    def deliver_any(self) -> None:
        """A second executor handed a message another one is working on (or one not yet visible)."""
        messages = sorted(self.world.queue.messages.values(), key=lambda message: message.id)
        focus = self._focus()
        messages = [message for message in messages if message.link.task_id == focus] or messages
        if messages:
            self.world.deliver([self.rng.choice(messages)], keep=True)

    def wake(self) -> None:
        due = self.world.due_wakes()
        if due:
            self.world.wake(self.rng.choice(due)[0])

    def sweep(self) -> None:
        self.world.log("sweep")
        started = self.world.clock.now()
        operation, _ = self.world.run_op("sweep", self.world.firing.sweep)
        if not operation.faults and not self.world.ops:
            self._check_repaired(started)

    def _check_repaired(self, swept_at: datetime) -> None:
        """P3: a live task whose next occurrence is overdue past the grace and has no link anywhere (lost) is
        re-armed by the sweeper: two sweeps without an injected fault leave none behind."""
        armed = self._armed()
        overdue = swept_at - SETTINGS.sweep_grace
        for task_id in sorted(self._live):
            task = self.world.raw_store.get_task(task_id, consistent=True)
            lost = (
                task is not None
                and task.status is TaskStatus.SCHEDULED
                and task.in_flight is None
                and task.next_run_at is not None
                and task.next_run_at <= overdue
                and (task.id, task.next_run_at) not in armed
            )
            if not lost:
                self._unrepaired.pop(task_id, None)
                continue
            assert task is not None
            sweeps = self._unrepaired.get(task_id, 0) + 1
            self._unrepaired[task_id] = sweeps
            if sweeps >= 2:
                self.oracle.fail(
                    "P3", task_id, f"{task.next_run_at} lost and not re-armed by {sweeps} sweeps"
                )

    # ---- API calls ---------------------------------------------------------------------------------

    def _api(self, kind: str, action: Any) -> tuple[Operation, Any]:
        operation, result = self.world.run_op(kind, action)
        shown = type(result).__name__ if isinstance(result, BaseException) else "ok"
        self.world.log(f"{kind} -> {shown}")
        return operation, result

    def _on_a_task(self, action: Any) -> Any:
        """``action(task_id, context)`` on a live task mostly, any task sometimes (terminal ones answer 409)."""

        def pick() -> None:
            if not self.task_ids:
                return
            focus = self._focus()
            live = sorted(self._live)
            task_id = focus or self.rng.choice(live if live and self.rng.random() < 0.9 else self.task_ids)
            action(task_id, self.contexts[task_id])

        return pick

    def _instant(self, low: float, high: float) -> str:
        moment = self.world.clock.now() + timedelta(seconds=self.rng.uniform(low, high))
        return format_instant(moment.replace(microsecond=moment.microsecond // 1000 * 1000))

    def _schedule(self) -> ScheduleInput:
        kind = self.rng.choice(("at", "at", "at", "every", "cron"))
        if kind == "at":
            return ScheduleInput(at=self._instant(-120, 40 * 60))
        if kind == "every":
            return ScheduleInput(every=self.rng.choice(EVERIES))
        return ScheduleInput(cron=self.rng.choice(CRONS), timezone=self.rng.choice(ZONES))

    def _create_command(self) -> CreateTask:
        return CreateTask(
            self._schedule(),
            name=self.rng.choice((None, "report", "ping")),
            message={"n": self.steps},
            metadata={"group": self.rng.choice("ab")},
            misfire=self.rng.choice((None, "skip", "fire_once")),
            **self._target_fields(),
        )

    def _created(self, task: Task, context: Context, started: datetime) -> None:
        self.contexts[task.id] = context
        self.task_ids.append(task.id)
        self._live.add(task.id)
        self.oracle.created(task, started)
        self.world.log(f"  created {task.id[-6:]} next {task.next_run_at}")

    def create(self) -> None:
        if len(self._live) >= MAX_LIVE_TASKS:
            return
        context = self.rng.choice(CONTEXTS)
        command = self._create_command()
        started = self.world.clock.now()
        self.world.log(f"create {command.schedule}")
        _, result = self._api("create", lambda: self.world.tasks.create(context, command))
        if isinstance(result, tuple):
            self._created(result[0], context, started)

    def bulk_create(self) -> None:
        """A few tasks in one request: written together, the near ones armed in one queue batch."""
        room = MAX_LIVE_TASKS - len(self._live)
        if room <= 0:
            return
        context = self.rng.choice(CONTEXTS)
        commands = [self._create_command() for _ in range(self.rng.randint(1, min(room, 3)))]
        started = self.world.clock.now()
        self.world.log(f"bulk create {[command.schedule for command in commands]}")
        items: list[CreateTask | PunctualError] = [*commands]
        _, result = self._api("bulk_create", lambda: self.world.tasks.create_many(context, BulkCreate(items)))
        if isinstance(result, list):
            for item in result:
                if item.created:
                    self._created(item.task, context, started)

    def _target_fields(self) -> dict[str, Any]:
        """Half the tasks call an HTTPS target (only when the campaign has targets: the default draws nothing)."""
        if not self.targets or self.rng.random() < 0.5:
            return {}
        return {
            "target": {"type": "https", "url": "https://hooks.example.com/run"},
            "retry": {"max_attempts": self.rng.randint(1, 4), "initial_delay": "1s", "max_delay": "8s"},
            "overlap": self.rng.choice((None, "skip")),
        }

    def run_delivery(self) -> None:
        visible = self.world.deliveries.visible()
        if visible:
            self.world.run_delivery(
                self.rng.choice(visible), keep=self.rng.random() < self.world.faults.duplicate
            )

    def update(self, task_id: str, context: Context) -> None:
        field = self.rng.choice(("at", "every", "cron", "metadata", "name", "message", "paused", "misfire"))
        schedule = ScheduleInput()
        values: dict[str, Any] = {}
        if field == "at":
            schedule = ScheduleInput(at=self._instant(-60, 30 * 60))
            # Back onto an instant it already has an occurrence's run for (a run-now's instant collides with
            # nothing: its tracking id is not derived from the instant).
            runs = [run for run in runs_of(self.world.raw_store, task_id) if run.kind is RunKind.SCHEDULED]
            if runs and self.rng.random() < 0.3:
                schedule = ScheduleInput(at=format_instant(self.rng.choice(runs).scheduled_for))
        elif field == "every":
            schedule = ScheduleInput(every=self.rng.choice(EVERIES))
        elif field == "cron":
            schedule = ScheduleInput(cron=self.rng.choice(CRONS))
        elif field == "metadata":
            values["metadata"] = {"group": self.rng.choice("ab")}
        elif field == "paused":
            values["paused"] = self.rng.random() < 0.5
        elif field == "misfire":
            values["misfire"] = self.rng.choice(("skip", "fire_once"))
        else:
            values[field] = f"{field}-{self.steps}"
        command = UpdateTask(provided=frozenset({field}), schedule=schedule, **values)
        self._change(
            f"update {task_id[-6:]} {field}",
            task_id,
            lambda: self.world.tasks.update(context, task_id, command),
            moves_due=field in ("at", "every", "cron", "paused"),
        )

    def _change(self, label: str, task_id: str, action: Any, *, moves_due: bool = True) -> None:
        before = self._raw_task(task_id)
        started = self.world.clock.now()
        self.world.log(label)
        if moves_due:
            self.oracle.due_may_move(task_id, started)
        _, result = self._api("change", action)
        if isinstance(result, Task):
            self.oracle.changed(before, result, started, runs_of(self.world.raw_store, task_id))

    def cancel(self, task_id: str, context: Context) -> None:
        self.world.log(f"cancel {task_id[-6:]}")
        _, result = self._api("cancel", lambda: self.world.tasks.cancel(context, task_id))
        if isinstance(result, Task):
            self.oracle.cancel_returned(result)

    def run_now(self, task_id: str, context: Context) -> None:
        self.world.log(f"run now {task_id[-6:]}")
        _, result = self._api("run_now", lambda: self.world.runs.run_now(context, task_id))
        if isinstance(result, Run):
            self.oracle.accepted_runs.add(result.tracking_id)

    def bulk_delete(self, task_id: str, context: Context) -> None:
        if self.rng.random() < 0.5:
            command = BulkDelete(ids=[task_id])
        else:
            command = BulkDelete(filter=TaskFilterInput(metadata={"group": self.rng.choice("ab")}))
        self.world.log(f"bulk delete {command}")
        _, result = self._api("bulk_delete", lambda: self.world.tasks.bulk_delete(context, command))
        if isinstance(result, list):
            for item in result:
                if item.task is not None:
                    self.oracle.cancel_returned(item.task)

    def bulk_reschedule(self, task_id: str, context: Context) -> None:
        command = BulkReschedule([RescheduleItem(task_id, self._instant(-60, 30 * 60))])

        def reschedule() -> Task | None:
            (item,) = self.world.tasks.bulk_reschedule(context, command)
            return item.task

        self._change(f"bulk reschedule {task_id[-6:]} to {command.updates[0].at}", task_id, reschedule)

    # ---- checks ----------------------------------------------------------------------------------

    def _on_publish(self, event: FiredEvent, operation: Operation) -> None:
        store = self.world.raw_store
        task = store.get_task(event.task_id, consistent=True)
        run = store.get_run(event.tracking_id)
        self.oracle.published(event, operation, run, task)

    def _on_outcome(self, event: OutcomeEvent) -> None:
        self.oracle.outcome(event, self.world.raw_store.get_run(event.run.tracking_id))

    def _raw_task(self, task_id: str) -> Task | None:
        return self.world.raw_store.get_task(task_id, consistent=True)

    def check(self) -> None:
        store = self.world.raw_store
        if isinstance(store, TrackedStore):  # only what changed, and the live tasks whose time may run out
            records = store.changed_records(self._live)
        else:
            records = read_records(store)
        self._live = {task.id for task in records.tasks.values() if task.status in _LIVE}
        for task in records.tasks.values():  # also tasks a create left although it answered an error
            if task.id not in self.contexts:
                self.contexts[task.id] = task.context
                self.task_ids.append(task.id)
        self.oracle.check_records(records, self.world.clock.now(), lag=self.world.max_lag_seen)

    def quiesce(self) -> None:
        """No more faults, lag or interleaving: drain everything for 45 minutes of simulated time; then, for
        the tasks whose next occurrence is still unarmed (a link lost to a fault before it was due), move the
        clock past that occurrence so the sweeper repairs them; then every live task must be armed."""
        world = self.world
        world.faults.calm()
        world.lag_until = world.clock.now()
        world.log("== quiesce")
        if not self._drain(minutes=45):
            return
        unarmed = [task for task in read_records(world.raw_store).tasks.values() if self._unarmed(task)]
        if unarmed:
            latest = max(task.next_run_at for task in unarmed if task.next_run_at is not None)
            target = latest + SETTINGS.sweep_grace + SWEEP_EVERY
            if target > world.clock.now():
                world.log(f"== the clock jumps to {target.isoformat()} for {len(unarmed)} unarmed tasks")
                world.clock.set(target)
                self.oracle.clock_jumped(target)
            if not self._drain(minutes=10):
                return
        queued = (
            frozenset(m.tracking_id for m in world.deliveries.messages.values())
            if self.targets
            else frozenset()
        )
        self.oracle.check_quiescent(read_records(world.raw_store), self._armed(), world.clock.now(), queued)
        if self.targets:
            self.oracle.check_targets(
                read_records(world.raw_store), world.target.calls, world.outcomes.published
            )

    def _drain(self, *, minutes: int) -> bool:
        """Deliver, wake and sweep as they come due, in 5 s steps; False once a promise broke."""
        world = self.world
        for _ in range(minutes * 60 // 5):
            world.clock.advance(seconds=5)
            for link, _ in world.due_wakes():
                world.wake(link)
            for _ in range(100):
                visible = world.visible_messages()
                if not visible:
                    break
                world.deliver(visible[:10])
            for _ in range(100):
                deliveries = world.deliveries.visible() if self.targets else []
                if not deliveries:
                    break
                world.run_delivery(deliveries[0])
            if world.clock.now() >= self.next_sweep:
                self.next_sweep = world.clock.now() + SWEEP_EVERY
                self.sweep()
            if world.clock.now().second < 5:  # once a simulated minute
                self.check()
            if self.oracle.violations:
                return False
        return True

    def _armed(self) -> set[tuple[str, datetime]]:
        world = self.world
        armed = {(m.link.task_id, m.link.occurrence) for m in world.queue.messages.values()}
        return armed | {(link.task_id, link.occurrence) for link in world.scheduler.wakes}

    def _unarmed(self, task: Task) -> bool:
        return (
            task.status is TaskStatus.SCHEDULED
            and task.next_run_at is not None
            and (task.id, task.next_run_at) not in self._armed()
        )


_LIVE = (TaskStatus.SCHEDULED, TaskStatus.PAUSED)


def run_simulation(seed: int, steps: int, store: TaskStore | None = None, **options: Any) -> Result:
    """``targets=True`` adds HTTPS targets, the delivery queue and the runner to the campaign."""
    return Simulation(seed, store if store is not None else TrackedStore(), **options).run(steps)
